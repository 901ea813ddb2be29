// FakeControl: an in-memory Control that records every call. Jails "www" and "db" by
// default; start/stop change their state and emit events. Lifecycle operations finish
// immediately unless `hold_lifecycle` is set (then finish_pending() completes them).
// Like the real supervisor, every verb answers an unknown jail itself with a no_such_jail
// error, and errors carry codes (Errc), not just words.
// Shared by the api unit tests and tests/support/fake_jaild.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "api/control.hpp"

namespace jaild::test {

class FakeControl : public api::Control {
  public:
    using json = nlohmann::json;

    FakeControl() {
        JailStatus www;
        www.name = "www";
        www.state = "running";
        www.health = "healthy";
        www.pid = 1234;
        www.address = "10.213.0.2";
        www.ports = {80, 443};
        www.uptime_ms = 65'000;
        JailStatus db;
        db.name = "db";
        db.state = "stopped";
        db.health = "none";
        db.address = "10.213.0.3";
        db.held_down = true;
        jails = {www, db};
        for (int i = 1; i <= 3; ++i) {
            log_lines["www"].push_back(
                LogLine{"www", "stdout", 1'700'000'000'000'000 + i, "line " + std::to_string(i)});
        }
    }

    // --- recorded and configurable state ---
    std::vector<JailStatus> jails;
    std::vector<std::string> calls;  // "start www", "logs www 100", ...
    std::vector<api::Wait> waits;    // of each lifecycle call
    bool hold_lifecycle = false;
    std::string fail_lifecycle;            // non-empty: lifecycle ops fail with this (Errc::failed)
    std::vector<std::string> fail_output;  // ... carrying these output lines (details)
    std::vector<std::pair<std::string, api::Done>> pending;
    Result<json> reload_result =
        json{{"added", json::array()}, {"removed", json::array()}, {"changed", {"www"}}};
    std::map<std::string, std::vector<LogLine>> log_lines;
    std::string join_error;  // non-empty: join fails with this
    int join_pid = 4242;
    std::vector<api::JoinRequest> joins;  // requests received (descriptors included)
    std::vector<std::function<void(int)>> join_exits;
    std::function<UniqueFd()> make_pty;  // tty joins: the "master" to hand back

    void finish_pending() {
        auto p = std::move(pending);
        pending.clear();
        for (auto& [name, done] : p)
            done(fail_lifecycle.empty() ? Result<void>{}
                                        : Result<void>{make_error(fail_lifecycle)});
    }
    void emit_log(const LogLine& l) {
        auto sinks = log_sinks_;
        for (auto& [id, s] : sinks)
            if (s.first == l.jail) s.second(l);
    }
    void emit_event(const json& e) {
        auto sinks = event_sinks_;
        for (auto& [id, s] : sinks) s(e);
    }
    std::size_t log_followers() const { return log_sinks_.size(); }
    std::size_t event_subscribers() const { return event_sinks_.size(); }

    // --- Control ---
    Result<std::vector<JailStatus>> status(const std::optional<std::string>& jail) override {
        calls.push_back(jail ? "status " + *jail : "status");
        if (!jail) return jails;
        if (auto* j = find(*jail)) return std::vector<JailStatus>{*j};
        return unknown(*jail);
    }
    Error unknown(const std::string& jail) const {
        return make_error(Errc::no_such_jail,
                          "no such jail: \"" + jail + "\"; known jails: www, db");
    }
    void start(const std::string& jail, api::Wait wait, api::Done done) override {
        waits.push_back(wait);
        lifecycle("start", jail, std::move(done));
    }
    void stop(const std::string& jail, api::Wait wait, api::Done done) override {
        waits.push_back(wait);
        lifecycle("stop", jail, std::move(done));
    }
    void restart(const std::string& jail, api::Wait wait, api::Done done) override {
        waits.push_back(wait);
        lifecycle("restart", jail, std::move(done));
    }
    void shutdown(const std::string& jail, api::Wait wait, api::Done done) override {
        waits.push_back(wait);
        lifecycle("shutdown", jail, std::move(done));
    }
    Result<json> reload() override {
        calls.push_back("reload");
        return reload_result;
    }
    Result<std::vector<LogLine>> logs(const std::string& jail, std::size_t n) override {
        calls.push_back("logs " + jail + " " + std::to_string(n));
        if (!find(jail)) return unknown(jail);
        auto& all = log_lines[jail];
        std::size_t from = all.size() > n ? all.size() - n : 0;
        return std::vector<LogLine>(all.begin() + static_cast<std::ptrdiff_t>(from), all.end());
    }
    Result<api::Subscription> follow_logs(const std::string& jail,
                                          std::function<void(const LogLine&)> sink) override {
        calls.push_back("follow " + jail);
        if (!find(jail)) return unknown(jail);
        int id = next_id_++;
        log_sinks_[id] = {jail, std::move(sink)};
        return api::Subscription([this, id] { log_sinks_.erase(id); });
    }
    api::Subscription subscribe_events(std::function<void(const json&)> sink) override {
        calls.push_back("events");
        int id = next_id_++;
        event_sinks_[id] = std::move(sink);
        return api::Subscription([this, id] { event_sinks_.erase(id); });
    }
    Result<api::JoinStarted> join(const std::string& jail, api::JoinRequest request,
                                  std::function<void(int)> on_exit) override {
        std::string cmd;
        for (auto& a : request.command) cmd += " " + a;
        calls.push_back("join " + jail + (request.tty ? " tty" : " notty") + cmd);
        if (!find(jail)) return unknown(jail);
        if (!join_error.empty()) return make_error(join_error);
        api::JoinStarted started;
        started.pid = join_pid;
        if (request.tty && make_pty) started.pty_master = make_pty();
        joins.push_back(std::move(request));
        join_exits.push_back(std::move(on_exit));
        return started;
    }

    // provision: two progress events, then "built" (or provision_error), unless
    // hold_provision (then provision_done holds the callback; dropping the subscription
    // counts in provision_cancels).
    bool hold_provision = false;
    std::string provision_error;
    int provision_cancels = 0;
    std::function<void(Result<json>)> provision_done;
    api::Subscription provision(const std::string& jail, bool force, bool if_configured,
                                std::function<void(const json&)> on_progress,
                                std::function<void(Result<json>)> done) override {
        calls.push_back("provision " + jail + (force ? " force" : "") +
                        (if_configured ? " if_configured" : ""));
        if (!find(jail)) {
            done(unknown(jail));
            return {};
        }
        on_progress(json{{"jail", jail}, {"step", "base"}, {"detail", ""}, {"elapsed_ms", 0}});
        on_progress(json{{"jail", jail},
                         {"step", "install"},
                         {"detail", "unpacking apache2"},
                         {"elapsed_ms", 1500}});
        if (hold_provision) {
            provision_done = std::move(done);
            return api::Subscription([this] {
                if (provision_done) ++provision_cancels;
            });
        }
        if (!provision_error.empty())
            done(make_error(provision_error));
        else
            done(json{{"jail", jail}, {"status", "built"}, {"elapsed_ms", 1500}});
        return {};
    }

  private:
    JailStatus* find(const std::string& name) {
        for (auto& j : jails)
            if (j.name == name) return &j;
        return nullptr;
    }
    const JailStatus* find(const std::string& name) const {
        for (const auto& j : jails)
            if (j.name == name) return &j;
        return nullptr;
    }
    void lifecycle(const char* op, const std::string& jail, api::Done done) {
        calls.push_back(std::string(op) + " " + jail);
        if (!find(jail)) return done(unknown(jail));
        if (hold_lifecycle) {
            pending.emplace_back(jail, std::move(done));
            return;
        }
        if (!fail_lifecycle.empty())
            return done(make_error(Errc::failed, fail_lifecycle, fail_output));
        if (auto* j = find(jail)) {
            bool up = std::string(op) == "start" || std::string(op) == "restart";
            j->state = up ? "running" : "stopped";
            j->held_down = !up;
            if (up) {
                j->pid = 5000 + static_cast<int>(calls.size());
                j->uptime_ms = 0;
            } else {
                j->pid.reset();
                j->uptime_ms.reset();
            }
            emit_event(json{{"jail", jail}, {"state", j->state}});
        }
        done(Result<void>{});
    }

    int next_id_ = 1;
    std::map<int, std::pair<std::string, std::function<void(const LogLine&)>>> log_sinks_;
    std::map<int, std::function<void(const json&)>> event_sinks_;
};

}  // namespace jaild::test

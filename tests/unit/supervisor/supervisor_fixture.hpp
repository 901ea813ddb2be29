// A Supervisor driven by fakes: processes (FakeProcessRunner), time (FakeTimeSource), the
// sandboxes' process trees (FakeSandboxes) and the network (FakeNetwork). No root, no fork,
// no sleeping: a test starts jails, ends their "firejail" processes with any status, moves
// the clock and reads what the supervisor did.
#pragma once

#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "config/load.hpp"
#include "fakes/fake_clock.hpp"
#include "fakes/fake_network.hpp"
#include "fakes/fake_process_runner.hpp"
#include "fakes/fake_sandboxes.hpp"
#include "jaild/json_text.hpp"
#include "supervisor/supervisor.hpp"

namespace jaild::testing {

using json = nlohmann::json;
using Spawned = FakeProcessRunner::Spawned;

// A jail "name" at 10.213.0.<n>, running /bin/server, with the given extra keys.
inline json jail_json(int n, json extra = json::object()) {
    json j{{"root", "/srv/jails/j" + std::to_string(n)},
           {"address", "10.213.0." + std::to_string(n)},
           {"command", {"/bin/server"}}};
    j.update(extra);
    return j;
}

inline config::Config make_config(const json& jails) {
    json whole{{"bridge", {{"name", "jaild0"}, {"address", "10.213.0.1/24"}}}, {"jails", jails}};
    auto loaded = config::parse_config(whole.dump(), "test.json");
    INFO(whole.dump());
    for (const auto& issue : loaded.issues) INFO(issue.str());
    REQUIRE(loaded.ok());
    return loaded.config;
}

// What a reload reads: a valid file with these jails.
inline config::LoadResult loaded(const json& jails) {
    config::LoadResult r;
    r.config = make_config(jails);
    return r;
}

class SupervisorWorld {
  public:
    explicit SupervisorWorld(const json& jails, std::function<config::LoadResult()> reload = {}) {
        supervisor::SupervisorOptions options;
        options.firejail = "/usr/bin/firejail";
        options.load_config = std::move(reload);
        supervisor = std::make_unique<supervisor::Supervisor>(
            io, make_config(jails),
            supervisor::SupervisorServices{runner, time, sandboxes, network}, options);
        events_sub = supervisor->subscribe_events([this](const json& e) { events.push_back(e); });
    }
    // With a whole configuration and the supervisor's options (state_dir, cache_dir...).
    SupervisorWorld(config::Config config, supervisor::SupervisorOptions options) {
        options.firejail = "/usr/bin/firejail";
        supervisor = std::make_unique<supervisor::Supervisor>(
            io, std::move(config), supervisor::SupervisorServices{runner, time, sandboxes, network},
            options);
        events_sub = supervisor->subscribe_events([this](const json& e) { events.push_back(e); });
    }
    ~SupervisorWorld() {
        events_sub.cancel();
        supervisor.reset();
    }

    // The newest firejail process of a jail (nullptr if none was spawned).
    std::shared_ptr<Spawned> firejail(const std::string& jail) const {
        for (auto it = runner.spawned().rbegin(); it != runner.spawned().rend(); ++it)
            if ((*it)->jail == jail && !(*it)->argv.empty() &&
                (*it)->argv[0] == "/usr/bin/firejail")
                return *it;
        return nullptr;
    }
    int spawns_of(const std::string& jail) const {
        int n = 0;
        for (const auto& s : runner.spawned())
            if (s->jail == jail && s->argv[0] == "/usr/bin/firejail") ++n;
        return n;
    }
    JailStatus status(const std::string& jail) {
        check_status_text();
        auto s = supervisor->status(jail);
        REQUIRE(s.ok());
        return s->front();
    }
    std::string state(const std::string& jail) { return status(jail).state; }
    // The status answer of all jails as the API writes it, from each jail's kept text, checked
    // against a rendering from scratch. Every status() a test reads checks it: the text kept
    // since the last check must have followed whatever the test changed in between.
    std::string check_status_text() {
        std::string kept;
        REQUIRE(supervisor->append_status_json(std::nullopt, kept).ok());
        auto all = supervisor->status(std::nullopt);
        REQUIRE(all.ok());
        std::string fresh;
        append_json(fresh, *all);
        REQUIRE(kept == fresh);
        return kept;
    }
    // Ends the jail's running firejail process with this wait status.
    void crash(const std::string& jail, int wait_status = FakeProcessRunner::exited(1)) {
        auto f = firejail(jail);
        REQUIRE(f);
        REQUIRE(f->running);
        runner.exit(f, wait_status);
        poll();
    }
    void advance(Millis d) {
        time.advance(d);
        poll();
    }
    // Runs what is ready on the loop (posted work, pipes at EOF). restart(): an io_context
    // that ran out of work stops, and a stopped one runs nothing.
    void poll() {
        io.restart();
        io.poll();
    }

    boost::asio::io_context io;
    FakeProcessRunner runner;
    FakeTimeSource time;
    FakeSandboxes sandboxes;
    FakeNetwork network;
    std::unique_ptr<supervisor::Supervisor> supervisor;
    std::vector<json> events;
    api::Subscription events_sub;
};

}  // namespace jaild::testing

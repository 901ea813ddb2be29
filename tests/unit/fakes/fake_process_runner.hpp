// FakeProcessRunner: a ProcessRunner that starts nothing. It records every spawn (argv,
// environment, the jail, new_session) and every signal, and a test ends a process with
// exit(pid, status), which runs its handler at once, as the real runner's loop would.
#pragma once

#include <signal.h>
#include <sys/wait.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sandbox/process_runner.hpp"

namespace jaild::testing {

class FakeProcessRunner final : public sandbox::ProcessRunner {
  public:
    struct Spawned {
        int pid = 0;
        std::vector<std::string> argv;
        std::vector<std::string> env;
        std::string jail;
        bool new_session = false;
        int pass_fd = -1;
        int gate_fd = -1;  // SpawnOptions::gate_fd (the descriptor number at spawn)
        std::optional<config::CgroupLimits> cgroup_limits;
        std::vector<config::CgroupLimits> limits_updates;  // update_limits(), in order
        // What the Process reports (a test sets them): a cgroup runner's figures and notes.
        sandbox::ResourceUsage usage;
        std::string limits_note, exit_note;
        std::vector<int> signals;        // signal(), in order
        std::vector<int> group_signals;  // signal_group(), in order
        bool running = true;             // until exit() or the handle is destroyed
        bool dropped = false;            // the handle was destroyed while running (killed)
        bool released = false;           // release(): left running (jaild detached)
        bool adopted = false;            // taken over with adopt()
        std::uint64_t start_time = 0;
        sandbox::ExitHandler on_exit;
        sandbox::EndHandler on_end;  // adopted: ends without a wait status
    };

    // Sandboxes "an earlier jaild" left running, by PID with their start time: adopt()
    // succeeds for exactly these (and only once each).
    std::map<int, std::uint64_t> adoptable;
    std::vector<sandbox::AdoptSpec> adopt_calls;

    Result<std::unique_ptr<sandbox::Process>> adopt(const sandbox::AdoptSpec& spec,
                                                    sandbox::EndHandler on_end) override {
        adopt_calls.push_back(spec);
        auto it = adoptable.find(spec.pid);
        if (it == adoptable.end())
            return make_error("firejail pid " + std::to_string(spec.pid) + " is gone");
        if (it->second != spec.start_time)
            return make_error("another process has its PID now (start time differs)");
        adoptable.erase(it);
        auto s = std::make_shared<Spawned>();
        s->pid = spec.pid;
        s->jail = spec.jail;
        s->adopted = true;
        s->start_time = spec.start_time;
        s->on_end = std::move(on_end);
        spawned_.push_back(s);
        return std::unique_ptr<sandbox::Process>(std::make_unique<Handle>(s));
    }

    // The next spawn fails with this message (once).
    std::optional<std::string> fail_next;
    // Runs at each spawn, before it returns: a test can play the program's side effects
    // (write into its stdout descriptor, create the files it would create).
    std::function<void(Spawned&, const sandbox::SpawnOptions&)> on_spawn;

    Result<std::unique_ptr<sandbox::Process>> spawn(const sandbox::SpawnOptions& o,
                                                    sandbox::ExitHandler on_exit) override {
        if (fail_next) {
            auto message = std::move(*fail_next);
            fail_next.reset();
            return make_error(message);
        }
        auto s = std::make_shared<Spawned>();
        s->pid = next_pid_++;
        s->argv = o.argv;
        s->env = o.env;
        s->jail = o.jail;
        s->new_session = o.new_session;
        s->pass_fd = o.pass_fd;
        s->gate_fd = o.gate_fd;
        s->cgroup_limits = o.cgroup_limits;
        s->start_time = 500000 + static_cast<std::uint64_t>(s->pid);
        s->on_exit = std::move(on_exit);
        spawned_.push_back(s);
        if (on_spawn) on_spawn(*s, o);
        return std::unique_ptr<sandbox::Process>(std::make_unique<Handle>(s));
    }

    const std::vector<std::shared_ptr<Spawned>>& spawned() const { return spawned_; }
    // PIDs of later spawns start here (a second "jaild" must not reuse the first one's).
    void start_pids_at(int pid) { next_pid_ = pid; }
    std::vector<std::shared_ptr<Spawned>> running() const {
        std::vector<std::shared_ptr<Spawned>> out;
        for (const auto& s : spawned_)
            if (s->running) out.push_back(s);
        return out;
    }
    // The newest process whose argv contains `word` (nullptr if none).
    std::shared_ptr<Spawned> last_with(const std::string& word) const {
        for (auto it = spawned_.rbegin(); it != spawned_.rend(); ++it)
            for (const auto& a : (*it)->argv)
                if (a.find(word) != std::string::npos) return *it;
        return nullptr;
    }
    std::shared_ptr<Spawned> find(int pid) const {
        for (const auto& s : spawned_)
            if (s->pid == pid) return s;
        return nullptr;
    }

    // The process ends with `wait_status` (e.g. exited(1), killed(SIGKILL)).
    void exit(const std::shared_ptr<Spawned>& s, int wait_status) {
        if (!s || !s->running) return;
        s->running = false;
        if (s->adopted) {
            auto end = std::move(s->on_end);
            s->on_end = nullptr;
            if (end) end();
            return;
        }
        auto handler = std::move(s->on_exit);
        s->on_exit = nullptr;
        if (handler) handler(wait_status);
    }
    static int exited(int code) { return (code & 0xff) << 8; }
    static int killed(int sig) { return sig & 0x7f; }

  private:
    class Handle final : public sandbox::Process {
      public:
        explicit Handle(std::shared_ptr<Spawned> s) : s_(std::move(s)) {}
        ~Handle() override {
            if (s_->running) {
                s_->running = false;
                s_->dropped = true;
            }
            s_->on_exit = nullptr;
            s_->on_end = nullptr;
        }
        int pid() const override { return s_->pid; }
        std::uint64_t start_time() const override { return s_->start_time; }
        void release() override {
            s_->released = true;
            s_->on_exit = nullptr;
            s_->on_end = nullptr;
            s_->running = false;  // no longer jaild's to report on
        }
        bool signal(int sig) override {
            if (!s_->running) return false;
            s_->signals.push_back(sig);
            return true;
        }
        void signal_group(int sig) override {
            if (s_->running) s_->group_signals.push_back(sig);
        }
        sandbox::ResourceUsage usage() override { return s_->usage; }
        const std::string& limits_note() const override { return s_->limits_note; }
        std::string exit_note() const override { return s_->exit_note; }
        void update_limits(const config::CgroupLimits& limits) override {
            s_->limits_updates.push_back(limits);
        }

      private:
        std::shared_ptr<Spawned> s_;
    };

    int next_pid_ = 1000;
    std::vector<std::shared_ptr<Spawned>> spawned_;
};

}  // namespace jaild::testing

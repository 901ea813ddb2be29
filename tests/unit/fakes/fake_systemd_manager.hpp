// FakeSystemdManager: a systemd::Manager that records every scope start and limit change and
// answers only when the test says so (finish_start/fail_start), as systemd's job would.
#pragma once

#include <string>
#include <vector>

#include "systemd/manager.hpp"

namespace jaild::testing {

class FakeSystemdManager final : public systemd::Manager {
  public:
    struct Start {
        systemd::ScopeRequest request;
        systemd::Done done;
    };
    struct SetLimits {
        std::string unit;
        config::CgroupLimits limits;
    };

    struct Attach {
        std::string unit;
        int pid = 0;
        systemd::Done done;
    };

    std::vector<Start> starts;
    std::vector<Attach> attaches;
    std::vector<SetLimits> set_limits_calls;
    std::optional<std::string> fail_set_limits;

    void start_scope(const systemd::ScopeRequest& request, systemd::Done done) override {
        starts.push_back({request, std::move(done)});
    }
    void set_limits(const std::string& unit, const config::CgroupLimits& limits,
                    systemd::Done done) override {
        set_limits_calls.push_back({unit, limits});
        if (fail_set_limits) return done(make_error(*fail_set_limits));
        done(Result<void>());
    }

    void attach_process(const std::string& unit, int pid, systemd::Done done) override {
        attaches.push_back({unit, pid, std::move(done)});
    }
    // systemd answered attaches[i]: the PID moved, or not.
    void finish_attach(std::size_t i) { answer_attach(i, Result<void>()); }
    void fail_attach(std::size_t i, const std::string& why) { answer_attach(i, make_error(why)); }

    // The start job of starts[i] finished (JobRemoved "done") or failed.
    void finish_start(std::size_t i) { answer(i, Result<void>()); }
    void fail_start(std::size_t i, const std::string& why) { answer(i, make_error(why)); }

  private:
    void answer_attach(std::size_t i, Result<void> r) {
        auto done = std::move(attaches.at(i).done);
        attaches.at(i).done = nullptr;
        if (done) done(std::move(r));
    }
    void answer(std::size_t i, Result<void> r) {
        auto done = std::move(starts.at(i).done);
        starts.at(i).done = nullptr;
        if (done) done(std::move(r));
    }
};

}  // namespace jaild::testing

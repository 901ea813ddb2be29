// Issue 14: a spawn that fails because jaild itself is out of descriptors or memory is
// retried without counting as the jail failing, so it never ends in a crash loop.
#include <catch2/catch.hpp>

#include "supervisor/jail_machine.hpp"

using namespace jaild;
using namespace jaild::supervisor;
using namespace std::chrono_literals;

TEST_CASE("spawn deferred for lack of resources: retried, never a crash loop") {
    config::RestartConfig r;
    r.policy = config::RestartPolicy::always;
    r.backoff_initial = 100ms;
    r.backoff_max = 1s;
    r.reset_after = 10s;
    r.crash_loop_limit = 3;
    r.crash_loop_window = 60s;
    r.crash_loop_cooldown = 30s;
    JailMachine m(r, {});
    m.want_up();
    auto t = TimePoint{} + 1h;
    for (int i = 0; i < 10; ++i) {  // far more than crash_loop_limit
        REQUIRE(m.ready_to_spawn());
        auto out = m.spawn_deferred("pipe2: Too many open files", t, 5000ms);
        CHECK(out.next == State::backoff);
        CHECK(out.retry_in == Millis(5000));
        CHECK(m.consecutive_failures() == 0);
        CHECK(m.last_error().find("short of resources") != std::string::npos);
        t += 5s;
        m.retry_due(t);
    }
    // A real failure afterwards starts the count from one.
    auto out = m.spawn_failed("cannot execute /usr/bin/firejail: No such file or directory", t);
    CHECK(out.next == State::backoff);
    CHECK(m.consecutive_failures() == 1);
}

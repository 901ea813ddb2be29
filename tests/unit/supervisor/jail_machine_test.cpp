#include <catch2/catch.hpp>

#include "supervisor/jail_machine.hpp"

using namespace jaild;
using namespace jaild::supervisor;
using namespace std::chrono_literals;

namespace {

config::RestartConfig restart_config(config::RestartPolicy policy) {
    config::RestartConfig r;
    r.policy = policy;
    r.backoff_initial = 100ms;
    r.backoff_max = 1s;
    r.reset_after = 10s;
    r.crash_loop_limit = 5;
    r.crash_loop_window = 60s;
    r.crash_loop_cooldown = 30s;
    return r;
}

config::HealthConfig tcp_health(int retries = 3, Millis start_period = 0ms) {
    config::HealthConfig h;
    h.kind = config::HealthConfig::Kind::tcp;
    h.tcp_port = 80;
    h.interval = 1s;
    h.retries = retries;
    h.start_period = start_period;
    return h;
}

TimePoint t0() {
    return TimePoint{} + 1000s;
}

}  // namespace

TEST_CASE("backoff doubles from the initial delay up to the cap") {
    auto r = restart_config(config::RestartPolicy::always);
    CHECK(backoff_delay(r, 1) == 100ms);
    CHECK(backoff_delay(r, 2) == 200ms);
    CHECK(backoff_delay(r, 3) == 400ms);
    CHECK(backoff_delay(r, 4) == 800ms);
    CHECK(backoff_delay(r, 5) == 1s);
    CHECK(backoff_delay(r, 50) == 1s);
}

TEST_CASE("a new machine is stopped, want_up makes it wait for spawning") {
    JailMachine m(restart_config(config::RestartPolicy::always), {});
    CHECK(m.state() == State::stopped);
    CHECK_FALSE(m.ready_to_spawn());
    m.want_up();
    CHECK(m.state() == State::waiting);
    CHECK(m.ready_to_spawn());
    m.spawned(t0());
    CHECK(m.state() == State::running);
    CHECK(m.health() == Health::none);
    CHECK(m.serving());
}

TEST_CASE("policy always restarts after a clean exit, with backoff") {
    JailMachine m(restart_config(config::RestartPolicy::always), {});
    m.want_up();
    m.spawned(t0());
    auto out = m.exited(true, "exited with status 0", t0() + 1s);
    CHECK(out.next == State::backoff);
    REQUIRE(out.retry_in);
    CHECK(*out.retry_in == 100ms);
    CHECK(m.retry_at() == t0() + 1s + 100ms);
    m.retry_due(t0() + 1100ms);
    CHECK(m.state() == State::waiting);
    CHECK(m.restarts() == 1);
}

TEST_CASE("policy on-failure stops after success and restarts after failure") {
    JailMachine m(restart_config(config::RestartPolicy::on_failure), {});
    m.want_up();
    m.spawned(t0());
    CHECK(m.exited(true, "exited with status 0", t0() + 1s).next == State::stopped);
    m.want_up();
    m.spawned(t0() + 2s);
    auto out = m.exited(false, "killed by SIGKILL", t0() + 3s);
    CHECK(out.next == State::backoff);
    CHECK(m.last_exit() == "killed by SIGKILL");
    CHECK(m.last_error() == "killed by SIGKILL");
}

TEST_CASE("policy never leaves the jail stopped and records why") {
    JailMachine m(restart_config(config::RestartPolicy::never), {});
    m.want_up();
    m.spawned(t0());
    CHECK(m.exited(false, "exited with status 3", t0() + 1s).next == State::stopped);
    CHECK(m.last_error() == "exited with status 3");
}

TEST_CASE("repeated crashes back off exponentially, then a crash loop parks the jail") {
    JailMachine m(restart_config(config::RestartPolicy::always), {});
    m.want_up();
    auto now = t0();
    std::vector<Millis> delays;
    for (int i = 0; i < 4; ++i) {
        m.spawned(now);
        auto out = m.exited(false, "exited with status 1", now + 10ms);
        REQUIRE(out.next == State::backoff);
        delays.push_back(*out.retry_in);
        now += 10ms + *out.retry_in;
        m.retry_due(now);
    }
    CHECK(delays == std::vector<Millis>{100ms, 200ms, 400ms, 800ms});
    m.spawned(now);
    auto out = m.exited(false, "exited with status 1", now + 10ms);
    CHECK(out.next == State::failed);
    CHECK(*out.retry_in == 30s);
    CHECK(m.last_error().find("crash loop: 5 failures") != std::string::npos);
    CHECK(m.last_error().find("jailctl start") != std::string::npos);
    // After the cool-down it is tried again, with a fresh crash-loop window.
    m.retry_due(now + 30s);
    CHECK(m.state() == State::waiting);
}

TEST_CASE("an admin start clears failed at once") {
    auto r = restart_config(config::RestartPolicy::always);
    r.crash_loop_limit = 1;
    JailMachine m(r, {});
    m.want_up();
    m.spawned(t0());
    CHECK(m.exited(false, "exited with status 1", t0() + 1s).next == State::failed);
    m.want_up();
    CHECK(m.state() == State::waiting);
    CHECK_FALSE(m.retry_at());
}

TEST_CASE("running long enough resets the backoff") {
    JailMachine m(restart_config(config::RestartPolicy::always), {});
    m.want_up();
    m.spawned(t0());
    CHECK(*m.exited(false, "x", t0() + 1s).retry_in == 100ms);
    m.retry_due(t0() + 2s);
    m.spawned(t0() + 2s);
    CHECK(*m.exited(false, "x", t0() + 3s).retry_in == 200ms);
    m.retry_due(t0() + 4s);
    m.spawned(t0() + 4s);
    // Ran for 20 s > reset_after (10 s): back to the initial delay.
    CHECK(*m.exited(false, "x", t0() + 24s).retry_in == 100ms);
}

TEST_CASE("with a health check, only healthy time resets the backoff") {
    JailMachine m(restart_config(config::RestartPolicy::always), tcp_health());
    m.want_up();
    m.spawned(t0());
    CHECK(*m.exited(false, "x", t0() + 1s).retry_in == 100ms);
    m.retry_due(t0() + 2s);
    m.spawned(t0() + 2s);
    // Ran 20 s but never healthy: keeps doubling.
    CHECK(*m.exited(false, "x", t0() + 22s).retry_in == 200ms);
    m.retry_due(t0() + 23s);
    m.spawned(t0() + 23s);
    m.health_result(true, "", t0() + 24s);
    CHECK(*m.exited(false, "x", t0() + 40s).retry_in == 100ms);
}

TEST_CASE("stop moves a running jail to stopping and holds it down") {
    JailMachine m(restart_config(config::RestartPolicy::always), {});
    m.want_up();
    m.spawned(t0());
    CHECK(m.want_down());
    CHECK(m.state() == State::stopping);
    CHECK(m.held_down());
    CHECK(m.exited(false, "exited with status 143", t0() + 1s).next == State::stopped);
    CHECK(m.restarts() == 0);
}

TEST_CASE("stop of a waiting or backing-off jail needs no signal") {
    JailMachine m(restart_config(config::RestartPolicy::always), {});
    m.want_up();
    CHECK_FALSE(m.want_down());
    CHECK(m.state() == State::stopped);
    m.want_up();
    m.spawned(t0());
    m.exited(false, "x", t0() + 1s);
    REQUIRE(m.state() == State::backoff);
    CHECK_FALSE(m.want_down());
    CHECK(m.state() == State::stopped);
    CHECK_FALSE(m.retry_at());
}

TEST_CASE("restart stops then comes back without counting a failure") {
    JailMachine m(restart_config(config::RestartPolicy::never), {});
    m.want_up();
    m.spawned(t0());
    CHECK(m.want_restart());
    CHECK(m.state() == State::stopping);
    auto out = m.exited(false, "exited with status 143", t0() + 1s);
    CHECK(out.next == State::waiting);
    CHECK(m.consecutive_failures() == 0);
}

TEST_CASE("health: starting, healthy, then unhealthy after retries triggers a restart") {
    JailMachine m(restart_config(config::RestartPolicy::always), tcp_health(3));
    m.want_up();
    m.spawned(t0());
    CHECK(m.health() == Health::starting);
    CHECK_FALSE(m.serving());
    CHECK_FALSE(m.health_result(true, "", t0() + 1s));
    CHECK(m.health() == Health::healthy);
    CHECK(m.serving());
    CHECK_FALSE(m.health_result(false, "refused", t0() + 2s));
    CHECK_FALSE(m.health_result(false, "refused", t0() + 3s));
    CHECK(m.health() == Health::healthy);
    CHECK(m.health_result(false, "refused", t0() + 4s));
    CHECK(m.health() == Health::unhealthy);
    CHECK(m.state() == State::stopping);
    CHECK(m.last_error().find("refused") != std::string::npos);
    // The stop that follows counts as a failure: backoff, not a plain stop.
    auto out = m.exited(false, "exited with status 143", t0() + 5s);
    CHECK(out.next == State::backoff);
    CHECK(m.last_error().find("health") != std::string::npos);
}

TEST_CASE("health failures inside the start period do not count") {
    JailMachine m(restart_config(config::RestartPolicy::always), tcp_health(1, 10s));
    m.want_up();
    m.spawned(t0());
    CHECK_FALSE(m.health_result(false, "refused", t0() + 5s));
    CHECK(m.health() == Health::starting);
    CHECK(m.health_result(false, "refused", t0() + 11s));
}

TEST_CASE("unhealthy with restart_unhealthy off stays running") {
    auto h = tcp_health(1);
    h.restart_unhealthy = false;
    JailMachine m(restart_config(config::RestartPolicy::always), h);
    m.want_up();
    m.spawned(t0());
    CHECK_FALSE(m.health_result(false, "refused", t0() + 1s));
    CHECK(m.health() == Health::unhealthy);
    CHECK(m.state() == State::running);
    CHECK_FALSE(m.serving());
}

TEST_CASE("a spawn failure counts as a failure") {
    JailMachine m(restart_config(config::RestartPolicy::always), {});
    m.want_up();
    auto out = m.spawn_failed("cannot execute /usr/bin/firejail: No such file or directory", t0());
    CHECK(out.next == State::backoff);
    CHECK(m.last_error().find("firejail") != std::string::npos);
}

TEST_CASE("fast probes before the first success count at most one failure per interval") {
    JailMachine m(restart_config(config::RestartPolicy::always), tcp_health(3));
    m.want_up();
    m.spawned(t0());
    // Probes every 250 ms for 2.9 s: only the ones a full interval (1 s) apart count.
    for (int i = 1; i <= 11; ++i) {
        CHECK_FALSE(m.health_result(false, "refused", t0() + i * 250ms + 150ms));
    }
    CHECK(m.health() == Health::starting);
    CHECK(m.health_result(false, "refused", t0() + 3s + 150ms));
    CHECK(m.health() == Health::unhealthy);
}

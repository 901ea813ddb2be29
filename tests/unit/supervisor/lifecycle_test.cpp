// The supervisor's lifecycle with fake processes and a fake clock: restarts and their
// backoff, crash loops, stop escalation, spawn failures.
#include <signal.h>

#include "supervisor/supervisor_fixture.hpp"

using namespace jaild;
using namespace jaild::testing;
using namespace std::chrono_literals;

namespace {

json restart_always() {
    return {{"restart",
             {{"policy", "always"},
              {"backoff_initial", "100ms"},
              {"backoff_max", "1s"},
              {"reset_after", "10s"},
              {"crash_loop_limit", 100}}}};
}

}  // namespace

TEST_CASE("supervisor: a jail starts as a firejail process of its own, in its namespace") {
    SupervisorWorld w(json{{"www", jail_json(2)}});
    w.supervisor->start_all();
    auto f = w.firejail("www");
    REQUIRE(f);
    CHECK(f->new_session);
    CHECK(w.network.calls == std::vector<std::string>{"prepare www"});
    CHECK(std::find(f->argv.begin(), f->argv.end(), "--netns=jaild-www") != f->argv.end());
    CHECK(w.state("www") == "running");
    CHECK(w.status("www").pid == f->pid);
}

TEST_CASE("supervisor: backoff doubles from backoff_initial up to backoff_max, exactly") {
    SupervisorWorld w(json{{"www", jail_json(2, restart_always())}});
    w.supervisor->start_all();
    const std::vector<Millis> expected{100ms, 200ms, 400ms, 800ms, 1000ms, 1000ms};
    for (std::size_t i = 0; i < expected.size(); ++i) {
        INFO("crash " << i + 1);
        int before = w.spawns_of("www");
        w.crash("www");
        CHECK(w.state("www") == "backoff");
        CHECK(w.status("www").next_retry_ms == expected[i].count());
        w.advance(expected[i] - 1ms);
        CHECK(w.spawns_of("www") == before);  // not a millisecond early
        w.advance(1ms);
        CHECK(w.spawns_of("www") == before + 1);
        CHECK(w.state("www") == "running");
    }
    CHECK(w.status("www").restarts == static_cast<int>(expected.size()));
}

TEST_CASE("supervisor: a run of reset_after resets the backoff") {
    SupervisorWorld w(json{{"www", jail_json(2, restart_always())}});
    w.supervisor->start_all();
    w.crash("www");
    w.advance(100ms);
    w.crash("www");
    CHECK(w.status("www").next_retry_ms == 200);
    w.advance(200ms);
    w.advance(10s);  // a steady run
    w.crash("www");
    CHECK(w.status("www").next_retry_ms == 100);
}

TEST_CASE("supervisor: a crash loop fails the jail for the cool-down, then it is tried again") {
    auto jail = jail_json(2, {{"restart",
                               {{"policy", "always"},
                                {"backoff_initial", "100ms"},
                                {"crash_loop_limit", 3},
                                {"crash_loop_window", "1m"},
                                {"crash_loop_cooldown", "30s"}}}});
    SupervisorWorld w(json{{"www", jail}});
    w.supervisor->start_all();
    w.crash("www");
    w.advance(100ms);
    w.crash("www");
    w.advance(200ms);
    w.crash("www");
    CHECK(w.state("www") == "failed");
    CHECK(w.status("www").last_error.find("crash loop: 3 failures within 1m") != std::string::npos);
    int spawns = w.spawns_of("www");
    w.advance(30s - 1ms);
    CHECK(w.spawns_of("www") == spawns);
    w.advance(1ms);
    CHECK(w.spawns_of("www") == spawns + 1);
    CHECK(w.state("www") == "running");
}

TEST_CASE("supervisor: restart policy on-failure leaves a clean exit stopped") {
    SupervisorWorld w(json{{"www", jail_json(2, {{"restart", {{"policy", "on-failure"}}}})}});
    w.supervisor->start_all();
    w.crash("www", FakeProcessRunner::exited(0));
    CHECK(w.state("www") == "stopped");
    w.advance(1h);
    CHECK(w.spawns_of("www") == 1);
}

TEST_CASE(
    "supervisor: stop escalates: signal, SIGTERM to firejail at half the timeout, SIGKILL at it") {
    SupervisorWorld w(
        json{{"db", jail_json(3, {{"stop_signal", "SIGINT"}, {"stop_timeout", "10s"}})}});
    w.supervisor->start_all();
    auto f = w.firejail("db");
    bool stopped = false;
    w.supervisor->stop("db", api::Wait{}, [&](Result<void> r) { stopped = r.ok(); });
    CHECK(w.state("db") == "stopping");
    // The main process is not known (the fake finds none): firejail gets SIGTERM at once.
    CHECK(f->signals == std::vector<int>{SIGTERM});
    w.advance(5s - 1ms);
    CHECK(f->signals.size() == 1);
    w.advance(1ms);
    CHECK(f->signals == std::vector<int>{SIGTERM, SIGTERM});
    w.advance(5s - 1ms);
    CHECK(f->signals.size() == 2);
    w.advance(1ms);
    CHECK(f->signals == std::vector<int>{SIGTERM, SIGTERM, SIGKILL});
    CHECK_FALSE(stopped);
    w.runner.exit(f, FakeProcessRunner::killed(SIGKILL));
    CHECK(stopped);
    CHECK(w.state("db") == "stopped");
    CHECK(w.status("db").held_down);
    w.advance(1h);
    CHECK(w.spawns_of("db") == 1);  // held down: never restarted
}

TEST_CASE("supervisor: the stop signal goes to the main process once it is known") {
    SupervisorWorld w(json{{"db", jail_json(3, {{"stop_signal", "SIGINT"}})}});
    w.sandboxes.mains_found = true;
    w.supervisor->start_all();
    w.advance(1ms);  // the first look for the main process
    auto f = w.firejail("db");
    CHECK(w.status("db").main_pid == f->pid + 500000);
    w.supervisor->stop("db", api::Wait{}, [](Result<void>) {});
    // The fake's "pidfd" takes no signal: firejail gets SIGTERM instead, as when the main
    // process has just gone.
    CHECK(f->signals == std::vector<int>{SIGTERM});
}

TEST_CASE("supervisor: a jail whose network cannot be prepared backs off and says why") {
    SupervisorWorld w(json{{"www", jail_json(2, restart_always())}});
    w.network.fail_prepare = "cannot create veth: File exists";
    w.supervisor->start_all();
    CHECK(w.spawns_of("www") == 0);
    CHECK(w.state("www") == "backoff");
    CHECK(w.status("www").last_error == "cannot create veth: File exists");
    w.network.fail_prepare.reset();
    w.advance(100ms);
    CHECK(w.state("www") == "running");
}

TEST_CASE("supervisor: jaild out of descriptors is retried in 5 s, not counted against the jail") {
    SupervisorWorld w(json{{"www", jail_json(2, restart_always())}});
    w.runner.fail_next = "cannot start /usr/bin/firejail: Too many open files";
    w.supervisor->start_all();
    CHECK(w.state("www") == "backoff");
    CHECK(w.status("www").next_retry_ms == 5000);
    w.advance(5s);
    CHECK(w.state("www") == "running");
    w.crash("www");
    CHECK(w.status("www").next_retry_ms == 100);  // the first failure of the jail itself
}

TEST_CASE("supervisor: a broken root fails the start with the reason, firejail is not run") {
    SupervisorWorld w(json{{"www", jail_json(2, {{"restart", {{"policy", "never"}}}})}});
    w.sandboxes.broken_roots["/srv/jails/j2"] = "is a symbolic link";
    w.supervisor->start_all();
    CHECK(w.spawns_of("www") == 0);
    CHECK(w.state("www") == "stopped");
    CHECK(w.status("www").last_error ==
          "root directory unusable: jails.www.root: is a symbolic link");
}

TEST_CASE("supervisor: a leftover sandbox of the jail's name is ended before the jail starts") {
    SupervisorWorld w(json{{"www", jail_json(2)}});
    w.sandboxes.leftovers.insert("www");
    w.supervisor->start_all();
    CHECK(w.spawns_of("www") == 0);
    CHECK(w.state("www") == "waiting");
    w.sandboxes.leftover_ended("www");
    CHECK(w.spawns_of("www") == 1);
    CHECK(w.state("www") == "running");
}

TEST_CASE("supervisor: restart of a running jail stops it and starts it again, the call waits") {
    SupervisorWorld w(json{{"www", jail_json(2)}});
    w.supervisor->start_all();
    auto first = w.firejail("www");
    std::optional<bool> result;
    w.supervisor->restart("www", api::Wait{}, [&](Result<void> r) { result = r.ok(); });
    CHECK(first->signals == std::vector<int>{SIGTERM});
    CHECK_FALSE(result);
    w.runner.exit(first, FakeProcessRunner::killed(SIGTERM));
    CHECK(w.spawns_of("www") == 2);
    CHECK_FALSE(result);  // no health check: serving once it has run 1 s
    w.advance(999ms);
    CHECK_FALSE(result);
    w.advance(1ms);
    REQUIRE(result);
    CHECK(*result);
    CHECK(w.status("www").restarts == 0);  // asked for, not automatic
}

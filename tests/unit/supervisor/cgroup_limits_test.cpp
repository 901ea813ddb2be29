// The supervisor and a runner that puts jails in cgroups (systemd/scope_runner.hpp), through
// the Process seam: limits reach the spawn, a reload that changes only them applies them in
// place, the runner's exit note (an OOM kill) becomes the jail's exit reason and an event.
#include <signal.h>

#include "supervisor/supervisor_fixture.hpp"

using namespace jaild;
using namespace jaild::testing;
using namespace std::chrono_literals;

TEST_CASE("cgroup limits: the sandbox's spawn carries them, joins and checks do not") {
    SupervisorWorld w(json{{"www", jail_json(2, {{"limits", {{"memory_max", "512M"}}}})}});
    w.supervisor->start_all();
    auto f = w.firejail("www");
    REQUIRE(f);
    REQUIRE(f->cgroup_limits);
    CHECK(f->cgroup_limits->memory_max == 512ULL << 20);
    CHECK(f->cgroup_limits->tasks_max == config::CgroupLimits::kDefaultTasksMax);
}

TEST_CASE("cgroup limits: a reload that changes only them applies them without a restart") {
    json before{{"www", jail_json(2, {{"limits", {{"memory_max", "512M"}}}})}};
    json next{{"www", jail_json(2, {{"limits", {{"memory_max", "1G"}, {"tasks_max", 100}}}})}};
    SupervisorWorld w(before, [&] { return loaded(next); });
    w.supervisor->start_all();
    auto f = w.firejail("www");
    REQUIRE(f);

    auto result = w.supervisor->reload();
    REQUIRE(result.ok());
    w.poll();
    CHECK(f->running);
    CHECK(f->signals.empty());
    CHECK(w.spawns_of("www") == 1);
    REQUIRE(f->limits_updates.size() == 1);
    CHECK(f->limits_updates[0].memory_max == 1ULL << 30);
    CHECK(f->limits_updates[0].tasks_max == 100);
    CHECK(w.supervisor->config().jails.at("www").limits.cgroup.memory_max == 1ULL << 30);
    CHECK(w.status("www").admin_restarts == 0);

    SECTION("a change of anything else still restarts it") {
        next = {{"www", jail_json(2, {{"limits", {{"memory_max", "1G"}, {"nice", 5}}}})}};
        REQUIRE(w.supervisor->reload().ok());
        CHECK(f->signals == std::vector<int>{SIGTERM});
    }
}

TEST_CASE("cgroup limits: an OOM kill is the jail's exit reason and an event") {
    SupervisorWorld w(json{{"www", jail_json(2, {{"limits", {{"memory_max", "512M"}}}})}});
    w.supervisor->start_all();
    auto f = w.firejail("www");
    REQUIRE(f);
    f->usage.oom_kills = 1;
    f->exit_note = "killed by the kernel's OOM killer at memory_max 512M";
    w.crash("www", FakeProcessRunner::exited(137));
    auto s = w.status("www");
    CHECK_THAT(s.last_error,
               Catch::Contains("killed by the kernel's OOM killer at memory_max 512M"));
    CHECK(s.oom_kills == 1);
    bool oom_event = false;
    for (const auto& e : w.events)
        if (e.value("type", "") == "oom" && e.value("jail", "") == "www") oom_event = true;
    CHECK(oom_event);
    // Restarted by its policy like any failure.
    w.advance(1s);
    CHECK(w.spawns_of("www") == 2);
}

TEST_CASE("cgroup limits: status shows the running sandbox's usage and limits note") {
    SupervisorWorld w(json{{"www", jail_json(2)}});
    w.supervisor->start_all();
    auto f = w.firejail("www");
    REQUIRE(f);
    f->usage = sandbox::ResourceUsage{1 << 20, 5000, 7, 0};
    f->limits_note = "tasks_max not enforced: no systemd";
    auto s = w.status("www");
    CHECK(s.memory_bytes == 1 << 20);
    CHECK(s.cpu_usec == 5000);
    CHECK(s.tasks == 7);
    CHECK(s.limits_note == "tasks_max not enforced: no systemd");
}

TEST_CASE("cgroup limits: a check the runner could not place fails with the runner's reason") {
    SupervisorWorld w(json{{"db", jail_json(3, {{"health",
                                                 {{"exec", {"/usr/bin/pg_isready"}},
                                                  {"interval", "100ms"},
                                                  {"timeout", "50ms"},
                                                  {"start_period", "0s"},
                                                  {"retries", 1},
                                                  {"restart_unhealthy", false}}}})}});
    w.sandboxes.mains_found = true;
    w.supervisor->start_all();
    w.advance(100ms);  // the first check, one interval after the start: it counts
    std::shared_ptr<Spawned> check;
    for (const auto& s : w.runner.spawned())
        if (s->jail == "db" && s->argv.back() == "/usr/bin/pg_isready") check = s;
    REQUIRE(check);
    CHECK_FALSE(check->cgroup_limits);  // the jail's scope is the runner's business
    check->exit_note =
        "not run: it could not be moved into the jail's scope jaild-db.scope: "
        "Unit is not active, refusing.";
    w.runner.exit(check, FakeProcessRunner::killed(SIGKILL));
    auto s = w.status("db");
    CHECK(s.health == "unhealthy");
    CHECK_THAT(s.last_error, Catch::Contains("health command not run: it could not be moved "
                                             "into the jail's scope jaild-db.scope") &&
                                 Catch::Contains("Unit is not active"));
}

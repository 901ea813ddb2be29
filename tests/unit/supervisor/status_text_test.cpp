// The status text each jail keeps between its changes (Jail::kept_status) against a
// rendering from scratch, through every kind of change a status shows: the kept text must
// never be stale. (Every other supervisor test checks it too, at each status it reads:
// SupervisorWorld::check_status_text.)
#include <signal.h>

#include "provision/provisioner.hpp"
#include "supervisor/supervisor_fixture.hpp"

using namespace jaild;
using namespace jaild::testing;
using namespace std::chrono_literals;

namespace {

// The kept text of jail `name`, checked against a fresh rendering, parsed.
json kept(SupervisorWorld& w, const std::string& name) {
    const json all = json::parse(w.check_status_text());
    for (const auto& j : all)
        if (j.at("name") == name) return j;
    FAIL("no jail " << name << " in " << all.dump());
    return {};
}

// A reload's configuration that may publish ports (those need public addresses).
config::LoadResult loaded_public(const json& jails) {
    json whole{{"bridge", {{"name", "jaild0"}, {"address", "10.213.0.1/24"}}},
               {"public", {{"addresses", {"203.0.113.10"}}}},
               {"jails", jails}};
    auto r = config::parse_config(whole.dump(), "test.json");
    for (const auto& issue : r.issues) INFO(issue.str());
    REQUIRE(r.ok());
    return r;
}

json restart_always() {
    return {{"restart", {{"policy", "always"}, {"backoff_initial", "100ms"}}}};
}

}  // namespace

TEST_CASE("status text: each kind of change shows in the kept text at once") {
    json jails{{"www", jail_json(2, restart_always())}, {"db", jail_json(3)}};
    json next = jails;
    SupervisorWorld w(jails, [&] { return loaded_public(next); });
    w.sandboxes.mains_found = true;
    CHECK(kept(w, "www").at("state") == "stopped");

    w.supervisor->start_all();
    auto f = w.firejail("www");
    REQUIRE(f);
    json s = kept(w, "www");
    CHECK(s.at("state") == "running");
    CHECK(s.at("pid") == f->pid);
    CHECK(s.at("main_pid").is_null());  // not found yet
    CHECK(s.at("uptime_ms") == 0);
    w.advance(500ms);
    s = kept(w, "www");
    CHECK(s.at("main_pid") == f->pid + 500000);
    CHECK(s.at("uptime_ms") == 500);

    SECTION("the clock, the main process found, the cgroup's figures and notes") {
        w.advance(1500ms);
        CHECK(kept(w, "www").at("uptime_ms") == 2000);
        f->usage = sandbox::ResourceUsage{1 << 20, 5000, 7, 1};
        f->limits_note = "tasks_max not enforced: no systemd";  // the jail's state is the same
        s = kept(w, "www");
        CHECK(s.at("memory_bytes") == 1 << 20);
        CHECK(s.at("cpu_usec") == 5000);
        CHECK(s.at("tasks") == 7);
        CHECK(s.at("oom_kills") == 1);
        CHECK(s.at("limits_note") == "tasks_max not enforced: no systemd");
        f->limits_note = "memory_max not enforced: no systemd";  // as long as before
        CHECK(kept(w, "www").at("limits_note") == "memory_max not enforced: no systemd");
    }
    SECTION("a crash, its backoff, the retry") {
        w.crash("www");
        s = kept(w, "www");
        CHECK(s.at("state") == "backoff");
        CHECK(s.at("last_exit") == "exited with status 1");
        CHECK(s.at("next_retry_ms") == 100);
        CHECK(s.at("pid").is_null());
        w.advance(40ms);
        CHECK(kept(w, "www").at("next_retry_ms") == 60);
        w.advance(60ms);
        s = kept(w, "www");
        CHECK(s.at("state") == "running");
        CHECK(s.at("restarts") == 1);
        CHECK(s.at("pid") == w.firejail("www")->pid);
    }
    SECTION("stop (held down), start, restart") {
        w.supervisor->stop("www", api::Wait{}, {});
        CHECK(kept(w, "www").at("state") == "stopping");
        w.runner.exit(f, FakeProcessRunner::killed(SIGTERM));
        s = kept(w, "www");
        CHECK(s.at("state") == "stopped");
        CHECK(s.at("held_down") == true);
        w.supervisor->start("www", api::Wait{}, {});
        s = kept(w, "www");
        CHECK(s.at("held_down") == false);
        CHECK(s.at("state") == "running");
        w.supervisor->restart("www", api::Wait{}, {});
        w.runner.exit(w.firejail("www"), FakeProcessRunner::killed(SIGTERM));
        CHECK(kept(w, "www").at("admin_restarts") == 1);
    }
    SECTION("a reload: new address and ports, a jail removed, one added") {
        next = json{{"www", jail_json(9, {{"host_access", {80}}, {"publish", {8080}}})},
                    {"web2", jail_json(4)}};
        REQUIRE(w.supervisor->reload().ok());
        w.runner.exit(f, FakeProcessRunner::killed(SIGTERM));
        w.runner.exit(w.firejail("db"), FakeProcessRunner::killed(SIGTERM));
        w.poll();
        s = kept(w, "www");
        CHECK(s.at("address") == "10.213.0.9");
        CHECK(s.at("ports") == json{8080});
        CHECK(kept(w, "web2").at("state") == "running");
        CHECK(json::parse(w.check_status_text()).size() == 2);
    }
}

TEST_CASE("status text: a spawn failure's error, then unprovisioned and its fix") {
    json jail = jail_json(2, {{"provision", {{"packages", {"apache2"}}}}});
    SupervisorWorld w(json{{"www", jail}});
    w.sandboxes.missing.insert("/srv/jails/j2");
    w.sandboxes.missing.insert(provision::record_path("", "www"));
    CHECK(kept(w, "www").at("fix") == "");
    w.supervisor->start_all();
    json s = kept(w, "www");
    CHECK(s.at("state") == "unprovisioned");
    CHECK(s.at("fix") == "jailctl provision www");
}

TEST_CASE("status text: health results change health and the last error") {
    json health{{"health",
                 {{"exec", {"/usr/bin/check"}},
                  {"interval", "100ms"},
                  {"timeout", "50ms"},
                  {"start_period", "0s"},
                  {"retries", 1},
                  {"restart_unhealthy", false}}}};
    SupervisorWorld w(json{{"www", jail_json(2, health)}});
    w.sandboxes.mains_found = true;
    w.supervisor->start_all();
    CHECK(kept(w, "www").at("health") == "starting");
    auto check = [&w] {
        for (auto it = w.runner.spawned().rbegin(); it != w.runner.spawned().rend(); ++it)
            if ((*it)->argv.back() == "/usr/bin/check" && (*it)->running) return *it;
        return std::shared_ptr<Spawned>();
    };
    w.advance(100ms);
    REQUIRE(check());
    w.runner.exit(check(), FakeProcessRunner::exited(0));
    CHECK(kept(w, "www").at("health") == "healthy");
    w.advance(100ms);
    REQUIRE(check());
    w.runner.exit(check(), FakeProcessRunner::exited(1));
    json s = kept(w, "www");
    CHECK(s.at("health") == "unhealthy");
    CHECK(s.at("last_error") != "");
    CHECK(s.at("last_error_age_ms") == 0);
    w.advance(30ms);
    CHECK(kept(w, "www").at("last_error_age_ms") == 30);
}

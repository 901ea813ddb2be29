// Dependency order with fake processes and a fake clock: a jail starts once the jails it
// comes `after` serve (healthy, when they have a health check); jaild stops dependents
// before their dependencies.
#include <signal.h>

#include "supervisor/supervisor_fixture.hpp"

using namespace jaild;
using namespace jaild::testing;
using namespace std::chrono_literals;

namespace {

// db with an exec health check; www after db; static (no dependency).
json www_db_static() {
    return {{"db", jail_json(3, {{"health",
                                  {{"exec", {"/usr/bin/pg_isready"}},
                                   {"interval", "2s"},
                                   {"timeout", "1s"},
                                   {"retries", 2}}}})},
            {"www", jail_json(2, {{"after", {"db"}}})},
            {"static", jail_json(4)}};
}

// The health command's process of a jail: the jail-entering helper running the check.
std::shared_ptr<Spawned> health_check(const SupervisorWorld& w, const std::string& jail) {
    for (auto it = w.runner.spawned().rbegin(); it != w.runner.spawned().rend(); ++it)
        if ((*it)->jail == jail && (*it)->argv.back() == "/usr/bin/pg_isready") return *it;
    return nullptr;
}

}  // namespace

TEST_CASE("order: a jail waits until the jail it comes after is healthy") {
    SupervisorWorld w(www_db_static());
    w.sandboxes.mains_found = true;
    w.supervisor->start_all();
    CHECK(w.spawns_of("db") == 1);
    CHECK(w.spawns_of("static") == 1);  // independent jails start together
    CHECK(w.spawns_of("www") == 0);
    CHECK(w.state("www") == "waiting");
    w.advance(200ms);  // the first check comes early (min(interval, 200 ms))
    auto check = health_check(w, "db");
    REQUIRE(check);
    CHECK(check->pass_fd >= 0);  // it enters the jail through the main process's pidfd
    CHECK(w.spawns_of("www") == 0);
    w.runner.exit(check, FakeProcessRunner::exited(1));  // not ready yet
    CHECK(w.status("db").health == "starting");
    CHECK(w.spawns_of("www") == 0);
    w.advance(250ms);  // until healthy, checks come every 250 ms
    auto second = health_check(w, "db");
    REQUIRE(second != check);
    w.runner.exit(second, FakeProcessRunner::exited(0));
    CHECK(w.status("db").health == "healthy");
    CHECK(w.spawns_of("www") == 1);
    CHECK(w.state("www") == "running");
}

TEST_CASE("order: a health check that does not answer within its timeout counts as failed") {
    SupervisorWorld w(www_db_static());
    w.sandboxes.mains_found = true;
    w.supervisor->start_all();
    w.advance(200ms);
    auto check = health_check(w, "db");
    REQUIRE(check);
    w.advance(1s);
    CHECK_FALSE(check->running);  // dropped: killed with its process group
    CHECK(check->dropped);
    CHECK(w.spawns_of("www") == 0);
}

TEST_CASE("order: jaild stops dependents first, then what they depend on") {
    SupervisorWorld w(json{{"db", jail_json(3)}, {"www", jail_json(2, {{"after", {"db"}}})}});
    w.supervisor->start_all();
    auto db = w.firejail("db");
    auto www = w.firejail("www");
    REQUIRE(www);
    bool all_down = false;
    w.supervisor->stop_all([&] { all_down = true; });
    CHECK(www->signals == std::vector<int>{SIGTERM});
    CHECK(db->signals.empty());  // www still runs
    CHECK(w.state("db") == "stopping");
    w.advance(1h);  // db's stop timeout does not run: it was not signalled yet
    CHECK(db->signals.empty());
    w.runner.exit(www, FakeProcessRunner::killed(SIGKILL));
    CHECK(db->signals.size() >= 1);
    CHECK(db->signals.front() == SIGTERM);
    CHECK_FALSE(all_down);
    w.runner.exit(db, FakeProcessRunner::exited(0));
    CHECK(all_down);
    CHECK(w.spawns_of("db") == 1);  // nothing restarted while jaild stops
    CHECK(w.spawns_of("www") == 1);
}

TEST_CASE("order: a dependency that crashes does not stop its dependents") {
    SupervisorWorld w(json{{"db", jail_json(3, {{"restart", {{"policy", "always"}}}})},
                           {"www", jail_json(2, {{"after", {"db"}}})}});
    w.supervisor->start_all();
    w.crash("db");
    CHECK(w.state("www") == "running");
    CHECK(w.firejail("www")->signals.empty());
}

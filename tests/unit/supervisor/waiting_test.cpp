// What the first hour with jaild looks like to an admin: jails whose roots are still to be
// provisioned are `unprovisioned` (nothing tried, nothing counted, no error), and start,
// restart and stop answer once the jail serves or is down, or with why not.
#include <signal.h>
#include <unistd.h>

#include "provision/provisioner.hpp"
#include "supervisor/supervisor_fixture.hpp"

using namespace jaild;
using namespace jaild::testing;
using namespace std::chrono_literals;

namespace {

json provisioned_jail(int n, json extra = json::object()) {
    json j = jail_json(n, {{"provision", {{"packages", {"apache2"}}}}});
    j.update(extra);
    return j;
}

json exec_health(const std::string& start_period = "0s") {
    return {{"health",
             {{"exec", {"/usr/bin/check"}},
              {"interval", "2s"},
              {"timeout", "1s"},
              {"retries", 2},
              {"start_period", start_period}}}};
}

std::shared_ptr<Spawned> health_check(const SupervisorWorld& w, const std::string& jail) {
    for (auto it = w.runner.spawned().rbegin(); it != w.runner.spawned().rend(); ++it)
        if ((*it)->jail == jail && (*it)->argv.back() == "/usr/bin/check" && (*it)->running)
            return *it;
    return nullptr;
}

std::string root_of(int n) {
    return "/srv/jails/j" + std::to_string(n);
}

}  // namespace

TEST_CASE("unprovisioned: a jail without its root is not tried, counted or reported as failing") {
    SupervisorWorld w(json{{"www", provisioned_jail(2)}});
    w.sandboxes.missing.insert(root_of(2));
    w.sandboxes.missing.insert(provision::record_path("", "www"));
    w.supervisor->start_all();
    w.advance(10min);
    CHECK(w.spawns_of("www") == 0);
    auto s = w.status("www");
    CHECK(s.state == "unprovisioned");
    CHECK(s.fix == "jailctl provision www");
    CHECK(s.restarts == 0);
    CHECK(s.last_error.empty());
    CHECK_FALSE(s.next_retry_ms);
    CHECK(w.network.calls.empty());

    // start says what to do, at once, and changes nothing.
    std::optional<Result<void>> started;
    w.supervisor->start("www", api::Wait{}, [&](Result<void> r) { started = std::move(r); });
    REQUIRE(started);
    REQUIRE_FALSE(started->ok());
    CHECK(started->error().message.find("jailctl provision www") != std::string::npos);
    CHECK(w.state("www") == "unprovisioned");

    // Provisioning puts the root in place and starts it (Supervisor::start, as swap.cpp does).
    w.sandboxes.missing.erase(root_of(2));
    std::optional<Result<void>> after;
    w.supervisor->start("www", api::Wait{}, [&](Result<void> r) { after = std::move(r); });
    w.advance(1s);
    REQUIRE(after);
    CHECK(after->ok());
    CHECK(w.spawns_of("www") == 1);
    s = w.status("www");
    CHECK(s.state == "running");
    CHECK(s.fix.empty());
    CHECK(s.last_error.empty());
}

TEST_CASE("unprovisioned: a root that was built and has vanished is an error, not a setup step") {
    SupervisorWorld w(json{{"www", provisioned_jail(2)}});
    w.sandboxes.missing.insert(root_of(2));  // the build record exists
    w.sandboxes.broken_roots[root_of(2)] = "does not exist";
    w.supervisor->start_all();
    CHECK(w.state("www") == "backoff");
    CHECK(w.status("www").last_error.find("does not exist") != std::string::npos);
}

TEST_CASE("unprovisioned: a jail without a provision section and without a root is an error") {
    SupervisorWorld w(json{{"www", jail_json(2)}});
    w.sandboxes.missing.insert(root_of(2));
    w.sandboxes.missing.insert(provision::record_path("", "www"));
    w.sandboxes.broken_roots[root_of(2)] = "does not exist";
    w.supervisor->start_all();
    CHECK(w.state("www") == "backoff");
}

TEST_CASE("unprovisioned: stop and shutdown of an unprovisioned jail hold it down") {
    SupervisorWorld w(json{{"www", provisioned_jail(2)}});
    w.sandboxes.missing.insert(root_of(2));
    w.sandboxes.missing.insert(provision::record_path("", "www"));
    w.supervisor->start_all();
    bool stopped = false;
    w.supervisor->stop("www", api::Wait{}, [&](Result<void> r) { stopped = r.ok(); });
    CHECK(stopped);
    CHECK(w.state("www") == "stopped");
    CHECK(w.status("www").held_down);
}

TEST_CASE("waiting: restart answers only once the jail's health check passes") {
    SupervisorWorld w(json{{"www", jail_json(2, exec_health())}});
    w.sandboxes.mains_found = true;
    w.supervisor->start_all();
    w.advance(200ms);
    auto check = health_check(w, "www");
    REQUIRE(check);
    w.runner.exit(check, FakeProcessRunner::exited(0));
    REQUIRE(w.status("www").health == "healthy");

    auto first = w.firejail("www");
    std::optional<Result<void>> result;
    std::vector<json> progress;
    api::Wait wait;
    wait.progress = [&](const json& e) { progress.push_back(e); };
    w.supervisor->restart("www", wait, [&](Result<void> r) { result = std::move(r); });
    REQUIRE_FALSE(progress.empty());
    // The window: 30 s, the check's retries x interval and timeout, and the stop timeout.
    CHECK(progress.front().at("timeout_ms") == 30'000 + 2 * 2'000 + 1'000 + 10'000 + 5'000);
    w.runner.exit(first, FakeProcessRunner::killed(SIGTERM));
    CHECK(w.state("www") == "running");
    CHECK_FALSE(result);  // running, but not serving yet
    w.advance(200ms);
    auto again = health_check(w, "www");
    REQUIRE(again);
    w.runner.exit(again, FakeProcessRunner::exited(1));
    CHECK_FALSE(result);
    w.advance(250ms);
    again = health_check(w, "www");
    REQUIRE(again);
    w.runner.exit(again, FakeProcessRunner::exited(0));
    REQUIRE(result);
    CHECK(result->ok());
    auto states = std::count_if(progress.begin(), progress.end(),
                                [](const json& e) { return e.contains("state"); });
    CHECK(states >= 3);  // stopping, waiting, running, then healthy
    auto s = w.status("www");
    CHECK(s.admin_restarts == 1);
    CHECK(s.restarts == 0);
}

TEST_CASE("waiting: the call gives up after its window and the jail carries on") {
    SupervisorWorld w(json{{"www", jail_json(2, exec_health("1min"))}});
    w.sandboxes.mains_found = true;
    std::optional<Result<void>> result;
    api::Wait wait;
    wait.timeout = 5s;
    w.supervisor->start("www", wait, [&](Result<void> r) { result = std::move(r); });
    CHECK(w.state("www") == "running");
    w.advance(4999ms);
    CHECK_FALSE(result);
    w.advance(1ms);
    REQUIRE(result);
    REQUIRE_FALSE(result->ok());
    CHECK(result->error().message.find("not serving after 5s") != std::string::npos);
    CHECK(result->error().message.find("health check starting") != std::string::npos);
    CHECK(w.state("www") == "running");
}

TEST_CASE("waiting: a crash before the jail serves fails the call with its last output") {
    SupervisorWorld w(json{{"www", jail_json(2, exec_health())}});
    w.sandboxes.mains_found = true;
    w.runner.on_spawn = [](Spawned& s, const sandbox::SpawnOptions& o) {
        if (s.argv[0] != "/usr/bin/firejail" || o.stderr_fd < 0) return;
        const std::string line = "AH00015: Unable to open logs\n";
        REQUIRE(::write(o.stderr_fd, line.data(), line.size()) ==
                static_cast<ssize_t>(line.size()));
    };
    std::optional<Result<void>> result;
    w.supervisor->start("www", api::Wait{}, [&](Result<void> r) { result = std::move(r); });
    REQUIRE(w.state("www") == "running");
    w.poll();  // the output is read
    CHECK_FALSE(result);
    w.crash("www");
    REQUIRE(result);
    REQUIRE_FALSE(result->ok());
    CHECK(result->error().message == "jail 'www' did not start: exited with status 1");
    CHECK(result->error().details ==
          std::vector<std::string>{"[stderr] AH00015: Unable to open logs"});
}

TEST_CASE("waiting: without a health check, a jail that ends within 1 s did not start") {
    SupervisorWorld w(json{{"www", jail_json(2)}});
    std::optional<Result<void>> result;
    w.supervisor->start("www", api::Wait{}, [&](Result<void> r) { result = std::move(r); });
    REQUIRE(w.state("www") == "running");
    w.advance(900ms);
    CHECK_FALSE(result);
    w.crash("www", FakeProcessRunner::exited(3));
    REQUIRE(result);
    REQUIRE_FALSE(result->ok());
    CHECK(result->error().message == "jail 'www' did not start: exited with status 3");
}

TEST_CASE("waiting: --no-block answers at once and stop waits until the jail is down") {
    SupervisorWorld w(json{{"www", jail_json(2)}});
    w.supervisor->start_all();
    auto f = w.firejail("www");
    std::optional<Result<void>> result;
    api::Wait no_block;
    no_block.block = false;
    w.supervisor->stop("www", no_block, [&](Result<void> r) { result = std::move(r); });
    REQUIRE(result);
    CHECK(result->ok());
    CHECK(w.state("www") == "stopping");
    w.runner.exit(f, FakeProcessRunner::killed(SIGTERM));

    w.supervisor->start("www", api::Wait{}, {});
    f = w.firejail("www");
    result.reset();
    w.supervisor->stop("www", api::Wait{}, [&](Result<void> r) { result = std::move(r); });
    CHECK_FALSE(result);
    w.runner.exit(f, FakeProcessRunner::killed(SIGTERM));
    REQUIRE(result);
    CHECK(result->ok());
}

TEST_CASE("restarts: after crashes and asked for are counted apart and errors carry their age") {
    SupervisorWorld w(json{{"www", jail_json(2, {{"restart",
                                                  {{"policy", "always"},
                                                   {"backoff_initial", "1s"},
                                                   {"crash_loop_limit", 100}}}})}});
    w.supervisor->start_all();
    w.crash("www");
    w.advance(1s);
    REQUIRE(w.state("www") == "running");
    w.supervisor->restart("www", api::Wait{}, {});
    w.runner.exit(w.firejail("www"), FakeProcessRunner::killed(SIGTERM));
    w.advance(1min);
    auto s = w.status("www");
    CHECK(s.restarts == 1);
    CHECK(s.admin_restarts == 1);
    CHECK(s.last_error == "exited with status 1");
    REQUIRE(s.last_error_age_ms);
    CHECK(*s.last_error_age_ms == 61'000);
}

TEST_CASE("unprovisioned: a reload that gives the jail a root that exists starts it") {
    json before{{"www", provisioned_jail(2)}};
    json after{{"www", provisioned_jail(2, {{"root", "/srv/jails/built"}})}};
    SupervisorWorld w(before, [&] {
        config::LoadResult r;
        r.config = make_config(after);
        return r;
    });
    w.sandboxes.missing.insert(root_of(2));
    w.sandboxes.missing.insert(provision::record_path("", "www"));
    w.supervisor->start_all();
    REQUIRE(w.state("www") == "unprovisioned");
    REQUIRE(w.supervisor->reload().ok());
    w.poll();
    CHECK(w.state("www") == "running");
    CHECK(w.spawns_of("www") == 1);
}

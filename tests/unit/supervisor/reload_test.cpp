// Reload with fake processes: unchanged jails are not touched, changed ones restart with
// the new settings, removed ones stop and lose their network, added ones start.
#include <signal.h>

#include "supervisor/supervisor_fixture.hpp"

using namespace jaild;
using namespace jaild::testing;
using namespace std::chrono_literals;

TEST_CASE("reload: unchanged untouched, changed restarted, removed stopped, added started") {
    json before{{"same", jail_json(2)}, {"changed", jail_json(3)}, {"gone", jail_json(4)}};
    json after{{"same", jail_json(2)},
               {"changed", jail_json(3, {{"command", {"/bin/server", "--new"}}})},
               {"added", jail_json(5)}};
    json next = after;
    SupervisorWorld w(before, [&] { return loaded(next); });
    w.supervisor->start_all();
    auto same = w.firejail("same");
    auto changed = w.firejail("changed");
    auto gone = w.firejail("gone");
    w.network.calls.clear();

    auto result = w.supervisor->reload();
    REQUIRE(result.ok());
    CHECK((*result)["unchanged"] == json{"same"});
    CHECK((*result)["changed"] == json{"changed"});
    CHECK((*result)["removed"] == json{"gone"});
    CHECK((*result)["added"] == json{"added"});
    CHECK(w.network.calls.front() == "update");
    CHECK(w.spawns_of("added") == 1);

    CHECK(same->signals.empty());
    CHECK(same->running);
    CHECK(changed->signals == std::vector<int>{SIGTERM});
    CHECK(gone->signals == std::vector<int>{SIGTERM});

    w.runner.exit(changed, FakeProcessRunner::killed(SIGTERM));
    auto restarted = w.firejail("changed");
    REQUIRE(restarted != changed);
    CHECK(restarted->argv.back() == "--new");  // started with the new configuration

    w.runner.exit(gone, FakeProcessRunner::killed(SIGTERM));
    w.poll();  // the removal is finished on a fresh turn of the loop
    CHECK(std::find(w.network.calls.begin(), w.network.calls.end(), "release gone") !=
          w.network.calls.end());
    CHECK_FALSE(w.supervisor->status(std::string("gone")).ok());
    CHECK(w.spawns_of("gone") == 1);
}

TEST_CASE("reload: an added jail that comes after another added jail waits for it") {
    json next{{"a", jail_json(2, {{"after", {"b"}}})}, {"b", jail_json(3)}};
    SupervisorWorld w(json::object(), [&] { return loaded(next); });
    w.supervisor->start_all();
    REQUIRE(w.supervisor->reload().ok());
    CHECK(w.spawns_of("b") == 1);
    CHECK(w.spawns_of("a") == 1);  // b serves (running, no health check): a follows
    auto a = w.firejail("a");
    auto b = w.firejail("b");
    CHECK(b->pid < a->pid);  // spawned in that order
}

TEST_CASE("reload: a firewall that cannot be applied changes nothing") {
    json next{{"www", jail_json(2, {{"command", {"/bin/other"}}})}};
    SupervisorWorld w(json{{"www", jail_json(2)}}, [&] { return loaded(next); });
    w.supervisor->start_all();
    w.network.fail_update = "nft: out of memory";
    auto result = w.supervisor->reload();
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().message.find("the old configuration keeps running") != std::string::npos);
    CHECK(w.firejail("www")->signals.empty());
    CHECK(w.spawns_of("www") == 1);
}

TEST_CASE("reload: a removed jail added back before it stopped is kept") {
    json next = json::object();
    json both{{"www", jail_json(2)}};
    SupervisorWorld w(both, [&] { return loaded(next); });
    w.supervisor->start_all();
    auto first = w.firejail("www");
    next = json{{"keep", jail_json(9)}};
    REQUIRE(w.supervisor->reload().ok());  // www removed: stopping
    CHECK(first->signals == std::vector<int>{SIGTERM});
    next = both;
    REQUIRE(w.supervisor->reload().ok());  // back before it stopped
    w.runner.exit(first, FakeProcessRunner::killed(SIGTERM));
    w.poll();
    REQUIRE(w.supervisor->status(std::string("www")).ok());
    CHECK(w.spawns_of("www") == 2);
    CHECK(w.state("www") == "running");
    // It is configured again: a later stop leaves it stopped, not removed.
    w.supervisor->stop("www", api::Wait{}, [](Result<void>) {});
    w.runner.exit(w.firejail("www"), FakeProcessRunner::killed(SIGTERM));
    w.poll();
    REQUIRE(w.supervisor->status(std::string("www")).ok());
    CHECK(w.state("www") == "stopped");
    CHECK(std::find(w.network.calls.begin(), w.network.calls.end(), "release www") ==
          w.network.calls.end());
}

TEST_CASE("reload: a removed jail brought back before its release comes up again") {
    json with{{"www", jail_json(2, {{"restart", {{"policy", "always"}}}})}};
    json next = json{{"other", jail_json(9)}};
    SupervisorWorld w(with, [&] { return loaded(next); });
    w.supervisor->start_all();
    w.crash("www");  // in backoff: a removal stops it at once
    REQUIRE(w.state("www") == "backoff");
    REQUIRE(w.supervisor->reload().ok());
    CHECK(w.state("www") == "stopped");
    next = with;  // back in the same turn of the loop, before the release ran
    auto result = w.supervisor->reload();
    REQUIRE(result.ok());
    CHECK((*result)["changed"] == json{"www"});
    w.poll();
    REQUIRE(w.supervisor->status(std::string("www")).ok());
    CHECK(w.state("www") == "running");
    CHECK_FALSE(w.status("www").held_down);
    CHECK(w.spawns_of("www") == 2);
}

TEST_CASE("reload: a leftover sandbox ending after the supervisor is gone touches nothing") {
    json jails{{"www", jail_json(2)}};
    auto w = std::make_unique<SupervisorWorld>(jails);
    w->sandboxes.leftovers.insert("www");
    w->supervisor->start_all();
    auto done = std::move(w->sandboxes.clearing.at("www"));
    w->events_sub.cancel();
    w->supervisor.reset();
    done();  // the inspector's watch outlived the jail: nothing happens (ASan would say)
    CHECK(w->runner.spawned().empty());
}

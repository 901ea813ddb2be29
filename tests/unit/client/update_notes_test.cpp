// jailctl status: the notes about each jail's package updates (the "updates" object of the
// status result), on canned JSON, and printed under the table by run_status.
#include <sstream>

#include <catch2/catch.hpp>

#include "scripted_daemon.hpp"

#include "lib/commands.hpp"
#include "lib/update_notes.hpp"

using namespace jaild;
using namespace jaild::client;
using namespace jaild::client::test;
using protocol::json;

namespace {

constexpr std::int64_t kNow = 1'800'000'000;  // Unix seconds

json status_with(json updates) {
    json www{{"name", "www"}, {"state", "running"}};
    if (!updates.is_null()) www["updates"] = std::move(updates);
    return json::array({www, json{{"name", "db"}, {"state", "running"}}});
}

}  // namespace

TEST_CASE("status notes: pending updates name the command that applies them") {
    CHECK(format_update_notes(
              status_with(json{{"pending", 11}, {"security", 11}, {"checked_at", kNow - 5}}), false,
              kNow) == "www: 11 updates pending (11 security); next: jailctl upgrade www\n");
    CHECK(format_update_notes(status_with(json{{"pending", 1}, {"security", 0}}), false, kNow) ==
          "www: 1 update pending; next: jailctl upgrade www\n");
    CHECK(format_update_notes(status_with(json{{"pending", 0}, {"security", 0}}), false, kNow)
              .empty());
    CHECK(format_update_notes(status_with(json()), false, kNow).empty());  // never checked
    CHECK(format_update_notes(status_with(json()), true, kNow).empty());
}

TEST_CASE("status notes: an upgrade rolled back in the last 24 hours, with its message") {
    json u{{"pending", 0},
           {"security", 0},
           {"checked_at", kNow - 200},
           {"last_upgrade",
            {{"result", "rolled back"},
             {"message", "it did not serve on the upgraded root: exited with status 1\r"},
             {"at", kNow - 180}}}};
    CHECK(format_update_notes(status_with(u), false, kNow) ==
          "www: last upgrade rolled back (3m ago): it did not serve on the upgraded root: exited "
          "with status 1\\x0d\n");
    u["last_upgrade"]["at"] = kNow - kFailedUpgradeShownMs / 1000 - 1;
    CHECK(format_update_notes(status_with(u), false, kNow).empty());
    u["last_upgrade"] = {{"result", "upgraded"}, {"message", ""}, {"at", kNow - 1}};
    CHECK(format_update_notes(status_with(u), false, kNow).empty());
}

TEST_CASE("status detail: updates with the age of the check, and the last upgrade") {
    json u{{"pending", 11},
           {"security", 11},
           {"checked_at", kNow - 2 * 3600 - 5},
           {"last_upgrade",
            {{"result", "failed"}, {"message", "apt-get: E: broken"}, {"at", kNow - 3 * 86'400}}}};
    CHECK(format_update_notes(status_with(u), true, kNow) ==
          "www: updates: 11 pending (11 security), checked 2h ago; next: jailctl upgrade www\n"
          "www: last upgrade: failed (3d ago): apt-get: E: broken\n");
    json fresh{{"pending", 0},
               {"security", 0},
               {"checked_at", kNow - 5},
               {"last_upgrade", {{"result", "upgraded"}, {"message", ""}, {"at", kNow - 60}}}};
    CHECK(format_update_notes(status_with(fresh), true, kNow) ==
          "www: updates: none pending, checked 5s ago\n"
          "www: last upgrade: upgraded (1m ago)\n");
}

TEST_CASE("jailctl status prints the update notes under the table") {
    ScriptedDaemon daemon([](const protocol::Request& r) -> std::vector<std::string> {
        return {protocol::encode_result(
            r.id, json{{"jails", status_with(json{{"pending", 3}, {"security", 2}})}})};
    });
    std::ostringstream out, err;
    int status = -1;
    {
        auto c = Connection::open(daemon.socket);
        REQUIRE(c.ok());
        status = run_status(*c, std::nullopt, Output{out, err, false, false});
    }
    CHECK(status == exit_codes::kOk);
    CHECK(err.str().empty());
    CHECK_THAT(out.str(),
               Catch::StartsWith("NAME") &&
                   Catch::EndsWith("\nwww: 3 updates pending (2 security); next: jailctl upgrade "
                                   "www\n"));
}

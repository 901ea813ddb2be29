// jailctl upgrade: the summary of each result, and the run over several jails against canned
// answers (progress, a rollback, --all, a refusal).
#include <algorithm>
#include <sstream>

#include <catch2/catch.hpp>

#include "run_jailctl.hpp"
#include "scripted_daemon.hpp"

#include "lib/upgrade.hpp"

using namespace jaild;
using namespace jaild::client;
using namespace jaild::client::test;
using protocol::json;

namespace {

json package(const std::string& name, bool security) {
    return json{{"name", name},
                {"from", "1.5.2-6+deb12u2"},
                {"to", "1.5.2-6+deb12u3"},
                {"security", security}};
}

json packages(int n) {
    json list = json::array();
    for (int i = 0; i < n; ++i) list.push_back(package("lib" + std::to_string(i), i % 2 == 0));
    return list;
}

std::string progress(const std::string& jail, const std::string& step, const std::string& detail,
                     long long elapsed_ms) {
    return protocol::encode_notification(
        {"progress",
         json{{"jail", jail}, {"step", step}, {"detail", detail}, {"elapsed_ms", elapsed_ms}}});
}

std::string rolled_back(const protocol::Request& r) {
    return protocol::encode_error(
        r.id, {protocol::ErrorCode::OperationFailed,
               "upgrade of jail '" + r.params.value("jail", std::string()) +
                   "' rolled back: it did not serve on the upgraded root: exited with status 1; "
                   "its last output: AH00526: Syntax error\033[2J; it serves on its previous "
                   "root again",
               json()});
}

struct Captured {
    std::ostringstream out, err;
    Output output() { return Output{out, err, false, false}; }
};

}  // namespace

TEST_CASE("upgrade summary: upgraded, up to date, skipped") {
    CHECK(describe_upgrade("www",
                           json{{"jail", "www"},
                                {"status", "upgraded"},
                                {"pending", 2},
                                {"security", 1},
                                {"packages", {package("libpam0g", true), package("tzdata", false)}},
                                {"elapsed_ms", 42'400},
                                {"started", true}}) ==
          "www: upgraded 2 packages (1 security) in 42s; started\n"
          "  libpam0g 1.5.2-6+deb12u2 -> 1.5.2-6+deb12u3 (security)\n"
          "  tzdata 1.5.2-6+deb12u2 -> 1.5.2-6+deb12u3\n");
    CHECK(describe_upgrade("db", json{{"status", "upgraded"},
                                      {"pending", 1},
                                      {"security", 0},
                                      {"packages", {package("tzdata", false)}},
                                      {"elapsed_ms", 65'000},
                                      {"started", false}}) ==
          "db: upgraded 1 package in 1m5s\n"
          "  tzdata 1.5.2-6+deb12u2 -> 1.5.2-6+deb12u3\n");
    CHECK(describe_upgrade("www", json{{"status", "up to date"},
                                       {"pending", 0},
                                       {"security", 0},
                                       {"packages", json::array()},
                                       {"elapsed_ms", 900}}) == "www: up to date\n");
    CHECK(describe_upgrade("www", json{{"status", "checked"}, {"pending", 0}, {"security", 0}}) ==
          "www: up to date\n");
    CHECK(describe_upgrade("api", json{{"status", "skipped"}}) ==
          "api: skipped (no \"provision\" section)\n");
}

TEST_CASE("upgrade summary: pending updates list at most 20 packages, then how many more") {
    // jaild sends at most 200 entries; "pending" counts them all.
    auto text = describe_upgrade("www", json{{"status", "checked"},
                                             {"pending", 250},
                                             {"security", 11},
                                             {"packages", packages(200)},
                                             {"elapsed_ms", 3000}});
    CHECK_THAT(text, Catch::StartsWith("www: 250 updates pending, 11 of them security\n"
                                       "  lib0 1.5.2-6+deb12u2 -> 1.5.2-6+deb12u3 (security)\n"
                                       "  lib1 1.5.2-6+deb12u2 -> 1.5.2-6+deb12u3\n"));
    CHECK_THAT(text, Catch::EndsWith("  lib19 1.5.2-6+deb12u2 -> 1.5.2-6+deb12u3\n"
                                     "  ... and 230 more\n"));
    CHECK(std::count(text.begin(), text.end(), '\n') == 22);
    CHECK(describe_upgrade("www", json{{"status", "checked"},
                                       {"pending", 20},
                                       {"security", 0},
                                       {"packages", packages(20)}})
              .find("more") == std::string::npos);
    CHECK_THAT(describe_upgrade("www", json{{"status", "checked"},
                                            {"pending", 1},
                                            {"security", 1},
                                            {"packages", packages(1)}}),
               Catch::StartsWith("www: 1 update pending, 1 of it security\n"));
}

TEST_CASE("upgrade summary: package names and versions from the jail are shown, not obeyed") {
    json hostile{
        {"name", "evil\033]0;pwned\007"}, {"from", "1\r"}, {"to", "2\033[2J"}, {"security", false}};
    auto text = describe_upgrade(
        "www",
        json{{"status", "checked"}, {"pending", 1}, {"security", 0}, {"packages", {hostile}}});
    CHECK(text == "www: 1 update pending\n  evil\\x1b]0;pwned\\x07 1\\x0d -> 2\\x1b[2J\n");
    json added{{"name", "libnew1"}, {"to", "3.0-1"}, {"security", true}};
    CHECK_THAT(describe_upgrade("www", json{{"status", "upgraded"},
                                            {"pending", 1},
                                            {"security", 1},
                                            {"packages", {added}},
                                            {"elapsed_ms", 1000}}),
               Catch::EndsWith("  libnew1 (new) -> 3.0-1 (security)\n"));
}

TEST_CASE("jailctl upgrade: a rolled back jail is reported and the next one goes on, exit 1") {
    ScriptedDaemon daemon([](const protocol::Request& r) -> std::vector<std::string> {
        if (r.params.value("jail", std::string()) == "www") {
            return {progress("www", "refresh", "", 1200),
                    progress("www", "upgrade", "unpacking libpam0g", 9000),
                    progress("www", "rollback", "", 20000), rolled_back(r)};
        }
        return {progress("db", "check", "", 800),
                protocol::encode_result(r.id, json{{"jail", "db"},
                                                   {"status", "checked"},
                                                   {"pending", 1},
                                                   {"security", 1},
                                                   {"packages", {package("libpam0g", true)}},
                                                   {"elapsed_ms", 900}})};
    });
    Captured cap;
    int status = 0;
    {
        auto c = Connection::open(daemon.socket);
        REQUIRE(c.ok());
        status = run_upgrade(*c, {"www", "db"}, UpgradeOptions{}, cap.output());
    }
    CHECK(status == exit_codes::kFailed);
    CHECK(cap.out.str() ==
          "[1.2s] www: refresh\n"
          "[9.0s] www: upgrade: unpacking libpam0g\n"
          "[20.0s] www: rollback\n"
          "[0.8s] db: check\n"
          "db: 1 update pending, 1 of it security\n"
          "  libpam0g 1.5.2-6+deb12u2 -> 1.5.2-6+deb12u3 (security)\n");
    // The daemon's message as it is, its quote of the jail's output made terminal-safe.
    CHECK(cap.err.str() ==
          "jailctl: upgrade of jail 'www' rolled back: it did not serve on the upgraded root: "
          "exited with status 1; its last output: AH00526: Syntax error\\x1b[2J; it serves on "
          "its previous root again\n");
    auto requests = daemon.requests();
    REQUIRE(requests.size() == 2);
    CHECK(requests[0].method == "upgrade");
    CHECK(requests[0].params ==
          json{{"jail", "www"}, {"check", false}, {"security", false}, {"if_configured", false}});
    CHECK(requests[1].params.value("jail", std::string()) == "db");
}

TEST_CASE("jailctl upgrade --all --security: every jail from status, if_configured") {
    ScriptedDaemon daemon([](const protocol::Request& r) -> std::vector<std::string> {
        if (r.method == "status")
            return {protocol::encode_result(
                r.id, json{{"jails", {json{{"name", "db"}}, json{{"name", "www"}}}}})};
        if (r.params.value("jail", std::string()) == "db")
            return {protocol::encode_result(r.id, json{{"jail", "db"}, {"status", "skipped"}})};
        return {protocol::encode_result(r.id, json{{"jail", "www"},
                                                   {"status", "up to date"},
                                                   {"pending", 0},
                                                   {"security", 0},
                                                   {"packages", json::array()},
                                                   {"elapsed_ms", 5000}})};
    });
    Captured cap;
    int status = -1;
    {
        auto c = Connection::open(daemon.socket);
        REQUIRE(c.ok());
        UpgradeOptions options;
        options.all = true;
        options.security = true;
        status = run_upgrade(*c, {}, options, cap.output());
    }
    CHECK(status == exit_codes::kOk);
    CHECK(cap.out.str() == "db: skipped (no \"provision\" section)\nwww: up to date\n");
    CHECK(cap.err.str().empty());
    auto requests = daemon.requests();
    REQUIRE(requests.size() == 3);
    CHECK(requests[0].method == "status");
    CHECK(requests[2].params ==
          json{{"jail", "www"}, {"check", false}, {"security", true}, {"if_configured", true}});
}

TEST_CASE("jailctl upgrade: permission denied ends the run, with exit status 4") {
    ScriptedDaemon daemon([](const protocol::Request& r) -> std::vector<std::string> {
        return {protocol::encode_error(
            r.id, {protocol::ErrorCode::PermissionDenied,
                   "permission denied: uid 1000 is not root and not in group \"jaild\"", json()})};
    });
    Captured cap;
    int status = 0;
    {
        auto c = Connection::open(daemon.socket);
        REQUIRE(c.ok());
        status = run_upgrade(*c, {"www", "db"}, UpgradeOptions{}, cap.output());
    }
    CHECK(status == exit_codes::kPermissionDenied);
    CHECK(daemon.requests().size() == 1);
}

TEST_CASE("jailctl upgrade: name jails or give --all, not both") {
    auto none = run_jailctl({"--socket", "/nonexistent/jaild.sock", "upgrade"});
    CHECK(none.first == 2);
    CHECK(none.second.find("upgrade: name jails or give --all (not both)") != std::string::npos);
    auto both = run_jailctl({"--socket", "/nonexistent/jaild.sock", "upgrade", "--all", "www"});
    CHECK(both.first == 2);
}

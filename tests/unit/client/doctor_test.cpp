// jailctl doctor against tests/support/jaild_fake_daemon: prints the report, exit 1 when a
// check failed, 0 when none did (warnings do not count); without jaild, points at
// jaild --check-host.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "fake_daemon.hpp"
#include "run_jailctl.hpp"

using namespace jaild::client::test;
TEST_CASE("jailctl doctor: a failing check is exit 1 with what was found and the fix") {
    FakeDaemon d({"--doctor", "fail"});
    auto [status, out] = run_jailctl({"--socket", d.socket, "doctor"});
    CHECK(status == 1);
    CHECK_THAT(out, Catch::Contains("fail  forward-policy: table inet foreign chain fw") &&
                        Catch::Contains("fix: nft insert rule inet foreign fw") &&
                        Catch::Contains("warn  systemd:") &&
                        Catch::Contains("2 checks: 0 ok, 1 warning, 1 failed"));
    auto [json_status, json_out] = run_jailctl({"--socket", d.socket, "--json", "doctor"});
    CHECK(json_status == 1);
    auto j = nlohmann::json::parse(json_out);
    CHECK(j["passed"] == false);
    CHECK(j["checks"][1]["id"] == "forward-policy");
}

TEST_CASE("jailctl doctor: warnings only is exit 0") {
    FakeDaemon d({"--doctor", "pass"});
    auto [status, out] = run_jailctl({"--socket", d.socket, "doctor"});
    CHECK(status == 0);
    CHECK_THAT(out, Catch::Contains("ok    forward-policy:") &&
                        Catch::Contains("1 ok, 1 warning, 0 failed"));
}

TEST_CASE("jailctl doctor: no jaild is exit 5 and points at jaild --check-host") {
    auto [status, out] = run_jailctl({"--socket", "/nonexistent/jaild.sock", "doctor"});
    CHECK(status == 5);
    CHECK_THAT(out, Catch::Contains("jaild --check-host"));
}

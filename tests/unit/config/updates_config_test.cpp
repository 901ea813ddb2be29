// "updates" of the document: how often pending package updates are looked for, and which
// jaild applies by itself.
#include <catch2/catch.hpp>

#include "config/load.hpp"
#include "config_fixture.hpp"

using namespace jaild::config;
using namespace jaild::config::test;

TEST_CASE("updates: checked daily and applied by nobody unless configured") {
    auto r = parse_pure(good_json());
    REQUIRE(r.ok());
    REQUIRE(r.config.updates.check);
    CHECK(r.config.updates.check->count() == 86'400'000);
    CHECK(r.config.updates.apply == ApplyUpdates::None);

    auto j = good_json();
    j["updates"] = {{"check", "6h"}, {"apply", "security"}};
    auto set = parse_pure(j);
    INFO(all_issues(set));
    REQUIRE(set.ok());
    CHECK(set.config.updates.check->count() == 6 * 3'600'000);
    CHECK(set.config.updates.apply == ApplyUpdates::Security);

    j["updates"] = {{"check", "never"}};
    auto never = parse_pure(j);
    REQUIRE(never.ok());
    CHECK_FALSE(never.config.updates.check);
}

TEST_CASE("updates: each problem named with its path and the fix") {
    auto j = good_json();
    j["updates"] = {{"check", "sometimes"}, {"apply", "everything"}, {"when", 1}};
    auto r = parse_pure(j);
    const std::string all = all_issues(r);
    INFO(all);
    CHECK(all.find("updates.check: \"sometimes\" is not a schedule; use \"never\", \"hourly\"") !=
          std::string::npos);
    CHECK(all.find("updates.apply: \"everything\" is not a choice; use \"none\"") !=
          std::string::npos);
    CHECK(all.find("updates.when: unknown key") != std::string::npos);

    j["updates"] = {{"check", "never"}, {"apply", "all"}};
    auto r2 = parse_pure(j);
    REQUIRE(r2.issues.size() == 1);
    CHECK(r2.issues[0].path == "updates.apply");
    CHECK(r2.issues[0].message.find("\"updates.check\" is \"never\"") != std::string::npos);

    j["updates"] = "daily";
    auto r3 = parse_pure(j);
    REQUIRE(r3.issues.size() == 1);
    CHECK(r3.issues[0].path == "updates");
}

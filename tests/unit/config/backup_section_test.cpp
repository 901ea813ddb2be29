// "backup" of a jail: directory, schedule, keep, max_size, timeout; postgresql jails only.
#include <catch2/catch.hpp>

#include "config/load.hpp"
#include "config_fixture.hpp"

using namespace jaild::config;
using namespace jaild::config::test;
using jaild::Millis;
using nlohmann::json;

namespace {

json with_backup(const json& backup) {
    auto j = good_json();
    j["jails"]["db"]["provision"] = {{"packages", {"postgresql"}}, {"recipe", "postgresql"}};
    j["jails"]["db"]["backup"] = backup;
    return j;
}

BackupConfig backup_of(const json& backup) {
    auto r = parse_pure(with_backup(backup));
    INFO(all_issues(r));
    REQUIRE(r.ok());
    REQUIRE(r.config.jails.at("db").backup);
    return *r.config.jails.at("db").backup;
}

ConfigIssue issue_of(const json& j) {
    auto r = parse_pure(j);
    INFO(all_issues(r));
    REQUIRE(r.issues.size() == 1);
    return r.issues.front();
}

}  // namespace

TEST_CASE("backup: defaults") {
    auto b = backup_of(json::object());
    CHECK(b.dir.empty());
    CHECK_FALSE(b.schedule);
    CHECK(b.keep == 7);
    CHECK(b.max_size == 10ULL << 30);
    CHECK(b.timeout == Millis(6 * 3600 * 1000));
    auto r = parse_pure(good_json());
    REQUIRE(r.ok());
    CHECK_FALSE(r.config.jails.at("db").backup);
}

TEST_CASE("backup: every field") {
    auto b = backup_of({{"dir", "/srv/backups/db/"},
                        {"schedule", "6h"},
                        {"keep", 3},
                        {"max_size", "512M"},
                        {"timeout", "30m"}});
    CHECK(b.dir == "/srv/backups/db");
    CHECK(b.schedule == Millis(6 * 3600 * 1000));
    CHECK(b.keep == 3);
    CHECK(b.max_size == 512ULL << 20);
    CHECK(b.timeout == Millis(30 * 60 * 1000));
    CHECK(backup_of({{"schedule", "daily"}}).schedule == Millis(86'400'000));
    CHECK(backup_of({{"schedule", "hourly"}}).schedule == Millis(3'600'000));
    CHECK(backup_of({{"schedule", "weekly"}}).schedule == Millis(7 * 86'400'000LL));
    CHECK(backup_of({{"max_size", 1000}}).max_size == 1000);
}

TEST_CASE("backup: each bad field is named with its fix") {
    struct Case {
        json backup;
        std::string path, words;
    };
    for (const auto& c : std::vector<Case>{
             {{{"dir", "backups/db"}}, "jails.db.backup.dir", "not an absolute path"},
             {{{"dir", "/srv/../etc"}}, "jails.db.backup.dir", "not an absolute path"},
             {{{"dir", 5}}, "jails.db.backup.dir", "string"},
             {{{"schedule", "sometimes"}}, "jails.db.backup.schedule", "\"daily\""},
             {{{"schedule", "1s"}}, "jails.db.backup.schedule", "at least 10s"},
             {{{"schedule", 60}}, "jails.db.backup.schedule", "\"hourly\""},
             {{{"keep", 0}}, "jails.db.backup.keep", "keep"},
             {{{"max_size", "10X"}}, "jails.db.backup.max_size", "\"10G\""},
             {{{"max_size", "0"}}, "jails.db.backup.max_size", "not a size"},
             {{{"timeout", "soon"}}, "jails.db.backup.timeout", "duration"},
             {{{"every", "day"}}, "jails.db.backup.every", "unknown"},
         }) {
        INFO(c.backup.dump());
        auto issue = issue_of(with_backup(c.backup));
        CHECK(issue.path == c.path);
        CHECK_THAT(issue.message, Catch::Contains(c.words, Catch::CaseSensitive::No));
    }
}

TEST_CASE("backup: only for a jail with the postgresql recipe") {
    auto j = good_json();
    j["jails"]["www"]["backup"] = {{"schedule", "daily"}};
    auto issue = issue_of(j);
    CHECK(issue.path == "jails.www.backup");
    CHECK_THAT(issue.message, Catch::Contains("\"postgresql\" recipe") &&
                                  Catch::Contains("\"apache\"") && Catch::Contains("remove"));
}

TEST_CASE("backup: a change of it alone needs no restart of the jail") {
    auto before = parse_pure(with_backup(json::object()));
    auto after = parse_pure(with_backup({{"schedule", "daily"}, {"keep", 3}}));
    REQUIRE(before.ok());
    REQUIRE(after.ok());
    const auto& a = before.config.jails.at("db");
    const auto& b = after.config.jails.at("db");
    CHECK(a != b);
    CHECK(equal_but_cgroup_limits(a, b));
    auto moved = after.config.jails.at("db");
    moved.stop_signal = 9;
    CHECK_FALSE(equal_but_cgroup_limits(a, moved));
}

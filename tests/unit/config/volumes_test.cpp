// "volumes" of a jail: what the configuration accepts and what it refuses, each refusal at
// its exact JSON path with the fix.
#include <catch2/catch.hpp>

#include "config_fixture.hpp"

using namespace jaild::config;
using namespace jaild::config::test;
using nlohmann::json;

namespace {

json volume(const char* host, const char* path) {
    return json{{"host", host}, {"path", path}};
}

// The good configuration with db's volumes set to `volumes`.
LoadResult with_db_volumes(json volumes) {
    auto j = good_json();
    j["jails"]["db"]["volumes"] = std::move(volumes);
    return parse_pure(j);
}

void expect_one(const LoadResult& r, const std::string& path, const std::string& fragment) {
    INFO(all_issues(r));
    REQUIRE(r.issues.size() == 1);
    CHECK(r.issues[0].path == path);
    CHECK_THAT(r.issues[0].message, Catch::Contains(fragment));
}

}  // namespace

TEST_CASE("volumes: a good list is read, paths made canonical") {
    auto r = with_db_volumes(json::array(
        {volume("/var/lib/jaild/data/db/", "/var/lib/postgresql/"),
         json{{"host", "/srv/db-archive"}, {"path", "/srv/archive"}, {"read_only", true}}}));
    INFO(all_issues(r));
    REQUIRE(r.issues.empty());
    const auto& v = r.config.jails.at("db").volumes;
    REQUIRE(v.size() == 2);
    CHECK(v[0].host == "/var/lib/jaild/data/db");
    CHECK(v[0].path == "/var/lib/postgresql");
    CHECK_FALSE(v[0].read_only);
    CHECK(v[1].read_only);
    CHECK(r.config.jails.at("www").volumes.empty());
}

TEST_CASE("volumes: each bad entry is refused at its path, with the fix") {
    const std::string at = "jails.db.volumes[0]";
    expect_one(with_db_volumes(json::object()), "jails.db.volumes", "expected an array");
    expect_one(with_db_volumes(json::array({json{{"path", "/srv"}}})), at + ".host",
               "missing required key \"host\"");
    expect_one(with_db_volumes(json::array({json{{"host", "/srv/x"}}})), at + ".path",
               "missing required key \"path\"");
    expect_one(with_db_volumes(
                   json::array({json{{"host", "/srv/x"}, {"path", "/srv"}, {"readonly", true}}})),
               at + ".readonly", "did you mean \"read_only\"?");
    expect_one(with_db_volumes(json::array({volume("srv/x", "/srv")})), at + ".host",
               "not an absolute path");
    expect_one(with_db_volumes(json::array({volume("/srv/../etc", "/srv")})), at + ".host",
               "\"..\"");
    expect_one(with_db_volumes(json::array({volume("/srv//x", "/srv")})), at + ".host", "empty");
    expect_one(with_db_volumes(json::array({volume("/srv/x", "/var/./lib")})), at + ".path",
               "\".\"");
    expect_one(with_db_volumes(json::array({volume("/srv/x", "/")})), at + ".path", "whole root");
    for (const char* tree : {"/proc/x", "/dev", "/sys/fs", "/run/postgresql", "/tmp/x"}) {
        INFO(tree);
        expect_one(with_db_volumes(json::array({volume("/srv/x", tree)})), at + ".path",
                   "firejail builds for the sandbox");
    }
    for (const char* host : {"/", "/etc", "/etc/ssl", "/usr", "/usr/local/lib", "/boot", "/proc/1",
                             "/lib64", "/bin"}) {
        INFO(host);
        expect_one(with_db_volumes(json::array({volume(host, "/srv")})), at + ".host",
                   "system directory of the host");
    }
}

TEST_CASE("volumes: two volumes of a jail must not nest") {
    auto r = with_db_volumes(
        json::array({volume("/srv/a", "/var/lib"), volume("/srv/b", "/var/lib/postgresql")}));
    expect_one(r, "jails.db.volumes[1].path", "must not nest");
    r = with_db_volumes(json::array({volume("/srv/a", "/srv/x"), volume("/srv/b", "/srv/x")}));
    expect_one(r, "jails.db.volumes[1].path", "must not nest");
    // Siblings with a common prefix are not nested.
    r = with_db_volumes(json::array({volume("/srv/a", "/srv/x"), volume("/srv/b", "/srv/xy")}));
    INFO(all_issues(r));
    CHECK(r.issues.empty());
}

TEST_CASE("volumes: a host directory is outside every root and belongs to one jail") {
    // Inside www's root, around it, and db's own root (roots outside /var/lib/jaild here, whose
    // folders are refused as jaild's state before this check).
    for (const char* host : {"/srv/jails/www/srv", "/srv/jails", "/srv/jails/db"}) {
        INFO(host);
        auto j = good_json();
        j["jails"]["www"]["root"] = "/srv/jails/www";
        j["jails"]["db"]["root"] = "/srv/jails/db";
        j["jails"]["db"]["volumes"] = json::array({volume(host, "/srv")});
        expect_one(parse_pure(j), "jails.db.volumes[0].host",
                   "keep volumes outside every jail's root");
    }
    // Shared with another jail, or nested in another jail's volume.
    for (const char* host : {"/srv/shared", "/srv/shared/db", "/srv"}) {
        INFO(host);
        auto j = good_json();
        j["jails"]["www"]["volumes"] = json::array({volume("/srv/shared", "/srv/data")});
        j["jails"]["db"]["volumes"] = json::array({volume(host, "/srv/data")});
        auto r = parse_pure(j);
        expect_one(r, "jails.www.volumes[0].host", "belongs to one volume of one jail");
    }
    // Nor twice in one jail.
    auto r = with_db_volumes(json::array({volume("/srv/a", "/srv/x"), volume("/srv/a", "/srv/y")}));
    expect_one(r, "jails.db.volumes[1].host", "belongs to one volume of one jail");
}

TEST_CASE("volumes: jaild's own state is no volume, backups are kept out of jails' reach") {
    for (const char* host : {"/var/lib/jaild", "/var/lib/jaild/secrets",
                             "/var/lib/jaild/backups/db", "/var/lib/jaild/data"}) {
        INFO(host);
        expect_one(with_db_volumes(json::array({volume(host, "/srv")})), "jails.db.volumes[0].host",
                   "jaild's own state");
    }
    auto j = good_json();
    j["jails"]["db"]["provision"] = {{"recipe", "postgresql"}};
    j["jails"]["db"]["volumes"] = json::array({volume("/var/lib/jaild/data/db", "/srv")});
    for (const char* dir : {"/var/lib/jaild/data/db/backups", "/var/lib/jaild/jails/www/backups"}) {
        INFO(dir);
        j["jails"]["db"]["backup"] = {{"dir", dir}};
        expect_one(parse_pure(j), "jails.db.backup.dir", "keep backups where no jail reaches");
    }
    j["jails"]["db"]["backup"] = {{"dir", "/var/lib/jaild/backups/db"}};
    auto r = parse_pure(j);
    INFO(all_issues(r));
    CHECK(r.issues.empty());
}

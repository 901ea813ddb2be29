// jailctl backup/restore: what is printed of a result, paths made absolute, and the age of
// the last backup in status.
#include <catch2/catch.hpp>

#include <unistd.h>

#include "lib/backup.hpp"
#include "lib/table.hpp"

using namespace jaild;
using namespace jaild::client;
using protocol::json;

TEST_CASE("backup and restore results as jailctl prints them") {
    CHECK(describe_backup(json{{"jail", "db"},
                               {"file", "/b/db-20261130T120000Z.sql.gz"},
                               {"bytes", 2048},
                               {"dumped_bytes", 3 * 1024 * 1024 + 1024 * 1024 / 2},
                               {"sha256", "ab12"},
                               {"elapsed_ms", 1250}}) ==
          "db: backup written: /b/db-20261130T120000Z.sql.gz (2.0 KiB, 3.5 MiB of SQL, 1.2s)\n"
          "db: sha256 ab12\n");
    CHECK(describe_restore(json{{"jail", "db"},
                                {"file", "/b/x.sql.gz"},
                                {"sql_bytes", 100},
                                {"errors", 0},
                                {"elapsed_ms", 300}}) ==
          "db: restored /b/x.sql.gz (100 B of SQL, 0.3s)\n");
    auto with_errors = describe_restore(json{
        {"jail", "db"}, {"errors", 2}, {"output", {"ERROR:  current user cannot be dropped"}}});
    CHECK_THAT(with_errors, Catch::Contains("psql reported 2 error(s)") &&
                                Catch::Contains("  ERROR:  current user cannot be dropped\n"));
}

TEST_CASE("paths given to backup and restore are made absolute") {
    char cwd[4096];
    REQUIRE(::getcwd(cwd, sizeof cwd));
    CHECK(absolute_path("/a/b/../c.sql.gz") == "/a/c.sql.gz");
    CHECK(absolute_path("x.sql.gz") == std::string(cwd) + "/x.sql.gz");
}

TEST_CASE("status shows the age of the last backup") {
    JailStatus db;
    db.name = "db";
    db.state = "running";
    db.health = "healthy";
    db.last_backup_age_ms = 3 * 3600 * 1000 + 60 * 1000;
    CHECK_THAT(format_status_table({db}, false), Catch::EndsWith("db: last backup 3h1m ago\n"));
    db.last_backup_age_ms.reset();
    CHECK(format_status_table({db}, false).find("backup") == std::string::npos);
}

#include <catch2/catch.hpp>

#include "backup/backup_files.hpp"
#include "backup/schedule.hpp"

using namespace jaild::backup;
using namespace std::chrono_literals;

namespace {
SystemTime at(std::int64_t unix_seconds) {
    return SystemTime(std::chrono::seconds(unix_seconds));
}
}  // namespace

TEST_CASE("backup names are the jail, a UTC stamp and .sql.gz") {
    // 2026-11-30 12:44:05 UTC
    CHECK(backup_name("db", at(1796042645)) == "db-20261130T124405Z.sql.gz");
    CHECK(partial_name("db-20261130T124405Z.sql.gz") == ".db-20261130T124405Z.sql.gz.partial");
}

TEST_CASE("only exactly jaild's own names are taken for backups") {
    CHECK(parse_backup_name("db", "db-20261130T124405Z.sql.gz") == at(1796042645));
    for (const char* foreign :
         {"db-20261130T124405Z.sql.gz.sha256", ".db-20261130T124405Z.sql.gz.partial",
          "db-20261130T124405Z.sql", "db2-20261130T124405Z.sql.gz", "www-20261130T124405Z.sql.gz",
          "db-20261130T124405.sql.gz", "db-2026113xT124405Z.sql.gz", "db-20261331T124405Z.sql.gz",
          "db-20260231T124405Z.sql.gz", "db-20261130T244405Z.sql.gz", "db_20261130T124405Z.sql.gz",
          "../db-20261130T124405Z.sql.gz", "db-20261130T124405Z.sql.gz/", ""}) {
        INFO(foreign);
        CHECK_FALSE(parse_backup_name("db", foreign));
    }
    // A jail whose name is another's prefix does not claim its backups.
    CHECK_FALSE(parse_backup_name("db", "db-x-20261130T124405Z.sql.gz"));
    CHECK(parse_backup_name("db-x", "db-x-20261130T124405Z.sql.gz"));
}

TEST_CASE("retention removes the oldest of the jail's own backups beyond keep") {
    const std::vector<std::string> names{
        "db-20261130T120000Z.sql.gz",        "db-20261128T120000Z.sql.gz",
        "db-20261130T120000Z.sql.gz.sha256", "notes.txt",
        "db-20261129T120000Z.sql.gz",        "www-20261101T120000Z.sql.gz",
        "db-20261127T120000Z.sql.gz",        ".db-20261126T120000Z.sql.gz.partial"};
    CHECK(beyond_retention("db", names, 2) ==
          std::vector<std::string>{"db-20261127T120000Z.sql.gz", "db-20261128T120000Z.sql.gz"});
    CHECK(beyond_retention("db", names, 4).empty());
    CHECK(beyond_retention("db", names, 10).empty());
    CHECK(beyond_retention("db", names, 1).size() == 3);
    CHECK(newest_backup("db", names) == "db-20261130T120000Z.sql.gz");
    CHECK_FALSE(newest_backup("db", {"notes.txt"}));
}

TEST_CASE("checksum files are in sha256sum's format") {
    const std::string hex(64, 'a');
    CHECK(checksum_line(hex, "db-x.sql.gz") == hex + "  db-x.sql.gz\n");
    CHECK(parse_checksum_file(checksum_line(hex, "f.sql.gz"), "f.sql.gz").value() == hex);
    // Upper case, binary mode, a directory in the name (as `sha256sum /dir/f` writes it).
    CHECK(parse_checksum_file(std::string(64, 'A') + " */backups/f.sql.gz\n", "f.sql.gz").value() ==
          hex);
    CHECK_FALSE(parse_checksum_file(hex + "  other.sql.gz\n", "f.sql.gz"));
    CHECK_FALSE(parse_checksum_file(std::string(63, 'a') + "  f.sql.gz\n", "f.sql.gz"));
    CHECK_FALSE(parse_checksum_file(std::string(63, 'a') + "g  f.sql.gz\n", "f.sql.gz"));
    CHECK_FALSE(parse_checksum_file(hex + "  f.sql.gz\n" + hex + "  f.sql.gz\n", "f.sql.gz"));
    CHECK_FALSE(parse_checksum_file("", "f.sql.gz"));
    auto e = parse_checksum_file(hex + "  other\n", "f.sql.gz");
    REQUIRE_FALSE(e);
    CHECK_THAT(e.error().message, Catch::Contains("sha256sum f.sql.gz > f.sql.gz.sha256"));
}

TEST_CASE("the next scheduled backup is an interval after the last good one") {
    const auto now = at(1'000'000);
    CHECK(next_run(std::nullopt, now, 1h) == now);         // none yet: at once
    CHECK(next_run(now - 10min, now, 1h) == now + 50min);  // due later
    CHECK(next_run(now - 3h, now, 1h) == now);             // overdue: at once
    CHECK(next_run(now + 2h, now, 1h) == now + 1h);        // clock set back
    CHECK(retry_delay(24h) == 5min);
    CHECK(retry_delay(10min) == 1min);
    CHECK(retry_delay(20s) == 10s);
}

#include <catch2/catch.hpp>

#include "lib/table.hpp"

using namespace jaild;
using namespace jaild::client;

namespace {
std::vector<JailStatus> sample() {
    JailStatus www;
    www.name = "www";
    www.state = "running";
    www.health = "healthy";
    www.pid = 1234;
    www.address = "10.213.0.2";
    www.ports = {80, 443};
    www.uptime_ms = 3'723'999;
    www.restarts = 2;
    JailStatus database;
    database.name = "database";
    database.state = "backoff";
    database.health = "none";
    database.address = "10.213.0.3";
    database.last_error = "exited with status 1";
    database.next_retry_ms = 4000;
    return {www, database};
}
}  // namespace

TEST_CASE("table: aligned columns without colour") {
    std::string t = format_status_table(sample(), false);
    CHECK(t ==
          "NAME      STATE    PID   ADDRESS     PORTS   UPTIME  RESTARTS  HEALTH\n"
          "www       running  1234  10.213.0.2  80,443  1h2m    2         healthy\n"
          "database  backoff  -     10.213.0.3  -       -       0         none\n"
          "database: exited with status 1 (next try in 4s)\n");
    CHECK(t.find('\033') == std::string::npos);
}

TEST_CASE("table: colours do not change the alignment") {
    std::string t = format_status_table(sample(), true);
    CHECK(t.find("\033[32mrunning\033[0m  1234") != std::string::npos);
    CHECK(t.find("\033[33mbackoff\033[0m  -") != std::string::npos);
    CHECK(t.find("\033[32mhealthy\033[0m\n") != std::string::npos);
}

TEST_CASE("table: held-down jails and an empty list") {
    JailStatus db;
    db.name = "db";
    db.state = "stopped";
    db.held_down = true;
    CHECK(format_status_table({db}, false).find("stopped (held)") != std::string::npos);
    CHECK(format_status_table({}, false) ==
          "NAME  STATE  PID  ADDRESS  PORTS  UPTIME  RESTARTS  HEALTH\n");
}

TEST_CASE("table: a jail's dropped output lines are noted under the table") {
    JailStatus www;
    www.name = "www";
    www.state = "running";
    CHECK(format_status_table({www}, false).find("dropped") == std::string::npos);
    www.dropped_lines = 990123;
    CHECK(format_status_table({www}, false)
              .find("\nwww: 990123 output lines dropped (over its output limit)\n") !=
          std::string::npos);
}

TEST_CASE("table: uptime, log lines and reload summaries") {
    CHECK(format_uptime(std::nullopt) == "-");
    CHECK(format_uptime(5'999) == "5s");
    CHECK(format_uptime(999) == "0s");
    CHECK(format_log_line(LogLine{"www", "stderr", 1'700'000'000'123'456, "boom"}) ==
          "2023-11-14T22:13:20.123Z stderr boom");
    // A jail's escape sequences and carriage returns are shown, not obeyed.
    CHECK(format_log_line(LogLine{"www", "stdout", 1'700'000'000'123'456,
                                  "\033]0;pwned\007\033[2J\rjaild: fake"}) ==
          "2023-11-14T22:13:20.123Z stdout \\x1b]0;pwned\\x07\\x1b[2J\\x0djaild: fake");
    CHECK(format_reload(nlohmann::json{{"added", {"a", "b"}},
                                       {"removed", nlohmann::json::array()}}) == "added: a, b\n");
    CHECK(format_reload(nlohmann::json{{"added", nlohmann::json::array()}}) == "no changes\n");
    CHECK(format_reload(nlohmann::json::object()) == "no changes\n");
}

TEST_CASE("table: usage columns only when a jail has cgroup figures, notes for OOM and limits") {
    auto jails = sample();
    CHECK(format_status_table(jails, false).find("MEM") == std::string::npos);
    jails[0].memory_bytes = 12ULL << 20;
    jails[0].cpu_usec = 4'200'000;
    jails[0].tasks = 17;
    jails[0].oom_kills = 2;
    jails[0].limits_note = "memory_max not enforced: no memory controller for jaild.slice";
    auto t = format_status_table(jails, false);
    CHECK(t.find("HEALTH   MEM  CPU   TASKS\n") != std::string::npos);
    CHECK(t.find("healthy  12M  4.2s  17\n") != std::string::npos);
    CHECK(t.find("none     -    -     -\n") != std::string::npos);
    CHECK(t.find("www: 2 process(es) killed by the kernel's OOM killer") != std::string::npos);
    CHECK(t.find("limits:") == std::string::npos);  // the detail view only
    auto d = format_status_table({jails[0]}, false, true);
    CHECK(d.find("www: limits: memory_max not enforced: no memory controller") !=
          std::string::npos);
    CHECK(d.find("www: usage: memory 12M, CPU 4.2s, tasks 17\n") != std::string::npos);
    CHECK(format_bytes_short(1536ULL << 20) == "1.5G");
    CHECK(format_bytes_short(512) == "512B");
    CHECK(format_cpu_time(3'723'000'000) == "1h2m");
}

#include <catch2/catch.hpp>

#include "systemd/cgroup_usage.hpp"

using namespace jaild;
using namespace jaild::systemd;

TEST_CASE("cgroup usage: parsing the files") {
    CHECK(parse_value("123\n") == 123);
    CHECK_FALSE(parse_value("max\n"));
    CHECK_FALSE(parse_value("12x"));
    CHECK_FALSE(parse_value(""));
    CHECK(parse_keyed("usage_usec 42\nuser_usec 40\n", "usage_usec") == 42);
    CHECK(parse_keyed("usage_usec 42\nuser_usec 40\n", "user_usec") == 40);
    CHECK(parse_keyed("oom 3\noom_kill 2\noom_group_kill 0\n", "oom_kill") == 2);
    CHECK_FALSE(parse_keyed("oom 3\n", "oom_kill"));
    CHECK(scope_cgroup_dir("/sys/fs/cgroup", "www") ==
          "/sys/fs/cgroup/jaild.slice/jaild-www.scope");
}

TEST_CASE("cgroup usage: the OOM note") {
    config::CgroupLimits limits;
    limits.memory_max = 512ULL << 20;
    CHECK(oom_exit_note(0, 1, limits) == "killed by the kernel's OOM killer at memory_max 512M");
    CHECK(oom_exit_note(2, 2, limits).empty());
    CHECK(oom_exit_note(0, std::nullopt, limits).empty());
    CHECK(oom_exit_note(std::nullopt, 1, config::CgroupLimits{}) ==
          "killed by the kernel's OOM killer at memory_max infinity (the host ran out of memory)");
}

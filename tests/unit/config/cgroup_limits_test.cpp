// limits.memory_max, tasks_max, cpu_weight, cpu_max, io_weight: the jail's scope limits.
#include <catch2/catch.hpp>

#include "config/load.hpp"
#include "config_fixture.hpp"

using namespace jaild::config;
using namespace jaild::config::test;
using nlohmann::json;

namespace {

CgroupLimits limits_of(const json& limits) {
    auto j = good_json();
    j["jails"]["www"]["limits"] = limits;
    auto r = parse_pure(j);
    INFO(all_issues(r));
    REQUIRE(r.ok());
    return r.config.jails.at("www").limits.cgroup;
}

ConfigIssue issue_of(const json& limits) {
    auto j = good_json();
    j["jails"]["www"]["limits"] = limits;
    auto r = parse_pure(j);
    REQUIRE(r.issues.size() == 1);
    return r.issues.front();
}

}  // namespace

TEST_CASE("cgroup limits: defaults stop a fork bomb and set no memory limit") {
    auto c = limits_of(json::object());
    CHECK(c.tasks_max == CgroupLimits::kDefaultTasksMax);
    CHECK_FALSE(c.memory_max);
    CHECK_FALSE(c.cpu_weight);
    CHECK_FALSE(c.cpu_max_percent);
    CHECK_FALSE(c.io_weight);
}

TEST_CASE("cgroup limits: good values") {
    auto c = limits_of({{"memory_max", "512M"},
                        {"tasks_max", 512},
                        {"cpu_weight", 200},
                        {"cpu_max", "150%"},
                        {"io_weight", 50}});
    CHECK(c.memory_max == 512ULL << 20);
    CHECK(c.tasks_max == 512);
    CHECK(c.cpu_weight == 200);
    CHECK(c.cpu_max_percent == 150);
    CHECK(c.io_weight == 50);
    CHECK(limits_of({{"memory_max", "2G"}}).memory_max == 2ULL << 30);
    CHECK(limits_of({{"memory_max", 134217728}}).memory_max == 128ULL << 20);
    CHECK(limits_of({{"memory_max", "1T"}}).memory_max == 1ULL << 40);
    CHECK_FALSE(limits_of({{"memory_max", "infinity"}}).memory_max);
    CHECK_FALSE(limits_of({{"tasks_max", "infinity"}}).tasks_max);
    CHECK_FALSE(limits_of({{"cpu_max", "infinity"}}).cpu_max_percent);
}

TEST_CASE("cgroup limits: bad values name the key and the fix") {
    struct Case {
        json limits;
        std::string path, fragment;
    };
    const std::vector<Case> cases{
        {{{"memory_max", "512MB"}}, "jails.www.limits.memory_max", "e.g. \"512M\""},
        {{{"memory_max", "lots"}}, "jails.www.limits.memory_max", "\"lots\" is not a size"},
        {{{"memory_max", -5}}, "jails.www.limits.memory_max", "expected a size"},
        {{{"memory_max", 1000}}, "jails.www.limits.memory_max", "use at least \"1M\""},
        {{{"memory_max", "99999999999T"}}, "jails.www.limits.memory_max", "is not a size"},
        {{{"tasks_max", 0}}, "jails.www.limits.tasks_max", "out of range"},
        {{{"tasks_max", "many"}}, "jails.www.limits.tasks_max", "or \"infinity\""},
        {{{"tasks_max", 5'000'000}}, "jails.www.limits.tasks_max", "out of range"},
        {{{"cpu_weight", 0}}, "jails.www.limits.cpu_weight", "from 1 to 10000"},
        {{{"io_weight", 10001}}, "jails.www.limits.io_weight", "from 1 to 10000"},
        {{{"cpu_max", "1.5"}}, "jails.www.limits.cpu_max", "e.g. \"150%\""},
        {{{"cpu_max", 150}}, "jails.www.limits.cpu_max", "expected a string"},
        {{{"cpu_max", "0%"}}, "jails.www.limits.cpu_max", "from 1%"},
        {{{"memory_mx", "1G"}}, "jails.www.limits.memory_mx", "did you mean \"memory_max\"?"},
    };
    for (const auto& c : cases) {
        INFO(c.limits.dump());
        auto issue = issue_of(c.limits);
        CHECK(issue.path == c.path);
        CHECK_THAT(issue.message, Catch::Contains(c.fragment));
    }
}

TEST_CASE("cgroup limits: format_bytes writes the largest exact unit") {
    CHECK(format_bytes(512ULL << 20) == "512M");
    CHECK(format_bytes(2ULL << 30) == "2G");
    CHECK(format_bytes(1536ULL << 20) == "1536M");
    CHECK(format_bytes(1000) == "1000");
}

TEST_CASE("cgroup limits: equal_but_cgroup_limits ignores only them") {
    auto j = good_json();
    auto a = parse_pure(j).config.jails.at("www");
    auto b = a;
    b.limits.cgroup.memory_max = 1ULL << 30;
    b.limits.cgroup.tasks_max.reset();
    CHECK(a != b);
    CHECK(equal_but_cgroup_limits(a, b));
    b.limits.nice = 3;  // a firejail option: needs a restart
    CHECK_FALSE(equal_but_cgroup_limits(a, b));
}

TEST_CASE("cgroup limits: the note names the limits set and why they are not enforced") {
    CgroupLimits c;
    CHECK(unenforced_limits_note(c, "no systemd") == "tasks_max not enforced: no systemd");
    c.memory_max = 512ULL << 20;
    c.cpu_max_percent = 150;
    CHECK(unenforced_limits_note(c, "no systemd") ==
          "memory_max, tasks_max, cpu_max not enforced: no systemd");
    CHECK(unenforced_limits_note(CgroupLimits{{}, {}, {}, {}, {}}, "no systemd").empty());
}

#include <catch2/catch.hpp>

#include <set>

#include "net/links.hpp"
#include "net/sysctl.hpp"

using namespace jaild::net;

TEST_CASE("names: netns and host veth names") {
    CHECK(netns_name("www") == "jaild-www");
    CHECK(netns_path("www") == "/run/netns/jaild-www");
    CHECK(host_veth_name("www") == "jv-www");
    CHECK(host_veth_name("abcdefghijkl") == "jv-abcdefghijkl");  // 12 chars still fit
    const std::string long1 = "abcdefghijklm", long2 = "abcdefghijkln";
    CHECK(host_veth_name(long1).size() == 15);
    CHECK(host_veth_name(long1).rfind("jv.abcd", 0) == 0);
    CHECK(host_veth_name(long1) == host_veth_name(long1));  // stable
    CHECK(host_veth_name(long1) != host_veth_name(long2));
    std::set<std::string> seen;
    for (int i = 0; i < 2000; ++i) {
        const std::string name = "jail-with-a-long-name-" + std::to_string(i);
        const std::string v = host_veth_name(name);
        CHECK(v.size() <= 15);
        seen.insert(v);
    }
    CHECK(seen.size() == 2000);
}

TEST_CASE("sysctl: key to /proc/sys path, and reading a value") {
    CHECK(sysctl_path("net.ipv4.ip_forward") == "/proc/sys/net/ipv4/ip_forward");
    auto v = read_sysctl("net.ipv4.ip_forward");
    REQUIRE(v.ok());
    CHECK((*v == "0" || *v == "1"));
    auto missing = read_sysctl("net.ipv4.no_such_key");
    REQUIRE_FALSE(missing.ok());
    CHECK_THAT(missing.error().message, Catch::Contains("/proc/sys/net/ipv4/no_such_key"));
}

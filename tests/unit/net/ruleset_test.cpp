// render_ruleset: exact rule lines for each configuration feature, and (firewall_test.cpp)
// that libnftables accepts the script.
#include <catch2/catch.hpp>

#include <algorithm>
#include <sstream>

#include "net/ruleset.hpp"
#include "net_test_config.hpp"

using namespace jaild;
using jaild::net::render_ruleset;
using jaild::net::test::jail;
using jaild::net::test::base_config;
using jaild::net::test::ip;
using jaild::net::test::cidr_of;

namespace {

// The rule lines of one chain (without the chain's type line).
std::vector<std::string> chain_rules(const std::string& script, const std::string& chain) {
    std::istringstream in(script);
    std::string line;
    std::vector<std::string> rules;
    bool inside = false;
    while (std::getline(in, line)) {
        auto b = line.find_first_not_of('\t');
        std::string t = b == std::string::npos ? "" : line.substr(b);
        if (t == "chain " + chain + " {") {
            inside = true;
            continue;
        }
        if (!inside) continue;
        if (t == "}") break;
        if (t.rfind("type ", 0) == 0) continue;
        rules.push_back(t);
    }
    return rules;
}

std::string chain_head(const std::string& script, const std::string& chain) {
    auto pos = script.find("chain " + chain + " {\n");
    REQUIRE(pos != std::string::npos);
    auto start = script.find_first_not_of('\t', script.find('\n', pos) + 1);
    return script.substr(start, script.find('\n', start) - start);
}

using Lines = std::vector<std::string>;

}  // namespace

TEST_CASE("ruleset: replaces the whole table atomically and declares every chain") {
    const std::string s = render_ruleset(base_config());
    CHECK(s.rfind("add table inet jaild\ndelete table inet jaild\ntable inet jaild {\n", 0) == 0);
    CHECK(chain_head(s, "prerouting") == "type nat hook prerouting priority dstnat; policy accept;");
    CHECK(chain_head(s, "output_nat") == "type nat hook output priority -100; policy accept;");
    CHECK(chain_head(s, "postrouting") == "type nat hook postrouting priority srcnat; policy accept;");
    CHECK(chain_head(s, "forward") == "type filter hook forward priority filter; policy accept;");
    CHECK(chain_head(s, "input") == "type filter hook input priority filter; policy accept;");
    CHECK(chain_head(s, "output") == "type filter hook output priority filter; policy accept;");
    CHECK(s.find("policy drop") == std::string::npos);
    CHECK(s.find("chain fwd") == std::string::npos);
}

TEST_CASE("ruleset: no jails, no published ports: only the bridge-scoped rules") {
    const std::string s = render_ruleset(base_config());
    CHECK(chain_rules(s, "prerouting").empty());
    CHECK(chain_rules(s, "output_nat").empty());
    CHECK(chain_rules(s, "postrouting") ==
          Lines{"ip saddr 10.213.0.0/24 oifname != \"jaild0\" masquerade",
                "ip saddr 10.213.0.0/24 ip daddr 10.213.0.0/24 ct status dnat oifname \"jaild0\" masquerade"});
    CHECK(chain_rules(s, "forward") ==
          Lines{"oifname \"jaild0\" ct state established,related accept", "oifname \"jaild0\" drop"});
    CHECK(chain_rules(s, "input") ==
          Lines{"iifname \"jaild0\" ct state established,related accept", "iifname \"jaild0\" drop"});
    CHECK(chain_rules(s, "output") ==
          Lines{"oifname \"jaild0\" ct state established,related accept",
                "oifname \"jaild0\" ct status dnat accept", "meta mark 0x6a61696c accept",
                "oifname \"jaild0\" ip daddr != 10.213.0.255 drop"});
}

TEST_CASE("ruleset: a jail without published ports gets no DNAT") {
    auto c = base_config();
    c.jails["db"] = jail("db", "10.213.0.3");
    const std::string s = render_ruleset(c);
    CHECK(chain_rules(s, "prerouting").empty());
    CHECK(chain_rules(s, "forward") ==
          Lines{"oifname \"jaild0\" ct state established,related accept", "oifname \"jaild0\" drop"});
}

TEST_CASE("ruleset: one public address") {
    auto c = base_config();
    c.public_.addresses = {ip("198.51.100.1")};
    auto www = jail("www", "10.213.0.2");
    www.publish = {80, 443};
    c.jails["www"] = www;
    const std::string s = render_ruleset(c);
    const Lines dnat{"ip daddr 198.51.100.1 tcp dport 80 dnat ip to 10.213.0.2:80",
                     "ip daddr 198.51.100.1 tcp dport 443 dnat ip to 10.213.0.2:443"};
    CHECK(chain_rules(s, "prerouting") == dnat);
    CHECK(chain_rules(s, "output_nat") == dnat);
    CHECK(chain_rules(s, "forward") ==
          Lines{"oifname \"jaild0\" ct state established,related accept",
                "oifname \"jaild0\" ip daddr 10.213.0.2 tcp dport { 80, 443 } ct status dnat accept",
                "oifname \"jaild0\" drop"});
}

TEST_CASE("ruleset: several public addresses use an anonymous set") {
    auto c = base_config();
    c.public_.addresses = {ip("198.51.100.1"), ip("203.0.113.7")};
    auto www = jail("www", "10.213.0.2");
    www.publish = {80};
    c.jails["www"] = www;
    const std::string s = render_ruleset(c);
    CHECK(chain_rules(s, "prerouting") ==
          Lines{"ip daddr { 198.51.100.1, 203.0.113.7 } tcp dport 80 dnat ip to 10.213.0.2:80"});
    CHECK(chain_rules(s, "forward")[1] ==
          "oifname \"jaild0\" ip daddr 10.213.0.2 tcp dport 80 ct status dnat accept");
}

TEST_CASE("ruleset: no public addresses means every local address but loopback and the bridge") {
    auto c = base_config();
    auto www = jail("www", "10.213.0.2");
    www.publish = {80};
    c.jails["www"] = www;
    const std::string s = render_ruleset(c);
    const Lines dnat{"fib daddr type local ip daddr != 127.0.0.0/8 ip daddr != 10.213.0.1 tcp dport 80 "
                     "dnat ip to 10.213.0.2:80"};
    CHECK(chain_rules(s, "prerouting") == dnat);
    CHECK(chain_rules(s, "output_nat") == dnat);
}

TEST_CASE("ruleset: several jails, accept allow-lists, host_access and host_ports") {
    auto c = base_config();
    c.bridge.name = "br-test";
    c.bridge.address = cidr_of("10.213.4.1/22");
    c.public_.addresses = {ip("198.51.100.1")};
    auto www = jail("www", "10.213.4.2");
    www.publish = {80};
    www.host_ports = {53};
    auto db = jail("db", "10.213.4.3");
    db.accept = {{"www", {5432}}, {"app", {5432, 6432}}};
    db.host_access = {5432};
    auto app = jail("app", "10.213.4.4");
    app.publish = {8080};
    app.host_ports = {53, 8125};
    app.host_access = {9000, 9001};
    c.jails = {{"www", www}, {"db", db}, {"app", app}};
    const std::string s = render_ruleset(c);

    // Jails in name order (app, db, www).
    CHECK(chain_rules(s, "prerouting") ==
          Lines{"ip daddr 198.51.100.1 tcp dport 8080 dnat ip to 10.213.4.4:8080",
                "ip daddr 198.51.100.1 tcp dport 80 dnat ip to 10.213.4.2:80"});
    CHECK(chain_rules(s, "postrouting") ==
          Lines{"ip saddr 10.213.4.0/22 oifname != \"br-test\" masquerade",
                "ip saddr 10.213.4.0/22 ip daddr 10.213.4.0/22 ct status dnat oifname \"br-test\" masquerade"});
    CHECK(chain_rules(s, "forward") ==
          Lines{"oifname \"br-test\" ct state established,related accept",
                "oifname \"br-test\" ip daddr 10.213.4.4 tcp dport 8080 ct status dnat accept",
                "oifname \"br-test\" ip daddr 10.213.4.2 tcp dport 80 ct status dnat accept",
                "iifname \"br-test\" oifname \"br-test\" ip saddr 10.213.4.2 ip daddr 10.213.4.3 tcp dport 5432 accept",
                "iifname \"br-test\" oifname \"br-test\" ip saddr 10.213.4.4 ip daddr 10.213.4.3 tcp dport { 5432, 6432 } accept",
                "oifname \"br-test\" drop"});
    CHECK(chain_rules(s, "input") ==
          Lines{"iifname \"br-test\" ct state established,related accept",
                "iifname \"br-test\" ip saddr 10.213.4.4 ip daddr 10.213.4.1 tcp dport { 53, 8125 } accept",
                "iifname \"br-test\" ip saddr 10.213.4.2 ip daddr 10.213.4.1 tcp dport 53 accept",
                "iifname \"br-test\" drop"});
    CHECK(chain_rules(s, "output") ==
          Lines{"oifname \"br-test\" ct state established,related accept",
                "oifname \"br-test\" ct status dnat accept", "meta mark 0x6a61696c accept",
                "oifname \"br-test\" ip daddr 10.213.4.4 tcp dport { 9000, 9001 } accept",
                "oifname \"br-test\" ip daddr 10.213.4.3 tcp dport 5432 accept",
                "oifname \"br-test\" ip daddr != 10.213.7.255 drop"});
}

TEST_CASE("ruleset: rendering is deterministic") {
    auto c = jaild::net::test::www_db_config();
    CHECK(render_ruleset(c) == render_ruleset(c));
}

TEST_CASE("ruleset: optional table comment comes first in the table") {
    const std::string s = render_ruleset(base_config(), "jaild: net.ipv4.ip_forward was 0 before jaild started");
    CHECK(s.find("table inet jaild {\n\tcomment \"jaild: net.ipv4.ip_forward was 0 before jaild started\"\n\tchain prerouting {") !=
          std::string::npos);
    CHECK(render_ruleset(base_config()).find("comment") == std::string::npos);
}

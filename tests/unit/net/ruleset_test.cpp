// render_ruleset: exact rule lines for each configuration feature, and (firewall_test.cpp)
// that libnftables accepts the script.
#include <catch2/catch.hpp>

#include <algorithm>
#include <sstream>

#include "net/links.hpp"
#include "net/ruleset.hpp"
#include "net_test_config.hpp"

using namespace jaild;
using jaild::net::render_ruleset;
using jaild::net::test::base_config;
using jaild::net::test::cidr_of;
using jaild::net::test::ip;
using jaild::net::test::jail;

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

const std::string kBlocked =
    "{ 0.0.0.0/8, 10.0.0.0/8, 100.64.0.0/10, 127.0.0.0/8, 169.254.0.0/16, 172.16.0.0/12, "
    "192.0.0.0/24, 192.168.0.0/16, 198.18.0.0/15, 224.0.0.0/4, 240.0.0.0/4 }";

// The forward chain: IPv6 and foreign sources first, then `middle` (the rules about traffic
// into the bridge), then egress and the not-a-router drop.
Lines forward_chain(const std::string& br, const std::string& jails, const Lines& middle,
                    const Lines& allow = {}, bool router_drop = true) {
    Lines out{"iifname \"" + br + "\" meta nfproto ipv6 drop",
              "oifname \"" + br + "\" meta nfproto ipv6 drop",
              jails.empty() ? "iifname \"" + br + "\" drop"
                            : "iifname \"" + br + "\" ip saddr != " + jails + " drop",
              "oifname \"" + br + "\" ct state established,related accept"};
    out.insert(out.end(), middle.begin(), middle.end());
    out.push_back("oifname \"" + br + "\" drop");
    out.push_back("iifname \"" + br + "\" ct state established,related accept");
    out.insert(out.end(), allow.begin(), allow.end());
    out.push_back("iifname \"" + br + "\" ip daddr " + kBlocked + " drop");
    if (router_drop)
        out.push_back("meta nfproto ipv4 iifname != \"" + br + "\" oifname != \"" + br + "\" drop");
    return out;
}

// `chain` (a forward_chain) with the published ports' counter rules before the
// established accept, as they are rendered when jails publish.
Lines with_counters(Lines chain, const std::string& map) {
    chain.insert(chain.begin() + 3,
                 {"ct status dnat counter name ip daddr . tcp dport map " + map,
                  "ct status dnat counter name ip saddr . tcp sport map " + map});
    return chain;
}

}  // namespace

TEST_CASE("ruleset: replaces the whole table atomically and declares every chain") {
    const std::string s = render_ruleset(base_config());
    CHECK(s.rfind("add table inet jaild\ndelete table inet jaild\ntable inet jaild {\n", 0) == 0);
    CHECK(chain_head(s, "prerouting") ==
          "type nat hook prerouting priority dstnat; policy accept;");
    CHECK(chain_head(s, "output_nat") == "type nat hook output priority -100; policy accept;");
    CHECK(chain_head(s, "postrouting") ==
          "type nat hook postrouting priority srcnat; policy accept;");
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
    CHECK(chain_rules(s, "postrouting") == Lines{"ip saddr 10.213.0.0/24 ip daddr 10.213.0.0/24 ct "
                                                 "status dnat oifname \"jaild0\" masquerade"});
    CHECK(chain_rules(s, "forward") == forward_chain("jaild0", "", {}));
    CHECK(chain_rules(s, "input") == Lines{"iifname \"jaild0\" ct state established,related accept",
                                           "iifname \"jaild0\" drop"});
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
    CHECK(chain_rules(s, "forward") == forward_chain("jaild0", "10.213.0.3", {}));
    CHECK(chain_rules(s, "postrouting")[0] ==
          "ip saddr 10.213.0.3 oifname != \"jaild0\" masquerade");
}

TEST_CASE("ruleset: one public address, the host's own connections are not redirected by default") {
    auto c = base_config();
    c.public_.addresses = {ip("198.51.100.1")};
    auto www = jail("www", "10.213.0.2");
    www.publish = {80, 443};
    c.jails["www"] = www;
    const std::string s = render_ruleset(c);
    const Lines dnat{
        "ip daddr 198.51.100.1 tcp dport 80 counter name \"jaild_new_www_80\" dnat ip to "
        "10.213.0.2:80",
        "ip daddr 198.51.100.1 tcp dport 443 counter name \"jaild_new_www_443\" dnat ip to "
        "10.213.0.2:443"};
    CHECK(chain_rules(s, "prerouting") == dnat);
    CHECK(chain_rules(s, "output_nat").empty());
    CHECK(chain_rules(s, "forward") ==
          with_counters(forward_chain("jaild0", "10.213.0.2",
                                      {"oifname \"jaild0\" ip daddr 10.213.0.2 tcp "
                                       "dport { 80, 443 } ct status dnat accept"}),
                        "{ 10.213.0.2 . 80 : \"jaild_fwd_www_80\", 10.213.0.2 . 443 : "
                        "\"jaild_fwd_www_443\" }"));
    // Each published port has its pair of named counters in the table.
    for (const char* counter :
         {"jaild_fwd_www_80", "jaild_new_www_80", "jaild_fwd_www_443", "jaild_new_www_443"})
        CHECK(s.find(std::string("\tcounter ") + counter + " { }\n") != std::string::npos);

    SECTION("public.host_connections redirects them too, on the same addresses") {
        c.public_.host_connections = true;
        CHECK(chain_rules(render_ruleset(c), "output_nat") == dnat);
    }
}

TEST_CASE("ruleset: several public addresses use an anonymous set") {
    auto c = base_config();
    c.public_.addresses = {ip("198.51.100.1"), ip("203.0.113.7")};
    auto www = jail("www", "10.213.0.2");
    www.publish = {80};
    c.jails["www"] = www;
    const std::string s = render_ruleset(c);
    CHECK(chain_rules(s, "prerouting") ==
          Lines{"ip daddr { 198.51.100.1, 203.0.113.7 } tcp dport 80 counter name "
                "\"jaild_new_www_80\" dnat ip to 10.213.0.2:80"});
    CHECK(chain_rules(s, "forward")[6] ==
          "oifname \"jaild0\" ip daddr 10.213.0.2 tcp dport 80 ct status dnat accept");
}

TEST_CASE("ruleset: no public address chosen publishes nothing (no DNAT on the host's addresses)") {
    auto c = base_config();
    auto www = jail("www", "10.213.0.2");
    www.publish = {80};
    c.jails["www"] = www;
    c.public_.host_connections = true;
    const std::string s = render_ruleset(c);
    CHECK(chain_rules(s, "prerouting").empty());
    CHECK(chain_rules(s, "output_nat").empty());
    CHECK(s.find("fib daddr") == std::string::npos);
}

TEST_CASE("ruleset: \"all\" means every local address but loopback and the bridge") {
    auto c = base_config();
    c.public_.all_local = true;
    auto www = jail("www", "10.213.0.2");
    www.publish = {80};
    c.jails["www"] = www;
    const std::string s = render_ruleset(c);
    const Lines dnat{
        "fib daddr type local ip daddr != 127.0.0.0/8 ip daddr != 10.213.0.1 tcp dport 80 "
        "counter name \"jaild_new_www_80\" dnat ip to 10.213.0.2:80"};
    CHECK(chain_rules(s, "prerouting") == dnat);
    CHECK(chain_rules(s, "output_nat").empty());
    c.public_.host_connections = true;
    CHECK(chain_rules(render_ruleset(c), "output_nat") == dnat);
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
          Lines{"ip daddr 198.51.100.1 tcp dport 8080 counter name \"jaild_new_app_8080\" dnat "
                "ip to 10.213.4.4:8080",
                "ip daddr 198.51.100.1 tcp dport 80 counter name \"jaild_new_www_80\" dnat ip to "
                "10.213.4.2:80"});
    CHECK(chain_rules(s, "postrouting") ==
          Lines{"ip saddr { 10.213.4.4, 10.213.4.3, 10.213.4.2 } oifname != \"br-test\" masquerade",
                "ip saddr 10.213.4.0/22 ip daddr 10.213.4.0/22 ct status dnat oifname \"br-test\" "
                "masquerade"});
    CHECK(chain_rules(s, "forward") ==
          with_counters(
              forward_chain(
                  "br-test", "{ 10.213.4.4, 10.213.4.3, 10.213.4.2 }",
                  {"oifname \"br-test\" ip daddr 10.213.4.4 tcp dport 8080 ct status dnat accept",
                   "oifname \"br-test\" ip daddr 10.213.4.2 tcp dport 80 ct status dnat accept",
                   "iifname \"br-test\" oifname \"br-test\" ip saddr 10.213.4.2 ip daddr "
                   "10.213.4.3 tcp dport 5432 accept",
                   "iifname \"br-test\" oifname \"br-test\" ip saddr 10.213.4.4 ip daddr "
                   "10.213.4.3 tcp dport { 5432, 6432 } accept"}),
              "{ 10.213.4.4 . 8080 : \"jaild_fwd_app_8080\", 10.213.4.2 . 80 : "
              "\"jaild_fwd_www_80\" }"));
    CHECK(chain_rules(s, "input") ==
          Lines{"iifname \"br-test\" ct state established,related accept",
                "iifname \"br-test\" ip saddr 10.213.4.4 ip daddr 10.213.4.1 tcp dport { 53, 8125 "
                "} accept",
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
    const std::string s =
        render_ruleset(base_config(), {"jaild: net.ipv4.ip_forward was 0 before jaild started"});
    CHECK(s.find("table inet jaild {\n\tcomment \"jaild: net.ipv4.ip_forward was 0 before jaild "
                 "started\"\n\tchain prerouting {") != std::string::npos);
    CHECK(render_ruleset(base_config()).find("comment") == std::string::npos);
}

TEST_CASE("ruleset: egress to the host's other networks is dropped unless the jail allows it") {
    auto c = base_config();
    auto www = jail("www", "10.213.0.2");
    auto app = jail("app", "10.213.0.4");
    app.egress.allow = {cidr_of("192.168.77.0/24"), cidr_of("169.254.169.254/32")};
    c.jails = {{"www", www}, {"app", app}};
    const std::string s = render_ruleset(c);
    CHECK(chain_rules(s, "forward") ==
          forward_chain("jaild0", "{ 10.213.0.4, 10.213.0.2 }", {},
                        {"iifname \"jaild0\" ip saddr 10.213.0.4 ip daddr { 192.168.77.0/24, "
                         "169.254.169.254/32 } accept"}));
    // The test world's "Internet" (a documentation range) is not in the blocked list.
    const auto& blocked = jaild::net::blocked_egress_ranges();
    CHECK(std::find(blocked.begin(), blocked.end(), "169.254.0.0/16") != blocked.end());
    CHECK(std::find(blocked.begin(), blocked.end(), "100.64.0.0/10") != blocked.end());
    CHECK(std::find(blocked.begin(), blocked.end(), "198.51.100.0/24") == blocked.end());
}

TEST_CASE("ruleset: the host forwards only for the jails unless it was a router before") {
    auto c = jaild::net::test::www_db_config();
    const std::string router_drop =
        "meta nfproto ipv4 iifname != \"jaild0\" oifname != \"jaild0\" drop";
    auto rules = chain_rules(render_ruleset(c), "forward");
    CHECK(rules.back() == router_drop);
    jaild::net::RenderOptions was_router;
    was_router.host_forwarded = true;
    rules = chain_rules(render_ruleset(c, was_router), "forward");
    CHECK(std::find(rules.begin(), rules.end(), router_drop) == rules.end());
    CHECK(rules.back() == "iifname \"jaild0\" ip daddr " + kBlocked + " drop");
}

TEST_CASE("ruleset: the bridge table pins each jail port to its MAC, address, IPv4 and ARP") {
    auto c = jaild::net::test::www_db_config();
    const std::string s = render_ruleset(c);
    const auto bridge =
        s.find("add table bridge jaild\ndelete table bridge jaild\ntable bridge jaild {\n");
    REQUIRE(bridge != std::string::npos);
    CHECK(bridge > s.find("table inet jaild {"));  // one script, one transaction
    const std::string b = s.substr(bridge);
    CHECK(chain_head(b, "jail_ports") ==
          "type filter hook prerouting priority -200; policy accept;");
    CHECK(chain_rules(b, "jail_ports") ==
          Lines{"iifname \"jv-db\" ether saddr != 02:6a:0a:d5:00:03 drop",
                "iifname \"jv-db\" arp htype 1 arp ptype ip arp hlen 6 arp plen 4 arp saddr ether "
                "02:6a:0a:d5:00:03 "
                "arp saddr ip 10.213.0.3 accept",
                "iifname \"jv-db\" ip saddr 10.213.0.3 accept", "iifname \"jv-db\" drop",
                "iifname \"jv-www\" ether saddr != 02:6a:0a:d5:00:02 drop",
                "iifname \"jv-www\" arp htype 1 arp ptype ip arp hlen 6 arp plen 4 arp saddr ether "
                "02:6a:0a:d5:00:02 "
                "arp saddr ip 10.213.0.2 accept",
                "iifname \"jv-www\" ip saddr 10.213.0.2 accept", "iifname \"jv-www\" drop"});
    const std::string none = render_ruleset(base_config());
    CHECK(chain_rules(none.substr(none.find("table bridge jaild {")), "jail_ports").empty());
}

TEST_CASE("ruleset: a long jail name uses its hashed veth name in the bridge table") {
    auto c = base_config();
    c.jails["a-very-long-jail-name"] = jail("a-very-long-jail-name", "10.213.0.9");
    const std::string s = render_ruleset(c);
    CHECK(s.find("iifname \"" + jaild::net::host_veth_name("a-very-long-jail-name") + "\" drop") !=
          std::string::npos);
}

TEST_CASE("describe_publishing says which host addresses and connections go to which jail") {
    config::Config c;
    c.bridge.name = "jd0";
    config::JailConfig www;
    www.name = "www";
    www.address = *jaild::parse_ipv4("10.213.0.2");
    www.publish = {80, 443};
    config::JailConfig db;
    db.name = "db";
    db.address = *jaild::parse_ipv4("10.213.0.3");
    c.jails = {{"www", www}, {"db", db}};
    c.public_.addresses = {*jaild::parse_ipv4("203.0.113.10")};
    auto lines = net::describe_publishing(c);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0] ==
          "jail 'www': TCP 80, 443 of 203.0.113.10 go to 10.213.0.2 (the host's own "
          "connections there are not redirected)");
    c.public_.addresses.clear();
    c.public_.all_local = true;
    c.public_.host_connections = true;
    lines = net::describe_publishing(c);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].find("every local address of the host") != std::string::npos);
    CHECK(lines[0].find("are redirected too") != std::string::npos);
}

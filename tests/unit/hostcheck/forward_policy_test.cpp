// The forward-drop analysis on rulesets as libnftables prints them (rulesets/*.json, made with
// nft and iptables-nft 1.8.9 in a scratch network namespace): Docker's and libvirt's typical
// setups, a foreign policy drop, and the rules that do or do not let jail traffic through.
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "hostcheck/forward_policy.hpp"

using namespace jaild;
using namespace jaild::hostcheck;

namespace {

std::string ruleset(const std::string& name) {
    std::ifstream in(std::string(JAILD_RULESETS_DIR) + "/" + name);
    REQUIRE(in);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

const Ipv4Cidr kSubnet = *parse_ipv4_cidr("10.213.0.1/24");

ForwardAnalysis analyse(const std::string& file) {
    auto a = analyse_forward(ruleset(file), "jaild0", kSubnet);
    REQUIRE(a.error.empty());
    return a;
}

Fate fate_of(const ForwardChain& c, Traffic t) {
    for (const auto& f : c.fates)
        if (f.traffic == t) return f.fate;
    FAIL("no fate for that traffic");
    return Fate::accepted;
}

const std::string& because(const ForwardChain& c, Traffic t) {
    for (const auto& f : c.fates)
        if (f.traffic == t) return f.because;
    FAIL("no fate for that traffic");
    return c.chain;
}

}  // namespace

TEST_CASE("forward policy: a foreign chain with policy drop drops every kind of jail traffic") {
    auto a = analyse("foreign_drop.json");
    REQUIRE(a.chains.size() == 1);
    const auto& c = a.chains[0];
    CHECK(c.family == "inet");
    CHECK(c.table == "foreign");
    CHECK(c.chain == "fw");
    CHECK(c.policy == "drop");
    CHECK(c.worst() == Fate::dropped);
    for (auto t : {Traffic::outbound, Traffic::inbound, Traffic::jail_to_jail}) {
        CHECK(fate_of(c, t) == Fate::dropped);
        CHECK(because(c, t) == "policy drop");
    }
    CHECK_THAT(forward_fix(c, "jaild0"),
               Catch::Contains("nft insert rule inet foreign fw iifname \"jaild0\" accept") &&
                   Catch::Contains("oifname \"jaild0\" accept"));
}

TEST_CASE("forward policy: earlier accepts of jaild's bridge let jail traffic through a drop") {
    auto a = analyse("foreign_drop_bridge_allowed.json");
    REQUIRE(a.chains.size() == 1);
    const auto& c = a.chains[0];
    CHECK(c.worst() == Fate::accepted);
    // ct state established,related does not match a new connection: the bridge rules do.
    CHECK_THAT(because(c, Traffic::outbound), Catch::Contains("iifname \"jaild0\" accept"));
    CHECK_THAT(because(c, Traffic::inbound), Catch::Contains("oifname \"jaild0\" accept"));
    CHECK_THAT(because(c, Traffic::jail_to_jail), Catch::Contains("iifname \"jaild0\""));
}

TEST_CASE("forward policy: accepting only what leaves the bridge still drops published ports") {
    auto a = analyse("foreign_drop_outbound_only.json");
    REQUIRE(a.chains.size() == 1);
    const auto& c = a.chains[0];
    CHECK(fate_of(c, Traffic::outbound) == Fate::accepted);
    CHECK(fate_of(c, Traffic::jail_to_jail) == Fate::accepted);
    CHECK(fate_of(c, Traffic::inbound) == Fate::dropped);
    CHECK(c.worst() == Fate::dropped);
}

TEST_CASE("forward policy: Docker's FORWARD DROP (iptables-nft) drops jail traffic") {
    auto a = analyse("docker.json");
    REQUIRE(a.chains.size() == 1);
    const auto& c = a.chains[0];
    CHECK(c.family == "ip");
    CHECK(c.table == "filter");
    CHECK(c.chain == "FORWARD");
    CHECK(c.docker);
    CHECK(c.iptables_nft);
    for (auto t : {Traffic::outbound, Traffic::inbound, Traffic::jail_to_jail})
        CHECK(fate_of(c, t) == Fate::dropped);
    CHECK(because(c, Traffic::outbound) == "policy drop");
    CHECK_THAT(forward_fix(c, "jaild0"),
               Catch::Contains("iptables -I DOCKER-USER -i jaild0 -j ACCEPT") &&
                   Catch::Contains("iptables -I DOCKER-USER -o jaild0 -j ACCEPT"));
}

TEST_CASE("forward policy: Docker with jaild0 accepted in DOCKER-USER passes, naming the rule") {
    auto a = analyse("docker_jaild_allowed.json");
    REQUIRE(a.chains.size() == 1);
    const auto& c = a.chains[0];
    CHECK(c.worst() == Fate::accepted);
    CHECK_THAT(because(c, Traffic::outbound),
               Catch::Contains("chain DOCKER-USER") && Catch::Contains("iifname \"jaild0\""));
    CHECK_THAT(because(c, Traffic::inbound),
               Catch::Contains("chain DOCKER-USER") && Catch::Contains("oifname \"jaild0\""));
}

TEST_CASE("forward policy: libvirt's rules (iptables and nftables backends) do not drop jails") {
    for (const char* file : {"libvirt_iptables.json", "libvirt_nftables.json"}) {
        INFO(file);
        auto a = analyse(file);
        REQUIRE(a.chains.size() == 1);
        CHECK(a.chains[0].worst() == Fate::accepted);
        CHECK(because(a.chains[0], Traffic::outbound) == "policy accept");
    }
}

TEST_CASE("forward policy: jaild's own tables and non-forward hooks are not judged") {
    auto a = analyse("jaild_own_and_clean.json");
    CHECK(a.chains.empty());
}

TEST_CASE("forward policy: jumps, sets, wildcards and the jails' subnet are followed") {
    // iifname { "eth9", "jaild*" } jump allow; counter drop, with allow accepting
    // oifname "jaild0" and ip saddr 10.213.0.0/16.
    auto a = analyse("foreign_accept_then_drop_rule.json");
    REQUIRE(a.chains.size() == 1);
    const auto& c = a.chains[0];
    CHECK(fate_of(c, Traffic::outbound) == Fate::accepted);
    CHECK_THAT(because(c, Traffic::outbound),
               Catch::Contains("rule 'ip saddr 10.213.0.0/16 accept' (handle 7, chain allow)"));
    CHECK(fate_of(c, Traffic::jail_to_jail) == Fate::accepted);
    // From the uplink: only if it is eth9, which jaild cannot know.
    CHECK(fate_of(c, Traffic::inbound) == Fate::may_drop);
    CHECK_THAT(because(c, Traffic::inbound), Catch::Contains("drop"));
}

TEST_CASE("forward policy: rules it cannot judge make a drop uncertain, not a pass") {
    auto accept = analyse("foreign_unknown_accept.json");  // policy drop; tcp dport 80 accept
    REQUIRE(accept.chains.size() == 1);
    CHECK(accept.chains[0].worst() == Fate::may_drop);
    CHECK_THAT(accept.chains[0].fates[0].because,
               Catch::Contains("policy drop") && Catch::Contains("unless"));
    auto drop = analyse("foreign_unknown_drop.json");  // policy accept; tcp dport 25 drop
    REQUIRE(drop.chains.size() == 1);
    CHECK(drop.chains[0].worst() == Fate::may_drop);
}

TEST_CASE("forward policy: a bridge-family forward drop drops traffic between jails") {
    auto a = analyse("bridge_family_drop.json");
    REQUIRE(a.chains.size() == 1);
    CHECK(a.chains[0].family == "bridge");
    CHECK(fate_of(a.chains[0], Traffic::jail_to_jail) == Fate::dropped);
}

TEST_CASE("forward policy: another bridge name is judged by that name") {
    // The rules accept "jaild0"; a jaild on bridge jd0 is not helped by them.
    auto a = analyse_forward(ruleset("foreign_drop_bridge_allowed.json"), "jd0", kSubnet);
    REQUIRE(a.chains.size() == 1);
    CHECK(a.chains[0].worst() == Fate::dropped);
}

TEST_CASE("forward policy: unreadable JSON is an error, not a pass") {
    auto a = analyse_forward("{not json", "jaild0", kSubnet);
    CHECK_FALSE(a.error.empty());
    CHECK(a.chains.empty());
}

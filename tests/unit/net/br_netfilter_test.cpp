// The refusal when br_netfilter is missing, and the jail MAC jaild derives from an address.
#include <catch2/catch.hpp>

#include "net/br_netfilter.hpp"
#include "net/jail_mac.hpp"

using namespace jaild;

TEST_CASE("br_netfilter: missing module refuses with the fix") {
    auto r = net::require_br_netfilter("/nonexistent/jaild-test/bridge-nf-call-iptables");
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message,
               Catch::Contains("br_netfilter is not loaded") &&
                   Catch::Contains("/nonexistent/jaild-test/bridge-nf-call-iptables") &&
                   Catch::Contains("modprobe br_netfilter") &&
                   Catch::Contains("/etc/modules-load.d/"));
    CHECK(net::require_br_netfilter("/").ok());  // present
}

TEST_CASE("jail MAC: locally administered, unicast, derived from the address") {
    const auto mac = net::mac_for_address(*parse_ipv4("10.213.0.2"));
    CHECK(net::mac_string(mac) == "02:6a:0a:d5:00:02");
    CHECK((mac[0] & 0x02) == 0x02);  // locally administered
    CHECK((mac[0] & 0x01) == 0);     // unicast
    CHECK(net::mac_string(net::mac_for_address(*parse_ipv4("192.168.255.254"))) ==
          "02:6a:c0:a8:ff:fe");
}

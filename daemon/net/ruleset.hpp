// The nftables ruleset of jaild, rendered as nft script text from the configuration.
// Pure: no system access. firewall.hpp applies the result with libnftables.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace jaild::net {

// jaild owns exactly two tables, `table inet jaild` and `table bridge jaild`, and never
// touches any other.
inline constexpr const char* kTableName = "jaild";
// jaild's own health-probe sockets set SO_MARK to this; host->jail traffic carrying it is
// accepted by the `output` chain even for ports not listed in host_access.
inline constexpr std::uint32_t kProbeMark = 0x6a61696c;  // "jail"

// Destinations a jail's traffic leaving the bridge may not reach unless its egress.allow
// lists them: "this network", RFC 1918, CGNAT (RFC 6598), loopback, link-local (cloud
// metadata 169.254.169.254), IETF protocol assignments, benchmarking, multicast, reserved and
// broadcast. The documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24) are not
// routed anywhere and stay open (the test world's "Internet" is one of them).
const std::vector<std::string>& blocked_egress_ranges();

struct RenderOptions {
    // If not empty, the inet table's comment (jaild keeps the ip_forward value it found
    // there, so a jaild restarted after a crash can still restore it). No double quote.
    std::string table_comment;
    // net.ipv4.ip_forward was already 1 before jaild: the host is a router by its admin's
    // choice, so jaild does not drop forwarded traffic that neither comes from nor goes to
    // its bridge. Otherwise it does: jaild enables ip_forward for its jails only.
    bool host_forwarded = false;
};

// A complete nft script that atomically replaces both tables:
//   "add table inet jaild\ndelete table inet jaild\ntable inet jaild { ... }\n"
//   "add table bridge jaild\ndelete table bridge jaild\ntable bridge jaild { ... }\n"
// (add+delete makes the delete succeed whether or not the table exists; libnftables runs the
// whole buffer as one transaction, so there is no moment without rules.)
std::string render_ruleset(const config::Config& config, const RenderOptions& options = {});

// The named counters (nftables counter objects in `inet jaild`) of one published port:
// "jaild_fwd_<jail>_<port>" counts the packets and bytes, both ways, of connections DNAT'd to
// it and forwarded; "jaild_new_<jail>_<port>" the connections DNAT'd (the nat chains see only
// a connection's first packet). Jail names are [a-z][a-z0-9-]*, valid in nft identifiers.
std::string forwarded_counter_name(const std::string& jail, int port);
std::string connections_counter_name(const std::string& jail, int port);

// What the rules publish, one sentence per publishing jail, for the log at start and reload:
// "jail 'www': TCP 80, 443 of 203.0.113.10 go to 10.213.0.2 (the host's own connections
// there are not redirected)". Empty when no jail publishes.
std::vector<std::string> describe_publishing(const config::Config& config);

}  // namespace jaild::net

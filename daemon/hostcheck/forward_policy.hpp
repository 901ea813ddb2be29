// Would another program's firewall drop the jails' forwarded traffic? Pure: judges the
// nftables ruleset as libnftables prints it in JSON (`nft -j list ruleset`).
//
// nftables semantics this rests on: every base chain on the forward hook is evaluated, in
// every table; an `accept` ends only its own base chain, a `drop` anywhere is final. So
// jaild's own `accept` cannot save a packet that another table's chain drops (Docker's and
// libvirt's FORWARD chains through iptables-nft are such tables), and the question is asked of
// each foreign base chain on its own: does it accept, return to an accepting policy, or drop
// a new connection of each kind of jail traffic:
//   outbound   from a jail to another network  (iifname BRIDGE, oifname the uplink)
//   inbound    to a jail (published ports)     (iifname the uplink, oifname BRIDGE)
//   jail-jail  between two jails (br_netfilter) (iifname BRIDGE, oifname BRIDGE)
// Matches it understands: meta iifname/oifname/iif/oif (names, wildcards, sets), ct state,
// ip saddr/daddr against the jails' subnet, meta nfproto; verdicts accept, drop, reject,
// jump, goto, return and iptables-nft's REJECT/DROP targets. Anything else makes the rule's
// match unknown: an unknown rule that would accept is not relied on, one that would drop makes
// the verdict "may drop" (a warning). The uplink's name is not known: a match on a specific
// name is unknown, except the names of other software's bridges (docker*, br-*, virbr*,
// veth*, lxcbr*, cni*), which the uplink is taken not to be.
#pragma once

#include <string>
#include <vector>

#include "jaild/ipv4.hpp"

namespace jaild::hostcheck {

enum class Traffic { outbound, inbound, jail_to_jail };
const char* describe(Traffic t);

enum class Fate { accepted, dropped, may_drop };

struct TrafficFate {
    Traffic traffic;
    Fate fate;
    std::string because;  // "policy drop", "rule 'iifname "jaild0" accept' (handle 7, chain X)"
};

// One foreign base chain on the forward hook and what it does to jail traffic.
struct ForwardChain {
    std::string family, table, chain;
    std::string policy;  // "accept" | "drop"
    std::vector<TrafficFate> fates;
    bool iptables_nft = false;  // an iptables-nft table (`table ip filter` + FORWARD ...)
    bool docker = false;        // has Docker's DOCKER-USER chain
    Fate worst() const;
};

struct ForwardAnalysis {
    std::vector<ForwardChain> chains;  // foreign base chains on the forward hook only
    std::string error;                 // the JSON could not be read (then chains is empty)
};

// `own_tables`: the names of jaild's tables (skipped in families inet and bridge).
ForwardAnalysis analyse_forward(const std::string& ruleset_json, const std::string& bridge,
                                const Ipv4Cidr& jail_subnet,
                                const std::string& own_table = "jaild");

// The commands that let jail traffic through `chain` (jaild's own table still filters it).
std::string forward_fix(const ForwardChain& chain, const std::string& bridge);

}  // namespace jaild::hostcheck

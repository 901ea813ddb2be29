// Renders `table inet jaild` and `table bridge jaild`. Why an `inet` table with these chains:
//  - NAT needs conntrack, and so does stateful filtering between jails. The kernel has no
//    nf_conntrack_bridge, but br_netfilter sends bridged IPv4 frames through the inet
//    `forward` hook, so jail<->jail filtering lives there too. We never toggle the global
//    bridge-nf-call-iptables (Docker/libvirt rely on it); see the bridge attribute below.
//    For bridged and routed frames alike that hook sees the bridge, not the jail's port, as
//    iifname: hence the port pinning in the bridge table, which makes `ip saddr` trustworthy.
//  - Every base chain has policy accept: other tables' chains on the same hooks still run,
//    and jaild must never turn into a global firewall for the host. Drops are scoped to
//    traffic entering (`oifname BR`) or leaving (`iifname BR`) the jails' bridge.
//    jaild makes sure br_netfilter runs for its bridge by setting the bridge's own
//    nf_call_iptables attribute (links.hpp), which the kernel honours whatever the sysctl says.
//  - Addresses are only worth filtering on if a jail cannot forge them: `table bridge jaild`
//    pins every jail's bridge port (its host-side veth, which the jail cannot rename) to the
//    jail's MAC and IPv4 address and to IPv4 + ARP, before br_netfilter and routing see the
//    frame (bridge prerouting, priority -200). After that, `ip saddr A` in the inet table
//    means "came from jail A's port".
//  - Traffic leaving the bridge for anything but the public Internet (the host's LAN, VPNs,
//    link-local metadata services) is dropped unless the jail's egress.allow lists it.
//  - The host is no router because of jaild: forwarding that neither comes from nor goes to
//    the bridge is dropped, unless the host forwarded before jaild started.
//  - Chain names avoid nft keywords (`fwd` is one), and the nat `output` hook uses the number
//    -100 because nft 1.0.6 refuses the symbolic `dstnat` there.
#include "net/ruleset.hpp"

#include <cstdio>
#include <sstream>
#include <vector>

#include "net/jail_mac.hpp"
#include "net/links.hpp"

namespace jaild::net {
namespace {

std::string quoted(const std::string& s) {
    return "\"" + s + "\"";
}

// "80" or "{ 80, 443 }": an anonymous set keeps one rule per jail instead of one per port.
std::string port_match(const std::vector<int>& ports) {
    if (ports.size() == 1) return std::to_string(ports.front());
    std::string out = "{ ";
    for (std::size_t i = 0; i < ports.size(); ++i) {
        if (i) out += ", ";
        out += std::to_string(ports[i]);
    }
    return out + " }";
}

// "{ a, b }" (or "a" alone) for anonymous sets of any strings.
std::string set_of(const std::vector<std::string>& items) {
    if (items.size() == 1) return items.front();
    std::string out = "{ ";
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i) out += ", ";
        out += items[i];
    }
    return out + " }";
}

std::string hex(std::uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08x", v);
    return buf;
}

class Renderer {
  public:
    Renderer(const config::Config& c, const RenderOptions& options)
        : c_(c),
          comment_(options.table_comment),
          host_forwarded_(options.host_forwarded),
          br_(quoted(c.bridge.name)),
          br_addr_(c.bridge.address.address.str()),
          subnet_(c.bridge.address.network_str()) {}

    std::string render() {
        out_ << "add table inet " << kTableName << "\n"
             << "delete table inet " << kTableName << "\n"
             << "table inet " << kTableName << " {\n";
        if (!comment_.empty()) out_ << "\tcomment " << quoted(comment_) << "\n";
        port_counters();
        chain("prerouting", "type nat hook prerouting priority dstnat; policy accept;",
              dnat_rules());
        // Connections the host itself makes to a public address are not seen by prerouting;
        // they are redirected only when public.host_connections says so.
        chain("output_nat", "type nat hook output priority -100; policy accept;",
              c_.public_.host_connections ? dnat_rules() : std::vector<std::string>{});
        chain("postrouting", "type nat hook postrouting priority srcnat; policy accept;",
              postrouting_rules());
        chain("forward", "type filter hook forward priority filter; policy accept;",
              forward_rules());
        chain("input", "type filter hook input priority filter; policy accept;", input_rules());
        chain("output", "type filter hook output priority filter; policy accept;", output_rules());
        out_ << "}\n";
        render_bridge_table();
        return out_.str();
    }

  private:
    void chain(const char* name, const char* head, const std::vector<std::string>& rules) {
        out_ << "\tchain " << name << " {\n\t\t" << head << "\n";
        for (const auto& r : rules) out_ << "\t\t" << r << "\n";
        out_ << "\t}\n";
    }

    // Which destination addresses count as "public"; empty: none (nothing is published).
    std::string public_match() const {
        const auto& pubs = c_.public_.addresses;
        if (c_.public_.all_local) {
            // Every local address except loopback and the bridge's own (jails reach the host
            // on the bridge address only through host_ports).
            return "fib daddr type local ip daddr != 127.0.0.0/8 ip daddr != " + br_addr_;
        }
        if (pubs.empty()) return "";
        if (pubs.size() == 1) return "ip daddr " + pubs.front().str();
        std::string set = "ip daddr { ";
        for (std::size_t i = 0; i < pubs.size(); ++i) {
            if (i) set += ", ";
            set += pubs[i].str();
        }
        return set + " }";
    }

    // One pair of named counters per published port (for the metrics: counters change
    // nothing in what passes).
    void port_counters() {
        for (const auto& [name, jail] : c_.jails) {
            for (int port : jail.publish) {
                out_ << "\tcounter " << forwarded_counter_name(name, port) << " { }\n";
                out_ << "\tcounter " << connections_counter_name(name, port) << " { }\n";
            }
        }
    }

    // The forwarded traffic of published ports, both ways, into their named counters: two
    // rules whatever the number of ports (a map from address . port to the counter).
    std::vector<std::string> port_counter_rules() const {
        std::vector<std::string> entries;
        for (const auto& [name, jail] : c_.jails)
            for (int port : jail.publish)
                entries.push_back(jail.address.str() + " . " + std::to_string(port) + " : " +
                                  quoted(forwarded_counter_name(name, port)));
        if (entries.empty()) return {};
        std::string map = "{ ";
        for (std::size_t i = 0; i < entries.size(); ++i) map += (i ? ", " : "") + entries[i];
        map += " }";
        return {"ct status dnat counter name ip daddr . tcp dport map " + map,
                "ct status dnat counter name ip saddr . tcp sport map " + map};
    }

    std::vector<std::string> dnat_rules() const {
        std::vector<std::string> rules;
        const std::string match = public_match();
        if (match.empty()) return rules;
        for (const auto& [name, jail] : c_.jails) {
            for (int port : jail.publish) {
                const std::string p = std::to_string(port);
                rules.push_back(match + " tcp dport " + p + " counter name " +
                                quoted(connections_counter_name(name, port)) + " dnat ip to " +
                                jail.address.str() + ":" + p);
            }
        }
        return rules;
    }

    // The jails' addresses as an nft set expression; empty when there are no jails.
    std::string jail_addresses() const {
        std::vector<std::string> addresses;
        for (const auto& [name, jail] : c_.jails) addresses.push_back(jail.address.str());
        return addresses.empty() ? "" : set_of(addresses);
    }

    std::vector<std::string> postrouting_rules() const {
        std::vector<std::string> rules;
        // Jails reach the outside world with the host's address: only the jails' own
        // addresses, so no other source is ever turned into the host's (the forward chain
        // drops them anyway).
        if (const std::string jails = jail_addresses(); !jails.empty())
            rules.push_back("ip saddr " + jails + " oifname != " + br_ + " masquerade");
        // Hairpin: a jail using a public address to reach a (possibly its own) published
        // port. Without masquerading, the reply would go straight back over the bridge with
        // the wrong source address.
        rules.push_back("ip saddr " + subnet_ + " ip daddr " + subnet_ +
                        " ct status dnat oifname " + br_ + " masquerade");
        return rules;
    }

    std::vector<std::string> forward_rules() const {
        std::vector<std::string> rules;
        // IPv6 never crosses jaild's bridge (jails have it disabled; the bridge table drops it).
        rules.push_back("iifname " + br_ + " meta nfproto ipv6 drop");
        rules.push_back("oifname " + br_ + " meta nfproto ipv6 drop");
        // No source other than a jail's own address leaves the bridge (defence in depth: the
        // bridge table already pins each port to its jail's address).
        if (const std::string jails = jail_addresses(); jails.empty())
            rules.push_back("iifname " + br_ + " drop");
        else
            rules.push_back("iifname " + br_ + " ip saddr != " + jails + " drop");
        for (auto& rule : port_counter_rules()) rules.push_back(std::move(rule));
        rules.push_back("oifname " + br_ + " ct state established,related accept");
        for (const auto& [name, jail] : c_.jails) {
            if (jail.publish.empty()) continue;
            // Only connections that came in through our DNAT, not the jail's address directly.
            rules.push_back("oifname " + br_ + " ip daddr " + jail.address.str() + " tcp dport " +
                            port_match(jail.publish) + " ct status dnat accept");
        }
        for (const auto& [name, jail] : c_.jails) {
            for (const auto& rule : jail.accept) {
                auto from = c_.jails.find(rule.from);
                if (from == c_.jails.end() || rule.ports.empty()) continue;  // validated earlier
                rules.push_back("iifname " + br_ + " oifname " + br_ + " ip saddr " +
                                from->second.address.str() + " ip daddr " + jail.address.str() +
                                " tcp dport " + port_match(rule.ports) + " accept");
            }
        }
        // Anything else into the bridge: the outside reaching jail addresses directly, and
        // jail->jail traffic not allowed by an accept rule. Jails -> outside falls through to
        // the chain's accept policy.
        rules.push_back("oifname " + br_ + " drop");
        // Jails -> outside. Replies to connections that came in (e.g. a LAN client of a
        // published port) pass; new connections to the host's other networks only if allowed.
        rules.push_back("iifname " + br_ + " ct state established,related accept");
        for (const auto& [name, jail] : c_.jails) {
            if (jail.egress.allow.empty()) continue;
            std::vector<std::string> allowed;
            for (const auto& cidr : jail.egress.allow) allowed.push_back(cidr.network_str());
            rules.push_back("iifname " + br_ + " ip saddr " + jail.address.str() + " ip daddr " +
                            set_of(allowed) + " accept");
        }
        rules.push_back("iifname " + br_ + " ip daddr " + set_of(blocked_egress_ranges()) +
                        " drop");
        // Everything else from the bridge goes to the Internet (policy accept). Traffic
        // neither from nor to the bridge: jaild turned ip_forward on for its jails only.
        if (!host_forwarded_)
            rules.push_back("meta nfproto ipv4 iifname != " + br_ + " oifname != " + br_ + " drop");
        return rules;
    }

    std::vector<std::string> input_rules() const {
        std::vector<std::string> rules;
        rules.push_back("iifname " + br_ + " ct state established,related accept");
        for (const auto& [name, jail] : c_.jails) {
            if (jail.host_ports.empty()) continue;
            rules.push_back("iifname " + br_ + " ip saddr " + jail.address.str() + " ip daddr " +
                            br_addr_ + " tcp dport " + port_match(jail.host_ports) + " accept");
        }
        // Jails may not open connections to the host's own services unless listed.
        rules.push_back("iifname " + br_ + " drop");
        return rules;
    }

    std::vector<std::string> output_rules() const {
        std::vector<std::string> rules;
        rules.push_back("oifname " + br_ + " ct state established,related accept");
        // The host's own connections to a published port through a public address.
        rules.push_back("oifname " + br_ + " ct status dnat accept");
        // jaild's health probes.
        rules.push_back("meta mark " + hex(kProbeMark) + " accept");
        for (const auto& [name, jail] : c_.jails) {
            if (jail.host_access.empty()) continue;
            rules.push_back("oifname " + br_ + " ip daddr " + jail.address.str() + " tcp dport " +
                            port_match(jail.host_access) + " accept");
        }
        // The host cannot open connections into jails unless allowed; broadcasts stay allowed.
        rules.push_back("oifname " + br_ + " ip daddr != " + c_.bridge.address.broadcast().str() +
                        " drop");
        return rules;
    }

    // table bridge jaild: each jail's port may only carry frames from the jail's own MAC,
    // and only IPv4 from its own address and ARP naming its own MAC and address.
    void render_bridge_table() {
        out_ << "add table bridge " << kTableName << "\n"
             << "delete table bridge " << kTableName << "\n"
             << "table bridge " << kTableName << " {\n";
        std::vector<std::string> rules;
        for (const auto& [name, jail] : c_.jails) {
            const std::string port = "iifname " + quoted(host_veth_name(name));
            const std::string mac = mac_string(mac_for_address(jail.address));
            const std::string ip = jail.address.str();
            rules.push_back(port + " ether saddr != " + mac + " drop");
            rules.push_back(port +
                            " arp htype 1 arp ptype ip arp hlen 6 arp plen 4 arp saddr ether " +
                            mac + " arp saddr ip " + ip + " accept");
            rules.push_back(port + " ip saddr " + ip + " accept");
            rules.push_back(port + " drop");  // IPv6, VLAN tags, forged ARP/IPv4, anything else
        }
        chain("jail_ports", "type filter hook prerouting priority -200; policy accept;", rules);
        out_ << "}\n";
    }

    const config::Config& c_;
    std::string comment_;
    bool host_forwarded_ = false;
    std::string br_;
    std::string br_addr_;
    std::string subnet_;
    std::ostringstream out_;
};

}  // namespace

const std::vector<std::string>& blocked_egress_ranges() {
    static const std::vector<std::string> ranges = {
        "0.0.0.0/8",      "10.0.0.0/8",    "100.64.0.0/10", "127.0.0.0/8",
        "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",  "192.168.0.0/16",
        "198.18.0.0/15",  "224.0.0.0/4",   "240.0.0.0/4"};
    return ranges;
}

std::string render_ruleset(const config::Config& config, const RenderOptions& options) {
    return Renderer(config, options).render();
}

std::string forwarded_counter_name(const std::string& jail, int port) {
    return "jaild_fwd_" + jail + "_" + std::to_string(port);
}

std::string connections_counter_name(const std::string& jail, int port) {
    return "jaild_new_" + jail + "_" + std::to_string(port);
}

std::vector<std::string> describe_publishing(const config::Config& config) {
    const auto& pub = config.public_;
    std::string where;
    if (pub.all_local) {
        where = "every local address of the host (LAN and VPN addresses included)";
    } else {
        for (const auto& a : pub.addresses) where += (where.empty() ? "" : ", ") + a.str();
    }
    const std::string host = pub.host_connections
                                 ? "the host's own connections there are redirected too"
                                 : "the host's own connections there are not redirected";
    std::vector<std::string> out;
    for (const auto& [name, jail] : config.jails) {
        if (jail.publish.empty()) continue;
        std::string ports;
        for (int p : jail.publish) ports += (ports.empty() ? "" : ", ") + std::to_string(p);
        out.push_back("jail '" + name + "': TCP " + ports + " of " + where + " go to " +
                      jail.address.str() + " (" + host + ")");
    }
    return out;
}

}  // namespace jaild::net

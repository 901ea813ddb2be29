// Renders `table inet jaild`. Why an `inet` table with these chains:
//  - NAT needs conntrack, and so does stateful filtering between jails. The kernel has no
//    nf_conntrack_bridge, but br_netfilter (built in, bridge-nf-call-iptables=1) sends bridged
//    IPv4 frames through the inet `forward` hook, so jail<->jail filtering lives there too.
//    We never toggle bridge-nf-call-iptables: it is global and Docker/libvirt rely on it.
//  - Every base chain has policy accept: other tables' chains on the same hooks still run,
//    and jaild must never turn into a global firewall for the host. Drops are scoped to
//    traffic entering (`oifname BR`) or leaving (`iifname BR`) the jails' bridge.
//  - Chain names avoid nft keywords (`fwd` is one), and the nat `output` hook uses the number
//    -100 because nft 1.0.6 refuses the symbolic `dstnat` there.
#include "net/ruleset.hpp"

#include <cstdio>
#include <sstream>
#include <vector>

namespace jaild::net {
namespace {

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

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

std::string hex(std::uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08x", v);
    return buf;
}

class Renderer {
public:
    Renderer(const config::Config& c, const std::string& comment)
        : c_(c),
          comment_(comment),
          br_(quoted(c.bridge.name)),
          br_addr_(c.bridge.address.address.str()),
          subnet_(c.bridge.address.network_str()) {}

    std::string render() {
        out_ << "add table inet " << kTableName << "\n"
             << "delete table inet " << kTableName << "\n"
             << "table inet " << kTableName << " {\n";
        if (!comment_.empty()) out_ << "\tcomment " << quoted(comment_) << "\n";
        chain("prerouting", "type nat hook prerouting priority dstnat; policy accept;", dnat_rules());
        // Connections the host itself makes to a public address are not seen by prerouting.
        chain("output_nat", "type nat hook output priority -100; policy accept;", dnat_rules());
        chain("postrouting", "type nat hook postrouting priority srcnat; policy accept;",
              postrouting_rules());
        chain("forward", "type filter hook forward priority filter; policy accept;",
              forward_rules());
        chain("input", "type filter hook input priority filter; policy accept;", input_rules());
        chain("output", "type filter hook output priority filter; policy accept;",
              output_rules());
        out_ << "}\n";
        return out_.str();
    }

private:
    void chain(const char* name, const char* head, const std::vector<std::string>& rules) {
        out_ << "\tchain " << name << " {\n\t\t" << head << "\n";
        for (const auto& r : rules) out_ << "\t\t" << r << "\n";
        out_ << "\t}\n";
    }

    // Which destination addresses count as "public".
    std::string public_match() const {
        const auto& pubs = c_.public_.addresses;
        if (pubs.empty()) {
            // Every local address except loopback and the bridge's own (jails reach the host
            // on the bridge address only through host_ports).
            return "fib daddr type local ip daddr != 127.0.0.0/8 ip daddr != " + br_addr_;
        }
        if (pubs.size() == 1) return "ip daddr " + pubs.front().str();
        std::string set = "ip daddr { ";
        for (std::size_t i = 0; i < pubs.size(); ++i) {
            if (i) set += ", ";
            set += pubs[i].str();
        }
        return set + " }";
    }

    std::vector<std::string> dnat_rules() const {
        std::vector<std::string> rules;
        const std::string match = public_match();
        for (const auto& [name, jail] : c_.jails) {
            for (int port : jail.publish) {
                const std::string p = std::to_string(port);
                rules.push_back(match + " tcp dport " + p + " dnat ip to " + jail.address.str() +
                                ":" + p);
            }
        }
        return rules;
    }

    std::vector<std::string> postrouting_rules() const {
        return {
            // Jails reach the outside world with the host's address.
            "ip saddr " + subnet_ + " oifname != " + br_ + " masquerade",
            // Hairpin: a jail using a public address to reach a (possibly its own) published
            // port. Without masquerading, the reply would go straight back over the bridge
            // with the wrong source address.
            "ip saddr " + subnet_ + " ip daddr " + subnet_ + " ct status dnat oifname " + br_ +
                " masquerade",
        };
    }

    std::vector<std::string> forward_rules() const {
        std::vector<std::string> rules;
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

    const config::Config& c_;
    std::string comment_;
    std::string br_;
    std::string br_addr_;
    std::string subnet_;
    std::ostringstream out_;
};

}  // namespace

std::string render_ruleset(const config::Config& config, const std::string& table_comment) {
    return Renderer(config, table_comment).render();
}

}  // namespace jaild::net

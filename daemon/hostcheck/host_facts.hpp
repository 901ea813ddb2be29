// What the host checks look at, gathered once by a HostProbe and judged by run_checks()
// (checks.hpp), which is pure. Plain data: a test states a host by filling one in.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "jaild/ipv4.hpp"

namespace jaild::hostcheck {

// Free space where jaild writes big things (jail roots, the debootstrap cache).
struct DiskSpace {
    std::string what;  // "jail roots (www, db)", "provisioning cache"
    std::string path;  // the directory, or its nearest existing ancestor that was measured
    std::optional<std::uint64_t> free_bytes;  // nullopt: statvfs failed (see error)
    std::string error;
    bool provisioned = false;  // roots there are built by `jailctl provision` (need the most)
};

struct HostFacts {
    bool is_root = true;

    std::string firejail_path;
    bool firejail_executable = false;
    std::string firejail_version;  // first line of `firejail --version`; "" if unknown
    std::string firejail_config_path;
    std::optional<std::string> firejail_config_text;  // nullopt: unreadable

    // Kernel features the isolation needs.
    bool net_namespaces = false;  // /proc/self/ns/net
    bool br_netfilter = false;    // /proc/sys/net/bridge/bridge-nf-call-iptables exists
    bool nf_tables = false;       // libnftables could list the ruleset
    std::string nf_tables_error;  // why not

    // jaild's own ruleset for the configuration, sent to the kernel in a dry run (like nft -c:
    // libnftables sends the batch without its end message, so the kernel checks every
    // message - expressions, chain types, objects - and then aborts it; checks made only at
    // commit, such as jump loops, are not made): proves the kernel has the nftables features
    // jaild uses (nat, conntrack, the bridge family ...). nullopt: not tried (no valid
    // configuration, or nftables unusable); "" accepted; else the kernel's error.
    std::optional<std::string> ruleset_error;

    // The whole nftables ruleset (`nft -j list ruleset`), "" when unavailable.
    std::string ruleset_json;
    // /proc/net/ip_tables_names: tables of legacy (x_tables) iptables in this namespace.
    std::vector<std::string> iptables_legacy_tables;

    bool systemd_booted = false;  // /run/systemd/system exists (systemd is PID 1)

    std::vector<DiskSpace> disk;

    std::string config_path;
    bool config_valid = false;
    std::vector<std::string> config_issues;
    std::string bridge = "jaild0";  // from the configuration when it loads
    Ipv4Cidr bridge_address{{(10u << 24) | (213u << 16) | 1u}, 24};  // ditto
    std::size_t jail_count = 0;
};

}  // namespace jaild::hostcheck

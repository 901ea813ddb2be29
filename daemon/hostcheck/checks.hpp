// The host checks: pure judgements of HostFacts, each a CheckResult with what was found and
// the fix. Which ones fail and which only warn:
//   fail  jaild cannot run its jails, or cannot keep them isolated: not root, firejail missing
//         or its chroot switch off, no network namespaces, no br_netfilter, no nftables, a
//         kernel that refuses jaild's own ruleset (dry run: a missing nftables feature), a
//         foreign forward chain that drops jail traffic, an invalid configuration, less than
//         kMinFreeBytes free where roots or the cache live.
//   warn  jaild runs but something is degraded or unverifiable: no systemd as PID 1 (no
//         notify/watchdog/journal; jaild works in the foreground, as in the test worlds), a
//         foreign chain that may drop jail traffic, legacy iptables tables jaild cannot read,
//         less than kLowFreeBytes free.
#pragma once

#include <cstdint>

#include "hostcheck/host_facts.hpp"
#include "jaild/host_report.hpp"

namespace jaild::hostcheck {

inline constexpr std::uint64_t kMinFreeBytes = 512ull << 20;  // fail below
inline constexpr std::uint64_t kLowFreeBytes = 2ull << 30;    // warn below (a Debian root
                                                              // with Apache is ~400 MB)

CheckResult check_root(const HostFacts& f);
CheckResult check_firejail(const HostFacts& f);
CheckResult check_firejail_chroot(const HostFacts& f);
CheckResult check_namespaces(const HostFacts& f);
CheckResult check_br_netfilter(const HostFacts& f);
CheckResult check_nftables(const HostFacts& f);
CheckResult check_ruleset(const HostFacts& f);
CheckResult check_forward_policy(const HostFacts& f);
CheckResult check_iptables_legacy(const HostFacts& f);
CheckResult check_systemd(const HostFacts& f);
CheckResult check_disk(const HostFacts& f);
CheckResult check_config(const HostFacts& f);

// Every check, in this order: config, root, firejail, firejail-chroot, namespaces,
// br-netfilter, nftables, ruleset, forward-policy, iptables-legacy, systemd, disk.
HostReport run_checks(const HostFacts& facts);

}  // namespace jaild::hostcheck

// jaild filters traffic between jails in the inet `forward` hook, which bridged frames reach
// only through br_netfilter. Two things must hold, and jaild makes sure of both at start:
//  - br_netfilter is in the kernel (Debian builds it as a module and loads it only on demand);
//    jaild never runs modprobe: it refuses to start and says how to load it;
//  - br_netfilter is on for jaild's bridge. The global net.bridge.bridge-nf-call-iptables
//    (per network namespace, default 1) may be 0; jaild does not touch it (other software
//    relies on its value) but sets its own bridge's nf_call_iptables attribute, which the
//    kernel honours whatever the sysctl says, and reads it back.
#pragma once

#include <string>

#include "jaild/result.hpp"

namespace jaild::net {

// Exists in every network namespace once br_netfilter is loaded.
inline constexpr const char* kBrNetfilterProbe = "/proc/sys/net/bridge/bridge-nf-call-iptables";

// The refusal when br_netfilter is missing: what it breaks and the exact fix (pure).
std::string br_netfilter_missing_message(const std::string& probe_path);
// Error (with that message) unless `probe_path` exists.
Result<void> require_br_netfilter(const std::string& probe_path = kBrNetfilterProbe);
// Sets IFLA_BR_NF_CALL_IPTABLES=1 on the bridge (rtnetlink, in the calling thread's network
// namespace) and reads it back; error if the kernel does not report 1 afterwards.
Result<void> ensure_bridge_nf_call_iptables(const std::string& bridge);

}  // namespace jaild::net

// The host side of the jails' network, through rtnetlink (libnl-route-3) and the named
// network namespace files in /run/netns (compatible with `ip netns`). All functions act on
// the network namespace of the calling thread for the host side; a jail's namespace is
// entered only by a short-lived dedicated thread, never by the daemon's own thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "jaild/result.hpp"

namespace jaild::net {

// ifalias jaild sets on a bridge it created, so a restarted jaild (after a crash) still
// knows the bridge is its own to remove on shutdown.
inline constexpr const char* kBridgeAlias = "jaild: created by jaild, removed on its shutdown";

struct BridgeState {
    bool created_by_us = false;  // created now, or earlier by jaild (marked by kBridgeAlias)
};

// Creates the bridge if missing, adds the address, brings it up. An existing bridge with a
// different IPv4 address, or an existing non-bridge link of that name, is an error that names
// both and the fix.
Result<BridgeState> ensure_bridge(const config::BridgeConfig& bridge);
// Deletes the bridge; missing is fine. Only called when we created it.
Result<void> remove_bridge(const std::string& name);
// true if a link of this name exists on the host side.
bool link_exists(const std::string& name);

std::string netns_name(const std::string& jail);  // "jaild-<jail>"
std::string netns_path(const std::string& jail);  // "/run/netns/jaild-<jail>"
// <= 15 chars, stable, distinct per jail name: "jv-<name>" when it fits, else
// "jv.<first 4 chars><8 hex of FNV-1a(name)>" ('.' cannot occur in jail names).
std::string host_veth_name(const std::string& jail);

// Netlink route sockets kept between calls to ensure_jail_link: one in jaild's own network
// namespace and one in each jail's. Opening a socket inside a namespace takes a thread (the
// daemon's thread never changes namespace); with two fresh sockets per call that was most of
// what ensure_jail_link cost on every jail start (bench figure 1). A jail's socket is dropped
// when its namespace file names another namespace than before, and both when a request fails.
class LinkSockets {
  public:
    LinkSockets();
    ~LinkSockets();
    LinkSockets(const LinkSockets&) = delete;
    LinkSockets& operator=(const LinkSockets&) = delete;
    void forget(const std::string& jail);  // its namespace is going away

    struct Impl;
    Impl& impl() { return *impl_; }

  private:
    std::unique_ptr<Impl> impl_;
};

// Idempotent: named netns, veth pair (host side in the bridge and up, peer in the netns as
// eth0 with the jail's address/prefix and the MAC derived from it, jail_mac.hpp), lo and eth0
// up, default route via the bridge address, IPv6 disabled in the netns
// (net.ipv6.conf.all.disable_ipv6=1). Existing pieces with the right settings are left alone;
// wrong ones are fixed (a MAC or IPv6 setting the jail changed itself included).
Result<void> ensure_jail_link(LinkSockets& sockets, const config::BridgeConfig& bridge,
                              const config::JailConfig& jail);
// Deletes the host veth (its peer goes with it), unmounts and unlinks the netns. Missing = ok.
Result<void> remove_jail_link(const std::string& jail);
// Jail names with a /run/netns/jaild-* file (e.g. left behind by a crashed jaild).
std::vector<std::string> stale_jail_netns();

}  // namespace jaild::net

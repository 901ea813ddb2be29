// The jails' network as the supervisor sees it: bridge, ip_forward, jaild's nftables tables,
// one netns + veth per jail, and watchers that restore them when someone else removes them.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "config/config.hpp"
#include "jaild/result.hpp"
#include "net/firewall.hpp"
#include "net/jail_network.hpp"
#include "net/links.hpp"

namespace jaild::net {

// What an earlier jaild left (live restore, supervisor/run_state.hpp): whether it created the
// bridge (so the final stop removes it), and the stateless listing of its tables after its
// last apply. Tables that still list exactly so are kept as they are: no transaction, same
// handles and counters. Otherwise they are replaced in one transaction (the ruleset deletes
// and adds the tables atomically; conntrack keeps established connections and their NAT).
struct NetworkInheritance {
    bool bridge_created_by_jaild = false;
    std::string firewall_fingerprint;
};

// Created once by the supervisor; lives on the daemon's io_context (single thread). The
// destructor stops watching but does NOT tear anything down, so a crashed or restarted jaild
// keeps its jails reachable; shutdown() is the explicit teardown.
class Network final : public JailNetwork {
  public:
    // br_netfilter present (else an error with the fix, before any change), bridge with
    // nf_call_iptables=1, ip_forward=1 (remembering the previous value, which also decides
    // whether other forwarding is dropped), the tables inet + bridge jaild (replacing stale
    // ones), removal of netns/veths of jails not in the config, then the watchers.
    static Result<std::unique_ptr<Network>> create(boost::asio::io_context& io,
                                                   const config::Config& config,
                                                   const NetworkInheritance& inherited = {});
    // For the next jaild (live restore).
    bool bridge_created_by_us() const { return bridge_state_.created_by_us; }
    std::string firewall_fingerprint() const { return firewall_.applied_fingerprint(); }

    Result<void> ensure_jail(const config::JailConfig& jail);  // before each start
    Result<void> remove_jail(const std::string& jail);         // jail removed from the config
    // Reload: re-render and apply. A changed bridge name/address is an error (restart jaild).
    Result<void> update(const config::Config& config) override;
    // JailNetwork: ensure_jail, then the namespace's name for firejail --netns.
    Result<std::string> prepare(const config::JailConfig& jail) override;
    Result<void> release(const std::string& jail) override { return remove_jail(jail); }
    // Removes the table, every jail netns/veth, the bridge if we created it, and restores
    // ip_forward. Stops the watchers. Idempotent; errors are logged.
    void shutdown();
    ~Network() override;

    Network(const Network&) = delete;
    Network& operator=(const Network&) = delete;

  private:
    Network(boost::asio::io_context& io, config::Config config, Firewall firewall);
    Result<void> start_watchers();
    void watch_nftables();
    void watch_links();
    void on_nftables_event();
    void on_link_event();
    void restore_table();
    void restore_links();

    boost::asio::io_context& io_;
    config::Config config_;
    Firewall firewall_;
    BridgeState bridge_state_;
    std::optional<std::string> previous_ip_forward_;
    std::map<std::string, config::JailConfig> ensured_;  // jails whose link we keep up
    LinkSockets link_sockets_;
    boost::asio::posix::stream_descriptor nft_events_;   // NETLINK_NETFILTER, NFNLGRP_NFTABLES
    boost::asio::posix::stream_descriptor link_events_;  // NETLINK_ROUTE, RTNLGRP_LINK
    boost::asio::steady_timer nft_debounce_;
    boost::asio::steady_timer link_debounce_;
    bool nft_check_pending_ = false;
    bool link_check_pending_ = false;
    bool shut_down_ = false;
    // Handlers hold a weak reference: they do nothing once the Network is gone.
    std::shared_ptr<Network*> alive_;
};

}  // namespace jaild::net

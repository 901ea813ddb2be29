#include "net/network.hpp"

#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "jaild/unique_fd.hpp"
#include "net/br_netfilter.hpp"
#include "net/ruleset.hpp"
#include "net/sysctl.hpp"

namespace jaild::net {
namespace {

constexpr auto kDebounce = std::chrono::milliseconds(100);
constexpr const char* kIpForward = "net.ipv4.ip_forward";
const std::string kForwardComment = "jaild: net.ipv4.ip_forward was ";

// "jaild: net.ipv4.ip_forward was 0 before jaild started" -> "0".
std::optional<std::string> ip_forward_from_comment(const std::optional<std::string>& comment) {
    if (!comment || comment->rfind(kForwardComment, 0) != 0) return std::nullopt;
    const std::string value = comment->substr(kForwardComment.size(), 1);
    if (value != "0" && value != "1") return std::nullopt;
    return value;
}

// A non-blocking netlink socket subscribed to one multicast group.
Result<UniqueFd> netlink_subscription(int protocol, unsigned group, const char* what) {
    UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, protocol));
    if (!fd)
        return make_error(std::string("cannot open a netlink socket for ") + what + ": " +
                          std::strerror(errno));
    sockaddr_nl sa{};
    sa.nl_family = AF_NETLINK;
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0)
        return make_error(std::string("cannot bind the netlink socket for ") + what + ": " +
                          std::strerror(errno));
    if (::setsockopt(fd.get(), SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof group) != 0)
        return make_error(std::string("cannot subscribe to ") + what + ": " + std::strerror(errno));
    return fd;
}

// Reads and discards every queued message; we only care that something happened.
// ENOBUFS (we fell behind) also means "something happened".
void drain(int fd) {
    char buf[8192];
    for (;;) {
        ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n >= 0) continue;
        if (errno == EINTR || errno == ENOBUFS) continue;
        return;  // EAGAIN: empty
    }
}

}  // namespace

Network::Network(boost::asio::io_context& io, config::Config config, Firewall firewall)
    : io_(io),
      config_(std::move(config)),
      firewall_(std::move(firewall)),
      nft_events_(io),
      link_events_(io),
      nft_debounce_(io),
      link_debounce_(io),
      alive_(std::make_shared<Network*>(this)) {}

Network::~Network() {
    alive_.reset();
    boost::system::error_code ignored;
    nft_events_.close(ignored);
    link_events_.close(ignored);
}

Result<std::unique_ptr<Network>> Network::create(boost::asio::io_context& io,
                                                 const config::Config& config,
                                                 const NetworkInheritance& earlier) {
    // Jail-to-jail isolation rests on br_netfilter: refuse before changing anything.
    if (auto r = require_br_netfilter(); !r) return r.error();
    auto bridge = ensure_bridge(config.bridge);
    if (!bridge) return bridge.error();
    if (auto r = ensure_bridge_nf_call_iptables(config.bridge.name); !r) return r.error();
    spdlog::info(
        "network: bridge {} with address {} is up{}", config.bridge.name,
        config.bridge.address.str(),
        bridge->created_by_us ? " (managed by jaild)" : " (pre-existing; kept on shutdown)");

    auto fw = Firewall::open();
    if (!fw) return fw.error();
    // One listing of an existing table serves three questions: is there one (left by an
    // earlier jaild), what its comment says of ip_forward, and (live restore) whether it is
    // unchanged.
    auto existing = fw->inet_listing();
    const bool stale_table = existing.ok();
    // The ip_forward value from before jaild is kept in the table's comment: a jaild restarted
    // after a crash finds 1 (set by its predecessor) but must restore the original on shutdown.
    auto forward = read_sysctl(kIpForward);
    if (!forward) return forward.error();
    std::string before = *forward;
    if (auto inherited = ip_forward_from_comment(stale_table ? Firewall::table_comment_of(*existing)
                                                             : std::nullopt))
        before = *inherited;
    fw->set_table_comment(kForwardComment + before + " before jaild started");
    fw->set_host_forwarded(before == "1");
    if (before == "1") {
        spdlog::warn(
            "network: {} was already 1 before jaild started: this host routes between its "
            "networks by its administrator's choice, and jaild keeps it so (it filters only "
            "traffic from and to its bridge {}). If the host should not route, set {}=0 "
            "(sysctl.d) and restart jaild: it then enables forwarding for its jails only",
            kIpForward, config.bridge.name, kIpForward);
    }
    if (*forward != "1") {
        if (auto r = write_sysctl(kIpForward, "1"); !r) return r.error();
        spdlog::info(
            "network: set {}=1 (was {}; restored on shutdown); forwarding that neither comes "
            "from nor goes to bridge {} is dropped",
            kIpForward, *forward, config.bridge.name);
    }

    if (stale_table && fw->keep_if_unchanged(earlier.firewall_fingerprint, config, &*existing)) {
        spdlog::info(
            "network: kept nftables tables inet {0} and bridge {0} as the earlier jaild left them "
            "(unchanged)",
            kTableName);
    } else {
        if (stale_table)
            spdlog::info(
                "network: replacing the existing nftables table inet {} (left by an earlier "
                "jaild) in one transaction",
                kTableName);
        if (auto r = fw->apply(config); !r) return r.error();
        spdlog::info("network: nftables tables inet {0} and bridge {0} applied ({1} jails)",
                     kTableName, config.jails.size());
    }
    for (const auto& line : describe_publishing(config))
        spdlog::info("network: publishing {}", line);

    std::unique_ptr<Network> net(new Network(io, config, std::move(*fw)));
    net->bridge_state_ = *bridge;
    // A bridge the earlier jaild created is ours to remove at the final stop.
    net->bridge_state_.created_by_us = bridge->created_by_us || earlier.bridge_created_by_jaild;
    net->previous_ip_forward_ = before;

    for (const auto& stale : stale_jail_netns()) {
        if (config.jails.count(stale)) continue;
        if (auto r = remove_jail_link(stale); !r)
            spdlog::warn("network: cannot remove the leftover network of jail {}: {}", stale,
                         r.error().message);
        else
            spdlog::info(
                "network: removed the leftover network namespace and veth of jail {} (not in the "
                "configuration)",
                stale);
    }
    if (auto r = net->start_watchers(); !r) return r.error();
    return net;
}

Result<void> Network::ensure_jail(const config::JailConfig& jail) {
    if (auto r = ensure_jail_link(link_sockets_, config_.bridge, jail); !r) return r;
    ensured_[jail.name] = jail;
    return {};
}

Result<std::string> Network::prepare(const config::JailConfig& jail) {
    if (auto r = ensure_jail(jail); !r) return r.error();
    return netns_name(jail.name);
}

Result<void> Network::remove_jail(const std::string& jail) {
    ensured_.erase(jail);
    link_sockets_.forget(jail);
    return remove_jail_link(jail);
}

Result<void> Network::update(const config::Config& config) {
    if (config.bridge != config_.bridge) {
        return make_error("bridge changed from " + config_.bridge.name + " " +
                          config_.bridge.address.str() + " to " + config.bridge.name + " " +
                          config.bridge.address.str() +
                          "; a new bridge name or address takes effect only when jaild restarts "
                          "(systemctl restart jaild)");
    }
    if (auto r = firewall_.apply(config); !r) return r;
    config_ = config;
    spdlog::info("network: nftables table inet {} re-applied for the new configuration ({} jails)",
                 kTableName, config.jails.size());
    for (const auto& line : describe_publishing(config))
        spdlog::info("network: publishing {}", line);
    return {};
}

void Network::shutdown() {
    if (shut_down_) return;
    shut_down_ = true;
    boost::system::error_code ignored;
    nft_debounce_.cancel();
    link_debounce_.cancel();
    nft_events_.close(ignored);
    link_events_.close(ignored);

    if (auto r = firewall_.remove(); !r) spdlog::error("network: {}", r.error().message);
    std::set<std::string> jails;
    for (const auto& [name, _] : ensured_) jails.insert(name);
    for (const auto& [name, _] : config_.jails) jails.insert(name);
    for (const auto& name : stale_jail_netns()) jails.insert(name);
    for (const auto& name : jails) {
        link_sockets_.forget(name);
        if (auto r = remove_jail_link(name); !r)
            spdlog::error("network: removing the network of jail {}: {}", name, r.error().message);
    }
    ensured_.clear();
    if (bridge_state_.created_by_us) {
        if (auto r = remove_bridge(config_.bridge.name); !r)
            spdlog::error("network: {}", r.error().message);
    }
    if (previous_ip_forward_ && *previous_ip_forward_ != "1") {
        if (auto r = write_sysctl(kIpForward, *previous_ip_forward_); !r)
            spdlog::error("network: restoring {}: {}", kIpForward, r.error().message);
    }
    spdlog::info("network: torn down (table, jail namespaces{})",
                 bridge_state_.created_by_us ? ", bridge" : "");
}

// ---- watchers ---------------------------------------------------------------------------

Result<void> Network::start_watchers() {
    auto nft = netlink_subscription(NETLINK_NETFILTER, NFNLGRP_NFTABLES,
                                    "nftables events (NFNLGRP_NFTABLES)");
    if (!nft) return nft.error();
    auto links = netlink_subscription(NETLINK_ROUTE, RTNLGRP_LINK, "link events (RTNLGRP_LINK)");
    if (!links) return links.error();
    nft_events_.assign(nft->release());
    link_events_.assign(links->release());
    watch_nftables();
    watch_links();
    return {};
}

void Network::watch_nftables() {
    std::weak_ptr<Network*> alive = alive_;
    nft_events_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                           [this, alive](const boost::system::error_code& ec) {
                               if (alive.expired() || ec || shut_down_) return;
                               drain(nft_events_.native_handle());
                               on_nftables_event();
                               watch_nftables();
                           });
}

void Network::watch_links() {
    std::weak_ptr<Network*> alive = alive_;
    link_events_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                            [this, alive](const boost::system::error_code& ec) {
                                if (alive.expired() || ec || shut_down_) return;
                                drain(link_events_.native_handle());
                                on_link_event();
                                watch_links();
                            });
}

// Changes come in bursts (one transaction = many messages; our own apply too): check once,
// ~100 ms after the first message of a burst.
void Network::on_nftables_event() {
    if (nft_check_pending_) return;
    nft_check_pending_ = true;
    nft_debounce_.expires_after(kDebounce);
    std::weak_ptr<Network*> alive = alive_;
    nft_debounce_.async_wait([this, alive](const boost::system::error_code& ec) {
        if (alive.expired() || ec || shut_down_) return;
        nft_check_pending_ = false;
        restore_table();
    });
}

void Network::on_link_event() {
    if (link_check_pending_) return;
    link_check_pending_ = true;
    link_debounce_.expires_after(kDebounce);
    std::weak_ptr<Network*> alive = alive_;
    link_debounce_.async_wait([this, alive](const boost::system::error_code& ec) {
        if (alive.expired() || ec || shut_down_) return;
        link_check_pending_ = false;
        restore_links();
    });
}

void Network::restore_table() {
    auto matches = firewall_.table_matches_last_apply();
    if (!matches) {
        spdlog::error("network: cannot check nftables table inet {}: {}", kTableName,
                      matches.error().message);
        return;
    }
    if (*matches) return;
    const bool exists = firewall_.run(std::string("list table inet ") + kTableName).ok();
    if (auto r = firewall_.apply(config_); !r) {
        spdlog::error(
            "network: nftables table inet {} was {} by someone else and could not be restored: {}",
            kTableName, exists ? "modified" : "deleted", r.error().message);
        return;
    }
    spdlog::warn(
        "network: nftables table inet {} was {} by someone else (e.g. `nft flush ruleset` or a "
        "firewall "
        "reload); restored it. Jail rules belong in jaild.json, not in that table",
        kTableName, exists ? "modified" : "deleted");
}

void Network::restore_links() {
    if (!link_exists(config_.bridge.name)) {
        auto r = ensure_bridge(config_.bridge);
        if (!r) {
            spdlog::error(
                "network: bridge {} was deleted by someone else and could not be restored: {}",
                config_.bridge.name, r.error().message);
            return;
        }
        bridge_state_.created_by_us = bridge_state_.created_by_us || r->created_by_us;
        if (auto nf = ensure_bridge_nf_call_iptables(config_.bridge.name); !nf)
            spdlog::error("network: recreated bridge {}: {}", config_.bridge.name,
                          nf.error().message);
        spdlog::warn("network: bridge {} was deleted by someone else; recreated it",
                     config_.bridge.name);
        for (const auto& [name, jail] : ensured_) {
            if (auto j = ensure_jail_link(link_sockets_, config_.bridge, jail); !j)
                spdlog::error("network: reattaching jail {} to bridge {}: {}", name,
                              config_.bridge.name, j.error().message);
        }
        return;
    }
    // `ip link set BR type bridge nf_call_iptables 0` would open every jail to every other.
    if (auto nf = ensure_bridge_nf_call_iptables(config_.bridge.name); !nf)
        spdlog::error("network: {}", nf.error().message);
    for (const auto& [name, jail] : ensured_) {
        const std::string veth = host_veth_name(name);
        if (link_exists(veth)) continue;
        if (auto r = ensure_jail_link(link_sockets_, config_.bridge, jail); !r)
            spdlog::error("network: veth {} of jail {} was deleted and could not be restored: {}",
                          veth, name, r.error().message);
        else
            spdlog::warn("network: veth {} of jail {} was deleted by someone else; restored it",
                         veth, name);
    }
}

}  // namespace jaild::net

#include "net/links.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>

#include "jaild/paths.hpp"
#include "jaild/unique_fd.hpp"
#include "net/jail_mac.hpp"
#include "net/sysctl.hpp"

namespace jaild::net {
namespace {

// ---- RAII for libnl objects -------------------------------------------------------------
struct SockFree {
    void operator()(nl_sock* s) const { nl_socket_free(s); }
};
struct LinkPut {
    void operator()(rtnl_link* l) const { rtnl_link_put(l); }
};
struct AddrPut {
    void operator()(rtnl_addr* a) const { rtnl_addr_put(a); }
};
struct NlAddrPut {
    void operator()(nl_addr* a) const { nl_addr_put(a); }
};
struct CacheFree {
    void operator()(nl_cache* c) const { nl_cache_free(c); }
};
struct RoutePut {
    void operator()(rtnl_route* r) const { rtnl_route_put(r); }
};
using Sock = std::unique_ptr<nl_sock, SockFree>;
using Link = std::unique_ptr<rtnl_link, LinkPut>;
using Addr = std::unique_ptr<rtnl_addr, AddrPut>;
using NlAddr = std::unique_ptr<nl_addr, NlAddrPut>;
using Cache = std::unique_ptr<nl_cache, CacheFree>;
using Route = std::unique_ptr<rtnl_route, RoutePut>;

std::string nlerr(int err) {
    return nl_geterror(err);
}
std::string errno_text(int err) {
    return std::strerror(err);
}

Result<Sock> route_socket() {
    Sock sk(nl_socket_alloc());
    if (!sk) return make_error("nl_socket_alloc failed (out of memory)");
    if (int err = nl_connect(sk.get(), NETLINK_ROUTE); err < 0)
        return make_error("cannot open an rtnetlink socket: " + nlerr(err));
    return sk;
}

constexpr const char* kDisableIpv6 = "net.ipv6.conf.all.disable_ipv6";

// What jaild keeps open inside a jail's namespace.
struct NetnsHandles {
    Sock sock;         // rtnetlink, bound to the namespace
    UniqueFd no_ipv6;  // kDisableIpv6 of the namespace; empty if IPv6 is off in the kernel
};

// A route socket and the disable_ipv6 sysctl file of the namespace `nsfd`. Both stay bound
// to the namespace they were opened in, so the calling thread enters the namespace for the
// three non-blocking calls that open them and goes back (setns is per thread; no thread is
// started on the event loop for it). Failing to go back would leave jaild's loop in a jail's
// namespace: jaild aborts rather than run there.
Result<NetnsHandles> open_in_netns(int nsfd, const std::string& what) {
    NetnsHandles h;
    h.sock.reset(nl_socket_alloc());
    if (!h.sock) return make_error("nl_socket_alloc failed (out of memory)");
    UniqueFd home(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    if (!home)
        return make_error("cannot open this thread's network namespace: " + errno_text(errno));
    int sys_err = 0, nl_err = 0;
    std::optional<Result<UniqueFd>> sysctl;
    if (::setns(nsfd, CLONE_NEWNET) != 0) {
        sys_err = errno;
    } else {
        nl_err = nl_connect(h.sock.get(), NETLINK_ROUTE);
        sysctl.emplace(open_sysctl_for_write(kDisableIpv6));
        if (::setns(home.get(), CLONE_NEWNET) != 0) std::abort();
    }
    if (sys_err) return make_error("setns into " + what + " failed: " + errno_text(sys_err));
    if (nl_err < 0)
        return make_error("cannot open an rtnetlink socket in " + what + ": " + nlerr(nl_err));
    if (sysctl && *sysctl) {
        h.no_ipv6 = std::move(**sysctl);
    } else if (::access(sysctl_path(kDisableIpv6).c_str(), F_OK) == 0) {
        // The host has IPv6 but the jail's file could not be opened: do not run with IPv6 on.
        return make_error("disabling IPv6 in " + what + ": " +
                          (sysctl ? sysctl->error().message : "no result"));
    }  // else: the kernel has no IPv6 at all (ipv6.disable=1); nothing to disable
    return h;
}

// A stable, locally administered MAC derived from an IPv4 address (jail_mac.hpp). A
// recreated jail eth0 (or bridge) keeps its MAC, so neighbours' ARP caches stay right and
// traffic resumes at once instead of after the stale entry times out (~30 s); and the bridge
// table pins each jail's port to exactly this MAC.
NlAddr mac_for(Ipv4Address a) {
    const Mac mac = mac_for_address(a);
    return NlAddr(nl_addr_build(AF_LLC, mac.data(), mac.size()));
}

// Gives the jail's eth0 its MAC back if the jail changed it (it needs CAP_NET_ADMIN in its
// namespace): frames from any other MAC are dropped at its bridge port.
Result<void> reset_mac(nl_sock* ns, rtnl_link* link, Ipv4Address address,
                       const std::string& where) {
    NlAddr want = mac_for(address);
    if (!want) return make_error("out of memory");
    nl_addr* have = rtnl_link_get_addr(link);
    if (have && nl_addr_cmp(have, want.get()) == 0) return {};
    Link change(rtnl_link_alloc());
    if (!change) return make_error("out of memory");
    rtnl_link_set_addr(change.get(), want.get());
    if (int err = rtnl_link_change(ns, link, change.get(), 0); err < 0)
        return make_error("cannot reset the MAC address of " + where + " to " +
                          mac_string(mac_for_address(address)) + ": " + nlerr(err));
    return {};
}

Link get_link(nl_sock* sk, const std::string& name) {
    rtnl_link* link = nullptr;
    if (rtnl_link_get_kernel(sk, 0, name.c_str(), &link) < 0) return Link();
    return Link(link);
}

NlAddr make_addr(Ipv4Address a, int prefix) {
    const std::uint32_t be = htonl(a.value);
    NlAddr addr(nl_addr_build(AF_INET, &be, sizeof be));
    if (addr) nl_addr_set_prefixlen(addr.get(), prefix);
    return addr;
}

// IPv4 addresses (with prefixes) on an interface.
Result<std::vector<Ipv4Cidr>> ipv4_addresses(nl_sock* sk, int ifindex, const std::string& where) {
    nl_cache* raw = nullptr;
    if (int err = rtnl_addr_alloc_cache(sk, &raw); err < 0)
        return make_error("cannot list addresses " + where + ": " + nlerr(err));
    Cache cache(raw);
    std::vector<Ipv4Cidr> out;
    for (nl_object* o = nl_cache_get_first(cache.get()); o; o = nl_cache_get_next(o)) {
        auto* a = reinterpret_cast<rtnl_addr*>(o);
        if (rtnl_addr_get_ifindex(a) != ifindex || rtnl_addr_get_family(a) != AF_INET) continue;
        nl_addr* local = rtnl_addr_get_local(a);
        if (!local || nl_addr_get_len(local) != 4) continue;
        std::uint32_t be;
        std::memcpy(&be, nl_addr_get_binary_addr(local), 4);
        out.push_back(Ipv4Cidr{Ipv4Address{ntohl(be)}, rtnl_addr_get_prefixlen(a)});
    }
    return out;
}

// The netlink object for CIDR on the link IFINDEX (for adding or deleting it).
Result<Addr> address_object(int ifindex, const Ipv4Cidr& cidr) {
    Addr a(rtnl_addr_alloc());
    NlAddr local = make_addr(cidr.address, cidr.prefix);
    if (!a || !local) return make_error("out of memory building address " + cidr.str());
    rtnl_addr_set_ifindex(a.get(), ifindex);
    rtnl_addr_set_local(a.get(), local.get());
    rtnl_addr_set_prefixlen(a.get(), cidr.prefix);
    return a;
}

Result<void> add_address(nl_sock* sk, int ifindex, const Ipv4Cidr& cidr, const std::string& where) {
    auto a = address_object(ifindex, cidr);
    if (!a) return a.error();
    if (int err = rtnl_addr_add(sk, a->get(), 0); err < 0 && err != -NLE_EXIST)
        return make_error("cannot add address " + cidr.str() + " to " + where + ": " + nlerr(err));
    return {};
}

Result<void> delete_address(nl_sock* sk, int ifindex, const Ipv4Cidr& cidr,
                            const std::string& where) {
    auto a = address_object(ifindex, cidr);
    if (!a) return a.error();
    if (int err = rtnl_addr_delete(sk, a->get(), 0); err < 0 && err != -NLE_NOADDR)
        return make_error("cannot delete address " + cidr.str() + " from " + where + ": " +
                          nlerr(err));
    return {};
}

// Brings a link up and (master > 0) enslaves it, unless it already is.
Result<void> set_up(nl_sock* sk, rtnl_link* link, int master, const std::string& where) {
    const bool up = rtnl_link_get_flags(link) & IFF_UP;
    const bool enslaved = master <= 0 || rtnl_link_get_master(link) == master;
    if (up && enslaved) return {};
    Link change(rtnl_link_alloc());
    if (!change) return make_error("out of memory");
    rtnl_link_set_flags(change.get(), IFF_UP);
    if (master > 0) rtnl_link_set_master(change.get(), master);
    if (int err = rtnl_link_change(sk, link, change.get(), 0); err < 0)
        return make_error("cannot bring up " + where + ": " + nlerr(err));
    return {};
}

Result<void> delete_link_named(nl_sock* sk, const std::string& name) {
    Link link = get_link(sk, name);
    if (!link) return {};
    if (int err = rtnl_link_delete(sk, link.get());
        err < 0 && err != -NLE_OBJ_NOTFOUND && err != -NLE_NODEV)
        return make_error("cannot delete network interface " + name + ": " + nlerr(err));
    return {};
}

// ---- named network namespaces (as `ip netns add` makes them) ----------------------------

bool is_netns_file(const std::string& path) {
    struct statfs fs {};
    return ::statfs(path.c_str(), &fs) == 0 && static_cast<unsigned long>(fs.f_type) == NSFS_MAGIC;
}

// /run/netns must be a shared mount point, so namespaces bind-mounted into it later are
// visible in mount namespaces that were copied from ours (e.g. systemd services).
Result<void> prepare_netns_dir() {
    const char* dir = paths::kNetnsDir;
    if (::mkdir(dir, 0755) != 0 && errno != EEXIST)
        return make_error(std::string("cannot create ") + dir + ": " + errno_text(errno));
    if (::mount("", dir, "none", MS_SHARED | MS_REC, nullptr) == 0) return {};
    if (errno != EINVAL)
        return make_error(std::string("cannot make ") + dir +
                          " a shared mount: " + errno_text(errno));
    // Not a mount point yet: bind it onto itself first (what iproute2 does).
    if (::mount(dir, dir, "none", MS_BIND | MS_REC, nullptr) != 0)
        return make_error(std::string("cannot bind-mount ") + dir +
                          " onto itself: " + errno_text(errno));
    if (::mount("", dir, "none", MS_SHARED | MS_REC, nullptr) != 0)
        return make_error(std::string("cannot make ") + dir +
                          " a shared mount: " + errno_text(errno));
    return {};
}

Result<void> create_netns(const std::string& path) {
    if (is_netns_file(path)) return {};
    if (auto r = prepare_netns_dir(); !r) return r;
    UniqueFd f(::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0));
    if (!f) return make_error("cannot create " + path + ": " + errno_text(errno));
    f.reset();
    // A child unshares a new network namespace and bind-mounts it onto the file; the mount
    // keeps the namespace alive after the child exits. Only syscalls between fork and _exit.
    const pid_t pid = ::fork();
    if (pid < 0) return make_error("fork for a new network namespace failed: " + errno_text(errno));
    if (pid == 0) {
        if (::unshare(CLONE_NEWNET) != 0) ::_exit(1);
        if (::mount("/proc/self/ns/net", path.c_str(), "none", MS_BIND, nullptr) != 0) ::_exit(2);
        ::_exit(0);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        ::unlink(path.c_str());
        const char* step = WIFEXITED(status) && WEXITSTATUS(status) == 1
                               ? "unshare(CLONE_NEWNET)"
                               : "bind-mounting /proc/self/ns/net";
        return make_error("cannot create network namespace " + path + ": " + step +
                          " failed in the child (jaild must run as root with CAP_SYS_ADMIN)");
    }
    return {};
}

// FNV-1a, 32 bits: stable across runs and builds (std::hash is not).
std::uint32_t fnv1a(const std::string& s) {
    std::uint32_t h = 2166136261u;
    for (unsigned char c : s) {
        h ^= c;
        h *= 16777619u;
    }
    return h;
}

constexpr const char* kNetnsPrefix = "jaild-";
constexpr const char* kJailIf = "eth0";

}  // namespace

std::string netns_name(const std::string& jail) {
    return kNetnsPrefix + jail;
}
std::string netns_path(const std::string& jail) {
    return std::string(paths::kNetnsDir) + "/" + netns_name(jail);
}

std::string host_veth_name(const std::string& jail) {
    if (jail.size() <= 12) return "jv-" + jail;
    char hash[9];
    std::snprintf(hash, sizeof hash, "%08x", fnv1a(jail));
    return "jv." + jail.substr(0, 4) + hash;
}

bool link_exists(const std::string& name) {
    auto sk = route_socket();
    return sk && get_link(sk->get(), name) != nullptr;
}

Result<BridgeState> ensure_bridge(const config::BridgeConfig& bridge) {
    auto sk = route_socket();
    if (!sk) return sk.error();
    const std::string& name = bridge.name;
    const std::string want = bridge.address.str();
    BridgeState state;
    Link link = get_link(sk->get(), name);
    if (link) {
        const char* type = rtnl_link_get_type(link.get());
        if (!type || std::string(type) != "bridge") {
            return make_error("bridge.name \"" + name +
                              "\": a network interface of that name already exists and is a " +
                              (type ? std::string(type) : std::string("plain device")) +
                              ", not a bridge; choose another bridge.name in jaild.json or remove "
                              "that interface");
        }
        const char* alias = rtnl_link_get_ifalias(link.get());
        state.created_by_us = alias && std::string(alias) == kBridgeAlias;
    } else {
        Link create(rtnl_link_alloc());
        if (!create) return make_error("out of memory");
        rtnl_link_set_name(create.get(), name.c_str());
        // A fixed MAC: otherwise a bridge takes the lowest MAC of its ports, and it changes
        // as jails come and go (each change makes the jails' cached gateway MAC wrong).
        NlAddr mac = mac_for(bridge.address.address);
        if (mac) rtnl_link_set_addr(create.get(), mac.get());
        if (int err = rtnl_link_set_type(create.get(), "bridge"); err < 0)
            return make_error("libnl does not know the bridge link type: " + nlerr(err));
        if (int err = rtnl_link_add(sk->get(), create.get(), NLM_F_CREATE | NLM_F_EXCL); err < 0)
            return make_error("cannot create bridge " + name + ": " + nlerr(err));
        link = get_link(sk->get(), name);
        if (!link) return make_error("bridge " + name + " vanished right after it was created");
        // The kernel applies IFLA_IFALIAS only on change, not on creation.
        Link change(rtnl_link_alloc());
        rtnl_link_set_ifalias(change.get(), kBridgeAlias);
        if (int err = rtnl_link_change(sk->get(), link.get(), change.get(), 0); err < 0)
            return make_error("cannot set the alias of bridge " + name + ": " + nlerr(err));
        state.created_by_us = true;
    }
    const int ifindex = rtnl_link_get_ifindex(link.get());
    auto addrs = ipv4_addresses(sk->get(), ifindex, "of bridge " + name);
    if (!addrs) return addrs.error();
    bool have = false;
    for (const auto& a : *addrs) {
        if (a == bridge.address) {
            have = true;
        } else {
            return make_error("bridge " + name + " already has address " + a.str() +
                              ", but bridge.address in jaild.json is " + want +
                              "; set bridge.address to " + a.str() +
                              " (and the jails' addresses into that subnet), or remove the old "
                              "address: ip address del " +
                              a.str() + " dev " + name);
        }
    }
    if (!have) {
        if (auto r = add_address(sk->get(), ifindex, bridge.address, "bridge " + name); !r)
            return r.error();
    }
    if (auto r = set_up(sk->get(), link.get(), 0, "bridge " + name); !r) return r.error();
    return state;
}

Result<void> remove_bridge(const std::string& name) {
    auto sk = route_socket();
    if (!sk) return sk.error();
    return delete_link_named(sk->get(), name);
}

namespace {

Result<void> ensure_jail_link_on(nl_sock* host, nl_sock* ns, int nsfd, int no_ipv6,
                                 const config::BridgeConfig& bridge,
                                 const config::JailConfig& jail) {
    Link br = get_link(host, bridge.name);
    if (!br)
        return make_error("bridge " + bridge.name +
                          " does not exist; it is created when jaild starts (ensure_bridge)");
    const int br_index = rtnl_link_get_ifindex(br.get());
    const std::string ns_what = "network namespace " + netns_name(jail.name);

    const std::string hv = host_veth_name(jail.name);
    Link host_end = get_link(host, hv);
    Link jail_end = get_link(ns, kJailIf);
    // A veth's IFLA_LINK is its peer's ifindex: both ends present and paired = keep them.
    const bool paired = host_end && jail_end && rtnl_link_is_veth(host_end.get()) &&
                        rtnl_link_get_link(host_end.get()) == rtnl_link_get_ifindex(jail_end.get());
    if (!paired) {
        if (host_end) {
            if (auto r = delete_link_named(host, hv); !r) return r;
        }
        if (jail_end) {
            if (auto r = delete_link_named(ns, kJailIf); !r) return r;
        }
        Link veth(rtnl_link_veth_alloc());
        if (!veth) return make_error("out of memory");
        rtnl_link_set_name(veth.get(), hv.c_str());
        Link peer(rtnl_link_veth_get_peer(veth.get()));
        rtnl_link_set_name(peer.get(), kJailIf);
        NlAddr mac = mac_for(jail.address);
        if (mac) rtnl_link_set_addr(peer.get(), mac.get());
        rtnl_link_set_ns_fd(peer.get(), nsfd);
        if (int err = rtnl_link_add(host, veth.get(), NLM_F_CREATE | NLM_F_EXCL); err < 0)
            return make_error("cannot create veth pair " + hv + " <-> " + ns_what + " " + kJailIf +
                              " for jail " + jail.name + ": " + nlerr(err));
        host_end = get_link(host, hv);
        jail_end = get_link(ns, kJailIf);
        if (!host_end || !jail_end)
            return make_error("veth pair " + hv + " for jail " + jail.name +
                              " vanished right after it was created");
    }
    if (auto r = set_up(host, host_end.get(), br_index, hv + " in bridge " + bridge.name); !r)
        return r;
    // No IPv6 in jails (jaild's firewall is IPv4; the bridge drops IPv6 frames from jails too,
    // since root in a jail can switch it back on). "all" applies to every interface.
    if (no_ipv6 >= 0) {
        if (auto r = write_sysctl_fd(no_ipv6, kDisableIpv6, "1"); !r)
            return make_error(r.error().message + " in " + ns_what);
    }
    if (auto r =
            reset_mac(ns, jail_end.get(), jail.address, std::string(kJailIf) + " in " + ns_what);
        !r)
        return r;

    Link lo = get_link(ns, "lo");
    if (lo) {
        if (auto r = set_up(ns, lo.get(), 0, "lo in " + ns_what); !r) return r;
    }
    if (auto r = set_up(ns, jail_end.get(), 0, std::string(kJailIf) + " in " + ns_what); !r)
        return r;

    const int eth0 = rtnl_link_get_ifindex(jail_end.get());
    const Ipv4Cidr want{jail.address, bridge.address.prefix};
    const std::string where = std::string(kJailIf) + " in " + ns_what;
    auto addrs = ipv4_addresses(ns, eth0, where);
    if (!addrs) return addrs.error();
    bool have = false;
    for (const auto& a : *addrs) {
        if (a == want) {
            have = true;
        } else if (auto r = delete_address(ns, eth0, a, where); !r) {
            return r;
        }
    }
    if (!have) {
        if (auto r = add_address(ns, eth0, want, where); !r) return r;
    }

    Route route(rtnl_route_alloc());
    NlAddr dst = make_addr(Ipv4Address{0}, 0);
    NlAddr gw = make_addr(bridge.address.address, 32);
    rtnl_nexthop* nh = rtnl_route_nh_alloc();
    if (!route || !dst || !gw || !nh) return make_error("out of memory");
    rtnl_route_set_family(route.get(), AF_INET);
    rtnl_route_set_table(route.get(), RT_TABLE_MAIN);
    rtnl_route_set_scope(route.get(), RT_SCOPE_UNIVERSE);
    rtnl_route_set_protocol(route.get(), RTPROT_BOOT);
    rtnl_route_set_type(route.get(), RTN_UNICAST);
    rtnl_route_set_dst(route.get(), dst.get());
    rtnl_route_nh_set_gateway(nh, gw.get());
    rtnl_route_nh_set_ifindex(nh, eth0);
    rtnl_route_add_nexthop(route.get(), nh);  // the route owns nh from here
    if (int err = rtnl_route_add(ns, route.get(), NLM_F_REPLACE); err < 0)
        return make_error("cannot set the default route via " + bridge.address.address.str() +
                          " in " + ns_what + ": " + nlerr(err));
    return {};
}

}  // namespace

struct LinkSockets::Impl {
    struct InNetns {
        dev_t dev = 0;
        ino_t ino = 0;
        NetnsHandles handles;
    };
    Sock host;
    std::map<std::string, InNetns> jails;
};

LinkSockets::LinkSockets() : impl_(std::make_unique<Impl>()) {}
LinkSockets::~LinkSockets() = default;
void LinkSockets::forget(const std::string& jail) {
    impl_->jails.erase(jail);
}

Result<void> ensure_jail_link(LinkSockets& sockets, const config::BridgeConfig& bridge,
                              const config::JailConfig& jail) {
    auto& cache = sockets.impl();
    if (!cache.host) {
        auto sk = route_socket();
        if (!sk) return sk.error();
        cache.host = std::move(*sk);
    }
    const std::string path = netns_path(jail.name);
    if (auto r = create_netns(path); !r) return r;
    UniqueFd nsfd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!nsfd) return make_error("cannot open " + path + ": " + errno_text(errno));
    struct stat st {};
    if (::fstat(nsfd.get(), &st) != 0)
        return make_error("cannot stat " + path + ": " + errno_text(errno));
    auto it = cache.jails.find(jail.name);
    if (it == cache.jails.end() || it->second.dev != st.st_dev || it->second.ino != st.st_ino) {
        auto handles = open_in_netns(nsfd.get(), "network namespace " + netns_name(jail.name));
        if (!handles) return handles.error();
        it = cache.jails
                 .insert_or_assign(jail.name, LinkSockets::Impl::InNetns{st.st_dev, st.st_ino,
                                                                         std::move(*handles)})
                 .first;
    }
    const LinkSockets::Impl::InNetns& in = it->second;
    auto result =
        ensure_jail_link_on(cache.host.get(), in.handles.sock.get(), nsfd.get(),
                            in.handles.no_ipv6 ? in.handles.no_ipv6.get() : -1, bridge, jail);
    if (!result) {  // start the next call from fresh sockets
        cache.host.reset();
        cache.jails.erase(jail.name);
    }
    return result;
}

Result<void> remove_jail_link(const std::string& jail) {
    auto host = route_socket();
    if (!host) return host.error();
    if (auto r = delete_link_named(host->get(), host_veth_name(jail)); !r) return r;
    const std::string path = netns_path(jail);
    if (::umount2(path.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT)
        return make_error("cannot unmount " + path + ": " + errno_text(errno));
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        return make_error("cannot remove " + path + ": " + errno_text(errno));
    return {};
}

std::vector<std::string> stale_jail_netns() {
    std::vector<std::string> out;
    std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(paths::kNetnsDir), ::closedir);
    if (!dir) return out;
    const std::string prefix = kNetnsPrefix;
    while (dirent* e = ::readdir(dir.get())) {
        const std::string name = e->d_name;
        if (name.size() > prefix.size() && name.compare(0, prefix.size(), prefix) == 0)
            out.push_back(name.substr(prefix.size()));
    }
    return out;
}

}  // namespace jaild::net

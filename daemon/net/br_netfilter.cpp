#include "net/br_netfilter.hpp"

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace jaild::net {
namespace {

struct SockFree {
    void operator()(nl_sock* s) const { nl_socket_free(s); }
};
struct MsgFree {
    void operator()(nl_msg* m) const { nlmsg_free(m); }
};
using Sock = std::unique_ptr<nl_sock, SockFree>;
using Msg = std::unique_ptr<nl_msg, MsgFree>;

std::string nlerr(int err) {
    return nl_geterror(err);
}

// IFLA_LINKINFO / IFLA_INFO_DATA / IFLA_BR_NF_CALL_IPTABLES of an RTM_NEWLINK reply; -1 if
// absent (not a bridge, or a kernel without br_netfilter).
int nf_call_iptables_of(nlmsghdr* hdr) {
    nlattr* tb[IFLA_MAX + 1] = {};
    if (nlmsg_parse(hdr, sizeof(ifinfomsg), tb, IFLA_MAX, nullptr) < 0 || !tb[IFLA_LINKINFO])
        return -1;
    nlattr* info[IFLA_INFO_MAX + 1] = {};
    if (nla_parse_nested(info, IFLA_INFO_MAX, tb[IFLA_LINKINFO], nullptr) < 0 ||
        !info[IFLA_INFO_DATA])
        return -1;
    nlattr* br[IFLA_BR_MAX + 1] = {};
    if (nla_parse_nested(br, IFLA_BR_MAX, info[IFLA_INFO_DATA], nullptr) < 0 ||
        !br[IFLA_BR_NF_CALL_IPTABLES])
        return -1;
    return nla_get_u8(br[IFLA_BR_NF_CALL_IPTABLES]);
}

int on_link_reply(nl_msg* msg, void* arg) {
    *static_cast<int*>(arg) = nf_call_iptables_of(nlmsg_hdr(msg));
    return NL_OK;
}

Msg link_message(int type, int flags, int ifindex) {
    Msg msg(nlmsg_alloc_simple(type, flags));
    if (!msg) return msg;
    ifinfomsg ifi{};
    ifi.ifi_family = AF_UNSPEC;
    ifi.ifi_index = ifindex;
    if (nlmsg_append(msg.get(), &ifi, sizeof ifi, NLMSG_ALIGNTO) < 0) return Msg();
    return msg;
}

}  // namespace

std::string br_netfilter_missing_message(const std::string& probe_path) {
    return "the kernel module br_netfilter is not loaded (" + probe_path +
           " is missing): without it traffic between jails bypasses jaild's firewall and every "
           "jail could reach every port of every other jail, so jaild does not start. Load it "
           "now and at every boot: modprobe br_netfilter && echo br_netfilter > "
           "/etc/modules-load.d/jaild.conf (jaild.service also runs modprobe br_netfilter "
           "before starting jaild)";
}

Result<void> require_br_netfilter(const std::string& probe_path) {
    if (::access(probe_path.c_str(), F_OK) == 0) return {};
    const int err = errno;
    if (err != ENOENT)
        return make_error("cannot check for br_netfilter: access " + probe_path + ": " +
                          std::strerror(err));
    return make_error(br_netfilter_missing_message(probe_path));
}

namespace {

// The bridge's nf_call_iptables as the kernel reports it (RTM_GETLINK), on a socket of its
// own (its callback points at this call's `value`).
Result<int> read_nf_call_iptables(int ifindex, const std::string& bridge) {
    const std::string what = "reading nf_call_iptables of bridge " + bridge;
    Sock owned(nl_socket_alloc());
    if (!owned) return make_error(what + ": nl_socket_alloc failed (out of memory)");
    nl_sock* sk = owned.get();
    if (int err = nl_connect(sk, NETLINK_ROUTE); err < 0)
        return make_error(what + ": cannot open an rtnetlink socket: " + nlerr(err));
    int value = -1;
    if (int err = nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, on_link_reply, &value);
        err < 0)
        return make_error(what + ": " + nlerr(err));
    Msg get = link_message(RTM_GETLINK, NLM_F_REQUEST, ifindex);
    if (!get) return make_error(what + ": out of memory");
    if (int err = nl_send_auto(sk, get.get()); err < 0) return make_error(what + ": " + nlerr(err));
    if (int err = nl_recvmsgs_default(sk); err < 0) return make_error(what + ": " + nlerr(err));
    return value;
}

}  // namespace

Result<void> ensure_bridge_nf_call_iptables(const std::string& bridge) {
    const unsigned index = ::if_nametoindex(bridge.c_str());
    if (index == 0)
        return make_error("bridge " + bridge +
                          " not found when enabling br_netfilter on it: " + std::strerror(errno));
    const int ifindex = static_cast<int>(index);
    // Set only when it is not: every RTM_NEWLINK, even one that changes nothing, is a link
    // event, and the link watcher calls this on each (a write here made a loop every 100 ms).
    auto before = read_nf_call_iptables(ifindex, bridge);
    if (!before) return before.error();
    if (*before == 1) return {};
    Sock sk(nl_socket_alloc());
    if (!sk) return make_error("nl_socket_alloc failed (out of memory)");
    if (int err = nl_connect(sk.get(), NETLINK_ROUTE); err < 0)
        return make_error("cannot open an rtnetlink socket: " + nlerr(err));
    const std::string what = "setting nf_call_iptables=1 on bridge " + bridge;

    Msg set = link_message(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, ifindex);
    if (!set) return make_error(what + ": out of memory");
    nlattr* linkinfo = nla_nest_start(set.get(), IFLA_LINKINFO);
    if (!linkinfo || nla_put_string(set.get(), IFLA_INFO_KIND, "bridge") < 0)
        return make_error(what + ": cannot build the netlink message");
    nlattr* data = nla_nest_start(set.get(), IFLA_INFO_DATA);
    if (!data || nla_put_u8(set.get(), IFLA_BR_NF_CALL_IPTABLES, 1) < 0)
        return make_error(what + ": cannot build the netlink message");
    nla_nest_end(set.get(), data);
    nla_nest_end(set.get(), linkinfo);
    if (int err = nl_send_auto(sk.get(), set.get()); err < 0)
        return make_error(what + ": " + nlerr(err));
    if (int err = nl_wait_for_ack(sk.get()); err < 0)
        return make_error(what + ": " + nlerr(err) +
                          " (the kernel needs CONFIG_BRIDGE_NETFILTER, i.e. br_netfilter)");

    // Read it back: the attribute is what jail-to-jail isolation rests on.
    auto value = read_nf_call_iptables(ifindex, bridge);
    if (!value) return value.error();
    if (*value != 1)
        return make_error("bridge " + bridge +
                          " reports nf_call_iptables=" + std::to_string(*value) +
                          " after jaild set it to 1; traffic between jails would bypass jaild's "
                          "firewall, so jaild does not start (is br_netfilter loaded?)");
    return {};
}

}  // namespace jaild::net

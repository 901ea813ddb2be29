#include "api/auth.hpp"

#include <grp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace jaild::api {

bool read_only_method(std::string_view method) {
    return method == "status" || method == "logs" || method == "events" || method == "version" ||
           method == "metrics";
}

namespace {
bool in_group(const Peer& peer, gid_t gid) {
    return peer.gid == gid ||
           std::find(peer.groups.begin(), peer.groups.end(), gid) != peer.groups.end();
}
}  // namespace

bool allowed(std::string_view method, const Peer& peer, const AuthPolicy& policy) {
    if (peer.uid == 0) return true;
    return read_only_method(method) && policy.group_gid && in_group(peer, *policy.group_gid);
}

std::string denial_message(std::string_view method, const Peer& peer, const AuthPolicy& policy) {
    const std::string uid = std::to_string(peer.uid);
    const std::string& g = policy.group_name;
    if (policy.group_gid && in_group(peer, *policy.group_gid)) {
        return "permission denied: \"" + std::string(method) + "\" needs root; uid " + uid +
               " is in group \"" + g +
               "\", which may only use status, logs, events, version and metrics (use sudo)";
    }
    std::string msg = "permission denied: uid " + uid + " is not root and not in group \"" + g +
                      "\"; add it with: adduser USER " + g;
    if (!policy.group_gid)
        msg += " (the group does not exist yet; create it with: addgroup --system " + g + ")";
    return msg;
}

Result<Peer> peer_of(int socket_fd) {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (getsockopt(socket_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
        int err = errno;
        return make_error(std::string("getsockopt(SO_PEERCRED) failed: ") + std::strerror(err));
    }
    Peer peer{cred.uid, cred.gid, cred.pid, {}};
    // Root may do everything: its groups never matter.
    if (cred.uid == 0) return peer;
    // The groups the peer had when it connected, from the kernel: no /proc read (racy with
    // pid reuse) and no NSS lookup (which may block on a directory server) on the loop.
    std::vector<gid_t> groups(64);
    for (int attempt = 0; attempt < 2; ++attempt) {
        socklen_t size = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
        if (getsockopt(socket_fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &size) == 0) {
            groups.resize(size / sizeof(gid_t));
            peer.groups = std::move(groups);
            return peer;
        }
        int err = errno;
        if (err != ERANGE) {
            return make_error(std::string("getsockopt(SO_PEERGROUPS) failed: ") +
                              std::strerror(err));
        }
        groups.resize(size / sizeof(gid_t) + 1);
    }
    return make_error("getsockopt(SO_PEERGROUPS): the peer's group list keeps growing");
}

AuthPolicy resolve_policy(const std::string& group_name) {
    AuthPolicy policy{group_name, std::nullopt};
    std::vector<char> buf(16384);
    group gr{};
    group* found = nullptr;
    if (getgrnam_r(group_name.c_str(), &gr, buf.data(), buf.size(), &found) == 0 && found) {
        policy.group_gid = gr.gr_gid;
    }
    return policy;
}

}  // namespace jaild::api

#include "api/auth.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace jaild::api {

bool read_only_method(std::string_view method) {
    return method == "status" || method == "logs" || method == "events" || method == "version";
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
               "\", which may only use status, logs, events and version (use sudo)";
    }
    std::string msg = "permission denied: uid " + uid + " is not root and not in group \"" + g +
                      "\"; add it with: adduser USER " + g;
    if (!policy.group_gid)
        msg += " (the group does not exist yet; create it with: addgroup --system " + g + ")";
    return msg;
}

std::vector<gid_t> parse_proc_status_groups(std::string_view text) {
    std::vector<gid_t> groups;
    std::istringstream in{std::string(text)};
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("Groups:", 0) != 0) continue;
        std::istringstream fields(line.substr(7));
        unsigned long g = 0;
        while (fields >> g) groups.push_back(static_cast<gid_t>(g));
        break;
    }
    return groups;
}

Result<Peer> peer_of(int socket_fd) {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (getsockopt(socket_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
        int err = errno;
        return make_error(std::string("getsockopt(SO_PEERCRED) failed: ") + std::strerror(err));
    }
    Peer peer{cred.uid, cred.gid, cred.pid, {}};
    // Root may do everything: its groups never matter (and reading them cost about a third
    // of the CPU of a `start` request, bench figure 1).
    if (cred.uid == 0) return peer;
    std::ifstream status("/proc/" + std::to_string(cred.pid) + "/status");
    if (status) {
        std::stringstream buf;
        buf << status.rdbuf();
        peer.groups = parse_proc_status_groups(buf.str());
        if (!buf.str().empty()) return peer;
    }
    // The peer may have exited or live in another PID namespace: use its user's groups.
    std::vector<char> pwbuf(16384);
    passwd pw{};
    passwd* found = nullptr;
    if (getpwuid_r(cred.uid, &pw, pwbuf.data(), pwbuf.size(), &found) == 0 && found) {
        int n = 64;
        std::vector<gid_t> groups(static_cast<std::size_t>(n));
        if (getgrouplist(pw.pw_name, cred.gid, groups.data(), &n) < 0) {
            groups.resize(static_cast<std::size_t>(n));
            getgrouplist(pw.pw_name, cred.gid, groups.data(), &n);
        }
        groups.resize(static_cast<std::size_t>(std::max(n, 0)));
        peer.groups = std::move(groups);
    }
    return peer;
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

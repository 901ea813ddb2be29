// Who may call what on the control socket. Root may do everything; members of the
// control group (default "jaild") may only look: status, logs, events, version.
// The peer's identity comes from SO_PEERCRED, never from anything the client says.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jaild/result.hpp"

namespace jaild::api {

struct Peer {
    uid_t uid = static_cast<uid_t>(-1);
    gid_t gid = static_cast<gid_t>(-1);  // primary group
    pid_t pid = 0;
    std::vector<gid_t> groups;  // supplementary groups (may include gid)
};

// The control group as resolved when the peer connected; gid empty when it does not exist.
struct AuthPolicy {
    std::string group_name = "jaild";
    std::optional<gid_t> group_gid;
};

bool read_only_method(std::string_view method);
bool allowed(std::string_view method, const Peer& peer, const AuthPolicy& policy);
// Why `peer` may not call `method`, and how to fix it.
std::string denial_message(std::string_view method, const Peer& peer, const AuthPolicy& policy);

// SO_PEERCRED of a connected Unix socket plus, for a peer other than root, its
// supplementary groups at connect time (SO_PEERGROUPS). Never blocks.
Result<Peer> peer_of(int socket_fd);
// getgrnam for the control group; empty when the group does not exist.
AuthPolicy resolve_policy(const std::string& group_name);

}  // namespace jaild::api

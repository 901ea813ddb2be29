// Checks of a jail's root directory on disk, run when the jail is started (never at
// configuration load: the root belongs to the jail, and nothing a jail does to it may stop
// jaild or the other jails from loading their configuration). Each function returns one
// issue per problem, each naming the path and the fix; path = `json_path`.
#pragma once

#include <string>
#include <vector>

#include "config/load.hpp"

namespace jaild::config {

// What firejail --chroot demands (root-owned, not group/world-writable, dev etc home proc
// tmp var var/tmp present), that no other host user can reach the root (check_root_reachable)
// and that the host can still replace it (check_root_flags).
std::vector<ConfigIssue> check_root_directory(const std::string& root,
                                              const std::string& json_path);

// Host users other than root must not be able to reach a jail's root: a jail's root user can
// plant a setuid-root program there, and the host filesystem has no nosuid. Required: the
// root's parent directory or one of its ancestors is owned by root and not searchable by
// group or others (e.g. /var/lib/jaild/jails 0700). That also covers ROOT.new, ROOT.old and
// ROOT.previous, which sit next to the root. `what` names the directory in the message (the
// same rule holds for a volume's host directory, which the jail writes too).
std::vector<ConfigIssue> check_root_reachable(const std::string& root, const std::string& json_path,
                                              const std::string& what = "the jail's root");

// The immutable and append-only attributes (chattr +i / +a, FS_IOC_GETFLAGS) on the root
// directory or on an entry directly in it: the host could neither replace nor remove that
// root. Filesystems without those attributes have no issue.
std::vector<ConfigIssue> check_root_flags(const std::string& root, const std::string& json_path);

}  // namespace jaild::config

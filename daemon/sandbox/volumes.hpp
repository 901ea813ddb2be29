// Volumes (jaild.json "volumes"): host directories mounted into a jail's root for its sandbox,
// so that data outlives the root (provision --force, upgrades).
//
// The mount is made in the sandbox's own mount namespace only: firejail is cloned with
// CLONE_NEWNS, and that child, before exec, turns its mounts into slaves (nothing propagates
// back to the host) and bind-mounts each host directory, nosuid and nodev (read-only if so
// configured), onto its mount point in the root. The host's mount table never shows a volume:
// the removal of a replaced root (rm -rf ROOT.old) can never reach into a volume, and nothing
// is left mounted when the sandbox ends. Joins and exec health checks enter the sandbox's
// mount namespace and see the volumes too; provisioning steps (a new root) do not.
//
// The root is written by the jail: the mount point is opened beneath the root with
// openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS), so a link planted
// on the way (var/lib/postgresql -> /etc) fails the start instead of moving the mount.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "jaild/result.hpp"

namespace jaild::sandbox {

struct VolumeMount {
    std::string host;      // the host directory
    std::string root;      // the jail's root directory
    std::string relative;  // the mount point below root, without the leading '/'
    bool read_only = false;
};

// Before a start: checks each volume's host directory (a directory, not a link, and closed to
// other host users like a root, config/root_directory.hpp) and makes what is missing of its
// mount point inside the root (plain directories, 0755, never through a link). Returns the
// mounts for SpawnOptions::volumes, or the first problem, naming jails.NAME.volumes[i] and the
// fix.
Result<std::vector<VolumeMount>> prepare_volumes(const config::JailConfig& jail);

// The host directory's path must be its real path: no symbolic link on the way, which could
// lead into a jail's root (where that jail could swap the directory) or elsewhere than the
// configuration says. An error naming `json_path` and the real path, if it is not.
Result<void> check_real_host_path(const std::string& host, const std::string& json_path);

// Opens `relative` below the directory `root_fd`, O_PATH: only plain directories on the way
// (no symbolic or magic link), never leaving the root. -1 with errno on failure.
int open_beneath(int root_fd, const char* relative);

// Runs in the child between clone(CLONE_NEWNS) and exec (child_process.cpp): system calls
// only, no allocation. Returns 0, or the errno of the first failure with *failed set to the
// volume's index.
int mount_volumes(const std::vector<VolumeMount>& volumes, std::size_t* failed);

}  // namespace jaild::sandbox

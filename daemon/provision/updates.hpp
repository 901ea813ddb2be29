// Package updates of a provisioned root (jailctl upgrade): the pure parts.
//
// Two programs take part, and neither trusts the root:
//  - jaild's own apt (the host's /usr/bin/apt-get, run as the unprivileged user _apt through
//    setpriv) refreshes the package lists, works out what is pending and downloads it. It is
//    pointed at a stage directory jaild owns (CACHE/updates/SUITE: lists, archives, the apt
//    sources jaild derives from the host's), reads the root's package database only from a
//    copy jaild took without following the jail's links, and reads nothing else of the root.
//  - the root's own apt-get installs the downloaded packages inside a copy of the root, under
//    the jail's own containment (its capabilities, no_new_privs, seccomp, limits) with no
//    network (--net=none), the stage mounted read-only: maintainer scripts and hooks planted by
//    the jail run exactly as contained as the jail itself.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace jaild::provision {

struct PendingPackage {
    std::string name, from, to;
    bool security = false;
    auto operator<=>(const PendingPackage&) const = default;
};

// What `apt-get -s dist-upgrade` says it would install or upgrade: its "Inst NAME [OLD] (NEW
// ORIGINS [ARCH])" lines. A package is a security update when one of its origins is a
// -security suite ("Debian-Security:12/stable-security").
std::vector<PendingPackage> parse_simulation(const std::vector<std::string>& lines);
int count_security(const std::vector<PendingPackage>& packages);

// The stage of one suite: CACHE/updates/SUITE.
struct UpdateStage {
    std::string dir;          // lists/, archives/, sources.list.d/, preferences.d/ below it
    std::string status_file;  // the jail's package database as jaild copied it (outside dir)
    bool security_only = false;
};

// Where the stage is mounted (read-only) in the copy being upgraded.
inline constexpr const char* kStageMountPoint = "/var/lib/jaild-upgrade";

// apt preferences that keep every package at its installed version unless the candidate comes
// from a -security suite (a package that is not installed yet, a new dependency, may still
// come from anywhere): apt's own pinning does the choosing.
std::string security_only_preferences(const std::string& suite);

// jaild's apt as _apt over the stage: COMMAND is e.g. {"update"} or {"-s", "dist-upgrade"}.
std::vector<std::string> host_apt_argv(const UpdateStage& stage, std::vector<std::string> command);

// The upgrade inside the copy: the root's apt-get, no download, the stage's lists and
// archives, the stage's sources and preferences, keeping the root's changed configuration
// files (--force-confold) and taking new defaults for untouched ones (--force-confdef).
std::vector<std::string> in_copy_upgrade_command(bool security_only);

// firejail with the jail's containment, chrooted into `root` (the copy), without network.
std::vector<std::string> contained_upgrade_argv(const config::JailConfig& jail,
                                                const std::string& firejail,
                                                const std::string& root, bool security_only);

}  // namespace jaild::provision

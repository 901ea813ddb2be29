// Building firejail's argument vectors from a jail's configuration. Pure.
#pragma once

#include <string>
#include <vector>

#include "config/config.hpp"

namespace jaild::sandbox {

struct LaunchSpec {
    std::string firejail = "/usr/bin/firejail";
    std::string sandbox_name;  // --name=, the jail's name
    std::string netns;         // --netns=, the jail's prepared network namespace ("" = none)
};

// firejail --name=N --chroot=ROOT --quiet --deterministic-shutdown --deterministic-exit-code
//          --hostname=H --private --netns=NS [profile] [limits] [env] [extra options] CMD ARGS
// The command follows the options directly: firejail 0.9.72 runs a command that follows
// "--" through /bin/bash -c, which a minimal root does not have.
std::vector<std::string> launch_argv(const config::JailConfig& jail, const LaunchSpec& spec);

// A one-off command under the jail's containment in another copy of its root (an upgrade):
// the same profile (capabilities, no_new_privs, seccomp), limits, environment and options as
// its main process, but no network at all (--net=none: only a loopback of its own) and no
// sandbox name.
std::vector<std::string> contained_argv(const config::JailConfig& jail, const std::string& firejail,
                                        const std::string& root,
                                        const std::vector<std::string>& command);

}  // namespace jaild::sandbox

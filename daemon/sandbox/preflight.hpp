// Checks made before jaild touches anything: each failure says what is wrong and the fix.
#pragma once

#include <string>
#include <vector>

namespace jaild::sandbox {

struct PreflightOptions {
    std::string firejail = "/usr/bin/firejail";
    std::string firejail_config = "/etc/firejail/firejail.config";
    bool require_root = true;
};

// Pure: is `chroot yes` in effect in this firejail.config text? (Debian ships it off.)
bool firejail_chroot_enabled(const std::string& config_text);

// Returns one message per problem (empty: all good).
std::vector<std::string> preflight(const PreflightOptions& options);

}  // namespace jaild::sandbox

// Default locations; every one can be overridden on the command line or in the config.
#pragma once

namespace jaild::paths {

inline constexpr const char* kConfig = "/etc/jaild/jaild.json";
inline constexpr const char* kSocket = "/run/jaild/jaild.sock";
inline constexpr const char* kStateDir = "/var/lib/jaild";
inline constexpr const char* kRunDir = "/run/jaild";
inline constexpr const char* kFirejail = "/usr/bin/firejail";
inline constexpr const char* kFirejailConfig = "/etc/firejail/firejail.config";
inline constexpr const char* kNetnsDir = "/run/netns";

}  // namespace jaild::paths

// Reading and writing sysctls through /proc/sys (e.g. "net.ipv4.ip_forward"). Values are
// per network namespace for net.*: they act on the namespace of the calling thread.
#pragma once

#include <string>

#include "jaild/result.hpp"

namespace jaild::net {

// "net.ipv4.ip_forward" -> "/proc/sys/net/ipv4/ip_forward".
std::string sysctl_path(const std::string& key);
// The value without its trailing newline; error names the file and errno text.
Result<std::string> read_sysctl(const std::string& key);
Result<void> write_sysctl(const std::string& key, const std::string& value);

}  // namespace jaild::net

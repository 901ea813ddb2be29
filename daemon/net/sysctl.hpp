// Reading and writing sysctls through /proc/sys (e.g. "net.ipv4.ip_forward"). Values are
// per network namespace for net.*: they act on the namespace of the calling thread.
#pragma once

#include <string>

#include "jaild/result.hpp"
#include "jaild/unique_fd.hpp"

namespace jaild::net {

// "net.ipv4.ip_forward" -> "/proc/sys/net/ipv4/ip_forward".
std::string sysctl_path(const std::string& key);
// The value without its trailing newline; error names the file and errno text.
Result<std::string> read_sysctl(const std::string& key);
Result<void> write_sysctl(const std::string& key, const std::string& value);
// The sysctl file opened for writing in the calling thread's network namespace: the file
// stays bound to that namespace, so a thread that entered another namespace can open it and
// the daemon's thread write through it later. ENOENT is returned as an error too.
Result<UniqueFd> open_sysctl_for_write(const std::string& key);
Result<void> write_sysctl_fd(int fd, const std::string& key, const std::string& value);

}  // namespace jaild::net

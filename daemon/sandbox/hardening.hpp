// How jaild hardens a jail's sandbox by default, and what a configuration gives up of it.
// Pure: firejail options and sentences for the log.
//
// With "profile": "default" (the default) every jail runs with firejail --noprofile plus
// options jaild chooses itself, so that the same settings hold for a Debian root and a
// busybox root, and so that joins and exec health checks (sandbox/enter.hpp) can apply
// exactly what the jail's main process has:
//   --caps.keep=LIST   the capabilities the service needs (a keep-list per recipe, or the
//                      jail's "capabilities"); no CAP_SYS_ADMIN, CAP_SYS_CHROOT, CAP_NET_ADMIN,
//                      CAP_NET_RAW, CAP_MKNOD, CAP_LINUX_IMMUTABLE, CAP_SETFCAP, ...
//   --nonewprivs       setuid/file capabilities inside the root gain nothing
//   --seccomp          firejail's default system-call filter (mount, module loading,
//                      kexec, ptrace, bpf, keyctl, ...), plus its 32-bit ABI filter
//   --protocol=unix,inet,inet6   no packet or netlink sockets
//   --private-dev      a minimal /dev (null, zero, random, tty, pts, shm ...)
#pragma once

#include <string>
#include <vector>

#include "config/config.hpp"

namespace jaild::sandbox {

// The capabilities a jail keeps when its configuration names none: what its recipe's service
// needs (measured with Apache and PostgreSQL under this hardening), else a small server set.
std::vector<std::string> default_capabilities(const config::JailConfig& jail);
// The jail's "capabilities" if given, else default_capabilities(); sorted, unique.
std::vector<std::string> kept_capabilities(const config::JailConfig& jail);
// The firejail options of the default hardening; empty unless profile is "default".
std::vector<std::string> hardening_argv(const config::JailConfig& jail);
// What the configuration weakens, one sentence each naming it, for a warning at load; empty
// for a jail under the full default hardening.
std::vector<std::string> weakenings(const config::JailConfig& jail);
// One warning per weakening of every jail, naming the jail (at start, reload, --check-config).
void log_weakenings(const config::Config& config);

}  // namespace jaild::sandbox

// Is the process at a recorded PID still the sandbox jaild recorded? What a new jaild checks
// before it adopts a jail's running sandbox (live restore, issue 16). PIDs are recycled and
// sandbox names are global (any local user may run the setuid firejail with any --name), so
// only what nobody else can forge counts: the start time recorded with the PID, a real uid of
// 0 (a user's firejail runs with the user's real uid), the program (firejail) and, when the
// jails run in systemd scopes, the scope's cgroup (only root may move a process there).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace jaild::sandbox {

struct ProcessFacts {
    std::uint64_t start_time = 0;  // /proc/PID/stat field 22
    long real_uid = -1;            // /proc/PID/status "Uid:" first field
    std::string comm;              // /proc/PID/comm, without the newline
    std::string cgroup;            // /proc/PID/cgroup, as read
};

// Field 22 of /proc/PID/stat (after the parenthesised comm, which may hold spaces and ')').
std::optional<std::uint64_t> parse_start_time(std::string_view stat);
// The real uid from /proc/PID/status.
std::optional<long> parse_real_uid(std::string_view status);
// Whether /proc/PID/cgroup puts the process in `scope` under jaild's slice
// (".../jaild.slice/jaild-JAIL.scope" on the unified hierarchy's "0::" line).
bool in_jail_scope(std::string_view cgroup, std::string_view jail);

// "" if `facts` are the recorded sandbox of `jail`; else why not, for the log.
// `require_scope`: the jails run in systemd scopes, so the sandbox must be in the jail's.
std::string judge_sandbox(const ProcessFacts& facts, std::uint64_t recorded_start,
                          std::string_view jail, bool require_scope);

// The start time of a live process (nullopt if it is gone).
std::optional<std::uint64_t> read_start_time(int pid);
// Reads the facts of a live process (nullopt if it is gone or unreadable).
std::optional<ProcessFacts> read_process_facts(int pid);

}  // namespace jaild::sandbox

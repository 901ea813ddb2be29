// What confines a process, as the kernel reports it in /proc/PID/status: capability sets,
// no_new_privs and seccomp. Used to enter a jail with exactly its main process's bounds
// (sandbox/enter.hpp) and to show them (`jailctl status JAIL`).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "jaild/result.hpp"

namespace jaild::sandbox {

struct ProcessSecurity {
    std::uint64_t cap_effective = 0;
    std::uint64_t cap_permitted = 0;
    std::uint64_t cap_bounding = 0;
    bool no_new_privs = false;
    int seccomp_mode = 0;     // 0 disabled, 1 strict, 2 filter
    int seccomp_filters = 0;  // Seccomp_filters: (Linux 5.9+), 0 if absent
    int uid = -1, gid = -1;   // real ids
};

// Parses the text of /proc/PID/status; an error names the first field missing.
Result<ProcessSecurity> parse_process_security(std::string_view status_text);
// Reads /proc/PID/status through an open /proc directory of that process (dirfd), or by PID
// when dirfd is -1.
Result<ProcessSecurity> read_process_security(int pid, int proc_dirfd = -1);

}  // namespace jaild::sandbox

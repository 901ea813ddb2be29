// Reading firejail's process tree and its registry of sandbox names under /run/firejail.
//   firejail (our child, host PID namespace)
//    └ firejail (PID 1 in the sandbox)
//       └ the jail's command  <- the "main" process that gets the stop signal
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace jaild::sandbox {

// Direct children of a process, from /proc/PID/task/*/children (empty if it is gone).
std::vector<int> child_pids(int pid);

// The sandbox's init (firejail's child: PID 1 of the sandbox's PID namespace) and the jail
// command it started, as host PIDs.
struct SandboxMain {
    int init_pid = 0;
    int main_pid = 0;
};
// nullopt while firejail is still setting up: no child yet, the child not yet exec'd (its
// name is still "firejail"), or one of firejail's helper programs (fseccomp, fcopy...)
// running where the command will be.
std::optional<SandboxMain> find_sandbox_main(int firejail_pid);
// The same for a command PID an earlier jaild recorded (live restore), without walking the
// process tree: `main_pid` is still a process whose parent's parent is `firejail_pid`, in a
// PID namespace other than jaild's (the sandbox's), and not one of firejail's programs.
// nullopt otherwise (then find_sandbox_main looks).
std::optional<SandboxMain> confirm_sandbox_main(int firejail_pid, int main_pid);
// The jail command's host PID under the given firejail process, if it exists yet.
std::optional<int> find_main_pid(int firejail_pid);

// True for the process names (comm) of the programs firejail runs inside a sandbox while
// it sets it up (/usr/lib/<arch>/firejail/f*), and for firejail itself.
bool is_firejail_program(std::string_view comm);

// The fields of /proc/PID/stat jaild needs: the command name, the state letter, the parent
// (0 if unreadable) and, for a zombie, its wait status (field 52, "exit_code", in waitpid's
// format). nullopt if the text is malformed.
struct ProcStat {
    std::string comm;
    char state = '?';
    int ppid = 0;
    std::optional<int> exit_code;
};
std::optional<ProcStat> parse_proc_stat(std::string_view text);

// The wait status (waitpid's format) of a process that has exited, through a pidfd we hold
// on it: PIDFD_GET_INFO's exit information once it has been reaped (Linux 6.15 and later),
// else /proc/PID/stat while it is a zombie. nullopt if neither can tell (still running, or
// reaped by its parent on an older kernel).
std::optional<int> exited_status(int pid, int pidfd);

// PIDs of live firejail sandboxes registered with this name (/run/firejail/name/<pid>) and
// started by root (real uid 0): never a sandbox some user named like a jail.
std::vector<int> live_sandboxes_named(const std::string& name,
                                      const std::string& run_dir = "/run/firejail");

}  // namespace jaild::sandbox

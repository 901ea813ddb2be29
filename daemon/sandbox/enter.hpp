// Entering a running jail (joins, exec health checks) with no more privilege than the jail's
// own main process.
//
// firejail --join run by root applies no security filter: the joined command got every
// capability and no seccomp, so a binary planted in the root escaped with a double chroot.
// Instead jaild re-executes itself (/proc/self/exe, so an upgraded binary on disk changes
// nothing) as a small helper that, still host root and before running any code of the jail:
//   1. takes the jail's main process from a pidfd jaild holds (fd 3), never from a name or a
//      PID read earlier, and checks the pidfd is still live after opening /proc/PID/root;
//   2. reads the main process's capability bounding set and copies its seccomp filters
//      (PTRACE_SECCOMP_GET_FILTER, the exact BPF programs firejail installed);
//   3. setns() into all its namespaces through the pidfd and chroots into its root;
//   4. becomes a child subreaper and forks the command, which drops to uid 0 with only the
//      bounding set, no ambient capabilities, no_new_privs, the copied filters, and execs;
//   5. when the command exits, SIGKILLs whatever it left running, reaps it, and exits with
//      the command's status (0-255, 128+signal).
// The helper itself stays in the host's PID namespace, invisible to the jail.
#pragma once

#include <string>
#include <vector>

namespace jaild::sandbox {

inline constexpr const char* kEnterVerb = "__enter-jail";
inline constexpr int kEnterPidfd = 3;  // where the helper expects the main process's pidfd

// {"/proc/self/exe", kEnterVerb, PID, "--", command...}; spawn it with the main process's
// pidfd as descriptor kEnterPidfd. An empty command runs /bin/sh.
std::vector<std::string> enter_argv(int main_pid, const std::vector<std::string>& command);

// The helper's entry point (main() dispatches argv[1] == kEnterVerb here). Returns the exit
// status; errors before the command runs are printed to stderr with status 125.
int enter_main(int argc, char** argv);

}  // namespace jaild::sandbox

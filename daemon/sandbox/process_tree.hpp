// Reading firejail's process tree and its registry of sandbox names under /run/firejail.
//   firejail (our child, host PID namespace)
//    └ firejail (PID 1 in the sandbox)
//       └ the jail's command  <- the "main" process that gets the stop signal
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace jaild::sandbox {

// Direct children of a process, from /proc/PID/task/*/children (empty if it is gone).
std::vector<int> child_pids(int pid);

// The jail command's host PID under the given firejail process, if it exists yet.
std::optional<int> find_main_pid(int firejail_pid);

// PIDs of live firejail sandboxes registered with this name (/run/firejail/name/<pid>).
std::vector<int> live_sandboxes_named(const std::string& name,
                                      const std::string& run_dir = "/run/firejail");

}  // namespace jaild::sandbox

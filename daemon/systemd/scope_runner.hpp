// ScopeRunner: the ProcessRunner jaild uses with systemd as PID 1. A jail's sandbox
// (SpawnOptions::cgroup_limits set) runs in a transient scope of its own, jaild-JAIL.scope in
// jaild.slice, carrying the jail's limits:
//   1. the child is started gated (SpawnOptions::gate_fd): it waits before exec, so firejail
//      cannot fork before it is in its scope;
//   2. the scope is requested with the child's PID (Manager::start_scope);
//   3. once systemd's job is done the gate is released and firejail execs, in the scope.
// If the scope cannot be made, the child is killed before it ran anything and its exit
// carries the reason (Process::exit_note()): the jail fails its start and backs off like
// any failed start; it never runs without its limits.
// Joins and exec health checks of a jail (SpawnOptions::jail set, cgroup_limits unset) run
// in the jail's scope too: they execute the jail's own binaries (firejail --join enters its
// namespaces and chroot), which jail root can replace with a fork bomb or a memory hog. In
// jaild.service's cgroup that would fill the unit's TasksMax (jaild's own clone() and every
// other jail's checks fail) or be OOM-killed inside the unit. So such a helper is started
// gated, moved into the running scope with AttachProcessesToUnit(jaild-JAIL.scope, "", [pid]),
// and only then let go; if systemd refuses (the jail's scope is gone, or was created by a
// jaild without Delegate=yes), the helper is killed at its gate and its exit_note() says why
// (the check fails with it, the join ends with it). It never runs outside the scope. It
// shares the jail's limits: a jail that used up its tasks_max or memory_max fails its own
// checks, which is the jail's problem, not the host's.
// systemd moves processes into a running unit only if the unit is delegated ("Process
// migration not available on non-delegated units", systemd 252's
// method_attach_processes_to_unit; a subcgroup argument needs delegation as well), so the
// scopes are created with Delegate=yes. What that changes: systemd stops managing the
// cgroups *below* the scope (it creates none there anyway; the jail's processes stay in the
// scope's own cgroup) and enables the scope's controllers for it; the limits (MemoryMax,
// TasksMax, ...) are still the scope's and bound everything inside it, sub-cgroups included;
// SetUnitProperties still changes them. A delegated cgroup is not writable by anyone new:
// there is no User= to chown it to, and the jail cannot reach cgroupfs at all (firejail's
// chroot has no /sys/fs/cgroup, and jail root lacks CAP_SYS_ADMIN to mount one under the
// default profile). Writing cgroup.procs from jaild instead would bypass systemd, the single
// writer of its tree.
// Spawns without a jail (provisioning steps: debootstrap, apt) stay plain children of jaild.
// An OOM kill during a run (the scope's memory.events oom_kill grew, watched with inotify)
// is the exit's reason: "killed by the kernel's OOM killer at memory_max 512M".
// Single-threaded, on the loop; `children`, `manager` and `io` outlive the runner and its
// processes.
#pragma once

#include <string>

#include <boost/asio/io_context.hpp>

#include "sandbox/process_runner.hpp"
#include "systemd/cgroup_usage.hpp"
#include "systemd/manager.hpp"

namespace jaild::systemd {

class ScopeRunner final : public sandbox::ProcessRunner {
  public:
    // `cgroup_root`: where cgroupfs is mounted (tests give a directory of fixture files).
    ScopeRunner(sandbox::ProcessRunner& children, Manager& manager, boost::asio::io_context& io,
                std::string cgroup_root = std::string(kCgroupRoot))
        : children_(children), manager_(manager), io_(io), cgroup_root_(std::move(cgroup_root)) {}

    Result<std::unique_ptr<sandbox::Process>> spawn(const sandbox::SpawnOptions& options,
                                                    sandbox::ExitHandler on_exit) override;
    // A sandbox of an earlier jaild (live restore), proven to be in the jail's scope
    // (sandbox::adopt_sandbox with require_scope); its usage, limits and OOM kills as a
    // spawned one's from then on.
    Result<std::unique_ptr<sandbox::Process>> adopt(const sandbox::AdoptSpec& spec,
                                                    sandbox::EndHandler on_end) override;

  private:
    Result<std::unique_ptr<sandbox::Process>> spawn_helper(const sandbox::SpawnOptions& options,
                                                           sandbox::ExitHandler on_exit);

    sandbox::ProcessRunner& children_;
    Manager& manager_;
    boost::asio::io_context& io_;
    std::string cgroup_root_;
};

// The limits of `limits` whose controller is not in the scope's cgroup.controllers
// ("memory cpu pids ..."): "memory_max not enforced: no memory controller for jaild.slice"
// (systemd in a container gets none on some hosts); "" if all are enforced.
std::string missing_controllers_note(const config::CgroupLimits& limits,
                                     std::string_view controllers);

}  // namespace jaild::systemd

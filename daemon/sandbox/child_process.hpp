// ChildProcess: a process jaild started (firejail, firejail --join, a health command).
// Owns the child: its pidfd, and the duty to reap it. Destroying a ChildProcess that was
// not reaped kills it with SIGKILL and reaps it, so no child outlives its owner by
// accident and no zombie is left. Single-threaded use.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "jaild/result.hpp"
#include "jaild/unique_fd.hpp"
#include "sandbox/volumes.hpp"

namespace jaild::sandbox {

struct SpawnOptions {
    std::vector<std::string> argv;  // argv[0] is the absolute path that is executed
    std::vector<std::string> env;   // the whole environment of the child
    // The child's stdin/stdout/stderr; -1 means /dev/null. Not closed by spawn().
    int stdin_fd = -1, stdout_fd = -1, stderr_fd = -1;
    // A pseudo-terminal slave to become the child's controlling terminal and its stdio
    // (overrides the three above). Implies a new session.
    int controlling_tty = -1;
    bool new_session = false;
    // A descriptor to hand to the child as descriptor 3 (e.g. a pidfd for sandbox/enter.hpp);
    // -1: none. Not closed by spawn().
    int pass_fd = -1;
    // The jail this process belongs to (its sandbox, a join, a health command), "" for
    // jaild's own helpers (provisioning steps): a runner may place it in the jail's unit.
    std::string jail = {};
    // The jail's sandbox itself (not a join, not a check): the limits of the cgroup it is to
    // run in. A runner that cannot enforce them says so (Process::limits_note()).
    std::optional<config::CgroupLimits> cgroup_limits = {};
    // The read end of a pipe: the child waits there, before exec, for one byte (systemd/
    // scope_runner.hpp: until it is in its scope); it dies with jaild meanwhile (PDEATHSIG).
    // To abandon it, kill it: until exec it holds a copy of every descriptor of jaild, the
    // gate's write end included, so closing that is no EOF for it. Such a child is forked
    // rather than vfork-cloned (jaild must run on while it waits), and a failed exec shows as
    // exit status 127, not as an error of spawn(). -1: no gate. Not closed by spawn().
    int gate_fd = -1;
    // Host directories to mount into the jail's root (sandbox/volumes.hpp): the child gets a
    // mount namespace of its own (CLONE_NEWNS) and mounts them there before exec. A failure
    // is an error of spawn() naming the volume, or (gated child) exit status 126 with the
    // reason on the child's stderr.
    std::vector<VolumeMount> volumes = {};
};

class ChildProcess {
  public:
    // clone (vfork-style) + exec. "Could not start" (exec failed: ENOENT, EACCES...) is an error
    // naming the program; a program that started and then failed is a child that exits.
    static Result<ChildProcess> spawn(const SpawnOptions& options);

    ChildProcess() = default;
    ChildProcess(ChildProcess&& other) noexcept;
    ChildProcess& operator=(ChildProcess&& other) noexcept;
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;
    ~ChildProcess();

    int pid() const { return pid_; }
    // Readable (poll/asio wait_read) once the child has exited. -1 after release().
    int pidfd() const { return pidfd_.get(); }
    bool valid() const { return pid_ > 0; }

    // Reaps the child if it has exited: returns its wait status (see exit_status()).
    std::optional<int> try_reap();
    // Reaps a child known to have exited (its pidfd was readable): the kernel may signal the
    // pidfd a moment before waitpid(WNOHANG) can collect the child, so this waits for that
    // moment instead of mistaking it for a child that is still running.
    int reap_exited();
    // Sends a signal through the pidfd (never to a recycled PID). False if it is gone.
    bool signal(int sig) const;
    // SIGKILL and wait: only for teardown paths.
    void kill_and_reap();
    // Forgets the child without killing it (jaild detaches for a restart and leaves its jails
    // running): it is reparented when jaild exits.
    void abandon();

  private:
    int pid_ = -1;
    UniqueFd pidfd_;
};

// 0-255 for a normal exit, 128+N for death by signal N (the shell's convention, which
// firejail --deterministic-exit-code also uses for its command).
int exit_status(int wait_status);
// "exited with status 1", "exited with status 137 (SIGKILL)", "killed by SIGTERM".
std::string describe_exit(int wait_status);
std::string signal_name(int sig);

}  // namespace jaild::sandbox

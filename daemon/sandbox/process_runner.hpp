// ProcessRunner: the one way jaild starts a process and learns of its end (the jails'
// firejail, health commands, joins, provisioning steps). The real runner clones and execs
// a child of jaild and watches its pidfd on the event loop; a recording fake drives the
// supervisor in unit tests (tests/unit/fakes/fake_process_runner.hpp). A runner that starts
// each jail in a cgroup or systemd unit of its own takes SpawnOptions::jail for it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>

#include "jaild/result.hpp"
#include "sandbox/child_process.hpp"

namespace jaild::sandbox {

// What a runner can measure of a jail's sandbox (its cgroup); nullopt: not measurable.
struct ResourceUsage {
    std::optional<std::uint64_t> memory_bytes;  // memory.current
    std::optional<std::uint64_t> cpu_usec;      // cpu.stat usage_usec
    std::optional<std::uint64_t> tasks;         // pids.current
    std::optional<std::uint64_t> oom_kills;     // memory.events oom_kill
};

// A process started by a ProcessRunner. Destroying it before its exit was reported kills it
// (its whole process group, if it leads one: SpawnOptions::new_session) and reaps it; its
// exit handler never runs after that.
class Process {
  public:
    virtual ~Process() = default;
    virtual int pid() const = 0;
    // Through the pidfd: never a recycled PID. False once the process has exited.
    virtual bool signal(int sig) = 0;
    // To its process group (the process and everything it started that stayed in the group);
    // only for processes started with new_session. Nothing once its exit was reported.
    virtual void signal_group(int sig) = 0;

    // For a jail's sandbox (SpawnOptions::cgroup_limits); the defaults suit a runner without
    // cgroups of its own.
    // Its resource use now, read from its cgroup when asked (cheap: a few small files).
    virtual ResourceUsage usage() { return {}; }
    // Limits it runs without although they are configured, and why; "" if all are enforced.
    // A reference, valid until the next update_limits: status reads it per jail per request.
    virtual const std::string& limits_note() const {
        static const std::string none;
        return none;
    }
    // The limits changed (a reload): applied to the running process where the runner can;
    // failures are logged by the runner.
    virtual void update_limits(const config::CgroupLimits& limits) { (void)limits; }
    // Why it ended when the runner knows better than its wait status ("killed by the
    // kernel's OOM killer at memory_max 512M"); "" otherwise. Read in the exit handler.
    virtual std::string exit_note() const { return {}; }

    // Its start time (/proc/PID/stat field 22), read while jaild held its pidfd: with the PID,
    // what identifies this process to a later jaild (live restore). 0 if unknown.
    virtual std::uint64_t start_time() const { return 0; }
    // jaild leaves it running (it detaches for a restart of its own): the handle forgets the
    // process instead of killing it, and its exit handler never runs.
    virtual void release() {}
};

// Runs on the loop once the process has exited and was reaped, with its wait status
// (exit_status() and describe_exit() read it). It may destroy the Process.
using ExitHandler = std::function<void(int wait_status)>;
// An adopted process is not jaild's child: its end is seen through its pidfd, with no wait
// status. Runs on the loop; it may destroy the Process.
using EndHandler = std::function<void()>;

// A sandbox an earlier jaild started and recorded (live restore): its PID and start time.
struct AdoptSpec {
    int pid = 0;
    std::uint64_t start_time = 0;
    std::string jail;
    // The jail's configured cgroup limits (a runner with scopes reports against them).
    std::optional<config::CgroupLimits> cgroup_limits = {};
};

class ProcessRunner {
  public:
    virtual ~ProcessRunner() = default;
    // "Could not start" (no such program, out of descriptors...) is an error naming the
    // program; a program that started and then failed is a process whose handler reports it.
    virtual Result<std::unique_ptr<Process>> spawn(const SpawnOptions& options,
                                                   ExitHandler on_exit) = 0;
    // Takes over a running sandbox an earlier jaild started, once it is proven to be that one
    // (sandbox/adopt_check.hpp: pidfd, start time, real uid 0, firejail, the jail's scope
    // where jails run in scopes). An error says why not; the process is then left alone.
    virtual Result<std::unique_ptr<Process>> adopt(const AdoptSpec& spec, EndHandler on_end) {
        (void)spec;
        (void)on_end;
        return make_error("this process runner cannot adopt running sandboxes");
    }
};

// The adoption every runner can share: a pidfd on spec.pid, the checks of
// sandbox/adopt_check.hpp (with `require_scope`: in the jail's systemd scope too), then its end
// watched through the pidfd on `io`. A runner that starts jails in scopes calls it with true.
Result<std::unique_ptr<Process>> adopt_sandbox(boost::asio::io_context& io, const AdoptSpec& spec,
                                               EndHandler on_end, bool require_scope);

// Children of jaild (ChildProcess), their exits watched through pidfds on `io`.
class ChildRunner final : public ProcessRunner {
  public:
    explicit ChildRunner(boost::asio::io_context& io) : io_(io) {}
    Result<std::unique_ptr<Process>> spawn(const SpawnOptions& options,
                                           ExitHandler on_exit) override;
    // Checks start time, uid and program (not the cgroup: ChildRunner's jails are not in
    // scopes of their own).
    Result<std::unique_ptr<Process>> adopt(const AdoptSpec& spec, EndHandler on_end) override;

  private:
    boost::asio::io_context& io_;
};

}  // namespace jaild::sandbox

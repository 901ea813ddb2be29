#include "sandbox/process_runner.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "sandbox/adopt_check.hpp"

namespace jaild::sandbox {

namespace asio = boost::asio;

namespace {

// Why a plain child of jaild runs without its cgroup limits: only systemd/scope_runner.hpp
// gives a jail a cgroup, and only with systemd as PID 1.
constexpr std::string_view kNoCgroups = "no systemd";

// What the loop's wait holds, apart from the Process handle the owner holds: the wait
// finds it gone once the owner has dropped the handle.
struct Watched {
    Watched(asio::io_context& io, ChildProcess p, ExitHandler h, bool group)
        : child(std::move(p)),
          exit_watch(io),
          retry(io),
          on_exit(std::move(h)),
          leads_group(group) {}
    ChildProcess child;
    asio::posix::stream_descriptor exit_watch;  // on a dup of the pidfd (asio closes it)
    asio::steady_timer retry;                   // reaping again, when it could not yet be
    std::chrono::milliseconds backoff{1};
    ExitHandler on_exit;
    bool leads_group;
};

void reap_or_retry(const std::shared_ptr<Watched>& watched);

// A pidfd turns readable when the process exits, which can be an instant before
// waitpid(WNOHANG) can collect it; a process some tracer holds is not collectable until the
// tracer lets go. Either way jaild tries again after 1 ms, then 2, 4 ... 1 s: neither a
// blocking wait nor a busy loop on the pidfd, which stays readable.
void retry_reap(const std::shared_ptr<Watched>& watched) {
    std::weak_ptr<Watched> weak = watched;
    watched->retry.expires_after(watched->backoff);
    watched->backoff = std::min(watched->backoff * 2, std::chrono::milliseconds(1000));
    watched->retry.async_wait([weak](const boost::system::error_code& ec) {
        auto self = weak.lock();
        if (self && !ec) reap_or_retry(self);
    });
}

void reap_or_retry(const std::shared_ptr<Watched>& watched) {
    auto status = watched->child.try_reap();
    if (!status) return retry_reap(watched);
    auto handler = std::move(watched->on_exit);
    watched->on_exit = nullptr;
    if (handler) handler(*status);
}

void wait_for_exit(const std::shared_ptr<Watched>& watched) {
    std::weak_ptr<Watched> weak = watched;
    watched->exit_watch.async_wait(asio::posix::stream_descriptor::wait_read,
                                   [weak](const boost::system::error_code& ec) {
                                       auto self = weak.lock();
                                       if (self && !ec) reap_or_retry(self);
                                   });
}

std::uint64_t start_time_of(int pid) {
    return read_start_time(pid).value_or(0);
}

class ChildHandle final : public Process {
  public:
    ChildHandle(std::shared_ptr<Watched> w, std::string limits_note)
        : w_(std::move(w)), pid_(w_->child.pid()), limits_note_(std::move(limits_note)) {}
    ~ChildHandle() override {
        // Still running: the whole group goes (a provisioning step's dpkg, a join's shell),
        // then ChildProcess kills and reaps the child itself.
        if (w_->child.valid() && w_->leads_group) ::kill(-pid_, SIGKILL);
        w_->on_exit = nullptr;
    }
    int pid() const override { return pid_; }
    bool signal(int sig) override { return w_->child.signal(sig); }
    void signal_group(int sig) override {
        if (w_->child.valid() && w_->leads_group) ::kill(-pid_, sig);
    }
    const std::string& limits_note() const override { return limits_note_; }
    void update_limits(const config::CgroupLimits& limits) override {
        limits_note_ = config::unenforced_limits_note(limits, kNoCgroups);
    }
    // Read when first asked (only a jail's firejail is), while the child is not reaped yet
    // (until then its PID cannot be reused).
    std::uint64_t start_time() const override {
        if (start_time_ == 0 && w_->child.valid()) start_time_ = start_time_of(pid_);
        return start_time_;
    }
    void release() override {
        w_->on_exit = nullptr;
        boost::system::error_code ignored;
        w_->exit_watch.close(ignored);
        w_->retry.cancel();
        w_->child.abandon();
    }

  private:
    std::shared_ptr<Watched> w_;
    int pid_;
    std::string limits_note_;
    mutable std::uint64_t start_time_ = 0;
};

// A sandbox of an earlier jaild: watched through a pidfd it holds, never waited for (its
// parent is whoever reaps orphans). Destroying the handle while it runs kills it (SIGKILL
// through the pidfd), like a child's.
struct AdoptedWatch {
    AdoptedWatch(asio::io_context& io, UniqueFd fd, EndHandler h)
        : pidfd(std::move(fd)), watch(io), on_end(std::move(h)) {}
    UniqueFd pidfd;
    asio::posix::stream_descriptor watch;  // on a dup of the pidfd
    EndHandler on_end;
    bool ended = false;
};

class AdoptedHandle final : public Process {
  public:
    AdoptedHandle(std::shared_ptr<AdoptedWatch> w, int pid, std::uint64_t start,
                  std::string limits_note)
        : w_(std::move(w)), pid_(pid), start_time_(start), limits_note_(std::move(limits_note)) {}
    ~AdoptedHandle() override {
        if (!w_->ended && w_->pidfd)
            ::syscall(SYS_pidfd_send_signal, w_->pidfd.get(), SIGKILL, nullptr, 0);
        w_->on_end = nullptr;
        boost::system::error_code ignored;
        w_->watch.close(ignored);
    }
    int pid() const override { return pid_; }
    bool signal(int sig) override {
        return !w_->ended && w_->pidfd &&
               ::syscall(SYS_pidfd_send_signal, w_->pidfd.get(), sig, nullptr, 0) == 0;
    }
    // firejail leads its own session (SpawnOptions::new_session at its spawn).
    void signal_group(int sig) override {
        if (!w_->ended) ::kill(-pid_, sig);
    }
    std::uint64_t start_time() const override { return start_time_; }
    const std::string& limits_note() const override { return limits_note_; }
    void update_limits(const config::CgroupLimits& limits) override {
        limits_note_ = config::unenforced_limits_note(limits, kNoCgroups);
    }
    void release() override {
        w_->on_end = nullptr;
        w_->ended = true;
        boost::system::error_code ignored;
        w_->watch.close(ignored);
        w_->pidfd.reset();
    }

  private:
    std::shared_ptr<AdoptedWatch> w_;
    int pid_;
    std::uint64_t start_time_;
    std::string limits_note_;
};

}  // namespace

Result<std::unique_ptr<Process>> ChildRunner::adopt(const AdoptSpec& spec, EndHandler on_end) {
    return adopt_sandbox(io_, spec, std::move(on_end), false);
}

Result<std::unique_ptr<Process>> adopt_sandbox(asio::io_context& io, const AdoptSpec& spec,
                                               EndHandler on_end, bool require_scope) {
    const std::string what =
        "sandbox of jail '" + spec.jail + "' (firejail pid " + std::to_string(spec.pid) + ")";
    if (spec.pid <= 0 || spec.start_time == 0) return make_error(what + ": nothing recorded");
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, spec.pid, 0)));
    if (!pidfd) return make_error(what + " is gone");
    // Read after the pidfd was opened: the facts are of the process the pidfd holds, unless
    // it exited in between, which the poll below catches.
    auto facts = read_process_facts(spec.pid);
    if (!facts) return make_error(what + " is gone");
    auto why = judge_sandbox(*facts, spec.start_time, spec.jail, require_scope);
    if (!why.empty()) return make_error(what + " is not the recorded one: " + why);
    pollfd p{pidfd.get(), POLLIN, 0};
    if (::poll(&p, 1, 0) != 0) return make_error(what + " is gone");
    int watch_fd = ::fcntl(pidfd.get(), F_DUPFD_CLOEXEC, 3);
    if (watch_fd < 0) return make_error("cannot watch " + what + ": " + std::strerror(errno));
    auto watched = std::make_shared<AdoptedWatch>(io, std::move(pidfd), std::move(on_end));
    watched->watch.assign(watch_fd);
    std::weak_ptr<AdoptedWatch> weak = watched;
    watched->watch.async_wait(asio::posix::stream_descriptor::wait_read,
                              [weak](const boost::system::error_code& ec) {
                                  auto self = weak.lock();
                                  if (!self || ec || self->ended) return;
                                  self->ended = true;
                                  auto handler = std::move(self->on_end);
                                  self->on_end = nullptr;
                                  if (handler) handler();
                              });
    return std::unique_ptr<Process>(std::make_unique<AdoptedHandle>(
        std::move(watched), spec.pid, spec.start_time,
        config::unenforced_limits_note(spec.cgroup_limits.value_or(config::CgroupLimits{}),
                                       kNoCgroups)));
}

Result<std::unique_ptr<Process>> ChildRunner::spawn(const SpawnOptions& options,
                                                    ExitHandler on_exit) {
    auto child = ChildProcess::spawn(options);
    if (!child) return child.error();
    int watch_fd = ::fcntl(child->pidfd(), F_DUPFD_CLOEXEC, 3);
    if (watch_fd < 0)
        return make_error(std::string("cannot watch ") + options.argv[0] + ": " +
                          std::strerror(errno));
    bool group = options.new_session || options.controlling_tty >= 0;
    auto watched = std::make_shared<Watched>(io_, std::move(*child), std::move(on_exit), group);
    watched->exit_watch.assign(watch_fd);
    wait_for_exit(watched);
    auto note = options.cgroup_limits
                    ? config::unenforced_limits_note(*options.cgroup_limits, kNoCgroups)
                    : std::string();
    return std::unique_ptr<Process>(std::make_unique<ChildHandle>(std::move(watched), note));
}

}  // namespace jaild::sandbox

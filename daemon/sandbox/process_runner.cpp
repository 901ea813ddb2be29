#include "sandbox/process_runner.hpp"

#include <fcntl.h>
#include <signal.h>

#include <chrono>
#include <cstring>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

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
    std::string limits_note() const override { return limits_note_; }
    void update_limits(const config::CgroupLimits& limits) override {
        limits_note_ = config::unenforced_limits_note(limits, kNoCgroups);
    }

  private:
    std::shared_ptr<Watched> w_;
    int pid_;
    std::string limits_note_;
};

}  // namespace

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

// firejail --deterministic-shutdown, on the exit of the command, sends SIGTERM to the rest of
// the sandbox, sleeps 100 ms, sends SIGKILL and only then exits: every crash cost 100 ms
// before jaild even learnt of it (bench figure 2). jaild watches the command itself; when it
// exits, jaild reads its wait status (PIDFD_GET_INFO, or /proc while it is a zombie) and
// sends SIGKILL to the sandbox's init, which ends everything in the sandbox's PID namespace
// at once; firejail then exits and cleans up as usual, and the jail reports the command's
// status rather than firejail's. If the status cannot be read, jaild leaves firejail to its
// own shutdown: slower, never wrong.
#include "supervisor/main_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <boost/asio/posix/stream_descriptor.hpp>

#include "log/logging.hpp"
#include "sandbox/child_process.hpp"

namespace jaild::supervisor {

namespace {

constexpr Millis kFindMax{500};      // looks after 1 ms, then 2, 4, ... up to this
constexpr int kStatusAttempts = 20;  // 1 ms apart: the status shows within microseconds

bool send(int pidfd, int sig) {
    return pidfd >= 0 && ::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) == 0;
}

}  // namespace

struct MainProcess::State {
    explicit State(boost::asio::io_context& io) : watch(io) {}
    int firejail_pid = 0;
    int pid = 0;  // 0 until found
    UniqueFd pidfd;
    UniqueFd init_pidfd;                          // the sandbox's init (PID 1 inside)
    boost::asio::posix::stream_descriptor watch;  // on a dup of pidfd
    int attempts = 0;
    std::optional<TimePoint> exited_at;
    std::optional<int> wait_status;
};

MainProcess::MainProcess(boost::asio::io_context& io, TimeSource& time,
                         sandbox::SandboxInspector& sandboxes, std::string jail)
    : io_(io), time_(time), sandboxes_(sandboxes), jail_(std::move(jail)), timer_(time.timer()) {}

MainProcess::~MainProcess() = default;

void MainProcess::track(int firejail_pid) {
    reset();
    state_ = std::make_shared<State>(io_);
    state_->firejail_pid = firejail_pid;
    look(Millis(1));  // firejail needs a few ms to start the command
}

void MainProcess::adopt(int firejail_pid, int recorded_main_pid) {
    reset();
    state_ = std::make_shared<State>(io_);
    state_->firejail_pid = firejail_pid;
    if (recorded_main_pid > 0) {
        if (auto main = sandboxes_.open_recorded_main(firejail_pid, recorded_main_pid))
            return found(std::move(*main));
    }
    look(Millis(1));
}

void MainProcess::reset() {
    timer_->cancel();
    state_.reset();
}

int MainProcess::pid() const {
    return state_ && state_->pid && !state_->exited_at ? state_->pid : 0;
}

int MainProcess::pidfd() const {
    return pid() ? state_->pidfd.get() : -1;
}

std::optional<TimePoint> MainProcess::exited_at() const {
    return state_ ? state_->exited_at : std::nullopt;
}

std::optional<int> MainProcess::wait_status() const {
    return state_ ? state_->wait_status : std::nullopt;
}

bool MainProcess::signal(int sig) const {
    return pid() && send(state_->pidfd.get(), sig);
}

void MainProcess::look(Millis delay) {
    time_.start_after(*timer_, delay, [this, delay] {
        auto main = sandboxes_.open_main(state_->firejail_pid);
        // Not started yet, or it has exited already (then firejail is ending the sandbox by
        // itself and the jail learns of it from firejail's exit).
        if (!main) return look(std::min(delay * 2, kFindMax));
        found(std::move(*main));
        if (on_found_) on_found_();
    });
}

void MainProcess::found(sandbox::SandboxInspector::OpenedMain main) {
    auto& s = *state_;
    s.pid = main.pid;
    s.pidfd = std::move(main.pidfd);
    s.init_pidfd = std::move(main.init_pidfd);
    s.watch.assign(::fcntl(s.pidfd.get(), F_DUPFD_CLOEXEC, 3));
    std::weak_ptr<State> weak = state_;
    s.watch.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                       [this, weak](const boost::system::error_code& ec) {
                           auto st = weak.lock();
                           // A run that reset() or track() replaced is gone: `this` is not
                           // touched for it (the MainProcess may be gone too).
                           if (!st || ec || st != state_) return;
                           st->exited_at = time_.now();
                           read_exit();
                       });
}

void MainProcess::read_exit() {
    auto& s = *state_;
    auto status = sandbox::exited_status(s.pid, s.pidfd.get());
    if (!status) {
        if (++s.attempts >= kStatusAttempts) {
            log::jail_logger(jail_)->debug(
                "jail '{}': exit status of main process {} unreadable; waiting for firejail's "
                "own shutdown",
                jail_, s.pid);
            return;
        }
        time_.start_after(*timer_, Millis(1), [this] { read_exit(); });
        return;
    }
    s.wait_status = *status;
    log::jail_logger(jail_)->debug("jail '{}': main process {} {}; ending its sandbox now", jail_,
                                   s.pid, sandbox::describe_exit(*status));
    send(s.init_pidfd.get(), SIGKILL);
}

}  // namespace jaild::supervisor

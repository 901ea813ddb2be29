#include "sandbox/child_process.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace jaild::sandbox {

namespace {

int pidfd_send_signal(int pidfd, int sig) {
    return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

std::vector<char*> c_strings(const std::vector<std::string>& v) {
    std::vector<char*> out;
    out.reserve(v.size() + 1);
    for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
    out.push_back(nullptr);
    return out;
}

struct ChildArgs {
    const SpawnOptions* options;
    char** argv;
    char** envp;
    int devnull;
    int error_pipe;  // -1: none (a gated child)
    pid_t parent;
};

// What the child tells spawn() through the error pipe: errno, and which volume failed to
// mount (index + 1; 0: the exec or a dup failed).
struct ChildFailure {
    int error;
    int volume;
};

void report_errno(int error_pipe, int volume = 0) {
    ChildFailure f{errno, volume};
    if (error_pipe >= 0) (void)!::write(error_pipe, &f, sizeof f);
}

// For a gated child, whose spawn() has returned long ago: the reason on its stderr, in the
// jail's log. write() only: no allocation, no stdio.
void tell_volume_failure(int fd, const VolumeMount& v, int error) {
    char number[16];
    int n = 0;
    unsigned value = static_cast<unsigned>(error);
    do {
        number[sizeof number - 1 - n++] = static_cast<char>('0' + value % 10);
        value /= 10;
    } while (value != 0 && n < 15);
    for (const char* piece :
         {"jaild: cannot mount volume ", v.host.c_str(), " at /", v.relative.c_str(), " (errno "}) {
        (void)!::write(fd, piece, std::strlen(piece));
    }
    (void)!::write(fd, number + sizeof number - n, static_cast<std::size_t>(n));
    static constexpr char kEnd[] = "); see jaild.json(5) VOLUMES\n";
    (void)!::write(fd, kEnd, sizeof kEnd - 1);
}

// A gated child waits for its byte; it dies with jaild meanwhile (PDEATHSIG, checked against
// a jaild that died before it was set), and takes PDEATHSIG off again before exec. (EOF, or
// an error, ends it too, though jaild abandons a gated child by killing it.)
void wait_at_gate(int gate_fd, pid_t parent) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);
    char byte = 0;
    ssize_t n;
    do {
        n = ::read(gate_fd, &byte, 1);
    } while (n < 0 && errno == EINTR);
    if (n != 1) ::_exit(126);
    ::prctl(PR_SET_PDEATHSIG, 0);
}

// Runs in the child between clone and exec. The child shares jaild's memory (CLONE_VM) while
// jaild is suspended (CLONE_VFORK), so: async-signal-safe system call wrappers only, no
// allocation, no locks (what glibc's posix_spawn child does too).
int exec_child(void* raw) {
    const auto& a = *static_cast<const ChildArgs*>(raw);
    const SpawnOptions& o = *a.options;
    // Signals are blocked (by spawn) until every handler is back to its default: a jaild
    // handler must never run in here, on jaild's memory.
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (o.gate_fd >= 0) wait_at_gate(o.gate_fd, a.parent);
    if (!o.volumes.empty()) {
        std::size_t failed = 0;
        if (int e = mount_volumes(o.volumes, &failed); e != 0) {
            if (a.error_pipe < 0) {
                tell_volume_failure(o.stderr_fd >= 0 ? o.stderr_fd : a.devnull, o.volumes[failed],
                                    e);
            }
            errno = e;
            report_errno(a.error_pipe, static_cast<int>(failed) + 1);
            ::_exit(126);
        }
    }

    int in = o.stdin_fd >= 0 ? o.stdin_fd : a.devnull;
    int out = o.stdout_fd >= 0 ? o.stdout_fd : a.devnull;
    int err = o.stderr_fd >= 0 ? o.stderr_fd : a.devnull;
    if (o.controlling_tty >= 0) {
        in = out = err = o.controlling_tty;
    }
    if (o.new_session || o.controlling_tty >= 0) ::setsid();
    if (o.controlling_tty >= 0) ::ioctl(o.controlling_tty, TIOCSCTTY, 0);
    // dup2 clears O_CLOEXEC on the target; the sources may be CLOEXEC. (dup3 with no flags
    // is dup2 for distinct descriptors; equal ones need no dup at all.)
    for (auto [from, to] : {std::pair{in, 0}, std::pair{out, 1}, std::pair{err, 2}}) {
        if (from == to) {
            ::fcntl(to, F_SETFD, 0);
        } else if (::dup3(from, to, 0) < 0) {
            report_errno(a.error_pipe);
            ::_exit(127);
        }
    }
    // Nothing else of jaild's may reach the program: asio opens the API's listening and
    // session sockets without O_CLOEXEC, and a jail holding the listening socket after a
    // crash of jaild makes the next jaild refuse to start ("another server is listening").
    unsigned first_closed = 3;
    if (o.pass_fd >= 0) {
        if (o.pass_fd == 3) {
            ::fcntl(3, F_SETFD, 0);
        } else if (::dup3(o.pass_fd, 3, 0) < 0) {
            report_errno(a.error_pipe);
            ::_exit(127);
        }
        first_closed = 4;
    }
    ::syscall(SYS_close_range, first_closed, ~0U, CLOSE_RANGE_CLOEXEC);
    ::execve(a.argv[0], a.argv, a.envp);
    report_errno(a.error_pipe);
    ::_exit(127);
}

}  // namespace

// clone(CLONE_VM | CLONE_VFORK), as posix_spawn does, rather than fork(): copying jaild's
// page tables for a child that execs at once was the largest part of jaild's CPU per jail
// start (bench figure 1). CLONE_PIDFD hands back the pidfd atomically with the child.
Result<ChildProcess> ChildProcess::spawn(const SpawnOptions& o) {
    if (o.argv.empty()) return make_error("cannot start a process without a command");
    auto argv = c_strings(o.argv);
    auto envp = c_strings(o.env);
    UniqueFd devnull(::open("/dev/null", O_RDWR | O_CLOEXEC));
    if (!devnull) return make_error(std::string("open /dev/null: ") + std::strerror(errno));
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) {
        return make_error(std::string("pipe2: ") + std::strerror(errno));
    }
    UniqueFd error_read(pipefd[0]), error_write(pipefd[1]);
    const bool gated = o.gate_fd >= 0;
    ChildArgs args{
        &o, argv.data(), envp.data(), devnull.get(), gated ? -1 : error_write.get(), ::getpid()};

    constexpr std::size_t kStackSize = 64 * 1024;
    std::vector<char> stack(kStackSize);
    sigset_t all, previous;
    sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &previous);
    int pidfd = -1;
    // A gated child waits for jaild: it gets a copy of jaild's memory (fork) instead.
    const int share = gated ? 0 : CLONE_VM | CLONE_VFORK;
    const int mounts = o.volumes.empty() ? 0 : CLONE_NEWNS;
    pid_t pid = ::clone(exec_child, stack.data() + stack.size(),
                        share | mounts | CLONE_PIDFD | SIGCHLD, &args, &pidfd);
    int clone_errno = errno;
    ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    if (pid < 0) {
        return make_error(std::string("clone: ") + std::strerror(clone_errno) +
                          (clone_errno == EINVAL ? " (jaild needs Linux 5.3 or later)" : ""));
    }
    error_write.reset();

    ChildProcess child;
    child.pid_ = pid;
    child.pidfd_.reset(pidfd);
    if (gated) return child;
    // The child has exec'd or exited by now (CLONE_VFORK): the pipe holds its errno or EOF.
    ChildFailure failure{};
    ssize_t n;
    do {
        n = ::read(error_read.get(), &failure, sizeof failure);
    } while (n < 0 && errno == EINTR);
    if (n == sizeof failure) {
        child.kill_and_reap();
        if (failure.volume > 0 && static_cast<std::size_t>(failure.volume) <= o.volumes.size()) {
            const auto& v = o.volumes[static_cast<std::size_t>(failure.volume) - 1];
            return make_error("cannot mount volume " + v.host + " at /" + v.relative +
                              " in the root " + v.root + ": " + std::strerror(failure.error));
        }
        return make_error("cannot execute " + o.argv[0] + ": " + std::strerror(failure.error));
    }
    return child;
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), pidfd_(std::move(other.pidfd_)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
    if (this != &other) {
        kill_and_reap();
        pid_ = std::exchange(other.pid_, -1);
        pidfd_ = std::move(other.pidfd_);
    }
    return *this;
}

ChildProcess::~ChildProcess() {
    kill_and_reap();
}

std::optional<int> ChildProcess::try_reap() {
    if (pid_ <= 0) return std::nullopt;
    int status = 0;
    pid_t r;
    do {
        r = ::waitpid(pid_, &status, WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == 0) return std::nullopt;
    pid_ = -1;
    pidfd_.reset();
    if (r < 0) return 255 << 8;  // ECHILD: someone else reaped it; report a failure
    return status;
}

int ChildProcess::reap_exited() {
    if (pid_ <= 0) return 255 << 8;
    int status = 0;
    pid_t r;
    do {
        r = ::waitpid(pid_, &status, 0);
    } while (r < 0 && errno == EINTR);
    pid_ = -1;
    pidfd_.reset();
    return r < 0 ? 255 << 8 : status;  // ECHILD: someone else reaped it; report a failure
}

bool ChildProcess::signal(int sig) const {
    if (pid_ <= 0 || !pidfd_) return false;
    return pidfd_send_signal(pidfd_.get(), sig) == 0;
}

void ChildProcess::abandon() {
    pid_ = -1;
    pidfd_.reset();
}

void ChildProcess::kill_and_reap() {
    if (pid_ <= 0) return;
    signal(SIGKILL);
    int status;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    pidfd_.reset();
}

int exit_status(int wait_status) {
    if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
    if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
    return 255;
}

std::string signal_name(int sig) {
    const char* abbrev = sigabbrev_np(sig);
    return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

std::string describe_exit(int wait_status) {
    if (WIFSIGNALED(wait_status)) return "killed by " + signal_name(WTERMSIG(wait_status));
    int code = exit_status(wait_status);
    std::string s = "exited with status " + std::to_string(code);
    if (code > 128 && code < 128 + 65) s += " (" + signal_name(code - 128) + ")";
    return s;
}

}  // namespace jaild::sandbox

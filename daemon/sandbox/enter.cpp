#include "sandbox/enter.hpp"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>

#include "jaild/unique_fd.hpp"
#include "sandbox/process_security.hpp"

namespace jaild::sandbox {
namespace {

constexpr int kSetupFailed = 125;
constexpr unsigned kPtraceTimeoutSeconds = 5;

using Filter = std::vector<sock_filter>;

[[noreturn]] void die(const std::string& message) {
    std::fprintf(stderr, "jaild: cannot enter the jail: %s\n", message.c_str());
    std::fflush(stderr);
    ::_exit(kSetupFailed);
}

std::string errno_text(const char* call) {
    return std::string(call) + ": " + std::strerror(errno);
}

// The PID a pidfd refers to, from its fdinfo ("Pid:\t123"); -1 if it is no pidfd.
int pid_of_pidfd(int fd) {
    std::ifstream info("/proc/self/fdinfo/" + std::to_string(fd));
    std::string line;
    while (std::getline(info, line)) {
        if (line.rfind("Pid:", 0) == 0) return std::atoi(line.c_str() + 4);
    }
    return -1;
}

bool pidfd_alive(int pidfd) {
    return ::syscall(SYS_pidfd_send_signal, pidfd, 0, nullptr, 0) == 0;
}

// The seccomp filters of `pid`, newest first (index 0 is the most recently installed).
std::vector<Filter> copy_seccomp_filters(int pid) {
    // Another join or health check reading the same filters holds the process for a few
    // microseconds (a second tracer gets EPERM): try again for up to 2 s before giving up.
    bool attached = false;
    int error = 0;
    for (int attempt = 0; attempt < 400 && !attached; ++attempt) {
        attached = ::ptrace(PTRACE_SEIZE, pid, nullptr, nullptr) == 0;
        error = errno;
        if (!attached && error != EPERM) break;
        if (!attached) ::usleep(5000);
    }
    if (!attached) {
        errno = error;
        die("cannot attach to the jail's main process " + std::to_string(pid) +
            " to read its seccomp filter (" + errno_text("PTRACE_SEIZE") +
            "); is another tracer attached, or kernel.yama.ptrace_scope 3?");
    }
    ::alarm(kPtraceTimeoutSeconds);  // a process stuck in D state must not hang the helper
    if (::ptrace(PTRACE_INTERRUPT, pid, nullptr, nullptr) != 0) die(errno_text("PTRACE_INTERRUPT"));
    int status = 0;
    if (::waitpid(pid, &status, __WALL) != pid || !WIFSTOPPED(status)) {
        die("the jail's main process did not stop for reading its seccomp filter");
    }
    std::vector<Filter> filters;
    for (unsigned long index = 0;; ++index) {
        long count = ::ptrace(PTRACE_SECCOMP_GET_FILTER, pid, index, nullptr);
        if (count < 0 && errno == ENOENT) break;
        if (count < 0 && errno == EACCES) {
            die("the kernel reads a process's seccomp filter only for a caller without one, and "
                "jaild itself runs under a seccomp filter (in a container? a SystemCallFilter= "
                "in its unit?); the command is not run less confined than the jail: run jaild "
                "without a seccomp filter of its own (for systemd-nspawn: SYSTEMD_SECCOMP=0)");
        }
        if (count <= 0) die(errno_text("PTRACE_SECCOMP_GET_FILTER"));
        Filter filter(static_cast<std::size_t>(count));
        if (::ptrace(PTRACE_SECCOMP_GET_FILTER, pid, index, filter.data()) != count) {
            die(errno_text("PTRACE_SECCOMP_GET_FILTER"));
        }
        filters.push_back(std::move(filter));
    }
    ::ptrace(PTRACE_DETACH, pid, nullptr, nullptr);
    ::alarm(0);
    return filters;
}

// In the forked command, before exec: uid 0 of the jail with only the main process's bounding
// set, no ambient capabilities, no_new_privs, its seccomp filters (oldest installed first).
// Returns false with errno set if a step failed.
bool confine(const ProcessSecurity& main, const std::vector<Filter>& filters) {
    if (::setgroups(0, nullptr) != 0 || ::setresgid(0, 0, 0) != 0 || ::setresuid(0, 0, 0) != 0)
        return false;
    for (int cap = 0; cap < 64; ++cap) {
        if (main.cap_bounding & (std::uint64_t{1} << cap)) continue;
        if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) return false;
    }
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    for (int i = 0; i < 2; ++i) {
        auto part = static_cast<std::uint32_t>(main.cap_bounding >> (32 * i));
        data[i].effective = data[i].permitted = part;
        data[i].inheritable = 0;
    }
    if (::syscall(SYS_capset, &header, data) != 0) return false;
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
        return false;
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return false;
    for (auto it = filters.rbegin(); it != filters.rend(); ++it) {
        sock_fprog prog{static_cast<unsigned short>(it->size()),
                        const_cast<sock_filter*>(it->data())};
        if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) return false;
    }
    return true;
}

volatile sig_atomic_t g_parent_gone = 0;
extern "C" void on_parent_gone(int) {
    g_parent_gone = 1;
}

// The warden's children right now (PIDs of the jail's namespace), from the jail's /proc.
std::vector<int> children_of_self() {
    UniqueFd fd(::open("/proc/thread-self/children", O_RDONLY | O_CLOEXEC));
    std::vector<int> out;
    if (!fd) return out;
    std::string text(4096, '\0');
    ssize_t n = ::read(fd.get(), text.data(), text.size());
    if (n <= 0) return out;
    std::istringstream in(text.substr(0, static_cast<std::size_t>(n)));
    int pid;
    while (in >> pid) out.push_back(pid);
    return out;
}

// SIGKILL what is left (orphans come back to the warden as subreaper) until nothing is.
void end_leftovers() {
    for (int round = 0; round < 10000; ++round) {
        while (::waitpid(-1, nullptr, WNOHANG) > 0) {
        }
        auto children = children_of_self();
        if (children.empty()) return;
        for (int pid : children) ::kill(pid, SIGKILL);  // ours until reaped: no PID reuse
        ::waitpid(-1, nullptr, 0);
    }
}

int wait_status_code(int status);

// PID 2+ in the jail's namespace: confined like the jail itself, non-dumpable, the command's
// subreaper. Runs the command, then ends what it left behind. If the helper above it dies
// (jaild ended the check or join), it ends everything at once.
int run_warden(const ProcessSecurity& main, const std::vector<Filter>& filters, char** command) {
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) die(errno_text("PR_SET_CHILD_SUBREAPER"));
    struct sigaction sa {};
    sa.sa_handler = on_parent_gone;
    ::sigaction(SIGTERM, &sa, nullptr);
    if (::prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) != 0) die(errno_text("PR_SET_PDEATHSIG"));
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    if (!confine(main, filters)) die(errno_text("dropping to the jail's privileges"));

    int error_pipe[2];
    if (::pipe2(error_pipe, O_CLOEXEC) != 0) die(errno_text("pipe2"));
    pid_t child = ::fork();
    if (child < 0) die(errno_text("fork"));
    if (child == 0) {
        ::close(error_pipe[0]);
        ::signal(SIGTERM, SIG_DFL);
        ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        ::execvp(command[0], command);
        int e = errno;
        (void)!::write(error_pipe[1], &e, sizeof e);
        ::_exit(127);
    }
    ::close(error_pipe[1]);
    int child_errno = 0;
    ssize_t n;
    do {
        n = ::read(error_pipe[0], &child_errno, sizeof child_errno);
    } while (n < 0 && errno == EINTR);
    ::close(error_pipe[0]);
    if (n == sizeof child_errno) {
        std::fprintf(stderr, "jaild: cannot run %s in the jail: %s\n", command[0],
                     std::strerror(child_errno));
    }
    // The jail's ends of stdio belong to the command (and what it started) only.
    std::fflush(stderr);
    for (int fd = 0; fd <= 2; ++fd) ::close(fd);

    int status = 0;
    for (;;) {
        int s = 0;
        pid_t r = ::waitpid(-1, &s, 0);
        if (r == child) {
            status = s;
            break;
        }
        if (r < 0 && errno == EINTR && g_parent_gone) {
            ::kill(child, SIGKILL);
            continue;
        }
        if (r < 0 && errno != EINTR) break;
    }
    end_leftovers();
    return wait_status_code(status);
}

int wait_status_code(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 1;
}

}  // namespace

std::vector<std::string> enter_argv(int main_pid, const std::vector<std::string>& command) {
    std::vector<std::string> argv{"/proc/self/exe", kEnterVerb, std::to_string(main_pid), "--"};
    if (command.empty())
        argv.emplace_back("/bin/sh");
    else
        argv.insert(argv.end(), command.begin(), command.end());
    return argv;
}

int enter_main(int argc, char** argv) {
    if (argc < 5 || std::string_view(argv[3]) != "--")
        die("usage: jaild " + std::string(kEnterVerb) + " PID -- COMMAND...");
    const int pid = std::atoi(argv[2]);
    if (pid <= 0 || pid_of_pidfd(kEnterPidfd) != pid) {
        die("descriptor " + std::to_string(kEnterPidfd) + " is not a pidfd of process " + argv[2]);
    }
    UniqueFd proc_dir(
        ::open(("/proc/" + std::to_string(pid)).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    UniqueFd root(proc_dir ? ::openat(proc_dir.get(), "root", O_PATH | O_DIRECTORY | O_CLOEXEC)
                           : -1);
    auto security = read_process_security(pid, proc_dir.get());
    // Still alive after the opens: they name this process, not a recycled PID.
    if (!root || !security || !pidfd_alive(kEnterPidfd)) {
        die("the jail's main process " + std::to_string(pid) + " is gone" +
            (security ? "" : " (" + security.error().message + ")"));
    }
    if (security->seccomp_mode == 1) die("the jail's main process runs in strict seccomp mode");
    std::vector<Filter> filters;
    if (security->seccomp_mode == 2) filters = copy_seccomp_filters(pid);

    if (::setns(kEnterPidfd, CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC |
                                 CLONE_NEWPID | CLONE_NEWCGROUP) != 0) {
        die(errno_text("setns"));
    }
    if (::fchdir(root.get()) != 0 || ::chroot(".") != 0 || ::chdir("/") != 0)
        die(errno_text("chroot"));
    ::close(kEnterPidfd);
    proc_dir.reset();
    root.reset();
    // Only a process inside the jail's PID namespace can become the command's subreaper (the
    // kernel never reparents orphans across a PID namespace): fork into it.
    pid_t warden = ::fork();
    if (warden < 0) die(errno_text("fork"));
    if (warden == 0) ::_exit(run_warden(*security, filters, argv + 4));
    for (int fd = 0; fd <= 2; ++fd) ::close(fd);
    int status = 0;
    while (::waitpid(warden, &status, 0) < 0 && errno == EINTR) {
    }
    return wait_status_code(status);
}

}  // namespace jaild::sandbox

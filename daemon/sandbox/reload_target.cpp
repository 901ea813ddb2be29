#include "sandbox/reload_target.hpp"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <climits>
#include <cstring>

#include "jaild/small_file.hpp"
#include "jaild/unique_fd.hpp"
#include "sandbox/process_tree.hpp"

namespace jaild::sandbox {

bool is_shell_program(std::string_view program) {
    static constexpr std::array<std::string_view, 3> kShells{"sh", "dash", "bash"};
    for (auto shell : kShells) {
        if (program == shell) return true;
    }
    return false;
}

Result<std::vector<int>> choose_reload_chain(int main_pid, ProcessAccess& access) {
    std::vector<int> chain{main_pid};
    for (int depth = 0;; ++depth) {
        const int pid = chain.back();
        const std::string program = access.program(pid);
        if (program.empty()) {
            return make_error("the service's process " + std::to_string(pid) +
                              " has gone (or its executable cannot be read); try again once the "
                              "jail runs (jailctl status)");
        }
        if (!is_shell_program(program)) return chain;
        if (depth == kMaxShellDepth) {
            return make_error("the jail's command runs shells " + std::to_string(depth + 1) +
                              " levels deep; make its \"command\" start the service directly "
                              "(or through at most " +
                              std::to_string(kMaxShellDepth) + " shells that each run only it)");
        }
        const auto children = access.children(pid);
        if (children.size() != 1) {
            return make_error("the jail's process " + std::to_string(pid) + " is a shell (" +
                              program + ") with " + std::to_string(children.size()) +
                              " child processes, so jaild cannot tell which one is the service; "
                              "make the jail's \"command\" exec the service (or run only it)");
        }
        chain.push_back(children.front());
    }
}

Result<ReloadSent> send_reload_signal(int main_pid, const ProcessAccess::Handle& main, int sig,
                                      ProcessAccess& access) {
    if (!access.alive(main)) return make_error("the jail's main process has exited");
    auto chain = choose_reload_chain(main_pid, access);
    if (!chain) return chain.error();
    // Held on the way down: the process one level up, proven to be the right one.
    const ProcessAccess::Handle* parent = &main;
    std::unique_ptr<ProcessAccess::Handle> held;
    for (std::size_t i = 1; i < chain->size(); ++i) {
        const int pid = (*chain)[i];
        auto child = access.open(pid);
        // The parent alive after the child's parent was read: its PID was its own throughout.
        // The child alive after: the /proc entry read was the child's, not a successor's.
        const bool proven = child && access.parent(pid) == (*chain)[i - 1] &&
                            access.alive(*child) && access.alive(*parent);
        if (!proven) {
            return make_error("the jail's process " + std::to_string(pid) +
                              " changed while jaild chose it (it exited or was replaced); "
                              "nothing was signalled; try again");
        }
        held = std::move(child);
        parent = held.get();
    }
    ReloadSent sent{chain->back(), access.program(chain->back())};
    if (!access.signal(*parent, sig)) {
        const int err = errno;
        return make_error("pidfd_send_signal to the jail's process " + std::to_string(sent.pid) +
                          " failed: " + std::strerror(err) + "; check that the jail runs");
    }
    return sent;
}

namespace {

struct PidfdHandle final : ProcessAccess::Handle {
    PidfdHandle(int pidfd, bool owns) : fd(pidfd), owned(owns) {}
    ~PidfdHandle() override {
        if (owned) UniqueFd close_it(fd);
    }
    PidfdHandle(const PidfdHandle&) = delete;
    PidfdHandle& operator=(const PidfdHandle&) = delete;
    int fd;
    bool owned;
};

int fd_of(const ProcessAccess::Handle& h) {
    return static_cast<const PidfdHandle&>(h).fd;
}

}  // namespace

std::vector<int> ProcProcessAccess::children(int pid) {
    return child_pids(pid);
}

std::string ProcProcessAccess::program(int pid) {
    std::array<char, PATH_MAX> buf{};
    const std::string link = "/proc/" + std::to_string(pid) + "/exe";
    const ssize_t n = ::readlink(link.c_str(), buf.data(), buf.size() - 1);
    if (n <= 0) return "";
    std::string path(buf.data(), static_cast<std::size_t>(n));
    constexpr std::string_view kDeleted = " (deleted)";
    if (path.size() > kDeleted.size() &&
        path.compare(path.size() - kDeleted.size(), kDeleted.size(), kDeleted) == 0)
        path.resize(path.size() - kDeleted.size());
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

int ProcProcessAccess::parent(int pid) {
    auto text = read_small_file("/proc/" + std::to_string(pid) + "/stat");
    if (!text) return 0;
    auto stat = parse_proc_stat(*text);
    return stat ? stat->ppid : 0;
}

std::unique_ptr<ProcessAccess::Handle> ProcProcessAccess::open(int pid) {
    const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (fd < 0) return nullptr;
    return std::make_unique<PidfdHandle>(fd, true);
}

bool ProcProcessAccess::alive(const Handle& process) {
    return ::syscall(SYS_pidfd_send_signal, fd_of(process), 0, nullptr, 0) == 0;
}

bool ProcProcessAccess::signal(const Handle& process, int sig) {
    return ::syscall(SYS_pidfd_send_signal, fd_of(process), sig, nullptr, 0) == 0;
}

std::unique_ptr<ProcessAccess::Handle> ProcProcessAccess::borrow(int pidfd) {
    return std::make_unique<PidfdHandle>(pidfd, false);
}

}  // namespace jaild::sandbox

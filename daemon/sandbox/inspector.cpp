#include "sandbox/inspector.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>

#include "log/logging.hpp"

namespace jaild::sandbox {

namespace asio = boost::asio;

namespace {

UniqueFd open_pidfd(int pid) {
    return UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
}

}  // namespace

UniqueFd open_sandbox_named(int pid, const std::string& name, const std::string& run_dir) {
    UniqueFd pidfd = open_pidfd(pid);
    if (!pidfd) return {};
    // The list was read before the pidfd was opened: the PID may have been reused since.
    // Listed again now, it names the process the pidfd holds (or one that took its PID
    // before the pidfd was opened and is itself such a sandbox).
    for (int p : live_sandboxes_named(name, run_dir))
        if (p == pid) return pidfd;
    return {};
}

bool FirejailInspector::path_exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0 || errno != ENOENT;
}

std::optional<SandboxInspector::OpenedMain> FirejailInspector::open_main(int firejail_pid) {
    auto main = find_sandbox_main(firejail_pid);
    if (!main) return std::nullopt;
    OpenedMain opened{main->main_pid, open_pidfd(main->main_pid), open_pidfd(main->init_pid)};
    if (!opened.pidfd || !opened.init_pidfd) return std::nullopt;
    return opened;
}

std::optional<SandboxInspector::OpenedMain> FirejailInspector::open_recorded_main(int firejail_pid,
                                                                                  int main_pid) {
    // The pidfd first, then the check: the process it holds is the one checked (had it been
    // replaced by another with its PID in between, the pidfd would read as exited).
    UniqueFd pidfd = open_pidfd(main_pid);
    if (!pidfd) return std::nullopt;
    auto main = confirm_sandbox_main(firejail_pid, main_pid);
    if (!main) return std::nullopt;
    OpenedMain opened{main->main_pid, std::move(pidfd), open_pidfd(main->init_pid)};
    if (!opened.init_pidfd) return std::nullopt;
    return opened;
}

std::size_t FirejailInspector::end_leftovers(const std::string& name, std::function<void()> done) {
    auto stale = live_sandboxes_named(name, run_dir_);
    if (stale.empty()) return 0;
    auto pending = std::make_shared<std::size_t>(stale.size());
    auto finish = std::make_shared<std::function<void()>>(std::move(done));
    auto one_ended = [pending, finish] {
        if (--*pending == 0 && *finish) (*finish)();
    };
    for (int pid : stale) {
        log::jail_logger(name)->warn(
            "a sandbox named '{}' is still running (firejail pid {}), left by an "
            "earlier jaild; killing it before starting the jail",
            name, pid);
        UniqueFd pidfd = open_sandbox_named(pid, name, run_dir_);
        if (!pidfd) {  // already gone
            asio::post(io_, one_ended);
            continue;
        }
        ::syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0);
        auto watch = std::make_shared<asio::posix::stream_descriptor>(io_, pidfd.release());
        auto name_file = run_dir_ + "/name/" + std::to_string(pid);
        watch->async_wait(asio::posix::stream_descriptor::wait_read,
                          [watch, name_file, one_ended](const boost::system::error_code&) {
                              // It has exited but may not be reaped yet (its parent, the dead
                              // jaild, is gone): firejail counts the name of a zombie as
                              // taken and would rename the new sandbox "<name>-<pid>". The
                              // name file is what a clean exit of that firejail removes.
                              ::unlink(name_file.c_str());
                              one_ended();
                          });
    }
    return stale.size();
}

Result<ReloadSent> FirejailInspector::send_reload_signal(int main_pid, int main_pidfd, int sig) {
    ProcProcessAccess access;
    auto main = ProcProcessAccess::borrow(main_pidfd);
    return jaild::sandbox::send_reload_signal(main_pid, *main, sig, access);
}

}  // namespace jaild::sandbox

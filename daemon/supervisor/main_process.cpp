// The jail's main process: found after each start, watched through a pidfd, and on its exit
// the sandbox is ended at once with the main process's own exit status.
//
// firejail --deterministic-shutdown, on the exit of the command, sends SIGTERM to the rest of
// the sandbox, sleeps 100 ms, sends SIGKILL and only then exits: every crash cost 100 ms
// before jaild even learnt of it (bench figure 2). jaild watches the command itself; when it
// exits, jaild reads its wait status (PIDFD_GET_INFO, or /proc while it is a zombie) and
// sends SIGKILL to the sandbox's init, which ends everything in the sandbox's PID namespace
// at once; firejail then exits and cleans up as usual, and on_exit reports the command's
// status rather than firejail's. If the status cannot be read, jaild leaves firejail to its
// own shutdown: slower, never wrong.
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log/logging.hpp"
#include "sandbox/child_process.hpp"
#include "provision/recipe.hpp"
#include "sandbox/enter.hpp"
#include "sandbox/process_tree.hpp"
#include "supervisor/supervisor_impl.hpp"

namespace jaild::supervisor {

namespace {

constexpr Millis kFindMax{500};       // launch looks after 1 ms, then 2, 4, ... up to this
constexpr int kStatusAttempts = 20;   // 1 ms apart: the status shows within microseconds

UniqueFd open_pidfd(int pid) { return UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0))); }

}  // namespace

void Supervisor::Impl::find_main_process(const std::shared_ptr<Jail>& jail, Millis delay) {
    auto& m = jail->main_process;
    std::weak_ptr<Jail> weak = jail;
    m.timer.expires_after(delay);
    m.timer.async_wait([this, weak, delay](const boost::system::error_code& ec) {
        auto j = weak.lock();
        if (!j || ec || !j->child) return;
        auto& mp = j->main_process;
        const int firejail_pid = j->child->process.pid();
        if (mp.tree_of == firejail_pid && mp.pid) return;  // found already
        auto found = sandbox::find_sandbox_main(firejail_pid);
        UniqueFd pidfd, init_pidfd;
        if (found) {
            pidfd = open_pidfd(found->main_pid);
            init_pidfd = open_pidfd(found->init_pid);
        }
        if (!found || !pidfd || !init_pidfd) {
            // Not started yet, or it has exited already (then firejail is ending the
            // sandbox by itself and on_exit will come).
            find_main_process(j, std::min(delay * 2, kFindMax));
            return;
        }
        mp.reset();
        mp.tree_of = firejail_pid;
        mp.pid = found->main_pid;
        mp.pidfd = std::move(pidfd);
        mp.init_pidfd = std::move(init_pidfd);
        mp.watch = std::make_unique<asio::posix::stream_descriptor>(
            io, ::fcntl(mp.pidfd.get(), F_DUPFD_CLOEXEC, 3));
        std::weak_ptr<Jail> weak2 = j;
        mp.watch->async_wait(asio::posix::stream_descriptor::wait_read,
                             [this, weak2, firejail_pid](const boost::system::error_code& wec) {
                                 auto j2 = weak2.lock();
                                 if (!j2 || wec || j2->main_process.tree_of != firejail_pid) return;
                                 j2->main_process.exited_at = Clock::now();
                                 on_main_exit(j2);
                             });
    });
}

void Supervisor::Impl::on_main_exit(const std::shared_ptr<Jail>& jail) {
    auto& m = jail->main_process;
    if (!jail->child || m.tree_of != jail->child->process.pid()) return;
    auto status = sandbox::exited_status(m.pid, m.pidfd.get());
    if (!status) {
        if (++m.attempts >= kStatusAttempts) {
            log::jail_logger(jail->config.name)
                ->debug("jail '{}': exit status of main process {} unreadable; waiting for "
                        "firejail's own shutdown",
                        jail->config.name, m.pid);
            return;
        }
        std::weak_ptr<Jail> weak = jail;
        const int firejail_pid = m.tree_of;
        m.timer.expires_after(Millis(1));
        m.timer.async_wait([this, weak, firejail_pid](const boost::system::error_code& ec) {
            auto j = weak.lock();
            if (j && !ec && j->main_process.tree_of == firejail_pid) on_main_exit(j);
        });
        return;
    }
    m.wait_status = *status;
    log::jail_logger(jail->config.name)
        ->debug("jail '{}': main process {} {}; ending its sandbox now", jail->config.name, m.pid,
                sandbox::describe_exit(*status));
    ::syscall(SYS_pidfd_send_signal, m.init_pidfd.get(), SIGKILL, nullptr, 0);
}

Result<sandbox::SpawnOptions> Supervisor::Impl::enter_options(
    const Jail& jail, const std::vector<std::string>& command) const {
    const auto& name = jail.config.name;
    if (jail.machine.state() != State::running || !jail.child) {
        return make_error("jail '" + name + "' is not running (it is " +
                          to_string(jail.machine.state()) + "); start it with: jailctl start " +
                          name);
    }
    if (!jail.main_process.pid || !jail.main_process.pidfd) {
        return make_error("jail '" + name +
                          "' is still starting (its main process is not known yet); try again");
    }
    sandbox::SpawnOptions spawn;
    spawn.argv = sandbox::enter_argv(jail.main_process.pid, command);
    // PGPASSFILE: the password file the postgresql recipe gives a client jail's root (its
    // HOME, /root, is hidden by firejail's --private); libpq ignores it where it is absent.
    spawn.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                 "HOME=/root", "LANG=C.UTF-8",
                 std::string("PGPASSFILE=") + provision::kRootPgpassFile};
    spawn.pass_fd = jail.main_process.pidfd.get();
    return spawn;
}

}  // namespace jaild::supervisor

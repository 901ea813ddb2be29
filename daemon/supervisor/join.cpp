// Joining a running jail: a command run inside it with no more privilege than its main
// process (sandbox/enter.hpp), on a pseudo-terminal or on the client's pipes.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>

#include <cstring>

#include "log/logging.hpp"
#include "supervisor/supervisor.hpp"

namespace jaild::supervisor {

namespace {

struct Pty {
    UniqueFd master, slave;
};

Result<Pty> open_pty(unsigned short rows, unsigned short cols) {
    Pty pty;
    pty.master.reset(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!pty.master || ::grantpt(pty.master.get()) != 0 || ::unlockpt(pty.master.get()) != 0) {
        return make_error(std::string("cannot allocate a pseudo-terminal: ") +
                          std::strerror(errno));
    }
    char name[128];
    if (::ptsname_r(pty.master.get(), name, sizeof name) != 0) {
        return make_error(std::string("ptsname: ") + std::strerror(errno));
    }
    pty.slave.reset(::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!pty.slave) return make_error(std::string("open ") + name + ": " + std::strerror(errno));
    winsize ws{};
    ws.ws_row = rows;
    ws.ws_col = cols;
    ::ioctl(pty.master.get(), TIOCSWINSZ, &ws);
    return pty;
}

}  // namespace

Result<api::JoinStarted> Supervisor::join(const std::string& name, api::JoinRequest request,
                                          std::function<void(int)> on_exit) {
    auto jail = find(name);
    if (!jail) return unknown_jail(name);
    auto spawn = jail->enter_options(request.command);
    if (!spawn) return spawn.error();
    auto& spawn_options = *spawn;
    spawn_options.env.push_back("TERM=" + std::string(request.tty ? "xterm-256color" : "dumb"));
    api::JoinStarted started;
    Pty pty;
    if (request.tty) {
        auto opened = open_pty(request.rows, request.cols);
        if (!opened) return opened.error();
        pty = std::move(*opened);
        spawn_options.controlling_tty = pty.slave.get();
    } else {
        // Never a descriptor with more reach than a pipe: a terminal of the admin's in the
        // jail would let it push input into the admin's shell (TIOCSTI).
        for (const UniqueFd* fd : {&request.stdin_fd, &request.stdout_fd, &request.stderr_fd}) {
            struct stat st {};
            if (::fstat(fd->get(), &st) != 0 || !S_ISFIFO(st.st_mode)) {
                return make_error(Errc::invalid_argument,
                                  "join without a terminal takes pipes for stdin, stdout and "
                                  "stderr (jailctl makes them); got another kind of descriptor");
            }
        }
        spawn_options.stdin_fd = request.stdin_fd.get();
        spawn_options.stdout_fd = request.stdout_fd.get();
        spawn_options.stderr_fd = request.stderr_fd.get();
        spawn_options.new_session = true;
    }
    auto pid = std::make_shared<int>(0);
    auto process = services_.runner.spawn(
        spawn_options, [this, pid, name, on_exit = std::move(on_exit)](int status) {
            auto ended = joins_.extract(*pid);  // destroyed after the call, not during it
            // The runner's reason, if it has one: the join was killed before it ran anything
            // ("not run: it could not be moved into the jail's scope ...").
            const std::string note = ended ? ended.mapped()->exit_note() : std::string();
            if (note.empty()) {
                log::jail_logger(name)->info("join into jail '{}' ended: {}", name,
                                             sandbox::describe_exit(status));
            } else {
                log::jail_logger(name)->error("join into jail '{}' failed: {}", name, note);
            }
            on_exit(sandbox::exit_status(status));
        });
    if (!process) return process.error();
    started.pid = *pid = (*process)->pid();
    started.pty_master = std::move(pty.master);
    log::jail_logger(name)->info("join into jail '{}' started (pid {})", name, started.pid);
    joins_[started.pid] = std::move(*process);
    return started;
}

}  // namespace jaild::supervisor

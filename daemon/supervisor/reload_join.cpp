// Reloading the configuration and joining a running jail.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>

#include <cstring>

#include "log/logging.hpp"
#include "sandbox/firejail_args.hpp"
#include "sandbox/hardening.hpp"
#include "supervisor/supervisor_impl.hpp"

namespace jaild::supervisor {

// Unchanged jails keep running untouched; changed ones restart with their new settings;
// removed ones stop and lose their network; new ones start. An invalid file changes nothing.
Result<nlohmann::json> Supervisor::reload() {
    auto& impl = *impl_;
    if (!impl.options.load_config) return make_error("this jaild has no configuration file to reload");
    if (impl.stopping_all) return make_error(Errc::shutting_down, "jaild is shutting down");
    auto loaded = impl.options.load_config();
    if (!loaded.ok()) {
        std::string message = "the new configuration is invalid; nothing was changed:";
        std::vector<std::string> issues;
        for (const auto& issue : loaded.issues) issues.push_back(issue.str());
        for (const auto& issue : issues) message += "\n  " + issue;
        spdlog::error("{}", message);
        return make_error(Errc::invalid_config, message, std::move(issues));
    }
    auto& next = loaded.config;
    sandbox::log_weakenings(next);
    if (next.bridge != impl.config.bridge) {
        auto message = std::string("the bridge settings changed (") + impl.config.bridge.name + " " +
                       impl.config.bridge.address.str() + " -> " + next.bridge.name + " " +
                       next.bridge.address.str() +
                       "); that needs a restart of jaild: systemctl restart jaild. Nothing was changed.";
        spdlog::error("{}", message);
        return make_error(message);
    }
    if (auto r = impl.network.update(next); !r) {
        spdlog::error("reload: cannot apply the firewall rules: {}", r.error().message);
        return make_error("cannot apply the new firewall rules: " + r.error().message +
                          "; the old configuration keeps running");
    }
    nlohmann::json changes{{"added", nlohmann::json::array()},
                           {"changed", nlohmann::json::array()},
                           {"removed", nlohmann::json::array()},
                           {"unchanged", nlohmann::json::array()}};
    for (auto& [name, jail] : impl.jails) {
        if (next.jails.count(name) || jail->removing) continue;
        changes["removed"].push_back(name);
        jail->removing = true;
        impl.shut_down.erase(name);
        if (jail->machine.state() == State::stopped) {
            impl.io.post([this, name] { impl_->finish_removal(name); });
        } else {
            impl.request_stop(jail);
        }
    }
    for (auto& [name, jail_config] : next.jails) {
        auto jail = impl.find(name);
        if (!jail) {
            changes["added"].push_back(name);
            auto fresh = std::make_shared<Jail>(impl.io, jail_config, impl.options.log_lines);
            impl.jails.emplace(name, fresh);
            if (!impl.shut_down.count(name)) fresh->machine.want_up();
            impl.after_state_change(*fresh, "added by reload");
            continue;
        }
        if (jail->config == jail_config && !jail->next_config) {
            changes["unchanged"].push_back(name);
            continue;
        }
        changes["changed"].push_back(name);
        jail->removing = false;
        auto state = jail->machine.state();
        if (state == State::running || state == State::stopping || jail->spawning) {
            jail->next_config = jail_config;  // taken at the next start
            if (jail->machine.want_restart()) impl.signal_stop(jail);
        } else {
            jail->config = jail_config;
            jail->machine.set_config(jail_config.restart, jail_config.health);
        }
        impl.after_state_change(*jail, "configuration changed");
    }
    impl.config = std::move(next);
    spdlog::info("configuration reloaded: {} added, {} changed, {} removed, {} unchanged",
                 changes["added"].size(), changes["changed"].size(), changes["removed"].size(),
                 changes["unchanged"].size());
    impl.schedule();
    return changes;
}

namespace {

struct Pty {
    UniqueFd master, slave;
};

Result<Pty> open_pty(unsigned short rows, unsigned short cols) {
    Pty pty;
    pty.master.reset(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!pty.master || ::grantpt(pty.master.get()) != 0 || ::unlockpt(pty.master.get()) != 0) {
        return make_error(std::string("cannot allocate a pseudo-terminal: ") + std::strerror(errno));
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
    auto& impl = *impl_;
    auto jail = impl.find(name);
    if (!jail) return impl.unknown_jail(name);
    auto spawn = impl.enter_options(*jail, request.command);
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
    auto process = sandbox::ChildProcess::spawn(spawn_options);
    if (!process) return process.error();
    started.pid = process->pid();
    started.pty_master = std::move(pty.master);
    log::jail_logger(name)->info("join into jail '{}' started (pid {})", name, started.pid);
    int pid = started.pid;
    impl.joins[pid] = impl.watch(std::move(*process), [this, pid, name,
                                                       on_exit = std::move(on_exit)](int status) {
        log::jail_logger(name)->info("join into jail '{}' ended: {}", name,
                                     sandbox::describe_exit(status));
        impl_->joins.erase(pid);
        on_exit(sandbox::exit_status(status));
    });
    return started;
}

}  // namespace jaild::supervisor

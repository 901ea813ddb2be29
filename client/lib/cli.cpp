#include "lib/cli.hpp"

#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include <CLI/CLI.hpp>

#include "jaild/paths.hpp"
#include "jaild/version.hpp"
#include "lib/backup.hpp"
#include "lib/commands.hpp"
#include "lib/join.hpp"
#include "lib/provision.hpp"
#include "lib/reload_app.hpp"
#include "lib/upgrade.hpp"

namespace jaild::client {

namespace {

constexpr const char* kExitCodes =
    "\nExit status:\n"
    "  0  success\n"
    "  1  the operation failed (or, for join, the command's own status)\n"
    "  2  usage error\n"
    "  3  no such jail\n"
    "  4  permission denied (use root, or a member of group jaild for "
    "status/logs/events/version/metrics)\n"
    "  5  jaild is unreachable (socket missing or refusing connections)\n"
    "  6  jaild did not answer within the timeout (--timeout)\n";

// jaild accepted the request but did not answer in time (or did not accept the connection).
constexpr int kTimedOut = 6;

bool want_color() {
    const char* no_color = std::getenv("NO_COLOR");
    return ::isatty(STDOUT_FILENO) && (no_color == nullptr || *no_color == '\0');
}

}  // namespace

int run_jailctl(int argc, char** argv) {
    CLI::App app{"jailctl: control jaild, the firejail jail supervisor"};
    app.footer(kExitCodes);
    app.require_subcommand(1);
    app.fallthrough();  // global options (--socket, --json) may follow the command too
    app.set_version_flag("--client-version", std::string("jailctl ") + kVersion);
    std::string socket = paths::kSocket;
    bool json = false;
    app.add_option("--socket", socket, "jaild's control socket")->capture_default_str();
    app.add_flag("--json", json, "print the API's JSON instead of tables");
    double timeout = -1;
    app.add_option("--timeout", timeout,
                   "seconds to wait for jaild's answer to each request (default 5); for start, "
                   "stop, restart and shutdown, how long jaild waits for the jail to serve or be "
                   "down (default: the jail's own window, from its stop_timeout and health "
                   "check); 0 waits for ever. logs -f, events and join wait for ever anyway, and "
                   "end when jaild goes away")
        ->check(CLI::Range(0.0, 86400.0));

    auto* status = app.add_subcommand("status", "show all jails, or one");
    std::string status_jail;
    status->add_option("JAIL", status_jail, "only this jail");

    std::vector<std::string> lifecycle_jails;
    std::vector<CLI::App*> lifecycle;
    bool no_block = false;
    for (auto [name, help] :
         {std::pair{"start",
                    "start jails (clears a failed state or a hold); waits until each serves: "
                    "running, and healthy if it has a health check"},
          std::pair{"stop", "stop jails and hold them down until started; waits until down"},
          std::pair{"restart", "stop and start jails; waits until each serves again"},
          std::pair{"shutdown", "stop jails; the hold survives jaild restarts and reloads"}}) {
        auto* sub = app.add_subcommand(name, help);
        sub->add_option("JAIL", lifecycle_jails, "jail names")->required();
        sub->add_flag("--no-block", no_block,
                      "return once jaild has taken the request, without waiting for the jail");
        lifecycle.push_back(sub);
    }
    auto* reload = app.add_subcommand(
        "reload", "re-read the configuration; prints what changed or every issue");
    auto* reload_app = app.add_subcommand(
        "reload-app",
        "send each jail's reload signal to its service (reload_signal: Apache SIGUSR1, a "
        "graceful restart; PostgreSQL SIGHUP); no restart, open connections are kept");
    std::vector<std::string> reload_app_jails;
    reload_app->add_option("JAIL", reload_app_jails, "jail names")->required();
    auto* logs = app.add_subcommand("logs", "print a jail's output");
    std::string logs_jail;
    int lines = 100;
    bool follow = false;
    logs->add_option("JAIL", logs_jail, "jail name")->required();
    logs->add_option("-n,--lines", lines, "how many recent lines")
        ->capture_default_str()
        ->check(CLI::Range(0, 100000));
    logs->add_flag("-f,--follow", follow, "keep printing new lines until interrupted");
    auto* events =
        app.add_subcommand("events", "print jail state changes as they happen (JSON lines)");
    auto* version = app.add_subcommand("version", "print jailctl's and jaild's versions");
    auto* metrics = app.add_subcommand(
        "metrics", "print jaild's metrics in the Prometheus text format (what a scrape gets)");
    auto* join = app.add_subcommand(
        "join", "run a command (default: a shell) inside a jail; exits with its status");
    std::string join_jail;
    std::vector<std::string> join_command;
    join->add_option("JAIL", join_jail, "jail name")->required();
    join->add_option("COMMAND", join_command, "command and arguments, after --");
    auto* provision = app.add_subcommand(
        "provision",
        "build jail roots from their \"provision\" section (debootstrap, packages, "
        "service recipe), with progress");
    std::vector<std::string> provision_jails;
    bool provision_all = false, provision_force = false;
    provision->add_option("JAIL", provision_jails, "jail names");
    provision->add_flag("--all", provision_all, "every jail that has a \"provision\" section");
    provision->add_flag("--force", provision_force,
                        "rebuild even when up to date or when the configuration changed (a "
                        "postgresql jail's replaced root, database included, is kept as "
                        "ROOT.previous)");
    auto* upgrade = app.add_subcommand(
        "upgrade",
        "upgrade the packages in jail roots (a copy of the root is upgraded, then swapped in; "
        "a jail that does not serve on it is rolled back to its previous root), with progress");
    std::vector<std::string> upgrade_jails;
    UpgradeOptions upgrade_options;
    upgrade->add_option("JAIL", upgrade_jails, "jail names");
    upgrade->add_flag("--all", upgrade_options.all,
                      "every jail that has a \"provision\" section (others are skipped)");
    upgrade->add_flag("--check", upgrade_options.check,
                      "refresh the package lists and list the pending updates; change nothing");
    upgrade->add_flag("--security", upgrade_options.security,
                      "apply only security updates (from the *-security suites); other "
                      "packages stay as they are");
    auto* backup = app.add_subcommand(
        "backup",
        "dump every database of a postgresql jail (pg_dumpall inside the jail) into a new "
        "gzip file with a .sha256 beside it, with progress");
    std::string backup_jail, backup_to;
    backup->add_option("JAIL", backup_jail, "jail name")->required();
    backup->add_option("--to", backup_to,
                       "directory to write to (default: the jail's \"backup\" dir, "
                       "/var/lib/jaild/backups/JAIL); created 0700, must be root's and closed "
                       "to others");
    auto* restore = app.add_subcommand(
        "restore",
        "load a backup back into a postgresql jail (psql inside the jail) after checking it "
        "against FILE.sha256; every database in it is dropped and recreated");
    std::string restore_jail, restore_file;
    restore->add_option("JAIL", restore_jail, "jail name")->required();
    restore->add_option("FILE", restore_file, "the backup (.sql.gz) file")->required();
    auto* doctor = app.add_subcommand(
        "doctor",
        "check the host's prerequisites (firejail, kernel, other firewalls, systemd, disk, the "
        "configuration) through jaild and explain each with its fix; exit 1 if any fails");
    for (auto* sub : app.get_subcommands({})) sub->footer(kExitCodes);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int code = app.exit(e);
        return code == 0 ? exit_codes::kOk : exit_codes::kUsage;
    }

    if (provision->parsed() && provision_all == !provision_jails.empty()) {
        std::cerr << "jailctl: provision: name jails or give --all (not both)\n";
        return exit_codes::kUsage;
    }
    if (upgrade->parsed() && upgrade_options.all == !upgrade_jails.empty()) {
        std::cerr << "jailctl: upgrade: name jails or give --all (not both)\n";
        return exit_codes::kUsage;
    }
    Output out{std::cout, std::cerr, json, !json && want_color()};
    using ms = Connection::Duration;
    const ms quick = timeout < 0 ? ms(5000) : ms(static_cast<ms::rep>(timeout * 1000));
    // jaild bounds a lifecycle wait itself (it announces its window, and jailctl waits that
    // and 10 s): 120 s until it does; with --timeout, jaild's wait is that, and jailctl's 2 s
    // more (for the answer to travel).
    const ms lifecycle_wait = timeout < 0 ? ms(120000) : timeout == 0 ? ms(0) : quick + ms(2000);
    bool connect_timed_out = false;
    auto conn = Connection::open(socket, quick, &connect_timed_out);
    if (!conn) {
        if (version->parsed()) run_version(nullptr, out);
        std::cerr << "jailctl: " << conn.error().message << "\n";
        if (doctor->parsed())
            std::cerr << "jailctl: without a running jaild, check the host with: sudo jaild "
                         "--check-host\n";
        return connect_timed_out ? kTimedOut : exit_codes::kUnreachable;
    }
    Connection& c = *conn;
    c.set_timeouts(quick, lifecycle_wait);
    auto run_command = [&]() -> int {
        if (status->parsed())
            return run_status(c, status_jail.empty() ? std::nullopt : std::optional(status_jail),
                              out);
        for (auto* sub : lifecycle) {
            if (!sub->parsed()) continue;
            LifecycleOptions options;
            options.no_block = no_block;
            if (timeout >= 0) options.timeout = timeout == 0 ? ms(86'400'000) : quick;
            options.live = ::isatty(STDOUT_FILENO) != 0;
            return run_lifecycle(c, sub->get_name(), lifecycle_jails, options, out);
        }
        if (reload->parsed()) return run_reload(c, out);
        if (reload_app->parsed()) return run_reload_app(c, reload_app_jails, out);
        if (logs->parsed()) return run_logs(c, logs_jail, lines, follow, out);
        if (events->parsed()) return run_events(c, out);
        if (version->parsed()) return run_version(&c, out);
        if (doctor->parsed()) return run_doctor(c, out);
        if (metrics->parsed()) return run_metrics(c, out);
        if (join->parsed()) return run_join(c, join_jail, join_command, out);
        if (backup->parsed()) return run_backup(c, backup_jail, backup_to, out);
        if (restore->parsed()) return run_restore(c, restore_jail, restore_file, out);
        if (provision->parsed())
            return run_provision(c, provision_jails, provision_all, provision_force,
                                 ::isatty(STDOUT_FILENO) != 0, out);
        if (upgrade->parsed()) {
            upgrade_options.live = ::isatty(STDOUT_FILENO) != 0;
            return run_upgrade(c, upgrade_jails, upgrade_options, out);
        }
        return exit_codes::kUsage;
    };
    int status_code = run_command();
    return c.timed_out() ? kTimedOut : status_code;
}

}  // namespace jaild::client

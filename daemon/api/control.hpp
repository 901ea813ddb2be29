// Control: what the API can ask of the daemon. Implemented by the supervisor; the API layer
// (sessions, protocol, authorization) only talks to this interface, so it is tested
// against a fake. All methods are called on the daemon's event loop thread and never
// block: long operations finish through their callback, also on the loop.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "jaild/jail_status.hpp"
#include "jaild/json_text.hpp"
#include "jaild/result.hpp"
#include "jaild/unique_fd.hpp"

namespace jaild::api {

using Done = std::function<void(Result<void>)>;

// Cancels a subscription when destroyed (or on cancel()). Move-only.
class Subscription {
  public:
    Subscription() = default;
    explicit Subscription(std::function<void()> cancel) : cancel_(std::move(cancel)) {}
    Subscription(Subscription&& o) noexcept : cancel_(std::exchange(o.cancel_, nullptr)) {}
    Subscription& operator=(Subscription&& o) noexcept {
        if (this != &o) {
            cancel();
            cancel_ = std::exchange(o.cancel_, nullptr);
        }
        return *this;
    }
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;
    ~Subscription() { cancel(); }
    void cancel() {
        if (auto c = std::exchange(cancel_, nullptr)) c();
    }

  private:
    std::function<void()> cancel_;
};

// How start, stop, restart and shutdown answer (docs/API.md, "Waiting").
struct Wait {
    // true: `done` runs once the jail serves (start, restart: running, and healthy if it has a
    // health check) or is down (stop, shutdown), or with why it did not; false: as soon as the
    // request is taken.
    bool block = true;
    // How long a blocking call waits before it answers with an error (the jail carries on);
    // unset: the jail's own window (its stop timeout, its health check's start window).
    std::optional<std::chrono::milliseconds> timeout;
    // While a blocking call waits: {"timeout_ms": N} first, then the jail's "state" events.
    std::function<void(const nlohmann::json&)> progress;
};

struct JoinRequest {
    std::vector<std::string> command;  // empty: the jail's login shell (/bin/sh)
    bool tty = false;
    unsigned short rows = 24, cols = 80;  // tty only
    // !tty: the client's own stdin/stdout/stderr, received over the socket (SCM_RIGHTS).
    UniqueFd stdin_fd, stdout_fd, stderr_fd;
};

struct JoinStarted {
    int pid = 0;          // the firejail --join process
    UniqueFd pty_master;  // tty only: the master side, to be handed to the client
};

class Control {
  public:
    virtual ~Control() = default;

    // Errors carry an Errc (jaild/result.hpp) that the API maps to a protocol code. Every
    // method taking a jail answers an unknown one itself with Errc::no_such_jail naming the
    // known jails (through `done` for the asynchronous ones): callers need not look it up.

    // All jails (jail empty) or one; an unknown jail is an error naming the known ones.
    virtual Result<std::vector<JailStatus>> status(const std::optional<std::string>& jail) = 0;
    // The same as JSON text appended to `out` (what append_json writes for status()'s list):
    // what the API answers. The Supervisor keeps each jail's text between its changes.
    virtual Result<void> append_status_json(const std::optional<std::string>& jail,
                                            std::string& out) {
        auto st = status(jail);
        if (!st) return st.error();
        append_json(out, *st);
        return Result<void>();
    }
    // start: clears `failed`/held-down and starts (after its dependencies).
    virtual void start(const std::string& jail, Wait wait, Done done) = 0;
    // stop: stops and holds the jail down until `start` (or jaild restarts).
    virtual void stop(const std::string& jail, Wait wait, Done done) = 0;
    virtual void restart(const std::string& jail, Wait wait, Done done) = 0;
    // shutdown: like stop, and the hold survives jaild restarts and reloads.
    virtual void shutdown(const std::string& jail, Wait wait, Done done) = 0;
    // reload-app: sends the jail's reload signal (config/app_reload.hpp) to its service
    // (sandbox/reload_target.hpp: the main process, or the one child of a wrapper shell);
    // answers once it was delivered: {"jail","signal","pid","program"}. Default: refused
    // (for Controls that do not implement it).
    virtual Result<nlohmann::json> reload_app(const std::string& jail) {
        return make_error("reload-app of jail '" + jail + "': this jaild cannot reload an app");
    }
    // Re-reads the configuration. The result describes what changed. An invalid file is an
    // Errc::invalid_config error whose details are exactly the issues, one each (its message
    // adds a header for the log); a reload refused for another reason (the bridge changed,
    // the firewall could not be applied, jaild is shutting down) has another code. Either
    // way nothing is changed.
    virtual Result<nlohmann::json> reload() = 0;
    // The last n lines of a jail's output.
    virtual Result<std::vector<LogLine>> logs(const std::string& jail, std::size_t n) = 0;
    // The same, delivered to `done` on the loop, possibly later: what the API calls, so that a
    // source that must be read (the journal) is read off the loop. `done` runs exactly once.
    // Default: logs() at once.
    virtual void logs_async(const std::string& jail, std::size_t n,
                            std::function<void(Result<std::vector<LogLine>>)> done) {
        done(logs(jail, n));
    }
    // Every new line of the jail's output, until the subscription is dropped.
    virtual Result<Subscription> follow_logs(const std::string& jail,
                                             std::function<void(const LogLine&)> sink) = 0;
    // Every state change of every jail, as JSON events (see docs/API.md).
    virtual Subscription subscribe_events(std::function<void(const nlohmann::json&)> sink) = 0;
    // Starts `firejail --join` in the jail. on_exit gets the command's exit status (0-255,
    // 128+N for a signal) when it ends; it is not called if this returns an error.
    virtual Result<JoinStarted> join(const std::string& jail, JoinRequest request,
                                     std::function<void(int exit_status)> on_exit) = 0;
    // Builds the jail's root from its "provision" section (debootstrap base, packages,
    // recipe) and swaps it in. on_progress gets {"jail","step","detail","elapsed_ms"}
    // events while it runs; done gets {"jail","status": "built"|"up to date"|"changed"|
    // "skipped", ...} or an error carrying the failing tool's own last lines. Dropping the
    // returned Subscription before done cancels the build (the previous root stays).
    // if_configured: a jail without a "provision" section is "skipped" instead of an error.
    virtual Subscription provision(const std::string& jail, bool force, bool if_configured,
                                   std::function<void(const nlohmann::json& progress)> on_progress,
                                   std::function<void(Result<nlohmann::json>)> done) = 0;
    // Package updates of a provisioned jail's root (daemon/provision/updates.hpp): with
    // `check`, what is pending; otherwise an upgrade of a copy, swapped in, rolled back if the
    // jail does not serve on it. Progress and the end as for provision. The default refuses.
    virtual Subscription upgrade(const std::string& jail, bool check, bool security_only,
                                 bool if_configured,
                                 std::function<void(const nlohmann::json& progress)> on_progress,
                                 std::function<void(Result<nlohmann::json>)> done) {
        (void)jail, (void)check, (void)security_only, (void)if_configured, (void)on_progress;
        done(make_error("this jaild cannot upgrade jails"));
        return {};
    }
    // Backups of a postgresql jail (daemon/backup/backups.hpp): pg_dumpall inside the jail
    // into a new file in `to_dir` ("" = the jail's backup directory); restore loads `file`
    // (absolute, with FILE.sha256 beside it) back through psql inside the jail. Progress and
    // the end as for provision; dropping the Subscription cancels. The defaults refuse.
    virtual Subscription backup(const std::string& jail, const std::string& to_dir,
                                std::function<void(const nlohmann::json& progress)> on_progress,
                                std::function<void(Result<nlohmann::json>)> done) {
        (void)jail, (void)to_dir, (void)on_progress;
        done(make_error("this jaild cannot take backups"));
        return {};
    }
    virtual Subscription restore(const std::string& jail, const std::string& file,
                                 std::function<void(const nlohmann::json& progress)> on_progress,
                                 std::function<void(Result<nlohmann::json>)> done) {
        (void)jail, (void)file, (void)on_progress;
        done(make_error("this jaild cannot restore backups"));
        return {};
    }
};

}  // namespace jaild::api

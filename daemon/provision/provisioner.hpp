// Provisioner: builds a jail's root from its "provision" section without blocking the loop.
// Every slow step (debootstrap, cp, apt-get, postgres --single, rm -rf) is a process started
// through a sandbox::ProcessRunner, in its own session, its output read line by line and
// turned into progress events. The root is built in ROOT.new and swapped in only when
// complete (swap.cpp); a failure or a cancel removes ROOT.new and leaves ROOT alone.
//
// It talks to whoever runs the jails through JailHost: a handful of verbs (stop this jail,
// start it, is it meant to run, its output), never the supervisor's internals.
// Single-threaded: everything runs on the io_context given to the constructor.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "jaild/result.hpp"
#include "sandbox/process_runner.hpp"

namespace jaild::provision {

// What jaild learnt of a jail's pending updates (a check), or how its upgrade ended.
struct UpdatesReport {
    std::optional<int> pending, security;  // set after a check or an upgrade
    std::string upgrade_result;            // "", "upgraded", "rolled back", "failed"
    std::string message;                   // why it was rolled back or failed
    bool security_applied = false;  // an upgrade of the security updates alone: they are done
};

// What a build needs from whoever runs the jails (the supervisor; a recording fake in tests).
class JailHost {
  public:
    virtual ~JailHost() = default;
    // The current configuration (other jails: database grants, password files).
    virtual const config::Config& config() const = 0;
    // The jail's configuration as it runs now; nullptr if there is no such jail (any more).
    virtual const config::JailConfig* jail(const std::string& name) const = 0;
    // Not held down (jailctl stop) nor shut down: it is started again after a swap.
    virtual bool meant_to_run(const std::string& jail) const = 0;
    // `done` runs on the loop once the jail is down (or up), or with the reason it is not.
    virtual void stop(const std::string& jail, std::function<void(Result<void>)> done) = 0;
    virtual void start(const std::string& jail, std::function<void(Result<void>)> done) = 0;
    // A line a provisioning step printed: into the jail's log (stream "provision").
    virtual void output(const std::string& jail, std::string_view line) = 0;
    // What a check or an upgrade found out (status "updates").
    virtual void updates_known(const std::string& jail, const UpdatesReport& report) {
        (void)jail;
        (void)report;
    }
};

struct ProvisionerOptions {
    std::string firejail = "/usr/bin/firejail";
    std::string state_dir;          // records and database passwords ("" = /var/lib/jaild)
    std::string cache_dir;          // debootstrapped bases ("" = STATE_DIR/cache)
    std::string host_etc = "/etc";  // the host's apt settings and sources carried into roots
};

// Where the record of a jail's last build is kept: STATE_DIR/provision/JAIL.json
// (state_dir "" = /var/lib/jaild). A jail with a record had a root built for it.
std::string record_path(const std::string& state_dir, const std::string& jail);

class Build;
class Removals;
struct BuildTarget;

class Provisioner {
  public:
    using Progress = std::function<void(const nlohmann::json&)>;
    using Done = std::function<void(Result<nlohmann::json>)>;
    // Cancels the build unless it is done or swapping; empty when `done` already ran.
    using Cancel = std::function<void()>;

    // `runner` and `host` must outlive the Provisioner.
    Provisioner(boost::asio::io_context& io, sandbox::ProcessRunner& runner, JailHost& host,
                ProvisionerOptions options);
    // Kills the running step (its whole process group) and any removal; ROOT.new is left
    // for the next build to remove. Callbacks of a build in progress never run after this.
    ~Provisioner();
    Provisioner(const Provisioner&) = delete;
    Provisioner& operator=(const Provisioner&) = delete;

    // Builds and swaps in the root of `jail` (one build at a time; a second one is refused).
    // on_progress gets {"jail","step","detail","elapsed_ms"}; done gets {"jail","status":
    // "built"|"up to date"|"changed"|"skipped",...} or an error with the tool's last lines.
    // if_configured: a jail without a "provision" section is "skipped", not an error.
    // An unknown jail is the caller's to report (it knows the configured names).
    Cancel provision(const std::string& jail, bool force, bool if_configured, Progress on_progress,
                     Done done);
    // Upgrades the packages of the jail's existing root (provision/updates.hpp): refreshes the
    // lists, sees what is pending, and unless `check_only` upgrades a copy of the root under
    // the jail's containment, swaps it in, and once the jail is started on it either keeps
    // the replaced root as ROOT.previous or, if it does not serve, rolls back to it. done gets
    // {"jail","status": "checked"|"up to date"|"upgraded"|"skipped","pending","security",
    // "packages",...} or an error (a rollback says so and why). Shares the one-build slot.
    Cancel upgrade(const std::string& jail, bool check_only, bool security_only, bool if_configured,
                   Progress on_progress, Done done);

  private:
    // The paths and suite of a build or an upgrade of `jail`, or the answer that ends the
    // request here: no such jail, no "provision" section ("skipped" if `if_configured`, else an
    // error ending with `no_provision`), another build running, no suite.
    std::variant<BuildTarget, Result<nlohmann::json>> target(const std::string& jail,
                                                             bool if_configured,
                                                             const std::string& no_provision) const;
    Cancel launch(BuildTarget target, Progress on_progress, Done done);

    ProvisionerOptions options_;
    boost::asio::io_context& io_;
    sandbox::ProcessRunner& runner_;
    JailHost& host_;
    std::unique_ptr<Removals> removals_;
    std::shared_ptr<Build> current_;  // at most one at a time
};

}  // namespace jaild::provision

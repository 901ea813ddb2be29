// Jail: one configured jail while jaild runs it. It owns everything of its runs: the
// firejail process, its output pipes, its main process, its timers (backoff, stop
// escalation, health checks), its health probe, its log buffer and the API calls waiting
// on it. Its JailMachine decides; the Jail acts on the decisions and feeds back what
// happened. Where each part lives:
//   launch.cpp   how a jail is started (leftovers cleared, root checked, network, firejail)
//   restart.cpp  what happens when it ends: restart now, after a backoff, or a crash loop
//   stop.cpp     how it is stopped: its stop signal, then SIGTERM, then SIGKILL
//   health.cpp   its health checks
//   jail.cpp     requests (start, stop, restart, reconfigure), status, events
// The Supervisor (supervisor.cpp) owns the jails and the order between them.
//
// Single-threaded, on the loop. Timers, processes and pipe readers never call back after
// they are destroyed, so their callbacks capture `this`; a jail is only destroyed from a
// fresh turn of the loop (the Supervisor posts removals).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "api/control.hpp"
#include "config/config.hpp"
#include "jaild/jail_status.hpp"
#include "jaild/json_text.hpp"
#include "log/log_buffer.hpp"
#include "log/output_limiter.hpp"
#include "log/pipe_reader.hpp"
#include "metrics/jail_metrics.hpp"
#include "net/jail_network.hpp"
#include "sandbox/inspector.hpp"
#include "sandbox/process_runner.hpp"
#include "supervisor/clock.hpp"
#include "supervisor/jail_machine.hpp"
#include "supervisor/main_process.hpp"
#include "supervisor/run_state.hpp"

namespace jaild::supervisor {

class Jail;

// What a jail uses, owned by the Supervisor.
struct JailContext {
    boost::asio::io_context& io;
    TimeSource& time;
    sandbox::ProcessRunner& runner;
    sandbox::SandboxInspector& sandboxes;
    net::JailNetwork& network;
    std::string firejail;
    std::size_t log_lines = 1000;
    // Events for `jailctl events` (type "state").
    std::function<void(nlohmann::json)> publish;
    // After every change of a jail's state or health: the Supervisor moves the other jails
    // on (dependents may start, stops in order may proceed, a removed jail is released).
    std::function<void(Jail&)> changed;
    // jaild's state directory ("" = the default), where provisioning records its builds.
    std::string state_dir;
    // systemd's file-descriptor store (live restore): the read ends of a run's output pipes
    // are kept there under a name (output_fd_name) while it runs, so that a restarted jaild
    // reads on where this one stopped. Empty: no store (not under systemd; unit tests).
    std::function<void(const std::string& name, int fd)> store_fd = {};
    std::function<void(const std::string& name)> remove_fd = {};
};

// "out.www.stdout.1234": the store's name of a run's output pipe (jail, stream, firejail pid).
std::string output_fd_name(const std::string& jail, const std::string& stream, int firejail_pid);
// What the sandbox of a jail depends on (its firejail arguments and address): a jail whose
// hash differs from the recorded one runs with an older configuration.
std::string sandbox_hash(const config::JailConfig& jail, const std::string& firejail);

class Jail : public std::enable_shared_from_this<Jail> {
  public:
    Jail(JailContext& context, config::JailConfig config);
    ~Jail();
    Jail(const Jail&) = delete;
    Jail& operator=(const Jail&) = delete;

    const std::string& name() const { return config_.name; }
    const config::JailConfig& config() const { return config_; }
    const JailMachine& machine() const { return machine_; }
    log::LogBuffer& logs() { return logs_; }
    JailStatus status() const;
    // The same at `now`: a status of all jails reads the clock once.
    JailStatus status(TimePoint now) const;
    // status(now) for JSON text (append_json's bytes): its text kept between the jail's changes
    // (valid until the next call) and the values of its dynamic fields, read now.
    KeptJailStatus kept_status(TimePoint now) const;
    std::optional<Confinement> confinement() const;
    // status() plus what only the metrics show (last exit as code/signal, health checks).
    metrics::JailFigures figures(TimePoint now) const;

    // Requests (jail.cpp). With wait.block, `done` runs once the jail serves (running, and
    // healthy if checked) or is down, or with why it did not within the wait's timeout;
    // without, at once. `done` may be empty.
    void start(api::Wait wait, api::Done done);
    void stop(api::Wait wait, api::Done done);
    void restart(api::Wait wait, api::Done done);
    void bring_up();             // start_all: wanted up, nobody waiting
    void hold_down();            // start_all: shut down by an admin, stays down
    void added(bool held_down);  // a reload added it
    // A reload changed its configuration: used now if it is down, else it restarts with it.
    // `held_down`: an admin shut it down (for a jail the reload had removed and brings back).
    void reconfigure(config::JailConfig next, bool held_down);
    // A reload removed it: stopped, then released by the Supervisor (removal_due()).
    void remove();
    bool has_pending_config() const;

    // adopt.cpp: live restore (supervisor/run_state.hpp).
    JailRecord record() const;
    // What the earlier jaild counted (restarts, failures, last exit and error).
    void carry_over(const JailRecord& record);
    // Takes over the recorded running sandbox if the runner proves it is that one; its output
    // pipes' read ends come from `stored` (taken out of it). An error says why not.
    Result<void> adopt(const JailRecord& record, std::map<std::string, UniqueFd>& stored);
    // An adopted jail's namespace and veth are there already: checked (and a deleted veth
    // restored) once the API answers, one jail per turn of the loop (Supervisor::restore_all).
    // False if there was nothing to check (not adopted, or checked already).
    bool check_adopted_network();
    // Its recorded sandbox is gone (or was not ours): it ended while jaild was away, and the
    // restart policy decides, as for any unexpected end. `why` for the log.
    void lost_while_away(const std::string& why);
    // It was backing off / cooling down: the next try at the recorded instant.
    void resume_retry(const JailRecord& record);
    // jaild leaves for a restart of its own: the sandbox keeps running, unwatched.
    void detach();

    // launch.cpp: the machine is ready to spawn and the jail's dependencies serve.
    void spawn();
    // stop.cpp: sends the stop signal and arms the escalation.
    void signal_stop();
    // reload_app.cpp: its reload signal to its service, delivered (api::Control::reload_app).
    Result<nlohmann::json> reload_app();
    // How to run `command` inside the running jail with no more privilege than its main
    // process (sandbox/enter.hpp); the options borrow the main process's pidfd.
    Result<sandbox::SpawnOptions> enter_options(const std::vector<std::string>& command) const;
    // When its last good backup was taken (backups.cpp), for its status; realtime_us().
    void backed_up(std::int64_t realtime_us) { last_backup_us_ = realtime_us; }
    // What is known of its package updates (status "updates"; supervisor/updates.cpp).
    void set_updates(std::optional<UpdatesStatus> updates) { updates_ = std::move(updates); }

  private:
    // launch.cpp
    void launch();
    void start_output(UniqueFd fd, std::string stream);
    void output_dropped();  // arms the "N lines dropped" report
    void report_dropped();
    // restart.cpp
    void on_exit(int firejail_status);
    void on_end_adopted();  // no wait status: not jaild's child
    void ended(std::optional<int> firejail_status);
    void forget_stored_output();
    void apply_outcome(const ExitOutcome& outcome);
    void retry_due();
    // health.cpp
    void schedule_health(Millis delay);
    void run_health_check();
    void connect_probe();
    void exec_probe();
    void probe_postgres();
    void read_postgres_reply(std::shared_ptr<std::string> received);
    void finish_probe(bool ok, const std::string& detail);
    void health_done(bool ok, const std::string& detail);
    void cancel_health();
    // jail.cpp
    JailStatusDynamic dynamic_status(TimePoint now) const;
    // Everything status() renders besides the dynamic fields, as references: the kept text
    // is rendered again whenever any of it differs from what it was rendered from.
    auto status_inputs(const std::string& limits_note) const;
    struct KeptStatus;
    void changed(const std::string& message);
    void take_pending_config();
    // Wanted up: unless its root is still to be built (then `unprovisioned`).
    void want_up();
    void check_provisioned();
    bool root_unprovisioned() const;
    // waiters.cpp: API calls waiting for the jail to serve or to be down.
    struct Waiter {
        bool up = true;  // start/restart: until it serves; stop: until it is down
        api::Done done;
        std::function<void(const nlohmann::json&)> progress;
        std::unique_ptr<Timer> timeout;
        Millis window{0};
        std::string failure;  // why it did not come up, once known
    };
    void add_waiter(bool up, api::Wait wait, api::Done done);
    void resolve_waiters();
    void notify_waiters(const nlohmann::json& event);
    void waiter_timed_out(Waiter* waiter);
    void answer_failing();
    void fail_waiters(const std::string& why);
    Millis wait_window(bool up, bool restart) const;
    std::string start_failure() const;

    JailContext& ctx_;
    config::JailConfig config_;
    std::optional<config::JailConfig> pending_;  // from a reload, taken at the next launch
    JailMachine machine_;
    std::unique_ptr<sandbox::Process> firejail_;  // while the sandbox runs
    MainProcess main_;
    std::vector<std::unique_ptr<log::PipeReader>> output_;
    std::vector<std::string> stored_fds_;                  // this run's names in systemd's fd store
    bool adopted_network_unchecked_ = false;               // adopt() until check_adopted_network()
    std::unique_ptr<Timer> retry_timer_;                   // backoff / crash-loop cool-down
    std::unique_ptr<Timer> stop_timer_;                    // SIGTERM then SIGKILL escalation
    std::unique_ptr<Timer> health_timer_;                  // next health check
    std::unique_ptr<Timer> health_deadline_;               // timeout of the running check
    std::unique_ptr<Timer> settle_timer_;                  // waiters: a jail without health check
    std::unique_ptr<boost::asio::ip::tcp::socket> probe_;  // tcp/postgresql check in flight
    std::unique_ptr<sandbox::Process> probe_process_;      // exec check in flight
    log::LogBuffer logs_;
    // Its output lines over limits.output_* are dropped (counted for status, across runs),
    // and reported in the log at most once per report interval.
    log::OutputLimiter output_limit_;
    std::unique_ptr<Timer> drop_report_timer_;
    bool drop_report_armed_ = false;
    std::vector<std::unique_ptr<Waiter>> waiters_;
    std::vector<std::unique_ptr<Waiter>> failing_;  // answered once the output is read
    std::string last_state_;                        // for events: the state before the change
    // For the metrics (figures()).
    std::optional<int> last_wait_status_;  // of the last run that ended
    std::uint64_t health_checks_ = 0, health_check_failures_ = 0;
    std::optional<TimePoint> health_check_started_;
    std::optional<double> last_health_check_seconds_;
    std::uint64_t oom_kills_past_ = 0;  // in its runs that ended (the current one: its scope)
    std::optional<std::int64_t> last_backup_us_;  // backed_up()
    std::optional<UpdatesStatus> updates_;        // set_updates()
    // kept_status()'s text and what it was rendered from; a cache, hence mutable.
    mutable std::unique_ptr<KeptStatus> kept_status_;
};

}  // namespace jaild::supervisor

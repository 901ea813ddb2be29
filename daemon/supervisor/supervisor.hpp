// Supervisor: turns the configuration into running jails and keeps them running. It owns
// the jails (supervisor/jail.hpp: one jail's life) and what lies between them: dependency
// order at start (a jail starts once the jails it comes `after` serve) and at stop
// (dependents first), the jails an admin shut down (kept across restarts), reloads,
// joins, provisioning and events. It implements api::Control for the API server.
//
// Single-threaded: everything runs on the io_context given to the constructor. Processes,
// time, the sandboxes' process trees and the network come through seams
// (SupervisorServices), so unit tests drive it with fakes (tests/unit/supervisor/).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "api/control.hpp"
#include "config/config.hpp"
#include "config/load.hpp"
#include "log/journal_reader.hpp"
#include "metrics/jail_metrics.hpp"
#include "net/jail_network.hpp"
#include "provision/provisioner.hpp"
#include "sandbox/inspector.hpp"
#include "sandbox/process_runner.hpp"
#include "supervisor/clock.hpp"
#include "supervisor/held_down.hpp"
#include "supervisor/jail.hpp"

namespace jaild::supervisor {

struct SupervisorOptions {
    std::string firejail = "/usr/bin/firejail";
    std::string state_dir;  // where held-down jails are remembered ("" = nowhere)
    std::function<config::LoadResult()> load_config;  // what `reload` reads
    std::size_t log_lines = 1000;                     // kept per jail for `logs`
    std::string cache_dir;  // provisioning's debootstrap base cache ("" = STATE_DIR/cache)
    // Live restore: called with every jail's record after every change that matters (the
    // daemon writes RUN_DIR/state.json), and systemd's fd store (JailContext).
    std::function<void(const std::vector<JailRecord>&)> save_state;
    std::function<void(const std::string& name, int fd)> store_fd;
    std::function<void(const std::string& name)> remove_fd;
};

// The seams: the daemon passes the real ones (sandbox::ChildRunner, AsioTimeSource,
// sandbox::FirejailInspector, net::Network), unit tests fakes.
struct SupervisorServices {
    sandbox::ProcessRunner& runner;
    TimeSource& time;
    sandbox::SandboxInspector& sandboxes;
    net::JailNetwork& network;
};

class Supervisor final : public api::Control {
  public:
    Supervisor(boost::asio::io_context& io, config::Config config, SupervisorServices services,
               SupervisorOptions options);
    ~Supervisor() override;
    Supervisor(const Supervisor&) = delete;
    Supervisor& operator=(const Supervisor&) = delete;

    // Starts every jail that is not held down, in dependency order.
    void start_all();
    // Instead of start_all, when an earlier jaild left `state` (live restore): each jail keeps
    // its counters; its recorded sandbox, if the runner proves it is that one, is adopted
    // (and restarted at once if its configuration changed meanwhile); a recorded sandbox that
    // is gone, or is not ours, ended while jaild was away (the restart policy decides); a
    // jail that was backing off keeps its next try; held-down jails stay down. `stored`: the
    // fds systemd kept (output pipes by name); those no jail takes are dropped from the store.
    void restore_all(const RunState& state, std::map<std::string, UniqueFd> stored);
    // jaild leaves for a restart of its own: every sandbox keeps running, the state is saved.
    void detach();
    std::vector<JailRecord> records() const;
    // Stops every jail, dependents before their dependencies; `done` runs when all are down.
    void stop_all(std::function<void()> done);
    // One line for systemd's STATUS=, e.g. "2/2 jails running, 2 healthy".
    std::string status_line() const;
    // Called after every state change (for STATUS= updates).
    void on_change(std::function<void()> callback);
    const config::Config& config() const { return config_; }
    // Every jail's figures for the metrics (name order).
    std::vector<metrics::JailFigures> figures() const;

    // api::Control
    Result<std::vector<JailStatus>> status(const std::optional<std::string>& jail) override;
    Result<void> append_status_json(const std::optional<std::string>& jail,
                                    std::string& out) override;
    void start(const std::string& jail, api::Wait wait, api::Done done) override;
    void stop(const std::string& jail, api::Wait wait, api::Done done) override;
    void restart(const std::string& jail, api::Wait wait, api::Done done) override;
    void shutdown(const std::string& jail, api::Wait wait, api::Done done) override;
    Result<nlohmann::json> reload() override;                             // reload.cpp
    Result<nlohmann::json> reload_app(const std::string& jail) override;  // reload_app.cpp
    Result<std::vector<LogLine>> logs(const std::string& jail, std::size_t n) override;
    void logs_async(const std::string& jail, std::size_t n,
                    std::function<void(Result<std::vector<LogLine>>)> done) override;
    Result<api::Subscription> follow_logs(const std::string& jail,
                                          std::function<void(const LogLine&)> sink) override;
    api::Subscription subscribe_events(std::function<void(const nlohmann::json&)> sink) override;
    Result<api::JoinStarted> join(const std::string& jail, api::JoinRequest request,
                                  std::function<void(int)> on_exit) override;  // join.cpp
    // provisioning.cpp (the build itself: daemon/provision/provisioner.hpp)
    api::Subscription provision(const std::string& jail, bool force, bool if_configured,
                                std::function<void(const nlohmann::json&)> on_progress,
                                std::function<void(Result<nlohmann::json>)> done) override;
    // updates.cpp: jailctl upgrade (the work itself: daemon/provision/updates.hpp)
    api::Subscription upgrade(const std::string& jail, bool check, bool security_only,
                              bool if_configured,
                              std::function<void(const nlohmann::json&)> on_progress,
                              std::function<void(Result<nlohmann::json>)> done) override;
    // backups.cpp (the work itself: daemon/backup/backups.hpp)
    api::Subscription backup(const std::string& jail, const std::string& to_dir,
                             std::function<void(const nlohmann::json&)> on_progress,
                             std::function<void(Result<nlohmann::json>)> done) override;
    api::Subscription restore(const std::string& jail, const std::string& file,
                              std::function<void(const nlohmann::json&)> on_progress,
                              std::function<void(Result<nlohmann::json>)> done) override;

  private:
    // After restore_all: the adopted jails' networks, one jail per turn of the loop.
    void check_adopted_networks();
    // tls_refresh.cpp: host certificates copied into the roots of jails with "tls"; re-armed
    // every minute while some jail has one.
    void refresh_tls();
    friend class ProvisionHost;  // provisioning.cpp: the jails as provisioning sees them
    struct Provisioning;
    Provisioning& provisioning();
    provision::Provisioner::Cancel provisioning_upgrade(
        const std::string& jail, bool check, bool security_only, bool if_configured,
        std::function<void(const nlohmann::json&)> on_progress,
        std::function<void(Result<nlohmann::json>)> done);
    // updates.cpp: what checks and upgrades found (kept in STATE_DIR/updates.json), and the
    // schedule of "updates" (checks, and upgrades if "apply" says so), armed after start_all,
    // restore_all and reloads.
    void record_updates(const std::string& jail, const provision::UpdatesReport& report);
    void load_updates();
    void configure_updates();
    void arm_updates_timer();
    TimePoint update_due(const std::string& jail);
    void run_due_update();
    std::map<std::string, UpdatesStatus> updates_;
    std::unique_ptr<Timer> updates_timer_;
    TimePoint started_at_{};
    std::map<std::string, TimePoint> update_due_;  // each jail's next scheduled check
    bool update_running_ = false;

    std::shared_ptr<Jail> find(const std::string& name) const;
    Error unknown_jail(const std::string& name) const;
    std::shared_ptr<Jail> add_jail(const config::JailConfig& config);
    void jail_changed(Jail& jail);
    void schedule();
    bool dependencies_serving(const Jail& jail) const;
    bool dependents_down(const Jail& jail) const;
    void advance_stops();
    void finish_removal(const std::string& name);
    void publish(const nlohmann::json& event);
    void save_state();  // soon (posted)
    void save_state_now();

    boost::asio::io_context& io_;
    config::Config config_;
    SupervisorServices services_;
    SupervisorOptions options_;
    JailContext context_;
    HeldDown held_down_;  // shut down with `jailctl shutdown`: persisted
    std::map<std::string, std::shared_ptr<Jail>> jails_;
    std::map<std::uint64_t, std::function<void(const nlohmann::json&)>> event_sinks_;
    std::uint64_t next_sink_id_ = 1;
    std::map<int, std::unique_ptr<sandbox::Process>> joins_;  // by pid
    std::function<void()> change_callback_;
    std::function<void()> all_stopped_;  // stop_all in progress
    bool stopping_all_ = false;
    bool detached_ = false;  // detach(): nothing is saved any more
    bool save_pending_ = false;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // for posted saves
    bool scheduling_paused_ = false;                      // while a reload applies its changes
    std::unique_ptr<log::JournalReader> journal_reader_;  // `logs` under journald, off the loop
    std::shared_ptr<Provisioning> provisioning_;          // made at the first `provision`
    std::unique_ptr<Timer> tls_timer_;                    // refresh_tls(), while needed
    std::map<std::string, std::string> tls_errors_;       // the last one logged, per jail
    // backups.cpp: scheduled backups armed (again) after start_all, restore_all and reloads.
    friend class JailsForBackups;
    struct BackupWork;
    void configure_backups();
    std::shared_ptr<BackupWork> backups_;  // made at the first use
};

}  // namespace jaild::supervisor

// Supervisor: turns the configuration into running firejail sandboxes that are jaild's own
// children, keeps them running (restart policy, backoff, health checks, dependency order)
// and stops them cleanly. It implements api::Control for the API server.
//
// Single-threaded: everything runs on the io_context given to the constructor. Child
// exits are watched through pidfds, output through pipes, delays through timers: no
// polling. Asio handlers hold weak references to a jail, so a jail removed by a reload
// can never be touched by a late handler.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "api/control.hpp"
#include "config/config.hpp"
#include "config/load.hpp"
#include "supervisor/jail_network.hpp"

namespace jaild::supervisor {

struct SupervisorOptions {
    std::string firejail = "/usr/bin/firejail";
    std::string state_dir;  // where held-down jails are remembered ("" = nowhere)
    std::function<config::LoadResult()> load_config;  // what `reload` reads
    std::size_t log_lines = 1000;                     // kept per jail for `logs`
    std::string cache_dir;  // provisioning's debootstrap base cache ("" = STATE_DIR/cache)
};

class Supervisor final : public api::Control {
public:
    Supervisor(boost::asio::io_context& io, config::Config config, JailNetwork& network,
               SupervisorOptions options);
    ~Supervisor() override;
    Supervisor(const Supervisor&) = delete;
    Supervisor& operator=(const Supervisor&) = delete;

    // Starts every jail that is not held down, in dependency order.
    void start_all();
    // Stops every jail, dependents before their dependencies; `done` runs when all are down.
    void stop_all(std::function<void()> done);
    // One line for systemd's STATUS=, e.g. "2/2 jails running, 2 healthy".
    std::string status_line() const;
    // Called after every state change (for STATUS= updates).
    void on_change(std::function<void()> callback);
    const config::Config& config() const;

    // api::Control
    Result<std::vector<JailStatus>> status(const std::optional<std::string>& jail) override;
    void start(const std::string& jail, api::Done done) override;
    void stop(const std::string& jail, api::Done done) override;
    void restart(const std::string& jail, api::Done done) override;
    void shutdown(const std::string& jail, api::Done done) override;
    Result<nlohmann::json> reload() override;
    Result<std::vector<LogLine>> logs(const std::string& jail, std::size_t n) override;
    void logs_async(const std::string& jail, std::size_t n,
                    std::function<void(Result<std::vector<LogLine>>)> done) override;
    Result<api::Subscription> follow_logs(const std::string& jail,
                                          std::function<void(const LogLine&)> sink) override;
    api::Subscription subscribe_events(std::function<void(const nlohmann::json&)> sink) override;
    Result<api::JoinStarted> join(const std::string& jail, api::JoinRequest request,
                                  std::function<void(int)> on_exit) override;
    // provisioning.cpp (the build itself: daemon/provision/provisioner.hpp)
    api::Subscription provision(const std::string& jail, bool force, bool if_configured,
                                std::function<void(const nlohmann::json&)> on_progress,
                                std::function<void(Result<nlohmann::json>)> done) override;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace jaild::supervisor

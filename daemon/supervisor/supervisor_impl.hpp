// Internals of the Supervisor, shared by its .cpp files (lifecycle, health, control).
// Not part of the public interface.
#pragma once

#include <array>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "jaild/unique_fd.hpp"
#include "log/journal_reader.hpp"
#include "log/line_splitter.hpp"
#include "log/log_buffer.hpp"
#include "sandbox/child_process.hpp"
#include "supervisor/jail_machine.hpp"
#include "supervisor/supervisor.hpp"

namespace jaild::supervisor {

namespace asio = boost::asio;

// Reads one of a jail's output pipes line by line until EOF.
struct OutputPipe {
    explicit OutputPipe(asio::io_context& io) : stream(io) {}
    asio::posix::stream_descriptor stream;
    // Small on purpose: every line read is logged before the loop turns, so one read of a
    // flooding jail must not hold up API requests (bench figure 7: 16 KiB reads, about 2300
    // short lines each, put the status p99 at 3.5x idle during a 1M-line flood).
    std::array<char, 2048> buffer{};
    log::LineSplitter splitter;
    std::string name;  // "stdout" / "stderr"
};

// A child process whose exit is watched on the loop (the jail itself, a health command,
// a join, the end of a leftover sandbox).
struct WatchedChild {
    explicit WatchedChild(asio::io_context& io) : exit_watch(io) {}
    sandbox::ChildProcess process;
    asio::posix::stream_descriptor exit_watch;  // on a dup of the pidfd
};

struct Jail {
    Jail(asio::io_context& io, config::JailConfig cfg, std::size_t log_lines)
        : config(std::move(cfg)),
          machine(config.restart, config.health),
          retry_timer(io),
          stop_timer(io),
          health_timer(io),
          health_deadline(io),
          logs(log_lines),
          main_process(io) {}

    config::JailConfig config;
    JailMachine machine;
    std::shared_ptr<WatchedChild> child;        // the firejail process while it runs
    std::vector<std::unique_ptr<OutputPipe>> pipes;
    asio::steady_timer retry_timer;             // backoff / crash-loop cool-down
    asio::steady_timer stop_timer;              // SIGTERM then SIGKILL escalation
    asio::steady_timer health_timer;            // next health check
    asio::steady_timer health_deadline;         // timeout of the running check
    std::unique_ptr<asio::ip::tcp::socket> probe;      // tcp health check in flight
    std::shared_ptr<WatchedChild> probe_process;      // exec health check in flight
    log::LogBuffer logs;
    std::vector<api::Done> start_waiters;
    std::vector<api::Done> stop_waiters;
    bool stop_pending = false;   // to be signalled once its dependents are down
    bool stop_escalated = false;
    bool spawning = false;       // waiting for a leftover sandbox of this name to end
    bool removing = false;       // left the configuration: release and forget once stopped
    std::optional<config::JailConfig> next_config;  // changed by a reload: used at next start
    std::string last_state;      // for events: the state before the change
    // The jail's command inside the sandbox, found shortly after each start and watched
    // through a pidfd. Its exit is the jail's end: jaild reads its status and kills the
    // sandbox at once, instead of waiting the 100 ms firejail's --deterministic-shutdown
    // spends before it exits (bench figure 2). `status` also reports its pid from here
    // (bench figure 6: scanning /proc per jail per status cost 28 us of CPU per jail).
    struct MainProcess {
        explicit MainProcess(asio::io_context& io) : timer(io) {}
        int tree_of = 0;                 // the firejail pid these belong to
        int pid = 0;                     // 0 until found
        UniqueFd pidfd;
        UniqueFd init_pidfd;             // the sandbox's init (PID 1 inside)
        std::unique_ptr<asio::posix::stream_descriptor> watch;  // on a dup of pidfd
        asio::steady_timer timer;        // finding it / reading its exit status
        int attempts = 0;
        std::optional<TimePoint> exited_at;
        std::optional<int> wait_status;  // its own wait status, once known
        void reset() {
            tree_of = pid = attempts = 0;
            pidfd.reset();
            init_pidfd.reset();
            watch.reset();
            timer.cancel();
            exited_at.reset();
            wait_status.reset();
        }
    };
    MainProcess main_process;
};

struct ProvisionWork;  // provisioning.cpp: the Provisioner and what it runs on

struct Supervisor::Impl {
    Impl(asio::io_context& io, config::Config cfg, JailNetwork& net, SupervisorOptions opts);

    asio::io_context& io;
    config::Config config;
    JailNetwork& network;
    SupervisorOptions options;
    std::map<std::string, std::shared_ptr<Jail>> jails;
    std::set<std::string> shut_down;  // held down across restarts (persisted)
    std::map<std::uint64_t, std::function<void(const nlohmann::json&)>> event_sinks;
    std::uint64_t next_sink_id = 1;
    std::map<int, std::shared_ptr<WatchedChild>> joins;  // by pid
    std::vector<std::shared_ptr<WatchedChild>> leftovers;  // sandboxes of an earlier jaild
    std::function<void()> change_callback;
    std::function<void()> all_stopped;  // stop_all in progress
    bool stopping_all = false;
    std::shared_ptr<ProvisionWork> provision_work;
    std::unique_ptr<log::JournalReader> journal_reader;  // `logs` under journald, off the loop

    // lifecycle (supervisor.cpp)
    std::shared_ptr<Jail> find(const std::string& name) const;
    Error unknown_jail(const std::string& name) const;
    void schedule();
    bool dependencies_serving(const Jail& jail) const;
    bool dependents_down(const Jail& jail) const;
    void spawn(const std::shared_ptr<Jail>& jail);
    void launch(const std::shared_ptr<Jail>& jail);
    void watch_exit(const std::shared_ptr<Jail>& jail);
    // the jail's main process (main_process.cpp)
    void find_main_process(const std::shared_ptr<Jail>& jail, Millis delay);
    void on_main_exit(const std::shared_ptr<Jail>& jail);
    // How to run `command` inside the running jail with no more privilege than its main
    // process (sandbox/enter.hpp); an error when the jail is not running or its main process
    // is not known yet. The spawn options borrow the main process's pidfd.
    Result<sandbox::SpawnOptions> enter_options(const Jail& jail,
                                                const std::vector<std::string>& command) const;
    void read_output(const std::shared_ptr<Jail>& jail, OutputPipe* pipe);
    void on_exit(const std::shared_ptr<Jail>& jail, int wait_status);
    void apply_outcome(const std::shared_ptr<Jail>& jail, const ExitOutcome& outcome);
    void request_stop(const std::shared_ptr<Jail>& jail);
    void advance_stops();
    void signal_stop(const std::shared_ptr<Jail>& jail);
    void after_state_change(Jail& jail, const std::string& message);
    void resolve_waiters(Jail& jail);
    void finish_removal(const std::string& name);
    void publish(nlohmann::json event);
    JailStatus status_of(const Jail& jail) const;
    void load_shut_down();
    void save_shut_down() const;

    // health checks (health.cpp)
    void schedule_health(const std::shared_ptr<Jail>& jail, Millis delay);
    void run_health_check(const std::shared_ptr<Jail>& jail);
    void health_done(const std::shared_ptr<Jail>& jail, bool ok, const std::string& detail);
    void finish_probe(const std::shared_ptr<Jail>& jail, bool ok, const std::string& detail);
    void probe_postgres(const std::shared_ptr<Jail>& jail);
    void read_postgres_reply(const std::shared_ptr<Jail>& jail,
                             std::shared_ptr<std::string> received);
    void cancel_health(Jail& jail);

    // child watching (children.cpp)
    std::shared_ptr<WatchedChild> watch(sandbox::ChildProcess process,
                                        std::function<void(int wait_status)> on_exit);
};

}  // namespace jaild::supervisor

#include "app/daemon.hpp"

#include <malloc.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <thread>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "api/server.hpp"
#include "app/host_check.hpp"
#include "app/metrics_scraper.hpp"
#include "app/notifier.hpp"
#include "config/load.hpp"
#include "hostcheck/background_checks.hpp"
#include "jaild/paths.hpp"
#include "jaild/version.hpp"
#include "log/logging.hpp"
#include "metrics/http_listener.hpp"
#include "net/br_netfilter.hpp"
#include "net/links.hpp"
#include "net/network.hpp"
#include "sandbox/adopt_check.hpp"
#include "sandbox/hardening.hpp"
#include "sandbox/inspector.hpp"
#include "sandbox/preflight.hpp"
#include "sandbox/process_runner.hpp"
#include "sandbox/process_tree.hpp"
#include "supervisor/run_state.hpp"
#include "supervisor/supervisor.hpp"
#include "systemd/fd_store.hpp"
#include "systemd/own_job.hpp"
#include "systemd/scope_runner.hpp"
#include "systemd/sd_bus_manager.hpp"
#include "systemd/unit_names.hpp"

namespace jaild::app {

namespace {

constexpr int kExitConfig = 78;  // EX_CONFIG: systemd must not restart into the same error

struct Options {
    std::string config = paths::kConfig;
    std::string socket = paths::kSocket;
    std::string state_dir = paths::kStateDir;
    std::string cache_dir;                 // "" = STATE_DIR/cache
    std::string run_dir = paths::kRunDir;  // state.json for live restore
    std::string firejail = paths::kFirejail;
    std::string firejail_config = paths::kFirejailConfig;
    std::string log_level = "info";
    bool check_config = false;
    bool check_host = false;
    bool json = false;
};

hostcheck::ProbeOptions probe_options(const Options& o) {
    hostcheck::ProbeOptions p;
    p.config_path = o.config;
    p.firejail = o.firejail;
    p.firejail_config = o.firejail_config;
    p.state_dir = o.state_dir;
    p.cache_dir = o.cache_dir;
    return p;
}

// glibc raises its mmap threshold to the size of any mmap'd block that is freed (up to
// 32 MiB) and its trim threshold to twice that. libnftables allocates and frees a ~2 MiB
// batch buffer on every ruleset apply, after which its 128 KiB buffers and everything else
// land in the heap, and the heap's freed top is never given back (~400 KiB stayed resident).
// Fixing both thresholds at glibc's defaults turns that adjustment off. One arena: the daemon
// runs on one thread; the short-lived setns thread (net/links.cpp) need not reserve its own.
void keep_heap_small() {
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    mallopt(M_TRIM_THRESHOLD, 128 * 1024);
    mallopt(M_ARENA_MAX, 1);
}

// The API socket: handed over by systemd (jaild.socket) or created here.
Result<void> open_api(api::ApiServer& server, const std::string& socket_path, int passed) {
    if (passed >= 0) {
        spdlog::info("serving the API on the socket passed by systemd");
        return server.adopt(passed);
    }
    std::error_code ec;
    auto dir = std::filesystem::path(socket_path).parent_path();
    if (!dir.empty() && !std::filesystem::exists(dir)) {
        std::filesystem::create_directories(dir, ec);
        if (ec) return make_error("cannot create " + dir.string() + ": " + ec.message());
        ::chmod(dir.c_str(), 0755);
    }
    return server.listen();
}

// A jail whose sandbox is in jaild's own cgroup (jails not in scopes of their own, e.g. no
// scope runner) would be killed by systemd once jaild exits (KillMode=mixed): detaching
// would trade an orderly stop for a SIGKILL. nullopt: none is; else the first such jail.
std::optional<std::string> jail_in_own_cgroup(const std::vector<supervisor::JailRecord>& jails) {
    auto own = sandbox::read_process_facts(static_cast<int>(::getpid()));
    if (!own) return std::nullopt;
    for (const auto& r : jails) {
        if (r.firejail_pid <= 0) continue;
        auto facts = sandbox::read_process_facts(r.firejail_pid);
        if (facts && facts->cgroup == own->cgroup) return r.name;
    }
    return std::nullopt;
}

// What an earlier jaild left in RUN_DIR (live restore); nothing if it is unusable.
std::optional<supervisor::RunState> inherited_state(const std::string& run_dir) {
    auto state = supervisor::read_run_state(run_dir);
    if (!state) {
        spdlog::warn("not adopting any jail: {}", state.error().message);
        return std::nullopt;
    }
    return std::move(*state);
}

int serve(const Options& options, config::Config config) {
    boost::asio::io_context io;
    ::signal(SIGPIPE, SIG_IGN);
    boost::asio::signal_set signals(io, SIGTERM, SIGINT, SIGHUP);
    Notifier notifier(io);
    const bool under_systemd = systemd::running_under_systemd();
    auto passed = systemd::take_passed_fds();
    if (!passed) {
        spdlog::critical("{}", passed.error().message);
        return 1;
    }
    auto inherited = inherited_state(options.run_dir);

    // A crashed jaild may have left sandboxes of jails that are no longer configured; their
    // network namespaces show which (Network::create removes those namespaces). Configured
    // jails' leftovers are replaced by the supervisor when it starts them.
    for (const auto& stale : net::stale_jail_netns()) {
        if (config.jails.count(stale)) continue;
        for (int pid : sandbox::live_sandboxes_named(stale)) {
            spdlog::warn(
                "a sandbox named '{}' (firejail pid {}) was left by an earlier jaild and "
                "that jail is no longer configured; killing it",
                stale, pid);
            if (auto pidfd = sandbox::open_sandbox_named(pid, stale))
                ::syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0);
        }
    }
    net::NetworkInheritance network_inheritance;
    if (inherited) {
        network_inheritance.bridge_created_by_jaild = inherited->bridge_created_by_jaild;
        network_inheritance.firewall_fingerprint = inherited->firewall_fingerprint;
    }
    auto network = net::Network::create(io, config, network_inheritance);
    if (!network) {
        spdlog::critical("cannot set up the network: {}", network.error().message);
        return 1;
    }
    // With systemd as PID 1 each jail's sandbox runs in a scope of its own, with its limits
    // (systemd/scope_runner.hpp); otherwise as a plain child, its limits reported unenforced.
    sandbox::ChildRunner children(io);
    std::unique_ptr<systemd::SdBusManager> units;
    std::unique_ptr<systemd::ScopeRunner> scopes;
    if (systemd::systemd_is_pid1()) {
        units = std::make_unique<systemd::SdBusManager>(io);
        scopes = std::make_unique<systemd::ScopeRunner>(children, *units, io);
        spdlog::info("systemd is PID 1: each jail runs in a scope of its own in {}",
                     systemd::kSlice);
    }
    sandbox::ProcessRunner& runner =
        scopes ? static_cast<sandbox::ProcessRunner&>(*scopes) : children;
    supervisor::AsioTimeSource time(io);
    sandbox::FirejailInspector sandboxes(io);
    supervisor::SupervisorOptions supervisor_options;
    supervisor_options.firejail = options.firejail;
    supervisor_options.state_dir = options.state_dir;
    supervisor_options.cache_dir = options.cache_dir;
    supervisor_options.load_config = [path = options.config] { return config::load_config(path); };
    bool state_write_failed = false;
    supervisor_options.save_state = [&](const std::vector<supervisor::JailRecord>& records) {
        supervisor::RunState state;
        state.jails = records;
        state.bridge_created_by_jaild = (*network)->bridge_created_by_us();
        state.firewall_fingerprint = (*network)->firewall_fingerprint();
        if (auto r = supervisor::write_run_state(options.run_dir, state); !r) {
            if (!state_write_failed)
                spdlog::error("{}; a restarted jaild cannot adopt the running jails",
                              r.error().message);
            state_write_failed = true;
        } else {
            state_write_failed = false;
        }
    };
    if (under_systemd) {
        supervisor_options.store_fd = systemd::store_fd;
        supervisor_options.remove_fd = systemd::remove_stored_fd;
    }
    supervisor::Supervisor supervisor(io, std::move(config), {runner, time, sandboxes, **network},
                                      supervisor_options);

    // The host checks: once at start (logged), then for every `doctor` request. Off the loop.
    hostcheck::SystemProbe probe;
    auto start_probe = probe_options(options);
    start_probe.config = supervisor.config();
    hostcheck::BackgroundChecks host_checks(io, probe, std::move(start_probe));

    // Declared after the supervisor: its sessions hold subscriptions into it.
    api::ServerOptions server_options;
    server_options.socket_path = options.socket;
    server_options.host_checks = [&host_checks](std::function<void(nlohmann::json)> done) {
        host_checks.run([done = std::move(done)](const HostReport& r) { done(r); });
    };
    api::ApiServer api(io, supervisor, server_options);
    if (auto r = open_api(api, options.socket, passed->api_socket); !r) {
        spdlog::critical("cannot serve the API on {}: {}", options.socket, r.error().message);
        (*network)->shutdown();
        return 1;
    }

    // The metrics: `jailctl metrics` always; the HTTP endpoint only where jaild.json says.
    // The listener's address is read at start (a reload does not move it).
    MetricsScraper scraper(io, supervisor, api);
    api.set_metrics_source(&scraper);
    metrics::HttpListener metrics_http(
        io, [&scraper](std::function<void(std::string)> done) { scraper.scrape(std::move(done)); });
    // A port another program holds (any local user may bind one above 1023, e.g. while jaild
    // restarts) must not keep jaild, and every jail with it, from starting: jaild runs without
    // the endpoint and tries again every 10 s.
    boost::asio::steady_timer metrics_retry(io);
    std::function<void()> listen_metrics;
    if (const auto& m = supervisor.config().metrics; m.address) {
        listen_metrics = [&, address = *m.address, port = m.port, failed = false]() mutable {
            if (auto r = metrics_http.listen(address, port); !r) {
                if (!failed) {
                    spdlog::error(
                        "{}; jaild runs without the metrics endpoint and tries again "
                        "every 10 s (jailctl metrics works meanwhile)",
                        r.error().message);
                }
                failed = true;
                metrics_retry.expires_after(std::chrono::seconds(10));
                metrics_retry.async_wait([&](const boost::system::error_code& ec) {
                    if (!ec) listen_metrics();
                });
                return;
            }
            spdlog::info("serving metrics on http://{}:{}/metrics", address.str(), port);
        };
        listen_metrics();
    }

    supervisor.on_change([&] { notifier.status(supervisor.status_line()); });
    if (inherited)
        supervisor.restore_all(*inherited, std::move(passed->stored));
    else
        supervisor.start_all();
    host_checks.run([&host_checks](const HostReport& report) {
        log_host_report(report, host_checks.last_duration());
        host_checks.set_config(std::nullopt);  // from now on: the file, as a reload would read it
    });
    notifier.status(supervisor.status_line());
    notifier.ready();
    notifier.start_watchdog();
    spdlog::info("jaild {} running with {} jail(s); API on {}", kVersion,
                 supervisor.config().jails.size(), options.socket);

    bool stopping = false;
    // Every jail stopped, the network torn down: nothing is left to adopt.
    auto stop_everything = [&] {
        notifier.stopping();
        supervisor.stop_all([&] {
            metrics_http.close();
            api.close();
            (*network)->shutdown();
            ::unlink((options.run_dir + "/state.json").c_str());
            spdlog::info("all jails stopped; jaild exits");
            io.stop();
        });
    };
    // systemctl restart (and the package's upgrade): the jails, the network and the output
    // pipes (in systemd's fd store) stay; the next jaild adopts them.
    auto detach = [&] {
        notifier.stopping();
        supervisor.detach();
        metrics_http.close();
        api.close();
        spdlog::info("jaild exits; its jails keep running for the next jaild to adopt");
        io.stop();
    };
    // The question to systemd can block (D-Bus): asked on a thread of its own, bounded.
    std::thread job_query;
    std::function<void()> wait_signal = [&] {
        signals.async_wait([&](const boost::system::error_code& ec, int sig) {
            if (ec) return;
            if (sig == SIGHUP) {
                spdlog::info("SIGHUP: reloading {}", options.config);
                notifier.reloading();
                (void)supervisor.reload();  // errors are logged; the old configuration stays
                notifier.ready();
                notifier.status(supervisor.status_line());
            } else if (!stopping) {
                stopping = true;
                if (sig == SIGTERM && under_systemd) {
                    job_query = std::thread([&] {
                        auto job = systemd::own_job_type(std::chrono::milliseconds(3000));
                        boost::asio::post(io, [&, job = std::move(job)] {
                            std::optional<std::string> type;
                            if (job)
                                type = *job;
                            else
                                spdlog::warn("cannot ask systemd which job is pending on jaild: {}",
                                             job.error().message);
                            auto mode = systemd::on_term(type);
                            spdlog::info("SIGTERM: {}", systemd::describe(mode, type));
                            if (mode == systemd::OnTerm::detach) {
                                auto shared = jail_in_own_cgroup(supervisor.records());
                                // The next jaild would refuse an invalid file (exit 78) and
                                // leave the jails running with nobody supervising them.
                                auto next = config::load_config(options.config);
                                if (!shared && next.ok()) return detach();
                                if (shared)
                                    spdlog::warn(
                                        "jail '{}' runs in jaild's own cgroup, where systemd "
                                        "would kill it once jaild exits; stopping every jail in "
                                        "order instead of leaving them running",
                                        *shared);
                                else
                                    spdlog::error(
                                        "{} is invalid ({}): the next jaild would not start and "
                                        "nothing would supervise the jails; stopping every jail "
                                        "in order instead of leaving them running (jaild "
                                        "--check-config lists the problems)",
                                        options.config, next.issues.front().str());
                            }
                            stop_everything();
                        });
                    });
                } else {
                    spdlog::info("{}: stopping all jails", sig == SIGTERM ? "SIGTERM" : "SIGINT");
                    stop_everything();
                }
            } else {
                spdlog::info("already stopping; waiting for the jails' stop timeouts");
            }
            wait_signal();
        });
    };
    wait_signal();
    io.run();
    if (job_query.joinable()) job_query.join();
    return 0;
}

}  // namespace

int run_daemon(int argc, char** argv) {
    keep_heap_small();
    Options options;
    CLI::App app{
        "jaild: supervises firejail sandboxes (jails) on a bridge with their own "
        "network namespace and firewall rules. See jaild(8) and jaild.json(5)."};
    app.add_option("-c,--config", options.config, "configuration file")->capture_default_str();
    app.add_option("-s,--socket", options.socket,
                   "API socket path (ignored under socket activation)")
        ->capture_default_str();
    app.add_option("--state-dir", options.state_dir, "where jaild keeps its state")
        ->capture_default_str();
    app.add_option("--run-dir", options.run_dir,
                   "where jaild keeps what a restarted jaild needs to adopt the running jails")
        ->capture_default_str();
    app.add_option("--cache-dir", options.cache_dir,
                   "where provisioning keeps debootstrapped bases (default: STATE_DIR/cache)");
    app.add_option("--firejail", options.firejail, "the firejail program")->capture_default_str();
    app.add_option("--firejail-config", options.firejail_config,
                   "firejail's configuration, checked for 'chroot yes'")
        ->capture_default_str();
    app.add_option("--log-level", options.log_level, "trace, debug, info, warn, error")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
        ->capture_default_str();
    app.add_flag("--check-config", options.check_config,
                 "validate the configuration, print every problem, and exit (0 when valid)");
    app.add_flag("--check-host", options.check_host,
                 "check the host's prerequisites (firejail, kernel, firewalls, systemd, disk, the "
                 "configuration), print each with its fix, and exit (0 when none fails)");
    app.add_flag("--json", options.json, "with --check-host: print the report as JSON");
    app.set_version_flag("--version", std::string("jaild ") + kVersion);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }

    log::init_logging(spdlog::level::from_str(options.log_level), log::detect_log_target());
    if (options.check_host) return check_host(probe_options(options), options.json);

    auto loaded = config::load_config(options.config);
    if (!loaded.ok()) {
        spdlog::critical(
            "{} is invalid ({} problem{}); fix it and start jaild again:", options.config,
            loaded.issues.size(), loaded.issues.size() == 1 ? "" : "s");
        for (const auto& issue : loaded.issues) spdlog::critical("  {}", issue.str());
        return kExitConfig;
    }
    sandbox::log_weakenings(loaded.config);
    if (options.check_config) {
        spdlog::info("{} is valid: {} jail(s)", options.config, loaded.config.jails.size());
        return 0;
    }
    sandbox::PreflightOptions preflight{options.firejail, options.firejail_config, true};
    auto problems = sandbox::preflight(preflight);
    if (auto r = net::require_br_netfilter(); !r) problems.push_back(r.error().message);
    if (!problems.empty()) {
        for (const auto& p : problems) spdlog::critical("{}", p);
        return kExitConfig;  // the host's setup (e.g. firejail's chroot): a restart cannot help
    }
    return serve(options, std::move(loaded.config));
}

}  // namespace jaild::app

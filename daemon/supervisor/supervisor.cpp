// The jail lifecycle: spawning firejail, watching it, restarting it, stopping it in order.
#include "supervisor/supervisor.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <boost/asio/post.hpp>

#include "config/load.hpp"
#include "config/root_directory.hpp"
#include "log/journal_reader.hpp"
#include "log/logging.hpp"
#include "jaild/capabilities.hpp"
#include "sandbox/firejail_args.hpp"
#include "sandbox/process_security.hpp"
#include "sandbox/process_tree.hpp"
#include "supervisor/supervisor_impl.hpp"

namespace jaild::supervisor {

namespace {

// A spawn that failed because jaild itself is out of descriptors, memory or processes (the
// errors carry strerror's text) is retried in 5 s without counting as the jail crashing.
ExitOutcome spawn_failure(JailMachine& machine, const std::string& error) {
    for (int e : {EMFILE, ENFILE, ENOMEM, EAGAIN}) {
        if (error.find(std::strerror(e)) != std::string::npos)
            return machine.spawn_deferred(error, Clock::now(), Millis(5000));
    }
    return machine.spawn_failed(error, Clock::now());
}

std::int64_t now_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string join_names(const std::map<std::string, std::shared_ptr<Jail>>& jails) {
    std::string names;
    for (const auto& [name, jail] : jails) names += (names.empty() ? "" : ", ") + name;
    return names.empty() ? "(none configured)" : names;
}

// The environment firejail itself runs with; the jail's own variables are passed with
// --env. Keep it minimal and predictable, like systemd does for services.
std::vector<std::string> firejail_environment() {
    return {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"};
}

}  // namespace

Supervisor::Impl::Impl(asio::io_context& io_, config::Config cfg, JailNetwork& net,
                       SupervisorOptions opts)
    : io(io_), config(std::move(cfg)), network(net), options(std::move(opts)) {
    for (const auto& [name, jail_config] : config.jails) {
        jails.emplace(name, std::make_shared<Jail>(io, jail_config, options.log_lines));
    }
    load_shut_down();
}

std::shared_ptr<Jail> Supervisor::Impl::find(const std::string& name) const {
    auto it = jails.find(name);
    return it == jails.end() ? nullptr : it->second;
}

Error Supervisor::Impl::unknown_jail(const std::string& name) const {
    return make_error(Errc::no_such_jail,
                      "no jail named '" + name + "'; configured jails: " + join_names(jails));
}

bool Supervisor::Impl::dependencies_serving(const Jail& jail) const {
    for (const auto& dep : jail.config.after) {
        auto it = jails.find(dep);
        if (it != jails.end() && !it->second->machine.serving()) return false;
    }
    return true;
}

bool Supervisor::Impl::dependents_down(const Jail& jail) const {
    for (const auto& [name, other] : jails) {
        const auto& after = other->config.after;
        if (std::find(after.begin(), after.end(), jail.config.name) == after.end()) continue;
        auto s = other->machine.state();
        if (s == State::running || s == State::stopping || other->spawning) return false;
    }
    return true;
}

// Spawns every waiting jail whose dependencies serve. Independent jails start together.
void Supervisor::Impl::schedule() {
    if (stopping_all) return;
    for (auto& [name, jail] : jails) {
        if (jail->machine.ready_to_spawn() && !jail->spawning && dependencies_serving(*jail)) {
            spawn(jail);
        }
    }
}

// First makes sure no sandbox of this name is left from an earlier jaild (firejail would
// silently rename ours), then launches.
void Supervisor::Impl::spawn(const std::shared_ptr<Jail>& jail) {
    auto stale = sandbox::live_sandboxes_named(jail->config.name);
    if (stale.empty()) {
        launch(jail);
        return;
    }
    jail->spawning = true;
    auto pending = std::make_shared<std::size_t>(stale.size());
    for (int pid : stale) {
        log::jail_logger(jail->config.name)
            ->warn("a sandbox named '{}' is still running (firejail pid {}), left by an earlier "
                   "jaild; killing it before starting the jail",
                   jail->config.name, pid);
        int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
        if (pidfd < 0) {  // already gone
            if (--*pending == 0) { jail->spawning = false; launch(jail); }
            continue;
        }
        ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
        auto watch = std::make_shared<asio::posix::stream_descriptor>(io, pidfd);
        std::weak_ptr<Jail> weak = jail;
        watch->async_wait(asio::posix::stream_descriptor::wait_read,
                          [this, weak, watch, pending, pid](const boost::system::error_code&) {
                              // It has exited but may not be reaped yet (its parent, the
                              // dead jaild, is gone): firejail counts the name of a zombie
                              // as taken and would rename our sandbox "<name>-<pid>". The
                              // name file is what a clean exit of that firejail removes.
                              ::unlink(("/run/firejail/name/" + std::to_string(pid)).c_str());
                              auto j = weak.lock();
                              if (!j || --*pending > 0) return;
                              j->spawning = false;
                              if (j->machine.ready_to_spawn()) launch(j);
                              else after_state_change(*j, "");
                              advance_stops();  // a stop_all may be waiting for this jail
                              schedule();  // jails waiting for this one (after) may start now
                          });
    }
}

void Supervisor::Impl::launch(const std::shared_ptr<Jail>& jail) {
    if (jail->next_config) {
        jail->config = std::move(*jail->next_config);
        jail->next_config.reset();
        jail->machine.set_config(jail->config.restart, jail->config.health);
    }
    auto logger = log::jail_logger(jail->config.name);
    // The root is the jail's: it is checked here, at each start, not at configuration load,
    // so that a root the jail broke fails this jail alone, with the reason rather than with
    // firejail's exit status 1.
    auto root_issues = config::check_root_directory(jail->config.root,
                                                    "jails." + jail->config.name + ".root");
    if (!root_issues.empty()) {
        std::string why = "root directory unusable: " + root_issues.front().str();
        for (std::size_t i = 1; i < root_issues.size(); ++i) why += "; " + root_issues[i].message;
        logger->error("cannot start jail '{}': {}", jail->config.name, why);
        apply_outcome(jail, jail->machine.spawn_failed(why, Clock::now()));
        return;
    }
    auto netns = network.prepare(jail->config);
    if (!netns) {
        logger->error("cannot prepare the network of jail '{}': {}", jail->config.name,
                      netns.error().message);
        apply_outcome(jail, spawn_failure(jail->machine, netns.error().message));
        return;
    }
    sandbox::LaunchSpec spec{options.firejail, jail->config.name, *netns};
    auto argv = sandbox::launch_argv(jail->config, spec);

    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
        apply_outcome(jail, spawn_failure(jail->machine, std::string("pipe2: ") + strerror(errno)));
        return;
    }
    UniqueFd out_read(out[0]), out_write(out[1]), err_read(err[0]), err_write(err[1]);
    sandbox::SpawnOptions spawn_options;
    spawn_options.argv = argv;
    spawn_options.env = firejail_environment();
    spawn_options.stdout_fd = out_write.get();
    spawn_options.stderr_fd = err_write.get();
    spawn_options.new_session = true;  // a Ctrl-C at jaild's terminal must not hit the jails
    auto process = sandbox::ChildProcess::spawn(spawn_options);
    if (!process) {
        logger->error("cannot start jail '{}': {}", jail->config.name, process.error().message);
        apply_outcome(jail, spawn_failure(jail->machine, process.error().message));
        return;
    }
    out_write.reset();
    err_write.reset();

    std::weak_ptr<Jail> weak = jail;
    int pid = process->pid();
    jail->child = watch(std::move(*process), [this, weak](int status) {
        if (auto j = weak.lock()) on_exit(j, status);
    });
    jail->main_process.reset();
    find_main_process(jail, Millis(1));  // firejail needs a few ms to start the command
    jail->pipes.clear();
    for (auto* fd : {&out_read, &err_read}) {
        auto pipe = std::make_unique<OutputPipe>(io);
        pipe->name = fd == &out_read ? "stdout" : "stderr";
        pipe->stream.assign(fd->release());
        auto* raw = pipe.get();
        jail->pipes.push_back(std::move(pipe));
        read_output(jail, raw);
    }
    jail->machine.spawned(Clock::now());
    jail->stop_escalated = false;
    logger->info("jail '{}' started (firejail pid {})", jail->config.name, pid);
    if (jail->config.health.kind != config::HealthConfig::Kind::none) {
        schedule_health(jail, std::min(jail->config.health.interval, Millis(200)));
    }
    after_state_change(*jail, "started, firejail pid " + std::to_string(pid));
}

void Supervisor::Impl::read_output(const std::shared_ptr<Jail>& jail, OutputPipe* pipe) {
    std::weak_ptr<Jail> weak = jail;
    pipe->stream.async_read_some(
        asio::buffer(pipe->buffer),
        [this, weak, pipe](const boost::system::error_code& ec, std::size_t n) {
            auto j = weak.lock();
            if (!j || ec == asio::error::operation_aborted) return;
            // The pipe may have been replaced by a newer start of the jail.
            bool current = false;
            for (auto& p : j->pipes) current = current || p.get() == pipe;
            if (!current) return;
            // One write to the console for all the lines of this read (see OutputBatch).
            log::OutputBatch batch(j->config.name, pipe->name);
            auto sink = [&](std::string_view line) {
                batch.add(line);
                j->logs.add(LogLine{j->config.name, pipe->name, now_us(), std::string(line)});
            };
            if (n > 0) pipe->splitter.feed(std::string_view(pipe->buffer.data(), n), sink);
            if (ec) {  // EOF or error: the jail closed this stream
                pipe->splitter.finish(sink);
                pipe->stream.close();
                return;
            }
            read_output(j, pipe);
        });
}

void Supervisor::Impl::on_exit(const std::shared_ptr<Jail>& jail, int firejail_status) {
    jail->child.reset();
    jail->stop_timer.cancel();
    cancel_health(*jail);
    // When jaild ended the sandbox on the exit of the main process (main_process.cpp),
    // firejail's own status is jaild's SIGKILL: report the command's, and count the backoff
    // from the moment it exited. (main_process belongs to this run: launch resets it.)
    auto& m = jail->main_process;
    int wait_status = firejail_status;
    TimePoint ended = Clock::now();
    if (m.exited_at) {
        if (m.wait_status) wait_status = *m.wait_status;
        ended = *m.exited_at;
    }
    m.reset();
    auto description = sandbox::describe_exit(wait_status);
    bool success = sandbox::exit_status(wait_status) == 0;
    bool expected = jail->machine.state() == State::stopping;
    auto logger = log::jail_logger(jail->config.name);
    if (expected) logger->info("jail '{}' stopped ({})", jail->config.name, description);
    else logger->warn("jail '{}' {}", jail->config.name, description);
    apply_outcome(jail, jail->machine.exited(success, description, ended));
}

void Supervisor::Impl::apply_outcome(const std::shared_ptr<Jail>& jail,
                                     const ExitOutcome& outcome) {
    std::string message;
    if (outcome.retry_in) {
        std::weak_ptr<Jail> weak = jail;
        // retry_at counts from when the jail ended, which may be a moment before now.
        if (auto at = jail->machine.retry_at()) jail->retry_timer.expires_at(*at);
        else jail->retry_timer.expires_after(*outcome.retry_in);
        jail->retry_timer.async_wait([this, weak](const boost::system::error_code& ec) {
            auto j = weak.lock();
            if (!j || ec) return;
            j->machine.retry_due(Clock::now());
            after_state_change(*j, "retrying");
            schedule();
        });
        message = (outcome.next == State::failed ? jail->machine.last_error()
                                                 : jail->machine.last_error() +
                                                       "; restarting in " +
                                                       format_duration(*outcome.retry_in));
        auto logger = log::jail_logger(jail->config.name);
        if (outcome.next == State::failed) {
            logger->error("jail '{}' failed: {}", jail->config.name, message);
            for (const auto& line : jail->logs.last(5)) {
                logger->error("  last output [{}]: {}", line.stream, line.text);
            }
        } else {
            logger->info("jail '{}' {}", jail->config.name, message);
        }
    }
    after_state_change(*jail, message);
    if (jail->removing && jail->machine.state() == State::stopped) {
        finish_removal(jail->config.name);
        return;
    }
    advance_stops();
    schedule();
}

void Supervisor::Impl::request_stop(const std::shared_ptr<Jail>& jail) {
    jail->retry_timer.cancel();
    if (jail->machine.want_down()) jail->stop_pending = true;
    after_state_change(*jail, "stop requested");
    advance_stops();
}

// Signals pending stops. While jaild shuts down, a jail is signalled only once every jail
// that depends on it is down (reverse dependency order).
void Supervisor::Impl::advance_stops() {
    for (auto& [name, jail] : jails) {
        if (!jail->stop_pending) continue;
        if (stopping_all && !dependents_down(*jail)) continue;
        jail->stop_pending = false;
        signal_stop(jail);
    }
    if (stopping_all && all_stopped) {
        for (auto& [name, jail] : jails) {
            auto s = jail->machine.state();
            if (s == State::running || s == State::stopping || jail->spawning) return;
        }
        auto done = std::move(all_stopped);
        all_stopped = nullptr;
        done();
    }
}

// The stop sequence: the jail's stop signal to the service's main process (so PostgreSQL
// gets SIGINT, its fast shutdown), then SIGTERM to firejail at half the stop timeout, then
// SIGKILL at the stop timeout, which takes the whole sandbox down at once.
void Supervisor::Impl::signal_stop(const std::shared_ptr<Jail>& jail) {
    if (!jail->child) return;
    auto logger = log::jail_logger(jail->config.name);
    const auto& m = jail->main_process;
    std::optional<int> main_pid;
    bool sent = false;
    if (m.tree_of == jail->child->process.pid() && m.pid && !m.exited_at) {
        main_pid = m.pid;
        sent = ::syscall(SYS_pidfd_send_signal, m.pidfd.get(), jail->config.stop_signal, nullptr, 0) == 0;
    } else if ((main_pid = sandbox::find_main_pid(jail->child->process.pid()))) {
        sent = ::kill(*main_pid, jail->config.stop_signal) == 0;
    }
    if (sent) {
        logger->info("stopping jail '{}': {} to its main process {}", jail->config.name,
                     sandbox::signal_name(jail->config.stop_signal), *main_pid);
    } else {
        logger->info("stopping jail '{}': SIGTERM to firejail", jail->config.name);
        jail->child->process.signal(SIGTERM);
    }
    std::weak_ptr<Jail> weak = jail;
    jail->stop_timer.expires_after(jail->config.stop_timeout / 2);
    jail->stop_timer.async_wait([this, weak](const boost::system::error_code& ec) {
        auto j = weak.lock();
        if (!j || ec || !j->child) return;
        log::jail_logger(j->config.name)
            ->warn("jail '{}' still running {} after its stop signal; sending SIGTERM to firejail",
                   j->config.name, format_duration(j->config.stop_timeout / 2));
        j->child->process.signal(SIGTERM);
        j->stop_timer.expires_after(j->config.stop_timeout - j->config.stop_timeout / 2);
        std::weak_ptr<Jail> weak2 = j;
        j->stop_timer.async_wait([weak2](const boost::system::error_code& ec2) {
            auto j2 = weak2.lock();
            if (!j2 || ec2 || !j2->child) return;
            log::jail_logger(j2->config.name)
                ->error("jail '{}' did not stop within its stop timeout {}; killing it",
                        j2->config.name, format_duration(j2->config.stop_timeout));
            j2->stop_escalated = true;
            j2->child->process.signal(SIGKILL);
        });
    });
}

void Supervisor::Impl::after_state_change(Jail& jail, const std::string& message) {
    auto state = to_string(jail.machine.state());
    if (state != jail.last_state || !message.empty()) {
        publish({{"type", "state"},
                 {"jail", jail.config.name},
                 {"state", state},
                 {"previous", jail.last_state},
                 {"health", to_string(jail.machine.health())},
                 {"message", message},
                 {"time_us", now_us()}});
        jail.last_state = state;
    }
    resolve_waiters(jail);
    if (change_callback) change_callback();
}

void Supervisor::Impl::resolve_waiters(Jail& jail) {
    auto state = jail.machine.state();
    if (!jail.start_waiters.empty() && state != State::waiting && state != State::stopping) {
        auto waiters = std::move(jail.start_waiters);
        jail.start_waiters.clear();
        Result<void> result;
        if (state != State::running) {
            result = make_error("jail '" + jail.config.name + "' did not start: " +
                                (jail.machine.last_error().empty() ? to_string(state)
                                                                   : jail.machine.last_error()));
        }
        for (auto& w : waiters) w(result);
    }
    if (!jail.stop_waiters.empty() && state != State::running && state != State::stopping) {
        auto waiters = std::move(jail.stop_waiters);
        jail.stop_waiters.clear();
        for (auto& w : waiters) w(Result<void>());
    }
}

void Supervisor::Impl::finish_removal(const std::string& name) {
    auto jail = find(name);
    if (!jail) return;
    if (auto r = network.release(name); !r) {
        spdlog::warn("cannot remove the network of removed jail '{}': {}", name,
                     r.error().message);
    }
    publish({{"type", "removed"}, {"jail", name}, {"time_us", now_us()}});
    jails.erase(name);
    spdlog::info("jail '{}' removed", name);
}

void Supervisor::Impl::publish(nlohmann::json event) {
    auto sinks = event_sinks;  // a sink may unsubscribe while we notify
    for (auto& [id, sink] : sinks) {
        if (event_sinks.count(id)) sink(event);
    }
}

JailStatus Supervisor::Impl::status_of(const Jail& jail) const {
    JailStatus s;
    const auto& m = jail.machine;
    s.name = jail.config.name;
    s.state = to_string(m.state());
    s.health = to_string(m.health());
    s.held_down = m.held_down();
    if (jail.child) {
        s.pid = jail.child->process.pid();
        const auto& main = jail.main_process;
        if (main.tree_of == *s.pid && main.pid) {
            if (!main.exited_at) s.main_pid = main.pid;
        } else {
            s.main_pid = sandbox::find_main_pid(*s.pid);  // not found by the watch yet
        }
    }
    s.address = jail.config.address.str();
    s.ports = jail.config.publish;
    auto now = Clock::now();
    if (m.started_at() && m.state() != State::stopped) {
        s.uptime_ms = std::chrono::duration_cast<Millis>(now - *m.started_at()).count();
    }
    s.restarts = m.restarts();
    if (m.retry_at()) {
        s.next_retry_ms =
            std::max<std::int64_t>(0, std::chrono::duration_cast<Millis>(*m.retry_at() - now).count());
    }
    s.last_exit = m.last_exit();
    s.last_error = m.last_error();
    return s;
}

void Supervisor::Impl::load_shut_down() {
    if (options.state_dir.empty()) return;
    std::ifstream in(options.state_dir + "/shut-down.json");
    if (!in) return;
    try {
        auto names = nlohmann::json::parse(in).get<std::vector<std::string>>();
        shut_down.insert(names.begin(), names.end());
    } catch (const std::exception& e) {
        spdlog::warn("ignoring {}/shut-down.json: {}", options.state_dir, e.what());
    }
}

void Supervisor::Impl::save_shut_down() const {
    if (options.state_dir.empty()) return;
    std::error_code ec;
    std::filesystem::create_directories(options.state_dir, ec);
    auto path = options.state_dir + "/shut-down.json";
    auto tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << nlohmann::json(std::vector<std::string>(shut_down.begin(), shut_down.end()))
            << "\n";
        if (!out) {
            spdlog::error("cannot write {}: {}", tmp, strerror(errno));
            return;
        }
    }
    std::filesystem::rename(tmp, path, ec);
    if (ec) spdlog::error("cannot replace {}: {}", path, ec.message());
}

// ---------------------------------------------------------------------------------------

Supervisor::Supervisor(asio::io_context& io, config::Config config, JailNetwork& network,
                       SupervisorOptions options)
    : impl_(std::make_unique<Impl>(io, std::move(config), network, std::move(options))) {}

Supervisor::~Supervisor() {
    // Children still running are killed by their ChildProcess owners (SIGKILL + reap).
    for (auto& [name, jail] : impl_->jails) {
        jail->retry_timer.cancel();
        jail->stop_timer.cancel();
        impl_->cancel_health(*jail);
    }
}

void Supervisor::start_all() {
    for (auto& [name, jail] : impl_->jails) {
        if (impl_->shut_down.count(name)) {
            jail->machine.want_down();
            spdlog::info("jail '{}' stays down: it was shut down with 'jailctl shutdown' (start it "
                         "with: jailctl start {})", name, name);
            continue;
        }
        jail->machine.want_up();
        impl_->after_state_change(*jail, "");
    }
    impl_->schedule();
}

void Supervisor::stop_all(std::function<void()> done) {
    impl_->stopping_all = true;
    impl_->all_stopped = std::move(done);
    for (auto& [name, jail] : impl_->jails) impl_->request_stop(jail);
    impl_->advance_stops();
}

std::string Supervisor::status_line() const {
    int total = 0, running = 0, healthy = 0, checked = 0;
    std::string trouble;
    for (const auto& [name, jail] : impl_->jails) {
        ++total;
        const auto& m = jail->machine;
        if (m.state() == State::running) ++running;
        if (jail->config.health.kind != config::HealthConfig::Kind::none) {
            ++checked;
            if (m.health() == Health::healthy) ++healthy;
        }
        if (trouble.empty() && (m.state() == State::backoff || m.state() == State::failed) &&
            m.retry_at()) {
            auto in = std::chrono::duration_cast<Millis>(*m.retry_at() - Clock::now());
            trouble = "; " + name + (m.state() == State::failed ? " failed" : " backing off") +
                      ", next try in " + format_duration(std::max(in, Millis(0)));
        }
    }
    std::string line = std::to_string(running) + "/" + std::to_string(total) + " jails running";
    if (checked > 0) line += ", " + std::to_string(healthy) + "/" + std::to_string(checked) + " healthy";
    return line + trouble;
}

void Supervisor::on_change(std::function<void()> callback) {
    impl_->change_callback = std::move(callback);
}

const config::Config& Supervisor::config() const { return impl_->config; }

namespace {

// The main process's confinement as the kernel reports it; nullopt if it just exited.
std::optional<Confinement> confinement_of(int pid, int pidfd) {
    auto security = sandbox::read_process_security(pid);
    if (!security || ::syscall(SYS_pidfd_send_signal, pidfd, 0, nullptr, 0) != 0) return std::nullopt;
    Confinement c;
    c.capabilities = capability_names(security->cap_effective);
    c.bounding = capability_names(security->cap_bounding);
    c.no_new_privs = security->no_new_privs;
    c.seccomp = security->seccomp_mode == 2   ? "filter"
                : security->seccomp_mode == 1 ? "strict"
                                              : "disabled";
    c.seccomp_filters = security->seccomp_filters;
    return c;
}

}  // namespace

Result<std::vector<JailStatus>> Supervisor::status(const std::optional<std::string>& name) {
    std::vector<JailStatus> out;
    if (name) {
        auto jail = impl_->find(*name);
        if (!jail) return impl_->unknown_jail(*name);
        out.push_back(impl_->status_of(*jail));
        if (out.back().main_pid && jail->main_process.pidfd) {
            out.back().confinement = confinement_of(jail->main_process.pid,
                                                    jail->main_process.pidfd.get());
        }
        return out;
    }
    for (const auto& [n, jail] : impl_->jails) out.push_back(impl_->status_of(*jail));
    return out;
}

void Supervisor::start(const std::string& name, api::Done done) {
    auto jail = impl_->find(name);
    if (!jail) return done(impl_->unknown_jail(name));
    if (impl_->stopping_all) return done(make_error(Errc::shutting_down, "jaild is shutting down"));
    if (impl_->shut_down.erase(name)) impl_->save_shut_down();
    if (jail->machine.state() == State::running) return done(Result<void>());
    jail->retry_timer.cancel();
    jail->machine.want_up();
    jail->start_waiters.push_back(std::move(done));
    impl_->after_state_change(*jail, "start requested");
    impl_->schedule();
}

void Supervisor::stop(const std::string& name, api::Done done) {
    auto jail = impl_->find(name);
    if (!jail) return done(impl_->unknown_jail(name));
    jail->stop_waiters.push_back(std::move(done));
    impl_->request_stop(jail);
    impl_->resolve_waiters(*jail);
}

void Supervisor::shutdown(const std::string& name, api::Done done) {
    if (!impl_->find(name)) return done(impl_->unknown_jail(name));
    impl_->shut_down.insert(name);
    impl_->save_shut_down();
    stop(name, std::move(done));
}

void Supervisor::restart(const std::string& name, api::Done done) {
    auto jail = impl_->find(name);
    if (!jail) return done(impl_->unknown_jail(name));
    if (impl_->stopping_all) return done(make_error(Errc::shutting_down, "jaild is shutting down"));
    if (impl_->shut_down.erase(name)) impl_->save_shut_down();
    jail->retry_timer.cancel();
    bool signal_now = jail->machine.want_restart();
    jail->start_waiters.push_back(std::move(done));
    impl_->after_state_change(*jail, "restart requested");
    if (signal_now) impl_->signal_stop(jail);
    impl_->schedule();
}

Result<std::vector<LogLine>> Supervisor::logs(const std::string& name, std::size_t n) {
    auto jail = impl_->find(name);
    if (!jail) return impl_->unknown_jail(name);
    // Under journald the journal holds the jail's whole history (across jaild restarts): answer
    // from it, like `journalctl -u jaild JAIL=<name>`.
    if (log::detect_log_target() == log::LogTarget::journal) return log::read_journal_lines(name, n);
    return jail->logs.last(n);
}

// Under journald the history is read on the journal reader's thread; from memory, at once.
void Supervisor::logs_async(const std::string& name, std::size_t n,
                            std::function<void(Result<std::vector<LogLine>>)> done) {
    auto jail = impl_->find(name);
    if (!jail) return done(impl_->unknown_jail(name));
    if (log::detect_log_target() != log::LogTarget::journal) return done(jail->logs.last(n));
    if (!impl_->journal_reader) {
        impl_->journal_reader = std::make_unique<log::JournalReader>(
            [&io = impl_->io](std::function<void()> f) { asio::post(io, std::move(f)); });
    }
    impl_->journal_reader->read(name, n, std::move(done));
}

Result<api::Subscription> Supervisor::follow_logs(const std::string& name,
                                                  std::function<void(const LogLine&)> sink) {
    auto jail = impl_->find(name);
    if (!jail) return impl_->unknown_jail(name);
    auto id = jail->logs.follow(std::move(sink));
    std::weak_ptr<Jail> weak = jail;
    return api::Subscription([weak, id] {
        if (auto j = weak.lock()) j->logs.unfollow(id);
    });
}

api::Subscription Supervisor::subscribe_events(std::function<void(const nlohmann::json&)> sink) {
    auto id = impl_->next_sink_id++;
    impl_->event_sinks.emplace(id, std::move(sink));
    auto* impl = impl_.get();
    return api::Subscription([impl, id] { impl->event_sinks.erase(id); });
}

}  // namespace jaild::supervisor

// Requests to a jail, its status and its events.
#include "supervisor/jail.hpp"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "jaild/capabilities.hpp"
#include "log/logging.hpp"
#include "provision/recipe.hpp"
#include "sandbox/enter.hpp"
#include "sandbox/process_security.hpp"

namespace jaild::supervisor {

namespace {}  // namespace

Jail::Jail(JailContext& context, config::JailConfig config)
    : ctx_(context),
      config_(std::move(config)),
      machine_(config_.restart, config_.health),
      main_(context.io, context.time, context.sandboxes, config_.name),
      retry_timer_(context.time.timer()),
      stop_timer_(context.time.timer()),
      health_timer_(context.time.timer()),
      health_deadline_(context.time.timer()),
      logs_(context.log_lines) {}

// A sandbox still running is killed with its firejail process (Process's destructor).
Jail::~Jail() {
    cancel_health();
}

void Jail::start(api::Done done) {
    if (machine_.state() == State::running) return done(Result<void>());
    retry_timer_->cancel();
    machine_.want_up();
    start_waiters_.push_back(std::move(done));
    changed("start requested");
}

void Jail::stop(api::Done done) {
    if (done) stop_waiters_.push_back(std::move(done));
    retry_timer_->cancel();
    machine_.want_down();
    changed("stop requested");
}

void Jail::restart(api::Done done) {
    retry_timer_->cancel();
    machine_.want_restart();
    start_waiters_.push_back(std::move(done));
    changed("restart requested");
    if (machine_.stop_due()) signal_stop();  // unless the Supervisor did already
}

void Jail::bring_up() {
    machine_.want_up();
    changed("");
}

void Jail::hold_down() {
    machine_.want_down();
}

void Jail::added(bool held_down) {
    if (!held_down) machine_.want_up();
    changed("added by reload");
}

void Jail::reconfigure(config::JailConfig next, bool held_down) {
    const bool was_removed = machine_.removing();
    machine_.keep();
    if (machine_.up()) {
        pending_ = std::move(next);  // taken at the next start
        machine_.want_restart();
        changed("configuration changed");
        if (machine_.stop_due()) signal_stop();  // unless the Supervisor did already
        return;
    }
    pending_.reset();
    config_ = std::move(next);
    machine_.set_config(config_.restart, config_.health);
    // Removed, down, and back in the configuration before it was released: like a jail the
    // reload adds.
    if (was_removed && !held_down) machine_.want_up();
    changed("configuration changed");
}

void Jail::remove() {
    bool was_up = machine_.state() != State::stopped;
    machine_.remove();
    retry_timer_->cancel();
    machine_.want_down();
    changed(was_up ? "stop requested" : "");
}

bool Jail::has_pending_config() const {
    return pending_.has_value();
}

void Jail::take_pending_config() {
    if (!pending_) return;
    config_ = std::move(*pending_);
    pending_.reset();
    machine_.set_config(config_.restart, config_.health);
}

void Jail::changed(const std::string& message) {
    auto state = to_string(machine_.state());
    if (state != last_state_ || !message.empty()) {
        ctx_.publish({{"type", "state"},
                      {"jail", config_.name},
                      {"state", state},
                      {"previous", last_state_},
                      {"health", to_string(machine_.health())},
                      {"message", message},
                      {"time_us", realtime_us()}});
        last_state_ = state;
    }
    resolve_waiters();
    ctx_.changed(*this);
}

void Jail::resolve_waiters() {
    auto state = machine_.state();
    if (!start_waiters_.empty() && state != State::waiting && state != State::stopping) {
        auto waiters = std::move(start_waiters_);
        start_waiters_.clear();
        Result<void> result;
        if (state != State::running) {
            result = make_error(
                "jail '" + config_.name + "' did not start: " +
                (machine_.last_error().empty() ? to_string(state) : machine_.last_error()));
        }
        for (auto& w : waiters) w(result);
    }
    if (!stop_waiters_.empty() && state != State::running && state != State::stopping) {
        auto waiters = std::move(stop_waiters_);
        stop_waiters_.clear();
        for (auto& w : waiters) w(Result<void>());
    }
}

JailStatus Jail::status() const {
    JailStatus s;
    const auto& m = machine_;
    s.name = config_.name;
    s.state = to_string(m.state());
    s.health = to_string(m.health());
    s.held_down = m.held_down();
    if (firejail_) {
        s.pid = firejail_->pid();
        if (main_.pid()) {
            s.main_pid = main_.pid();
        } else if (!main_.exited_at()) {  // not found by the watch yet
            if (auto found = ctx_.sandboxes.find_main(*s.pid)) s.main_pid = found->main_pid;
        }
    }
    s.address = config_.address.str();
    s.ports = config_.publish;
    auto now = ctx_.time.now();
    if (m.started_at() && m.state() != State::stopped) {
        s.uptime_ms = std::chrono::duration_cast<Millis>(now - *m.started_at()).count();
    }
    s.restarts = m.restarts();
    if (m.retry_at()) {
        s.next_retry_ms = std::max<std::int64_t>(
            0, std::chrono::duration_cast<Millis>(*m.retry_at() - now).count());
    }
    s.last_exit = m.last_exit();
    s.last_error = m.last_error();
    s.dropped_lines = output_limit_.dropped_total();
    return s;
}

// The main process's confinement as the kernel reports it; nullopt if it is not running.
std::optional<Confinement> Jail::confinement() const {
    if (!main_.pid()) return std::nullopt;
    auto security = sandbox::read_process_security(main_.pid());
    // Read, then checked still alive: the numbers were not a recycled PID's.
    if (!security || !main_.signal(0)) return std::nullopt;
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

Result<sandbox::SpawnOptions> Jail::enter_options(const std::vector<std::string>& command) const {
    const auto& name = config_.name;
    if (machine_.state() != State::running || !firejail_) {
        return make_error("jail '" + name + "' is not running (it is " +
                          to_string(machine_.state()) + "); start it with: jailctl start " + name);
    }
    if (main_.exited_at()) {
        return make_error("jail '" + name + "' is ending (its main process has exited)");
    }
    if (!main_.pid()) {
        return make_error("jail '" + name +
                          "' is still starting (its main process is not known yet); try again");
    }
    sandbox::SpawnOptions spawn;
    spawn.argv = sandbox::enter_argv(main_.pid(), command);
    // PGPASSFILE: the password file the postgresql recipe gives a client jail's root (its
    // HOME, /root, is hidden by firejail's --private); libpq ignores it where it is absent.
    spawn.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root",
                 "LANG=C.UTF-8", std::string("PGPASSFILE=") + provision::kRootPgpassFile};
    spawn.pass_fd = main_.pidfd();
    spawn.jail = name;
    return spawn;
}

}  // namespace jaild::supervisor

// Requests to a jail, its status and its events.
#include "supervisor/jail.hpp"

#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <tuple>
#include <type_traits>

#include "jaild/capabilities.hpp"
#include "log/logging.hpp"
#include "provision/provisioner.hpp"
#include "provision/recipe.hpp"
#include "sandbox/enter.hpp"
#include "sandbox/process_security.hpp"

namespace jaild::supervisor {

// Every input of status()'s fields that are not dynamic ("fix" follows from the state and the
// name). A field added to status() outside dynamic_status() must be added here, or its kept
// text goes stale: tests/unit/supervisor/status_text_test.cpp renders jails through every kind
// of change both ways and compares the bytes.
auto Jail::status_inputs(const std::string& limits_note) const {
    const auto& m = machine_;
    return std::make_tuple(std::cref(config_.name), config_.address, std::cref(config_.publish),
                           m.state(), m.health(), m.held_down(), m.restarts(), m.admin_restarts(),
                           std::cref(m.last_exit()), std::cref(m.last_error()),
                           std::cref(limits_note), std::cref(updates_));
}

namespace {
template <class>
struct Owned;
template <class... T>
struct Owned<std::tuple<T...>> {
    using type = std::tuple<std::remove_cvref_t<T>...>;
};
}  // namespace

// The inputs are compared by value on every request (a few integers and short strings)
// rather than invalidated by a counter bumped where the jail changes: no path that changes
// a jail (requests, exits, health, reloads, adoption) can forget to.
struct Jail::KeptStatus {
    using Inputs = Owned<decltype(std::declval<const Jail&>().status_inputs(std::string()))>::type;
    Inputs inputs;
    JailStatusText text;
};

Jail::Jail(JailContext& context, config::JailConfig config)
    : ctx_(context),
      config_(std::move(config)),
      machine_(config_.restart, config_.health),
      main_(context.io, context.time, context.sandboxes, config_.name),
      retry_timer_(context.time.timer()),
      stop_timer_(context.time.timer()),
      health_timer_(context.time.timer()),
      health_deadline_(context.time.timer()),
      settle_timer_(context.time.timer()),
      logs_(context.log_lines) {
    main_.on_found([this] { ctx_.changed(*this); });  // its PID goes into RUN_DIR/state.json
}

// A sandbox still running is killed with its firejail process (Process's destructor).
Jail::~Jail() {
    cancel_health();
    fail_waiters("jail '" + config_.name + "' was removed from the configuration");
}

void Jail::start(api::Wait wait, api::Done done) {
    if (machine_.serving()) {
        if (done) done(Result<void>());
        return;
    }
    retry_timer_->cancel();
    want_up();
    add_waiter(true, std::move(wait), std::move(done));
    changed("start requested");
}

void Jail::stop(api::Wait wait, api::Done done) {
    add_waiter(false, std::move(wait), std::move(done));
    retry_timer_->cancel();
    machine_.want_down();
    changed("stop requested");
}

void Jail::restart(api::Wait wait, api::Done done) {
    retry_timer_->cancel();
    machine_.want_restart();  // not running: a start
    check_provisioned();
    add_waiter(true, std::move(wait), std::move(done));
    changed("restart requested");
    if (machine_.stop_due()) signal_stop();  // unless the Supervisor did already
}

void Jail::want_up() {
    machine_.want_up();
    check_provisioned();
}

// About to start (waiting): unless its root is still to be built. Logged once, at info: an
// unprovisioned jail is a step of the setup, not an error.
void Jail::check_provisioned() {
    if (machine_.state() != State::waiting || !root_unprovisioned()) return;
    machine_.unprovisioned();
    log::jail_logger(config_.name)
        ->info(
            "jail '{}' is not provisioned yet (no root at {}); build it with: jailctl provision "
            "{}",
            config_.name, config_.root, config_.name);
}

// Its root is still to be built: a "provision" section, nothing at the root's path and no
// record of a build (a root that was built and vanished is an error, found at launch).
bool Jail::root_unprovisioned() const {
    return config_.provision && !ctx_.sandboxes.path_exists(config_.root) &&
           !ctx_.sandboxes.path_exists(provision::record_path(ctx_.state_dir, config_.name));
}

void Jail::bring_up() {
    want_up();
    changed("");
}

void Jail::hold_down() {
    machine_.want_down();
}

void Jail::added(bool held_down) {
    if (!held_down) want_up();
    changed("added by reload");
}

void Jail::reconfigure(config::JailConfig next, bool held_down) {
    const bool was_removed = machine_.removing();
    machine_.keep();
    // Only its cgroup limits changed: applied to the running sandbox's scope, no restart.
    if (!was_removed && !pending_ && firejail_ && config::equal_but_cgroup_limits(config_, next)) {
        config_ = std::move(next);
        firejail_->update_limits(config_.limits.cgroup);
        log::jail_logger(config_.name)
            ->info("jail '{}': limits changed; applied in place (no restart)", config_.name);
        return changed("limits changed");
    }
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
    // reload adds. Unprovisioned: the new configuration may name a root that exists.
    if ((was_removed && !held_down) || machine_.state() == State::unprovisioned) want_up();
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
        nlohmann::json event{{"type", "state"},
                             {"jail", config_.name},
                             {"state", state},
                             {"previous", last_state_},
                             {"health", to_string(machine_.health())},
                             {"message", message},
                             {"time_us", realtime_us()}};
        notify_waiters(event);
        ctx_.publish(std::move(event));
        last_state_ = state;
    }
    resolve_waiters();
    ctx_.changed(*this);
}

JailStatus Jail::status() const {
    return status(ctx_.time.now());
}

JailStatus Jail::status(TimePoint now) const {
    JailStatus s;
    const auto& m = machine_;
    s.name = config_.name;
    s.state = to_string(m.state());
    s.health = to_string(m.health());
    s.held_down = m.held_down();
    s.address = config_.address.str();
    s.ports = config_.publish;
    s.restarts = m.restarts();
    s.admin_restarts = m.admin_restarts();
    s.last_exit = m.last_exit();
    s.last_error = m.last_error();
    if (m.state() == State::unprovisioned) s.fix = "jailctl provision " + config_.name;
    if (firejail_) s.limits_note = firejail_->limits_note();
    s.updates = updates_;
    set_dynamic_fields(s, dynamic_status(now));
    return s;
}

JailStatusDynamic Jail::dynamic_status(TimePoint now) const {
    JailStatusDynamic d;
    const auto& m = machine_;
    if (firejail_) {
        d.pid = firejail_->pid();
        if (main_.pid()) {
            d.main_pid = main_.pid();
        } else if (!main_.exited_at()) {  // not found by the watch yet
            if (auto found = ctx_.sandboxes.find_main(*d.pid)) d.main_pid = found->main_pid;
        }
    }
    if (m.started_at() && m.state() != State::stopped) {
        d.uptime_ms = std::chrono::duration_cast<Millis>(now - *m.started_at()).count();
    }
    if (m.retry_at()) {
        d.next_retry_ms = std::max<std::int64_t>(
            0, std::chrono::duration_cast<Millis>(*m.retry_at() - now).count());
    }
    if (m.last_error_at()) {
        d.last_error_age_ms = std::chrono::duration_cast<Millis>(now - *m.last_error_at()).count();
    }
    if (last_backup_us_) {  // wall clock: the backup's time is the one in its file name
        d.last_backup_age_ms = std::max<std::int64_t>(0, (realtime_us() - *last_backup_us_) / 1000);
    }
    d.dropped_lines = output_limit_.dropped_total();
    d.oom_kills = oom_kills_past_;
    if (firejail_) {
        auto usage = firejail_->usage();  // a few small cgroup files, read per request
        d.memory_bytes = usage.memory_bytes;
        d.cpu_usec = usage.cpu_usec;
        d.tasks = usage.tasks;
        d.oom_kills += usage.oom_kills.value_or(0);
    }
    return d;
}

KeptJailStatus Jail::kept_status(TimePoint now) const {
    static const std::string none;
    const std::string& limits_note = firejail_ ? firejail_->limits_note() : none;
    const auto inputs = status_inputs(limits_note);
    if (!kept_status_ || kept_status_->inputs != inputs) {
        kept_status_ =
            std::make_unique<KeptStatus>(KeptStatus{inputs, JailStatusText(status(now))});
    }
    return {&kept_status_->text, dynamic_status(now)};
}

metrics::JailFigures Jail::figures(TimePoint now) const {
    metrics::JailFigures f;
    f.status = status(now);
    if (last_wait_status_) {
        const int w = *last_wait_status_;
        if (WIFEXITED(w)) f.last_exit_code = WEXITSTATUS(w);
        if (WIFSIGNALED(w)) f.last_exit_signal = WTERMSIG(w);
    }
    f.health_checks = health_checks_;
    f.health_check_failures = health_check_failures_;
    f.last_health_check_seconds = last_health_check_seconds_;
    // A limit counts as enforced while the jail runs in a cgroup (usage is measured) and the
    // runner's note does not name it.
    if (f.status.memory_bytes) {
        const auto& limits = config_.limits.cgroup;
        auto enforced = [&f](std::string_view name) {
            return f.status.limits_note.find(name) == std::string::npos;
        };
        if (limits.memory_max && enforced("memory_max")) f.memory_max_bytes = limits.memory_max;
        if (limits.tasks_max && enforced("tasks_max")) f.tasks_max = limits.tasks_max;
    }
    return f;
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

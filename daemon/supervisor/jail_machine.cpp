#include "supervisor/jail_machine.hpp"

#include <algorithm>

namespace jaild::supervisor {

std::string to_string(State s) {
    switch (s) {
        case State::stopped:
            return "stopped";
        case State::unprovisioned:
            return "unprovisioned";
        case State::waiting:
            return "waiting";
        case State::running:
            return "running";
        case State::stopping:
            return "stopping";
        case State::backoff:
            return "backoff";
        case State::failed:
            return "failed";
    }
    return "?";
}

std::string to_string(Health h) {
    switch (h) {
        case Health::none:
            return "none";
        case Health::starting:
            return "starting";
        case Health::healthy:
            return "healthy";
        case Health::unhealthy:
            return "unhealthy";
    }
    return "?";
}

Millis backoff_delay(const config::RestartConfig& r, int consecutive_failures) {
    Millis delay = r.backoff_initial;
    for (int i = 1; i < consecutive_failures && delay < r.backoff_max; ++i) delay *= 2;
    return std::min(delay, r.backoff_max);
}

JailMachine::JailMachine(config::RestartConfig restart, config::HealthConfig health)
    : restart_(restart), health_config_(std::move(health)) {}

void JailMachine::set_config(config::RestartConfig restart, config::HealthConfig health) {
    restart_ = restart;
    health_config_ = std::move(health);
}

void JailMachine::want_up() {
    held_down_ = false;
    if (state_ == State::stopped || state_ == State::failed || state_ == State::backoff ||
        state_ == State::unprovisioned) {
        if (state_ == State::failed) recent_failures_.clear();
        state_ = State::waiting;
        retry_at_.reset();
    } else if (state_ == State::stopping) {
        restart_requested_ = true;
    }
}

bool JailMachine::want_down() {
    held_down_ = true;
    restart_requested_ = false;
    retry_at_.reset();
    switch (state_) {
        case State::running:
            begin_stop();
            return true;
        case State::waiting:
        case State::backoff:
        case State::failed:
        case State::unprovisioned:
            state_ = State::stopped;
            return false;
        default:
            return false;
    }
}

bool JailMachine::want_restart() {
    held_down_ = false;
    if (state_ == State::running) {
        begin_stop();
        restart_requested_ = true;
        return true;
    }
    if (state_ == State::stopping) {
        restart_requested_ = true;
        return false;
    }
    want_up();
    return false;
}

void JailMachine::unprovisioned() {
    if (state_ != State::waiting && state_ != State::stopped) return;
    state_ = State::unprovisioned;
    retry_at_.reset();
}

void JailMachine::set_error(std::string why, TimePoint now) {
    last_error_ = std::move(why);
    last_error_at_ = now;
}

void JailMachine::begin_stop() {
    state_ = State::stopping;
    stop_signalled_ = false;
}

void JailMachine::spawned(TimePoint now) {
    state_ = State::running;
    started_at_ = now;
    healthy_since_.reset();
    retry_at_.reset();
    health_failures_ = 0;
    last_counted_failure_ = now;
    unhealthy_restart_ = false;
    health_ =
        health_config_.kind == config::HealthConfig::Kind::none ? Health::none : Health::starting;
}

void JailMachine::carry_over(const Carried& c, TimePoint now) {
    restarts_ = c.restarts;
    admin_restarts_ = c.admin_restarts;
    consecutive_failures_ = c.consecutive_failures;
    last_exit_ = c.last_exit;
    if (!c.last_error.empty()) set_error(c.last_error, now);
}

void JailMachine::resume_retry(bool failed, TimePoint retry_at) {
    state_ = failed ? State::failed : State::backoff;
    retry_at_ = retry_at;
}

ExitOutcome JailMachine::spawn_failed(const std::string& error, TimePoint now) {
    last_exit_.clear();
    return fail(error, now);
}

ExitOutcome JailMachine::spawn_deferred(const std::string& error, TimePoint now, Millis delay) {
    last_exit_.clear();
    set_error(error + " (jaild is short of resources; not counted as a failure of the jail)", now);
    state_ = State::backoff;
    retry_at_ = now + delay;
    return {State::backoff, delay};
}

ExitOutcome JailMachine::exited(bool success, const std::string& description, TimePoint now) {
    last_exit_ = description;
    health_ = Health::none;
    auto ran_since = started_at_;
    started_at_.reset();
    if (state_ == State::stopping) {
        if (unhealthy_restart_) {
            unhealthy_restart_ = false;
            state_ = State::running;  // so that fail() sees an unexpected end
            return fail("restarted: health check failing", now);
        }
        if (restart_requested_ && !held_down_) {
            restart_requested_ = false;
            ++admin_restarts_;
            state_ = State::waiting;
            return {State::waiting, std::nullopt};
        }
        state_ = State::stopped;
        return {State::stopped, std::nullopt};
    }
    // An exit nobody asked for. A run long enough (healthy, if checked) resets the backoff.
    auto steady_since =
        health_config_.kind == config::HealthConfig::Kind::none ? ran_since : healthy_since_;
    if (steady_since && now - *steady_since >= restart_.reset_after) consecutive_failures_ = 0;
    bool restart = restart_.policy == config::RestartPolicy::always ||
                   (restart_.policy == config::RestartPolicy::on_failure && !success);
    if (!restart) {
        if (!success) set_error(description, now);
        state_ = State::stopped;
        return {State::stopped, std::nullopt};
    }
    return fail(description, now);
}

ExitOutcome JailMachine::fail(const std::string& why, TimePoint now) {
    set_error(why, now);
    ++consecutive_failures_;
    recent_failures_.push_back(now);
    while (!recent_failures_.empty() &&
           now - recent_failures_.front() > restart_.crash_loop_window) {
        recent_failures_.pop_front();
    }
    if (restart_.policy == config::RestartPolicy::never) {
        state_ = State::stopped;
        return {State::stopped, std::nullopt};
    }
    if (static_cast<int>(recent_failures_.size()) >= restart_.crash_loop_limit) {
        last_error_ =
            "crash loop: " + std::to_string(recent_failures_.size()) + " failures within " +
            format_duration(restart_.crash_loop_window) + ", last: " + why + "; retrying in " +
            format_duration(restart_.crash_loop_cooldown) + " (or now with: jailctl start)";
        state_ = State::failed;
        retry_at_ = now + restart_.crash_loop_cooldown;
        return {State::failed, restart_.crash_loop_cooldown};
    }
    auto delay = backoff_delay(restart_, consecutive_failures_);
    state_ = State::backoff;
    retry_at_ = now + delay;
    return {State::backoff, delay};
}

void JailMachine::retry_due(TimePoint) {
    if (state_ != State::backoff && state_ != State::failed) return;
    if (state_ == State::failed) recent_failures_.clear();
    ++restarts_;
    state_ = State::waiting;
    retry_at_.reset();
}

bool JailMachine::health_result(bool ok, const std::string& detail, TimePoint now) {
    if (state_ != State::running || health_config_.kind == config::HealthConfig::Kind::none) {
        return false;
    }
    if (ok) {
        health_failures_ = 0;
        last_counted_failure_.reset();
        if (health_ != Health::healthy) healthy_since_ = now;
        health_ = Health::healthy;
        return false;
    }
    bool in_start_period = started_at_ && now - *started_at_ < health_config_.start_period;
    if (in_start_period) return false;
    if (last_counted_failure_ && now - *last_counted_failure_ < health_config_.interval) {
        return false;
    }
    last_counted_failure_ = now;
    ++health_failures_;
    if (health_failures_ < health_config_.retries) return false;
    bool newly_unhealthy = health_ != Health::unhealthy;
    health_ = Health::unhealthy;
    healthy_since_.reset();
    set_error("health check failed " + std::to_string(health_failures_) + " times: " + detail, now);
    if (newly_unhealthy && health_config_.restart_unhealthy &&
        restart_.policy != config::RestartPolicy::never) {
        begin_stop();
        unhealthy_restart_ = true;
        return true;
    }
    return false;
}

bool JailMachine::serving() const {
    return state_ == State::running && (health_ == Health::none || health_ == Health::healthy);
}

}  // namespace jaild::supervisor

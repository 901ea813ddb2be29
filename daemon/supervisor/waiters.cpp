// The API calls waiting on a jail (jailctl start/restart/stop without --no-block): answered
// once the jail serves (running, and healthy if it has a health check) or is down, or with
// why not: it failed to come up (with its last output lines), or the wait's window passed.
// Each waiter has its own timeout; the jail carries on either way.
#include <algorithm>

#include "supervisor/jail.hpp"

namespace jaild::supervisor {

namespace {

constexpr std::size_t kOutputLinesInErrors = 10;
constexpr Millis kSettle{1000};

bool down(State s) {
    return s != State::running && s != State::stopping;
}

}  // namespace

// Start: 30 s, plus what the health check may take to pass (its start period, then
// `retries` failing intervals and a timeout); stop: the stop timeout (SIGKILL follows it)
// and 5 s to reap; restart: both.
Millis Jail::wait_window(bool up, bool restart) const {
    const auto& h = config_.health;
    Millis start{30'000};
    if (h.kind != config::HealthConfig::Kind::none)
        start += h.start_period + h.interval * h.retries + h.timeout;
    const Millis stop = config_.stop_timeout + Millis(5'000);
    if (!up) return stop;
    return restart ? start + stop : start;
}

void Jail::add_waiter(bool up, api::Wait wait, api::Done done) {
    if (!wait.block) {
        if (done) done(Result<void>());
        return;
    }
    if (!done) return;
    auto w = std::make_unique<Waiter>();
    w->up = up;
    w->done = std::move(done);
    w->progress = std::move(wait.progress);
    w->window = wait.timeout.value_or(wait_window(up, machine_.state() == State::stopping));
    w->timeout = ctx_.time.timer();
    auto* raw = w.get();
    w->timeout->start_at(ctx_.time.now() + w->window, [this, raw] { waiter_timed_out(raw); });
    if (w->progress) w->progress({{"jail", config_.name}, {"timeout_ms", w->window.count()}});
    waiters_.push_back(std::move(w));
}

// Why a start did not lead to a serving jail, with its last output lines as details.
std::string Jail::start_failure() const {
    const auto state = machine_.state();
    if (state == State::unprovisioned) {
        return "jail '" + config_.name + "' is not provisioned yet (no root at " + config_.root +
               "); build it with: jailctl provision " + config_.name;
    }
    if (state == State::stopped && machine_.held_down())
        return "jail '" + config_.name + "' was stopped before it came up";
    std::string why = machine_.last_error().empty() ? to_string(state) : machine_.last_error();
    return "jail '" + config_.name + "' did not start: " + why;
}

void Jail::resolve_waiters() {
    if (waiters_.empty()) return;
    const auto state = machine_.state();
    const bool unhealthy = state == State::running && machine_.health() == Health::unhealthy;
    // Without a health check a jail serves once it has run kSettle: a command that fails at
    // once (a bad configuration, a port in use) is a failed start, not a started jail.
    bool serving = machine_.serving();
    if (serving && config_.health.kind == config::HealthConfig::Kind::none &&
        machine_.started_at() && ctx_.time.now() < *machine_.started_at() + kSettle) {
        serving = false;
        settle_timer_->start_at(*machine_.started_at() + kSettle, [this] { resolve_waiters(); });
    }
    std::vector<std::unique_ptr<Waiter>> done;
    std::erase_if(waiters_, [&](std::unique_ptr<Waiter>& w) {
        bool finished = w->up ? serving || unhealthy ||
                                    (state != State::waiting && state != State::stopping &&
                                     state != State::running)
                              : down(state) && !machine_.clearing();
        if (finished) done.push_back(std::move(w));
        return finished;
    });
    for (auto& w : done) {
        w->timeout->cancel();
        if (!w->up || serving) {
            w->done(Result<void>());
        } else if (unhealthy) {
            w->done(make_error(
                Errc::failed,
                "jail '" + config_.name + "' is running but unhealthy: " + machine_.last_error()));
        } else {
            w->failure = start_failure();  // now: the jail may be retried before the answer
            failing_.push_back(std::move(w));
        }
    }
    if (failing_.empty()) return;
    if (output_.empty()) return answer_failing();
    // Its last lines may still be in the output pipes: answered at their end (launch.cpp), at
    // the latest in half a second.
    for (auto& w : failing_)
        w->timeout->start_at(ctx_.time.now() + Millis(500), [this] { answer_failing(); });
}

void Jail::answer_failing() {
    if (failing_.empty()) return;
    std::vector<std::string> output;
    for (const auto& line : logs_.last(kOutputLinesInErrors))
        output.push_back("[" + line.stream + "] " + line.text);
    auto waiters = std::move(failing_);
    failing_.clear();
    for (auto& w : waiters) {
        w->timeout->cancel();
        w->done(make_error(Errc::failed, w->failure, output));
    }
}

void Jail::notify_waiters(const nlohmann::json& event) {
    for (auto& w : waiters_)
        if (w->progress) w->progress(event);
}

void Jail::waiter_timed_out(Waiter* waiter) {
    auto it = std::find_if(waiters_.begin(), waiters_.end(),
                           [waiter](const auto& w) { return w.get() == waiter; });
    if (it == waiters_.end()) return;
    auto w = std::move(*it);
    waiters_.erase(it);
    std::string now = to_string(machine_.state());
    if (machine_.state() == State::running && machine_.health() != Health::none)
        now += ", health check " + to_string(machine_.health());
    w->done(make_error(Errc::failed,
                       "jail '" + config_.name + "' is not " + (w->up ? "serving" : "down") +
                           " after " + format_duration(w->window) + " (it is " + now +
                           "); it carries on: follow it with jailctl status " + config_.name +
                           " (jailctl --timeout SECONDS waits longer)"));
}

// The jail is going away (removed by a reload, or jaild is stopping).
void Jail::fail_waiters(const std::string& why) {
    answer_failing();
    auto waiters = std::move(waiters_);
    waiters_.clear();
    for (auto& w : waiters) {
        w->timeout->cancel();
        w->done(make_error(Errc::failed, why));
    }
}

}  // namespace jaild::supervisor

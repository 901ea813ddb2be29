// JailMachine: the life of one jail as a pure state machine. It decides; the Supervisor
// acts (spawns, signals, arms timers) and feeds back what happened. Every method takes
// the current time, so tests drive it with a fake clock.
//
//   stopped --want_up--> waiting --(deps ready) spawned--> running --exit--> backoff|failed|stopped
//   running --stop--> stopping --exit--> stopped (held) | waiting (restart)
//   backoff --retry_due--> waiting;  failed --retry_due (after the cool-down)--> waiting
//   waiting|stopped --root not provisioned--> unprovisioned --want_up (once built)--> waiting
//
// Beside the state: a jail about to spawn may first be clearing a sandbox an earlier jaild
// left (still `waiting`, but counted as up by its dependencies' stops); a stopping jail's
// stop signal may be due but not sent yet (while jaild stops every jail, a jail is
// signalled only once its dependents are down); a jail a reload removed is released once
// it is stopped.
#pragma once

#include <chrono>
#include <deque>
#include <optional>
#include <string>

#include "config/config.hpp"
#include "supervisor/clock.hpp"

namespace jaild::supervisor {

enum class State { stopped, unprovisioned, waiting, running, stopping, backoff, failed };
enum class Health { none, starting, healthy, unhealthy };
std::string to_string(State s);
std::string to_string(Health h);

// Delay before restart number `consecutive_failures` (1 = first): initial * 2^(n-1),
// capped at backoff_max.
Millis backoff_delay(const config::RestartConfig& restart, int consecutive_failures);

struct ExitOutcome {
    State next;                      // stopped, waiting (restart now), backoff or failed
    std::optional<Millis> retry_in;  // backoff/failed: when to try again
};

class JailMachine {
  public:
    JailMachine(config::RestartConfig restart, config::HealthConfig health);

    State state() const { return state_; }
    Health health() const { return health_; }
    bool held_down() const { return held_down_; }
    // Restarts after the jail ended by itself (crash, exit, failing health checks).
    int restarts() const { return restarts_; }
    // Restarts an admin (or a reload that changed the jail) asked for.
    int admin_restarts() const { return admin_restarts_; }
    int consecutive_failures() const { return consecutive_failures_; }
    std::optional<TimePoint> retry_at() const { return retry_at_; }
    std::optional<TimePoint> started_at() const { return started_at_; }
    const std::string& last_exit() const { return last_exit_; }
    const std::string& last_error() const { return last_error_; }
    std::optional<TimePoint> last_error_at() const { return last_error_at_; }

    void set_config(config::RestartConfig restart, config::HealthConfig health);

    // An admin or jaild wants the jail up: clears a hold and a `failed` state. Returns
    // true if the jail must now be stopped first (it is running and `restart` is asked).
    void want_up();
    // Stop and hold down. Returns true if a running jail must be signalled now.
    bool want_down();
    // Restart: stop (if running) and come back. Returns true if it must be signalled now.
    bool want_restart();

    // The jail's root has not been built yet (it has a "provision" section, no root and no
    // record of a build): nothing is tried or counted until provisioning starts it.
    void unprovisioned();
    bool ready_to_spawn() const { return state_ == State::waiting && !clearing_; }
    // Waiting for a sandbox left by an earlier jaild to end before the jail can spawn.
    void clearing_started() { clearing_ = true; }
    void clearing_done() { clearing_ = false; }
    bool clearing() const { return clearing_; }
    // Running, stopping or about to spawn: what a dependency waits for when stopping in order.
    bool up() const { return state_ == State::running || state_ == State::stopping || clearing_; }
    // A stop was asked for and the jail has not been signalled yet.
    bool stop_due() const { return state_ == State::stopping && !stop_signalled_; }
    void stop_signalled() { stop_signalled_ = true; }
    // The jail left the configuration: stop it, then release it (removal_due once stopped).
    void remove() { removing_ = true; }
    void keep() { removing_ = false; }
    bool removing() const { return removing_; }
    bool removal_due() const { return removing_ && state_ == State::stopped && !clearing_; }
    void spawned(TimePoint now);
    // Live restore: what an earlier jaild counted for this jail (restarts, admin restarts,
    // the failures that set the backoff, the last exit and error) carries over.
    struct Carried {
        int restarts = 0, admin_restarts = 0, consecutive_failures = 0;
        std::string last_exit, last_error;
    };
    void carry_over(const Carried& carried, TimePoint now);
    // It was backing off (or cooling down after a crash loop) when that jaild left: the
    // next try stays due at `retry_at` (now or later). `failed`: the cool-down.
    void resume_retry(bool failed, TimePoint retry_at);
    // Spawning failed (firejail missing, netns error, ...): counts as a failure.
    ExitOutcome spawn_failed(const std::string& error, TimePoint now);
    // Spawning failed because jaild itself ran out of a resource (descriptors, memory,
    // processes): not the jail's fault, so not counted toward the backoff or a crash loop;
    // tried again after `delay`.
    ExitOutcome spawn_deferred(const std::string& error, TimePoint now, Millis delay);
    // The firejail process ended; `description` is e.g. "exited with status 1".
    ExitOutcome exited(bool success, const std::string& description, TimePoint now);
    // The backoff/cool-down timer fired.
    void retry_due(TimePoint now);

    // A health check result. Returns true if the jail should be restarted for being unhealthy.
    bool health_result(bool ok, const std::string& detail, TimePoint now);
    // Depended-on jails need this: running and (no health check or healthy).
    bool serving() const;

  private:
    void begin_stop();
    ExitOutcome fail(const std::string& why, TimePoint now);
    void set_error(std::string why, TimePoint now);

    config::RestartConfig restart_;
    config::HealthConfig health_config_;
    State state_ = State::stopped;
    Health health_ = Health::none;
    bool held_down_ = false;
    bool clearing_ = false;
    bool stop_signalled_ = false;
    bool removing_ = false;
    bool restart_requested_ = false;  // a stop that should come back up
    bool unhealthy_restart_ = false;  // the stop was ours, for failing health checks
    int restarts_ = 0;
    int admin_restarts_ = 0;
    int consecutive_failures_ = 0;
    int health_failures_ = 0;
    // Probes run faster than `interval` until the first success (so dependents start early);
    // failures still count at most once per interval, so that does not hasten `unhealthy`.
    std::optional<TimePoint> last_counted_failure_;
    std::deque<TimePoint> recent_failures_;
    std::optional<TimePoint> started_at_;
    std::optional<TimePoint> healthy_since_;
    std::optional<TimePoint> retry_at_;
    std::string last_exit_;
    std::string last_error_;
    std::optional<TimePoint> last_error_at_;
};

}  // namespace jaild::supervisor

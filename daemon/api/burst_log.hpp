// BurstLog: decides which of a run of repeated failures (refused connections, failed
// accepts) is logged, so that a flood costs one log line per burst, not one per attempt.
// A burst is a run of events less than `quiet` apart; its first event is logged, together
// with how many events of the previous burst went unlogged. Pure: the caller passes the time.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>

namespace jaild::api {

class BurstLog {
  public:
    using Clock = std::chrono::steady_clock;
    explicit BurstLog(Clock::duration quiet = std::chrono::seconds(10)) : quiet_(quiet) {}

    // Records one event at `now`. When it should be logged, returns how many events since the
    // last logged one were not (0 for the first burst); otherwise nullopt.
    std::optional<std::size_t> record(Clock::time_point now) {
        bool new_burst = !last_ || now - *last_ >= quiet_;
        last_ = now;
        if (!new_burst) {
            ++unlogged_;
            return std::nullopt;
        }
        std::size_t previous = unlogged_;
        unlogged_ = 0;
        return previous;
    }

  private:
    Clock::duration quiet_;
    std::optional<Clock::time_point> last_;
    std::size_t unlogged_ = 0;
};

}  // namespace jaild::api

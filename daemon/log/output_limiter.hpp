// OutputLimiter: how many lines of one jail's output jaild passes on to the journal (and the
// log buffer), as a token bucket: `lines_per_second` on average, bursts of up to `burst`.
// What does not fit is dropped and counted, so a jail that floods its output (root in the
// jail can) neither drowns the other jails' lines and jaild's own messages in the journal
// (journald rate-limits jaild.service as one unit) nor makes jaild spend unbounded work.
//
// Pure and single-threaded: time is passed in (steady_clock time points, as the
// supervisor's TimeSource gives them), so tests drive it with a fake clock.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace jaild::log {

struct OutputLimit {
    std::uint32_t lines_per_second = 1000;
    std::uint32_t burst = 10000;
};

class OutputLimiter {
  public:
    using TimePoint = std::chrono::steady_clock::time_point;

    // The bucket starts full (a jail's start-up messages pass), at the first call that
    // passes a time.
    OutputLimiter() = default;
    explicit OutputLimiter(OutputLimit limit) : limit_(limit) {}

    // Of `lines` lines arriving at `now`, how many pass (the first ones); the rest are
    // counted as dropped.
    std::size_t admit(std::size_t lines, TimePoint now);
    // Lines dropped without being offered one by one (counted in bulk by a reader that
    // discards while the bucket is empty).
    void drop(std::uint64_t lines);
    // True when a line arriving at `now` would be dropped.
    bool exhausted(TimePoint now);
    // A new limit (a reload, or the configuration at a jail's start); the tokens are kept,
    // capped to the new burst.
    void set_limit(OutputLimit limit);

    std::uint64_t dropped_total() const { return dropped_total_; }
    // Dropped since the last call (for the periodic "N lines dropped" report).
    std::uint64_t take_unreported();

  private:
    void refill(TimePoint now);

    OutputLimit limit_;
    // Tokens in millionths of a line, so refills of a few microseconds are not lost.
    std::uint64_t micro_tokens_ = 0;
    std::optional<TimePoint> last_;  // nullopt: not used yet (full)
    std::uint64_t dropped_total_ = 0;
    std::uint64_t unreported_ = 0;
};

}  // namespace jaild::log

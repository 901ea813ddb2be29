// Clock: the supervisor's time, as a seam. The real clock arms asio timers on the loop; a
// fake one (tests/unit/fakes/fake_clock.hpp) moves only when a test advances it, so backoff,
// stop escalation and health timings are unit-tested without sleeping.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "jaild/duration.hpp"

namespace boost::asio {
class io_context;
}

namespace jaild::supervisor {

using Clock = std::chrono::steady_clock;  // the time points all clocks give
using TimePoint = Clock::time_point;

// One pending wake-up. Starting it again replaces the previous one; `fire` never runs after
// cancel() or destruction, and may destroy the timer.
class Timer {
  public:
    virtual ~Timer() = default;
    virtual void start_at(TimePoint at, std::function<void()> fire) = 0;
    virtual void cancel() = 0;
};

class TimeSource {
  public:
    virtual ~TimeSource() = default;
    virtual TimePoint now() const = 0;
    virtual std::unique_ptr<Timer> timer() = 0;
    void start_after(Timer& t, Millis delay, std::function<void()> fire) {
        t.start_at(now() + delay, std::move(fire));
    }
};

// steady_clock and asio timers on `io`.
class AsioTimeSource final : public TimeSource {
  public:
    explicit AsioTimeSource(boost::asio::io_context& io) : io_(io) {}
    TimePoint now() const override { return Clock::now(); }
    std::unique_ptr<Timer> timer() override;

  private:
    boost::asio::io_context& io_;
};

}  // namespace jaild::supervisor

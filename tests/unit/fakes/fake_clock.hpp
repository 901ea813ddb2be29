// FakeTimeSource: time that moves only when a test calls advance(). Timers due by then fire
// in time order, each seeing now() at its own due time, as on a real loop without delays.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "supervisor/clock.hpp"

namespace jaild::testing {

class FakeTimeSource final : public supervisor::TimeSource {
  public:
    supervisor::TimePoint now() const override { return now_; }
    std::unique_ptr<supervisor::Timer> timer() override {
        auto slot = std::make_shared<Slot>();
        slots_.push_back(slot);
        return std::make_unique<FakeTimer>(slot);
    }

    // Runs every timer due within `d`, earliest first (timers armed meanwhile included).
    void advance(Millis d) {
        const auto until = now_ + d;
        for (;;) {
            std::shared_ptr<Slot> next;
            for (const auto& weak : slots_) {
                auto s = weak.lock();
                if (s && s->fire && s->at <= until && (!next || s->at < next->at)) next = s;
            }
            if (!next) break;
            if (next->at > now_) now_ = next->at;
            auto fire = std::move(next->fire);
            next->fire = nullptr;
            fire();
        }
        now_ = until;
    }
    // When the earliest armed timer is due (nullopt if none).
    std::optional<supervisor::TimePoint> next_due() const {
        std::optional<supervisor::TimePoint> at;
        for (const auto& weak : slots_) {
            auto s = weak.lock();
            if (s && s->fire && (!at || s->at < *at)) at = s->at;
        }
        return at;
    }

  private:
    struct Slot {
        supervisor::TimePoint at;
        std::function<void()> fire;
    };
    class FakeTimer final : public supervisor::Timer {
      public:
        explicit FakeTimer(std::shared_ptr<Slot> s) : s_(std::move(s)) {}
        void start_at(supervisor::TimePoint at, std::function<void()> fire) override {
            s_->at = at;
            s_->fire = std::move(fire);
        }
        void cancel() override { s_->fire = nullptr; }

      private:
        std::shared_ptr<Slot> s_;
    };

    supervisor::TimePoint now_ = supervisor::TimePoint{} + std::chrono::hours(1000);
    std::vector<std::weak_ptr<Slot>> slots_;
};

}  // namespace jaild::testing

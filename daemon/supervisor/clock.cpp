#include "supervisor/clock.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace jaild::supervisor {

namespace {

class AsioTimer final : public Timer {
  public:
    explicit AsioTimer(boost::asio::io_context& io) : state_(std::make_shared<State>(io)) {}
    ~AsioTimer() override { cancel(); }

    void start_at(TimePoint at, std::function<void()> fire) override {
        cancel();
        state_->fire = std::move(fire);
        std::weak_ptr<State> weak = state_;
        const auto generation = state_->generation;
        state_->timer.expires_at(at);
        state_->timer.async_wait([weak, generation](const boost::system::error_code& ec) {
            auto s = weak.lock();
            if (!s || ec || s->generation != generation || !s->fire) return;
            auto due = std::move(s->fire);
            s->fire = nullptr;
            due();
        });
    }
    void cancel() override {
        ++state_->generation;
        state_->fire = nullptr;
        state_->timer.cancel();
    }

  private:
    struct State {
        explicit State(boost::asio::io_context& io) : timer(io) {}
        boost::asio::steady_timer timer;
        std::function<void()> fire;
        unsigned generation = 0;
    };
    std::shared_ptr<State> state_;
};

}  // namespace

std::unique_ptr<Timer> AsioTimeSource::timer() {
    return std::make_unique<AsioTimer>(io_);
}

}  // namespace jaild::supervisor

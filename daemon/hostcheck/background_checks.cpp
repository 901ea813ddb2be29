#include "hostcheck/background_checks.hpp"

#include <chrono>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include "hostcheck/checks.hpp"

namespace jaild::hostcheck {

// Touched on the loop only; the worker thread only posts.
struct BackgroundChecks::Shared {
    bool alive = true;
    bool running = false;
    std::vector<std::function<void(const HostReport&)>> waiters;
    std::chrono::microseconds last_duration{0};
};

BackgroundChecks::BackgroundChecks(boost::asio::io_context& io, const HostProbe& probe,
                                   ProbeOptions options)
    : io_(io), probe_(probe), options_(std::move(options)), shared_(std::make_shared<Shared>()) {}

BackgroundChecks::~BackgroundChecks() {
    shared_->alive = false;
    if (worker_.joinable()) worker_.join();
}

void BackgroundChecks::set_config(std::optional<config::Config> config) {
    options_.config = std::move(config);
}

void BackgroundChecks::run(std::function<void(const HostReport&)> done) {
    shared_->waiters.push_back(std::move(done));
    if (shared_->running) return;
    shared_->running = true;
    if (worker_.joinable()) worker_.join();  // the previous run has posted its report already
    // Outstanding work for the loop until the report is posted: io.run() must not return
    // in between (it would, on a loop with nothing else to do).
    auto work = boost::asio::make_work_guard(io_);
    worker_ =
        std::thread([this, shared = shared_, options = options_, work = std::move(work)]() mutable {
            const auto start = std::chrono::steady_clock::now();
            HostReport report = run_checks(probe_.gather(options));
            const auto took = std::chrono::duration_cast<std::chrono::microseconds>(
                std::chrono::steady_clock::now() - start);
            boost::asio::post(io_, [shared, report = std::move(report), took] {
                if (!shared->alive) return;
                shared->running = false;
                shared->last_duration = took;
                for (auto& waiter : std::exchange(shared->waiters, {})) waiter(report);
            });
            work.reset();
        });
}

}  // namespace jaild::hostcheck

namespace jaild::hostcheck {

std::chrono::microseconds BackgroundChecks::last_duration() const {
    return shared_->last_duration;
}

}  // namespace jaild::hostcheck

#include "app/notifier.hpp"

#include <systemd/sd-daemon.h>
#include <time.h>

#include <spdlog/spdlog.h>

namespace jaild::app {

Notifier::Notifier(boost::asio::io_context& io) : timer_(io) {}

void Notifier::ready() {
    sd_notify(0, "READY=1");
}

void Notifier::reloading() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    auto usec = static_cast<unsigned long long>(ts.tv_sec) * 1'000'000ULL +
                static_cast<unsigned long long>(ts.tv_nsec) / 1000ULL;
    sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", usec);
}

void Notifier::stopping() {
    sd_notify(0, "STOPPING=1");
}

void Notifier::status(const std::string& line) {
    if (line == last_status_) return;
    last_status_ = line;
    sd_notifyf(0, "STATUS=%s", line.c_str());
}

void Notifier::start_watchdog() {
    std::uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return;
    interval_ = std::chrono::microseconds(usec / 2);
    spdlog::info("systemd watchdog enabled: pinging every {} ms", interval_.count() / 1000);
    ping();
}

void Notifier::ping() {
    sd_notify(0, "WATCHDOG=1");
    timer_.expires_after(interval_);
    timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) ping();
    });
}

}  // namespace jaild::app

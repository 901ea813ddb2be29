// Talks to systemd (sd_notify): READY/RELOADING/STOPPING, STATUS=, and the watchdog.
// Outside systemd (no NOTIFY_SOCKET) every call is a cheap no-op.
#pragma once

#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace jaild::app {

class Notifier {
  public:
    explicit Notifier(boost::asio::io_context& io);
    void ready();
    void reloading();  // RELOADING=1 with MONOTONIC_USEC, as systemd 253+ expects
    void stopping();
    void status(const std::string& line);  // sent only when it changed
    // Pings WATCHDOG=1 at half of WATCHDOG_USEC from the event loop, if systemd asks for it:
    // a stuck loop then stops pinging and systemd restarts jaild.
    void start_watchdog();

  private:
    void ping();
    boost::asio::steady_timer timer_;
    std::chrono::microseconds interval_{0};
    std::string last_status_;
};

}  // namespace jaild::app

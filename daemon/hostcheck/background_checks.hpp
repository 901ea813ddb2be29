// BackgroundChecks: runs the host checks for the daemon (at start, and for the API's `doctor`)
// on a thread of its own, since gathering the facts blocks (files, statvfs, libnftables), and
// delivers the report on the event loop. Requests made while a run is going share its report.
// The destructor waits for a run in progress (a few milliseconds: nothing in it waits on the
// network or on other processes); reports not delivered by then are dropped.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <thread>

#include <boost/asio/io_context.hpp>

#include "hostcheck/host_probe.hpp"
#include "jaild/host_report.hpp"

namespace jaild::hostcheck {

class BackgroundChecks {
  public:
    // `probe` must outlive this object.
    BackgroundChecks(boost::asio::io_context& io, const HostProbe& probe, ProbeOptions options);
    ~BackgroundChecks();
    BackgroundChecks(const BackgroundChecks&) = delete;
    BackgroundChecks& operator=(const BackgroundChecks&) = delete;

    // `done` runs on the loop, once, unless this object is destroyed first.
    void run(std::function<void(const HostReport&)> done);
    // Later runs check this configuration (e.g. after a reload); nullopt: read the file.
    void set_config(std::optional<config::Config> config);
    // How long the last finished run took (gathering and judging), for the log.
    std::chrono::microseconds last_duration() const;

  private:
    struct Shared;
    boost::asio::io_context& io_;
    const HostProbe& probe_;
    ProbeOptions options_;
    std::shared_ptr<Shared> shared_;
    std::thread worker_;
};

}  // namespace jaild::hostcheck

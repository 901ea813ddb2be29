// SdBusManager: Manager over libsystemd's sd-bus on the system bus, driven by the loop (the
// bus's descriptor watched with asio, sd_bus_process() when it is ready or its timeout is
// due): no call blocks the loop except connecting (a local socket, once, at first use).
// A start waits for systemd's JobRemoved of its job, at most kJobTimeout.
#pragma once

#include <chrono>
#include <map>
#include <memory>

#include <boost/asio/io_context.hpp>

#include "systemd/manager.hpp"

namespace jaild::systemd {

// Whether systemd is PID 1 (sd_booted(): /run/systemd/system exists).
bool systemd_is_pid1();

class SdBusManager final : public Manager {
  public:
    static constexpr std::chrono::seconds kJobTimeout{30};

    explicit SdBusManager(boost::asio::io_context& io);
    ~SdBusManager() override;
    SdBusManager(const SdBusManager&) = delete;
    SdBusManager& operator=(const SdBusManager&) = delete;

    void start_scope(const ScopeRequest& request, Done done) override;
    void set_limits(const std::string& unit, const config::CgroupLimits& limits,
                    Done done) override;
    void attach_process(const std::string& unit, int pid, Done done) override;

    struct Impl;  // sd-bus callbacks reach it through their userdata

  private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace jaild::systemd

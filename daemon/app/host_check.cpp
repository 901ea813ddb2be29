#include "app/host_check.hpp"

#include <unistd.h>

#include <cstdio>
#include <iostream>

#include <spdlog/spdlog.h>

#include "hostcheck/checks.hpp"

namespace jaild::app {

int check_host(const hostcheck::ProbeOptions& options, bool json) {
    hostcheck::SystemProbe probe;
    HostReport report = hostcheck::run_checks(probe.gather(options));
    if (json)
        std::cout << nlohmann::json(report).dump(2) << "\n";
    else
        std::cout << format_report(report, ::isatty(STDOUT_FILENO) != 0);
    std::cout.flush();
    return report.passed() ? 0 : 1;
}

void log_host_report(const HostReport& report, std::chrono::microseconds took) {
    for (const auto& c : report.checks) {
        if (c.level == CheckLevel::ok) continue;
        const auto level = c.level == CheckLevel::fail ? spdlog::level::err : spdlog::level::warn;
        spdlog::log(level, "host check {} {}: {}; fix: {}", c.id,
                    c.level == CheckLevel::fail ? "failed" : "warns", c.found, c.fix);
    }
    spdlog::info("host checks ({:.1f} ms, off the event loop): {} ok, {} warning(s), {} failed{}",
                 static_cast<double>(took.count()) / 1000.0, report.count(CheckLevel::ok),
                 report.count(CheckLevel::warn), report.count(CheckLevel::fail),
                 report.passed() ? "" : " (details above; jailctl doctor shows them again)");
}

}  // namespace jaild::app

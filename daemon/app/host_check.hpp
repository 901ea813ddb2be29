// The host checks as the jaild program uses them: `jaild --check-host` (print and exit) and
// the run at start (log what is not ok). The checks themselves are in hostcheck/.
#pragma once

#include <chrono>

#include "hostcheck/host_probe.hpp"
#include "jaild/host_report.hpp"

namespace jaild::app {

// Runs the checks now, prints the report (text, or JSON with `json`) on stdout; returns 0 when
// no check failed, 1 otherwise.
int check_host(const hostcheck::ProbeOptions& options, bool json);

// One log line per check that is not ok (warnings as warnings, failures as errors), each with
// its fix, then a summary line at info saying how long the checks took.
void log_host_report(const HostReport& report, std::chrono::microseconds took);

}  // namespace jaild::app

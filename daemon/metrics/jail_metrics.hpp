// The per-jail and per-published-port families of the exposition, from plain figures the
// supervisor and the firewall report. Pure. Names follow Prometheus' conventions: prefix
// jaild_, base units (seconds, bytes), _total on counters; labels jail (and port, state).
// Counters restart from 0 when jaild does (and the port counters when the firewall table
// is replaced by a reload); Prometheus' rate() and increase() take such resets in stride.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "jaild/jail_status.hpp"
#include "metrics/exposition.hpp"

namespace jaild::metrics {

struct JailFigures {
    JailStatus status;
    // How the last run ended: its exit code, or the signal that killed it.
    std::optional<int> last_exit_code;
    std::optional<int> last_exit_signal;
    std::uint64_t health_checks = 0;          // completed checks, since jaild started
    std::uint64_t health_check_failures = 0;  // of those, failed ones
    std::optional<double> last_health_check_seconds;
    // The limits its cgroup enforces now (systemd scope); nullopt: none, or not enforced.
    std::optional<std::uint64_t> memory_max_bytes;
    std::optional<std::uint64_t> tasks_max;
};

// Forwarded through the DNAT of one published port (nftables counters in `inet jaild`).
struct PortFigures {
    std::string jail;
    int port = 0;
    std::uint64_t packets = 0;      // both directions, of connections DNAT'd to the jail
    std::uint64_t bytes = 0;        // same
    std::uint64_t connections = 0;  // new connections DNAT'd
};

// Every state a jail can be in, for jaild_jail_state (one sample per state, 1 for the
// current one).
const std::vector<std::string>& jail_states();

void write_jail_metrics(ExpositionWriter& w, const std::vector<JailFigures>& jails);
void write_port_metrics(ExpositionWriter& w, const std::vector<PortFigures>& ports);

}  // namespace jaild::metrics

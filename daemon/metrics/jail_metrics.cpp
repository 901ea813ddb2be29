#include "metrics/jail_metrics.hpp"

#include <charconv>

namespace jaild::metrics {

namespace {

double number(bool b) {
    return b ? 1 : 0;
}

// One family with one sample per jail, `value` giving it (or nullopt: no sample).
template <class F>
void per_jail(ExpositionWriter& w, const std::vector<JailFigures>& jails, const char* name,
              Type type, const char* help, F value) {
    w.family(name, type, help);
    for (const auto& j : jails) {
        std::optional<double> v = value(j);
        if (v) w.sample({{"jail", j.status.name}}, *v);
    }
}

std::optional<double> as_double(std::optional<std::uint64_t> v) {
    if (!v) return std::nullopt;
    return static_cast<double>(*v);
}

// From the jail's cgroup (its systemd scope): only where measured, i.e. while it runs in one.
void write_cgroup_metrics(ExpositionWriter& w, const std::vector<JailFigures>& jails) {
    per_jail(w, jails, "jaild_jail_memory_bytes", Type::gauge,
             "Memory the jail's cgroup uses (memory.current).",
             [](const JailFigures& j) { return as_double(j.status.memory_bytes); });
    per_jail(w, jails, "jaild_jail_cpu_seconds_total", Type::counter,
             "CPU time the jail's current run used (its cgroup's cpu.stat usage_usec).",
             [](const JailFigures& j) -> std::optional<double> {
                 if (!j.status.cpu_usec) return std::nullopt;
                 return static_cast<double>(*j.status.cpu_usec) / 1e6;
             });
    per_jail(w, jails, "jaild_jail_tasks", Type::gauge,
             "Processes and threads in the jail's cgroup (pids.current).",
             [](const JailFigures& j) { return as_double(j.status.tasks); });
    per_jail(w, jails, "jaild_jail_oom_kills_total", Type::counter,
             "Processes of the jail the kernel's OOM killer killed, since jaild started.",
             [](const JailFigures& j) -> std::optional<double> {
                 if (!j.status.memory_bytes && j.status.oom_kills == 0) return std::nullopt;
                 return static_cast<double>(j.status.oom_kills);
             });
    per_jail(w, jails, "jaild_jail_memory_max_bytes", Type::gauge,
             "The jail's memory limit (limits.memory_max), where its cgroup enforces one.",
             [](const JailFigures& j) { return as_double(j.memory_max_bytes); });
    per_jail(w, jails, "jaild_jail_tasks_max", Type::gauge,
             "The jail's task limit (limits.tasks_max), where its cgroup enforces one.",
             [](const JailFigures& j) { return as_double(j.tasks_max); });
}

}  // namespace

const std::vector<std::string>& jail_states() {
    static const std::vector<std::string> kStates{"stopped", "unprovisioned", "waiting", "starting",
                                                  "running", "stopping",      "backoff", "failed"};
    return kStates;
}

void write_jail_metrics(ExpositionWriter& w, const std::vector<JailFigures>& jails) {
    using O = std::optional<double>;
    w.family("jaild_jail_info", Type::gauge, "Always 1: a configured jail and its address.");
    for (const auto& j : jails)
        w.sample({{"jail", j.status.name}, {"address", j.status.address}}, 1);
    w.family("jaild_jail_state", Type::gauge, "1 for the state the jail is in, 0 for the others.");
    for (const auto& j : jails)
        for (const auto& state : jail_states())
            w.sample({{"jail", j.status.name}, {"state", state}}, number(j.status.state == state));
    per_jail(w, jails, "jaild_jail_up", Type::gauge, "1 while the jail is running.",
             [](const JailFigures& j) { return O(number(j.status.state == "running")); });
    per_jail(w, jails, "jaild_jail_healthy", Type::gauge,
             "1 while the jail's health check passes (or it has none and runs), else 0.",
             [](const JailFigures& j) {
                 const auto& h = j.status.health;
                 return O(number(j.status.state == "running" && (h == "healthy" || h == "none")));
             });
    per_jail(w, jails, "jaild_jail_held_down", Type::gauge,
             "1 while an admin keeps the jail stopped (stop/shutdown).",
             [](const JailFigures& j) { return O(number(j.status.held_down)); });
    per_jail(w, jails, "jaild_jail_uptime_seconds", Type::gauge,
             "How long the current run has lasted; 0 when not running.", [](const JailFigures& j) {
                 return O(j.status.uptime_ms ? static_cast<double>(*j.status.uptime_ms) / 1000 : 0);
             });
    per_jail(w, jails, "jaild_jail_restarts_total", Type::counter,
             "Restarts after the jail ended by itself (crash, exit, unhealthy).",
             [](const JailFigures& j) { return O(j.status.restarts); });
    per_jail(w, jails, "jaild_jail_admin_restarts_total", Type::counter,
             "Restarts an admin asked for (restart, a reload that changed the jail).",
             [](const JailFigures& j) { return O(j.status.admin_restarts); });
    per_jail(w, jails, "jaild_jail_last_exit_code", Type::gauge,
             "Exit code of the last run, if it exited (absent if killed by a signal).",
             [](const JailFigures& j) {
                 return j.last_exit_code ? O(*j.last_exit_code) : std::nullopt;
             });
    per_jail(w, jails, "jaild_jail_last_exit_signal", Type::gauge,
             "Signal that killed the last run, if one did.", [](const JailFigures& j) {
                 return j.last_exit_signal ? O(*j.last_exit_signal) : std::nullopt;
             });
    per_jail(w, jails, "jaild_jail_backoff_seconds", Type::gauge,
             "Time left before the next start attempt (backoff or crash-loop cool-down); 0 "
             "otherwise.",
             [](const JailFigures& j) {
                 return O(j.status.next_retry_ms
                              ? static_cast<double>(*j.status.next_retry_ms) / 1000
                              : 0);
             });
    per_jail(w, jails, "jaild_jail_health_checks_total", Type::counter, "Health checks completed.",
             [](const JailFigures& j) { return O(static_cast<double>(j.health_checks)); });
    per_jail(w, jails, "jaild_jail_health_check_failures_total", Type::counter,
             "Health checks that failed.",
             [](const JailFigures& j) { return O(static_cast<double>(j.health_check_failures)); });
    per_jail(w, jails, "jaild_jail_health_check_duration_seconds", Type::gauge,
             "How long the last health check took.",
             [](const JailFigures& j) { return j.last_health_check_seconds; });
    per_jail(w, jails, "jaild_jail_dropped_output_lines_total", Type::counter,
             "Output lines of the jail dropped by jaild's per-jail output limit.",
             [](const JailFigures& j) { return O(static_cast<double>(j.status.dropped_lines)); });
    write_cgroup_metrics(w, jails);
}

void write_port_metrics(ExpositionWriter& w, const std::vector<PortFigures>& ports) {
    auto each = [&](const char* name, const char* help, auto value) {
        w.family(name, Type::counter, help);
        char buf[8];
        for (const auto& p : ports) {
            auto r = std::to_chars(buf, buf + sizeof buf, p.port);
            w.sample({{"jail", p.jail}, {"port", std::string_view(buf, r.ptr - buf)}},
                     static_cast<double>(value(p)));
        }
    };
    each("jaild_port_forwarded_packets_total",
         "Packets of connections to a published port, forwarded to and from its jail.",
         [](const PortFigures& p) { return p.packets; });
    each("jaild_port_forwarded_bytes_total",
         "Bytes (IP packets) of connections to a published port, forwarded to and from its jail.",
         [](const PortFigures& p) { return p.bytes; });
    each("jaild_port_connections_total", "New connections to a published port sent to its jail.",
         [](const PortFigures& p) { return p.connections; });
}

}  // namespace jaild::metrics

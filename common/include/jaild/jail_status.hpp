// What jaild reports about a jail, shared by the daemon (producer) and jailctl (consumer).
// Serialised as the `status` result; see docs/API.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace jaild {

// What confines a running jail's main process, read from /proc/PID/status (only in the
// status of one jail: `jailctl status JAIL`).
struct Confinement {
    std::vector<std::string> capabilities;  // effective set, by name ("net_bind_service")
    std::vector<std::string> bounding;      // bounding set: what any process in the jail can get
    bool no_new_privs = false;
    std::string seccomp;  // "filter", "strict" or "disabled"
    int seccomp_filters = 0;
};

// Package updates of a provisioned jail's root (jailctl upgrade; "updates" in jaild.json).
// Times are Unix seconds, so the status text stays the same between changes.
struct LastUpgrade {
    std::string result;   // "upgraded", "rolled back" or "failed"
    std::string message;  // why it was rolled back or failed ("" when upgraded)
    std::int64_t at = 0;
    bool operator==(const LastUpgrade&) const = default;
};
struct UpdatesStatus {
    int pending = 0;   // packages with a newer version in the jail's sources
    int security = 0;  // of them, from a -security suite
    std::int64_t checked_at = 0;
    std::optional<LastUpgrade> last_upgrade;
    bool operator==(const UpdatesStatus&) const = default;
};

struct JailStatus {
    std::string name;
    // stopped|unprovisioned|waiting|starting|running|stopping|backoff|failed
    std::string state;
    std::string health;           // none|starting|healthy|unhealthy
    bool held_down = false;       // stopped by an admin (stop/shutdown): no automatic restart
    std::optional<int> pid;       // the firejail process (host PID namespace)
    std::optional<int> main_pid;  // the service's main process (host PID namespace)
    std::string address;
    std::vector<int> ports;                 // published TCP ports
    std::optional<std::int64_t> uptime_ms;  // while running
    int restarts = 0;        // restarts after the jail ended by itself (crash, exit, unhealthy)
    int admin_restarts = 0;  // restarts an admin asked for (restart, a reload that changed it)
    std::optional<std::int64_t> next_retry_ms;  // in backoff/failed: time until next try
    std::string last_exit;                      // "exited with status 1", "killed by SIGKILL", ""
    std::string last_error;                     // the last failure of a start or a run, ""
    std::optional<std::int64_t> last_error_age_ms;  // how long ago last_error happened
    // postgresql jails: how long ago the last good backup was taken (`jailctl backup` or the
    // schedule); nullopt: none known.
    std::optional<std::int64_t> last_backup_age_ms;
    std::string fix;  // the command that moves the jail on ("jailctl provision www"), ""
    std::uint64_t dropped_lines = 0;  // output lines dropped by jaild's per-jail output limit
    // Usage from the jail's cgroup (its systemd scope); nullopt where it cannot be measured
    // (no systemd, or no such controller).
    std::optional<std::uint64_t> memory_bytes;  // memory.current
    std::optional<std::uint64_t> cpu_usec;      // cpu.stat usage_usec
    std::optional<std::uint64_t> tasks;         // pids.current
    std::uint64_t oom_kills = 0;  // the kernel's OOM kills in the jail since jaild started it
    // What of the jail's resource limits is not enforced, and why ("not enforced: no
    // systemd"); "" when all are (or none is set).
    std::string limits_note;
    std::optional<Confinement> confinement;  // status of one running jail only
    std::optional<UpdatesStatus> updates;    // provisioned jails, once checked or upgraded
};

void to_json(nlohmann::json& j, const JailStatus& s);
void from_json(const nlohmann::json& j, JailStatus& s);

// One line of a jail's output (or of jaild about the jail).
struct LogLine {
    std::string jail;
    std::string stream;        // "stdout", "stderr" or "jaild"
    std::int64_t time_us = 0;  // CLOCK_REALTIME, microseconds
    std::string text;          // without the newline; may hold any bytes
};

// Now, as LogLine::time_us and events' time_us count it.
inline std::int64_t realtime_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

void to_json(nlohmann::json& j, const LogLine& l);
void from_json(const nlohmann::json& j, LogLine& l);

// Makes `bytes` valid UTF-8 for JSON: invalid sequences become U+FFFD.
std::string sanitize_utf8(std::string_view bytes);

}  // namespace jaild

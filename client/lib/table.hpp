// Pure text formatting for jailctl: the status table, log lines, reload summaries.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "jaild/jail_status.hpp"

namespace jaild::client {

// NAME STATE PID ADDRESS PORTS UPTIME RESTARTS HEALTH, columns aligned, one line per jail
// (RESTARTS: after the jail ended by itself), then notes: the command that moves an
// unprovisioned jail on, and "NAME: why" while the jail's last error is current (see
// error_is_current). `detail` (the status of one jail) adds an error it recovered from, with
// its age, and both restart counters. With `color`, STATE and HEALTH get ANSI colours
// (padding is computed on the plain text, so columns stay aligned).
std::string format_status_table(const std::vector<JailStatus>& jails, bool color,
                                bool detail = false);

// Whether the jail's last error describes its present (failed, backing off, unhealthy, or
// ended by itself and down), not a failure a later run has recovered from.
bool error_is_current(const JailStatus& j);

// "1h2m", "5s", "-" when absent; rounded down to whole seconds.
std::string format_uptime(const std::optional<std::int64_t>& uptime_ms);
// 12582912 -> "12M", 1610612736 -> "1.5G" (1024-based); nullopt -> "-".
std::string format_bytes_short(const std::optional<std::uint64_t>& bytes);
// CPU time: "4.2s" under a minute, then "1h2m"; nullopt -> "-".
std::string format_cpu_time(const std::optional<std::uint64_t>& usec);

// "2026-11-28T17:51:39.123Z stderr text"
std::string format_log_line(const LogLine& line);

// Control::reload's result as readable lines: "added: a, b" per non-empty list,
// "no changes" when every list is empty; other values are printed as JSON.
std::string format_reload(const nlohmann::json& result);

// Column alignment for any table: every row padded to the widest cell per column
// (the last column is not padded). `colors` (same shape, may be empty) wraps cells.
std::string align_columns(const std::vector<std::vector<std::string>>& rows,
                          const std::vector<std::vector<std::string>>& colors = {});

}  // namespace jaild::client

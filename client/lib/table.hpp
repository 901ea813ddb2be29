// Pure text formatting for jailctl: the status table, log lines, reload summaries.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "jaild/jail_status.hpp"

namespace jaild::client {

// NAME STATE PID ADDRESS PORTS UPTIME RESTARTS HEALTH, columns aligned, one line per jail,
// then one "NAME: why" line per jail with a last_error. With `color`, STATE and HEALTH
// get ANSI colours (padding is computed on the plain text, so columns stay aligned).
std::string format_status_table(const std::vector<JailStatus>& jails, bool color);

// "1h2m", "5s", "-" when absent; rounded down to whole seconds.
std::string format_uptime(const std::optional<std::int64_t>& uptime_ms);

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

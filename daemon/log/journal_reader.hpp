// Reads a jail's entries back from the systemd journal, for `jailctl logs JAIL` when jaild logs
// to journald (see logging.hpp). Selects what `journalctl -u <jaild's unit> JAIL=<name>` shows:
// the jail's output (JAIL_STREAM=stdout|stderr) and jaild's messages about the jail
// (stream "jaild"), oldest first.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "jaild/jail_status.hpp"
#include "jaild/result.hpp"

namespace jaild::log {

// The last n entries with JAIL=<jail> written by this jaild's systemd unit (or, outside a unit,
// with SYSLOG_IDENTIFIER=jaild). Opens the local system journal for each call; an error names
// the sd_journal_* call that failed.
Result<std::vector<LogLine>> read_journal_lines(const std::string& jail, std::size_t n);

}  // namespace jaild::log

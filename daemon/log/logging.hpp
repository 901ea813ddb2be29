// Logging front end (spdlog). jaild's own messages go through the default logger "jaild";
// messages about one jail through jail_logger(name), whose name the journal sink turns
// into the field JAIL=<name>. Under journald every entry is a native journal entry with
// PRIORITY, SYSLOG_IDENTIFIER (jaild, or jail/<name> for a jail's output) and JAIL=;
// otherwise lines go to stderr, with control characters escaped (jaild::printable) and a
// jail's output under "[<name>:<stream>]".
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/spdlog.h>

namespace jaild::log {

enum class LogTarget { console, journal };

// journal when stderr is connected to the journal (JOURNAL_STREAM names stderr's device
// and inode, as systemd sets it), console otherwise.
LogTarget detect_log_target();

void init_logging(spdlog::level::level_enum level, LogTarget target);

// The fields of the journal entry of one message of logger `logger_name`: "jaild" ->
// SYSLOG_IDENTIFIER=jaild; "www" (jaild's messages about jail www) -> SYSLOG_IDENTIFIER=jaild
// JAIL=www; "www:stdout" (the jail's own output) -> SYSLOG_IDENTIFIER=jail/www JAIL=www
// JAIL_STREAM=stdout, so that nothing a jail prints passes for jaild's messages. Pure.
std::vector<std::string> journal_fields(std::string_view logger_name, int priority,
                                        std::string_view message);
// "jail/www": the SYSLOG_IDENTIFIER of jail www's output (journalctl -t jail/www).
std::string jail_identifier(std::string_view jail);

// The logger for messages about one jail (created on first use, sharing the sinks).
std::shared_ptr<spdlog::logger> jail_logger(const std::string& jail);

// One line a jail printed: journal priority info for stdout, warning for stderr, with
// JAIL=<name> and JAIL_STREAM=<stream>.
void log_jail_output(const std::string& jail, std::string_view stream, std::string_view line);

// Many lines of one jail stream in a row (one read of its pipe), logged like
// log_jail_output and written out together when the batch ends.
class OutputBatch {
  public:
    OutputBatch(const std::string& jail, std::string_view stream);
    ~OutputBatch();
    OutputBatch(const OutputBatch&) = delete;
    OutputBatch& operator=(const OutputBatch&) = delete;
    void add(std::string_view line);

  private:
    std::shared_ptr<spdlog::logger> logger_;
    spdlog::level::level_enum level_;
};

}  // namespace jaild::log

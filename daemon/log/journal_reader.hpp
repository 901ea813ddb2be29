// Reads a jail's entries back from the systemd journal, for `jailctl logs JAIL` when jaild logs
// to journald (see logging.hpp). Selects what `journalctl -u <jaild's unit> JAIL=<name>` shows:
// the jail's output (JAIL_STREAM=stdout|stderr) and jaild's messages about the jail
// (stream "jaild"), oldest first.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "jaild/jail_status.hpp"
#include "jaild/result.hpp"

namespace jaild::log {

// The last n entries with JAIL=<jail> written by this jaild's systemd unit (or, outside a unit,
// with SYSLOG_IDENTIFIER=jaild). Opens the local system journal for each call; an error names
// the sd_journal_* call that failed.
Result<std::vector<LogLine>> read_journal_lines(const std::string& jail, std::size_t n);

// Runs read_journal_lines on a thread of its own, so a scan of the journal (milliseconds to
// seconds, on a large or cold journal) never runs on the event loop. Reads queue up to
// `max_queued`; beyond, a read fails at once ("busy"), which bounds the memory a flood of
// `logs` requests can pin.
class JournalReader {
  public:
    using Lines = Result<std::vector<LogLine>>;
    using Done = std::function<void(Lines)>;
    // How a finished read gets back to the loop (e.g. boost::asio::post on jaild's io_context).
    using Post = std::function<void(std::function<void()>)>;
    // The read function is injectable for tests; the default reads the system journal.
    using ReadFn = std::function<Lines(const std::string& jail, std::size_t n)>;

    explicit JournalReader(Post post, std::size_t max_queued = 32,
                           ReadFn read = read_journal_lines);
    // Finishes the read in progress (bounded), drops the queued ones, joins the thread; no
    // callback runs after this.
    ~JournalReader();
    JournalReader(const JournalReader&) = delete;
    JournalReader& operator=(const JournalReader&) = delete;

    // `done` runs through `post`, once, with the lines or an error.
    void read(std::string jail, std::size_t n, Done done);

  private:
    struct State;
    std::shared_ptr<State> state_;
};

}  // namespace jaild::log

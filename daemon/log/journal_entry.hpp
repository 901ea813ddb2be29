// What the journal reader and the journal follower share: opening the journal on one
// jail's entries of this jaild (the matches of `journalctl -u <jaild's unit> JAIL=<name>`)
// and turning the current entry into a LogLine, so that `jailctl logs` and `jailctl logs -f`
// give the same lines the same way.
#pragma once

#include <memory>
#include <string>

#include "jaild/jail_status.hpp"
#include "jaild/result.hpp"

struct sd_journal;

namespace jaild::log {

struct JournalCloser {
    void operator()(sd_journal* j) const;
};
using JournalPtr = std::unique_ptr<sd_journal, JournalCloser>;

// "<call> failed: <strerror(-r)>; check that systemd-journald runs ...".
Error journal_error(const std::string& call, int r);

// The local system journal with jail's matches added; an error names the sd_journal_* call.
Result<JournalPtr> open_jail_journal(const std::string& jail);

// The current entry: stream from JAIL_STREAM (or "jaild" for jaild's own messages), text from
// MESSAGE, time from the entry's realtime stamp.
LogLine entry_line(sd_journal* j, const std::string& jail);

}  // namespace jaild::log

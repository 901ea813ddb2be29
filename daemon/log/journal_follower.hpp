// JournalFollower: `jailctl logs -f JAIL` when jaild logs to journald. Follows the jail's
// entries in the journal (the same matches and the same lines as read_journal_lines, see
// journal_entry.hpp) from a point in time on, so what a user follows is what `jailctl logs`
// and `journalctl -u jaild JAIL=<name>` show: the jail's output and jaild's messages about it.
//
// The journal is read on a thread of the follower's own, never on the event loop. Lines reach
// the loop in batches of at most kBatch through `post`, one batch at a time: the thread reads
// the next batch only after the loop took the previous one, so a follower holds at most two
// batches, whatever the journal's rate. Destroying the follower (the client disconnected)
// stops and joins the thread (it wakes at once: it waits on an eventfd beside the journal)
// and frees everything; no callback runs after that.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "jaild/jail_status.hpp"
#include "jaild/result.hpp"

namespace jaild::log {

// Where the follower reads: the system journal, or a fake in tests. Used on the follower's
// thread only.
class JournalSource {
  public:
    virtual ~JournalSource() = default;
    // Positions on the jail's first entry at or after since_us (realtime, microseconds).
    virtual Result<void> open(const std::string& jail, std::int64_t since_us) = 0;
    // Up to `max` entries after the last one returned.
    virtual Result<std::vector<LogLine>> read(std::size_t max) = 0;
    // Blocks until new entries may have come, `stop_fd` is readable, or `at_most` passed.
    virtual Result<void> wait(int stop_fd, std::chrono::milliseconds at_most) = 0;
};

std::unique_ptr<JournalSource> system_journal_source();

class JournalFollower {
  public:
    static constexpr std::size_t kBatch = 256;
    using Post = std::function<void(std::function<void()>)>;
    using Sink = std::function<void(const LogLine&)>;

    // Starts following jail's entries from since_us on. `sink` runs on the loop (through
    // `post`) for each line. If the journal cannot be read, the sink gets one last line of
    // stream "jaild" saying why, and nothing after it.
    JournalFollower(Post post, std::string jail, std::int64_t since_us, Sink sink,
                    std::unique_ptr<JournalSource> source = system_journal_source());
    // Stops the follow at once, on the loop: the thread is told to stop and left to end.
    ~JournalFollower();
    // Follower threads alive, those of destroyed followers still ending included: what a cap
    // on followers counts.
    static std::size_t threads();
    JournalFollower(const JournalFollower&) = delete;
    JournalFollower& operator=(const JournalFollower&) = delete;

  private:
    struct State;
    std::shared_ptr<State> state_;
};

}  // namespace jaild::log

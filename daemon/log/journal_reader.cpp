#include "log/journal_reader.hpp"
#include "log/journal_entry.hpp"
#include "log/logging.hpp"

#include <systemd/sd-journal.h>
#include <systemd/sd-login.h>

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace jaild::log {

void JournalCloser::operator()(sd_journal* j) const {
    sd_journal_close(j);
}

Error journal_error(const std::string& call, int r) {
    return make_error(call + " failed: " + std::strerror(-r) +
                      "; check that systemd-journald runs and /var/log/journal or "
                      "/run/log/journal is readable by root");
}

namespace {

// FIELD=value of the current entry, without "FIELD=".
std::optional<std::string> field(sd_journal* j, const char* name) {
    const void* data = nullptr;
    size_t length = 0;
    if (sd_journal_get_data(j, name, &data, &length) < 0) return std::nullopt;
    std::string_view entry(static_cast<const char*>(data), length);
    auto eq = entry.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    return std::string(entry.substr(eq + 1));
}

// `journalctl -u UNIT` matches _SYSTEMD_UNIT=UNIT; outside a unit, jaild's identifier.
std::string origin_match() {
    char* unit = nullptr;
    if (sd_pid_get_unit(0, &unit) >= 0 && unit) {
        std::string match = std::string("_SYSTEMD_UNIT=") + unit;
        std::free(unit);
        return match;
    }
    return "SYSLOG_IDENTIFIER=jaild";
}

}  // namespace

Result<JournalPtr> open_jail_journal(const std::string& jail) {
    sd_journal* raw = nullptr;
    if (int r = sd_journal_open(&raw, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM); r < 0) {
        return journal_error("sd_journal_open", r);
    }
    JournalPtr journal(raw);
    std::string jail_match = "JAIL=" + jail;
    std::string origin = origin_match();
    std::vector<std::string> matches{jail_match, origin};
    // Outside a unit the jail's output has its own identifier (two matches of one field: OR).
    if (origin.rfind("SYSLOG_IDENTIFIER=", 0) == 0)
        matches.push_back("SYSLOG_IDENTIFIER=" + jail_identifier(jail));
    for (const auto& m : matches) {
        if (int r = sd_journal_add_match(raw, m.data(), m.size()); r < 0) {
            return journal_error("sd_journal_add_match(" + m + ")", r);
        }
    }
    return journal;
}

LogLine entry_line(sd_journal* j, const std::string& jail) {
    LogLine line;
    line.jail = jail;
    line.stream = field(j, "JAIL_STREAM").value_or("jaild");
    line.text = field(j, "MESSAGE").value_or("");
    uint64_t usec = 0;
    if (sd_journal_get_realtime_usec(j, &usec) >= 0) line.time_us = static_cast<std::int64_t>(usec);
    return line;
}

Result<std::vector<LogLine>> read_journal_lines(const std::string& jail, std::size_t n) {
    auto journal = open_jail_journal(jail);
    if (!journal) return journal.error();
    sd_journal* raw = journal->get();
    if (int r = sd_journal_seek_tail(raw); r < 0) return journal_error("sd_journal_seek_tail", r);

    std::vector<LogLine> lines;
    while (lines.size() < n) {
        int r = sd_journal_previous(raw);
        if (r < 0) return journal_error("sd_journal_previous", r);
        if (r == 0) break;
        lines.push_back(entry_line(raw, jail));
    }
    std::reverse(lines.begin(), lines.end());
    return lines;
}

struct JournalReader::State {
    struct Job {
        std::string jail;
        std::size_t n = 0;
        Done done;
    };
    Post post;
    std::size_t max_queued = 0;
    ReadFn read;
    std::mutex mutex;
    std::condition_variable wake;
    std::deque<Job> queue;
    bool stopping = false;
    std::thread thread;

    void run() {
        for (;;) {
            Job job;
            {
                std::unique_lock lock(mutex);
                wake.wait(lock, [&] { return stopping || !queue.empty(); });
                if (stopping) return;
                job = std::move(queue.front());
                queue.pop_front();
            }
            auto lines = read(job.jail, job.n);
            std::lock_guard lock(mutex);
            if (stopping) return;
            post([done = std::move(job.done), lines = std::move(lines)]() mutable {
                done(std::move(lines));
            });
        }
    }
};

JournalReader::JournalReader(Post post, std::size_t max_queued, ReadFn read)
    : state_(std::make_shared<State>()) {
    state_->post = std::move(post);
    state_->max_queued = max_queued;
    state_->read = std::move(read);
    state_->thread = std::thread([state = state_.get()] { state->run(); });
}

JournalReader::~JournalReader() {
    {
        std::lock_guard lock(state_->mutex);
        state_->stopping = true;
        state_->queue.clear();
    }
    state_->wake.notify_one();
    state_->thread.join();
}

void JournalReader::read(std::string jail, std::size_t n, Done done) {
    std::unique_lock lock(state_->mutex);
    if (state_->queue.size() >= state_->max_queued) {
        lock.unlock();
        state_->post([done = std::move(done), max = state_->max_queued] {
            done(make_error(Errc::busy, "jaild is busy reading the journal (" +
                                            std::to_string(max) +
                                            " reads waiting); retry in a moment"));
        });
        return;
    }
    state_->queue.push_back(State::Job{std::move(jail), n, std::move(done)});
    state_->wake.notify_one();
}

}  // namespace jaild::log

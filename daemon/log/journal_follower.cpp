#include "log/journal_follower.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include "jaild/unique_fd.hpp"
#include "log/journal_entry.hpp"

namespace jaild::log {

namespace {

class SystemJournalSource final : public JournalSource {
  public:
    Result<void> open(const std::string& jail, std::int64_t since_us) override {
        auto journal = open_jail_journal(jail);
        if (!journal) return journal.error();
        journal_ = std::move(*journal);
        jail_ = jail;
        // Sets up the inotify watch, so that files journald creates later are seen too.
        if (int r = sd_journal_get_fd(journal_.get()); r < 0)
            return journal_error("sd_journal_get_fd", r);
        auto since = static_cast<std::uint64_t>(std::max<std::int64_t>(since_us, 0));
        if (int r = sd_journal_seek_realtime_usec(journal_.get(), since); r < 0)
            return journal_error("sd_journal_seek_realtime_usec", r);
        return {};
    }

    Result<std::vector<LogLine>> read(std::size_t max) override {
        std::vector<LogLine> lines;
        while (lines.size() < max) {
            int r = sd_journal_next(journal_.get());
            if (r < 0) return journal_error("sd_journal_next", r);
            if (r == 0) break;
            lines.push_back(entry_line(journal_.get(), jail_));
        }
        return lines;
    }

    Result<void> wait(int stop_fd, std::chrono::milliseconds at_most) override {
        int fd = sd_journal_get_fd(journal_.get());
        if (fd < 0) return journal_error("sd_journal_get_fd", fd);
        int events = sd_journal_get_events(journal_.get());
        if (events < 0) return journal_error("sd_journal_get_events", events);
        auto timeout_ms = at_most.count();
        std::uint64_t journal_timeout = 0;
        if (sd_journal_get_timeout(journal_.get(), &journal_timeout) >= 0 &&
            journal_timeout != UINT64_MAX) {
            // An absolute CLOCK_MONOTONIC time in microseconds.
            timespec now{};
            clock_gettime(CLOCK_MONOTONIC, &now);
            auto now_us = static_cast<std::uint64_t>(now.tv_sec) * 1'000'000 +
                          static_cast<std::uint64_t>(now.tv_nsec) / 1000;
            auto left_ms = journal_timeout > now_us ? (journal_timeout - now_us + 999) / 1000 : 0;
            timeout_ms = std::min<long long>(timeout_ms, static_cast<long long>(left_ms));
        }
        pollfd fds[2] = {{fd, static_cast<short>(events), 0}, {stop_fd, POLLIN, 0}};
        if (::poll(fds, 2, static_cast<int>(timeout_ms)) < 0 && errno != EINTR) {
            int saved = errno;
            return make_error(std::string("poll on the journal's descriptor failed: ") +
                              std::strerror(saved));
        }
        if (int r = sd_journal_process(journal_.get()); r < 0)
            return journal_error("sd_journal_process", r);
        return {};
    }

  private:
    JournalPtr journal_;
    std::string jail_;
};

}  // namespace

std::unique_ptr<JournalSource> system_journal_source() {
    return std::make_unique<SystemJournalSource>();
}

namespace {
std::atomic<std::size_t> live_threads{0};
}  // namespace

std::size_t JournalFollower::threads() {
    return live_threads.load();
}

struct JournalFollower::State {
    State() { ++live_threads; }
    ~State() { --live_threads; }
    Post post;
    std::string jail;
    std::int64_t since_us = 0;
    Sink sink;  // used on the loop only; cleared when the follower goes
    std::unique_ptr<JournalSource> source;
    UniqueFd stop_fd;
    std::mutex mutex;
    std::condition_variable taken;
    bool in_flight = false;  // a batch posted and not yet delivered
    bool stopping = false;
    std::thread thread;

    bool stopped() {
        std::lock_guard lock(mutex);
        return stopping;
    }

    // Hands a batch to the loop; waits (stoppably) until the previous one was delivered.
    bool deliver(std::vector<LogLine> lines, const std::shared_ptr<State>& self) {
        std::unique_lock lock(mutex);
        taken.wait(lock, [&] { return stopping || !in_flight; });
        if (stopping) return false;
        in_flight = true;
        std::weak_ptr<State> weak = self;
        post([weak, lines = std::move(lines)] {
            auto s = weak.lock();
            if (!s) return;
            // A copy: the sink may end the follow, and with it s->sink, while it runs.
            if (auto run = s->sink) {
                for (const auto& l : lines) {
                    if (!s->sink) break;
                    run(l);
                }
            }
            {
                std::lock_guard done(s->mutex);
                s->in_flight = false;
            }
            s->taken.notify_one();
        });
        return true;
    }

    void fail(const Error& e, const std::shared_ptr<State>& self) {
        LogLine line;
        line.jail = jail;
        line.stream = "jaild";
        line.time_us = realtime_us();
        line.text = "jaild stopped following the journal: " + e.message;
        deliver({std::move(line)}, self);
    }

    void run(const std::shared_ptr<State>& self) {
        if (auto opened = source->open(jail, since_us); !opened) return fail(opened.error(), self);
        while (!stopped()) {
            auto lines = source->read(kBatch);
            if (!lines) return fail(lines.error(), self);
            if (!lines->empty()) {
                if (!deliver(std::move(*lines), self)) return;
                continue;
            }
            if (auto waited = source->wait(stop_fd.get(), std::chrono::seconds(5)); !waited)
                return fail(waited.error(), self);
        }
    }
};

JournalFollower::JournalFollower(Post post, std::string jail, std::int64_t since_us, Sink sink,
                                 std::unique_ptr<JournalSource> source)
    : state_(std::make_shared<State>()) {
    state_->post = std::move(post);
    state_->jail = std::move(jail);
    state_->since_us = since_us;
    state_->sink = std::move(sink);
    state_->source = std::move(source);
    state_->stop_fd = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    // The thread holds the state while it runs; the follower detaches it when it goes.
    state_->thread = std::thread([state = state_] { state->run(state); });
}

JournalFollower::~JournalFollower() {
    state_->sink = nullptr;
    {
        std::lock_guard lock(state_->mutex);
        state_->stopping = true;
    }
    state_->taken.notify_one();
    if (state_->stop_fd) {
        std::uint64_t one = 1;
        [[maybe_unused]] auto n = ::write(state_->stop_fd.get(), &one, sizeof one);
    }
    // Not joined: the thread may be inside sd_journal_open (every journal file) or a read,
    // which the stop cannot interrupt, and this runs on the loop. It posts nothing after
    // `stopping` (deliver checks it under the mutex), holds all it uses (the state), and ends
    // at its next check; threads() counts it until then.
    state_->thread.detach();
}

}  // namespace jaild::log

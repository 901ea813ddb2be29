// JournalFollower (log/journal_follower.hpp) against a fake journal: lines reach the loop in
// order and in bounded batches, one batch at a time; destroying it stops its thread at once
// and nothing is delivered after; a journal that cannot be read ends the follow with a line
// saying why.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "log/journal_follower.hpp"

using namespace jaild;
using namespace jaild::log;
using namespace std::chrono_literals;

namespace {

// What the fake journal holds, shared between the test and the follower's thread.
struct FakeJournal {
    std::mutex mutex;
    std::deque<LogLine> entries;
    std::size_t reads = 0;  // entries handed out
    bool fail_open = false;
    int wake[2] = {-1, -1};
    FakeJournal() { REQUIRE(::pipe2(wake, O_CLOEXEC | O_NONBLOCK) == 0); }
    ~FakeJournal() {
        ::close(wake[0]);
        ::close(wake[1]);
    }
    void add(int n, const std::string& prefix = "line-") {
        {
            std::lock_guard lock(mutex);
            for (int i = 0; i < n; ++i)
                entries.push_back(LogLine{"www", "stdout", i, prefix + std::to_string(i)});
        }
        char c = 1;
        [[maybe_unused]] auto w = ::write(wake[1], &c, 1);
    }
    std::size_t handed_out() {
        std::lock_guard lock(mutex);
        return reads;
    }
};

class FakeSource final : public JournalSource {
  public:
    explicit FakeSource(std::shared_ptr<FakeJournal> j) : j_(std::move(j)) {}
    Result<void> open(const std::string&, std::int64_t) override {
        if (j_->fail_open) return make_error("sd_journal_open failed: Permission denied");
        return {};
    }
    Result<std::vector<LogLine>> read(std::size_t max) override {
        std::lock_guard lock(j_->mutex);
        std::vector<LogLine> out;
        while (out.size() < max && !j_->entries.empty()) {
            out.push_back(j_->entries.front());
            j_->entries.pop_front();
        }
        j_->reads += out.size();
        return out;
    }
    Result<void> wait(int stop_fd, std::chrono::milliseconds at_most) override {
        pollfd fds[2] = {{j_->wake[0], POLLIN, 0}, {stop_fd, POLLIN, 0}};
        ::poll(fds, 2, static_cast<int>(at_most.count()));
        char buf[64];
        while (::read(j_->wake[0], buf, sizeof buf) > 0) {
        }
        return {};
    }

  private:
    std::shared_ptr<FakeJournal> j_;
};

// The event loop, run by the test: posted closures wait here until run.
struct FakeLoop {
    std::mutex mutex;
    std::condition_variable posted_cv;
    std::deque<std::function<void()>> posted;
    JournalFollower::Post post() {
        return [this](std::function<void()> f) {
            {
                std::lock_guard lock(mutex);
                posted.push_back(std::move(f));
            }
            posted_cv.notify_all();
        };
    }
    // Waits (up to 5 s) for a closure and runs it; false if none came.
    bool run_one() {
        std::function<void()> f;
        {
            std::unique_lock lock(mutex);
            if (!posted_cv.wait_for(lock, 5s, [&] { return !posted.empty(); })) return false;
            f = std::move(posted.front());
            posted.pop_front();
        }
        f();
        return true;
    }
    std::size_t pending() {
        std::lock_guard lock(mutex);
        return posted.size();
    }
};

}  // namespace

TEST_CASE("journal follower: lines arrive in order, in batches, one batch at a time") {
    auto journal = std::make_shared<FakeJournal>();
    FakeLoop loop;
    std::vector<std::string> got;
    journal->add(1000);
    JournalFollower follower(
        loop.post(), "www", 0, [&](const LogLine& l) { got.push_back(l.text); },
        std::make_unique<FakeSource>(journal));
    REQUIRE(loop.run_one());
    CHECK(got.size() == JournalFollower::kBatch);
    // Not delivered yet: the thread holds at most the next batch, read but not posted.
    std::this_thread::sleep_for(200ms);
    CHECK(loop.pending() == 1);
    CHECK(journal->handed_out() <= 3 * JournalFollower::kBatch);
    while (got.size() < 1000) REQUIRE(loop.run_one());
    CHECK(got.size() == 1000);
    CHECK(got.front() == "line-0");
    CHECK(got.back() == "line-999");
    // New entries later are followed too.
    journal->add(3, "late-");
    REQUIRE(loop.run_one());
    CHECK(got.back() == "late-2");
}

TEST_CASE("journal follower: destroyed while waiting or while a batch waits, it stops at once") {
    auto journal = std::make_shared<FakeJournal>();
    FakeLoop loop;
    std::atomic<int> delivered{0};
    SECTION("waiting for entries") {
        auto follower = std::make_unique<JournalFollower>(
            loop.post(), "www", 0, [&](const LogLine&) { ++delivered; },
            std::make_unique<FakeSource>(journal));
        std::this_thread::sleep_for(50ms);
        follower.reset();  // returns at once: the thread is told to stop, not joined
    }
    SECTION("a batch posted, the next one read") {
        journal->add(2000);
        auto follower = std::make_unique<JournalFollower>(
            loop.post(), "www", 0, [&](const LogLine&) { ++delivered; },
            std::make_unique<FakeSource>(journal));
        std::this_thread::sleep_for(100ms);
        follower.reset();
        // What was posted before runs as a no-op: nothing reaches the sink after destruction.
        while (loop.pending() > 0) loop.run_one();
        CHECK(delivered == 0);
    }
}

TEST_CASE("journal follower: a sink that ends the follow while it runs stops the delivery") {
    auto journal = std::make_shared<FakeJournal>();
    FakeLoop loop;
    journal->add(10);
    std::unique_ptr<JournalFollower> follower;
    int delivered = 0;
    follower = std::make_unique<JournalFollower>(
        loop.post(), "www", 0,
        [&](const LogLine&) {
            ++delivered;
            follower.reset();  // e.g. the client's connection closed
        },
        std::make_unique<FakeSource>(journal));
    REQUIRE(loop.run_one());
    CHECK(delivered == 1);
    CHECK_FALSE(follower);
}

TEST_CASE("journal follower: a journal that cannot be opened ends the follow with the reason") {
    auto journal = std::make_shared<FakeJournal>();
    journal->fail_open = true;
    FakeLoop loop;
    std::vector<LogLine> got;
    JournalFollower follower(
        loop.post(), "www", 0, [&](const LogLine& l) { got.push_back(l); },
        std::make_unique<FakeSource>(journal));
    REQUIRE(loop.run_one());
    REQUIRE(got.size() == 1);
    CHECK(got[0].stream == "jaild");
    CHECK(got[0].text ==
          "jaild stopped following the journal: sd_journal_open failed: Permission denied");
}

namespace {

// A journal whose open takes as long as the test says (a huge journal on a cold disk).
class SlowOpenSource final : public JournalSource {
  public:
    explicit SlowOpenSource(std::shared_ptr<std::atomic<bool>> release) : release_(release) {}
    Result<void> open(const std::string&, std::int64_t) override {
        while (!*release_) std::this_thread::sleep_for(1ms);
        return {};
    }
    Result<std::vector<LogLine>> read(std::size_t) override { return std::vector<LogLine>{}; }
    Result<void> wait(int, std::chrono::milliseconds) override { return {}; }

  private:
    std::shared_ptr<std::atomic<bool>> release_;
};

}  // namespace

// The attack (a group member connecting with logs -f and leaving at once, again and again):
// the follower goes without waiting for its thread, which is still counted (for the cap on
// followers) until it has ended by itself.
TEST_CASE("journal follower: destroyed while its journal opens, it does not wait for the open") {
    FakeLoop loop;
    auto release = std::make_shared<std::atomic<bool>>(false);
    const auto before = JournalFollower::threads();
    auto follower = std::make_unique<JournalFollower>(
        loop.post(), "www", 0, [](const LogLine&) {}, std::make_unique<SlowOpenSource>(release));
    CHECK(JournalFollower::threads() == before + 1);
    follower.reset();  // the open is still blocked: a join here would never return
    CHECK(JournalFollower::threads() == before + 1);
    *release = true;
    for (int i = 0; i < 5000 && JournalFollower::threads() != before; ++i)
        std::this_thread::sleep_for(1ms);
    CHECK(JournalFollower::threads() == before);
    CHECK(loop.pending() == 0);  // nothing posted after it went
}

// `logs` through Control::logs_async: answered when the history arrives (the journal is read
// off the loop), follow lines that arrive meanwhile are not lost nor doubled; and the
// JournalReader that does the reading never blocks its caller and bounds its queue.
#include <chrono>
#include <mutex>
#include <thread>

#include <catch2/catch.hpp>

#include "api/dispatcher.hpp"
#include "api/fake_control.hpp"
#include "log/journal_reader.hpp"

using namespace jaild;
using namespace jaild::api;
using jaild::protocol::json;
using namespace std::chrono_literals;

namespace {

struct Recorder : Outbox {
    std::vector<json> responses, streamed;
    std::vector<Subscription> kept;
    void respond(std::string line, UniqueFd) override { responses.push_back(json::parse(line)); }
    void notify(std::string) override {}
    void stream(std::string line) override { streamed.push_back(json::parse(line)); }
    void keep(Subscription s) override { kept.push_back(std::move(s)); }
};

// Holds each logs_async request until the test completes it.
struct DeferredControl : test::FakeControl {
    std::vector<std::function<void(Result<std::vector<LogLine>>)>> waiting;
    void logs_async(const std::string& jail, std::size_t n,
                    std::function<void(Result<std::vector<LogLine>>)> done) override {
        calls.push_back("logs_async " + jail + " " + std::to_string(n));
        waiting.push_back(std::move(done));
    }
};

const Peer kRoot{0, 0, 1, {}};
const AuthPolicy kPolicy{"jaild", 990};

std::string request(const json& params) {
    auto line = protocol::encode_request({1, "logs", params});
    line.pop_back();
    return line;
}

}  // namespace

TEST_CASE("logs async: the answer comes when the history does") {
    DeferredControl control;
    Dispatcher d(control);
    auto out = std::make_shared<Recorder>();
    d.dispatch(request({{"jail", "www"}, {"lines", 5}}), {}, kRoot, kPolicy, out);
    CHECK(out->responses.empty());
    REQUIRE(control.waiting.size() == 1);
    control.waiting[0](std::vector<LogLine>{{"www", "stdout", 1, "a"}, {"www", "stdout", 2, "b"}});
    REQUIRE(out->responses.size() == 1);
    CHECK(out->responses[0]["result"]["lines"].size() == 2);
    // A client gone before the history arrives: nothing happens.
    d.dispatch(request({{"jail", "www"}}), {}, kRoot, kPolicy, out);
    out.reset();
    control.waiting[1](std::vector<LogLine>{});
    // An error is the response.
    auto out2 = std::make_shared<Recorder>();
    d.dispatch(request({{"jail", "www"}}), {}, kRoot, kPolicy, out2);
    control.waiting[2](make_error("journal unreadable"));
    REQUIRE(out2->responses.size() == 1);
    CHECK(out2->responses[0]["error"]["message"] == "journal unreadable");
}

TEST_CASE("logs async: follow lines arriving while the history is read come after it, once") {
    DeferredControl control;
    Dispatcher d(control);
    auto out = std::make_shared<Recorder>();
    d.dispatch(request({{"jail", "www"}, {"follow", true}}), {}, kRoot, kPolicy, out);
    REQUIRE(control.waiting.size() == 1);
    REQUIRE(control.log_followers() == 1);
    control.emit_log(LogLine{"www", "stdout", 5, "already in the history"});
    control.emit_log(LogLine{"www", "stdout", 10, "new"});
    CHECK(out->streamed.empty());  // nothing before the response
    control.waiting[0](std::vector<LogLine>{{"www", "stdout", 4, "old"},
                                            {"www", "stdout", 5, "already in the history"}});
    REQUIRE(out->responses.size() == 1);
    CHECK(out->responses[0]["result"]["lines"].size() == 2);
    REQUIRE(out->streamed.size() == 1);
    CHECK(out->streamed[0]["params"]["text"] == "new");
    REQUIRE(out->kept.size() == 1);
    control.emit_log(LogLine{"www", "stdout", 11, "later"});
    REQUIRE(out->streamed.size() == 2);
    out->kept.clear();
    CHECK(control.log_followers() == 0);
}

TEST_CASE("journal reader: reads on its own thread, bounded queue, answers through post") {
    std::mutex m;
    std::vector<std::function<void()>> posted;
    auto post = [&](std::function<void()> f) {
        std::lock_guard lock(m);
        posted.push_back(std::move(f));
    };
    auto slow_read = [](const std::string& jail, std::size_t n) -> log::JournalReader::Lines {
        std::this_thread::sleep_for(200ms);
        return std::vector<LogLine>(n, LogLine{jail, "stdout", 1, "x"});
    };
    std::vector<std::string> results;
    {
        log::JournalReader reader(post, 1, slow_read);
        auto t0 = std::chrono::steady_clock::now();
        auto record = [&](log::JournalReader::Lines r) {
            results.push_back(r ? std::to_string(r->size()) : r.error().message);
        };
        reader.read("www", 1, record);
        std::this_thread::sleep_for(50ms);                     // the thread has taken the first
        reader.read("www", 2, record);                         // queued
        reader.read("www", 3, record);                         // over the queue: busy at once
        CHECK(std::chrono::steady_clock::now() - t0 < 150ms);  // never waits for a read
        for (int i = 0; i < 100; ++i) {
            {
                std::lock_guard lock(m);
                if (posted.size() == 3) break;
            }
            std::this_thread::sleep_for(20ms);
        }
    }
    REQUIRE(posted.size() == 3);
    for (auto& f : posted) f();  // "the loop" runs them
    REQUIRE(results.size() == 3);
    CHECK(results[0].find("busy reading the journal") != std::string::npos);
    CHECK(results[1] == "1");
    CHECK(results[2] == "2");
}

TEST_CASE("journal reader: the real journal read answers through post, whatever the machine") {
    std::mutex m;
    std::vector<std::function<void()>> posted;
    {
        log::JournalReader reader([&](std::function<void()> f) {
            std::lock_guard lock(m);
            posted.push_back(std::move(f));
        });
        bool answered = false;
        reader.read("no-such-jail-here", 5, [&](log::JournalReader::Lines r) {
            answered = true;
            // No journal (a container): an error naming sd_journal_*; else no such entries.
            if (r)
                CHECK(r->empty());
            else
                CHECK(r.error().message.find("sd_journal") != std::string::npos);
        });
        for (int i = 0; i < 250; ++i) {
            {
                std::lock_guard lock(m);
                if (!posted.empty()) break;
            }
            std::this_thread::sleep_for(20ms);
        }
        std::lock_guard lock(m);
        REQUIRE(posted.size() == 1);
        posted[0]();
        CHECK(answered);
    }
}

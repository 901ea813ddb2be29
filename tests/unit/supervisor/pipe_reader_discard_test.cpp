// PipeReader's discard mode (log/pipe_reader.hpp), on a real pipe and io_context: while the
// consumer is full, lines are only counted; every line is either delivered or counted, once,
// also when a drain cuts a line in two.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <string>

#include <boost/asio/io_context.hpp>

#include "log/pipe_reader.hpp"

using namespace jaild;
using namespace std::chrono_literals;

namespace {

struct Pipe {
    UniqueFd read_end, write_end;
    Pipe() {
        int fds[2];
        REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
        read_end = UniqueFd(fds[0]);
        write_end = UniqueFd(fds[1]);
    }
    void write(const std::string& s) {
        REQUIRE(::write(write_end.get(), s.data(), s.size()) == static_cast<ssize_t>(s.size()));
    }
};

// Runs the loop until `done` or `at_most` passed.
template <class Pred>
void run_until(boost::asio::io_context& io, Pred done,
               std::chrono::milliseconds at_most = std::chrono::milliseconds(5000)) {
    auto deadline = std::chrono::steady_clock::now() + at_most;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
        io.run_for(10ms);
        io.restart();
    }
}

}  // namespace

TEST_CASE("pipe reader: while full, lines are counted, not delivered, after, delivered again") {
    boost::asio::io_context io;
    Pipe pipe;
    log::PipeReader reader(io, std::move(pipe.read_end));
    bool full = true;
    std::uint64_t discarded = 0;
    std::vector<std::string> delivered;
    reader.set_discard({[&] { return full; }, [&](std::uint64_t n) { discarded += n; }, 1ms});
    reader.start(
        [&](const log::PipeReader::Lines& lines) {
            delivered.insert(delivered.end(), lines.begin(), lines.end());
        },
        [] {});
    // The first read is a normal one (the reader asks after each read).
    pipe.write("first\n");
    run_until(io, [&] { return delivered.size() == 1; });
    REQUIRE(delivered == std::vector<std::string>{"first"});
    std::string many;
    for (int i = 0; i < 10000; ++i) many += "line-" + std::to_string(i) + "\n";
    pipe.write(many.substr(0, 60000));  // ends in the middle of a line
    run_until(io, [&] { return discarded > 0; });
    full = false;
    // A drain may be waiting already and take what comes next: write "after" until a normal
    // read delivers it.
    pipe.write(many.substr(60000, 2000));
    std::uint64_t afters = 0;
    for (int i = 0; i < 50 && (delivered.empty() || delivered.back() != "after"); ++i) {
        pipe.write("after\n");
        ++afters;
        run_until(
            io, [&] { return delivered.back() == "after"; }, 100ms);
    }
    REQUIRE(delivered.back() == "after");
    // Every line written is delivered or counted, once; a line cut by a drain is not
    // delivered in part.
    const auto written =
        1 + afters +
        static_cast<std::uint64_t>(std::count(many.begin(), many.begin() + 62000, '\n'));
    CHECK(delivered.size() + discarded == written);
    std::set<std::string> whole{"first", "after"};
    for (int i = 0; i < 10000; ++i) whole.insert("line-" + std::to_string(i));
    for (const auto& l : delivered) CHECK(whole.count(l) == 1);
    CHECK(discarded > 0);
}

TEST_CASE("pipe reader: the rest of a line a drain cut is discarded and counted once") {
    boost::asio::io_context io;
    Pipe pipe;
    log::PipeReader reader(io, std::move(pipe.read_end));
    int full_answers = 1;  // full after the first read only: exactly one drain
    std::uint64_t discarded = 0;
    std::vector<std::string> delivered;
    reader.set_discard(
        {[&] { return full_answers-- > 0; }, [&](std::uint64_t n) { discarded += n; }, 1ms});
    reader.start(
        [&](const log::PipeReader::Lines& lines) {
            delivered.insert(delivered.end(), lines.begin(), lines.end());
        },
        [] {});
    pipe.write("first\n");
    run_until(io, [&] { return delivered.size() == 1; });
    pipe.write("cut-in-the-mid");  // drained: no whole line yet
    run_until(
        io, [] { return false; }, 100ms);
    CHECK(discarded == 0);
    pipe.write("dle\nafter\n");  // a normal read again
    run_until(io, [&] { return delivered.size() == 2; });
    CHECK(delivered == std::vector<std::string>{"first", "after"});
    CHECK(discarded == 1);
}

// The attack: empty the bucket, let a drain cut a line, then never end that line. The skipping
// goes at the drain's pace (one read per pause), not as fast as the jail writes: of 60 KiB
// written, a loop run of ~100 ms with a 50 ms pause takes a few 2 KiB reads, never the lot.
TEST_CASE(
    "pipe reader: a line a drain cut and the jail never ends is skipped at the drain's pace") {
    boost::asio::io_context io;
    Pipe pipe;
    log::PipeReader reader(io, std::move(pipe.read_end));
    int full_answers = 1;
    std::uint64_t discarded = 0;
    std::vector<std::string> delivered;
    reader.set_discard(
        {[&] { return full_answers-- > 0; }, [&](std::uint64_t n) { discarded += n; }, 50ms});
    reader.start(
        [&](const log::PipeReader::Lines& lines) {
            delivered.insert(delivered.end(), lines.begin(), lines.end());
        },
        [] {});
    pipe.write("first\ncut-in-the-mid");
    run_until(io, [&] { return delivered.size() == 1; });
    pipe.write("-and-on");  // the drain (full after "first") takes it: the line is cut
    run_until(
        io, [] { return false; }, 120ms);
    const std::string endless(60 * 1024, 'x');
    pipe.write(endless);
    run_until(
        io, [] { return false; }, 100ms);
    int left = 0;
    REQUIRE(::ioctl(pipe.write_end.get(), FIONREAD, &left) == 0);
    INFO("bytes read of 60 KiB: " << endless.size() - static_cast<std::size_t>(left));
    CHECK(static_cast<std::size_t>(left) >= endless.size() - 32 * 1024);
    CHECK(delivered == std::vector<std::string>{"first"});
    CHECK(discarded == 0);
}

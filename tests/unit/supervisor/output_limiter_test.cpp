// The per-jail output limit (log/output_limiter.hpp), driven by the fake clock.
#include <catch2/catch.hpp>

#include <optional>

#include "fakes/fake_clock.hpp"
#include "log/output_limiter.hpp"

using namespace jaild;
using namespace jaild::log;
using namespace std::chrono_literals;

TEST_CASE("output limiter: a full bucket passes a burst, then drops and counts the rest") {
    testing::FakeTimeSource clock;
    OutputLimiter limiter(OutputLimit{100, 500});
    CHECK(limiter.admit(400, clock.now()) == 400);
    CHECK(limiter.admit(400, clock.now()) == 100);  // only the burst's rest
    CHECK(limiter.dropped_total() == 300);
    CHECK(limiter.exhausted(clock.now()));
    CHECK(limiter.admit(1, clock.now()) == 0);
    CHECK(limiter.dropped_total() == 301);
}

TEST_CASE("output limiter: refills at lines_per_second, never above burst") {
    testing::FakeTimeSource clock;
    OutputLimiter limiter(OutputLimit{100, 500});
    REQUIRE(limiter.admit(500, clock.now()) == 500);
    clock.advance(10ms);  // one line's worth
    CHECK(limiter.admit(5, clock.now()) == 1);
    clock.advance(1s);
    CHECK(limiter.admit(1000, clock.now()) == 100);
    clock.advance(std::chrono::hours(24 * 365));  // a long quiet spell: full, no overflow
    CHECK(limiter.admit(1000, clock.now()) == 500);
}

TEST_CASE("output limiter: fractions of a line add up across many small steps") {
    testing::FakeTimeSource clock;
    OutputLimiter limiter(OutputLimit{3, 5});
    REQUIRE(limiter.admit(5, clock.now()) == 5);
    std::size_t passed = 0;
    for (int i = 0; i < 1000; ++i) {  // 10 s in 10 ms steps: 30 lines, none lost to rounding
        clock.advance(10ms);
        passed += limiter.admit(1, clock.now());
    }
    CHECK(passed == 30);
    CHECK(limiter.dropped_total() == 970);
}

TEST_CASE("output limiter: a sustained flood passes lines_per_second on average") {
    testing::FakeTimeSource clock;
    OutputLimiter limiter(OutputLimit{1000, 10000});
    std::uint64_t passed = 0;
    for (int ms = 0; ms < 60'000; ++ms) {  // 60 s of 1000 lines every millisecond
        passed += limiter.admit(1000, clock.now());
        clock.advance(1ms);
    }
    CHECK(passed == 10000 + 59'999);  // the burst, then one line per millisecond
    CHECK(limiter.dropped_total() == 60'000'000 - passed);
}

TEST_CASE("output limiter: unreported drops are handed out once, the total stays") {
    testing::FakeTimeSource clock;
    OutputLimiter limiter(OutputLimit{1, 1});
    limiter.admit(11, clock.now());
    limiter.drop(5);  // counted in bulk by a discarding reader
    CHECK(limiter.take_unreported() == 15);
    CHECK(limiter.take_unreported() == 0);
    limiter.admit(2, clock.now());
    CHECK(limiter.take_unreported() == 2);
    CHECK(limiter.dropped_total() == 17);
}

TEST_CASE("output limiter: a new limit caps the tokens held to its burst") {
    testing::FakeTimeSource clock;
    OutputLimiter limiter(OutputLimit{1000, 10000});
    REQUIRE(limiter.admit(1, clock.now()) == 1);
    limiter.set_limit(OutputLimit{10, 20});
    CHECK(limiter.admit(100, clock.now()) == 20);
    clock.advance(1s);
    CHECK(limiter.admit(100, clock.now()) == 10);
}

TEST_CASE("output limiter: a limit set before first use starts with its full burst") {
    testing::FakeTimeSource clock;
    OutputLimiter limiter;
    limiter.set_limit(OutputLimit{10, 50000});
    CHECK(limiter.admit(60000, clock.now()) == 50000);
}

#include "log/output_limiter.hpp"

#include <algorithm>
#include <utility>

namespace jaild::log {

namespace {
constexpr std::uint64_t kMicro = 1'000'000;
}

void OutputLimiter::refill(TimePoint now) {
    const std::uint64_t cap = std::uint64_t{limit_.burst} * kMicro;
    if (!last_) {
        micro_tokens_ = cap;
        last_ = now;
        return;
    }
    if (now <= *last_) return;  // steady time never goes back; a fake clock may stand still
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(now - *last_).count();
    // lines_per_second tokens per second = lines_per_second micro-tokens per microsecond.
    // Capped before multiplying (the bucket is full by then): a long quiet spell must not
    // overflow.
    const std::uint64_t rate = std::max<std::uint64_t>(limit_.lines_per_second, 1);
    const auto elapsed = std::min<std::uint64_t>(static_cast<std::uint64_t>(us), cap / rate + 1);
    micro_tokens_ = std::min(cap, micro_tokens_ + elapsed * rate);
    last_ = now;
}

std::size_t OutputLimiter::admit(std::size_t lines, TimePoint now) {
    refill(now);
    const std::uint64_t available = micro_tokens_ / kMicro;
    const std::size_t passed = static_cast<std::size_t>(std::min<std::uint64_t>(available, lines));
    micro_tokens_ -= std::uint64_t{passed} * kMicro;
    drop(lines - passed);
    return passed;
}

void OutputLimiter::drop(std::uint64_t lines) {
    dropped_total_ += lines;
    unreported_ += lines;
}

bool OutputLimiter::exhausted(TimePoint now) {
    refill(now);
    return micro_tokens_ < kMicro;
}

void OutputLimiter::set_limit(OutputLimit limit) {
    limit_ = limit;
    if (last_) micro_tokens_ = std::min(micro_tokens_, std::uint64_t{limit.burst} * kMicro);
}

std::uint64_t OutputLimiter::take_unreported() {
    return std::exchange(unreported_, 0);
}

}  // namespace jaild::log

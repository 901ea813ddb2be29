#include "backup/schedule.hpp"

#include <algorithm>

namespace jaild::backup {

SystemTime next_run(std::optional<SystemTime> last_good, SystemTime now, Interval interval) {
    if (!last_good) return now;
    // A clock set back (last_good in the future) waits one interval from now, not longer.
    if (*last_good > now) return now + interval;
    return std::max(now, *last_good + interval);
}

Interval retry_delay(Interval interval) {
    using namespace std::chrono_literals;
    return std::clamp<Interval>(interval / 10, 10s, 5min);
}

}  // namespace jaild::backup

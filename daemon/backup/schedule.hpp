// When a jail's next scheduled backup is due (pure): its last good backup plus the
// interval, at once when that has passed or when there is none, and a failed or skipped
// run (the jail was not running) is tried again after retry_delay().
#pragma once

#include <chrono>
#include <optional>

#include "backup/backup_files.hpp"

namespace jaild::backup {

using Interval = std::chrono::milliseconds;

// The instant the next run is due; never before `now`.
SystemTime next_run(std::optional<SystemTime> last_good, SystemTime now, Interval interval);
// After a run that failed or could not start: a tenth of the interval, between 10 seconds
// and 5 minutes (a daily backup is retried every 5 minutes until it succeeds).
Interval retry_delay(Interval interval);

}  // namespace jaild::backup

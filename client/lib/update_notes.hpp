// The notes `jailctl status` prints under its table about each jail's package updates, from
// the optional `updates` object of every jail in a status result (docs/API.md): pending
// updates with the command that applies them, and an upgrade that did not succeed. Pure.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace jaild::client {

// How long a last upgrade that failed or was rolled back is shown in the table (the detail
// view shows it at any age).
inline constexpr long long kFailedUpgradeShownMs = 24LL * 3600 * 1000;

// `jails`: the status result's "jails" array. The table's notes (detail = false):
//   "www: 11 updates pending (11 security); next: jailctl upgrade www"   (pending > 0)
//   "www: last upgrade rolled back (3m ago): MESSAGE"   (not "upgraded", less than 24 h ago)
// The detail view's (`jailctl status JAIL`):
//   "www: updates: 11 pending (11 security), checked 2h ago; next: jailctl upgrade www"
//   "www: last upgrade: rolled back (3m ago): MESSAGE"
// Nothing for a jail without "updates" (never checked). The message comes from jaild, which
// may quote the jail's output: made terminal-safe. A value of the wrong type throws
// nlohmann::json::exception (a malformed status).
// `now`: Unix seconds (jaild gives the times of checks and upgrades as Unix seconds).
std::string format_update_notes(const nlohmann::json& jails, bool detail, std::int64_t now);

}  // namespace jaild::client

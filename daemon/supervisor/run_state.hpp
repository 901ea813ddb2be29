// RunState: what a jaild leaves for the next one so that jails keep running across a restart,
// a crash or an upgrade of jaild (live restore, issue 16): per jail its sandbox (firejail PID
// and start time), its restart counters, hold and backoff, and what the network looked like.
// Kept in RUN_DIR/state.json (default /run/jaild: gone at reboot, like the jails), root's,
// mode 0600, replaced atomically (write + rename) on every change that matters.
//
// Trust: only the file is trusted, and only if root owns it and nobody else can write it or
// its directory. A PID in it is never acted on by number: adoption opens a pidfd and checks
// the process is the recorded one (start time, real uid 0, firejail, its scope) first.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jaild/result.hpp"

namespace jaild::supervisor {

struct JailRecord {
    std::string name;
    // The state when it was written: "running", "backoff", "failed", "stopped", ...
    std::string state;
    int firejail_pid = 0;              // 0 = no sandbox running
    std::uint64_t firejail_start = 0;  // /proc/PID/stat field 22 (clock ticks since boot)
    int main_pid = 0;                  // the jail's command (informational)
    int restarts = 0, admin_restarts = 0, consecutive_failures = 0;
    bool held_down = false;
    // backoff/failed: when the next try is due, as wall-clock microseconds (steady_clock
    // does not survive the process); nullopt = none.
    std::optional<std::int64_t> retry_at_us;
    std::string last_exit, last_error;
    std::string config_hash;  // of what its sandbox runs with (sandbox_hash)
    bool operator==(const JailRecord&) const = default;
};

struct RunState {
    std::vector<JailRecord> jails;
    // The bridge was created by a jaild (so the final stop removes it), and the stateless
    // fingerprint of jaild's nftables tables after its last apply (net/firewall.hpp): a new
    // jaild finding the very same tables keeps them (same handles, counters, no transaction).
    bool bridge_created_by_jaild = false;
    std::string firewall_fingerprint;
    bool operator==(const RunState&) const = default;
    const JailRecord* find(std::string_view jail) const;
};

std::string render_run_state(const RunState& state);
// Every field checked (types, ranges, jail names): a record that does not fit is an error
// naming it, and the whole file is ignored (jails then start afresh, as before issue 16).
Result<RunState> parse_run_state(std::string_view text);

// RUN_DIR/state.json. nullopt: no file (a first start, or after a reboot). An error: a file
// that is not root's own (owner, mode, the directory's), a symlink, too large, or malformed.
// `owner`: the uid that must own it (root; unit tests pass their own).
Result<std::optional<RunState>> read_run_state(const std::string& run_dir, unsigned owner = 0);
// Atomically (temporary file, rename), mode 0600; the directory is created 0700.
Result<void> write_run_state(const std::string& run_dir, const RunState& state);

}  // namespace jaild::supervisor

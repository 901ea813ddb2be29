#!/usr/bin/env bash
# A jail's root directory disappears (renamed away) or becomes unusable (world-writable)
# while the jail runs: the running jail is not disturbed, but once it stops it cannot
# start again and fails with that reason; the other jail keeps running throughout.
set -euo pipefail
source "$JAILD_SOURCE_DIR/tests/integration/harness/lib.sh"
source "$(dirname "$0")/common.sh"

A=${JAILD_TEST_ID}-a B=${JAILD_TEST_ID}-b
write_config "$(web_jail "$A" 2 80 "" "$CRASH_LOOP_RESTART")" "$(web_jail "$B" 3 8080 "" "$CRASH_LOOP_RESTART")"
ROOT_A=$JAILD_TEST_DIR/roots/$A
start_jaild "$JAILD_CONFIG"
wait_until 10 serves "$A" 80
wait_until 10 serves "$B" 8080
b_pid=$(status_of "$B" pid)

b_undisturbed() {
  [[ $(status_of "$B" pid) == "$b_pid" ]] || fail "jail b was restarted"
  serves "$B" 8080 || fail "jail b stopped serving"
}

log "--- root renamed away: a still running jail keeps serving (its chroot holds the directory)"
mv "$ROOT_A" "$ROOT_A.moved"
sleep 0.5
[[ $(status_of "$A" state) == running ]] && serves "$A" 80 || fail "jail a was disturbed while running"
log "--- ... after it stops it fails, naming the missing root"
crash "$A"
wait_until 15 status_is "$A" state failed || fail "jail a did not fail (state $(status_of "$A" state))"
error=$(status_of "$A" last_error)
log "jail a: $error"
[[ $error == *"$ROOT_A"* ]] || fail "the failure does not name the root directory $ROOT_A: $error"
b_undisturbed
[[ $(sandbox_count "$A") == 0 ]] || fail "a sandbox named $A still runs"

log "--- root back: start works again"
mv "$ROOT_A.moved" "$ROOT_A"
jailctl start "$A"
wait_until 10 serves "$A" 80 || fail "jail a does not serve after its root came back"

log "--- root world-writable (unusable): after a crash the jail fails with that reason"
chmod 0777 "$ROOT_A"
crash "$A"
wait_until 15 status_is "$A" state failed || fail "jail a did not fail with a world-writable root"
error=$(status_of "$A" last_error)
log "jail a: $error"
[[ $error == *"$ROOT_A"* ]] || fail "the failure does not name the root directory: $error"
b_undisturbed
chmod 0755 "$ROOT_A"
stop_jaild
log "root gone test passed"

#!/usr/bin/env bash
# The firejail binary goes missing, or starts failing, while jaild runs: each jail that has
# to (re)start fails with a clear error naming firejail, the daemon keeps serving status,
# jails that were running are untouched, and once firejail works again `jailctl start`
# brings the jail back.
set -euo pipefail
source "$JAILD_SOURCE_DIR/tests/integration/harness/lib.sh"
source "$(dirname "$0")/common.sh"

A=${JAILD_TEST_ID}-a B=${JAILD_TEST_ID}-b
write_config "$(web_jail "$A" 2 80 "" "$CRASH_LOOP_RESTART")" "$(web_jail "$B" 3 8080 "" "$CRASH_LOOP_RESTART")"

# jaild runs firejail through this path, which the test swaps.
FJ=$JAILD_TEST_DIR/bin/firejail
mkdir -p "${FJ%/*}"
real_firejail=$(command -v firejail)
install_real() { printf '#!/bin/sh\nexec %s "$@"\n' "$real_firejail" >"$FJ.new"; chmod 755 "$FJ.new"; mv "$FJ.new" "$FJ"; }
install_failing() { printf '#!/bin/sh\necho "firejail: broken on purpose" >&2\nexit 1\n' >"$FJ.new"; chmod 755 "$FJ.new"; mv "$FJ.new" "$FJ"; }
install_real
start_jaild "$JAILD_CONFIG" --firejail "$FJ"
wait_until 10 serves "$A" 80
wait_until 10 serves "$B" 8080
b_pid=$(status_of "$B" pid)

log "--- firejail missing: a restart fails with a clear error; the daemon keeps serving"
rm "$FJ"
crash "$A"
wait_until 10 status_is "$A" state failed || fail "jail a did not fail without firejail (state $(status_of "$A" state))"
error=$(status_of "$A" last_error)
[[ $error == *"$FJ"* ]] || fail "the error does not name the firejail path: $error"
log "jail a: $error"
jailctl status >/dev/null || fail "status does not answer"
[[ $(status_of "$B" pid) == "$b_pid" ]] && serves "$B" 8080 || fail "jail b was disturbed"
# start: refused the same way, answered (not hung).
status=0
out=$(timeout 10 "$JAILD_TEST_BUILD_DIR/client/jailctl" --socket "$JAILD_SOCKET" start "$A" 2>&1) || status=$?
((status != 0 && status != 124)) || fail "jailctl start without firejail: exit $status: $out"
[[ $out == *"$FJ"* ]] || fail "jailctl start does not name the firejail path: $out"

log "--- firejail failing (exit 1): a clear error, crash loop ends in failed"
install_failing
status=0
timeout 10 "$JAILD_TEST_BUILD_DIR/client/jailctl" --socket "$JAILD_SOCKET" start "$A" >/dev/null 2>&1 || status=$?
wait_until 15 status_is "$A" state failed || fail "jail a did not fail with a failing firejail"
log "jail a: last_exit=$(status_of "$A" last_exit) last_error=$(status_of "$A" last_error)"
[[ $(status_of "$A" last_exit) == *"status 1"* ]] || fail "last_exit does not show firejail's status 1"
grep -q "firejail: broken on purpose" "$JAILD_LOG" || jailctl logs "$A" | grep "broken on purpose" >/dev/null \
  || fail "firejail's own error message is neither in the log nor in the jail's output"
[[ $(status_of "$B" pid) == "$b_pid" ]] && serves "$B" 8080 || fail "jail b was disturbed"

log "--- firejail back: start brings the jail back"
install_real
jailctl start "$A"
wait_until 10 serves "$A" 80 || fail "jail a does not serve after firejail came back"
expect_exactly_one "$A" "$B"
stop_jaild
log "firejail broken test passed"

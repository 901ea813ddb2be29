#!/usr/bin/env bash
# A service that ignores its stop signal is escalated (SIGTERM to firejail, then SIGKILL) within
# its stop timeout; jaild still exits 0 and leaves nothing behind.
set -euo pipefail
source "$JAILD_SOURCE_DIR/tests/integration/harness/lib.sh"

STUB=${JAILD_TEST_ID}-stub
root=$(jail_root "$STUB")
write_config "\"$STUB\": {\"root\": \"$root\", \"address\": \"10.213.0.2\", \"profile\": \"none\", \"stop_timeout\": \"3s\",
  \"command\": {\"shell\": \"trap '' TERM INT; while true; do sleep 1; done\"}}"
start_jaild "$JAILD_CONFIG"
wait_until 5 status_is "$STUB" state running
sandbox=$(status_of "$STUB" pid)
t0=$SECONDS
stop_jaild
((SECONDS - t0 <= 8)) || fail "jaild took $((SECONDS - t0)) s to stop a jail with a 3 s stop timeout"
grep -q "did not stop within its stop timeout 3s; killing it" "$JAILD_LOG" || fail "no SIGKILL escalation logged"
process_gone "$sandbox" || fail "firejail $sandbox still runs"
! firejail_sandbox_pid "$STUB" >/dev/null || fail "sandbox $STUB still registered and alive"
log "stop timeout test passed"

#!/usr/bin/env bash
# The API socket file is deleted (or renamed away) while jaild runs: jaild notices (inotify on
# the socket's directory, no polling), binds a new socket at the same path, says so in its
# log, and serves on it; a client connected before the deletion keeps its session.
set -euo pipefail
source "$JAILD_SOURCE_DIR/tests/integration/harness/lib.sh"
source "$(dirname "$0")/common.sh"

A=${JAILD_TEST_ID}-a
write_config "$(web_jail "$A" 2 80)"
start_jaild "$JAILD_CONFIG"
wait_until 10 serves "$A" 80
a_pid=$(status_of "$A" pid)
answers() { jailctl status "$A" >/dev/null 2>&1; }

# A follower connected through the old socket.
jailctl events >"$JAILD_TEST_DIR/events" 2>&1 &
events_pid=$!
stop_events() { kill "$events_pid" 2>/dev/null || true; }
defer stop_events
sleep 0.3

log "--- rm the socket"
inode_before=$(stat -c %i "$JAILD_SOCKET")
rm -f "$JAILD_SOCKET"
wait_until 5 test -S "$JAILD_SOCKET" || fail "jaild did not recreate its socket"
wait_until 5 log_has "control socket $JAILD_SOCKET was deleted by someone else; recreated it" \
  || fail "the recreation was not logged"
[[ $(stat -c %i "$JAILD_SOCKET") != "$inode_before" ]] || fail "same inode: not a new socket"
[[ $(stat -c %a "$JAILD_SOCKET") =~ ^6[06]0$ ]] || fail "recreated socket has mode $(stat -c %a "$JAILD_SOCKET")"
wait_until 5 answers || fail "jaild does not answer on the recreated socket"

log "--- mv the socket away"
mv "$JAILD_SOCKET" "$JAILD_TEST_DIR/moved.sock"
wait_until 5 test -S "$JAILD_SOCKET" || fail "jaild did not recreate its socket after a rename"
wait_until 5 answers || fail "jaild does not answer after the rename"
rm -f "$JAILD_TEST_DIR/moved.sock"

log "--- the session from before still streams events"
jailctl restart "$A"
wait_until 5 grep -q "$A" "$JAILD_TEST_DIR/events" || fail "the old events session got nothing: $(cat "$JAILD_TEST_DIR/events")"
[[ $(status_of "$A" pid) != "$a_pid" ]] || fail "restart did not happen"
wait_until 10 serves "$A" 80
stop_jaild
[[ ! -e $JAILD_SOCKET ]] || fail "jaild left its socket file after a clean stop"
log "socket deleted test passed"

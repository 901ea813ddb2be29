#!/usr/bin/env bash
# Configuration faults beyond supervisor/reload.sh (invalid and truncated files): a file with
# a number no double holds (found by fuzz/config_fuzz.cpp; it used to end jaild with an
# uncaught exception), an empty file and a binary one, each followed by SIGHUP: rejected with
# the reason, jaild keeps running, the jail keeps its process. The empty file through
# `jailctl reload` too: code 7 with exactly its one issue.
set -euo pipefail
source "$JAILD_SOURCE_DIR/tests/integration/harness/lib.sh"
source "$(dirname "$0")/common.sh"

A=${JAILD_TEST_ID}-a
write_config "$(web_jail "$A" 2 80)"
cp "$JAILD_CONFIG" "$JAILD_TEST_DIR/good.json"
start_jaild "$JAILD_CONFIG"
wait_until 10 serves "$A" 80
a_pid=$(status_of "$A" pid)

more_than() { (($(log_count "$1") > $2)); }
rejected() {  # DESCRIPTION LOG_PATTERN: SIGHUP, then one more log line matching the pattern
  local before
  before=$(log_count "$2")
  kill -HUP "$JAILD_PID"
  wait_until 5 more_than "$2" "$before" || fail "$1: rejection not logged (expected: $2)"
  kill -0 "$JAILD_PID" 2>/dev/null || fail "$1: jaild died"
  [[ $(status_of "$A" pid) == "$a_pid" ]] || fail "$1: the jail was restarted"
  serves "$A" 80 || fail "$1: the jail stopped serving"
  log "ok: $1 rejected"
}

sed 's/"jails"/"x": 1e999, "jails"/' "$JAILD_TEST_DIR/good.json" >"$JAILD_CONFIG"
rejected "number overflow" "number overflow parsing '1e999'"
: >"$JAILD_CONFIG"
rejected "empty file" "jaild.json:1:1: invalid JSON"
# The same through the API (issue 15): code 7, data.issues exactly the one issue (no header
# line among them), and the message counts it right.
status=0
out=$(jailctl reload 2>&1) || status=$?
((status == 1)) || fail "jailctl reload of an empty file exited $status, not 1: $out"
[[ $out == *"invalid configuration (1 issue); nothing was changed"* ]] || fail "reload message: $out"
issues=$(jailctl --json reload 2>/dev/null || true)
[[ $(jq '.issues | length' <<<"$issues") == 1 ]] || fail "data.issues is not exactly the one issue: $issues"
[[ $(jq -r '.issues[0]' <<<"$issues") == *"jaild.json:1:1: invalid JSON"* ]] || fail "data.issues[0] is not the issue: $issues"
{ printf '\001'; head -c 4096 /dev/urandom; } >"$JAILD_CONFIG"
rejected "binary garbage" "jaild.json:1:1: invalid JSON"

cp "$JAILD_TEST_DIR/good.json" "$JAILD_CONFIG"
jailctl reload >/dev/null || fail "the good file is not accepted again"
[[ $(status_of "$A" pid) == "$a_pid" ]] || fail "reloading the unchanged file restarted the jail"
stop_jaild
log "config reload test passed"

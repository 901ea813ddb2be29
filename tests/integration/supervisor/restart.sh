#!/usr/bin/env bash
# Restart policy: kill -9 of the service brings it back after the backoff; repeated crashes
# back off exponentially (jaild's decisions, as logged and counted); a crash loop ends in
# `failed`; `jailctl start` clears it; a jail that ran long enough starts again from the
# initial backoff. The exact timings are unit-tested with a fake clock
# (tests/unit/supervisor/lifecycle_test.cpp); this test checks the real thing.
set -euo pipefail
source "$JAILD_SOURCE_DIR/tests/integration/harness/lib.sh"

WEB=${JAILD_TEST_ID}-web
root=$(jail_root "$WEB" "restart me")
write_config "\"$WEB\": {\"root\": \"$root\", \"address\": \"10.213.0.2\", \"profile\": \"none\", \"publish\": [80],
  \"command\": [\"/bin/httpd\", \"-f\", \"-p\", \"10.213.0.2:80\", \"-h\", \"/www\"],
  \"restart\": {\"policy\": \"always\", \"backoff_initial\": \"200ms\", \"backoff_max\": \"5s\", \"reset_after\": \"3s\",
                \"crash_loop_limit\": 4, \"crash_loop_window\": \"60s\", \"crash_loop_cooldown\": \"60s\"}}"
start_jaild "$JAILD_CONFIG"
serving() { [[ $(outside_http_get "http://$JAILD_PUBLIC_ADDR/" 2>/dev/null) == "restart me" ]]; }
wait_until 5 serving

# crash_nth N: kill -9 the service's main process once it runs (the harness's crash), then wait
# until jaild has seen its Nth exit.
crash_nth() {
  crash "$WEB"
  wait_until 5 exits_seen "$1"
}
# jaild reports the main process's own status ("killed by SIGKILL") when it ended the sandbox
# itself, firejail's ("exited with status 137 (SIGKILL)") when it could not read that status.
EXIT_LINE="jail '$WEB' (killed by SIGKILL|exited with status 137 \\(SIGKILL\\))$"
exits_seen() { (($(grep -c -E "$EXIT_LINE" "$JAILD_LOG") >= $1)); }

# 1. One crash: back after the 200 ms backoff, serving again, one restart counted.
first_pid=$(status_of "$WEB" pid)
crash_nth 1
wait_until 5 serving
[[ $(status_of "$WEB" restarts) == 1 ]] || fail "expected 1 restart, status says $(status_of "$WEB" restarts)"
[[ $(status_of "$WEB" pid) != "$first_pid" ]] || fail "the jail was not restarted (same firejail pid)"
[[ $(status_of "$WEB" last_exit) == *"SIGKILL"* ]] || fail "last_exit should name SIGKILL: $(status_of "$WEB" last_exit)"
# From Linux 6.15 on (PIDFD_GET_INFO) jaild always reads the main process's own status and
# ends the sandbox itself instead of waiting for firejail's 100 ms shutdown.
if [[ $(printf '%s\n' 6.15 "$(uname -r)" | sort -V | head -n 1) == 6.15 ]]; then
  [[ $(status_of "$WEB" last_exit) == "killed by SIGKILL" ]] ||
    fail "jaild did not report the main process's own status: $(status_of "$WEB" last_exit)"
fi

# 2. Crashes in quick succession: the backoff doubles, and each crash is restarted.
crash_nth 2
crash_nth 3
wait_until 10 status_is "$WEB" state running
decisions=$(grep -oE "jail '$WEB' (killed by SIGKILL|exited with status 137 \\(SIGKILL\\)); restarting in [0-9]+ms" "$JAILD_LOG" |
  grep -oE '[0-9]+ms$' | tr '\n' ' ')
log "backoff decisions: $decisions(expected 200ms 400ms 800ms)"
[[ $decisions == "200ms 400ms 800ms " ]] || fail "backoff did not double from 200ms: $decisions"
[[ $(status_of "$WEB" restarts) == 3 ]] || fail "restarts should count 3 crashes: $(status_of "$WEB" restarts)"

# 3. The fourth failure within the window is a crash loop: failed, with the reason.
crash_nth 4
wait_until 5 status_is "$WEB" state failed
error=$(status_of "$WEB" last_error)
[[ $error == *"crash loop: 4 failures"* ]] || fail "failed without the crash-loop reason: $error"
[[ $(status_of "$WEB" next_retry_ms) -gt 30000 ]] || fail "failed jail should retry only after its cool-down"
! serving || fail "a failed jail still serves"

# 4. jailctl start clears it at once.
jailctl start "$WEB"
wait_until 5 serving
[[ $(status_of "$WEB" state) == running ]] || fail "start did not bring the failed jail back"

# 5. After running longer than reset_after (3 s), a crash starts again at the initial backoff.
sleep 3.5
crash_nth 5
wait_until 10 status_is "$WEB" state running
last_decision=$(grep -E "jail '$WEB' (killed by SIGKILL|exited with status 137 \\(SIGKILL\\)); restarting in" "$JAILD_LOG" | tail -n 1)
[[ $last_decision == *"restarting in 200ms" ]] || fail "backoff was not reset after a long run: $last_decision"
stop_jaild
log "restart test passed"

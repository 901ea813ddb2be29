#!/usr/bin/env bash
# Restart policy: kill -9 of the service brings it back after the backoff; repeated crashes
# back off exponentially (observed gaps); a crash loop ends in `failed`; `jailctl start`
# clears it; a jail that ran long enough starts again from the initial backoff.
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

# 2. Crashes in quick succession: the gaps between exit and the next start double.
crash_nth 2
crash_nth 3
wait_until 10 status_is "$WEB" state running
gaps=()
for n in 1 2 3; do
  exited=$(log_ms "$EXIT_LINE" "$n")
  started=$(log_ms "jail '$WEB' started" "$((n + 1))")
  gaps+=($((started - exited)))
done
log "observed restart gaps (ms): ${gaps[*]} (backoff 200, 400, 800)"
# The backoff counts from the main process's exit, which comes up to a few ms before the
# sandbox is gone and this line is logged.
((gaps[0] >= 190 && gaps[1] >= 390 && gaps[2] >= 790)) || fail "restart came before its backoff: ${gaps[*]}"
((gaps[1] > gaps[0] && gaps[2] > gaps[1])) || fail "backoff did not grow: ${gaps[*]}"

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
exited=$(log_ms "$EXIT_LINE" 5)
started=$(log_ms "jail '$WEB' started" 6)
gap=$((started - exited))
log "gap after a long run: ${gap} ms"
last_decision=$(grep -E "jail '$WEB' (killed by SIGKILL|exited with status 137 \\(SIGKILL\\)); restarting in" "$JAILD_LOG" | tail -n 1)
[[ $last_decision == *"restarting in 200ms" ]] || fail "backoff was not reset after a long run: $last_decision"
((gap < 2500)) || fail "restart after a long run took ${gap} ms, as if the backoff (3.2 s if not reset) had not been reset"
stop_jaild
log "restart test passed"

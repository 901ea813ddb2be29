#!/usr/bin/env bash
# The first hour (issue 17) with busybox jails: a jail whose root is still to be provisioned is
# `unprovisioned` (no error in the log, nothing counted, the fix in status), and start,
# restart and stop wait like systemctl: restart returns only once the jail accepts
# connections, --no-block returns before, a jail that fails to come up makes the command exit
# 1 with the reason and the jail's last output.
set -euo pipefail
source "$JAILD_SOURCE_DIR/tests/integration/harness/lib.sh"

WEB=${JAILD_TEST_ID}-web
BAD=${JAILD_TEST_ID}-bad
NEW=${JAILD_TEST_ID}-new
web_root=$(jail_root "$WEB" "waited for")
bad_root=$(jail_root "$BAD")
new_root=$JAILD_TEST_DIR/roots/$NEW  # not there: provisioning would build it
# WEB listens only 1.5 s after it starts: a restart that returned at "running" would be
# answered by a refused connection.
write_config "\"$WEB\": {\"root\": \"$web_root\", \"address\": \"10.213.0.2\", \"profile\": \"none\", \"publish\": [80],
  \"command\": [\"/bin/sh\", \"-c\", \"sleep 1.5; exec /bin/httpd -f -p 10.213.0.2:80 -h /www\"],
  \"health\": {\"tcp\": 80, \"interval\": \"1s\", \"timeout\": \"1s\", \"retries\": 3}}" \
  "\"$BAD\": {\"root\": \"$bad_root\", \"address\": \"10.213.0.3\", \"profile\": \"none\",
  \"command\": [\"/bin/sh\", \"-c\", \"echo 'cannot bind 10.213.0.3:80: Address in use' >&2; exit 3\"],
  \"restart\": {\"policy\": \"on-failure\", \"backoff_initial\": \"30s\", \"crash_loop_limit\": 100}}" \
  "\"$NEW\": {\"root\": \"$new_root\", \"address\": \"10.213.0.4\",
  \"command\": [\"/bin/httpd\", \"-f\", \"-p\", \"10.213.0.4:80\", \"-h\", \"/www\"],
  \"provision\": {\"packages\": [\"busybox\"]}}"
start_jaild "$JAILD_CONFIG"
serving() { [[ $(outside_http_get "http://$JAILD_PUBLIC_ADDR/" 2>/dev/null) == "waited for" ]]; }
wait_until 15 serving || fail "$WEB does not serve"

# 1. The unprovisioned jail: its own state, the fix in status, no error in the log.
wait_until 5 status_is "$NEW" state unprovisioned || fail "$NEW is $(status_of "$NEW" state), not unprovisioned"
[[ $(status_of "$NEW" fix) == "jailctl provision $NEW" ]] || fail "no fix in status: $(status_of "$NEW" fix)"
[[ $(status_of "$NEW" restarts) == 0 && -z $(status_of "$NEW" last_error) ]] ||
  fail "an unprovisioned jail counted a failure: $(jailctl --json status "$NEW")"
table=$(jailctl status)
grep -qF "$NEW: unprovisioned; next: jailctl provision $NEW" <<<"$table" || fail "the table has no fix for $NEW: $table"
if grep -F "$NEW" "$JAILD_LOG" | grep -qE " (error|warning|critical) |cannot start|crash loop"; then
  fail "jaild logged errors about the unprovisioned jail: $(grep -E "$NEW" "$JAILD_LOG")"
fi
if out=$(jailctl start "$NEW" 2>&1); then fail "start of an unprovisioned jail succeeded: $out"; fi
grep -qF "jailctl provision $NEW" <<<"$out" || fail "start did not say how to provision: $out"
log "unprovisioned: own state, fix shown, nothing logged as an error ($(grep -c "$NEW" "$JAILD_LOG") log lines)"

# 2. restart returns once the jail serves: a connection right after it is answered, each time.
for i in 1 2 3; do
  before=$(status_of "$WEB" pid)
  jailctl restart "$WEB" >"$JAILD_TEST_DIR/restart.out" || fail "restart $i failed: $(cat "$JAILD_TEST_DIR/restart.out")"
  serving || fail "restart $i returned before $WEB served ($(jailctl --json status "$WEB" | jq -c '.jails[0] | {state, health}'))"
  [[ $(status_of "$WEB" pid) != "$before" ]] || fail "restart $i did not restart $WEB"
done
[[ $(status_of "$WEB" admin_restarts) == 3 && $(status_of "$WEB" restarts) == 0 ]] ||
  fail "restart counters: $(jailctl --json status "$WEB" | jq -c '.jails[0] | {restarts, admin_restarts}')"
log "restart x3: each answered only once $WEB served (admin_restarts 3, restarts 0)"

# 3. --no-block returns before the jail serves (it listens 1.5 s after it starts).
jailctl restart --no-block "$WEB" | grep -qF "restart requested" || fail "--no-block printed no request line"
if serving; then fail "restart --no-block returned after $WEB was already serving again"; fi
wait_until 15 serving || fail "$WEB did not come back after restart --no-block"
log "--no-block: returned while $WEB was not serving yet"

# 4. stop waits until the jail is down.
jailctl stop "$WEB" >/dev/null
[[ $(status_of "$WEB" state) == stopped ]] || fail "stop returned while $WEB was $(status_of "$WEB" state)"
jailctl start "$WEB" >/dev/null
serving || fail "start returned before $WEB served"
log "stop answered once stopped; start once serving"

# 5. A jail that fails to come up: exit 1, its reason and its last output line.
status=0
out=$(jailctl restart "$BAD" 2>&1) || status=$?
((status == 1)) || fail "restart of a failing jail exited $status (expected 1): $out"
grep -qF "did not start: exited with status 3" <<<"$out" || fail "no reason in: $out"
grep -qF "cannot bind 10.213.0.3:80: Address in use" <<<"$out" || fail "no last output in: $out"
log "a failing jail: exit 1 with its reason and its output"

# 6. The error is history once the jail serves again: status's table shows no stale line.
crash "$WEB"
wait_until 15 serving || fail "$WEB did not come back after a crash"
wait_until 10 status_is "$WEB" health healthy
table=$(jailctl status)
if grep -q "^$WEB: " <<<"$table"; then fail "a recovered jail still shows an error line: $table"; fi
detail=$(jailctl status "$WEB")
grep -q "^$WEB: last error (.* ago), since recovered: killed by SIGKILL" <<<"$detail" ||
  fail "status $WEB does not show the past error with its age: $detail"
stop_jaild
log "waiting test passed"

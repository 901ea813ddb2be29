#!/usr/bin/env bash
# A health check (a command run inside the jail, confined like its main process) that starts failing
# gets the jail restarted; once it passes again the jail is healthy again.
set -euo pipefail
source "$JAILD_SOURCE_DIR/tests/integration/harness/lib.sh"

APP=${JAILD_TEST_ID}-app
root=$(jail_root "$APP")
touch "$root/www/healthy"
write_config "\"$APP\": {\"root\": \"$root\", \"address\": \"10.213.0.2\", \"profile\": \"none\",
  \"command\": [\"/bin/httpd\", \"-f\", \"-p\", \"10.213.0.2:80\", \"-h\", \"/www\"],
  \"restart\": {\"policy\": \"always\", \"backoff_initial\": \"100ms\"},
  \"health\": {\"exec\": [\"/bin/test\", \"-f\", \"/www/healthy\"], \"interval\": \"300ms\", \"timeout\": \"2s\", \"retries\": 2}}"
start_jaild "$JAILD_CONFIG"
wait_until 10 status_is "$APP" health healthy
first_pid=$(status_of "$APP" pid)

rm "$root/www/healthy"
wait_until 10 grep -q "jail '$APP' is unhealthy: health check failed 2 times" "$JAILD_LOG"
wait_until 10 grep -q "restarting jail '$APP' because it is unhealthy" "$JAILD_LOG"
touch "$root/www/healthy"
wait_until 10 status_is "$APP" health healthy
[[ $(status_of "$APP" pid) != "$first_pid" ]] || fail "the unhealthy jail was not restarted (same firejail pid)"
[[ $(status_of "$APP" restarts) -ge 1 ]] || fail "the restart was not counted"
[[ $(status_of "$APP" last_error) == *"health"* ]] || fail "last_error should say why: $(status_of "$APP" last_error)"
stop_jaild
log "health test passed"

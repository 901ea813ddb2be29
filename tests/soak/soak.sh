#!/usr/bin/env bash
# Soak test (issue 9), run inside a throwaway world by tests/soak/run:
#   1. a jail that kills itself (SIGKILL) right after starting, restarted by jaild with a
#      short backoff, for SOAK_CYCLES (default 1000) crash/restart cycles;
#   2. SOAK_CONNECTIONS (default 10000) API connections opened and dropped (at once, after
#      half a request, after a request without reading, after the answer);
# then jaild's open descriptors and child processes must be back at their starting values,
# its RSS back within SOAK_RSS_SLACK_KB (default 2048) of it, and the jail must serve.
# Figures go to stderr and to $SOAK_REPORT (default $JAILD_TEST_DIR/soak-report.txt).
set -euo pipefail
source "$JAILD_SOURCE_DIR/tests/integration/harness/lib.sh"

CYCLES=${SOAK_CYCLES:-1000}
CONNECTIONS=${SOAK_CONNECTIONS:-10000}
RSS_SLACK_KB=${SOAK_RSS_SLACK_KB:-2048}
REPORT=${SOAK_REPORT:-$JAILD_TEST_DIR/soak-report.txt}
J=${JAILD_TEST_ID}-soak
root=$(jail_root "$J" "soak survivor")
# Crashes itself until /www/serve exists, then serves.
write_config "\"$J\": {\"root\": \"$root\", \"address\": \"10.213.0.2\", \"profile\": \"none\", \"publish\": [80],
  \"command\": {\"shell\": \"[ -e /www/serve ] || kill -9 \$\$; exec httpd -f -p 10.213.0.2:80 -h /www\"},
  \"restart\": {\"policy\": \"always\", \"backoff_initial\": \"1ms\", \"backoff_max\": \"5ms\", \"reset_after\": \"1h\",
                \"crash_loop_limit\": 1000000, \"crash_loop_window\": \"1s\", \"crash_loop_cooldown\": \"1s\"}}"

serves() { [[ $(outside_http_get "http://$JAILD_PUBLIC_ADDR/" 2>/dev/null) == "soak survivor" ]]; }
report() { log "$*"; printf '%s\n' "$*" >>"$REPORT"; }
children() { ps -o pid= --ppid "$JAILD_PID" | wc -l; }
restarts() { status_of "$J" restarts; }
figures() { echo "fds=$(jaild_fd_count) rss_kb=$(jaild_rss_kib) children=$(children)"; }

touch "$root/www/serve"   # first: a healthy start to take the starting figures
start_jaild "$JAILD_CONFIG" --log-level warn
wait_until 10 serves || fail "the jail does not serve at the start"
jailctl status >/dev/null
start_fds=$(jaild_fd_count) start_rss=$(jaild_rss_kib) start_children=$(children)
report "start:  $(figures)"

log "--- $CYCLES crash/restart cycles"
rm "$root/www/serve"
jailctl restart "$J" >/dev/null 2>&1 || true  # the restarted jail now crashes at once
t0=$SECONDS
enough_restarts() { (($(restarts) >= CYCLES)); }
wait_until $((CYCLES * 2 + 60)) enough_restarts || fail "only $(restarts) restarts"
touch "$root/www/serve"
report "cycles: $(restarts) crash/restart cycles in $((SECONDS - t0)) s; state $(status_of "$J" state)"
wait_until 10 serves || fail "the jail does not serve after the crash cycles (state $(status_of "$J" state))"
report "after cycles: $(figures)"

log "--- $CONNECTIONS API connections opened and dropped"
t0=$SECONDS
perl "$JAILD_SOURCE_DIR/tests/soak/connect_drop.pl" "$JAILD_SOCKET" "$CONNECTIONS" | while read -r l; do report "connections: $l in $((SECONDS - t0)) s"; done
report "after connections: $(figures)"

# Dropped connections close on the loop right away; give it a moment, bounded.
settled() { (($(jaild_fd_count) == start_fds && $(children) == start_children)); }
wait_until 15 settled || true
end_fds=$(jaild_fd_count) end_rss=$(jaild_rss_kib) end_children=$(children)
report "end:    fds=$end_fds rss_kb=$end_rss children=$end_children (start: fds=$start_fds rss_kb=$start_rss children=$start_children; rss delta $((end_rss - start_rss)) kB)"
serves || fail "the jail does not serve at the end"
jailctl status "$J" >/dev/null || fail "jaild does not answer at the end"
((end_fds == start_fds)) || fail "open descriptors: $start_fds at the start, $end_fds at the end"
((end_children == start_children)) || fail "child processes: $start_children at the start, $end_children at the end"
((end_rss - start_rss <= RSS_SLACK_KB)) || fail "RSS grew by $((end_rss - start_rss)) kB (allowed $RSS_SLACK_KB kB)"
stop_jaild
report "soak passed"

#!/usr/bin/env bash
# Cgroup limits without systemd as PID 1 (the test world): jails run as before, and limits
# that cannot be enforced are reported, never silently dropped: in status (limits_note) and
# once per start in the log. A reload that changes only those limits does not restart the
# jail. (With systemd they go to the jail's scope: unit-tested with a fake systemd,
# tests/unit/systemd/, and checked in the booted test.)
set -euo pipefail
source "$JAILD_SOURCE_DIR/tests/integration/harness/lib.sh"

WEB=${JAILD_TEST_ID}-web
FREE=${JAILD_TEST_ID}-free
web_root=$(jail_root "$WEB" "limited")
free_root=$(jail_root "$FREE" "free")
web() {  # web MEMORY_MAX
  printf '"%s": {"root": "%s", "address": "10.213.0.2", "profile": "none", "publish": [80],
    "command": ["/bin/httpd", "-f", "-p", "10.213.0.2:80", "-h", "/www"],
    "limits": {"memory_max": "%s", "cpu_max": "50%%", "nice": 2}}' "$WEB" "$web_root" "$1"
}
free='"'$FREE'": {"root": "'$free_root'", "address": "10.213.0.3", "profile": "none",
  "command": ["/bin/httpd", "-f", "-p", "10.213.0.3:80", "-h", "/www"],
  "limits": {"tasks_max": "infinity"}}'
write_config "$(web 64M)" "$free"
start_jaild "$JAILD_CONFIG"
serving() { [[ $(outside_http_get "http://$JAILD_PUBLIC_ADDR/" 2>/dev/null) == "limited" ]]; }
wait_until 10 serving
wait_until 10 status_is "$FREE" state running

# 1. The jail runs as before; its unenforced limits are named in status and logged once.
note=$(status_of "$WEB" limits_note)
[[ $note == "memory_max, tasks_max, cpu_max not enforced: no systemd" ]] ||
  fail "limits_note of $WEB: '$note'"
[[ $(status_of "$FREE" limits_note) == "" ]] ||
  fail "a jail without cgroup limits has a note: $(status_of "$FREE" limits_note)"
[[ $(status_of "$WEB" memory_bytes) == null && $(status_of "$WEB" tasks) == null ]] ||
  fail "usage reported without a cgroup to read it from"
LINE="jail '$WEB': memory_max, tasks_max, cpu_max not enforced: no systemd"
wait_until 5 grep -qF "$LINE" "$JAILD_LOG"
[[ $(grep -cF "$LINE" "$JAILD_LOG") == 1 ]] || fail "the note was not logged exactly once per start"
jailctl status "$WEB" | grep -qF "$WEB: limits: memory_max, tasks_max, cpu_max not enforced: no systemd" ||
  fail "jailctl status $WEB does not show the note"

# 2. A reload that changes only memory_max keeps the jail running (same firejail).
pid=$(status_of "$WEB" pid)
write_config "$(web infinity)" "$free"
kill -HUP "$JAILD_PID"
wait_until 10 grep -q "configuration reloaded: 0 added, 1 changed, 0 removed, 1 unchanged" "$JAILD_LOG"
wait_until 5 grep -qF "jail '$WEB': limits changed; applied in place (no restart)" "$JAILD_LOG"
[[ $(status_of "$WEB" pid) == "$pid" ]] || fail "a limits-only reload restarted the jail"
[[ $(status_of "$WEB" admin_restarts) == 0 ]] || fail "a limits-only reload counted a restart"
serving || fail "the jail stopped serving after a limits-only reload"
[[ $(status_of "$WEB" limits_note) == "tasks_max, cpu_max not enforced: no systemd" ]] ||
  fail "limits_note not updated by the reload: $(status_of "$WEB" limits_note)"
stop_jaild
log "limits test passed"

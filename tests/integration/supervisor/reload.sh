#!/usr/bin/env bash
# SIGHUP applies only what changed: unchanged jails keep their processes, a changed one is
# restarted with its new settings, a removed one stops, a new one starts. A broken file (and
# a truncated one) changes nothing and its errors are logged and returned by `jailctl reload`.
set -euo pipefail
source "$JAILD_SOURCE_DIR/tests/integration/harness/lib.sh"

A=${JAILD_TEST_ID}-a B=${JAILD_TEST_ID}-b C=${JAILD_TEST_ID}-c D=${JAILD_TEST_ID}-d
jail() {  # NAME ADDRESS TEXT
  printf '"%s": {"root": "%s", "address": "%s", "profile": "none", "publish": [%s],
    "command": {"shell": "echo %s > /www/index.html; exec httpd -f -p %s:80 -h /www"}}' \
    "$1" "$JAILD_TEST_DIR/roots/$1" "$2" "${4:-}" "$3" "$2"
}
for j in "$A" "$B" "$C" "$D"; do jail_root "$j" >/dev/null; done
write_config "$(jail "$A" 10.213.0.2 a-one 80)" "$(jail "$B" 10.213.0.3 b-one)" "$(jail "$C" 10.213.0.4 c-one)"
start_jaild "$JAILD_CONFIG"
for j in "$A" "$B" "$C"; do wait_until 5 status_is "$j" state running; done
a_pid=$(status_of "$A" pid)
b_pid=$(status_of "$B" pid)
c_pid=$(status_of "$C" pid)
wait_until 5 test "$(outside_http_get "http://$JAILD_PUBLIC_ADDR/" 2>/dev/null)" = a-one

# b changes its command, c goes away, d is new.
write_config "$(jail "$A" 10.213.0.2 a-one 80)" "$(jail "$B" 10.213.0.3 b-two)" "$(jail "$D" 10.213.0.5 d-one)"
kill -HUP "$JAILD_PID"
wait_until 10 grep -q "configuration reloaded: 1 added, 1 changed, 1 removed, 1 unchanged" "$JAILD_LOG"
wait_until 10 status_is "$D" state running
wait_until 10 status_is "$B" state running
[[ $(status_of "$A" pid) == "$a_pid" ]] || fail "unchanged jail a was restarted by the reload"
[[ $(status_of "$B" pid) != "$b_pid" ]] || fail "changed jail b kept its old process"
wait_until 5 test "$(ip netns exec "jaild-$B" curl -s -m 1 http://10.213.0.3/)" = b-two
! jailctl status "$C" >/dev/null 2>&1 || fail "removed jail c is still known"
wait_until 5 process_gone "$c_pid"
wait_until 5 test ! -e "/run/netns/jaild-$C"

# A broken configuration: rejected, with the path of the problem; nothing changes.
a_pid=$(status_of "$A" pid)
b_pid=$(status_of "$B" pid)
cp "$JAILD_CONFIG" "$JAILD_TEST_DIR/good.json"
sed -i 's/"10.213.0.5"/"10.99.0.5"/' "$JAILD_CONFIG"
kill -HUP "$JAILD_PID"
wait_until 5 grep -q "jails.$D.address" "$JAILD_LOG"
status=0
out=$(jailctl reload 2>&1) || status=$?
((status != 0)) || fail "jailctl reload of a broken file exited 0"
[[ $out == *"jails.$D.address"* ]] || fail "jailctl reload did not name the bad field: $out"
# Truncated JSON, as a half-written file would be.
head -c 60 "$JAILD_TEST_DIR/good.json" >"$JAILD_CONFIG"
kill -HUP "$JAILD_PID"
wait_until 5 grep -q "jaild.json:1:[0-9]*: invalid JSON" "$JAILD_LOG"
sleep 0.5
[[ $(status_of "$A" pid) == "$a_pid" && $(status_of "$B" pid) == "$b_pid" ]] || fail "a rejected reload restarted jails"
[[ $(status_of "$D" state) == running ]] || fail "a rejected reload stopped jail d"
stop_jaild
log "reload test passed"

#!/usr/bin/env bash
# The real jailctl against the real jaild: status (table and JSON), start/stop/restart/shutdown
# on real sandboxes, join (commands, exit status, an interactive shell on a pty), logs -f,
# events, and authorization (root, a member of group jaild, anyone else).
set -euo pipefail
source "$JAILD_SOURCE_DIR/tests/integration/harness/lib.sh"

WWW=${JAILD_TEST_ID}-www DB=${JAILD_TEST_ID}-db
www_root=$(jail_root "$WWW" "client test")
db_root=$(jail_root "$DB")
# The test world gets a group "jaild" (gid 4242) by a private /etc/group; the host's is untouched.
world_etc_entry /etc/group jaild:x:4242:
chmod 0755 "$JAILD_TEST_DIR"
write_config \
  "\"$WWW\": {\"root\": \"$www_root\", \"address\": \"10.213.0.2\", \"profile\": \"none\", \"publish\": [80],
     \"command\": {\"shell\": \"echo www says hello; exec httpd -f -vv -p 10.213.0.2:80 -h /www\"},
     \"restart\": {\"policy\": \"always\"}}" \
  "\"$DB\": {\"root\": \"$db_root\", \"address\": \"10.213.0.3\", \"profile\": \"none\",
     \"command\": [\"/bin/httpd\", \"-f\", \"-p\", \"10.213.0.3:5432\", \"-h\", \"/www\"]}"
sandbox_is() { [[ $(firejail_sandbox_pid "$1") == "$2" ]]; }
start_jaild "$JAILD_CONFIG"
wait_until 5 status_is "$WWW" state running
wait_until 5 status_is "$DB" state running

# --- status: the table and the JSON -------------------------------------------------------
table=$(jailctl status)
log "status table:"$'\n'"$table"
[[ $(head -n 1 <<<"$table") =~ ^NAME\ +STATE\ +PID\ +ADDRESS\ +PORTS\ +UPTIME\ +RESTARTS\ +HEALTH ]] ||
  fail "status table header is wrong: $(head -n 1 <<<"$table")"
grep -E "^$WWW +running +[0-9]+ +10\.213\.0\.2 +80 " <<<"$table" >/dev/null || fail "no running row for $WWW"
[[ $table != *$'\e['* ]] || fail "colors used although stdout is not a terminal"
[[ $(jailctl --json status | jq -r '.jails | length') == 2 ]] || fail "JSON status does not list 2 jails"
www_pid=$(status_of "$WWW" pid)
wait_until 3 sandbox_is "$WWW" "$www_pid"
status=0; jailctl status nosuchjail >/dev/null 2>&1 || status=$?
((status == 3)) || fail "status of an unknown jail exited $status, expected 3"

# --- stop / start / restart / shutdown change the real sandboxes -------------------------
jailctl stop "$DB"
! firejail_sandbox_pid "$DB" >/dev/null || fail "stop left the sandbox running"
[[ $(status_of "$DB" state) == stopped && $(status_of "$DB" held_down) == true ]] || fail "db not stopped and held"
jailctl start "$DB"
# firejail registers its name a moment after it was started.
wait_until 3 firejail_sandbox_pid "$DB" >/dev/null
old=$(status_of "$WWW" pid)
jailctl restart "$WWW"
new=$(status_of "$WWW" pid)
[[ $new != "$old" ]] || fail "restart did not replace the sandbox ($old -> $new)"
wait_until 3 sandbox_is "$WWW" "$new"
jailctl shutdown "$DB"
! firejail_sandbox_pid "$DB" >/dev/null || fail "shutdown left the sandbox running"

# shutdown survives a restart of jaild; start clears it.
stop_jaild
start_jaild "$JAILD_CONFIG"
wait_until 5 status_is "$WWW" state running
sleep 0.5
[[ $(status_of "$DB" state) == stopped ]] || fail "a shut-down jail came back after jaild restarted"
jailctl start "$DB"
wait_until 5 status_is "$DB" state running

# --- join ---------------------------------------------------------------------------------
# (firejail --hostname sets the jail's UTS name; it does not rewrite the root's /etc/hostname.)
[[ $(jailctl join "$WWW" -- hostname) == "$WWW" ]] || fail "join -- hostname did not print the jail's hostname"
status=0; jailctl join "$WWW" -- sh -c 'exit 7' || status=$?
((status == 7)) || fail "join -- sh -c 'exit 7' exited $status"
[[ $(echo piped-input | jailctl join "$WWW" -- cat) == piped-input ]] || fail "join does not pass stdin through a pipe"
[[ $(jailctl join "$WWW" -- sh -c 'echo err >&2' 2>&1 >/dev/null) == err ]] || fail "join does not pass stderr"
# Interactive: a real pseudo-terminal via script(1); the shell's PID inside the jail is small.
transcript=$(printf 'echo MARK$((6*7)) $$\nexit 3\n' |
  timeout 20 script -qfec "$JAILD_TEST_BUILD_DIR/client/jailctl --socket $JAILD_SOCKET join $WWW" /dev/null || true)
[[ $transcript == *MARK42* ]] || fail "interactive join did not run the typed command: $transcript"
tty_status=0
printf 'exit 3\n' | timeout 20 script -qfec "$JAILD_TEST_BUILD_DIR/client/jailctl --socket $JAILD_SOCKET join $WWW" /dev/null >/dev/null || tty_status=$?
((tty_status == 3)) || fail "interactive join exited $tty_status, expected the shell's 3"

# --- logs and logs -f ----------------------------------------------------------------------
jailctl logs "$WWW" | grep "www says hello" >/dev/null || fail "logs does not show the jail's output"
jailctl logs -f "$WWW" >"$JAILD_TEST_DIR/follow.out" 2>&1 &
follower=$!
sleep 0.5
outside_http_get "http://$JAILD_PUBLIC_ADDR/followed-request" >/dev/null 2>&1 || true
wait_until 5 grep -q followed-request "$JAILD_TEST_DIR/follow.out"
kill "$follower"; wait "$follower" 2>/dev/null || true

# --- events show a restart as it happens ---------------------------------------------------
jailctl events >"$JAILD_TEST_DIR/events.out" 2>&1 &
watcher=$!
sleep 0.3
kill -9 "$(status_of "$WWW" main_pid)"
wait_until 10 grep -q "\"jail\":\"$WWW\".*\"state\":\"backoff\"\|\"state\":\"backoff\".*\"jail\":\"$WWW\"" "$JAILD_TEST_DIR/events.out"
wait_until 10 status_is "$WWW" state running
kill "$watcher"; wait "$watcher" 2>/dev/null || true

# --- authorization -------------------------------------------------------------------------
as_member() { as_jaild_member 65534 "$@"; }
as_stranger() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
ctl=$JAILD_TEST_BUILD_DIR/client/jailctl
[[ $(stat -c '%a %G' "$JAILD_SOCKET") == "660 jaild" ]] || fail "socket is not 0660 root:jaild: $(stat -c '%a %U:%G' "$JAILD_SOCKET")"
as_member "$ctl" --socket "$JAILD_SOCKET" status >/dev/null || fail "a member of group jaild cannot read the status"
as_member "$ctl" --socket "$JAILD_SOCKET" logs "$WWW" >/dev/null || fail "a member of group jaild cannot read logs"
status=0; out=$(as_member "$ctl" --socket "$JAILD_SOCKET" restart "$WWW" 2>&1) || status=$?
((status == 4)) || fail "a member of group jaild could restart (exit $status): $out"
[[ $out == *"permission denied"* ]] || fail "refusal does not say why: $out"
status=0; out=$(as_stranger "$ctl" --socket "$JAILD_SOCKET" status 2>&1) || status=$?
((status != 0)) && [[ $out == *"jaild"* ]] || fail "a stranger was not refused (exit $status): $out"
# Even with a wrongly opened socket file, jaild itself refuses a stranger (SO_PEERCRED).
chmod 0666 "$JAILD_SOCKET"
status=0; out=$(as_stranger "$ctl" --socket "$JAILD_SOCKET" status 2>&1) || status=$?
((status == 4)) || fail "jaild did not refuse a stranger itself (exit $status): $out"
[[ $out == *"not in group"* ]] || fail "the refusal does not say why: $out"

stop_jaild
umount /etc/group
log "client test passed"

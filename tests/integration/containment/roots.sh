#!/usr/bin/env bash
# Issue 13, jail roots: root inside a jail attacks through its root directory and its output.
# Each attempt is logged "ATTACK <name>: blocked|SUCCEEDED"; the test fails if any succeeds.
#  - setuid_plant: a setuid-root copy of busybox planted in the root (and one in ROOT.previous)
#    is run from the host as nobody: it must not even be reachable.
#  - open_parent: a jail whose root other users can reach is not started (the error says
#    chmod 0700).
#  - tamper_root: chmod 0775 / in the jail, then a jaild restart: jaild starts, the other
#    jail runs, only the tampered jail fails, with the reason; a reload is not refused.
#  - immutable_root: chattr +i on its root's top level: the next start fails saying chattr -i.
#  - foreign_sibling: an admin's ROOT.new and a symbolic link as ROOT.old are neither removed
#    nor followed by provisioning.
#  - terminal_escapes: the jail prints window-title and clear-screen sequences and a line
#    imitating jaild's log: jaild's console and `jailctl logs` show them escaped, the line
#    marked as the jail's.
set -euo pipefail
source "$JAILD_SOURCE_DIR/tests/integration/harness/lib.sh"
source "$JAILD_SOURCE_DIR/tests/integration/faults/common.sh"

A=${JAILD_TEST_ID}-a B=${JAILD_TEST_ID}-b C=${JAILD_TEST_ID}-c D=${JAILD_TEST_ID}-d
ROOTS=$JAILD_TEST_DIR/roots
failures=0
attack() {  # NAME blocked|SUCCEEDED [DETAIL]
  log "ATTACK $1: $2${3:+ ($3)}"
  [[ $2 == blocked ]] || failures=$((failures + 1))
}
# As user nobody, without root's capabilities: setpriv keeps them across its own setresuid,
# so exec a shell first (an exec as uid 65534 drops them), which then runs CMD.
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups /bin/sh -c 'exec "$@"' sh "$@"; }

# Like a host: the test dir is traversable (run-in-world makes it 0700, which would hide the
# roots by itself); only the folder of roots (0700, made by the harness) closes the way.
chmod 0755 "$JAILD_TEST_DIR"
defer chmod 0700 "$JAILD_TEST_DIR"

# d prints escape sequences and a line that looks like jaild's own, then serves.
fake_line="2026-01-01 00:00:00.000 info [jaild] jail '$B' started (firejail pid 1)"
d_root=$(jail_root "$D" "$D says hi")
d_json=$(cat <<JSON
"$D": {"root": "$d_root", "address": "10.213.0.5", "profile": "none", "publish": [8081],
  "command": {"shell": "printf '\\\\033]0;pwned\\\\007title\\\\n'; printf '\\\\033[2Jcleared\\\\n'; echo \\"$fake_line\\"; exec httpd -f -p 10.213.0.5:8081 -h /www"}}
JSON
)
# c's root is in a folder every user can enter.
install -d -m 0755 "$JAILD_TEST_DIR/open"
make_busybox_root "$JAILD_TEST_DIR/open/$C" "$C says hi"
c_json=$(printf '"%s": {"root": "%s", "address": "10.213.0.4", "profile": "none",
  "command": ["/bin/httpd", "-f", "-p", "10.213.0.4:80", "-h", "/www"]}' "$C" "$JAILD_TEST_DIR/open/$C")
write_config "$(web_jail "$A" 2 80 "" "$CRASH_LOOP_RESTART")" "$(web_jail "$B" 3 8080)" "$c_json" "$d_json"
[[ $(stat -c %a "$ROOTS") == 700 ]] || fail "the harness made $ROOTS with mode $(stat -c %a "$ROOTS"), not 0700"
start_jaild "$JAILD_CONFIG"
wait_until 10 serves "$A" 80 || fail "jail a does not serve"
wait_until 10 serves "$B" 8080 || fail "jail b does not serve"
wait_until 10 serves "$D" 8081 || fail "jail d does not serve"

log "--- setuid_plant"
# Named busybox-*, busybox runs its first argument as the applet: busybox-suid id -u.
jailctl join "$A" -- /bin/sh -c '/bin/busybox cp /bin/busybox /busybox-suid && /bin/busybox chmod 4755 /busybox-suid' \
  || fail "root in jail a could not plant the setuid file (the attack itself failed)"
[[ -u $ROOTS/$A/busybox-suid ]] || fail "the planted file is not setuid: $(ls -l "$ROOTS/$A/busybox-suid")"
install -d -m 0755 "$ROOTS/$A.previous"  # like a replaced root kept with its plant
cp -a "$ROOTS/$A/busybox-suid" "$ROOTS/$A.previous/busybox-suid"
for plant in "$ROOTS/$A/busybox-suid" "$ROOTS/$A.previous/busybox-suid"; do
  if out=$(nobody "$plant" id -u 2>&1); then
    attack setuid_plant SUCCEEDED "nobody ran $plant: euid $out"
  elif nobody test -e "$plant"; then
    attack setuid_plant SUCCEEDED "nobody can reach $plant"
  else
    attack setuid_plant blocked "nobody: $out"
  fi
done
rm -rf "$ROOTS/$A.previous"

log "--- open_parent"
wait_until 15 status_is "$C" state failed || true
c_error=$(status_of "$C" last_error)
log "jail c: state $(status_of "$C" state): $c_error"
if [[ $(status_of "$C" state) == running ]] || serves "$C" 80; then
  attack open_parent SUCCEEDED "jail c runs although its root is reachable"
elif [[ $c_error != *"chmod 0700 $JAILD_TEST_DIR/open"* ]]; then
  attack open_parent SUCCEEDED "jail c did not start, but the error does not give the fix: $c_error"
else
  attack open_parent blocked
fi

log "--- terminal_escapes"
jaild_log_has_fake() { grep -qF "jail '$B' started (firejail pid 1)" "$JAILD_LOG"; }
wait_until 10 jaild_log_has_fake || fail "jail d's imitated line never reached jaild's log"
if grep -q $'\033' "$JAILD_LOG"; then
  attack terminal_escapes SUCCEEDED "jaild's console output has a raw ESC: $(grep -a $'\033' "$JAILD_LOG" | head -n 2 | od -c | head -n 4)"
elif grep -F "jail '$B' started (firejail pid 1)" "$JAILD_LOG" | grep -vqF "[$D:stdout]"; then
  attack terminal_escapes SUCCEEDED "the imitated line is not marked as jail d's: $(grep -F "(firejail pid 1)" "$JAILD_LOG")"
elif ! grep -qF '\x1b]0;pwned\x07title' "$JAILD_LOG"; then
  attack terminal_escapes SUCCEEDED "the sequences are not shown escaped on jaild's console"
else
  attack terminal_escapes blocked "console: $(grep -F 'pwned' "$JAILD_LOG" | head -n 1)"
fi
logs=$(jailctl logs -n 100 "$D")
if [[ $logs == *$'\033'* || $logs == *$'\a'* ]]; then
  attack terminal_escapes SUCCEEDED "jailctl logs prints raw control characters"
elif [[ $logs != *'\x1b[2Jcleared'* ]] || ! grep -F "(firejail pid 1)" <<<"$logs" | grep -q ' stdout '; then
  attack terminal_escapes SUCCEEDED "jailctl logs does not show them escaped and marked: $logs"
else
  attack terminal_escapes blocked "jailctl logs: $(grep -F 'pwned' <<<"$logs")"
fi

log "--- tamper_root: chmod 0775 / in jail a, then jaild restarts"
jailctl join "$A" -- /bin/busybox chmod 0775 / || fail "root in jail a could not chmod its root"
[[ $(stat -c %a "$ROOTS/$A") == 775 ]] || fail "jail a's root has mode $(stat -c %a "$ROOTS/$A")"
if ! out=$(jailctl reload 2>&1); then
  attack tamper_root SUCCEEDED "reload refused: $out"
fi
stop_jaild
# What a restart (boot, upgrade, watchdog) does first: load the file. It must not be refused
# for one jail's root (jaild would exit 78, every jail down).
if ! out=$("$JAILD_TEST_BUILD_DIR/daemon/jaild" --check-config --config "$JAILD_CONFIG" 2>&1); then
  attack tamper_root SUCCEEDED "the configuration is refused for jail a's root: $out"
  chmod 0755 "$ROOTS/$A"  # so that the rest of the test can go on
fi
start_jaild "$JAILD_CONFIG"
if ! wait_until 10 serves "$B" 8080; then
  attack tamper_root SUCCEEDED "jail b does not come back after a jaild restart"
fi
wait_until 15 status_is "$A" state failed || true
a_error=$(status_of "$A" last_error)
log "jail a: state $(status_of "$A" state): $a_error"
if ! kill -0 "$JAILD_PID" 2>/dev/null; then
  attack tamper_root SUCCEEDED "jaild exited"
elif [[ $(status_of "$A" state) == running ]]; then
  attack tamper_root SUCCEEDED "the tampered root was started"
elif [[ $a_error != *"$ROOTS/$A"*"chmod go-w"* ]]; then
  attack tamper_root SUCCEEDED "jail a failed without the reason: $a_error"
else
  attack tamper_root blocked
fi
chmod 0755 "$ROOTS/$A"
jailctl start "$A"
wait_until 10 serves "$A" 80 || fail "jail a does not serve once its root is fixed"

log "--- immutable_root: chattr +i on /etc of jail a's root"
chattr +i "$ROOTS/$A/etc"
defer chattr -i "$ROOTS/$A/etc"
wait_until 5 test -n "$(status_of "$A" main_pid | grep -v null)"
kill -KILL "$(status_of "$A" main_pid)"
wait_until 15 status_is "$A" state failed || true
a_error=$(status_of "$A" last_error)
log "jail a: state $(status_of "$A" state): $a_error"
if [[ $(status_of "$A" state) == running ]]; then
  attack immutable_root SUCCEEDED "jail a started with an immutable root"
elif [[ $a_error != *"chattr -i -a $ROOTS/$A/etc"* ]]; then
  attack immutable_root SUCCEEDED "the error does not give the fix: $a_error"
else
  attack immutable_root blocked
fi
chattr -i "$ROOTS/$A/etc"
serves "$B" 8080 || fail "jail b stopped serving"

log "--- foreign_sibling: an admin's $A.new and a link as $A.old"
stop_jaild
write_config "$(web_jail "$A" 2 80 '"provision": {"packages": []}' "$CRASH_LOOP_RESTART")" "$(web_jail "$B" 3 8080)"
start_jaild "$JAILD_CONFIG"
mkdir -p "$ROOTS/$A.new" "$JAILD_TEST_DIR/precious"
echo keep >"$ROOTS/$A.new/precious"
echo keep >"$JAILD_TEST_DIR/precious/file"
try_provision() {  # ROUND
  local out status=0
  out=$(jailctl provision --force "$A" 2>&1) || status=$?
  log "provision with a foreign $1: status $status: $out"
  if [[ ! -e $JAILD_TEST_DIR/precious/file ]] || [[ $1 == ROOT.new && ! -e $ROOTS/$A.new/precious ]]; then
    attack foreign_sibling SUCCEEDED "provisioning removed what jaild did not make ($1)"
  elif ((status == 0)) || [[ $out != *"was not created by jaild"* && $out != *"is a symbolic link"* ]]; then
    attack foreign_sibling SUCCEEDED "provisioning went ahead or did not say why ($1): $out"
  else
    attack foreign_sibling blocked "$1"
  fi
}
try_provision ROOT.new
rm -rf "$ROOTS/$A.new"
ln -s "$JAILD_TEST_DIR/precious" "$ROOTS/$A.old"
try_provision ROOT.old
rm "$ROOTS/$A.old"
serves "$A" 80 || fail "jail a stopped serving"
stop_jaild

((failures == 0)) || fail "$failures attack(s) succeeded"
log "roots containment test passed"

#!/usr/bin/env bash
# Root inside a jail under jaild's default hardening tries to get out: as the jail's main
# command, through `jailctl join` (piped, with the admin's terminal on stdin), and as an exec
# health check whose binary it replaced. A local user squats the jail's firejail name and
# plants nothing that helps. Every attempt prints "ATTACK name: blocked|SUCCEEDED"; this test
# fails on any SUCCEEDED, on a missing report, and when the host side shows a change.
#
# JAILD_ATTACK_PROFILE=none runs the same attacks against an unhardened jail (profile none):
# then the test must fail (used to check that the checks can fail).
set -euo pipefail
source "$JAILD_SOURCE_DIR/tests/integration/harness/lib.sh"

attacker=$JAILD_TEST_BUILD_DIR/tests/integration/containment/jaild_attacker
[[ -x $attacker ]] || fail "$attacker is not built"
JAIL=${JAILD_TEST_ID}-www
profile=${JAILD_ATTACK_PROFILE:-default}

# Like production: roots in a directory only root may enter, under directories others may.
chmod 0755 "$JAILD_TEST_DIR"
install -d -m 0700 "$JAILD_TEST_DIR/jails"
root=$JAILD_TEST_DIR/jails/www
make_busybox_root "$root" "the jail's own page"
install -m 0755 "$attacker" "$root/bin/attacker"
marker=$JAILD_TEST_DIR/host-marker
echo "host only" >"$marker"

# Things on the host the jail must not reach: a TCP service on every address (IPv4 and IPv6)
# and a host process.
timeout 110 socat TCP6-LISTEN:2222,fork,reuseaddr,ipv6only=0 SYSTEM:'echo host-service' &
defer kill $! 2>/dev/null
sleep 300 &
host_sleeper=$!
defer kill $host_sleeper 2>/dev/null

# A local user takes the jail's firejail name first (firejail is setuid; names are global).
# firejail refuses system accounts such as nobody: a regular user, in a private /etc/passwd.
world_etc_entry /etc/passwd jaildsquat:x:4321:4321::/tmp:/bin/sh
setpriv --reuid=4321 --regid=4321 --clear-groups \
  firejail --quiet --noprofile --name="$JAIL" sleep 100 >/dev/null 2>&1 &
squatter=$!
defer wait_until 5 process_gone $squatter
defer kill -KILL $squatter 2>/dev/null
wait_until 10 firejail_sandbox_pid "$JAIL" >/dev/null || fail "the squatter's sandbox did not start"
rm -f /run/firejail/name/jaild-attack

write_config "$(cat <<JSON
  "$JAIL": {
    "root": "$root", "address": "10.213.0.2", "profile": "$profile", "publish": [80],
    "command": {"shell": "/bin/attacker all $marker 2222 10.213.0.1 $host_sleeper fe80::1 >/www/report-main.txt 2>&1; exec httpd -f -p 10.213.0.2:80 -h /www"},
    "health": {"exec": ["/bin/attacker", "probe", "/www/report-health.txt", "$marker"],
               "interval": "300ms", "timeout": "5s"} }
JSON
)"
start_jaild "$JAILD_CONFIG"
host6=$(ip -6 addr show dev jd0 scope link | sed -n "s/.*inet6 \(fe80::[^/]*\).*/\1/p" | head -n1)
[[ -n $host6 ]] || host6=fe80::1
# The health check runs every 300 ms and rewrites its report each time: the test reads a copy
# taken while the report is whole (ends with its ATTEMPTS line), never the file being written.
whole_health_report() {
  cp "$root/www/report-health.txt" "$JAILD_TEST_DIR/report-health.txt" 2>/dev/null &&
    grep -q '^ATTEMPTS' "$JAILD_TEST_DIR/report-health.txt"
}
wait_until 20 whole_health_report || fail "the health check never ran the planted binary to its end"
wait_until 20 grep -q '^ATTEMPTS' "$root/www/report-main.txt" || fail "the main command's attack report is missing"

failures=0
# check_report NAME FILE MIN_ATTEMPTS: prints the report, counts SUCCEEDED lines.
check_report() {
  local name=$1 file=$2 min=$3 attempts
  log "== $name"
  grep -E '^(ATTACK|STATUS)' "$file" | sed 's/^/   /' || true
  attempts=$(grep -c '^ATTACK' "$file" || true)
  ((attempts >= min)) || { log "FAIL: $name: only $attempts attempts reported (expected >= $min)"; failures=$((failures + 1)); }
  if grep -q ': SUCCEEDED' "$file"; then
    log "FAIL: $name: $(grep -c ': SUCCEEDED' "$file") attempt(s) succeeded"
    failures=$((failures + 1))
  fi
}
check_report "as the jail's main command" "$root/www/report-main.txt" 30
check_report "as an exec health check (planted binary)" "$JAILD_TEST_DIR/report-health.txt" 15

# Through a join, piped, with the admin's terminal on stdin (the TIOCSTI setup).
jailctl join "$JAIL" -- /bin/attacker all "$marker" 2222 10.213.0.1 "$host_sleeper" "$host6" >"$JAILD_TEST_DIR/join.txt" 2>&1 || true
check_report "through jailctl join" "$JAILD_TEST_DIR/join.txt" 30
script -qec "$JAILD_TEST_BUILD_DIR/client/jailctl --socket $JAILD_TEST_DIR/jaild.sock join $JAIL -- /bin/attacker stdio | cat" /dev/null \
  >"$JAILD_TEST_DIR/stdio.txt" 2>&1 </dev/null || true
tr -d '\r' <"$JAILD_TEST_DIR/stdio.txt" >"$JAILD_TEST_DIR/stdio-clean.txt"
check_report "a piped join run from a terminal" "$JAILD_TEST_DIR/stdio-clean.txt" 4

# The joined process is confined exactly like the main process (capabilities, no_new_privs,
# seccomp filters), and both are confined at all.
main_pid=$(jailctl --json status "$JAIL" | jq -r '.jails[0].main_pid')
joined=$(jailctl join "$JAIL" -- /bin/attacker status)
log "main process: $(grep -E '^(CapBnd|NoNewPrivs|Seccomp_filters)' /proc/$main_pid/status | tr '\t\n' '  ')"
log "joined:       $(grep -E 'CapBnd|NoNewPrivs|Seccomp_filters' <<<"$joined" | sed 's/STATUS //' | tr '\t\n' '  ')"
for field in CapBnd NoNewPrivs Seccomp_filters; do
  m=$(awk -v f="$field:" '$1 == f {print $2}' /proc/$main_pid/status)
  j=$(awk -v f="$field:" '$2 == f {print $3}' <<<"$joined")
  [[ -n $j && $m == "$j" ]] || { log "FAIL: $field of a joined process ($j) differs from the main process's ($m)"; failures=$((failures + 1)); }
done
if [[ $profile == default ]]; then
  jailctl status "$JAIL" | grep -q "no_new_privs yes; seccomp filter" ||
    { log "FAIL: jailctl status does not show the main process's confinement"; jailctl status "$JAIL"; failures=$((failures + 1)); }
fi

# A join leaves nothing behind: a helper it started to push input later is ended with it.
jailctl join "$JAIL" -- /bin/attacker linger 30 >/dev/null
if ! wait_until 3 bash -c '! pgrep -f "[a]ttacker linger" >/dev/null'; then
  log "FAIL: a process a join left behind is still running: $(pgrep -af '[a]ttacker linger')"
  failures=$((failures + 1))
fi

# The squatter's sandbox neither took the join nor was killed by jaild (names are not trusted).
[[ $(jailctl join "$JAIL" -- cat /www/index.html) == "the jail's own page" ]] ||
  { log "FAIL: a join by the jail's name did not land in the jail"; failures=$((failures + 1)); }
[[ $(jailctl join "$JAIL" -- hostname) == "$JAIL" ]] ||
  { log "FAIL: a join got another sandbox's hostname"; failures=$((failures + 1)); }
kill -0 $squatter 2>/dev/null || { log "FAIL: jaild killed a local user's sandbox by its name"; failures=$((failures + 1)); }

# The host side: the host process lives, the host's firejail registry has nothing of the
# jail's, the planted setuid file gives a local user nothing.
kill -0 $host_sleeper 2>/dev/null || { log "FAIL: the jail killed a host process"; failures=$((failures + 1)); }
[[ ! -e /run/firejail/name/jaild-attack ]] ||
  { log "FAIL: the jail wrote into the host's firejail registry"; rm -f /run/firejail/name/jaild-attack; failures=$((failures + 1)); }
[[ -u $root/www/id ]] || { log "FAIL: the setuid plant is missing (the attacker did not run?)"; failures=$((failures + 1)); }
# Through a shell: setpriv's own exec still carries root's saved uid and reaches the file.
euid=$(setpriv --reuid=65534 --regid=65534 --clear-groups /bin/sh -c "exec '$root/www/id' -u" 2>&1 || true)
log "nobody runs the planted setuid 'id' from the host: ${euid:-nothing}"
[[ $euid != 0 ]] || { log "FAIL: a local user got root through a setuid file planted in a jail"; failures=$((failures + 1)); }
[[ $(cat "$marker") == "host only" ]] || { log "FAIL: the host marker was changed"; failures=$((failures + 1)); }

stop_jaild
((failures == 0)) || fail "$failures containment check(s) failed"
log "containment: every attempt was blocked"

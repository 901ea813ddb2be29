#!/usr/bin/env bash
# Issue 14: a hostile member of group jaild against the running daemon (under a 1024-descriptor
# limit). 100 connections at once pass lingering TCP sockets, pipeline logs requests and hold
# events streams without reading, and keep opening more (hostile.py). Checks: root's status
# keeps being answered, p99 under 100 ms (a hang detector, not a speed target: the ratio to
# idle is bench figure 8's, measured on a quiet machine, `sudo bench/run-all --only 8`); jaild's
# RSS grows by less than 16 MiB; no jail changes state because of the member and a jail root
# restarts meanwhile comes back running; refusals are logged once per burst; afterwards jaild's
# descriptors and memory are back where they were.
set -euo pipefail
source "$JAILD_SOURCE_DIR/tests/integration/harness/lib.sh"
here=$(dirname "$0")

# ---- the member: uid 64999 in group jaild ----
# The world's mount namespace is private: it gets its own /etc/group with "jaild" (gid 4243),
# so the host's users and groups are never touched (not even when the test is killed).
# setpriv and jaild (SO_PEERCRED, SO_PEERGROUPS) need no passwd entry for the uid.
world_etc_entry /etc/group jaild:x:4243:
chmod 0711 "$JAILD_TEST_DIR"
drop=$JAILD_TEST_DIR/member
mkdir -m 0777 "$drop"
as_member() { as_jaild_member 64999 "$@"; }

STEADY=${JAILD_TEST_ID}-steady
RESTARTED=${JAILD_TEST_ID}-restarted
tick='while true; do echo tick padding-padding-padding-padding; sleep 0.2; done'
write_config \
  "\"$STEADY\": {\"root\": \"$(jail_root "$STEADY")\", \"address\": \"10.213.0.2\", \"profile\": \"none\", \"command\": {\"shell\": \"$tick\"}}" \
  "\"$RESTARTED\": {\"root\": \"$(jail_root "$RESTARTED")\", \"address\": \"10.213.0.3\", \"profile\": \"none\", \"command\": {\"shell\": \"$tick\"}}"
ulimit -n 1024  # the limit the attacks of issue 14 were played against
start_jaild "$JAILD_CONFIG"
wait_until 10 status_is "$STEADY" state running || fail "$STEADY not running"
wait_until 10 status_is "$RESTARTED" state running || fail "$RESTARTED not running"
SOCK=$JAILD_TEST_DIR/jaild.sock
[[ $(stat -c %G "$SOCK") == jaild ]] || fail "the socket is not group jaild: $(stat -c '%U:%G %a' "$SOCK")"
# The member runs copies (the source and build trees may not be readable by other users).
cp "$here/hostile.py" "$JAILD_TEST_BUILD_DIR/client/jailctl" "$drop/"
as_member "$drop/jailctl" --socket "$SOCK" status >/dev/null || fail "the member cannot run jailctl status"

steady_pid=$(status_of "$STEADY" pid)
steady_restarts=$(status_of "$STEADY" restarts)
sleep 1
fds_before=$(jaild_fd_count)
rss_before=$(jaild_rss_kib)
# jailctl status, the whole process as root runs it: p50 and p99 of 40 runs.
jailctl_probe() {
  local i t0
  for ((i = 0; i < 40; i++)); do
    t0=$(date +%s%N)
    jailctl status >/dev/null || fail "root's jailctl status failed"
    echo $(( ($(date +%s%N) - t0) / 1000 ))
  done | sort -n | awk '{ v[NR] = $1 } END { printf "n=%d p50_ms=%.3f p99_ms=%.3f\n", NR, v[int(NR / 2) + 1] / 1000, v[int(NR * 0.99 + 0.5)] / 1000 }'
}
idle=$(/usr/bin/python3 "$here/status_probe.py" "$SOCK" 5)
idle_cli=$(jailctl_probe)
log "idle: socket [$idle] jailctl [$idle_cli]; jaild fds $fds_before, RSS $rss_before kB"

# ---- the attack ----
as_member /usr/bin/python3 "$drop/hostile.py" "$SOCK" 20 "$drop/report" "$STEADY" &
attacker=$!
defer kill "$attacker"
peak=$rss_before
sleep 3  # the 100 connections are set up
( for _ in $(seq 100); do jaild_rss_kib >>"$JAILD_TEST_DIR/rss-samples"; jaild_fd_count >>"$JAILD_TEST_DIR/fd-samples"; sleep 0.15; done ) &
sampler=$!
cpu0=$(jaild_cpu_ns)
busy=$(/usr/bin/python3 "$here/status_probe.py" "$SOCK" 8)
busy_cli=$(jailctl_probe)
cpu_ms=$(( ($(jaild_cpu_ns) - cpu0) / 1000000 ))
log "under attack: socket [$busy] jailctl [$busy_cli]; jaild fds $(jaild_fd_count), jaild CPU ${cpu_ms} ms meanwhile"
jailctl restart "$RESTARTED" >/dev/null || fail "root's restart of $RESTARTED failed during the attack"
wait "$attacker" || fail "the attacker failed (status $?)"
wait "$sampler" || true
peak=$(sort -n "$JAILD_TEST_DIR/rss-samples" | tail -n 1)
fds_peak=$(sort -n "$JAILD_TEST_DIR/fd-samples" | tail -n 1)
log "attacker's counts: $(tr '\n' ' ' <"$drop/report")"

# ---- what must hold ----
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p; s/^$1=\([0-9.]*\).*/\1/p" <<<"$2" | head -n 1; }
idle_p99=$(field p99_ms "$idle")
busy_p99=$(field p99_ms "$busy")
idle_cli_p99=$(field p99_ms "$idle_cli")
busy_cli_p99=$(field p99_ms "$busy_cli")
# Never above 100 ms, whichever way it is measured.
awk -v b="$busy_p99" 'BEGIN { exit !(b < 100) }' || fail "root's status p99 under attack is $busy_p99 ms (>= 100 ms)"
awk -v b="$busy_cli_p99" 'BEGIN { exit !(b < 100) }' || fail "root's jailctl status p99 under attack is $busy_cli_p99 ms (>= 100 ms)"
# The ratio to idle is logged, not judged: while ctest runs other tests beside this one it
# measures the machine (a CI run saw idle 11.5 ms -> 25.6 ms beside fuzz.short); bench figure
# 8 judges it on a quiet machine.
log "root's status p99: socket $idle_p99 -> $busy_p99 ms, jailctl $idle_cli_p99 -> $busy_cli_p99 ms"
growth=$((peak - rss_before))
log "jaild RSS: before $rss_before kB, peak during the attack $peak kB (+$growth kB)"
if [[ -n ${JAILD_TEST_SANITIZED:-} ]]; then
  log "sanitizer build: RSS is not a measure here"
else
  ((growth < 16384)) || fail "jaild grew by $growth kB under the attack"
fi
# 64 sessions (the per-uid cap) and what jaild holds anyway; well below the 1024 limit.
log "jaild descriptors: $fds_before before, at most $fds_peak during the attack"
((fds_peak < fds_before + 64 + 64)) || fail "jaild held $fds_peak descriptors during the attack ($fds_before before)"
report() { awk -v k="$1" '$1 == k { print $2 }' "$drop/report"; }
(( $(report refused) > 0 )) || fail "no connection was refused beyond the per-uid cap"
(( $(report fd_sent) + $(report fd_refused_eperm) > 0 )) || fail "the attacker passed no descriptor"
refusal_lines=$(grep -c 'refused a connection' "$JAILD_LOG" || true)
log "refused $(report refused) connections; jaild logged $refusal_lines line(s) about it"
((refusal_lines <= 3)) || fail "$refusal_lines log lines for one burst of refusals"
[[ $(status_of "$STEADY" pid) == "$steady_pid" && $(status_of "$STEADY" restarts) == "$steady_restarts" ]] ||
  fail "$STEADY changed during the attack: pid $steady_pid -> $(status_of "$STEADY" pid)"
status_is "$STEADY" state running || fail "$STEADY is $(status_of "$STEADY" state)"
wait_until 10 status_is "$RESTARTED" state running || fail "$RESTARTED is $(status_of "$RESTARTED" state) after root's restart"

# ---- after the member left ----
back() { (( $(jaild_fd_count) <= fds_before + 2 )); }
wait_until 20 back || fail "jaild holds $(jaild_fd_count) descriptors after the attack, $fds_before before"
rss_after=$(jaild_rss_kib)
log "after: jaild fds $(jaild_fd_count) (before $fds_before), RSS $rss_after kB (before $rss_before)"
if [[ -z ${JAILD_TEST_SANITIZED:-} ]]; then
  ((rss_after - rss_before < 16384)) || fail "jaild kept $((rss_after - rss_before)) kB after the attack"
fi
jailctl status >/dev/null || fail "jaild stopped answering"
stop_jaild
log "hostile test passed: idle [$idle], under attack [$busy], RSS +$growth kB at peak, descriptors $fds_before -> $fds_peak at peak"

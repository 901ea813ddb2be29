#!/usr/bin/env bash
# A jail floods its output (issue 17): 1,000,000 lines as fast as it can. jaild passes at most
# its output limit on (limits.output_lines_per_second, output_burst; defaults 1000/s, 10000),
# counts the rest as dropped (lines logged + dropped = 1,000,000 exactly), reports the drops in
# its log, keeps its memory bounded and its CPU low (measured, logged), and another jail's
# lines of the same seconds all reach the log.
set -euo pipefail
source "$JAILD_SOURCE_DIR/tests/integration/harness/lib.sh"
source "$(dirname "$0")/common.sh"

F=${JAILD_TEST_ID}-f T=${JAILD_TEST_ID}-t
froot=$(jail_root "$F")
troot=$(jail_root "$T")
write_config "\"$F\": {\"root\": \"$froot\", \"address\": \"10.213.0.2\", \"profile\": \"none\",
    \"command\": {\"shell\": \"while [ ! -e /tmp/go ]; do usleep 50000; done; yes flood-line-padding-padding-padding-pad | head -n 1000000; touch /tmp/flood-end; exec sleep 100000\"}}" \
  "\"$T\": {\"root\": \"$troot\", \"address\": \"10.213.0.3\", \"profile\": \"none\",
    \"command\": {\"shell\": \"i=0; while [ ! -e /tmp/stop ] && [ \$i -lt 5000 ]; do echo tick-\$i; i=\$((i+1)); usleep 20000; done; echo tick-last-\$i; exec sleep 100000\"}}"
start_jaild "$JAILD_CONFIG"
wait_until 10 status_is "$F" state running || fail "$F not running"
wait_until 10 status_is "$T" state running || fail "$T not running"
rss0=$(jaild_rss_kib) cpu0=$(jaild_cpu_ns) t0=$EPOCHREALTIME
touch "$froot/tmp/go"
wait_until 120 test -e "$froot/tmp/flood-end" || fail "the flood did not end in 120 s"
cpu1=$(jaild_cpu_ns) t1=$EPOCHREALTIME hwm=$(jaild_hwm_kib)
touch "$troot/tmp/stop"
awk -v c="$((cpu1 - cpu0))" -v a="$t0" -v b="$t1" \
  'BEGIN { printf "flood of 1000000 lines took %.1f s; jaild used %.1f%% of a core meanwhile\n", b - a, c / 1e7 / (b - a) }' >&2
log "jaild RSS ${rss0} KiB before the flood, peak ${hwm} KiB"

dropped_is_final() {
  local a b
  a=$(status_of "$F" dropped_lines)
  sleep 0.3
  b=$(status_of "$F" dropped_lines)
  [[ $a == "$b" && $a -gt 0 ]]
}
wait_until 10 dropped_is_final || fail "$F's dropped count is missing or still moving: $(jailctl --json status "$F")"
dropped=$(status_of "$F" dropped_lines)
logged=$(log_count "\[$F:stdout\] flood-line")
log "$F: $logged lines logged, $dropped dropped"
((logged + dropped == 1000000)) || fail "logged $logged + dropped $dropped != 1000000"
((logged < 200000)) || fail "$logged lines logged: the output limit did not hold"
jailctl status | grep -F "$F: $dropped output lines dropped" >/dev/null ||
  fail "jailctl status does not show the dropped lines: $(jailctl status)"
wait_until 15 log_has "jail '$F' wrote more output than its limit" || fail "no report of the dropped lines in jaild's log"
log "report: $(grep "wrote more output than its limit" "$JAILD_LOG" | tail -n 1)"

ticks_done() { log_has "\[$T:stdout\] tick-last-"; }
wait_until 10 ticks_done || fail "$T's last line never reached the log"
last=$(grep -o "\[$T:stdout\] tick-last-[0-9]*" "$JAILD_LOG" | sed 's/.*tick-last-//')
got=$(grep -c "\[$T:stdout\] tick-[0-9]*$" "$JAILD_LOG" || true)
((got == last)) || fail "$T printed $last lines during the flood, $got reached the log"
log "all $last lines of $T reached the log"
stop_jaild
log "flood test passed"

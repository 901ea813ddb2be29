#!/usr/bin/env bash
# kill -9 of jaild (1) while its jails run, (2) in the middle of starting jails, (3) in the
# middle of a reload, (4) followed by a configuration without one of the running jails; each
# time a new jaild must clean up or adopt what the dead one left
# (sandboxes, /run/netns entries, veths, the nftables table) so that every configured jail
# runs exactly once, jails no longer configured are gone, and nothing is duplicated.
set -euo pipefail
source "$JAILD_SOURCE_DIR/tests/integration/harness/lib.sh"
source "$(dirname "$0")/common.sh"

A=${JAILD_TEST_ID}-a B=${JAILD_TEST_ID}-b C=${JAILD_TEST_ID}-c D=${JAILD_TEST_ID}-d
ja=$(web_jail "$A" 2 80)
jb=$(web_jail "$B" 3 8080 "\"after\": [\"$A\"]")
jc=$(web_jail "$C" 4 8081 "\"after\": [\"$B\"]")
jd=$(web_jail "$D" 5 8082)
write_config "$ja" "$jb" "$jc"

# all_good JAIL:PORT...: exactly these jails run once each and serve; netns, table and
# links match what one healthy jaild has.
all_good() {
  local spec names=()
  for spec in "$@"; do
    names+=("${spec%%:*}")
    wait_until 15 status_is "${spec%%:*}" state running || fail "${spec%%:*} is not running"
    wait_until 5 serves "${spec%%:*}" "${spec##*:}" || fail "${spec%%:*} does not serve on ${spec##*:}"
  done
  expect_exactly_one "${names[@]}"
  local want="outside" n
  for n in "${names[@]}"; do want+=" jaild-$n"; done
  want=$(tr ' ' '\n' <<<"$want" | sort | tr '\n' ' ')
  [[ $(netns_list) == "$want" ]] || fail "netns: expected '$want', found '$(netns_list)'"
  [[ $(nft_table_count) == 1 ]] || fail "expected one nft table inet jaild, found $(nft_table_count)"
}

log "--- 1. kill -9 while jails run: the new jaild adopts them (live restore)"
start_jaild "$JAILD_CONFIG"
all_good "$A:80" "$B:8080" "$C:8081"
links_before=$(links_list)
rules_before=$(nft_rule_count)
old_pids=("$(status_of "$A" pid)" "$(status_of "$B" pid)" "$(status_of "$C" pid)")
kill9_jaild
restart_jaild "$JAILD_CONFIG"
all_good "$A:80" "$B:8080" "$C:8081"
[[ "$(status_of "$A" pid) $(status_of "$B" pid) $(status_of "$C" pid)" == "${old_pids[*]}" ]] ||
  fail "the jails were not adopted: pids ${old_pids[*]} became $(status_of "$A" pid) $(status_of "$B" pid) $(status_of "$C" pid)"
[[ $(links_list) == "$links_before" ]] || fail "links differ after adoption: '$links_before' -> '$(links_list)'"

log "--- 1b. kill -9, and the new jaild has no state to adopt from: the sandboxes are leftovers"
kill9_jaild
rm -f "$JAILD_RUN_DIR/state.json"
restart_jaild "$JAILD_CONFIG"
all_good "$A:80" "$B:8080" "$C:8081"
for p in "${old_pids[@]}"; do
  wait_until 5 process_gone "$p" || fail "the dead jaild's sandbox (firejail pid $p) still runs"
done
[[ $(links_list) == "$links_before" ]] || fail "links differ after recovery: '$links_before' -> '$(links_list)'"
[[ $(nft_rule_count) == "$rules_before" ]] || fail "nft rules: $rules_before before, $(nft_rule_count) after"
grep -q "left by an earlier jaild" "$JAILD_LOG" || fail "the leftover sandboxes were not reported"

log "--- 2. kill -9 in the middle of starting jails"
stop_jaild
: >"$JAILD_LOG"
start_jaild "$JAILD_CONFIG"
wait_until 10 grep -q "jail '$A' started" "$JAILD_LOG"
kill9_jaild   # b and c are still starting or waiting for a
restart_jaild "$JAILD_CONFIG"
all_good "$A:80" "$B:8080" "$C:8081"
[[ $(links_list) == "$links_before" ]] || fail "links differ after a crash during start: '$(links_list)'"

log "--- 3. kill -9 in the middle of a reload (c removed, d added)"
c_pid=$(status_of "$C" pid)
write_config "$ja" "$jb" "$jd"
kill -HUP "$JAILD_PID"
wait_until 5 grep -q "reload" "$JAILD_LOG"
kill9_jaild
restart_jaild "$JAILD_CONFIG"
all_good "$A:80" "$B:8080" "$D:8082"
! jailctl status "$C" >/dev/null 2>&1 || fail "removed jail c is still known"
wait_until 10 process_gone "$c_pid" || fail "removed jail c's sandbox (firejail pid $c_pid) survived the crashed reload"
[[ $(sandbox_count "$C") == 0 ]] || fail "a sandbox named $C still runs"
[[ ! -e /run/netns/jaild-$C ]] || fail "removed jail c's netns survived"

log "--- 4. kill -9, then a configuration without a running jail (d): its sandbox must go"
d_pid=$(status_of "$D" pid)
kill9_jaild
write_config "$ja" "$jb"
restart_jaild "$JAILD_CONFIG"
all_good "$A:80" "$B:8080"
wait_until 10 process_gone "$d_pid" || fail "jail d, no longer configured, still runs (firejail pid $d_pid)"
[[ $(sandbox_count "$D") == 0 ]] || fail "a sandbox named $D still runs"

stop_jaild
[[ $(nft_table_count) == 0 ]] || fail "jaild's table is still there after a clean stop"
log "crash recovery test passed"

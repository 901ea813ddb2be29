#!/usr/bin/env bash
# Live restore without systemd (jails are jaild's children here): jaild is killed with -9 and a
# new one started with the same --run-dir adopts the running jails. Checked: the same PIDs,
# states and restart counters; a held-down jail stays down; a jail killed while jaild was away
# is restarted; a steady stream of requests to a published port sees no failure; the bridge
# and the nftables table are not recreated (same ifindex, same table handle, counters kept).
# Attack: while jaild is down a local user (uid 4343) starts a firejail sandbox with a jail's
# name, and the state is even pointed at it: the new jaild neither adopts nor kills it.
set -euo pipefail
source "$JAILD_SOURCE_DIR/tests/integration/harness/lib.sh"
source "$JAILD_SOURCE_DIR/tests/integration/faults/common.sh"

W=${JAILD_TEST_ID}-w D=${JAILD_TEST_ID}-d H=${JAILD_TEST_ID}-h
write_config "$(web_jail "$W" 2 80)" "$(web_jail "$D" 3 8080)" "$(web_jail "$H" 4 8081)"
start_jaild "$JAILD_CONFIG"
for j in "$W" "$D" "$H"; do wait_until 15 status_is "$j" state running || fail "$j is not running"; done
wait_until 5 serves "$W" 80 || fail "$W does not serve"

log "one crash of $W (restarts 1), $H shut down by the admin"
crash "$W"
wait_until 10 status_is "$W" restarts 1 || fail "$W was not restarted after its crash"
wait_until 10 status_is "$W" state running || fail "$W is not running again"
wait_until 5 serves "$W" 80 || fail "$W does not serve after its restart"
jailctl shutdown "$H" >/dev/null
wait_until 15 status_is "$H" state stopped || fail "$H did not stop"

w_pid=$(status_of "$W" pid) w_main=$(status_of "$W" main_pid) d_pid=$(status_of "$D" pid)
ifindex=$(cat /sys/class/net/jd0/ifindex)
table_handle() { nft -a list table inet jaild | sed -n '1s/.*# handle \([0-9]*\).*/\1/p'; }
handle=$(table_handle)
[[ -n $handle ]] || fail "no handle for table inet jaild"

log "a steady stream of requests to $W's published port from outside"
loop_out=$JAILD_TEST_DIR/requests
request_loop() {
  local ok=0 bad=0 end=$((SECONDS + $1))
  while ((SECONDS < end)); do
    if [[ $(ip netns exec outside curl -sS -m 2 "http://$JAILD_PUBLIC_ADDR:80/" 2>/dev/null) == "$W says hi" ]]; then
      ok=$((ok + 1))
    else
      bad=$((bad + 1))
    fi
    sleep 0.02
  done
  echo "$ok $bad" >"$loop_out"
}
request_loop 12 &
loop_pid=$!
defer kill "$loop_pid" 2>/dev/null
sleep 1

kill9_jaild
log "kill -9 of $D's sandbox while jaild is away"
kill -KILL "$d_pid"
wait_until 5 process_gone "$d_pid" || fail "$D's sandbox survived kill -9"

log "attack: a local user starts a sandbox named $D while jaild is down"
# firejail refuses system users (nobody included): a regular one, in this world's /etc only.
world_etc_entry /etc/passwd "mallory:x:4343:4343::/tmp:/bin/sh"
world_etc_entry /etc/group "mallory:x:4343:"
user_log=$JAILD_TEST_DIR/user-firejail.log
setpriv --reuid 4343 --regid 4343 --clear-groups env HOME=/tmp \
  firejail --noprofile --quiet --name="$D" /bin/sleep 300 >"$user_log" 2>&1 &
user_pid=$!
defer kill -KILL "$user_pid" 2>/dev/null
sleep 1
if process_gone "$user_pid"; then
  cat "$user_log" >&2
  fail "an unprivileged user could not start firejail here; the attack case cannot run"
fi
# Even a record that points at the user's sandbox must not make jaild take it.
user_start=$(awk '{ sub(/^.*\) /, ""); print $20 }' "/proc/$user_pid/stat")
python3 - "$JAILD_RUN_DIR/state.json" "$D" "$user_pid" "$user_start" <<'PY'
import json, os, sys
path, jail, pid, start = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
state = json.load(open(path))
for r in state["jails"]:
    if r["name"] == jail:
        r["firejail_pid"], r["firejail_start"] = pid, start
tmp = path + ".edit"
with open(tmp, "w") as f:
    json.dump(state, f)
os.chmod(tmp, 0o600)
os.rename(tmp, path)
PY

start_jaild "$JAILD_CONFIG"
wait_until 10 answers_within_2s || fail "the new jaild does not answer"
wait_until 5 status_is "$W" state running || fail "$W is not running after the restart of jaild"
[[ $(status_of "$W" pid) == "$w_pid" ]] || fail "$W was not adopted: pid $w_pid became $(status_of "$W" pid)"
[[ $(status_of "$W" restarts) == 1 ]] || fail "$W's restart count was not kept: $(status_of "$W" restarts)"
wait_until 5 status_is "$W" main_pid "$w_main" || fail "$W's main process is not $w_main: $(status_of "$W" main_pid)"
log_has "jail '$W' adopted" || fail "no adoption reported for $W"
[[ $(status_of "$H" state) == stopped ]] || fail "held-down $H is $(status_of "$H" state)"
[[ $(status_of "$H" held_down) == true ]] || fail "$H is no longer held down"
wait_until 15 status_is "$D" state running || fail "$D, killed while jaild was away, was not restarted"
new_d=$(status_of "$D" pid)
[[ $new_d != "$d_pid" && $new_d != "$user_pid" ]] || fail "$D runs as pid $new_d (old $d_pid, user's $user_pid)"
log_has "jail '$D' died while jaild was away" || fail "$D's end while away was not reported"
log_has "uid 4343" || fail "the user's sandbox was not refused for its uid"
process_gone "$user_pid" && fail "jaild killed the user's own sandbox"
[[ $(cat /sys/class/net/jd0/ifindex) == "$ifindex" ]] || fail "the bridge was recreated"
[[ $(table_handle) == "$handle" ]] || fail "table inet jaild was recreated (handle $handle -> $(table_handle))"
log_has "kept nftables tables" || fail "the tables were not reported as kept"

wait "$loop_pid" || true
read -r ok bad <"$loop_out"
log "requests during kill -9 and restart of jaild: $ok answered, $bad failed"
((ok > 50)) || fail "only $ok requests were answered"
((bad == 0)) || fail "$bad requests failed while jaild was killed and restarted"

log "a SIGTERM without systemd still stops every jail and removes the state"
kill -KILL "$user_pid" 2>/dev/null || true
stop_jaild
process_gone "$w_pid" || fail "$W's sandbox survived jaild's stop"
[[ ! -e $JAILD_RUN_DIR/state.json ]] || fail "the state survived a full stop"

# Figure 8 (sourced by bench/world.sh): root's `status` latency while a hostile member of group
# jaild holds 100 connections running every attack of issue 14 at once (descriptor passing with
# lingering TCP sockets, pipelined logs it never reads, events streams it never reads, more
# connections than its cap), against idle in the same run; and jaild's RSS growth meanwhile.
# The attacker and the probe are tests/integration/client/hostile.py and status_probe.py.

log "figure 8: root's status latency under 100 hostile member connections vs idle"
HOSTILE_REPS=$((SMOKE ? 1 : 3))
HOSTILE_IDLE_S=$((SMOKE ? 2 : 5))
HOSTILE_ATTACK_S=$((SMOKE ? 3 : 10))
clients_dir=$JAILD_SOURCE_DIR/tests/integration/client
# A private /etc/group in the world's mount namespace (the host's is never touched) with
# "jaild"; the member is a bare uid (no passwd entry needed).
world_etc_entry /etc/group jaild:x:4243:
chmod 0711 "$JAILD_TEST_DIR"
member_dir=$JAILD_TEST_DIR/member
mkdir -p -m 0777 "$member_dir"
cp "$clients_dir/hostile.py" "$member_dir/"
HOSTILE=$ID-hostile
write_config "$(printf '"%s": {"root": "%s", "address": "10.213.0.5", "profile": "none",
  "command": ["/bin/sh", "-c", "while true; do echo tick; sleep 0.2; done"]}' "$HOSTILE" "$(root_for "$HOSTILE")")"
start_jaild "$JAILD_CONFIG"
wait_until 20 status_is "$HOSTILE" state running || fail "$HOSTILE not running"
probe_field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }
for ((i = 0; i < HOSTILE_REPS; i++)); do
  idle=$(/usr/bin/python3 "$clients_dir/status_probe.py" "$SOCK" "$HOSTILE_IDLE_S")
  "$PROBE" repeat "$CLI_REPS" -- "$JAILD_TEST_BUILD_DIR/client/jailctl" --socket "$SOCK" status >>"$SAMPLES/hostile_idle_cli"
  rss0=$(jaild_rss_kib)
  as_jaild_member 64999 /usr/bin/python3 "$member_dir/hostile.py" "$SOCK" $((HOSTILE_ATTACK_S + 6)) "$member_dir/report" "$HOSTILE" &
  attacker=$!
  sleep 3
  cpu0=$(jaild_cpu_ns)
  busy=$(/usr/bin/python3 "$clients_dir/status_probe.py" "$SOCK" "$HOSTILE_ATTACK_S")
  sample hostile_cpu_ms "$(calc "($(jaild_cpu_ns) - $cpu0) / 1000000")"
  "$PROBE" repeat "$CLI_REPS" -- "$JAILD_TEST_BUILD_DIR/client/jailctl" --socket "$SOCK" status >>"$SAMPLES/hostile_busy_cli"
  rss1=$(jaild_rss_kib)
  wait "$attacker" || fail "the attacker failed"
  log "figure 8 run $i: idle [$idle] under attack [$busy]; RSS $rss0 -> $rss1 kB; attacker: $(tr '\n' ' ' <"$member_dir/report")"
  sample hostile_idle_p50 "$(probe_field p50_ms "$idle")"
  sample hostile_idle_p99 "$(probe_field p99_ms "$idle")"
  sample hostile_busy_p50 "$(probe_field p50_ms "$busy")"
  sample hostile_busy_p99 "$(probe_field p99_ms "$busy")"
  sample hostile_rss_growth "$(calc "($rss1 - $rss0) / 1024")"
  sleep 1
done
row 8 "root status p50 under 100 hostile member connections vs idle" ms "$SAMPLES/hostile_busy_p50" \
  "idle p50" "$(median_of "$SAMPLES/hostile_idle_p50")" "<= 2x idle" "r <= 2"
row 8 "root status p99 under 100 hostile member connections vs idle" ms "$SAMPLES/hostile_busy_p99" \
  "idle p99" "$(median_of "$SAMPLES/hostile_idle_p99")" "<= 2x idle, < 100 ms" "r <= 2 && m < 100"
row 8 "root jailctl status (whole process) under 100 hostile member connections vs idle" ms \
  "$SAMPLES/hostile_busy_cli" "idle" "$(median_of "$SAMPLES/hostile_idle_cli")" "<= 2x idle" "r <= 2"
row 8 "baseline: root jailctl status (whole process), idle" ms "$SAMPLES/hostile_idle_cli" - - - -
row 8 "jaild CPU time during the $HOSTILE_ATTACK_S s of attack" ms "$SAMPLES/hostile_cpu_ms" - - - -
row 8 "baseline: root status p50, idle" ms "$SAMPLES/hostile_idle_p50" - - - -
row 8 "baseline: root status p99, idle" ms "$SAMPLES/hostile_idle_p99" - - - -
row 8 "jaild RSS growth under 100 hostile member connections" MiB "$SAMPLES/hostile_rss_growth" \
  - - "< 16 MiB" "m < 16"
stop_jaild

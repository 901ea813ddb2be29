#!/usr/bin/env bash
# Live restore (issue 16, docs/BENCHMARKS.md "Adopting jails after a restart of jaild"): the
# time from jaild's exec to its first answered `status`, with N jails (N = 2 and 50) that
#   empty    - no jail configured (the floor: network setup, API socket),
#   fresh    - are started by this jaild (no state to adopt),
#   adopted  - a jaild killed with -9 left running, adopted by this one;
# and, for fresh and adopted, until every jail is `running`. Runs inside a throwaway world:
#
#   sudo tests/integration/harness/run-in-world bench/adopt.sh
#
# Environment: JAILD_TEST_BUILD_DIR (daemon/jaild, client/jailctl), ADOPT_BENCH_REPS (default 5),
# ADOPT_BENCH_COUNTS (default "2 50"), ADOPT_BENCH_OUT (file for the rows; default stdout only),
# ADOPT_BENCH_LOG (a file to copy jaild's log to at the end, for its timestamps).
# Prints one row per figure: jails, measurement, median ms, min-max, n; and adopted/fresh ratios.
# Resolution: the first answer by jaild_bench_probe wait-status (a `status` every 0.2 ms);
# "all running" polls `jailctl --json status` (an exec of jailctl and jq per try).
set -euo pipefail
source "$JAILD_SOURCE_DIR/tests/integration/harness/lib.sh"

REPS=${ADOPT_BENCH_REPS:-5}
COUNTS=${ADOPT_BENCH_COUNTS:-2 50}
OUT=${ADOPT_BENCH_OUT:-/dev/null}
JAILD=$JAILD_TEST_BUILD_DIR/daemon/jaild
CTL=$JAILD_TEST_BUILD_DIR/client/jailctl
SAMPLES=$JAILD_TEST_DIR/samples
mkdir -p "$SAMPLES"

BASE_ROOT=$JAILD_TEST_DIR/roots/base
make_busybox_root "$BASE_ROOT" bench
sleep_jail() {  # sleep_jail NAME INDEX
  printf '"%s": {"root": "%s", "address": "10.213.0.%s", "profile": "none",
    "command": ["/bin/sleep", "100000"]}' "$1" "$(root_for "$1")" $(($2 + 2))
}
config_with() {  # config_with N: N sleep jails (N <= 200)
  local n=$1 i members=()
  for ((i = 0; i < n; i++)); do members+=("$(sleep_jail "${JAILD_TEST_ID}-$i" "$i")"); done
  write_config "${members[@]}"
}

now_ns() { date +%s%N; }
PROBE=$JAILD_TEST_BUILD_DIR/bench/jaild_bench_probe
all_running() {  # all_running N
  [[ $("$CTL" --socket "$JAILD_SOCKET" --json status 2>/dev/null | jq '[.jails[] | select(.state == "running")] | length') == "$1" ]]
}
# launch: starts jaild in the background (no waiting); pid in JAILD_PID.
launch() {
  "$JAILD" --config "$JAILD_CONFIG" --socket "$JAILD_SOCKET" --state-dir "$JAILD_STATE_DIR" \
    --run-dir "$JAILD_RUN_DIR" >>"$JAILD_LOG" 2>&1 &
  JAILD_PID=$!
}
# measure KEY N: ms from launch to the first answered status (KEY_status), and to all N running
# (KEY_all, unless N is 0). Bounded: 60 s.
measure() {
  local key=$1 n=$2 t0 deadline=$((SECONDS + 60))
  t0=$(now_ns)
  launch
  # The probe asks `status` every 0.2 ms and prints the time from t0 to the first answer.
  "$PROBE" wait-status "$JAILD_SOCKET" 60 "$t0" | awk '{ printf "%.1f\n", $1 }' >>"$SAMPLES/${key}_status" ||
    fail "jaild did not answer status within 60 s"
  if ((n > 0)); then
    until all_running "$n"; do
      ((SECONDS < deadline)) || fail "not all $n jails ran within 60 s"
      sleep 0.005
    done
    echo $((($(now_ns) - t0) / 1000)) | awk '{ printf "%.1f\n", $1 / 1000 }' >>"$SAMPLES/${key}_all"
  fi
}
kill9() { kill -KILL "$JAILD_PID"; wait "$JAILD_PID" 2>/dev/null || true; JAILD_PID=; }
stop_all() { stop_jaild; }

stats() {
  sort -g "$1" | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "nan nan nan 0"; exit }
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%.1f %.1f %.1f %d\n", m, v[1], v[NR], NR }'
}
row() {  # row N NAME KEY
  local m lo hi n
  read -r m lo hi n < <(stats "$SAMPLES/$3")
  printf '%s jails\t%s\t%s ms\t%s-%s (n=%s)\n' "$1" "$2" "$m" "$lo" "$hi" "$n" | tee -a "$OUT"
}
median() { stats "$SAMPLES/$1" | cut -d' ' -f1; }

write_config
for ((r = 0; r < REPS; r++)); do
  measure empty 0
  stop_all
done
row 0 "start to first status (empty config)" empty_status

for n in $COUNTS; do
  config_with "$n"
  for ((r = 0; r < REPS; r++)); do
    measure "fresh$n" "$n"
    kill9  # the jails keep running: the next jaild adopts them
    measure "adopted$n" "$n"
    stop_all  # every jail stopped, state removed: the next round starts fresh
  done
  row "$n" "start to first status, jails started fresh" "fresh${n}_status"
  row "$n" "start to first status, jails adopted" "adopted${n}_status"
  row "$n" "start to all running, fresh" "fresh${n}_all"
  row "$n" "start to all running, adopted" "adopted${n}_all"
  printf '%s jails\tadopted/fresh, all running\t%s\n' "$n" \
    "$(awk -v a="$(median "adopted${n}_all")" -v f="$(median "fresh${n}_all")" 'BEGIN { printf "%.2f", a / f }')" | tee -a "$OUT"
done
[[ -z ${ADOPT_BENCH_LOG:-} ]] || cp "$JAILD_LOG" "$ADOPT_BENCH_LOG"

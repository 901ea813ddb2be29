#!/usr/bin/env bash
# The figures of issue 19 (docs/BENCHMARKS.md, "Metrics and status with 50 jails"): jaild's CPU
# per `status` and per metrics scrape with 2 and with 50 jails, status p99, and status p99 while
# Prometheus-like scrapes come at 1/s. Runs inside a throwaway world (never call it directly):
#
#   sudo tests/integration/harness/run-in-world bench/metrics.sh
#
# Environment: JAILD_TEST_BUILD_DIR (the build measured: daemon/jaild, client/jailctl,
# bench/jaild_bench_loadgen), METRICS_BENCH_BEFORE (optional: another build dir with the same
# layout, measured in the same run as "before"), METRICS_BENCH_SECONDS (per load run, default 4),
# METRICS_BENCH_REPS (load runs per figure, default 3), METRICS_BENCH_JAILS (default 50),
# METRICS_BENCH_OUT (file for the result rows; default stdout only), METRICS_BENCH_NO_METRICS=1
# (a build without the metrics endpoint as the measured one), METRICS_BENCH_PERF=FILE and
# METRICS_BENCH_PERF_HTTP=FILE (perf record of jaild under status load / HTTP scrapes, 50 jails),
# METRICS_BENCH_PERF_ARGS (perf record's options for the status profile, default -g; e.g.
# "--call-graph dwarf" for call chains through the inlined formatting code).
# Prints one row per figure: build, jails, measurement, median, min, max, n.
set -euo pipefail
source "$JAILD_SOURCE_DIR/tests/integration/harness/lib.sh"

SECONDS_PER_RUN=${METRICS_BENCH_SECONDS:-4}
REPS=${METRICS_BENCH_REPS:-3}
MANY=${METRICS_BENCH_JAILS:-50}
OUT=${METRICS_BENCH_OUT:-/dev/null}
NEW_BUILD=$JAILD_TEST_BUILD_DIR
BEFORE_BUILD=${METRICS_BENCH_BEFORE:-}
METRICS_PORT=9688

BASE_ROOT=$JAILD_TEST_DIR/roots/base
make_busybox_root "$BASE_ROOT" bench
web_jail() {  # web_jail NAME ADDRESS: a busybox httpd jail publishing port 80
  printf '"%s": {"root": "%s", "address": "%s", "profile": "none", "host_access": [80], "publish": [%s],
    "command": ["/bin/httpd", "-f", "-p", "%s:80", "-h", "/www"]}' \
    "$1" "$(root_for "$1")" "$2" "$3" "$2"
}
accepting() { curl -s -o /dev/null -m 1 "http://$1/"; }

stats() {  # stats FILE: "median min max n"
  sort -g "$1" | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "nan nan nan 0"; exit }
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%.2f %.2f %.2f %d\n", m, v[1], v[NR], NR }'
}
calc() { awk "BEGIN { printf \"%.3f\", $* }"; }
SAMPLES=$JAILD_TEST_DIR/samples
mkdir -p "$SAMPLES"
row() {  # row BUILD JAILS NAME UNIT KEY
  local m lo hi n
  read -r m lo hi n < <(stats "$SAMPLES/$5")
  printf '%s\t%s jails\t%s\t%s %s\t%s-%s (n=%s)\n' "$1" "$2" "$3" "$m" "$4" "$lo" "$hi" "$n" | tee -a "$OUT"
}

# jaild's CPU time in ns, all its threads (the metrics worker reads the kernel's counters):
# helpers.sh's jaild_cpu_ns counts the main thread only.
jaild_cpu_all_ns() { cat /proc/"$JAILD_PID"/task/*/schedstat | awk '{ s += $1 } END { printf "%.0f\n", s }'; }

# load KEY CLIENTS METHOD: one closed-loop run; samples KEY_{cpu_us,p99_us,p50_us}.
load() {
  local key=$1 clients=$2 method=$3 out cpu0 cpu1 requests
  cpu0=$(jaild_cpu_all_ns)
  out=$("$JAILD_TEST_BUILD_DIR/bench/jaild_bench_loadgen" "$JAILD_SOCKET" "$clients" "$SECONDS_PER_RUN" "$method")
  cpu1=$(jaild_cpu_all_ns)
  log "loadgen $key: $out"
  [[ $out == *" errors=0"* ]] || fail "loadgen $key had errors: $out"
  requests=$(sed -n 's/.* requests=\([0-9]*\).*/\1/p' <<<"$out")
  calc "($cpu1 - $cpu0) / 1000 / ($requests / 0.9)" >>"$SAMPLES/${key}_cpu_us"
  echo >>"$SAMPLES/${key}_cpu_us"
  sed -n 's/.* p99_us=\([0-9.]*\).*/\1/p' <<<"$out" >>"$SAMPLES/${key}_p99_us"
  sed -n 's/.* p50_us=\([0-9.]*\).*/\1/p' <<<"$out" >>"$SAMPLES/${key}_p50_us"
}

# measure BUILD_NAME BUILD_DIR JAILS: starts jaild of BUILD_DIR with JAILS jails, measures.
measure() {
  local name=$1 dir=$2 n=$3 has_metrics=$4 jails=() j addr
  JAILD_TEST_BUILD_DIR=$dir
  for ((j = 0; j < n; j++)); do
    addr=10.213.0.$((10 + j))
    jails+=("$(web_jail "$JAILD_TEST_ID-m$j" "$addr" $((8000 + j)))")
  done
  write_config "${jails[@]}"
  # The endpoint only for the build measured ("before" builds may not know the key).
  if ((has_metrics)); then
    jq --arg l "127.0.0.1:$METRICS_PORT" '.metrics = {listen: $l}' "$JAILD_CONFIG" >"$JAILD_CONFIG.m"
    mv "$JAILD_CONFIG.m" "$JAILD_CONFIG"
  fi
  start_jaild "$JAILD_CONFIG"
  for ((j = 0; j < n; j++)); do
    wait_until 120 accepting "10.213.0.$((10 + j)):80" || fail "jail $j never served"
  done
  sleep 1  # every main process found, health settled
  local key=${name}_$n
  for ((i = 0; i < REPS; i++)); do
    load "${key}_status1" 1 status
    load "${key}_status16" 16 status
  done
  row "$name" "$n" "jaild CPU per status request (16 clients)" us "${key}_status16_cpu_us"
  if [[ -n ${METRICS_BENCH_PERF:-} && $n == "$MANY" ]]; then
    perf record ${METRICS_BENCH_PERF_ARGS:--g} -o "$METRICS_BENCH_PERF.$name" -p "$JAILD_PID" -- sleep 3 >/dev/null 2>&1 &
    local perf_pid=$!
    "$JAILD_TEST_BUILD_DIR/bench/jaild_bench_loadgen" "$JAILD_SOCKET" 16 3 status >/dev/null
    wait "$perf_pid" || true
  fi
  row "$name" "$n" "status p50 (1 client)" us "${key}_status1_p50_us"
  row "$name" "$n" "status p99 (16 clients)" us "${key}_status16_p99_us"
  if ((has_metrics)); then
    for ((i = 0; i < REPS; i++)); do load "${key}_metrics" 16 metrics; done
    row "$name" "$n" "jaild CPU per metrics scrape (API, 16 clients)" us "${key}_metrics_cpu_us"
    # HTTP scrapes one at a time: CPU per scrape over 200 of them.
    local cpu0 cpu1
    if [[ -n ${METRICS_BENCH_PERF_HTTP:-} && $n == "$MANY" ]]; then
      perf record -g -o "$METRICS_BENCH_PERF_HTTP" -p "$JAILD_PID" -- sleep 4 >/dev/null 2>&1 &
      local perf_pid=$!
      for ((i = 0; i < 100; i++)); do curl -s -o /dev/null -m 2 "http://127.0.0.1:$METRICS_PORT/metrics"; done
      wait "$perf_pid" || true
      log "nft CLI, 10 x list counters: $( { time (for i in 1 2 3 4 5 6 7 8 9 10; do nft -j list counters table inet jaild >/dev/null; done) ; } 2>&1 | tr '\n' ' ')"
    fi
    cpu0=$(jaild_cpu_all_ns)
    # One probe process for the 200 (a curl each would be the machine's noise, not jaild's).
    "$JAILD_TEST_BUILD_DIR/bench/jaild_bench_probe" scrape "127.0.0.1:$METRICS_PORT" 200 0 >/dev/null ||
      fail "a scrape failed"
    cpu1=$(jaild_cpu_all_ns)
    calc "($cpu1 - $cpu0) / 1000 / 200" >>"$SAMPLES/${key}_http_cpu_us"
    echo >>"$SAMPLES/${key}_http_cpu_us"
    row "$name" "$n" "jaild CPU per metrics scrape (HTTP GET /metrics, sequential)" us "${key}_http_cpu_us"
    # status p99 while a scraper polls every second, against idle (the runs above).
    # (one scraper process, like Prometheus: a curl started per scrape costs ~5 ms of CPU on
    # these two cores, which showed in the p99 as the machine's noise, not jaild's).
    "$JAILD_TEST_BUILD_DIR/bench/jaild_bench_probe" scrape "127.0.0.1:$METRICS_PORT" \
      $((REPS * (SECONDS_PER_RUN + 2) + 5)) 1000 >/dev/null &
    local scraper=$!
    for ((i = 0; i < REPS; i++)); do load "${key}_scraped16" 16 status; done
    kill "$scraper"
    wait "$scraper" 2>/dev/null || true
    row "$name" "$n" "status p99 (16 clients) while scraped at 1/s" us "${key}_scraped16_p99_us"
  fi
  stop_jaild
  JAILD_TEST_BUILD_DIR=$NEW_BUILD
}

for build in ${BEFORE_BUILD:+before} after; do
  dir=$NEW_BUILD
  [[ $build == before ]] && dir=$BEFORE_BUILD
  with_metrics=$([[ $build == after && -z ${METRICS_BENCH_NO_METRICS:-} ]] && echo 1 || echo 0)
  measure "$build" "$dir" 2 "$with_metrics"
  measure "$build" "$dir" "$MANY" "$with_metrics"
done
log "metrics benchmark done"

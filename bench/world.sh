#!/usr/bin/env bash
# Runs inside a throwaway world made by tests/integration/harness/run-in-world (never call it
# directly): every bridge, namespace, rule and jail it makes lives and dies in that world.
# Started by bench/run-all (full run) and tests/integration/bench/smoke.sh (BENCH_SMOKE=1:
# one tiny repetition of each figure, no timing judgement).
#
# Environment: BENCH_RESULTS (file to append result rows to), BENCH_SMOKE (0/1),
# JAILD_TEST_BUILD_DIR (with daemon/jaild, client/jailctl, bench/jaild_bench_*).
# Result rows (tab-separated): figure, measurement, unit, median, min, max, n, baseline name,
# baseline median, ratio, target text, verdict (met / MISSED / -).
set -euo pipefail
source "$JAILD_SOURCE_DIR/tests/integration/harness/lib.sh"

SMOKE=${BENCH_SMOKE:-0}
RESULTS=${BENCH_RESULTS:?set BENCH_RESULTS}
PROBE=$JAILD_TEST_BUILD_DIR/bench/jaild_bench_probe
LOADGEN=$JAILD_TEST_BUILD_DIR/bench/jaild_bench_loadgen
KAHTTPD=$JAILD_TEST_BUILD_DIR/bench/jaild_bench_httpd
SOCK=$JAILD_TEST_DIR/jaild.sock
SAMPLES=$JAILD_TEST_DIR/samples
mkdir -p "$SAMPLES"
for tool in "$PROBE" "$LOADGEN" "$KAHTTPD"; do [[ -x $tool ]] || fail "$tool is missing: build the bench targets"; done

if ((SMOKE)); then
  REPS=1 REPS_CLASSIC=1 API_SECONDS=2 API_REPS=1 IDLE_SECONDS=1 WRK_SECONDS=1 SCALE_JAILS=3
  SCALE_REPS=1 FLOOD_LINES=2000 CLI_REPS=2
else
  REPS=${BENCH_REPS:-11} REPS_CLASSIC=${BENCH_REPS_CLASSIC:-5} API_SECONDS=4 API_REPS=3 IDLE_SECONDS=60
  WRK_SECONDS=5 SCALE_JAILS=50 SCALE_REPS=3 FLOOD_LINES=1000000 CLI_REPS=30
fi

# Unanswered ARP requests are retried every second by default, which would add up to 1 s to
# any "wait until it accepts" on a bridge whose peer is not up yet; 10 ms keeps probes honest.
# (Per link: a new network namespace has no neigh/default entry.)
fast_arp() { sysctl -qw "net.ipv4.neigh.$1.retrans_time_ms=10"; }

# ---- statistics ------------------------------------------------------------------------------

# stats FILE: "median min max n" of the numbers in FILE (one per line).
stats() {
  sort -g "$1" | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "nan nan nan 0"; exit }
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%.3f %.3f %.3f %d\n", m, v[1], v[NR], NR }'
}
median_of() { stats "$1" | cut -d' ' -f1; }
calc() { awk "BEGIN { printf \"%.4f\", $* }"; }

# row FIG NAME UNIT SAMPLES_FILE BASELINE_NAME BASELINE_VALUE TARGET CONDITION
#   CONDITION is an awk expression over m (median) and b (baseline) and r (ratio m/b), e.g.
#   "r <= 1.2"; "-" for no verdict. BASELINE_VALUE "-" for none.
row() {
  local fig=$1 name=$2 unit=$3 file=$4 bname=$5 bval=$6 target=$7 cond=$8
  local m lo hi n ratio=- verdict=-
  read -r m lo hi n < <(stats "$file")
  if [[ $bval != - ]]; then ratio=$(calc "$m / ($bval == 0 ? 1e-9 : $bval)"); fi
  if [[ $cond != - && $SMOKE == 0 ]]; then
    verdict=$(awk -v m="$m" -v b="${bval/-/0}" -v r="${ratio/-/0}" "BEGIN { print ($cond) ? \"met\" : \"MISSED\" }")
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$fig" "$name" "$unit" "$m" "$lo" "$hi" "$n" \
    "$bname" "$bval" "$ratio" "$target" "$verdict" >>"$RESULTS"
  log "result: $fig $name: median $m $unit (min $lo, max $hi, n $n); baseline $bname $bval; ratio $ratio; $verdict"
}
sample() {  # sample KEY VALUE: VALUE must be a number (an empty one means a probe failed)
  [[ $2 =~ ^-?[0-9]+(\.[0-9]+)?$ ]] || fail "sample $1: not a number: '$2'"
  printf '%s\n' "$2" >>"$SAMPLES/$1"
}
measure() {  # measure KEY CMD...: runs a probe printing one number and samples it
  local key=$1 value
  shift
  value=$("$@") || fail "measuring $key failed: $*"
  sample "$key" "$value"
}

# ---- jails and jaild -------------------------------------------------------------------------

BASE_ROOT=$JAILD_TEST_DIR/roots/base
make_busybox_root "$BASE_ROOT" bench
cp "$KAHTTPD" "$BASE_ROOT/bin/kahttpd"  # figure 5's keep-alive server (static)
RESTART_JSON='"restart": {"policy": "always", "backoff_initial": "100ms", "reset_after": "300ms", "crash_loop_limit": 1000}'
BACKOFF_MS=100
web_jail() {  # web_jail NAME ADDRESS [PUBLISH_JSON]: one jail member of "jails"
  printf '"%s": {"root": "%s", "address": "%s", "profile": "none", "host_access": [80], %s %s,
    "command": ["/bin/httpd", "-f", "-p", "%s:80", "-h", "/www"]}' \
    "$1" "$(root_for "$1")" "$2" "${3:+\"publish\": $3,}" "$RESTART_JSON" "$2"
}
accepting() { curl -s -o /dev/null -m 1 "http://$1/"; }

# BENCH_ONLY=8 (bench/run-all --only 8): figure 8 alone, e.g. while working on the API.
if [[ ${BENCH_ONLY:-} == 8 ]]; then
  ID=$JAILD_TEST_ID
  source "$JAILD_SOURCE_DIR/bench/hostile.sh"
  log "benchmarks done"
  exit 0
fi

# ---- baselines: firejail by hand on a bridge of our own --------------------------------------

ID=$JAILD_TEST_ID
ip link add bb0 type bridge && ip addr add 10.214.0.1/24 dev bb0 && ip link set bb0 up
fast_arp bb0
defer ip link del bb0
ip netns add bfloor
defer ip netns del bfloor
ip link add bfl0 type veth peer name eth0 netns bfloor
defer ip link del bfl0
ip link set bfl0 master bb0 up
ip -n bfloor link set lo up
ip -n bfloor addr add 10.214.0.2/24 dev eth0
ip -n bfloor link set eth0 up
ip -n bfloor route add default via 10.214.0.1
# The outside reaches the baseline bridge bb0 (not jaild's) through this host: the host is a
# router by its own choice before jaild starts, which jaild then leaves alone (otherwise it
# drops forwarding that neither comes from nor goes to its bridge).
echo 1 >/proc/sys/net/ipv4/ip_forward
FLOOR_ROOT=$(root_for "$ID-floor")
CLASSIC_ROOT=$(root_for "$ID-classic")
firejail_common=(--quiet --deterministic-shutdown --deterministic-exit-code --private --noprofile)
# jaild starts every jail in a session of its own (setsid), and with the kernel's scheduler
# autogroups (kernel.sched_autogroup_enabled, for processes in the root cgroup as here) a
# session is a scheduling group: the jail's processes get a fair share of the CPU against
# the load generator's group instead of competing with it one by one. The hand-made
# baselines run the same way (setsid here; run-accept does it itself), or they would be
# measured under different scheduling: without it, busybox httpd served ~10% more
# connections per second in the baseline jail than in jaild's, with no NAT involved.

log "figure 1 baselines: floor (firejail --netns), $REPS runs; classic (firejail --net --ip), $REPS_CLASSIC runs"
for ((i = 0; i < REPS; i++)); do
  measure floor "$PROBE" run-accept 10 10.214.0.2:80 -- firejail "${firejail_common[@]}" \
    --name="$ID-floor" --hostname=floor --chroot="$FLOOR_ROOT" --netns=bfloor \
    /bin/httpd -f -p 10.214.0.2:80 -h /www
  sleep 0.2
done
for ((i = 0; i < REPS_CLASSIC; i++)); do
  measure classic "$PROBE" run-accept 20 10.214.0.3:80 -- firejail "${firejail_common[@]}" \
    --name="$ID-classic" --hostname=classic --chroot="$CLASSIC_ROOT" --net=bb0 --ip=10.214.0.3 \
    /bin/httpd -f -p 10.214.0.3:80 -h /www
  sleep 0.3
done
# How long firejail itself takes to exit after kill -9 of its main process (jaild passes
# --deterministic-shutdown, which waits before killing the rest): part of any recovery.
first_child() { cat /proc/"$1"/task/*/children 2>/dev/null | tr ' ' '\n' | grep -m1 . || true; }
for ((i = 0; i < REPS; i++)); do
  setsid firejail "${firejail_common[@]}" --name="$ID-floor" --hostname=floor --chroot="$FLOOR_ROOT" \
    --netns=bfloor /bin/httpd -f -p 10.214.0.2:80 -h /www &
  fj=$!
  wait_until 10 accepting 10.214.0.2:80 || fail "floor jail never served"
  main=$(first_child "$(first_child "$fj")")
  [[ -n $main ]] || fail "no main process under firejail $fj"
  measure fjexit "$PROBE" kill-wait "$main" "$fj" 10
  wait "$fj" 2>/dev/null || true
  sleep 0.1
done
# firejail's own CPU time to set up one sandbox (the command is /bin/true, so this is the
# setup alone): the floor under figure 6, where 50 of them share the machine's cores.
for ((i = 0; i < REPS; i++)); do
  measure fjcpu "$PROBE" cpu -- firejail "${firejail_common[@]}" --name="$ID-cpu" --hostname=cpu \
    --chroot="$FLOOR_ROOT" --netns=bfloor /bin/true
done
FJEXIT=$(median_of "$SAMPLES/fjexit")
FLOOR=$(median_of "$SAMPLES/floor")
CLASSIC=$(median_of "$SAMPLES/classic")
row 1 "baseline: raw firejail --netns (floor)" ms "$SAMPLES/floor" - - - -
row 1 "baseline: firejail --net=BR --ip=A (classic)" ms "$SAMPLES/classic" - - - -

# ---- phase A: jaild with 2 jails -------------------------------------------------------------

WEB=$ID-web
OTHER=$ID-other
write_config "$(web_jail "$WEB" 10.213.0.2 '[80]')" "$(web_jail "$OTHER" 10.213.0.3)"
start_jaild "$JAILD_CONFIG"
fast_arp jd0
wait_until 20 accepting 10.213.0.2:80 || fail "jail $WEB never served"
wait_until 20 accepting 10.213.0.3:80 || fail "jail $OTHER never served"

log "figure 1: jaild start -> accept, $REPS runs"
for ((i = 0; i < REPS; i++)); do
  jailctl stop "$WEB" >/dev/null
  measure start "$PROBE" api-start "$SOCK" 20 10.213.0.2:80 "$WEB"
done
row 1 "jaild start -> TCP accept vs floor" ms "$SAMPLES/start" "floor" "$FLOOR" "<= 1.2x floor" "r <= 1.2"
row 1 "jaild start -> TCP accept vs classic" ms "$SAMPLES/start" "classic" "$CLASSIC" "< 0.1x classic" "r < 0.1"
START=$(median_of "$SAMPLES/start")

log "figure 2: kill -9 of the main process -> accepting again, $REPS runs"
for ((i = 0; i < REPS; i++)); do
  wait_until 10 status_is "$WEB" state running || fail "$WEB not running"
  main=$(status_of "$WEB" main_pid)
  [[ $main =~ ^[0-9]+$ ]] || fail "no main pid for $WEB: $main"
  measure recovery "$PROBE" kill-accept "$main" 20 10.213.0.2:80
  sleep 0.5  # longer than reset_after, so the next crash restarts after the initial backoff again
done
recovery_base=$(calc "$BACKOFF_MS + $FLOOR")
row 2 "recovery (backoff_initial ${BACKOFF_MS} ms) vs backoff + floor" ms "$SAMPLES/recovery" \
  "backoff+floor" "$recovery_base" "< backoff + 1.2x floor" "m < $BACKOFF_MS + 1.2 * $FLOOR"
row 2 "recovery vs firejail's own exit + backoff + floor" ms "$SAMPLES/recovery" \
  "fj exit+backoff+floor" "$(calc "$FJEXIT + $BACKOFF_MS + $FLOOR")" - -
row 2 "baseline: firejail exit after kill -9 of its main process" ms "$SAMPLES/fjexit" - - - -

log "figure 3: API status latency and throughput"
# loadgen_run KEY CLIENTS: one load run; samples KEY_{p50_us,p99_us,rps,cpu_us} (cpu_us = jaild
# CPU time per request, which a busy shared machine distorts much less than latency).
loadgen_run() {
  local key=$1 clients=$2 out cpu0 cpu1 requests
  cpu0=$(jaild_cpu_ns)
  out=$("$LOADGEN" "$SOCK" "$clients" "$API_SECONDS")
  cpu1=$(jaild_cpu_ns)
  log "loadgen ($key): $out"
  local k
  for k in p50_us p99_us rps; do
    sample "${key}_$k" "$(sed -n "s/.* $k=\([0-9.]*\).*/\1/p" <<<"$out")"
  done
  requests=$(sed -n 's/.* requests=\([0-9]*\).*/\1/p' <<<"$out")
  # the loadgen counts 90% of its run; jaild's CPU covers all of it
  sample "${key}_cpu_us" "$(calc "($cpu1 - $cpu0) / 1000 / ($requests / 0.9)")"
}
for clients in 1 16 64; do
  for ((i = 0; i < API_REPS; i++)); do loadgen_run "api_$clients" "$clients"; done
done
row 3 "status p50, 1 client" us "$SAMPLES/api_1_p50_us" - - - -
row 3 "status p99, 1 client" us "$SAMPLES/api_1_p99_us" - - - -
row 3 "status p50, 16 clients" us "$SAMPLES/api_16_p50_us" - - - -
row 3 "status p99, 16 clients" us "$SAMPLES/api_16_p99_us" - - "< 1000 us" "m < 1000"
row 3 "status p50, 64 clients" us "$SAMPLES/api_64_p50_us" - - - -
row 3 "status p99, 64 clients" us "$SAMPLES/api_64_p99_us" - - - -
row 3 "status requests/s, 1 client" req/s "$SAMPLES/api_1_rps" - - - -
row 3 "status requests/s, 16 clients" req/s "$SAMPLES/api_16_rps" - - ">= 20000" "m >= 20000"
row 3 "status requests/s, 64 clients" req/s "$SAMPLES/api_64_rps" - - - -
row 3 "jaild CPU per status request (16 clients, 2 jails)" us "$SAMPLES/api_16_cpu_us" - - - -
"$PROBE" repeat "$CLI_REPS" -- "$JAILD_TEST_BUILD_DIR/client/jailctl" --socket "$SOCK" status >"$SAMPLES/cli_jailctl"
"$PROBE" repeat "$CLI_REPS" -- firejail --list >"$SAMPLES/cli_firejail"
row 3 "jailctl status (whole process) vs firejail --list" ms "$SAMPLES/cli_jailctl" \
  "firejail --list" "$(median_of "$SAMPLES/cli_firejail")" "<= 1x" "r <= 1.0"
row 3 "baseline: firejail --list (whole process)" ms "$SAMPLES/cli_firejail" - - - -

log "figure 4: footprint with 2 jails, $IDLE_SECONDS s idle"
sample rss2 "$(calc "$(jaild_rss_kib) / 1024")"
sample pss2 "$(calc "$(awk '/^Pss:/ { print $2 }' "/proc/$JAILD_PID/smaps_rollup") / 1024")"
sample anon2 "$(calc "$(awk '/^RssAnon:/ { print $2 }' "/proc/$JAILD_PID/status") / 1024")"
cpu0=$(jaild_cpu_ns)
sleep "$IDLE_SECONDS"
cpu1=$(jaild_cpu_ns)
sample rss2_after "$(calc "$(jaild_rss_kib) / 1024")"
sample idle_cpu "$(calc "($cpu1 - $cpu0) / 1e9 / $IDLE_SECONDS * 100")"
row 4 "jaild RSS, 2 jails" MiB "$SAMPLES/rss2" - - "< 10 MiB" "m < 10"
row 4 "jaild PSS (shared library pages split among their users), 2 jails" MiB "$SAMPLES/pss2" - - - -
row 4 "jaild anonymous RSS (heap, stacks), 2 jails" MiB "$SAMPLES/anon2" - - - -
row 4 "jaild CPU over ${IDLE_SECONDS} s idle, 2 jails" "% of a core" "$SAMPLES/idle_cpu" - - "< 0.1%" "m < 0.1"

log "figure 5: HTTP from outside through the public address (DNAT) vs directly to a jail"
# jaild's firewall lets the outside reach a jail only through DNAT, so the direct baseline is the
# same busybox httpd in a raw firejail --netns jail on our own bridge bb0: the same path
# (outside -> world -> bridge -> veth -> jail, forwarded) minus the DNAT.
setsid firejail "${firejail_common[@]}" --name="$ID-direct" --hostname=direct --chroot="$FLOOR_ROOT" \
  --netns=bfloor /bin/httpd -f -p 10.214.0.2:80 -h /www &
direct_pid=$!
wait_until 10 accepting 10.214.0.2:80 || fail "the direct baseline jail never served"
# busybox httpd closes every connection, so a run opens tens of thousands; the server keeps
# each closed one in TIME_WAIT for 60 s. Every run gets a source address of its own in the
# outside namespace (and wide port ranges), so no run meets the TIME_WAIT of an earlier
# one's connections: the figure is the path's cost, not port-reuse luck.
sysctl -qw net.ipv4.ip_local_port_range="1024 65535"
outside sysctl -qw net.ipv4.ip_local_port_range="1024 65535"
wrk_source=20
fresh_outside_source() {
  local addr=198.51.100.$((wrk_source++))
  outside ip addr add "$addr/24" dev eth0
  outside ip route replace default via "$JAILD_PUBLIC_ADDR" src "$addr"
}
for ((i = 0; i < API_REPS; i++)); do
  for target in "$JAILD_PUBLIC_ADDR" 10.214.0.2; do
    fresh_outside_source
    out=$(outside wrk -t1 -c16 -d"${WRK_SECONDS}s" "http://$target/" 2>&1) || fail "wrk to $target failed: $out"
    rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
    if grep -q 'Socket errors\|Non-2xx' <<<"$out"; then
      log "wrk to $target reported errors: $(grep 'Socket errors\|Non-2xx' <<<"$out")"
    fi
    [[ -n $rps ]] || fail "wrk gave no rate: $out"
    sample "http_$target" "$rps"
  done
done
# busybox httpd makes every request a new connection, so the rows above are mostly conntrack
# and NAT setup. The same comparison with keep-alive (jaild_bench_httpd, 16 connections kept
# open) is the cost of the DNAT path for each request on an established connection: a third
# jail is added to jaild by a reload, and a second raw sandbox joins the direct baseline's
# namespace.
KA=$ID-ka
write_config "$(web_jail "$WEB" 10.213.0.2 '[80]')" "$(web_jail "$OTHER" 10.213.0.3)" \
  "\"$KA\": {\"root\": \"$(root_for "$KA")\", \"address\": \"10.213.0.5\", \"profile\": \"none\",
    \"publish\": [8080], \"command\": [\"/bin/kahttpd\", \"10.213.0.5\", \"8080\"]}"
kill -HUP "$JAILD_PID"
setsid firejail "${firejail_common[@]}" --name="$ID-kadirect" --hostname=kadirect --chroot="$FLOOR_ROOT" \
  --netns=bfloor /bin/kahttpd 10.214.0.2 8080 &
ka_direct_pid=$!
ka_serving() { outside curl -s -o /dev/null -m 1 "http://$1/"; }
wait_until 10 ka_serving 10.214.0.2:8080 || fail "the keep-alive direct baseline never served"
wait_until 10 ka_serving "$JAILD_PUBLIC_ADDR:8080" || fail "jail $KA never served through the public address"
for ((i = 0; i < API_REPS; i++)); do
  for target in "$JAILD_PUBLIC_ADDR:8080" 10.214.0.2:8080; do
    fresh_outside_source
    out=$(outside wrk -t1 -c16 -d"${WRK_SECONDS}s" "http://$target/" 2>&1) || fail "wrk to $target failed: $out"
    rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
    [[ -n $rps ]] || fail "wrk gave no rate: $out"
    sample "ka_http_$target" "$rps"
  done
done
kill -KILL "$direct_pid" "$ka_direct_pid"
wait "$direct_pid" "$ka_direct_pid" 2>/dev/null || true
row 5 "HTTP req/s via public address + DNAT vs direct (busybox httpd: a new connection per request)" req/s \
  "$SAMPLES/http_$JAILD_PUBLIC_ADDR" "direct to a jail" "$(median_of "$SAMPLES/http_10.214.0.2")" \
  ">= 0.95x direct" "r >= 0.95"
row 5 "baseline: HTTP req/s directly to a jail (busybox httpd, no DNAT)" req/s "$SAMPLES/http_10.214.0.2" - - - -
row 5 "HTTP req/s via public address + DNAT vs direct (keep-alive: 16 connections)" req/s \
  "$SAMPLES/ka_http_$JAILD_PUBLIC_ADDR:8080" "direct to a jail" "$(median_of "$SAMPLES/ka_http_10.214.0.2:8080")" \
  ">= 0.95x direct" "r >= 0.95"
row 5 "baseline: HTTP req/s directly to a jail (keep-alive, no DNAT)" req/s "$SAMPLES/ka_http_10.214.0.2:8080" - - - -
stop_jaild

# ---- phase B: jaild with many jails ----------------------------------------------------------

log "figure 6 baseline: $SCALE_JAILS raw firejail --netns started together"
raw_endpoints=()
for ((j = 0; j < SCALE_JAILS; j++)); do
  ns=bsc$j addr=10.214.0.$((10 + j))
  ip netns add "$ns"
  defer ip netns del "$ns"
  ip link add "bsc$j" type veth peer name eth0 netns "$ns"
  ip link set "bsc$j" master bb0 up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$addr/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" route add default via 10.214.0.1
  raw_endpoints+=("$addr:80")
  root_for "$ID-r$j" >/dev/null
done
for ((i = 0; i < SCALE_REPS; i++)); do
  fj_pids=()
  t0=$(date +%s%N)
  for ((j = 0; j < SCALE_JAILS; j++)); do
    setsid firejail "${firejail_common[@]}" --name="$ID-r$j" --hostname="r$j" --chroot="$JAILD_TEST_DIR/roots/$ID-r$j" \
      --netns="bsc$j" /bin/httpd -f -p "10.214.0.$((10 + j)):80" -h /www &
    fj_pids+=($!)
  done
  "$PROBE" wait-accept 120 "${raw_endpoints[@]}" >/dev/null || fail "the raw firejail jails never all served"
  sample scale_raw "$(calc "($(date +%s%N) - $t0) / 1e6")"
  kill -KILL "${fj_pids[@]}"
  for pid in "${fj_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  sleep 0.3
done
SCALE_RAW=$(median_of "$SAMPLES/scale_raw")
row 6 "baseline: $SCALE_JAILS raw firejail --netns started together -> all serving" ms "$SAMPLES/scale_raw" - - - -

log "figure 6: $SCALE_JAILS jails"
jails=() names=() endpoints=()
for ((j = 0; j < SCALE_JAILS; j++)); do
  addr=10.213.0.$((10 + j))
  names+=("$ID-s$j")
  jails+=("$(web_jail "$ID-s$j" "$addr")")
  endpoints+=("$addr:80" "$ID-s$j")
done
write_config "${jails[@]}"
t0=$(date +%s%N)
start_jaild "$JAILD_CONFIG"
for ((j = 0; j < SCALE_JAILS; j++)); do
  wait_until 120 accepting "10.213.0.$((10 + j)):80" || fail "jail ${names[j]} never served"
done
log "all $SCALE_JAILS jails serving $(( ($(date +%s%N) - t0) / 1000000 )) ms after jaild was executed"
sample rss50 "$(calc "$(jaild_rss_kib) / 1024")"
row 4 "jaild RSS, $SCALE_JAILS jails" MiB "$SAMPLES/rss50" - - "< 20 MiB" "m < 20"
for ((i = 0; i < API_REPS; i++)); do
  for clients in 1 16; do loadgen_run "api50_$clients" "$clients"; done
done
row 6 "status p50, 1 client, $SCALE_JAILS jails" us "$SAMPLES/api50_1_p50_us" "2 jails" "$(median_of "$SAMPLES/api_1_p50_us")" - -
row 6 "status p99, 16 clients, $SCALE_JAILS jails" us "$SAMPLES/api50_16_p99_us" "2 jails" "$(median_of "$SAMPLES/api_16_p99_us")" - -
row 6 "status requests/s, 16 clients, $SCALE_JAILS jails" req/s "$SAMPLES/api50_16_rps" "2 jails" "$(median_of "$SAMPLES/api_16_rps")" - -
row 6 "jaild CPU per status request, 16 clients, $SCALE_JAILS jails" us "$SAMPLES/api50_16_cpu_us" "2 jails" "$(median_of "$SAMPLES/api_16_cpu_us")" - -
scale_cpu0=$(jaild_cpu_ns)
for ((i = 0; i < SCALE_REPS; i++)); do
  pids=()
  for name in "${names[@]}"; do jailctl stop "$name" >/dev/null & pids+=($!); done
  for pid in "${pids[@]}"; do wait "$pid" || fail "a stop failed"; done
  scale_cpu0=$(jaild_cpu_ns)
  measure scale "$PROBE" api-start "$SOCK" 120 "${endpoints[@]}"
  sample scale_cpu "$(calc "($(jaild_cpu_ns) - $scale_cpu0) / 1e6")"
done
row 6 "$SCALE_JAILS jails started together vs $SCALE_JAILS raw firejail together" ms "$SAMPLES/scale" \
  "raw firejail x$SCALE_JAILS together" "$SCALE_RAW" - -
row 6 "jaild CPU time during the $SCALE_JAILS-jail start" ms "$SAMPLES/scale_cpu" - - - -
row 6 "$SCALE_JAILS jails started together -> all serving vs one start" ms "$SAMPLES/scale" \
  "one jail's start" "$START" "< 10x one start" "r < 10"
# What the cores allow: firejail alone needs FJCPU of CPU per sandbox, and $SCALE_JAILS of them
# share $(nproc) cores, so no supervisor of firejail can have them all up sooner than this.
FJCPU=$(median_of "$SAMPLES/fjcpu")
row 6 "baseline: firejail's CPU time to set up one sandbox (user+sys)" ms "$SAMPLES/fjcpu" - - - -
row 6 "$SCALE_JAILS jails started together vs the CPU floor ($SCALE_JAILS x firejail CPU / $(nproc) cores)" ms \
  "$SAMPLES/scale" "CPU floor" "$(calc "$SCALE_JAILS * $FJCPU / $(nproc)")" - -
row 6 "$SCALE_JAILS jails started together vs $SCALE_JAILS x one start" ms "$SAMPLES/scale" \
  "$SCALE_JAILS x one start" "$(calc "$SCALE_JAILS * $START")" - -
stop_jaild

# ---- phase C: log flood ----------------------------------------------------------------------

log "figure 7: log flood of $FLOOD_LINES lines"
FLOOD=$ID-flood
flood_root=$(root_for "$FLOOD")
# The output limit at its maximum (the default, 1000 lines/s, drops 99% of the flood and its
# FLOOD-DONE): this figure is about jaild's reader losing nothing at full speed.
write_config "$(printf '"%s": {"root": "%s", "address": "10.213.0.4", "profile": "none",
  "restart": {"policy": "never"},
  "limits": {"output_lines_per_second": 1000000, "output_burst": 10000000},
  "command": ["/bin/sh", "-c", "while [ ! -e /go ]; do sleep 0.05; done; seq 1 %d; echo FLOOD-DONE; exec sleep 3600"]}' \
  "$FLOOD" "$flood_root" "$FLOOD_LINES")"
start_jaild "$JAILD_CONFIG"
wait_until 20 status_is "$FLOOD" state running || fail "flood jail not running"
for ((i = 0; i < API_REPS; i++)); do
  out=$("$LOADGEN" "$SOCK" 16 "$API_SECONDS")
  sample flood_idle_p99 "$(sed -n 's/.* p99_us=\([0-9.]*\).*/\1/p' <<<"$out")"
done
rss_before=$(jaild_rss_kib)
flood_t0=$(date +%s%N)
touch "$flood_root/go"
flood_loadgen=$("$LOADGEN" "$SOCK" 16 "$API_SECONDS")
log "loadgen during the flood: $flood_loadgen"
sample flood_busy_p99 "$(sed -n 's/.* p99_us=\([0-9.]*\).*/\1/p' <<<"$flood_loadgen")"
rss_mid=$(jaild_rss_kib)
flood_done() { [[ $(jailctl logs -n 1 "$FLOOD" 2>/dev/null) == *FLOOD-DONE* ]]; }
wait_until 600 flood_done || fail "the flood did not finish within 600 s"
flood_ms=$(( ($(date +%s%N) - flood_t0) / 1000000 ))
# Every jail output line is logged by jaild as "... [<jail>] [info] <line>" on its stderr
# (here $JAILD_LOG, a file). Count the seq lines and check they are exactly 1..N.
delivered=$(grep -F "[$FLOOD:stdout]" "$JAILD_LOG" | sed -n 's/.* \([0-9][0-9]*\)$/\1/p' | sort -n -u | wc -l)
dropped_reported=$(grep -ci 'dropped' "$JAILD_LOG" || true)
last_logged=$(jailctl logs -n 2 "$FLOOD" | head -n 1)
rss_after=$(jaild_rss_kib)
hwm=$(jaild_hwm_kib)
log "flood: $delivered of $FLOOD_LINES distinct lines in jaild's stderr, $dropped_reported 'dropped' reports, $flood_ms ms, last in buffer: $last_logged; RSS KiB before $rss_before during $rss_mid after $rss_after peak $hwm"
sample flood_delivered "$delivered"
sample flood_ms "$flood_ms"
sample flood_hwm "$(calc "$hwm / 1024")"
sample flood_rss_growth "$(calc "($rss_after - $rss_before) / 1024")"
row 7 "lines delivered to jaild's stderr (file) of $FLOOD_LINES" lines "$SAMPLES/flood_delivered" \
  "lines written" "$FLOOD_LINES" "all accounted for" "m == b"
row 7 "flood duration (jail writes -> last line logged)" ms "$SAMPLES/flood_ms" - - - -
row 7 "status p99 (16 clients) during the flood vs idle" us "$SAMPLES/flood_busy_p99" \
  "idle p99" "$(median_of "$SAMPLES/flood_idle_p99")" "<= 2x idle" "r <= 2"
row 7 "jaild peak RSS (VmHWM) after the flood" MiB "$SAMPLES/flood_hwm" - - "bounded" "m < 20"
row 7 "jaild RSS growth over the flood" MiB "$SAMPLES/flood_rss_growth" - - - -
stop_jaild

# ---- phase D: a hostile member of group jaild ------------------------------------------------
source "$JAILD_SOURCE_DIR/bench/hostile.sh"
log "benchmarks done"

#!/usr/bin/env bash
# bench/rss-probe.sh: where jaild's resident memory goes, with the 2 busybox jails of figure 4.
# Runs inside a throwaway world (every bridge, rule and jail lives there):
#   sudo JAILD_SOURCE_DIR=$PWD JAILD_TEST_BUILD_DIR=$PWD/build \
#     tests/integration/harness/run-in-world bench/rss-probe.sh
# Starts jaild as bench/world.sh phase A does, waits until both jails serve, makes some API
# requests (status, stop/start, logs, and 2 s of 16 and 64 concurrent clients with
# jaild_bench_loadgen if built; figure 4 is read after figures 1-3 exercised all of these),
# then prints VmRSS, RssAnon, RssFile, PSS and the resident KiB per mapping from
# /proc/PID/smaps, largest first. No timing. RSS_PROBE_REPS (default 3) jaild runs, each
# measured the same way; the last run's breakdown is printed.
set -euo pipefail
source "$JAILD_SOURCE_DIR/tests/integration/harness/lib.sh"

REPS=${RSS_PROBE_REPS:-3}
LOADGEN=$JAILD_TEST_BUILD_DIR/bench/jaild_bench_loadgen
ID=$JAILD_TEST_ID
BASE_ROOT=$JAILD_TEST_DIR/roots/base
make_busybox_root "$BASE_ROOT" rss
RESTART_JSON='"restart": {"policy": "always", "backoff_initial": "100ms", "reset_after": "300ms", "crash_loop_limit": 1000}'
web_jail() {  # same as bench/world.sh
  printf '"%s": {"root": "%s", "address": "%s", "profile": "none", "host_access": [80], %s %s,
    "command": ["/bin/httpd", "-f", "-p", "%s:80", "-h", "/www"]}' \
    "$1" "$(root_for "$1")" "$2" "${3:+\"publish\": $3,}" "$RESTART_JSON" "$2"
}
write_config "$(web_jail "$ID-web" 10.213.0.2 '[80]')" "$(web_jail "$ID-other" 10.213.0.3)"
accepting() { curl -s -o /dev/null -m 1 "http://$1/"; }
kib() { awk -v k="$1:" '$1 == k { print $2 }' "$2"; }

for ((rep = 1; rep <= REPS; rep++)); do
  start_jaild "$JAILD_CONFIG"
  sysctl -qw net.ipv4.neigh.jd0.retrans_time_ms=10
  wait_until 20 accepting 10.213.0.2:80 || fail "jail $ID-web never served"
  wait_until 20 accepting 10.213.0.3:80 || fail "jail $ID-other never served"
  for ((i = 0; i < 3; i++)); do
    jailctl stop "$ID-web" >/dev/null
    jailctl start "$ID-web" >/dev/null
    wait_until 20 accepting 10.213.0.2:80 || fail "jail $ID-web never served again"
  done
  for ((i = 0; i < 50; i++)); do jailctl --json status >/dev/null; done
  jailctl logs -n 10 "$ID-web" >/dev/null || true
  outside curl -s -o /dev/null -m 2 "http://$JAILD_PUBLIC_ADDR/" || true
  # Figure 4 is read after figure 3's load (up to 64 clients); use its generator when built.
  if [[ -x $LOADGEN ]]; then
    for clients in 16 64; do "$LOADGEN" "$JAILD_SOCKET" "$clients" 2 >/dev/null; done
  else
    log "$LOADGEN not built: no concurrent load (build target jaild_bench_loadgen)"
  fi
  sleep 0.5
  st=/proc/$JAILD_PID/status
  printf 'RSS-PROBE run %d: VmRSS %s KiB (%.2f MiB), RssAnon %s, RssFile %s, RssShmem %s, Pss %s KiB, threads %s\n' \
    "$rep" "$(kib VmRSS "$st")" "$(awk -v v="$(kib VmRSS "$st")" 'BEGIN { print v / 1024 }')" \
    "$(kib RssAnon "$st")" "$(kib RssFile "$st")" "$(kib RssShmem "$st")" \
    "$(kib Pss "/proc/$JAILD_PID/smaps_rollup")" "$(kib Threads "$st")"
  if ((rep == REPS)); then
    # Rss and Pss per mapped object (all its mappings summed), largest first.
    awk '/^[0-9a-f]+-[0-9a-f]+ / { name = (NF >= 6) ? $6 : "[anon]"; sub(/.*\//, "", name) }
         /^Rss:/ { rss[name] += $2 } /^Pss:/ { pss[name] += $2 }
         /^Anonymous:/ { anon[name] += $2 }
         END { for (n in rss) if (rss[n] > 0) printf "RSS-PROBE   %6d KiB rss %6d pss %5d anon  %s\n", rss[n], pss[n], anon[n], n }' \
      "/proc/$JAILD_PID/smaps" | sort -k2,2nr
  fi
  # RSS_PROBE_HOOK: a command run (eval) with $JAILD_PID set before jaild stops, e.g. gdb.
  if ((rep == REPS)) && [[ -n ${RSS_PROBE_HOOK:-} ]]; then eval "$RSS_PROBE_HOOK"; fi
  stop_jaild
done

#!/usr/bin/env bash
# Smoke run of every benchmark (bench/world.sh with BENCH_SMOKE=1: one tiny repetition of each
# figure, 3 jails instead of 50, 2000 log lines instead of 1 000 000). It asserts only that each
# figure produced its numbers, never their values: timing belongs to `bench/run-all`.
set -euo pipefail
source "$JAILD_SOURCE_DIR/tests/integration/harness/lib.sh"

export BENCH_SMOKE=1 BENCH_RESULTS=$JAILD_TEST_DIR/bench-results.tsv
: >"$BENCH_RESULTS"
bash "$JAILD_SOURCE_DIR/bench/world.sh" || fail "bench/world.sh failed in smoke mode"

for fig in 1 2 3 4 5 6 7; do
  rows=$(awk -F'\t' -v f="$fig" '$1 == f' "$BENCH_RESULTS" | wc -l)
  ((rows > 0)) || fail "figure $fig produced no result"
done
if awk -F'\t' '$4 == "nan" || $4 == "" { bad = 1 } END { exit !bad }' "$BENCH_RESULTS"; then
  fail "a figure has no samples: $(awk -F'\t' '$4 == "nan" || $4 == ""' "$BENCH_RESULTS")"
fi
delivered=$(awk -F'\t' '$1 == 7 && $2 ~ /^lines delivered/ { print $4 }' "$BENCH_RESULTS")
[[ $delivered == 2000.000 ]] || fail "log flood: expected all 2000 lines in jaild's log, got $delivered"
log "bench smoke: $(wc -l <"$BENCH_RESULTS") result rows for 7 figures"

#!/usr/bin/env bash
# Bad clients against the running daemon: malformed JSON, unknown method, wrong parameter types,
# an unknown jail, an oversized request, a silent and a half-line client, 300 concurrent
# connections, a log follower that stops reading while its jail floods. jaild keeps answering
# other clients throughout, and its memory stays bounded.
set -euo pipefail
source "$JAILD_SOURCE_DIR/tests/integration/harness/lib.sh"

FLOOD=${JAILD_TEST_ID}-flood
root=$(jail_root "$FLOOD")
write_config "\"$FLOOD\": {\"root\": \"$root\", \"address\": \"10.213.0.2\", \"profile\": \"none\",
  \"command\": {\"shell\": \"i=0; while true; do i=\$((i+1)); echo flood line \$i padding-padding-padding-padding-padding; done\"}}"
start_jaild "$JAILD_CONFIG"
wait_until 5 status_is "$FLOOD" state running
abuse() { timeout 120 perl "$(dirname "$0")/abuse.pl" "$JAILD_SOCKET" "$FLOOD" "$1"; }

# While the bad clients do their worst, a well-behaved one keeps asking for the status.
( for _ in $(seq 600); do jailctl status >/dev/null || echo "status failed" >>"$JAILD_TEST_DIR/good-client"; sleep 0.05; done ) &
good=$!
abuse errors
abuse oversize
abuse many
rss_before=$(jaild_rss_kib)
abuse stalled-follower
rss_after=$(jaild_rss_kib)
log "jaild RSS before/after the stalled follower: ${rss_before} kB / ${rss_after} kB"
if [[ -n ${JAILD_TEST_SANITIZED:-} ]]; then
  log "sanitizer build: RSS is not a leak measure here (ASan quarantine); LeakSanitizer checks at exit"
else
  ((rss_after < rss_before + 16384)) || fail "jaild grew by $((rss_after - rss_before)) kB behind a stalled follower"
fi
abuse idle
kill "$good" 2>/dev/null || true
wait "$good" 2>/dev/null || true
[[ ! -e $JAILD_TEST_DIR/good-client ]] || fail "a well-behaved client was refused meanwhile: $(sort | uniq -c <"$JAILD_TEST_DIR/good-client")"
jailctl status "$FLOOD" >/dev/null || fail "jaild stopped answering"
stop_jaild
log "abuse test passed"

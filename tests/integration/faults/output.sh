#!/usr/bin/env bash
# A jail writes binary garbage, a very long line without a newline, then closes its stdout
# and stderr and goes on serving: jaild's logging copes (lines cut at 8192 bytes, invalid
# UTF-8 replaced by U+FFFD so `jailctl --json logs` stays valid JSON), jaild keeps answering,
# and the jail keeps running without a restart.
set -euo pipefail
source "$JAILD_SOURCE_DIR/tests/integration/harness/lib.sh"
source "$(dirname "$0")/common.sh"

A=${JAILD_TEST_ID}-a B=${JAILD_TEST_ID}-b
root=$(jail_root "$A" "$A says hi")
head -c 65536 /dev/urandom >"$root/garbage.bin"          # any bytes, NULs included
head -c 300000 /dev/zero | tr '\0' 'x' >"$root/long.txt"  # 300 kB, no newline
printf 'bad utf-8: \377\376 \300\200 end\n' >"$root/bad.txt"
write_config "\"$A\": {\"root\": \"$root\", \"address\": \"10.213.0.2\", \"profile\": \"none\", \"publish\": [80],
    \"command\": {\"shell\": \"cat /bad.txt; cat /garbage.bin; echo; cat /long.txt; echo; echo before-close; exec 1>&- 2>&-; exec httpd -f -p 10.213.0.2:80 -h /www\"}}" \
  "$(web_jail "$B" 3 8080)"
start_jaild "$JAILD_CONFIG"
wait_until 10 serves "$A" 80 || fail "the noisy jail does not serve"
wait_until 10 serves "$B" 8080
logged_before_close() { jailctl logs -n 1000 "$A" | grep before-close >/dev/null; }
wait_until 10 logged_before_close || fail "the line printed before closing stdout never reached the log"

json_out=$JAILD_TEST_DIR/logs.json
jailctl --json logs -n 1000 "$A" >"$json_out" || fail "jailctl --json logs failed"
lines=$(wc -l <"$json_out")
log "jailctl --json logs: $lines lines"
jq -e . "$json_out" >/dev/null || fail "jailctl --json logs is not valid JSON"
jq -r '.text' "$json_out" >"$JAILD_TEST_DIR/texts" || fail "log lines have no text field"
grep -q $'bad utf-8: \xef\xbf\xbd' "$JAILD_TEST_DIR/texts" || fail "invalid UTF-8 was not replaced by U+FFFD"
longest=$(jq -r '.text | length' "$json_out" | sort -n | tail -n 1)
log "longest log line: $longest characters"
((longest <= 8192)) || fail "a log line of $longest characters: long lines are not cut"
x_chars=$(jq -r 'select(.text | test("^x{100,}$")) | .text | length' "$json_out" | awk '{ n += $1 } END { print n + 0 }')
((x_chars == 300000)) || fail "the long line lost bytes: $x_chars of 300000 'x' in the log"

# The jail kept running: no restart, still serving, and jaild still answers.
[[ $(status_of "$A" state) == running && $(status_of "$A" restarts) == 0 ]] \
  || fail "the noisy jail was restarted or stopped: $(jailctl --json status "$A")"
serves "$A" 80 || fail "the noisy jail stopped serving"
serves "$B" 8080 || fail "the other jail stopped serving"
stop_jaild
log "output test passed"

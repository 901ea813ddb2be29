#!/usr/bin/env bash
# jaild --check-host and jailctl doctor pass on a clean world (systemd is absent here: a
# warning, not a failure) and fail, naming the chain, with a foreign `policy drop` forward
# chain. The drop is real: the jail's published page does not come through while the chain is
# there, and does once the fix the report gives is applied. jaild logs the failing check at
# start too.
set -euo pipefail
source "$JAILD_SOURCE_DIR/tests/integration/harness/lib.sh"
source "$JAILD_SOURCE_DIR/tests/integration/faults/common.sh"

J=${JAILD_TEST_ID}-w
write_config "$(web_jail "$J" 2 8080)"
jaild=$JAILD_TEST_BUILD_DIR/daemon/jaild
check_host() { "$jaild" --check-host --config "$JAILD_CONFIG" --state-dir "$JAILD_TEST_DIR/state" "$@"; }

# 1. The clean world passes (exit 0), every check listed.
status=0
out=$(check_host 2>&1) || status=$?
((status == 0)) || fail "jaild --check-host failed on a clean world ($status): $out"
for id in config root firejail firejail-chroot namespaces br-netfilter nftables ruleset forward-policy \
  iptables-legacy systemd disk; do
  grep -q "^\(ok  \|warn\)  $id: " <<<"$out" || fail "check $id missing or failing: $out"
done
json=$(check_host --json)
[[ $(jq -r .passed <<<"$json") == true ]] || fail "--json does not say passed: $json"

# 2. A foreign table whose forward chain drops (as Docker's FORWARD DROP does).
nft add table inet foreign
defer nft delete table inet foreign
nft add chain inet foreign fw '{ type filter hook forward priority 0; policy drop; }'
status=0
out=$(check_host 2>&1) || status=$?
((status == 1)) || fail "jaild --check-host should exit 1 with a foreign policy drop, got $status: $out"
grep -q '^fail  forward-policy: table inet foreign chain fw (policy drop) drops traffic' <<<"$out" ||
  fail "the foreign chain is not reported: $out"

# 3. jaild starts anyway (the drop breaks traffic, not jaild) and logs the failing check.
start_jaild "$JAILD_CONFIG"
wait_until 10 status_is "$J" state running || fail "$J did not start"
wait_until 10 log_has "host check forward-policy failed: table inet foreign chain fw" ||
  fail "jaild did not log the failing check at start"
status=0
out=$(jailctl doctor 2>&1) || status=$?
((status == 1)) || fail "jailctl doctor should exit 1 with a foreign policy drop, got $status: $out"
grep -q '^fail  forward-policy: table inet foreign chain fw (policy drop)' <<<"$out" ||
  fail "jailctl doctor does not report the chain: $out"
! serves "$J" 8080 || fail "the published page came through a forward chain with policy drop"

# 4. The fix the report gives lets jail traffic through; doctor then passes, naming the rule.
fix=$(jailctl --json doctor | jq -r '.checks[] | select(.id == "forward-policy") | .fix' || true)
cmd=${fix%% (*}
[[ $cmd == "nft insert rule inet foreign fw oifname \"jd0\" accept && nft insert rule inet foreign fw iifname \"jd0\" accept" ]] ||
  fail "unexpected fix: $fix"
eval "$cmd"
status=0
out=$(jailctl doctor 2>&1) || status=$?
((status == 0)) || fail "jailctl doctor should pass once the bridge is accepted ($status): $out"
grep -q '^ok    forward-policy: table inet foreign chain fw (policy drop) lets it through by rule' <<<"$out" ||
  fail "doctor does not say which rule lets jail traffic through: $out"
wait_until 10 serves "$J" 8080 || fail "the page does not come through after the fix"

# 5. Without the foreign table: passes.
nft delete table inet foreign
status=0
out=$(jailctl doctor 2>&1) || status=$?
((status == 0)) || fail "jailctl doctor failed on the clean world ($status): $out"
grep -q '^ok    forward-policy: no other table has a forward chain' <<<"$out" || fail "$out"
nft add table inet foreign  # for the deferred delete
stop_jaild
log "doctor test passed"

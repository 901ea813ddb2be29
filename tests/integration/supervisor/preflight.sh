#!/usr/bin/env bash
# jaild refuses to start, saying exactly what to fix, when firejail's chroot feature is off or
# the configuration is invalid; nothing is set up in either case.
set -euo pipefail
source "$JAILD_SOURCE_DIR/tests/integration/harness/lib.sh"

J=${JAILD_TEST_ID}-j
root=$(jail_root "$J")
write_config "\"$J\": {\"root\": \"$root\", \"address\": \"10.213.0.2\", \"profile\": \"none\", \"command\": [\"/bin/sleep\", \"100\"]}"
jaild=$JAILD_TEST_BUILD_DIR/daemon/jaild

# firejail's chroot disabled (as Debian ships it).
grep -v '^chroot' /etc/firejail/firejail.config >"$JAILD_TEST_DIR/firejail-off.config"
status=0
out=$("$jaild" --config "$JAILD_CONFIG" --socket "$JAILD_TEST_DIR/s.sock" --firejail-config "$JAILD_TEST_DIR/firejail-off.config" 2>&1) || status=$?
((status == 78)) || fail "expected exit 78 (EX_CONFIG) with chroot disabled, got $status: $out"
[[ $out == *"chroot feature is disabled in $JAILD_TEST_DIR/firejail-off.config"* && $out == *"chroot yes"* ]] ||
  fail "the error does not name the file and the fix: $out"

# firejail missing.
status=0
out=$("$jaild" --config "$JAILD_CONFIG" --socket "$JAILD_TEST_DIR/s.sock" --firejail /nonexistent/firejail 2>&1) || status=$?
((status == 78)) && [[ $out == *"apt-get install firejail"* ]] || fail "missing firejail not reported ($status): $out"

# An invalid configuration: exit 78 (EX_CONFIG) naming the path, before touching anything.
sed -i 's/"10.213.0.2"/"10.213.7.2"/' "$JAILD_CONFIG"
status=0
out=$("$jaild" --config "$JAILD_CONFIG" --socket "$JAILD_TEST_DIR/s.sock" 2>&1) || status=$?
((status == 78)) || fail "expected exit 78 for an invalid configuration, got $status: $out"
[[ $out == *"jails.$J.address"* ]] || fail "the error does not name jails.$J.address: $out"
status=0
"$jaild" --config "$JAILD_CONFIG" --check-config >/dev/null 2>&1 || status=$?
((status == 78)) || fail "--check-config should fail with 78, got $status"

# A missing configuration file.
status=0
out=$("$jaild" --config "$JAILD_TEST_DIR/nope.json" 2>&1) || status=$?
((status == 78)) && [[ $out == *"$JAILD_TEST_DIR/nope.json"* ]] || fail "missing file not reported ($status): $out"
[[ ! -e $JAILD_TEST_DIR/s.sock ]] || fail "a refused start left its socket behind"
! ip link show jd0 >/dev/null 2>&1 || fail "a refused start created the bridge"
log "preflight test passed"

#!/usr/bin/env bash
# Run nested by world_selftest.sh: deliberately leaves one of each kind of leftover behind.
set -euo pipefail
source "$JAILD_SOURCE_DIR/tests/integration/harness/lib.sh"
root=$JAILD_TEST_DIR/root
make_busybox_root "$root"
firejail --name="$JAILD_TEST_ID-left" --chroot="$root" --noprofile --quiet /bin/sleep 300 \
  </dev/null >/dev/null 2>&1 &
wait_until 10 firejail_sandbox_pid "$JAILD_TEST_ID-left" >/dev/null
ip netns add "$JAILD_TEST_ID-ns"
ip link add left0 type veth peer name left1
nft add table inet jaild
sleep 300 </dev/null >/dev/null 2>&1 &
echo "sleeper pid $!"

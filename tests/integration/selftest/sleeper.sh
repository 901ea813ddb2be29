#!/usr/bin/env bash
# Run nested by sweep_test.sh, then killed with -9: starts a sandbox named $1 and a plain
# process, writes $2 when they run, and sleeps.
set -euo pipefail
source "$JAILD_SOURCE_DIR/tests/integration/harness/lib.sh"
root=$JAILD_TEST_DIR/root
make_busybox_root "$root"
firejail --name="$1" --chroot="$root" --noprofile --quiet /bin/sleep 300 </dev/null >/dev/null 2>&1 &
wait_until 10 firejail_sandbox_pid "$1" >/dev/null
sleep 300 </dev/null >/dev/null 2>&1 &
printf '%s\n' "$!" >"$2"
sleep 300

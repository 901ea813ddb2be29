#!/usr/bin/env bash
# integration.harness_sweep: a run killed with -9 leaves its world running; the next run's
# sweep must kill its processes and sandboxes and remove its record and test dir.
source "$JAILD_SOURCE_DIR/tests/integration/harness/lib.sh"

harness=$JAILD_HARNESS_DIR/run-in-world
here=$JAILD_SOURCE_DIR/tests/integration/selftest
name=$JAILD_TEST_ID-sleep
ready=$JAILD_TEST_DIR/sleeper.ready

"$harness" "$here/sleeper.sh" "$name" "$ready" >"$JAILD_TEST_DIR/victim.out" 2>&1 &
victim=$!
_kill_victim() { kill -KILL "$victim" 2>/dev/null || true; }
defer _kill_victim
wait_until 20 test -s "$ready" || { cat "$JAILD_TEST_DIR/victim.out" >&2; fail "sleeper.sh did not get ready"; }
sleeper_pid=$(cat "$ready")
sandbox_pid=$(firejail_sandbox_pid "$name") || fail "sandbox $name is not running"

record=$(grep -lx "wrapper_pid=$victim" /run/jaild-tests/* 2>/dev/null | head -n 1) || true
[[ -n $record ]] || fail "no record of run-in-world pid $victim in /run/jaild-tests"
inode=$(sed -n 's/^mnt=//p' "$record")
test_dir=$(sed -n 's/^test_dir=//p' "$record")
[[ -n $inode && -d $test_dir ]] || fail "record $record lacks the mount namespace or test dir: $(cat "$record")"
log "victim run ${record##*/}: wrapper $victim, mnt $inode, sandbox pid $sandbox_pid, sleeper pid $sleeper_pid"

kill -KILL "$victim"
wait "$victim" 2>/dev/null || true
sleep 0.5
# Without a sweep, everything is still there: this is what the sweep is for.
[[ -d /proc/$sleeper_pid && -d /proc/$sandbox_pid ]] || fail "kill -9 of the wrapper already ended its world (test premise broken)"

log "next run (noop) must sweep it"
"$harness" "$here/noop.sh" >"$JAILD_TEST_DIR/next.out" 2>&1 || { cat "$JAILD_TEST_DIR/next.out" >&2; fail "the next run failed"; }
sed 's/^/  next| /' "$JAILD_TEST_DIR/next.out" >&2

wait_until 5 process_gone "$sleeper_pid" || fail "process $sleeper_pid of the killed run survived the sweep"
wait_until 5 process_gone "$sandbox_pid" || fail "sandbox $name (pid $sandbox_pid) survived the sweep"
firejail_sandbox_pid "$name" >/dev/null && fail "a sandbox named $name is still alive"
left=$(stat -L -c '%i %n' /proc/[0-9]*/ns/mnt 2>/dev/null | awk -v i="$inode" '$1 == i' || true)
[[ -z $left ]] || fail "processes of the killed world's mount namespace remain: $left"
[[ ! -e $record ]] || fail "record $record was not removed"
[[ ! -e $test_dir ]] || fail "test dir $test_dir was not removed"
log "sweep killed the abandoned world and removed its record and test dir"

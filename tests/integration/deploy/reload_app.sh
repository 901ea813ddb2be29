#!/usr/bin/env bash
# `jailctl reload-app` on busybox jails (issue 18): the reload signal reaches the service under
# a wrapper shell and not the shell; what a jail can do to the choice (several children, a
# storm of short-lived children) makes reload-app fail at most, never signals a process
# outside the jail; a jail without a reload signal says which field to set.
source "$JAILD_SOURCE_DIR/tests/integration/harness/lib.sh"

SVC=$JAILD_TEST_ID-svc
TWO=$JAILD_TEST_ID-two
CHURN=$JAILD_TEST_ID-churn
BARE=$JAILD_TEST_ID-bare

# shell_root NAME: a busybox root whose /bin/sh is a copy of busybox (not a link), so that the
# kernel names its executable "sh", as with Debian's dash: jaild sees a wrapper shell.
shell_root() {
  local root
  root=$(jail_root "$1")
  rm -f "$root/bin/sh"
  cp "$root/bin/busybox" "$root/bin/sh"
  printf '%s' "$root"
}
svc_root=$(shell_root "$SVC")
cat >"$svc_root/svc.sh" <<'SH'
trap 'echo reloaded >> /tmp/reloads' USR1
while true; do sleep 1; done
SH
two_root=$(shell_root "$TWO")
churn_root=$(shell_root "$CHURN")
bare_root=$(jail_root "$BARE")

jail() {  # NAME INDEX ROOT COMMAND_JSON [EXTRA]
  printf '"%s": {"root": "%s", "address": "10.213.0.%s", "profile": "none",
    "command": %s, "restart": {"policy": "never"}%s}' "$1" "$3" "$2" "$4" "${5:+, $5}"
}
write_config \
  "$(jail "$SVC" 2 "$svc_root" '["/bin/sh", "-c", "/bin/busybox sh /svc.sh; true"]' '"reload_signal": "SIGUSR1"')" \
  "$(jail "$TWO" 3 "$two_root" '["/bin/sh", "-c", "/bin/busybox sleep 1000 & /bin/busybox sleep 1000 & wait"]' '"reload_signal": "USR1"')" \
  "$(jail "$CHURN" 4 "$churn_root" '["/bin/sh", "-c", "while true; do /bin/busybox true; done"]' '"reload_signal": "SIGUSR1"')" \
  "$(jail "$BARE" 5 "$bare_root" '["/bin/sleep", "1000"]')"
start_jaild "$JAILD_CONFIG"
for j in "$SVC" "$TWO" "$CHURN" "$BARE"; do
  wait_until 10 has_main_pid "$j" || fail "$j does not run: $(jailctl status)"
done
# Host processes that a misdirected SIGUSR1 would kill (sleep's default action).
decoys=()
for _ in 1 2 3 4 5; do sleep 300 & decoys+=($!); done
defer kill "${decoys[@]}"

log "a wrapper shell with one child: the child gets the signal, the shell lives on"
svc_main=$(status_of "$SVC" main_pid)
has_child() { [[ -n $(ps -o pid= --ppid "$1") ]]; }
wait_until 5 has_child "$svc_main" || fail "the svc shell has no child"
out=$(jailctl reload-app "$SVC") || fail "reload-app $SVC failed: $out"
log "$out"
child=$(ps -o pid= --ppid "$svc_main" | tr -d ' ')
[[ $out == "$SVC: SIGUSR1 sent to busybox (pid $child)" ]] || fail "unexpected: $out (child of $svc_main: $child)"
wait_until 5 test -s "$svc_root/tmp/reloads" || fail "the service did not see SIGUSR1"
[[ $(status_of "$SVC" state) == running && $(status_of "$SVC" main_pid) == "$svc_main" ]] ||
  fail "the jail's shell was hit: $(jailctl status "$SVC")"
out=$(jailctl --json reload-app "$SVC")
[[ $(jq -r .signal <<<"$out") == SIGUSR1 && $(jq -r .pid <<<"$out") == "$child" ]] || fail "--json: $out"
seen_twice() { (($(wc -l <"$svc_root/tmp/reloads") >= 2)); }
wait_until 5 seen_twice || fail "the second SIGUSR1 was not seen"

log "attack: a shell with two children: reload-app fails, nothing is signalled"
two_main=$(status_of "$TWO" main_pid)
two_children() { (($(ps -o pid= --ppid "$two_main" | wc -l) == 2)); }
wait_until 5 two_children || fail "$TWO has not 2 children"
kids=$(ps -o pid= --ppid "$two_main" | tr '\n' ' ')
rc=0; out=$(jailctl reload-app "$TWO" 2>&1) || rc=$?
[[ $rc == 1 && $out == *"2 child processes"* && $out == *'"command"'* ]] || fail "rc $rc: $out"
log "refused: $out"
for k in $kids; do process_gone "$k" && fail "child $k of $TWO was signalled"; done
[[ $(status_of "$TWO" main_pid) == "$two_main" ]] || fail "$TWO's shell was signalled"

log "attack: a shell forking short-lived children as fast as it can: 100 reload-apps"
ok=0 refused=0
for _ in $(seq 100); do
  if jailctl reload-app "$CHURN" >/dev/null 2>>"$JAILD_TEST_DIR/churn.err"; then ok=$((ok + 1)); else refused=$((refused + 1)); fi
done
log "churn: $ok signalled a child of the jail's shell, $refused refused ($(sort "$JAILD_TEST_DIR/churn.err" | sed 's/pid\? [0-9]*//g; s/process [0-9]*/process N/' | sort | uniq -c | head -3 | tr '\n' ';'))"
[[ $(status_of "$CHURN" state) == running ]] || fail "$CHURN's shell was hit: $(jailctl status "$CHURN")"
for d in "${decoys[@]}"; do process_gone "$d" && fail "host process $d was killed"; done
log "no host process was signalled"

log "a jail without a recipe or reload_signal: the field and the fix"
rc=0; out=$(jailctl reload-app "$BARE" 2>&1) || rc=$?
[[ $rc == 1 && $out == *"jails.$BARE.reload_signal"* ]] || fail "rc $rc: $out"
[[ $(status_of "$BARE" state) == running ]] || fail "$BARE was hit"
rc=0; out=$(jailctl reload-app nosuchjail 2>&1) || rc=$?
[[ $rc == 3 ]] || fail "unknown jail: rc $rc: $out"
jailctl stop "$SVC" >/dev/null
rc=0; out=$(jailctl reload-app "$SVC" 2>&1) || rc=$?
[[ $rc == 1 && $out == *"not running"* ]] || fail "stopped jail: rc $rc: $out"
log "refused: $out"

stop_jaild
log "ok"

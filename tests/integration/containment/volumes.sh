#!/usr/bin/env bash
# Issue 18, volumes: a host directory mounted into a jail's root (jaild.json "volumes").
# Checked: the data crosses both ways and outlives a restart; the mount is nosuid,nodev and
# exists only in the sandbox's mount namespace (the world's mount table never shows it, before,
# during or after); a missing host directory fails the start naming the field. Attacks by
# root inside the jail, each logged "ATTACK <name>: blocked|SUCCEEDED" (the test fails if any
# succeeds):
#  - device_node: a device node (/dev/mem's numbers) made in the volume cannot be opened.
#  - setuid_volume: a setuid-root program planted in the volume: the mount has nosuid, and
#    host users cannot reach the volume (nobody cannot even list it).
#  - link_mount_point: the jail replaces the mount point's parent with a link to a host
#    directory; at the next start jaild refuses (naming the link) and mounts nothing there.
set -euo pipefail
source "$JAILD_SOURCE_DIR/tests/integration/harness/lib.sh"

A=${JAILD_TEST_ID}-a
DATA=$JAILD_TEST_DIR/data
VOLUME=$DATA/a
VICTIM=$JAILD_TEST_DIR/victim
failures=0
attack() {  # NAME blocked|SUCCEEDED [DETAIL]
  log "ATTACK $1: $2${3:+ ($3)}"
  [[ $2 == blocked ]] || failures=$((failures + 1))
}
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups /bin/sh -c 'exec "$@"' sh "$@"; }
world_mounts_volume() { grep -qF " $VOLUME " /proc/self/mountinfo || grep -qF "$VICTIM" /proc/self/mountinfo; }
in_jail() { jailctl join "$A" -- /bin/sh -c "$1"; }

# Like a host: the test dir is traversable; the folder of volumes is closed (0700).
chmod 0755 "$JAILD_TEST_DIR"
defer chmod 0700 "$JAILD_TEST_DIR"
install -d -m 0700 "$DATA"
install -d -m 0755 "$VICTIM"
root=$(jail_root "$A" "$A says hi")
write_config "$(printf '"%s": {"root": "%s", "address": "10.213.0.2", "profile": "none",
  "command": ["/bin/httpd", "-f", "-p", "10.213.0.2:80", "-h", "/www"],
  "restart": {"policy": "always", "backoff_initial": "100ms", "backoff_max": "1s"},
  "volumes": [{"host": "%s", "path": "/srv/data"}]}' "$A" "$root" "$VOLUME")"
start_jaild "$JAILD_CONFIG"

log "--- a missing host directory fails the start, naming the field"
wait_until 10 grep -qF "jails.$A.volumes[0].host: $VOLUME does not exist" "$JAILD_LOG" ||
  fail "no error naming the missing volume: $(tail -5 "$JAILD_LOG")"
[[ $(status_of "$A" state) != running ]] || fail "jail a runs without its volume"
install -d -m 0755 "$VOLUME"
echo "from the host" >"$VOLUME/hello"
jailctl restart "$A" >/dev/null || true
wait_until 10 status_is "$A" state running || fail "jail a does not run with its volume: $(jailctl status)"
wait_until 10 has_main_pid "$A" || fail "no main process"

log "--- the data crosses both ways; the mount is the sandbox's alone, nosuid,nodev"
[[ $(in_jail 'cat /srv/data/hello') == "from the host" ]] || fail "the jail does not see the host's file"
in_jail 'echo from the jail >/srv/data/written'
[[ $(cat "$VOLUME/written") == "from the jail" ]] || fail "the host does not see the jail's file"
[[ -d $root/srv/data && -z $(ls -A "$root/srv/data") ]] ||
  fail "the mount point in the root (as the host sees it) is not an empty directory: $(ls -la "$root/srv/data")"
main=$(status_of "$A" main_pid)
line=$(grep -F " /srv/data " "/proc/$main/mountinfo") || fail "no /srv/data mount in the jail: $(cat "/proc/$main/mountinfo")"
log "jail's mount: $line"
opts=$(awk '{print $6}' <<<"$line")
[[ ,$opts, == *,nosuid,* && ,$opts, == *,nodev,* ]] || fail "the volume is mounted $opts, not nosuid,nodev"
! world_mounts_volume || fail "the volume shows in the world's (host's) mount table: $(grep -F "$VOLUME" /proc/self/mountinfo)"

log "--- device_node"
if in_jail 'mknod /srv/data/mem c 1 1' 2>/dev/null; then
  if in_jail 'head -c 1 /srv/data/mem >/dev/null' 2>/dev/null; then
    attack device_node SUCCEEDED "a device node in the volume could be opened"
  else
    attack device_node blocked "mknod worked, open refused (nodev)"
  fi
else
  attack device_node blocked "mknod refused"
fi
rm -f "$VOLUME/mem"

log "--- setuid_volume"
in_jail 'cp /bin/busybox /srv/data/busybox-suid && chmod 4755 /srv/data/busybox-suid' ||
  fail "root in the jail could not plant the setuid file (the attack itself failed)"
[[ -u $VOLUME/busybox-suid ]] || fail "the planted file is not setuid: $(ls -l "$VOLUME/busybox-suid")"
if out=$(nobody "$VOLUME/busybox-suid" id -u 2>&1); then
  attack setuid_volume SUCCEEDED "nobody ran it from the host: uid $out"
elif nobody ls "$VOLUME" >/dev/null 2>&1; then
  attack setuid_volume SUCCEEDED "nobody can list the volume"
else
  attack setuid_volume blocked "the host's users cannot reach the volume ($out)"
fi
# Inside the jail the setuid bit is void: the mount is nosuid (mountinfo, checked above; busybox
# drops a setuid euid by itself, so running it would show nothing either way).
rm -f "$VOLUME/busybox-suid"

log "--- data outlives a restart"
restarts=$(status_of "$A" admin_restarts)
jailctl restart "$A" >/dev/null
wait_until 10 status_is "$A" state running || fail "jail a does not run after a restart"
[[ $(in_jail 'cat /srv/data/written') == "from the jail" ]] || fail "the jail's file is gone after a restart"
(( $(status_of "$A" admin_restarts) > restarts )) || fail "the restart was not counted"

log "--- link_mount_point"
in_jail "mv /srv /srv.moved && ln -s $VICTIM /srv" || fail "root in the jail could not plant the link"
[[ -L $root/srv ]] || fail "no link at $root/srv"
jailctl restart "$A" >/dev/null 2>&1 || true
if wait_until 10 grep -qF "jails.$A.volumes[0].path: /srv in the root $root is a symbolic link" "$JAILD_LOG"; then
  if [[ -n $(ls -A "$VICTIM") ]] || world_mounts_volume; then
    attack link_mount_point SUCCEEDED "something was made or mounted in $VICTIM: $(ls -A "$VICTIM")"
  else
    attack link_mount_point blocked "start refused naming the link; $VICTIM untouched"
  fi
else
  state=$(status_of "$A" state)
  attack link_mount_point SUCCEEDED "no refusal in the log; state $state; $(ls -A "$VICTIM")"
fi
[[ $(status_of "$A" state) != running ]] || attack link_mount_point SUCCEEDED "the jail runs anyway"
# The admin's fix from the message: a plain directory again.
rm "$root/srv" && mv "$root/srv.moved" "$root/srv"
jailctl restart "$A" >/dev/null 2>&1 || true
wait_until 10 status_is "$A" state running || fail "jail a does not run after the fix: $(jailctl status)"
[[ $(in_jail 'cat /srv/data/written') == "from the jail" ]] || fail "the data is gone after the fix"

stop_jaild
! world_mounts_volume || fail "a volume mount is left in the world's mount table"
[[ $(cat "$VOLUME/written") == "from the jail" ]] || fail "the volume's data is gone after jaild stopped"
(( failures == 0 )) || fail "$failures attack(s) succeeded"
log "PASS"

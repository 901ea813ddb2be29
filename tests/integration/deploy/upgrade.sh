#!/usr/bin/env bash
# Issue 18, security updates: `jailctl upgrade` on real debootstrapped roots (db: PostgreSQL
# with its cluster in a volume; www: Apache). Debian's own pending updates are the upgrade:
# a debootstrapped bookworm lacks the security updates published since its point release.
#  - `upgrade --check` counts what is pending (and the security part) without changing a thing;
#  - an attacker's dpkg hook planted in www's root runs, during the upgrade, exactly as
#    contained as the jail (same capability bounding set, no_new_privs, seccomp, no network,
#    the stage read-only) and gains nothing; it also breaks Apache's configuration, so the
#    upgraded www does not serve: jaild rolls back by itself, www serves its old root, status
#    and the log say why with Apache's own error;
#  - a good upgrade of www under a steady load from outside: failed requests and the seconds
#    without service are measured (docs/BENCHMARKS.md); nothing pending afterwards;
#  - db is upgraded with its cluster in the volume: a row written before is still there.
#
# Shares deploy.sh's set-up (mirror relay, the debootstrap base cached in
# /var/tmp/jaild-test-cache/provision) and runs beside it.
source "$JAILD_SOURCE_DIR/tests/integration/harness/lib.sh"
source "$JAILD_SOURCE_DIR/tests/integration/deploy/mirror.sh"

WWW=$JAILD_TEST_ID-www
DB=$JAILD_TEST_ID-db
WWW_ADDR=10.213.0.2
DB_ADDR=10.213.0.3
ROOTS=$JAILD_TEST_DIR/roots
DATA=$JAILD_TEST_DIR/data
CACHE=/var/tmp/jaild-test-cache/provision
PUBLIC=$JAILD_PUBLIC_ADDR

write_config "$(cat <<JSON
    "$DB": {
      "root": "$ROOTS/db", "address": "$DB_ADDR",
      "command": ["/usr/bin/pg_ctlcluster", "15", "main", "start", "--foreground"],
      "stop_signal": "SIGINT", "stop_timeout": "20s",
      "health": {"postgresql": 5432, "interval": "1s", "timeout": "2s", "retries": 30},
      "accept": [{"from": "$WWW", "ports": [5432]}],
      "restart": {"policy": "always", "backoff_initial": "100ms", "backoff_max": "2s"},
      "provision": {"packages": ["postgresql"], "recipe": "postgresql"},
      "volumes": [{"host": "$DATA/db", "path": "/var/lib/postgresql"}]
    },
    "$WWW": {
      "root": "$ROOTS/www", "address": "$WWW_ADDR",
      "command": ["/usr/sbin/apache2ctl", "-D", "FOREGROUND"],
      "publish": [80], "after": ["$DB"],
      "health": {"tcp": 80, "interval": "1s"},
      "restart": {"policy": "always", "backoff_initial": "100ms", "backoff_max": "2s"},
      "provision": {"packages": ["apache2", "postgresql-client"], "recipe": "apache"}
    }
JSON
)"

serving() { [[ $(status_of "$1" state) == running && $(status_of "$1" health) == healthy ]]; }
page_ok() {
  local code
  code=$(outside curl -sS -o "$JAILD_TEST_DIR/page.html" -w '%{http_code}' -m 3 "http://$PUBLIC/") || return 1
  [[ $code == 200 ]] && grep -q "Apache2 Debian Default Page" "$JAILD_TEST_DIR/page.html"
}
sql() { jailctl join "$WWW" -- /usr/bin/psql -w -h "$DB_ADDR" -U "$WWW" -d "$WWW" -Atc "$1"; }
sql_ok() { [[ $(sql 'select 1' 2>/dev/null) == 1 ]]; }
# The installed version of PACKAGE in ROOT, from its dpkg database (no binary of the root runs).
version_in() {
  awk -v p="$2" '/^Package: / {hit = ($2 == p)} hit && /^Version: / {print $2; exit}' "$1/var/lib/dpkg/status"
}

start_mirror_relay
install -d -m 0700 "$ROOTS" "$DATA"
mkdir -p "$CACHE"
start_jaild "$JAILD_CONFIG" --cache-dir "$CACHE"

log "provisioning $DB and $WWW"
jailctl provision "$DB" "$WWW" >"$JAILD_TEST_DIR/provision.out" 2>&1 || {
  cat "$JAILD_TEST_DIR/provision.out"; fail "provisioning failed"; }
wait_until 120 serving "$DB" || fail "$DB does not serve: $(jailctl status)"
wait_until 120 serving "$WWW" || fail "$WWW does not serve: $(jailctl status)"
wait_until 30 sql_ok || fail "www cannot reach the database"
sql "create table kept (v text); insert into kept values ('before the upgrade')" >/dev/null ||
  fail "cannot write a row"

log "upgrade --check: what is pending, nothing changed"
before_root=$(stat -c %i "$ROOTS/www")
libc_before=$(version_in "$ROOTS/www" libc6)
jailctl upgrade --check "$WWW" >"$JAILD_TEST_DIR/check.out" 2>&1 || {
  cat "$JAILD_TEST_DIR/check.out"; fail "upgrade --check failed"; }
log "$(head -3 "$JAILD_TEST_DIR/check.out")"
pending=$(status_of "$WWW" updates.pending)
security=$(status_of "$WWW" updates.security)
((pending > 0 && security > 0)) ||
  fail "expected pending security updates in a fresh bookworm root: pending $pending, security $security"
grep -q "$WWW: $pending updates pending, $security of them security" "$JAILD_TEST_DIR/check.out" ||
  fail "jailctl does not say what is pending: $(head -3 "$JAILD_TEST_DIR/check.out")"
jailctl status | grep -q "$WWW: $pending updates pending ($security security); next: jailctl upgrade $WWW" ||
  fail "the status table does not show the pending updates: $(jailctl status)"
[[ $(stat -c %i "$ROOTS/www") == "$before_root" && $(version_in "$ROOTS/www" libc6) == "$libc_before" ]] ||
  fail "upgrade --check changed the root"
[[ ! -e $ROOTS/www.new && ! -e $ROOTS/www.old ]] || fail "upgrade --check left a copy"

log "attack + broken upgrade: a dpkg hook planted in www's root reports what it runs with and breaks Apache's configuration"
main_pid=$(status_of "$WWW" main_pid)
jail_bounding=$(sed -n 's/^CapBnd:\t//p' "/proc/$main_pid/status")
STAGE=$CACHE/updates/bookworm
cat >"$ROOTS/www/usr/local/sbin/jaild-test-hook" <<'HOOK'
#!/bin/sh
# Runs as root in the copy being upgraded, after dpkg. Reports what it has, tries to get out.
echo "HOOK caps $(sed -n 's/^CapBnd:\t//p' /proc/self/status) eff $(sed -n 's/^CapEff:\t//p' /proc/self/status)"
echo "HOOK nnp $(sed -n 's/^NoNewPrivs:\t//p' /proc/self/status) seccomp $(sed -n 's/^Seccomp:\t//p' /proc/self/status)"
echo "HOOK net $(ls /sys/class/net | tr '\n' ' ')"
if touch /var/lib/jaild-upgrade/lists/hook-was-here 2>/dev/null; then echo "HOOK stage writable"; else echo "HOOK stage read-only"; fi
if mknod /tmp/hook-disk b 8 0 2>/dev/null; then echo "HOOK mknod allowed"; else echo "HOOK mknod refused"; fi
if timeout 3 bash -c 'exec 3<>/dev/tcp/127.0.0.1/3142' 2>/dev/null; then echo "HOOK proxy reached"; else echo "HOOK proxy unreachable"; fi
if timeout 3 bash -c 'exec 3<>/dev/tcp/198.51.100.1/80' 2>/dev/null; then echo "HOOK outside reached"; else echo "HOOK outside unreachable"; fi
echo "BogusDirectiveFromTheHook on" >>/etc/apache2/apache2.conf
HOOK
chmod 0755 "$ROOTS/www/usr/local/sbin/jaild-test-hook"
echo 'DPkg::Post-Invoke { "/usr/local/sbin/jaild-test-hook"; };' >"$ROOTS/www/etc/apt/apt.conf.d/99jaild-test-hook"
rc=0
jailctl upgrade "$WWW" >"$JAILD_TEST_DIR/broken.out" 2>&1 || rc=$?
log "broken upgrade: exit $rc; $(grep -m1 "rolled back" "$JAILD_TEST_DIR/broken.out" | cut -c1-300)"
((rc == 1)) || { cat "$JAILD_TEST_DIR/broken.out"; fail "a broken upgrade exited $rc, not 1"; }
grep -q "upgrade of jail '$WWW' rolled back: it did not serve on the upgraded root" "$JAILD_TEST_DIR/broken.out" ||
  fail "jailctl does not say it was rolled back: $(cat "$JAILD_TEST_DIR/broken.out")"
grep -q "BogusDirectiveFromTheHook" "$JAILD_TEST_DIR/broken.out" ||
  fail "the rollback's reason does not quote Apache's error: $(cat "$JAILD_TEST_DIR/broken.out")"
wait_until 60 serving "$WWW" || fail "$WWW does not serve after the rollback: $(jailctl status)"
wait_until 20 page_ok || fail "no page after the rollback"
[[ $(version_in "$ROOTS/www" libc6) == "$libc_before" ]] || fail "www runs an upgraded root after the rollback"
! grep -q BogusDirectiveFromTheHook "$ROOTS/www/etc/apache2/apache2.conf" || fail "the broken configuration is in the live root"
[[ $(status_of "$WWW" updates.last_upgrade.result) == "rolled back" ]] ||
  fail "status: last_upgrade is $(status_of "$WWW" updates.last_upgrade)"
jailctl status | grep -q "$WWW: last upgrade rolled back" || fail "the table does not show the rollback"
log_has "did not serve on its upgraded root" || fail "jaild did not log the rollback"
wait_until 30 test ! -e "$ROOTS/www.new" || fail "the failed upgraded root was left behind"
[[ ! -e $ROOTS/www.old ]] || fail "www.old left behind"

log "what the hook had (its output is the upgrade's, in jailctl logs)"
{ jailctl logs -n 100000 "$WWW"; cat "$JAILD_LOG"; } | grep -o "HOOK .*" | sort -u >"$JAILD_TEST_DIR/hook.out" || true
cat "$JAILD_TEST_DIR/hook.out" >&2
hook_bounding=$(sed -n 's/.*HOOK caps \([0-9a-f]*\) .*/\1/p' "$JAILD_TEST_DIR/hook.out" | head -1)
[[ -n $hook_bounding ]] || fail "the hook did not run (no report)"
[[ $hook_bounding == "$jail_bounding" ]] || fail "the hook's bounding set $hook_bounding is not the jail's $jail_bounding"
grep -q "HOOK nnp 1 seccomp 2" "$JAILD_TEST_DIR/hook.out" || fail "the hook ran without no_new_privs or seccomp"
grep -q "HOOK net lo $" "$JAILD_TEST_DIR/hook.out" || fail "the hook saw network interfaces: $(grep 'HOOK net' "$JAILD_TEST_DIR/hook.out")"
grep -q "HOOK stage read-only" "$JAILD_TEST_DIR/hook.out" || fail "the stage was writable"
[[ ! -e $STAGE/lists/hook-was-here ]] || fail "the hook wrote into jaild's stage"
grep -q "HOOK mknod refused" "$JAILD_TEST_DIR/hook.out" || fail "the hook could make a device node"
grep -q "HOOK proxy unreachable" "$JAILD_TEST_DIR/hook.out" || fail "the hook reached the host's apt proxy"
grep -q "HOOK outside unreachable" "$JAILD_TEST_DIR/hook.out" || fail "the hook reached the outside"

log "a good upgrade of www under a steady load through $PUBLIC"
rm -f "$ROOTS/www/etc/apt/apt.conf.d/99jaild-test-hook" "$ROOTS/www/usr/local/sbin/jaild-test-hook"
STOP=$JAILD_TEST_DIR/load.stop
outside python3 "$JAILD_SOURCE_DIR/tests/integration/harness/http_load.py" "$PUBLIC" 80 0.05 \
  "$STOP" "$JAILD_TEST_DIR/http.report" 600 &
defer kill $!
sleep 1
jailctl upgrade "$WWW" >"$JAILD_TEST_DIR/good.out" 2>&1 || {
  cat "$JAILD_TEST_DIR/good.out"; fail "the upgrade of www failed"; }
sleep 2
touch "$STOP"
wait_until 10 test -s "$JAILD_TEST_DIR/http.report" || fail "the load reported nothing"
read -r total failed <"$JAILD_TEST_DIR/http.report"
# Seconds without service: from the first failed request to the last (plus one interval).
unavailable=$(awk 'NR == 1 {first = $1} {last = $1} END {if (NR) printf "%.2f", last - first + 0.05; else print 0}' \
  "$JAILD_TEST_DIR/http.report.failures")
log "$(grep "upgraded" "$JAILD_TEST_DIR/good.out" | head -1)"
# The swap as jaild logged it: from stopping the jail to its health check passing on the new root.
window=$(awk -v j="$WWW" '
  index($0, "stopping jail '"'"'" j "'"'"'") {split($2, t, ":"); stop = t[1] * 3600 + t[2] * 60 + t[3]}
  index($0, "jail '"'"'" j "'"'"' serves on its upgraded root") {split($2, t, ":"); printf "%.2f", t[1] * 3600 + t[2] * 60 + t[3] - stop}' "$JAILD_LOG")
log "under load: $failed failed of $total requests, unavailable ${unavailable}s; jaild's swap: ${window}s from stopping www to its health check passing"
((total > 50)) || fail "too little load to count: $total"
wait_until 30 serving "$WWW" || fail "$WWW does not serve after the upgrade"
page_ok || fail "no page after the upgrade"
[[ $(version_in "$ROOTS/www" libc6) != "$libc_before" || $(status_of "$WWW" updates.pending) == 0 ]] ||
  fail "nothing was upgraded"
[[ $(status_of "$WWW" updates.pending) == 0 ]] || fail "still pending after the upgrade: $(status_of "$WWW" updates)"
[[ $(status_of "$WWW" updates.last_upgrade.result) == upgraded ]] || fail "status: $(status_of "$WWW" updates)"
[[ -d $ROOTS/www.before-upgrade ]] || fail "the root before the upgrade is not kept"
echo "upgrade_www_failed=$failed upgrade_www_total=$total upgrade_www_unavailable_s=$unavailable upgrade_www_swap_s=$window" >&2

log "db: upgraded with its cluster in the volume; the row survives"
jailctl upgrade "$DB" >"$JAILD_TEST_DIR/db.out" 2>&1 || { cat "$JAILD_TEST_DIR/db.out"; fail "the upgrade of db failed"; }
log "$(grep -E "upgraded|up to date" "$JAILD_TEST_DIR/db.out" | head -1)"
wait_until 60 serving "$DB" || fail "$DB does not serve after the upgrade"
wait_until 30 sql_ok || fail "www cannot reach the database after its upgrade"
[[ $(sql "select v from kept") == "before the upgrade" ]] || fail "the row is gone after the upgrade of db"

stop_jaild
log "ok"

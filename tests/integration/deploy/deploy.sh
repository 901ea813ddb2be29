#!/usr/bin/env bash
# The default deployment end to end (issue 7): jaild provisions db (PostgreSQL) and www
# (Apache + psql) from Debian packages, serves Apache's page through the public address,
# lets www (and only www) reach PostgreSQL, restarts both after kill -9, stops PostgreSQL
# with a fast shutdown keeping its data, keeps the services' logs in the roots, and a failed
# provisioning (unknown package) leaves the previous root in place and running. db's cluster
# lives in a volume (issue 18): a forced rebuild of db keeps its rows.
#
# The debootstrap base is cached in /var/tmp/jaild-test-cache/provision (--cache-dir) to keep
# reruns short; an empty cache takes the same path (debootstrap runs first, ~1 minute more).
source "$JAILD_SOURCE_DIR/tests/integration/harness/lib.sh"
source "$JAILD_SOURCE_DIR/tests/integration/deploy/mirror.sh"

WWW=$JAILD_TEST_ID-www
DB=$JAILD_TEST_ID-db
WWW_ADDR=10.213.0.2
DB_ADDR=10.213.0.3
ROOTS=$JAILD_TEST_DIR/roots
DATA=$JAILD_TEST_DIR/data  # like /var/lib/jaild/data: the volumes (db's cluster)
CACHE=/var/tmp/jaild-test-cache/provision

# Until provisioned, the jails are "unprovisioned": not tried, nothing counted, no error.
# deploy_config [EXTRA_WWW_PACKAGE]: writes the configuration of db and www (write_config).
deploy_config() {
  local extra=${1:+, \"$1\"}
  write_config "$(cat <<JSON
    "$DB": {
      "root": "$ROOTS/db", "address": "$DB_ADDR",
      "command": ["/usr/bin/pg_ctlcluster", "15", "main", "start", "--foreground"],
      "stop_signal": "SIGINT", "stop_timeout": "20s",
      "health": {"postgresql": 5432, "interval": "1s", "timeout": "2s", "retries": 30},
      "accept": [{"from": "$WWW", "ports": [5432]}],
      "restart": {"policy": "always", "backoff_initial": "100ms", "backoff_max": "2s", "crash_loop_limit": 1000},
      "provision": {"packages": ["postgresql"], "recipe": "postgresql"},
      "volumes": [{"host": "$DATA/db", "path": "/var/lib/postgresql"}]
    },
    "$WWW": {
      "root": "$ROOTS/www", "address": "$WWW_ADDR",
      "command": ["/usr/sbin/apache2ctl", "-D", "FOREGROUND"],
      "publish": [80, 443], "after": ["$DB"],
      "health": {"tcp": 80, "interval": "1s"},
      "restart": {"policy": "always", "backoff_initial": "100ms", "backoff_max": "2s", "crash_loop_limit": 1000},
      "provision": {"packages": ["apache2", "postgresql-client"$extra], "recipe": "apache",
                    "logs": {"max_size": "100K", "keep": 3}}
    }
JSON
)"
}

serving() { [[ $(status_of "$1" state) == running && $(status_of "$1" health) == healthy ]]; }
page_ok() {
  local code
  code=$(outside curl -sS -o "$JAILD_TEST_DIR/page.html" -w '%{http_code}' -m 3 "http://$JAILD_PUBLIC_ADDR/") || return 1
  [[ $code == 200 ]] && grep -q "Apache2 Debian Default Page" "$JAILD_TEST_DIR/page.html"
}
# PostgreSQL asks www for its scram-sha-256 password, which provisioning wrote to www's
# /etc/jaild/root.pgpass (firejail --private hides /root): joins set PGPASSFILE to it. -w:
# never prompt (a missing password is a failure).
sql_with() {  # ENV_ASSIGNMENT SQL
  jailctl join "$WWW" -- /usr/bin/env "$1" /usr/bin/psql -w -h "$DB_ADDR" -U "$WWW" -d "$WWW" -Atc "$2"
}
# A join sets PGPASSFILE itself: no password typed, no environment given.
sql() { jailctl join "$WWW" -- /usr/bin/psql -w -h "$DB_ADDR" -U "$WWW" -d "$WWW" -Atc "$1"; }
restarted_since() { (( $(status_of "$1" restarts) > $2 )); }
sql_ok() { [[ $(sql 'select 1' 2>/dev/null) == 1 ]]; }

start_mirror_relay
install -d -m 0700 "$ROOTS"  # like /var/lib/jaild/jails: no other user may reach the roots
install -d -m 0700 "$DATA"   # the same for the volumes; jaild makes $DATA/db when it provisions db
mkdir -p "$CACHE"
deploy_config
start_jaild "$JAILD_CONFIG" --cache-dir "$CACHE"

log "before provisioning: both unprovisioned, the fix in status, no error in the log"
for jail in "$DB" "$WWW"; do
  wait_until 5 status_is "$jail" state unprovisioned || fail "$jail is $(status_of "$jail" state), not unprovisioned"
  [[ $(status_of "$jail" fix) == "jailctl provision $jail" ]] || fail "$jail: no fix in status"
done
sleep 1  # what a jail trying to start without a root would log comes within this
if grep -E " (error|critical) |cannot start|crash loop|root directory unusable" "$JAILD_LOG"; then
  fail "jaild logged errors before provisioning (above)"
fi

log "provisioning $DB and $WWW (cache: $(ls "$CACHE" 2>/dev/null | tr '\n' ' '))"
jailctl provision "$DB" "$WWW" >"$JAILD_TEST_DIR/provision.out" 2>&1 || {
  cat "$JAILD_TEST_DIR/provision.out"; fail "provisioning failed"; }
tail -n 4 "$JAILD_TEST_DIR/provision.out"
grep -q "install: " "$JAILD_TEST_DIR/provision.out" || fail "no install progress was shown"

wait_until 60 serving "$DB" || fail "$DB does not serve after provisioning"
wait_until 60 serving "$WWW" || fail "$WWW does not serve after provisioning"
for jail in "$DB" "$WWW"; do
  [[ $(status_of "$jail" restarts) == 0 && -z $(status_of "$jail" last_error) ]] ||
    fail "$jail shows a failure from before it was provisioned: $(jailctl --json status "$jail")"
done
table=$(jailctl status)
if grep -qE "^($DB|$WWW): " <<<"$table"; then fail "status shows old errors: $table"; fi
log "provisioned: both serve, no restart counted, no old error in status"

log "again: nothing to do"
out=$(jailctl provision "$DB" "$WWW")
[[ $(grep -c "up to date" <<<"$out") == 2 ]] || fail "second provision did something: $out"

wait_until 60 serving "$DB" || fail "db not serving: $(jailctl status)"
wait_until 60 serving "$WWW" || fail "www not serving: $(jailctl status)"
wait_until 20 page_ok || fail "Apache's default page is not served through $JAILD_PUBLIC_ADDR"
log "GET http://$JAILD_PUBLIC_ADDR/ -> 200, Apache2 Debian Default Page"

wait_until 30 sql_ok || fail "no SQL round trip from www to db: $(sql 'select 1' 2>&1)"
sql "create table kept (v text); insert into kept values ('before-shutdown')" >/dev/null
log "SQL round trip from $WWW to $DB works (password authentication)"
# Without the password, or with a wrong one, PostgreSQL refuses.
if out=$(sql_with PGPASSFILE=/dev/null 'select 1' 2>&1); then
  fail "psql without a password file was let in: $out"
fi
[[ $out == *password* ]] || fail "psql without a password failed, but not for the password: $out"
if out=$(sql_with PGPASSWORD=wrong-password 'select 1' 2>&1); then
  fail "psql with a wrong password was let in: $out"
fi
[[ $out == *"password authentication failed"* ]] || fail "a wrong password failed otherwise: $out"
log "without the password or with a wrong one: refused ($out)"
hba=$ROOTS/db/etc/postgresql/15/main/pg_hba.conf
! grep -E '^host.*trust' "$hba" || fail "pg_hba.conf still trusts a host line"
grep -qE '^host\s+"postgres"\s+"jaild_probe"\s+10\.213\.0\.1/32\s+scram-sha-256' "$hba" \
  || fail "pg_hba.conf has no line for the health probe: $(cat "$hba")"
[[ $(stat -c '%a %U' "$ROOTS/www/etc/jaild/root.pgpass") == "600 root" ]] \
  || fail "www's root.pgpass: $(stat -c '%a %U' "$ROOTS/www/etc/jaild/root.pgpass")"
[[ $(stat -c '%a %U' "$ROOTS/www/var/www/.pgpass") == "600 www-data" ]] \
  || fail "www's /var/www/.pgpass: $(stat -c '%a %U' "$ROOTS/www/var/www/.pgpass")"
password=$(cut -d: -f5 "$ROOTS/www/etc/jaild/root.pgpass")
[[ ${#password} == 32 ]] || fail "www's password file holds no password"
if grep -rqF "$password" "$ROOTS/db/etc" "$ROOTS/db/tmp" "$ROOTS/db/var/log" "$ROOTS/db/var/lib/postgresql" 2>/dev/null; then
  fail "the database root holds www's password in clear"
fi
log "pg_hba: scram-sha-256 only, probe line first; password files 0600, db keeps no clear password"
# Apache's user finds its own file in its home (HOME=/var/www, as a login sets it); it cannot
# read root's (a join's PGPASSFILE names root's file, so it is unset here). setpriv, not
# runuser: a join has no_new_privs and no netlink socket, which runuser's PAM session wants
# (it fails "cannot establish user credentials").
as_www_data() {
  jailctl join "$WWW" -- /usr/bin/setpriv --reuid=www-data --regid=www-data --init-groups \
    /usr/bin/env -u PGPASSFILE HOME=/var/www "$@"
}
out=$(as_www_data /bin/sh -c "cd && exec /usr/bin/psql -w -h $DB_ADDR -U $WWW -d $WWW -Atc 'select 2'" 2>&1) || true
[[ $out == 2 ]] || fail "www-data cannot connect with /var/www/.pgpass: $out; $(as_www_data /bin/sh -c 'id; env; ls -la /var/www' 2>&1)"
if as_www_data /bin/cat /etc/jaild/root.pgpass >/dev/null 2>&1; then
  fail "www-data can read root's password file"
fi
log "www-data connects with its own password file and cannot read root's"
if outside timeout 3 bash -c "exec 3<>/dev/tcp/$JAILD_PUBLIC_ADDR/5432" 2>/dev/null; then
  fail "5432 is reachable from outside via the public address"
fi
if outside timeout 3 bash -c "exec 3<>/dev/tcp/$DB_ADDR/5432" 2>/dev/null; then
  fail "5432 is reachable from outside at the jail's address"
fi
log "5432 is unreachable from outside"

log "kill -9 of Apache's main process"
pid=$(status_of "$WWW" main_pid)
restarts=$(status_of "$WWW" restarts)
kill -9 "$pid"
wait_until 30 restarted_since "$WWW" "$restarts" || fail "www was not restarted"
wait_until 30 page_ok || fail "the page is not served again after the restart"
log "www restarted and serves the page"

log "kill -9 of the postmaster"
pid=$(status_of "$DB" main_pid)
restarts=$(status_of "$DB" restarts)
kill -9 "$pid"
wait_until 30 restarted_since "$DB" "$restarts" || fail "db was not restarted"
wait_until 60 sql_ok || fail "no SQL round trip after the postmaster was killed"
log "db restarted, recovered, SQL works again"

log "shutdown then start of db"
jailctl shutdown "$DB" >/dev/null
jailctl start "$DB" >/dev/null
wait_until 60 sql_ok || fail "no SQL round trip after shutdown + start"
[[ $(sql "select v from kept") == before-shutdown ]] || fail "the data written before is gone"
grep -rq "received fast shutdown request" "$ROOTS/db/var/log/postgresql/" ||
  fail "PostgreSQL's log shows no fast shutdown: $(ls -l "$ROOTS/db/var/log/postgresql/")"
log "fast shutdown logged, data kept"

log "a forced rebuild of db keeps its database: the cluster is in a volume"
[[ -f $DATA/db/15/main/PG_VERSION ]] || fail "db's cluster is not in its volume $DATA/db: $(ls -la "$DATA/db")"
sql "insert into kept values ('before-rebuild')" >/dev/null
out=$(jailctl provision --force "$DB" 2>&1) || fail "provision --force $DB failed: $out"
[[ ! -e $ROOTS/db.previous ]] || fail "db.previous kept although the database is in a volume: $out"
# rm -rf of the replaced root runs in the background; beside other tests it took over 30 s here.
[[ ! -e $ROOTS/db.old ]] || wait_until 120 test ! -e "$ROOTS/db.old" ||
  fail "db.old left behind: $(ls -la "$ROOTS"; pgrep -a rm)"
wait_until 60 sql_ok || fail "no SQL round trip after the rebuild of db"
[[ $(sql "select string_agg(v, ',' order by v) from kept") == before-rebuild,before-shutdown ]] ||
  fail "rows written before the rebuild are gone: $(sql 'select * from kept' 2>&1)"
grep -qF "volume $DATA/db holds data: kept as it is" "$JAILD_LOG" || fail "jaild did not say it kept the volume"
grep -F " /var/lib/postgresql " "/proc/$(status_of "$DB" main_pid)/mountinfo" | grep -q nosuid ||
  fail "db's volume is not mounted nosuid in its sandbox"
! grep -qF "$DATA/db" /proc/self/mountinfo || fail "db's volume shows in the host's mount table"
log "db rebuilt from scratch; its rows kept in the volume, no db.previous"

[[ -s $ROOTS/www/var/log/apache2/access.log && -s $ROOTS/www/var/log/apache2/error.log ]] ||
  fail "Apache's logs are not on disk: $(ls -l "$ROOTS/www/var/log/apache2/")"
ls "$ROOTS"/db/var/log/postgresql/postgresql-*.log >/dev/null || fail "PostgreSQL's log is not on disk"
log "Apache's and PostgreSQL's logs are on disk in the roots"

log "a flood of requests: Apache's access log rotates (100K per file, 3 compressed kept)"
logs=$ROOTS/www/var/log/apache2
# At 500 requests/s (about 40 KB of log per second, under the 100K bound): rotatelogs names files
# to the second, so a second that wrote more than the bound would go on in the same file
# (jaild.json(5)); CI saw a 162 KB file when the flood went unpaced.
outside curl -s -m 120 --rate 500/s "http://$JAILD_PUBLIC_ADDR/?flood=[1-4000]" >/dev/null ||
  fail "the flood of requests failed"
rotated() { (( $(ls "$logs"/access.log.*.gz 2>/dev/null | wc -l) >= 1 )); }
wait_until 20 rotated || fail "no compressed access log after 4000 requests: $(ls -la "$logs")"
settled() {  # only the file being written is uncompressed; at most 3 compressed kept
  (( $(ls "$logs"/access.log.*.gz | wc -l) <= 3 &&
     $(ls "$logs"/access.log.* | grep -vc '\.gz$') == 1 ))
}
wait_until 20 settled || fail "the rotated logs are not pruned and compressed: $(ls -la "$logs")"
total=$(du -cb "$logs"/access.log.* | tail -n 1 | cut -f 1)
(( $(stat -c %s "$logs/access.log") <= 100 * 1024 + 4096 )) ||
  fail "the access log being written is over its bound: $(ls -la "$logs")"
outside curl -s -o /dev/null -m 5 "http://$JAILD_PUBLIC_ADDR/?after-the-flood" || fail "no page after the flood"
wait_until 10 grep -q "after-the-flood" "$logs/access.log" || fail "Apache does not write to the new access log"
log "access logs after 4000 requests: $(ls "$logs" | tr '\n' ' ')($total bytes in all); Apache writes on"

log "the attacker inside the real Apache root, through a join"
# Planted by the host here; in real life the intruder writes it. It runs as root in www with
# www's hardening (capabilities kept for Apache, no_new_privs, seccomp) and must get nowhere.
install -m 0755 "$JAILD_TEST_BUILD_DIR/tests/integration/containment/jaild_attacker" "$ROOTS/www/usr/local/bin/attacker"
echo "host only" >"$JAILD_TEST_DIR/host-marker"
sleep 120 &
host_sleeper=$!
jailctl join "$WWW" -- /usr/local/bin/attacker all "$JAILD_TEST_DIR/host-marker" 22 10.213.0.1 "$host_sleeper" fe80::1 \
  >"$JAILD_TEST_DIR/attack.txt" 2>&1 || true
sed 's/^/   /' "$JAILD_TEST_DIR/attack.txt"
(( $(grep -c '^ATTACK' "$JAILD_TEST_DIR/attack.txt") >= 30 )) || fail "the attacker did not run its attempts"
! grep -q ': SUCCEEDED' "$JAILD_TEST_DIR/attack.txt" || fail "an attack from inside www succeeded"
kill -0 "$host_sleeper" || fail "the attacker killed a host process"
kill "$host_sleeper"
[[ $(jailctl --json status "$WWW" | jq -r '.jails[0].confinement.no_new_privs') == true ]] ||
  fail "www's main process runs without no_new_privs"
rm -f "$ROOTS/www/usr/local/bin/attacker" "$ROOTS/www/www/id"
log "every attack from inside www was blocked"

log "an interrupted provisioning (client killed) leaves the root alone"
# The binary itself (not lib.sh's jailctl function, whose subshell would outlive a kill).
"$JAILD_TEST_BUILD_DIR/client/jailctl" --socket "$JAILD_SOCKET" provision --force "$WWW" \
  >"$JAILD_TEST_DIR/cancel.out" 2>&1 &
client=$!
wait_until 60 grep -q "install: " "$JAILD_TEST_DIR/cancel.out" || fail "no install progress: $(cat "$JAILD_TEST_DIR/cancel.out")"
kill "$client"
wait "$client" || true
wait_until 30 test ! -e "$ROOTS/www.new" || fail "the half-built root was not removed after the cancel"
grep -q "provisioning of jail '$WWW' cancelled" "$JAILD_LOG" || fail "no cancel in jaild's log"
serving "$WWW" && page_ok || fail "www does not serve after the cancelled build"
log "cancelled: www.new removed, www still serving"

log "provisioning with an unknown package fails and keeps the previous root"
deploy_config jaild-no-such-package
jailctl reload >/dev/null
wait_until 60 serving "$WWW" || fail "www not serving after the reload"
out=$(jailctl provision "$WWW" 2>&1) || fail "a changed configuration without --force should do nothing: $out"
grep -q "jaild-no-such-package" <<<"$out" || fail "the change is not shown: $out"
if out=$(jailctl provision --force "$WWW" 2>&1); then fail "provisioning an unknown package succeeded"; fi
grep -q "Unable to locate package jaild-no-such-package" <<<"$out" || fail "apt's message is not in the error: $out"
[[ ! -e $ROOTS/www.new ]] || fail "the half-built root was left behind"
[[ -x $ROOTS/www/usr/sbin/apache2 ]] || fail "the previous root is gone"
serving "$WWW" || fail "www is not running any more"
page_ok || fail "the page is not served any more"
log "apt's error reported; previous root still there and serving"

stop_jaild
log "PASS"

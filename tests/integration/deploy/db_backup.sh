#!/usr/bin/env bash
# Database backups (issue 18) with real PostgreSQL: `jailctl backup` writes a gzip dump with
# a sha256sum-format checksum; a row dropped after it comes back with `jailctl restore`; the
# age of the last backup is in status. The dump runs inside the jail with its own
# containment, so a planted pg_dumpall is the attacker's: one that fails leaves no file and
# its last output in the error; one that runs the containment attacker gains nothing (its
# output only lands, compressed, in the new backup file); one that writes endlessly is
# stopped at max_size and leaves no file. Links planted in the backup directory (at the
# temporary name, the final name, the checksum's) are never followed; a link given as the
# file to restore or as --to is refused, as is a file whose checksum does not match. A
# schedule takes backups on its own, keeps `keep` of them, and retries (logged) while the
# jail is stopped.
#
# Same setup as deploy.sh (mirror relay, cached debootstrap base), db only.
source "$JAILD_SOURCE_DIR/tests/integration/harness/lib.sh"
source "$JAILD_SOURCE_DIR/tests/integration/deploy/mirror.sh"

DB=$JAILD_TEST_ID-db
OTHER=$JAILD_TEST_ID-other
DB_ADDR=10.213.0.3
ROOTS=$JAILD_TEST_DIR/roots
CACHE=/var/tmp/jaild-test-cache/provision
BACKUPS=$JAILD_TEST_DIR/backups  # created by jaild (0700)

# db_config [SCHEDULE]
db_config() {
  local schedule=${1:+\"schedule\": \"$1\",}
  write_config "$(cat <<JSON
    "$DB": {
      "root": "$ROOTS/db", "address": "$DB_ADDR",
      "command": ["/usr/bin/pg_ctlcluster", "15", "main", "start", "--foreground"],
      "stop_signal": "SIGINT", "stop_timeout": "20s",
      "health": {"postgresql": 5432, "interval": "1s", "timeout": "2s", "retries": 30},
      "restart": {"policy": "always", "backoff_initial": "100ms", "backoff_max": "2s", "crash_loop_limit": 1000},
      "provision": {"packages": ["postgresql"], "recipe": "postgresql"},
      "backup": {$schedule "dir": "$BACKUPS", "keep": 2, "max_size": "8M"}
    },
    "$OTHER": {"root": "$ROOTS/other", "address": "10.213.0.4", "command": ["/bin/sleep", "100000"]}
JSON
)"
}

serving() { [[ $(status_of "$1" state) == running && $(status_of "$1" health) == healthy ]]; }
# SQL as the postgres user inside db (peer authentication over the Unix socket).
psql_db() {
  jailctl join "$DB" -- /usr/bin/setpriv --reuid=postgres --regid=postgres --init-groups -- \
    /usr/bin/psql -X -Atc "$1" "${2:-postgres}"
}
backups() { find "$BACKUPS" -maxdepth 1 -name "$DB-*.sql.gz" -type f | sort; }
count_backups() { backups | wc -l; }
leftovers() { find "$BACKUPS" -maxdepth 1 -name '.*partial*' | wc -l; }

start_mirror_relay
install -d -m 0700 "$ROOTS"
make_busybox_root "$ROOTS/other" >/dev/null
mkdir -p "$CACHE"
db_config
start_jaild "$JAILD_CONFIG" --cache-dir "$CACHE"

log "provisioning $DB"
jailctl provision "$DB" >"$JAILD_TEST_DIR/provision.out" 2>&1 || {
  cat "$JAILD_TEST_DIR/provision.out"; fail "provisioning failed"; }
wait_until 90 serving "$DB" || fail "$DB does not serve after provisioning"
[[ $(status_of "$DB" last_backup_age_ms) == null ]] || fail "a backup age before any backup"

log "a row, then a backup"
wait_until 30 psql_db "select 1" >/dev/null 2>&1 || fail "no SQL in db: $(psql_db 'select 1' 2>&1)"
psql_db "create database app" >/dev/null
psql_db "create table kept (v text); insert into kept values ('precious')" app >/dev/null
[[ $(psql_db "select v from kept" app) == precious ]] || fail "the row was not written"
out=$(jailctl backup "$DB" 2>&1) || fail "backup failed: $out"
echo "$out" | sed 's/^/   /'
grep -q "dump: started" <<<"$out" || fail "no progress was shown: $out"
[[ $(count_backups) == 1 ]] || fail "not one backup file: $(ls -la "$BACKUPS")"
file=$(backups | tail -1)
grep -qF "backup written: $file" <<<"$out" || fail "the file is not named in the answer: $out"
[[ $(basename "$file") =~ ^$DB-[0-9]{8}T[0-9]{6}Z\.sql\.gz$ ]] || fail "bad name: $file"
[[ $(stat -c '%a %U' "$BACKUPS") == "700 root" ]] || fail "backup dir: $(stat -c '%a %U' "$BACKUPS")"
[[ $(stat -c '%a %U' "$file") == "600 root" ]] || fail "backup file: $(stat -c '%a %U' "$file")"
(cd "$BACKUPS" && sha256sum -c --quiet "$(basename "$file").sha256") || fail "sha256sum -c fails"
gzip -t "$file" || fail "not a valid gzip file"
zcat "$file" | grep -q "precious" || fail "the row is not in the dump"
zcat "$file" | grep -q "DROP DATABASE IF EXISTS app" || fail "the dump does not drop before it creates"
age=$(status_of "$DB" last_backup_age_ms)
[[ $age =~ ^[0-9]+$ ]] && (( age < 60000 )) || fail "status shows no recent backup: $age"
log_has "backup of jail '$DB' written: $file" || fail "no journal line for the backup"
log "backup $file ($(stat -c %s "$file") bytes), checksum ok, age $age ms in status"

log "drop the row, then restore: the row is back"
psql_db "delete from kept" app >/dev/null
[[ -z $(psql_db "select v from kept" app) ]] || fail "the row was not deleted"
out=$(jailctl restore "$DB" "$file" 2>&1) || fail "restore failed: $out"
echo "$out" | sed 's/^/   /'
[[ $(psql_db "select v from kept" app) == precious ]] || fail "the row is not back: $(psql_db 'select * from kept' app 2>&1)"
# A relative path is resolved by jailctl.
out=$(cd "$BACKUPS" && jailctl restore "$DB" "$(basename "$file")" 2>&1) || fail "restore by a relative path failed: $out"
[[ $(psql_db "select count(*) from kept" app) == 1 ]] || fail "a second restore did not replace the database"
log "restored: the row is back (and a second restore leaves one row)"

log "restore refuses a damaged file, a link, a non-postgresql jail"
cp "$file" "$JAILD_TEST_DIR/damaged.sql.gz"
cp "$file.sha256" "$JAILD_TEST_DIR/damaged.sql.gz.sha256"
sed -i "s#$(basename "$file")#damaged.sql.gz#" "$JAILD_TEST_DIR/damaged.sql.gz.sha256"
printf 'X' | dd of="$JAILD_TEST_DIR/damaged.sql.gz" bs=1 seek=100 conv=notrunc 2>/dev/null
psql_db "insert into kept values ('after-backup')" app >/dev/null
if out=$(jailctl restore "$DB" "$JAILD_TEST_DIR/damaged.sql.gz" 2>&1); then fail "a damaged file was restored: $out"; fi
grep -q "does not match" <<<"$out" || fail "the damage is not named: $out"
[[ $(psql_db "select count(*) from kept" app) == 2 ]] || fail "a refused restore changed the database"
ln -s "$file" "$JAILD_TEST_DIR/link.sql.gz"
cp "$file.sha256" "$JAILD_TEST_DIR/link.sql.gz.sha256"
if out=$(jailctl restore "$DB" "$JAILD_TEST_DIR/link.sql.gz" 2>&1); then fail "a link was restored: $out"; fi
grep -q "symbolic link" <<<"$out" || fail "the link is not named: $out"
if out=$(jailctl restore "$DB" "$JAILD_TEST_DIR" 2>&1); then fail "a directory was restored: $out"; fi
if out=$(jailctl backup "$OTHER" 2>&1); then fail "a jail without the postgresql recipe was backed up: $out"; fi
grep -q 'need the "postgresql" recipe' <<<"$out" || fail "the recipe is not named: $out"
log "refused: $out"

log "a backup to --to DIR that is a link, or open to others, is refused"
mkdir -m 0700 "$JAILD_TEST_DIR/real-dir"
ln -s "$JAILD_TEST_DIR/real-dir" "$JAILD_TEST_DIR/dir-link"
if out=$(jailctl backup "$DB" --to "$JAILD_TEST_DIR/dir-link" 2>&1); then fail "backup into a linked dir: $out"; fi
[[ -z $(ls "$JAILD_TEST_DIR/real-dir") ]] || fail "something was written through the link"
mkdir -m 0755 "$JAILD_TEST_DIR/open-dir"
if out=$(jailctl backup "$DB" --to "$JAILD_TEST_DIR/open-dir" 2>&1); then fail "backup into an open dir: $out"; fi
grep -q "chmod 700" <<<"$out" || fail "no fix for the open dir: $out"
out=$(jailctl backup "$DB" --to "$JAILD_TEST_DIR/elsewhere" 2>&1) || fail "backup --to failed: $out"
ls "$JAILD_TEST_DIR/elsewhere/$DB"-*.sql.gz >/dev/null || fail "no file in --to's dir"
[[ $(count_backups) == 1 ]] || fail "--to wrote into the jail's dir"

log "links planted at the next seconds' names in the backup dir are not followed"
echo victim >"$JAILD_TEST_DIR/victim"
now=$(date -u +%s)
for i in $(seq 0 6); do
  stamp=$(date -u -d "@$((now + i))" +%Y%m%dT%H%M%SZ)
  name=$DB-$stamp.sql.gz
  ln -s "$JAILD_TEST_DIR/victim" "$BACKUPS/.$name.partial"
  ln -s "$JAILD_TEST_DIR/victim" "$BACKUPS/.$name.sha256.partial"
  ln -s "$JAILD_TEST_DIR/victim" "$BACKUPS/$name"
  ln -s "$JAILD_TEST_DIR/victim" "$BACKUPS/$name.sha256"
done
out=$(jailctl backup "$DB" 2>&1) || fail "backup with planted links failed: $out"
[[ $(cat "$JAILD_TEST_DIR/victim") == victim ]] || fail "jaild wrote through a planted link"
written=$(sed -n 's/.*backup written: \([^ ]*\) .*/\1/p' <<<"$out")
[[ -f $written && ! -L $written && ! -L $written.sha256 ]] || fail "the backup is not a regular file: $(ls -la "$BACKUPS")"
(cd "$BACKUPS" && sha256sum -c --quiet "$(basename "$written").sha256") || fail "checksum of $written"
find "$BACKUPS" -maxdepth 1 -type l -delete
log "the victim file is untouched; $written is a regular file"

# The planted programs replace db's pg_dumpall (a link to postgresql-common's wrapper).
PGD=$ROOTS/db/usr/bin/pg_dumpall
mv "$PGD" "$PGD.real"
defer mv -f "$PGD.real" "$PGD"
before=$(count_backups)

log "attack (a): a pg_dumpall that prints garbage and fails"
printf '#!/bin/sh\necho "GARBAGE-ON-STDOUT"\necho "fake pg_dumpall: no such cluster (planted)" >&2\nexit 1\n' >"$PGD"
chmod 0755 "$PGD"
if out=$(jailctl backup "$DB" 2>&1); then fail "a failed dump made a backup: $out"; fi
echo "$out" | sed 's/^/   /'
grep -q "exited with status 1" <<<"$out" || fail "the exit status is not shown: $out"
grep -q "fake pg_dumpall: no such cluster (planted)" <<<"$out" || fail "its last output is not shown: $out"
[[ $(count_backups) == "$before" && $(leftovers) == 0 ]] || fail "a failed dump left a file: $(ls -la "$BACKUPS")"
log "no file; the error shows the dump's own last line"

log "attack (b): a pg_dumpall that runs the containment attacker"
install -m 0755 "$JAILD_TEST_BUILD_DIR/tests/integration/containment/jaild_attacker" "$ROOTS/db/usr/local/bin/attacker"
defer rm -f "$ROOTS/db/usr/local/bin/attacker"
echo "host only" >"$JAILD_TEST_DIR/host-marker"
sleep 300 &
host_sleeper=$!
printf '#!/bin/sh\n/usr/local/bin/attacker all %s 22 10.213.0.1 %s fe80::1 2>&1\nexit 0\n' \
  "$JAILD_TEST_DIR/host-marker" "$host_sleeper" >"$PGD"
out=$(jailctl backup "$DB" 2>&1) || fail "the attacker's dump was not stored: $out"
written=$(sed -n 's/.*backup written: \([^ ]*\) .*/\1/p' <<<"$out")
zcat "$written" >"$JAILD_TEST_DIR/attack.txt"
sed 's/^/   /' "$JAILD_TEST_DIR/attack.txt"
(( $(grep -c '^ATTACK' "$JAILD_TEST_DIR/attack.txt") >= 30 )) || fail "the attacker did not run its attempts"
! grep -q ': SUCCEEDED' "$JAILD_TEST_DIR/attack.txt" || fail "an attack from the planted pg_dumpall succeeded"
kill -0 "$host_sleeper" || fail "the attacker killed a host process"
kill "$host_sleeper"
[[ $(cat "$JAILD_TEST_DIR/host-marker") == "host only" ]] || fail "the host marker changed"
rm -f "$written" "$written.sha256"
log "every attack from the planted pg_dumpall was blocked; its output only reached the new file"

log "attack (c): a pg_dumpall that writes without end is stopped at max_size (8M)"
printf '#!/bin/sh\nexec /usr/bin/yes ENDLESS-OUTPUT-FROM-THE-JAIL\n' >"$PGD"
before=$(count_backups)
if out=$(timeout 60 "$JAILD_TEST_BUILD_DIR/client/jailctl" --socket "$JAILD_SOCKET" backup "$DB" 2>&1); then
  fail "an endless dump made a backup: $out"
fi
grep -q "size bound of 8388608 bytes" <<<"$out" || fail "the size bound is not named: $out"
[[ $(count_backups) == "$before" && $(leftovers) == 0 ]] || fail "the endless dump left a file: $(ls -la "$BACKUPS")"
# [J]: the pattern does not match pgrep's own command line.
endless_gone() { ! pgrep -f 'ENDLESS-OUTPUT-FROM-THE-[J]AIL' >/dev/null; }
wait_until 10 endless_gone || fail "the endless dump still runs: $(pgrep -af 'ENDLESS-OUTPUT-FROM-THE-[J]AIL')"
log "stopped at the bound, no file, no process left"
mv -f "$PGD.real" "$PGD"

log "a schedule: backups taken by jaild, keep 2, retried while the jail is stopped"
restarts_before=$(status_of "$DB" admin_restarts)
db_config 10s
jailctl reload >/dev/null
[[ $(status_of "$DB" admin_restarts) == "$restarts_before" ]] || fail "a change of \"backup\" restarted db"
written_before=$(log_count "backup of jail '$DB' written")
wait_until 60 bash -c "(( \$(grep -c \"backup of jail '$DB' written\" '$JAILD_LOG') >= $written_before + 2 ))" ||
  fail "no two scheduled backups within 60 s: $(tail -5 "$JAILD_LOG")"
wait_until 10 bash -c "(( \$(find '$BACKUPS' -maxdepth 1 -name '$DB-*.sql.gz' -type f | wc -l) == 2 ))" ||
  fail "retention did not keep 2: $(ls -la "$BACKUPS")"
[[ $(find "$BACKUPS" -maxdepth 1 -name "$DB-*.sql.gz.sha256" | wc -l) == 2 ]] || fail "checksums not pruned with their files"
log_has "removed by retention (keep 2)" || fail "no journal line for retention"
jailctl stop "$DB" >/dev/null
wait_until 30 log_has "scheduled backup of jail '$DB' not taken: .*not running" ||
  fail "no retry logged while db was stopped"
jailctl start "$DB" >/dev/null
log "scheduled backups taken, 2 kept, a stopped jail's backup retried"

db_config
jailctl reload >/dev/null
stop_jaild
log "PASS"

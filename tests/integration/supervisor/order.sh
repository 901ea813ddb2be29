#!/usr/bin/env bash
# Dependency order: www (after db) starts only once db is healthy; independent jails start
# in parallel; at stop, the stop signal reaches each service first. (The orders and their
# timings, stop in reverse included, are unit-tested with a fake clock:
# tests/unit/supervisor/order_test.cpp.)
set -euo pipefail
source "$JAILD_SOURCE_DIR/tests/integration/harness/lib.sh"

DB=${JAILD_TEST_ID}-db WWW=${JAILD_TEST_ID}-www
P1=${JAILD_TEST_ID}-p1 P2=${JAILD_TEST_ID}-p2 P3=${JAILD_TEST_ID}-p3
db_root=$(jail_root "$DB")
www_root=$(jail_root "$WWW")

# Each service writes the signal it got into its root, then exits; db needs 4 s to listen
# (long enough to look at the waiting jails even on a busy machine).
service() {  # ADDRESS PORT DELAY
  printf '{"shell": "trap \\"echo INT > /www/signal; exit 0\\" INT; trap \\"echo TERM > /www/signal; exit 0\\" TERM; sleep %s; httpd -f -p %s:%s -h /www & wait $!"}' "$3" "$1" "$2"
}
parallel_jail() {  # NAME ADDRESS
  printf '"%s": {"root": "%s", "address": "%s", "profile": "none", "command": %s, "health": {"tcp": 80, "interval": "300ms", "start_period": "10s"}}' \
    "$1" "$(jail_root "$1")" "$2" "$(service "$2" 80 4)"
}
write_config \
  "\"$DB\": {\"root\": \"$db_root\", \"address\": \"10.213.0.3\", \"profile\": \"none\", \"stop_signal\": \"SIGINT\",
     \"command\": $(service 10.213.0.3 5432 4), \"health\": {\"tcp\": 5432, \"interval\": \"300ms\", \"start_period\": \"10s\"}}" \
  "\"$WWW\": {\"root\": \"$www_root\", \"address\": \"10.213.0.2\", \"profile\": \"none\", \"after\": [\"$DB\"],
     \"command\": $(service 10.213.0.2 80 0), \"publish\": [80]}" \
  "$(parallel_jail "$P1" 10.213.0.11)" "$(parallel_jail "$P2" 10.213.0.12)" "$(parallel_jail "$P3" 10.213.0.13)"

start_jaild "$JAILD_CONFIG"

# While db is still starting (its health check not yet passed), www waits without a process.
wait_until 5 status_is "$DB" state running
[[ $(status_of "$DB" health) == starting ]] || fail "db should still be starting, is $(status_of "$DB" health)"
[[ $(status_of "$WWW" state) == waiting ]] || fail "www should wait for db, is $(status_of "$WWW" state)"
[[ $(status_of "$WWW" pid) == null ]] || fail "www has a process before db is healthy"

# The three independent jails all run at once, none healthy yet: they did not wait for each other.
for p in "$P1" "$P2" "$P3"; do
  [[ $(status_of "$p" state) == running && $(status_of "$p" health) == starting ]] ||
    fail "$p should be running (not yet healthy) together with the others: $(jailctl status "$p")"
done

wait_until 15 status_is "$DB" health healthy
wait_until 5 status_is "$WWW" state running
wait_until 5 outside_http_get "http://$JAILD_PUBLIC_ADDR/" -o /dev/null
jailctl status

stop_jaild
[[ $(cat "$db_root/www/signal") == INT ]] || fail "db's service did not get its stop signal SIGINT first"
[[ $(cat "$www_root/www/signal") == TERM ]] || fail "www's service did not get SIGTERM first"
grep -q "stopping jail '$DB': SIGINT to its main process" "$JAILD_LOG" || fail "db was not stopped through its main process"
! grep -q "killing it" "$JAILD_LOG" || fail "a jail needed SIGKILL although its service stops on its signal"
log "order test passed"

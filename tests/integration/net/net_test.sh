#!/usr/bin/env bash
# integration.net: jaild's Network (bridge, veths, netns, nftables table, ip_forward, the
# tamper watchers) against the real kernel, driven by jaild_net_driver inside run-in-world.
# Servers are busybox httpd processes started with `ip netns exec` (no firejail here).
source "$JAILD_SOURCE_DIR/tests/integration/harness/lib.sh"

DRIVER="$JAILD_TEST_BUILD_DIR/tests/integration/net/jaild_net_driver"
[[ -x $DRIVER ]] || fail "$DRIVER is missing: cmake --build <build dir> --target jaild_net_driver"
T=$JAILD_TEST_DIR
PUB=$JAILD_PUBLIC_ADDR       # 198.51.100.1, the host's "public" address (pub0)
OUT=$JAILD_OUTSIDE_ADDR      # 198.51.100.2, the Internet
BR=jaild0

# net_config BRIDGE_CIDR SUBNET_PREFIX PUBLIC_OBJECT_JSON DB_PUBLISH_JSON: writes $JAILD_CONFIG.
net_config() {
    write_config --bridge "$BR" "$1" --public "$3" \
        "$(printf '"www": { "root": "/nonexistent/www", "address": "%s.2", "command": ["/bin/true"],
             "publish": [80] }' "$2")" \
        "$(printf '"db":  { "root": "/nonexistent/db", "address": "%s.3", "command": ["/bin/true"],
             "publish": %s, "accept": [ { "from": "www", "ports": [5432] } ] }' "$2" "$4")"
}
# "all": DNAT on every local address (the fib path), also for the host's own connections.
net_config 10.213.0.1/24 10.213.0 '{"addresses": "all", "host_connections": true}' '[]'

# ---- helpers -----------------------------------------------------------------------------
# On failure, whatever is left is removed through the driver's `down` (runs last).
cleanup_network() {
    if nft list table inet jaild >/dev/null 2>&1 || ip link show $BR >/dev/null 2>&1 ||
        compgen -G '/run/netns/jaild-*' >/dev/null; then
        timeout 20 "$DRIVER" down "$JAILD_CONFIG" 2>>"$T/driver.log" || true
    fi
}
defer cleanup_network
expect_body() {  # WHERE URL TEXT
    local body
    body=$(http_get_in "$1" "$2" 2>&1) || fail "$1: GET $2 failed: $body"
    [[ $body == "$3" ]] || fail "$1: GET $2 returned '$body', expected '$3'"
    log "ok: $1 -> $2 = $3"
}
expect_blocked() {  # WHERE URL
    local body
    if body=$(http_get_in "$1" "$2" 2>&1); then fail "$1: GET $2 should be blocked but returned '$body'"; fi
    log "ok: $1 -> $2 blocked ($body)"
}
DRIVER_PID=
start_driver() {
    : >"$T/driver.out"
    timeout 100 "$DRIVER" up "$JAILD_CONFIG" >"$T/driver.out" 2>>"$T/driver.log" &
    DRIVER_PID=$!
    wait_until 10 grep -q '^ready$' "$T/driver.out" || { cat "$T/driver.log" >&2; fail "driver not ready"; }
}
stop_driver() {
    [[ -n $DRIVER_PID ]] || return 0
    kill -TERM "$DRIVER_PID" 2>/dev/null || true
    local rc=0
    wait "$DRIVER_PID" || rc=$?
    DRIVER_PID=
    [[ $rc == 0 ]] || { cat "$T/driver.log" >&2; fail "driver exited with status $rc"; }
}
defer stop_driver
table_present() { nft list table inet jaild >/dev/null 2>&1; }
link_present() { ip link show "$1" >/dev/null 2>&1; }
all_checks() {
    expect_body outside "http://$PUB:80/" "www"
    expect_blocked outside "http://$PUB:81/"
    expect_blocked outside "http://10.213.0.2:80/"
    expect_body host "http://$PUB:80/" "www"
    expect_body jaild-www "http://$OUT:8080/cgi-bin/peer" "$PUB"
    expect_body jaild-www "http://10.213.0.3:5432/" "db5432"
    expect_blocked jaild-www "http://10.213.0.3:5433/"
    expect_blocked jaild-db "http://10.213.0.2:80/"
    expect_blocked jaild-www "http://10.213.0.1:8000/"
    expect_blocked jaild-db "http://10.213.0.1:8000/"
    expect_blocked host "http://10.213.0.3:5432/"
}

# ---- setup ---------------------------------------------------------------------------------
FORWARD_BEFORE=$(cat /proc/sys/net/ipv4/ip_forward)
log "ip_forward before: $FORWARD_BEFORE"

log "--- refused: an existing bridge with another address, a non-bridge link of that name"
expect_driver_refuses() {  # TEXT...: `up` exits 1 and its error contains every TEXT
    local rc=0 out
    out=$(timeout 20 "$DRIVER" up "$JAILD_CONFIG" 2>&1) || rc=$?
    [[ $rc == 1 ]] || fail "driver should have refused (status $rc): $out"
    local text
    for text in "$@"; do [[ $out == *"$text"* ]] || fail "driver error lacks '$text': $out"; done
    log "ok: refused: ${out##*] }"
}
ip link add $BR type bridge
ip address add 10.99.0.1/24 dev $BR
expect_driver_refuses "10.99.0.1/24" "10.213.0.1/24" "bridge.address"
ip link del $BR
ip link add $BR type veth peer name brpeer0  # no dummy module on these kernels
expect_driver_refuses "not a bridge" "bridge.name"
ip link del $BR
table_present && fail "a refused start left the table behind"
[[ $(cat /proc/sys/net/ipv4/ip_forward) == "$FORWARD_BEFORE" ]] || fail "a refused start changed ip_forward"

log "--- leftovers of a jail no longer configured are removed at start"
ip netns add jaild-old
ip link add jv-old type veth peer name eth0 netns jaild-old
start_driver
[[ -e /run/netns/jaild-old ]] && fail "stale /run/netns/jaild-old not removed"
link_present jv-old && fail "stale veth jv-old not removed"
log "driver up: $(ip -br link show | tr '\n' ';')"
[[ $(cat /proc/sys/net/ipv4/ip_forward) == 1 ]] || fail "ip_forward not enabled"
[[ -e /run/netns/jaild-www && -e /run/netns/jaild-db ]] || fail "jail netns missing: $(ls /run/netns)"
in_ns jaild-www ip -4 addr show eth0 | grep 'inet 10.213.0.2/24' >/dev/null || fail "www has no 10.213.0.2/24"
in_ns jaild-www ip route show default | grep 'via 10.213.0.1' >/dev/null || fail "www has no default route"
[[ $(ip -j link show jv-www | grep -o '"master":"[^"]*"') == '"master":"jaild0"' ]] || fail "jv-www not in bridge"

serve_http jaild-www 80 www
serve_http jaild-www 81 www81
serve_http jaild-db 5432 db5432
serve_http jaild-db 5433 db5433
serve_http host 10.213.0.1:8000 host8000
serve_http outside "$OUT:8080" outside
# The servers behind the "blocked" checks are alive (reached without crossing jaild's rules).
wait_until 5 http_get_in jaild-www http://127.0.0.1:81/ >/dev/null
wait_until 5 http_get_in jaild-db http://127.0.0.1:5433/ >/dev/null
wait_until 5 http_get_in jaild-db http://127.0.0.1:5432/ >/dev/null
wait_until 5 http_get_in jaild-www http://127.0.0.1:80/ >/dev/null
wait_until 5 http_get_in host http://10.213.0.1:8000/ >/dev/null
wait_until 5 http_get_in outside "http://$OUT:8080/" >/dev/null

log "--- traffic rules"
all_checks

log "--- nft flush ruleset: the watcher restores the table"
nft flush ruleset
table_present && fail "flush did not remove the table"
wait_until 2 table_present || fail "table not restored within 2 s"
expect_body outside "http://$PUB:80/" "www"
expect_blocked jaild-db "http://10.213.0.2:80/"

log "--- a rule added to jaild's table is undone"
nft insert rule inet jaild forward accept
wait_until 2 bash -c '! nft list chain inet jaild forward | grep -x "[[:space:]]*accept" >/dev/null' \
    || fail "tampered table not restored within 2 s"
expect_blocked jaild-db "http://10.213.0.2:80/"

log "--- deleting a jail's veth: the watcher restores it"
ip link del jv-www
wait_until 2 link_present jv-www || fail "jv-www not restored within 2 s"
wait_until 3 http_get_in outside "http://$PUB:80/" >/dev/null || fail "www unreachable after veth restore"
expect_body jaild-www "http://10.213.0.3:5432/" "db5432"

log "--- deleting the bridge: the watcher recreates it and reattaches the jails"
ip link del $BR
wait_until 2 link_present $BR || fail "bridge not restored within 2 s"
wait_until 3 http_get_in outside "http://$PUB:80/" >/dev/null || fail "www unreachable after bridge restore"
expect_body jaild-www "http://10.213.0.3:5432/" "db5432"
grep -q "restored" "$T/driver.log" || fail "no restore warning logged"

log "--- crash (SIGKILL): the network stays up; a new driver adopts it"
VETH_INDEX=$(ip -j link show jv-www | grep -o '"ifindex":[0-9]*')
REAL_DRIVER=$(ps -o pid= --ppid "$DRIVER_PID")  # DRIVER_PID is its `timeout` wrapper
[[ -n $REAL_DRIVER ]] || fail "cannot find the driver process under $DRIVER_PID"
kill -KILL $REAL_DRIVER
wait "$DRIVER_PID" 2>/dev/null || true
DRIVER_PID=
table_present || fail "table gone after a crash"
link_present $BR || fail "bridge gone after a crash"
expect_body outside "http://$PUB:80/" "www"
start_driver
grep -q "replacing the existing nftables table" "$T/driver.log" || fail "restart did not report the stale table"
[[ $(ip -j link show jv-www | grep -o '"ifindex":[0-9]*') == "$VETH_INDEX" ]] \
    || fail "ensure_jail after a restart recreated jv-www instead of keeping it"
all_checks

log "--- reload (SIGHUP -> update): explicit public address, db publishes 5432"
reload_driver() {  # EXPECTED_LINE
    local n
    n=$(grep -c '^reload' "$T/driver.out" || true)
    kill -HUP $(ps -o pid= --ppid "$DRIVER_PID")
    wait_until 5 bash -c "(( \$(grep -c '^reload' '$T/driver.out') > $n ))" || fail "driver did not reload"
    [[ $(grep '^reload' "$T/driver.out" | tail -1) == "$1" ]] || fail "reload: expected '$1', got: $(tail -3 "$T/driver.log")"
}
net_config 10.213.0.1/24 10.213.0 "{\"addresses\": [\"$PUB\"], \"host_connections\": true}" '[5432]'
reload_driver reloaded
nft list chain inet jaild prerouting | grep "ip daddr $PUB tcp dport 5432 counter name \"jaild_new_[a-z0-9-]*_5432\" .*dnat ip to 10.213.0.3:5432" >/dev/null \
    || fail "reloaded ruleset lacks db's DNAT: $(nft list chain inet jaild prerouting)"
expect_body outside "http://$PUB:5432/" "db5432"
expect_body host "http://$PUB:5432/" "db5432"
expect_body outside "http://$PUB:80/" "www"
expect_blocked outside "http://10.213.0.3:5433/"
log "--- reload with a new bridge address is refused (needs a restart); the old network stays"
cp "$JAILD_CONFIG" "$JAILD_CONFIG.good"
net_config 10.213.1.1/24 10.213.1 "{\"addresses\": [\"$PUB\"], \"host_connections\": true}" '[5432]'
reload_driver "reload failed"
grep -q "restart" "$T/driver.log" || fail "the refused reload does not say to restart jaild"
cp "$JAILD_CONFIG.good" "$JAILD_CONFIG"
expect_body outside "http://$PUB:5432/" "db5432"

log "--- shutdown"
stop_http_servers
stop_driver
table_present && fail "table inet jaild still present after shutdown"
link_present $BR && fail "bridge still present after shutdown"
ip -br link show | grep '^jv' >/dev/null && fail "veths left: $(ip -br link show)"
compgen -G '/run/netns/jaild-*' >/dev/null && fail "netns left: $(ls /run/netns)"
FORWARD_AFTER=$(cat /proc/sys/net/ipv4/ip_forward)
log "ip_forward after: $FORWARD_AFTER"
[[ $FORWARD_AFTER == "$FORWARD_BEFORE" ]] || fail "ip_forward is $FORWARD_AFTER after shutdown, was $FORWARD_BEFORE"
grep -E "warn|error" "$T/driver.log" >&2 || true
log "PASS"

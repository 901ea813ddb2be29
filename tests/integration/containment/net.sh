#!/usr/bin/env bash
# integration.containment_net: root inside a jail gains nothing on the network outside it.
#
# The attacker is jail $EVIL, configured with "profile": "none" (firejail keeps every
# capability), and every attack runs as root with every capability in the jail's network
# namespace (`ip netns exec jaild-$EVIL ...`): more than any jail configuration grants, so the
# defences are tested independently of the sandbox options. Each attack is logged as
# "ATTACK <name>: blocked" or "ATTACK <name>: SUCCEEDED"; the test fails if any succeeded.
# Positive controls (what must keep working) fail the test too, so "blocked" cannot come from
# a broken setup.
#
# World (besides the harness's outside 198.51.100.2 via pub0 198.51.100.1):
#   lan   192.168.77.2/24 via lan0 192.168.77.1   a private network behind the host
#   meta  169.254.169.254/24 via meta0 169.254.169.1   a cloud metadata service
#   net.bridge.bridge-nf-call-iptables=0 and ip_forward=0 before jaild starts.
#
# JAILD_NET_SABOTAGE=1 disables jaild's defences once everything is up (jaild SIGSTOPped, its
# bridge table deleted, its forward chain flushed, the bridge's nf_call_iptables reset) to show
# that every attack check can fail: then every ATTACK line must say SUCCEEDED.
source "$JAILD_SOURCE_DIR/tests/integration/harness/lib.sh"

ATTACK_TOOL="$JAILD_TEST_BUILD_DIR/tests/integration/containment/jaild_net_attack"
[[ -x $ATTACK_TOOL ]] || fail "$ATTACK_TOOL is missing: cmake --build <build dir> --target jaild_net_attack"
PUB=$JAILD_PUBLIC_ADDR OUT=$JAILD_OUTSIDE_ADDR BR=jd0
WWW=${JAILD_TEST_ID}-www DB=${JAILD_TEST_ID}-db EVIL=${JAILD_TEST_ID}-evil LANOK=${JAILD_TEST_ID}-lan
NS_WWW=jaild-$WWW NS_DB=jaild-$DB NS_EVIL=jaild-$EVIL NS_LANOK=jaild-$LANOK
mac_of() { printf '02:6a:0a:d5:00:%02x' "$1"; }  # jaild's MAC for 10.213.0.N
WWW_MAC=$(mac_of 2) EVIL_MAC=$(mac_of 4) BR_MAC=$(mac_of 1)
SABOTAGE=${JAILD_NET_SABOTAGE:-0}

# ---- the world around the host -------------------------------------------------------------
# side_net NAME WORLD_IF WORLD_CIDR NS_CIDR GATEWAY: a namespace NAME behind the world host.
side_net() {
  ip netns add "$1"
  ip link add "$2" type veth peer name eth0 netns "$1"
  ip address add "$3" dev "$2"
  ip link set "$2" up
  ip -n "$1" address add "$4" dev eth0
  ip -n "$1" link set lo up
  ip -n "$1" link set eth0 up
  ip -n "$1" route add default via "$5"
}
remove_world() {
  stop_http_servers
  ip link del lan0 2>/dev/null || true
  ip link del meta0 2>/dev/null || true
  ip netns del lan 2>/dev/null || true
  ip netns del meta 2>/dev/null || true
  outside ip route del 192.168.77.0/24 2>/dev/null || true
}
defer remove_world
side_net lan lan0 192.168.77.1/24 192.168.77.2/24 192.168.77.1
side_net meta meta0 169.254.169.1/24 169.254.169.254/24 169.254.169.1
serve_http lan 192.168.77.2:80 "lan says hi"
serve_http meta 169.254.169.254:80 "metadata says hi"
serve_http outside "$OUT:8080" "internet says hi"
# The host's own web pages: an admin page for the LAN, and one on the public address that
# the host's own processes use (www publishes port 80 on $PUB only, for outside clients).
serve_http host 192.168.77.1:80 "host admin page"
serve_http host "$PUB:80" "host's own page"
# The outside "Internet" knows a route to the LAN through the host (a neighbour on the
# public segment trying to use the host as a router).
outside ip route add 192.168.77.0/24 via "$PUB"

echo 0 >/proc/sys/net/bridge/bridge-nf-call-iptables
[[ $(cat /proc/sys/net/ipv4/ip_forward) == 0 ]] || fail "the world should start with ip_forward=0"
log "world: bridge-nf-call-iptables=0, ip_forward=0, lan 192.168.77.2, metadata 169.254.169.254"

# ---- jails ---------------------------------------------------------------------------------
busybox_jail() {  # NAME INDEX COMMAND_JSON [EXTRA_JSON]
  local root
  root=$(jail_root "$1" "$1 says hi")
  printf '"%s": {"root": "%s", "address": "10.213.0.%s", "profile": "none", "command": %s,
    "restart": {"policy": "always"}%s}' "$1" "$root" "$2" "$3" "${4:+, $4}"
}
httpd_cmd() { printf '["/bin/httpd", "-f", "-p", "10.213.0.%s:%s", "-h", "/www"]' "$1" "$2"; }
write_config \
  "$(busybox_jail "$WWW" 2 "$(httpd_cmd 2 80)" '"publish": [80]')" \
  "$(busybox_jail "$DB" 3 "$(httpd_cmd 3 5432)" "\"accept\": [{\"from\": \"$WWW\", \"ports\": [5432]}]")" \
  "$(busybox_jail "$EVIL" 4 '["/bin/sleep", "100000"]')" \
  "$(busybox_jail "$LANOK" 5 '["/bin/sleep", "100000"]' '"egress": {"allow": ["192.168.77.0/24"]}')"
log "--- without br_netfilter (its sysctl directory hidden) jaild refuses to start, with the fix"
mount -t tmpfs -o size=4k,mode=0555 no-br-netfilter /proc/sys/net/bridge
rc=0
out=$(timeout 20 "$JAILD_TEST_BUILD_DIR/daemon/jaild" --config "$JAILD_CONFIG" --socket "$JAILD_TEST_DIR/refused.sock" \
  --state-dir "$JAILD_TEST_DIR/refused-state" 2>&1) || rc=$?
umount /proc/sys/net/bridge
[[ $rc != 0 ]] || fail "jaild started without br_netfilter"
# 78 (EX_CONFIG): the host's setup, which a restart by systemd cannot mend.
[[ $rc == 78 ]] || fail "jaild refused without br_netfilter with status $rc, not 78"
[[ $out == *"br_netfilter is not loaded"* && $out == *"modprobe br_netfilter"* && $out == *"/etc/modules-load.d/"* ]] ||
  fail "jaild's refusal lacks the fix: $out"
ip link show $BR >/dev/null 2>&1 && fail "the refused start created bridge $BR"
nft list table inet jaild >/dev/null 2>&1 && fail "the refused start left table inet jaild"
log "refused (status $rc): $(grep -o 'the kernel module br_netfilter.*' <<<"$out" | head -n 1)"

start_jaild "$JAILD_CONFIG"
for jail in "$WWW" "$DB" "$EVIL" "$LANOK"; do
  wait_until 10 status_is "$jail" state running || fail "jail $jail is not running"
done

get() { http_get_in "$@" 2>&1; }  # NETNS|host URL [SOURCE]: the body or curl's error
page_is() { [[ $(get "$1" "$2") == "$3" ]]; }  # NETNS URL TEXT
must_get() {  # NETNS URL TEXT: a positive control
  local body
  wait_until 5 page_is "$1" "$2" "$3" || { body=$(get "$1" "$2") || true; fail "control: $1 -> $2 returned '$body', expected '$3'"; }
  log "control ok: $1 -> $2 = $3"
}
must_get outside "http://$PUB/" "$WWW says hi"
must_get "$NS_WWW" "http://10.213.0.3:5432/" "$DB says hi"
must_get "$NS_EVIL" "http://$OUT:8080/" "internet says hi"
must_get "$NS_LANOK" "http://192.168.77.2/" "lan says hi"
must_get outside "http://$OUT:8080/" "internet says hi"
# A LAN client of the published port gets its answers (replies into blocked ranges pass).
must_get lan "http://$PUB/" "$WWW says hi"
[[ $(ip -d link show $BR) == *"nf_call_iptables 1"* ]] || fail "bridge $BR does not have nf_call_iptables 1"
log "bridge $BR: nf_call_iptables 1 (the global sysctl is $(cat /proc/sys/net/bridge/bridge-nf-call-iptables))"
[[ $(in_ns "$NS_EVIL" ip link show eth0) == *"link/ether $EVIL_MAC "* ]] || fail "$EVIL's eth0 does not have MAC $EVIL_MAC"

if [[ $SABOTAGE == 1 ]]; then
  log "SABOTAGE: stopping jaild's watchers and removing its defences"
  kill -STOP "$JAILD_PID"
  defer kill -CONT "$JAILD_PID"
  nft delete table bridge jaild
  nft flush chain inet jaild forward
  nft flush chain inet jaild postrouting
  nft add rule inet jaild postrouting ip saddr 10.213.0.0/24 oifname != "\"$BR\"" masquerade
  ip link set $BR type bridge nf_call_iptables 0
  # The old default publishing: port 80 of every local address, for the host's connections too.
  for chain in prerouting output_nat; do
    nft add rule inet jaild $chain fib daddr type local ip daddr != 127.0.0.0/8 ip daddr != 10.213.0.1 \
      tcp dport 80 dnat ip to 10.213.0.2:80
  done
  for ns in "$NS_EVIL" "$NS_DB"; do in_ns "$ns" sh -c 'echo 0 >/proc/sys/net/ipv6/conf/all/disable_ipv6'; done
fi

# ---- attacks ---------------------------------------------------------------------------------
SUCCEEDED=()
verdict() {  # NAME SUCCEEDED(0|1) DETAIL
  if [[ $2 == 1 ]]; then
    log "ATTACK $1: SUCCEEDED ($3)"
    SUCCEEDED+=("$1")
  else
    log "ATTACK $1: blocked ($3)"
  fi
}
reached() {  # NAME NETNS URL TEXT [SOURCE]: the attack succeeds if the page comes back
  local body
  if body=$(get "$2" "$3" "${5:-}") && [[ $body == "$4" ]]; then
    verdict "$1" 1 "$2 got '$body' from $3"
  else
    verdict "$1" 0 "$2 -> $3: ${body//$'\n'/ }"
  fi
}
evil() { in_ns "$NS_EVIL" "$@"; }
# After a (possibly successful) spoofing attack: forget what it may have poisoned, so that the
# next attack's outcome does not depend on the previous one's.
flush_neighbours() {
  local ns
  for ns in "$NS_WWW" "$NS_DB" "$NS_LANOK"; do in_ns "$ns" ip neigh flush dev eth0; done
  ip neigh flush dev $BR
}

# 1. An unlisted jail reaches db's accepted port (br_netfilter's global sysctl is 0).
reached unlisted-jail-to-db "$NS_EVIL" "http://10.213.0.3:5432/" "$DB says hi"

# 2. Take www's address (www's eth0 down, as if www were gone, so the address is free on the
# bridge), keep own MAC. (No jailctl here: a sabotage run has jaild stopped.)
in_ns "$NS_WWW" ip link set eth0 down
evil ip address add 10.213.0.2/24 dev eth0
# ... and announce it to db (db may still have www's MAC cached for that address).
evil "$ATTACK_TOOL" arp eth0 "$EVIL_MAC" "$EVIL_MAC" 10.213.0.2 10.213.0.3
reached ip-takeover "$NS_EVIL" "http://10.213.0.3:5432/" "$DB says hi" 10.213.0.2
# 3. Then www's MAC as well, and drop its own address: a complete impersonation.
evil ip link set eth0 down
evil ip link set eth0 address "$WWW_MAC"
evil ip link set eth0 up
evil ip address flush dev eth0   # (deleting the primary address would take the secondary too)
evil ip address add 10.213.0.2/24 dev eth0
evil ip route replace default via 10.213.0.1 dev eth0
reached ip-and-mac-takeover "$NS_EVIL" "http://10.213.0.3:5432/" "$DB says hi" 10.213.0.2
# Back to its own identity (as jaild gave it).
evil ip link set eth0 down
evil ip link set eth0 address "$EVIL_MAC"
evil ip link set eth0 up
evil ip address flush dev eth0
evil ip address add 10.213.0.4/24 dev eth0
evil ip route replace default via 10.213.0.1 dev eth0
in_ns "$NS_WWW" ip link set eth0 up
in_ns "$NS_WWW" ip route replace default via 10.213.0.1 dev eth0
flush_neighbours
must_get "$NS_EVIL" "http://$OUT:8080/" "internet says hi"
must_get outside "http://$PUB/" "$WWW says hi"

# 4. ARP spoofing: tell db that the gateway (10.213.0.1) is at evil's MAC, and the host that
# db (10.213.0.3) is.
evil "$ATTACK_TOOL" arp eth0 "$EVIL_MAC" "$EVIL_MAC" 10.213.0.1 10.213.0.3
evil "$ATTACK_TOOL" arp eth0 "$EVIL_MAC" "$EVIL_MAC" 10.213.0.3 10.213.0.1
sleep 0.3
entry=$(in_ns "$NS_DB" ip neigh show 10.213.0.1 dev eth0)
verdict arp-spoof-gateway-for-db "$([[ $entry == *"$EVIL_MAC"* ]] && echo 1 || echo 0)" "db's entry: ${entry:-none}"
entry=$(ip neigh show 10.213.0.3 dev $BR)
verdict arp-spoof-db-for-host "$([[ $entry == *"$EVIL_MAC"* ]] && echo 1 || echo 0)" "host's entry: ${entry:-none}"
# ... and with a forged Ethernet source too (www's MAC, claiming the gateway's address).
evil "$ATTACK_TOOL" arp eth0 "$WWW_MAC" "$WWW_MAC" 10.213.0.1 10.213.0.3
sleep 0.3
entry=$(in_ns "$NS_DB" ip neigh show 10.213.0.1 dev eth0)
verdict arp-spoof-forged-ether "$([[ $entry == *"$WWW_MAC"* ]] && echo 1 || echo 0)" "db's entry: ${entry:-none}"
flush_neighbours

# 5. Forged source addresses towards the outside (a LAN host's, and another jail's). The
# LAN address is routable from the host, so reverse-path filtering is no defence here.
: >"$JAILD_TEST_DIR/udp.out"
outside timeout 10 "$ATTACK_TOOL" listen-udp 9999 4 >"$JAILD_TEST_DIR/udp.out" &
listener=$!
wait_until 5 grep -q listening "$JAILD_TEST_DIR/udp.out" || fail "the UDP listener in outside did not start"
evil "$ATTACK_TOOL" udp 192.168.77.66 "$OUT" 9999 spoofed-foreign
evil "$ATTACK_TOOL" udp 10.213.0.3 "$OUT" 9999 spoofed-jail
evil "$ATTACK_TOOL" udp 10.213.0.4 "$OUT" 9999 own-address   # control: must arrive
wait "$listener" || true
received=$(tr '\n' ';' <"$JAILD_TEST_DIR/udp.out")
grep -q ' own-address$' "$JAILD_TEST_DIR/udp.out" || fail "control: evil's own UDP datagram did not reach outside: $received"
verdict spoofed-foreign-source-out "$(grep -q ' spoofed-foreign$' "$JAILD_TEST_DIR/udp.out" && echo 1 || echo 0)" "outside received: $received"
verdict spoofed-jail-source-out "$(grep -q ' spoofed-jail$' "$JAILD_TEST_DIR/udp.out" && echo 1 || echo 0)" "outside received: $received"

# 6. The host's other networks: the LAN and the metadata service.
reached jail-to-lan "$NS_EVIL" "http://192.168.77.2/" "lan says hi"
reached jail-to-metadata "$NS_EVIL" "http://169.254.169.254/" "metadata says hi"
reached allowed-jail-to-metadata "$NS_LANOK" "http://169.254.169.254/" "metadata says hi"

# 7. The outside uses the host as a router into the LAN.
reached outside-routes-through-host outside "http://192.168.77.2/" "lan says hi"

# 8. Publishing takes over the host's own addresses: a LAN client of the host's admin page,
# and the host's own processes on the public address, must reach the host, not www.
reached publish-takes-lan-address lan "http://192.168.77.1/" "$WWW says hi"
reached publish-takes-host-connections host "http://$PUB/" "$WWW says hi"

# 9. IPv6: off in the jails, and a jail switching it back on still cannot talk IPv6.
v6=$(evil cat /proc/sys/net/ipv6/conf/all/disable_ipv6)
verdict ipv6-on-in-jail "$([[ $v6 == 0 ]] && echo 1 || echo 0)" "disable_ipv6=$v6 in $NS_EVIL"
# db with IPv6 switched back on (as its own root could), evil talks IPv6 to it directly.
for ns in "$NS_EVIL" "$NS_DB"; do
  in_ns "$ns" sh -c 'echo 0 >/proc/sys/net/ipv6/conf/all/disable_ipv6; echo 0 >/proc/sys/net/ipv6/conf/eth0/disable_ipv6'
done
in_ns "$NS_DB" ip -6 address add fd00:6a::3/64 dev eth0 nodad
evil ip -6 address add fd00:6a::4/64 dev eth0 nodad
evil curl -sS -m 2 "http://[fd00:6a::3]:9/" >/dev/null 2>&1 || true
entry=$(in_ns "$NS_DB" ip -6 neigh show fd00:6a::4 dev eth0)
verdict ipv6-jail-to-jail "$([[ -n $entry ]] && echo 1 || echo 0)" "db's IPv6 neighbour entry for evil: ${entry:-none}"

# ---- verdict ---------------------------------------------------------------------------------
if [[ $SABOTAGE == 1 ]]; then
  kill -CONT "$JAILD_PID"
  fail "sabotage run (defences removed): ${#SUCCEEDED[@]} attacks succeeded: ${SUCCEEDED[*]:-none}"
fi
((${#SUCCEEDED[@]} == 0)) || fail "${#SUCCEEDED[@]} attacks SUCCEEDED: ${SUCCEEDED[*]}"
log "every attack was blocked"

# The host's root undoing the defences by hand: jaild's watchers put them back.
bridge_table_present() { nft list table bridge jaild >/dev/null 2>&1; }
bridge_nf_on() { [[ $(ip -d link show $BR) == *"nf_call_iptables 1"* ]]; }
nft delete table bridge jaild
wait_until 3 bridge_table_present || fail "table bridge jaild was not restored"
ip link set $BR type bridge nf_call_iptables 0
wait_until 3 bridge_nf_on || fail "nf_call_iptables of $BR was not set back to 1"
reached unlisted-jail-to-db-after-tamper "$NS_EVIL" "http://10.213.0.3:5432/" "$DB says hi"
((${#SUCCEEDED[@]} == 0)) || fail "${#SUCCEEDED[@]} attacks SUCCEEDED: ${SUCCEEDED[*]}"
log "watchers restored table bridge jaild and nf_call_iptables of $BR"

# A restarted jail gets back the MAC and the IPv6 setting jaild gives it.
evil ip link set eth0 down
evil ip link set eth0 address 02:6a:0a:d5:00:66
evil ip link set eth0 up
jailctl restart "$EVIL" >/dev/null
wait_until 10 status_is "$EVIL" state running || fail "$EVIL did not restart"
[[ $(evil ip link show eth0) == *"link/ether $EVIL_MAC "* ]] || fail "jaild did not reset $EVIL's MAC: $(evil ip link show eth0)"
[[ $(evil cat /proc/sys/net/ipv6/conf/all/disable_ipv6) == 1 ]] || fail "jaild did not disable IPv6 again in $NS_EVIL"
must_get "$NS_EVIL" "http://$OUT:8080/" "internet says hi"
log "restart: $EVIL has MAC $EVIL_MAC and IPv6 disabled again"
stop_jaild

# ---- a host that was a router before jaild keeps routing -------------------------------------
echo 1 >/proc/sys/net/ipv4/ip_forward
start_jaild "$JAILD_CONFIG"
wait_until 10 status_is "$EVIL" state running || fail "jail $EVIL is not running"
must_get outside "http://192.168.77.2/" "lan says hi"
[[ $(grep -c 'ip_forward was already 1 before jaild started' "$JAILD_LOG") == 1 ]] ||
  fail "jaild did not say once that the host was already a router"
reached jail-to-lan-on-router "$NS_EVIL" "http://192.168.77.2/" "lan says hi"
((${#SUCCEEDED[@]} == 0)) || fail "${#SUCCEEDED[@]} attacks SUCCEEDED: ${SUCCEEDED[*]}"
stop_jaild
[[ $(cat /proc/sys/net/ipv4/ip_forward) == 1 ]] || fail "jaild changed ip_forward of a router"
log "a router stays a router; jails still cannot reach its LAN"

#!/usr/bin/env bash
# integration.harness_selftest: proves the harness end to end without the daemon.
# Part 1: a busybox httpd in a firejail sandbox on a bridge, reached from the outside namespace
#         through a DNAT rule on the public address; everything torn down by the script.
# Part 2: a nested run whose script leaves things behind must fail, name each leftover, and
#         leave nothing running afterwards.
source "$JAILD_SOURCE_DIR/tests/integration/harness/lib.sh"

id=$JAILD_TEST_ID
root=$JAILD_TEST_DIR/web-root
ns=$id-web
name=$id-web
table=${id}_dnat
page="selftest page of $id"

log "part 1: sandbox behind a bridge, DNAT from $JAILD_PUBLIC_ADDR:80"
make_busybox_root "$root" "$page"
[[ $(stat -c '%u %a' "$root") == "0 755" ]] || fail "busybox root is not root-owned 0755: $(stat -c '%u %a' "$root")"
[[ -x $root/bin/busybox && -L $root/bin/httpd && -d $root/var/tmp ]] || fail "busybox root is incomplete"

ip link add br0 type bridge
defer ip link del br0
ip addr add 10.213.0.1/24 dev br0
ip link set br0 up
ip netns add "$ns"
defer ip netns del "$ns"
ip link add vweb0 type veth peer name eth0 netns "$ns"
ip link set vweb0 master br0 up
ip -n "$ns" link set lo up
ip -n "$ns" addr add 10.213.0.2/24 dev eth0
ip -n "$ns" link set eth0 up
ip -n "$ns" route add default via 10.213.0.1
echo 1 >/proc/sys/net/ipv4/ip_forward

nft -f - <<NFT
table ip $table {
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    ip daddr $JAILD_PUBLIC_ADDR tcp dport 80 dnat to 10.213.0.2:80
  }
}
NFT
defer nft delete table ip "$table"

# No "--" before the command: firejail 0.9.72 would run it through /bin/bash -c.
firejail --name="$name" --chroot="$root" --noprofile --quiet --netns="$ns" --hostname=web \
  /bin/httpd -f -p 10.213.0.2:80 -h /www &
fj=$!
defer _stop_sandbox
_stop_sandbox() {
  kill -TERM "$fj" 2>/dev/null || return 0
  local status=0
  wait "$fj" || status=$?
  log "firejail exited with status $status"
}

wait_until 10 outside_http_get -o /dev/null "http://$JAILD_PUBLIC_ADDR/" \
  || fail "http://$JAILD_PUBLIC_ADDR/ not reachable from the outside namespace within 10 s"
body=$(outside_http_get "http://$JAILD_PUBLIC_ADDR/")
[[ $body == "$page" ]] || fail "expected '$page' from http://$JAILD_PUBLIC_ADDR/, got '$body'"
log "outside got the page through DNAT: '$body'"
[[ $(firejail_sandbox_pid "$name") == "$fj" ]] || fail "sandbox $name is not registered under pid $fj"

# Tear down now (not only at exit) so part 2 runs in a clean world; defer'd commands then no-op.
_stop_sandbox
nft delete table ip "$table"
ip netns del "$ns"
ip link del br0
_jaild_deferred=()
firejail_sandbox_pid "$name" >/dev/null && fail "sandbox $name still alive after SIGTERM"

log "part 2: the leftover detector"
out=$JAILD_TEST_DIR/nested.out
status=0
"$JAILD_HARNESS_DIR/run-in-world" "$JAILD_SOURCE_DIR/tests/integration/selftest/leave_things.sh" \
  >"$out" 2>&1 || status=$?
sed 's/^/  nested| /' "$out" >&2
((status != 0)) || fail "run-in-world returned 0 for a script that left things behind"
for expected in "leftover firejail sandbox" "leftover network namespace /run/netns/" \
                "leftover nftables table inet jaild" "leftover link left0" "leftover process"; do
  grep -q "$expected" "$out" || fail "run-in-world did not report '$expected'"
done
left_pid=$(sed -n 's/.*leftover firejail sandbox .* (pid \([0-9]*\)).*/\1/p' "$out" | head -n 1)
[[ -n $left_pid ]] || fail "could not find the leftover sandbox's pid in the output"
marker_pid=$(sed -n 's/^sleeper pid //p' "$out" | head -n 1)
[[ -n $marker_pid ]] || fail "leave_things.sh did not report its sleeper's pid"
for pid in "$left_pid" "$marker_pid"; do
  wait_until 5 process_gone "$pid" || fail "process $pid left by the nested run is still alive"
done
log "leftovers were reported and killed (sandbox pid $left_pid, sleeper pid $marker_pid)"

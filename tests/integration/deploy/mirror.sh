# Sourced by the deploy tests after harness/lib.sh. The world has no route to the Debian
# mirror, so it gets one the way a host behind an apt proxy does: an HTTP proxy on the
# world's loopback (127.0.0.1:3142), configured for apt in the world's own copy of
# /etc/apt/apt.conf.d (bind-mounted; the host's files are untouched). jaild reads that
# setting like any host's proxy: debootstrap gets http_proxy, the jail's apt gets the file.
# The proxy relays through a Unix socket to a relay in the machine's own network namespace
# that only opens TCP connections to the mirror host the machine's apt uses; no link,
# address, route or rule is created outside the world.
# The mirror host of the machine's own apt configuration: its first http source of .../debian.
host_apt_mirror() {
  local sources
  # (grep fails on a missing sources.list; this runs under set -e -o pipefail)
  sources=$(grep -rhoE '^(URIs:|deb)[[:space:]]+http://[^/[:space:]]+/debian/?([[:space:]]|$)' \
    /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null || true)
  sed -nE '1s#.*http://([^/[:space:]]+)/.*#\1#p' <<<"$sources"
}
MIRROR_HOST=${JAILD_TEST_MIRROR_HOST:-$(host_apt_mirror)}
[[ -n $MIRROR_HOST ]] || fail "no http .../debian source in /etc/apt/sources.list(.d); set JAILD_TEST_MIRROR_HOST"
MIRROR_SOCK=$JAILD_TEST_DIR/mirror.sock

start_mirror_relay() {
  # run-in-world's wrapper process lives in the machine's network namespace.
  local wrapper
  wrapper=$(sed -n 's/^wrapper_pid=//p' "/run/jaild-tests/$JAILD_TEST_ID")
  [[ -n $wrapper ]] || fail "no wrapper pid in /run/jaild-tests/$JAILD_TEST_ID"
  nsenter --net="/proc/$wrapper/ns/net" socat UNIX-LISTEN:"$MIRROR_SOCK",fork,mode=600 \
    TCP:"$MIRROR_HOST":80 &
  local host_relay=$!
  defer kill "$host_relay"
  wait_until 10 test -S "$MIRROR_SOCK" || fail "the host-side relay did not start"
  socat TCP-LISTEN:3142,bind=127.0.0.1,reuseaddr,fork UNIX-CONNECT:"$MIRROR_SOCK" &
  local world_relay=$!
  defer kill "$world_relay"
  local conf=$JAILD_TEST_DIR/apt.conf.d
  cp -a /etc/apt/apt.conf.d "$conf"
  echo 'Acquire::http::Proxy "http://127.0.0.1:3142";' >"$conf/00jaild-test-proxy"
  mount --bind "$conf" /etc/apt/apt.conf.d
  defer umount -l /etc/apt/apt.conf.d
  wait_until 10 curl -sS -o /dev/null -m 5 -x http://127.0.0.1:3142 \
    "http://$MIRROR_HOST/debian/dists/" || fail "the mirror is not reachable through the relay"
}

# Helpers shared by the integration test scripts (and bench/, tests/soak/): sourced by lib.sh,
# so every script that sources lib.sh has them. Each lives here once; a script that needs a
# variant passes a parameter rather than keeping a copy of its own.
# shellcheck shell=bash

# The configuration file write_config writes and tests start jaild with.
JAILD_CONFIG=$JAILD_TEST_DIR/jaild.json
_jaild_http_servers=()

# ---- configuration --------------------------------------------------------------------------

# write_config [--to FILE] [--bridge NAME CIDR] [--public JSON] JAIL_MEMBER...
#   Writes a jaild.json (to $JAILD_CONFIG unless --to; atomically, as jaild may reread it at any
#   time) with bridge jd0 10.213.0.1/24 and public addresses [$JAILD_PUBLIC_ADDR] unless given
#   (--public takes the whole "public" object). Each JAIL_MEMBER is one '"name": {...}' member
#   of "jails".
write_config() {
  local file=$JAILD_CONFIG bridge_name=jd0 bridge_cidr=10.213.0.1/24 jails
  local public="{\"addresses\": [\"$JAILD_PUBLIC_ADDR\"]}"
  while (($#)); do
    case $1 in
      --to) file=$2; shift 2 ;;
      --bridge) bridge_name=$2 bridge_cidr=$3; shift 3 ;;
      --public) public=$2; shift 2 ;;
      *) break ;;
    esac
  done
  jails=$(IFS=,; printf '%s' "$*")
  printf '{ "bridge": {"name": "%s", "address": "%s"}, "public": %s, "jails": { %s } }\n' \
    "$bridge_name" "$bridge_cidr" "$public" "$jails" >"$file.tmp"
  mv "$file.tmp" "$file"
}

# root_for NAME: $JAILD_TEST_DIR/roots/NAME, a copy of the root at $BASE_ROOT (which the caller
# made, e.g. with make_busybox_root, once); prints its path. The benchmarks' many jails.
root_for() {
  local dir=$JAILD_TEST_DIR/roots/$1
  [[ -d $dir ]] || cp -a "$BASE_ROOT" "$dir"
  printf '%s' "$dir"
}

# jail_root NAME [INDEX_TEXT]: a fresh busybox root $JAILD_TEST_DIR/roots/NAME (see
# make_busybox_root; INDEX_TEXT defaults to NAME); prints its path.
jail_root() {
  local dir=$JAILD_TEST_DIR/roots/$1
  make_busybox_root "$dir" "${2:-$1}"
  printf '%s' "$dir"
}

# ---- a jail's status ------------------------------------------------------------------------

# status_of JAIL FIELD: one field of the jail's status (jq syntax without the dot; "null" when
# absent).
status_of() {
  jailctl --json status "$1" | jq -r ".jails[0].$2"
}

# status_is JAIL FIELD VALUE: for wait_until (arguments are evaluated at each try).
status_is() {
  [[ $(status_of "$1" "$2") == "$3" ]]
}

# has_main_pid JAIL: the jail's service (main process) is known; for wait_until.
has_main_pid() {
  [[ $(status_of "$1" main_pid) =~ ^[0-9]+$ ]]
}

# crash JAIL [SECONDS]: kill -9 the jail's service (its main process), once the jail runs and
# its main process is known (waits up to SECONDS, default 10, for that; fails the test if not).
crash() {
  local jail=$1 timeout=${2:-10} main
  wait_until "$timeout" status_is "$jail" state running || fail "crash: jail $jail is not running"
  wait_until "$timeout" has_main_pid "$jail" || fail "crash: jail $jail has no main process"
  main=$(status_of "$jail" main_pid)
  log "kill -9 of jail $jail's main process $main"
  kill -KILL "$main"
}

# ---- jaild's log and figures ----------------------------------------------------------------

# log_has PATTERN: a line of $JAILD_LOG matches PATTERN (grep's basic regular expression).
log_has() { grep -q -- "$1" "$JAILD_LOG"; }

# log_count PATTERN: how many lines of $JAILD_LOG match PATTERN (basic regular expression).
log_count() { grep -c -- "$1" "$JAILD_LOG" || true; }

# jaild_rss_kib, jaild_hwm_kib: the running jaild's resident memory (VmRSS), and its peak
# (VmHWM), in KiB.
jaild_rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$JAILD_PID/status"; }
jaild_hwm_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$JAILD_PID/status"; }

# jaild_fd_count: descriptors the running jaild holds open.
jaild_fd_count() { ls "/proc/$JAILD_PID/fd" | wc -l; }

# jaild_cpu_ns: CPU time the running jaild has used, in ns.
jaild_cpu_ns() { cut -d' ' -f1 "/proc/$JAILD_PID/schedstat"; }

# ---- other namespaces and servers -----------------------------------------------------------

# in_ns NETNS|host CMD [ARGS...]: runs CMD in the named network namespace (`host`: the world's
# own). CMD must be a program, not a shell function.
in_ns() {
  local ns=$1
  shift
  if [[ $ns == host ]]; then "$@"; else ip netns exec "$ns" "$@"; fi
}

# http_get_in NETNS|host URL [SOURCE_ADDR]: the body of URL fetched from NETNS (from
# SOURCE_ADDR if given); fails on connection errors and after 2 s.
http_get_in() {
  in_ns "$1" curl -sS -m 2 ${3:+--interface "$3"} "$2"
}

# serve_http NETNS|host ADDR:PORT TEXT: a busybox httpd in NETNS answering GET / with TEXT and
# GET /cgi-bin/peer with the client's address; runs until stop_http_servers (at exit at the
# latest) and for 300 s at most.
serve_http() {
  local dir
  dir=$(mktemp -d "$JAILD_TEST_DIR/www.XXXXXX")
  printf '%s\n' "$3" >"$dir/index.html"
  mkdir "$dir/cgi-bin"
  printf '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n%%s\\n" "$REMOTE_ADDR"\n' >"$dir/cgi-bin/peer"
  chmod 755 "$dir/cgi-bin/peer"
  ((${#_jaild_http_servers[@]} > 0)) || defer stop_http_servers
  # Not through in_ns: $! must be the server's own process (timeout), not a subshell's.
  if [[ $1 == host ]]; then
    timeout 300 busybox httpd -f -p "$2" -h "$dir" &
  else
    ip netns exec "$1" timeout 300 busybox httpd -f -p "$2" -h "$dir" &
  fi
  _jaild_http_servers+=($!)
}

# stop_http_servers: stops every server serve_http started (and waits for them).
stop_http_servers() {
  local p
  for p in "${_jaild_http_servers[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${_jaild_http_servers[@]}"; do wait "$p" 2>/dev/null || true; done
  _jaild_http_servers=()
}

# ---- users and groups -----------------------------------------------------------------------

# world_etc_entry FILE LINE: gives the world a private copy of FILE (/etc/group, /etc/passwd),
# bind-mounted over it in the world's mount namespace (the host's file is never touched), in
# which LINE is the entry of its name (the text before its first colon), replacing the host's
# entry of that name if there is one. E.g. world_etc_entry /etc/group jaild:x:4242:
world_etc_entry() {
  local file=$1 line=$2 copy
  copy=$(mktemp "$JAILD_TEST_DIR/etc-${file##*/}.XXXXXX")
  grep -v "^${line%%:*}:" "$file" >"$copy" || true
  printf '%s\n' "$line" >>"$copy"
  chmod 0644 "$copy"
  mount --bind "$copy" "$file"
}

# as_jaild_member UID CMD [ARGS...]: runs CMD as UID (no passwd entry needed) with group
# nogroup, a member of group jaild (see world_etc_entry) and of no other group.
as_jaild_member() {
  local uid=$1 gid jaild_gid
  shift
  gid=$(getent group nogroup | cut -d: -f3)
  jaild_gid=$(getent group jaild | cut -d: -f3)
  [[ -n $gid && -n $jaild_gid ]] || fail "as_jaild_member: no group nogroup or jaild (world_etc_entry /etc/group jaild:x:GID: first)"
  setpriv --reuid="$uid" --regid="$gid" --groups="$jaild_gid" "$@"
}

# Shared by the fault-injection tests (and containment/roots.sh): sourced after harness/lib.sh,
# whose helpers (write_config, jail_root, status_of, status_is, ...) these build on.

# web_jail NAME INDEX PORT [EXTRA_JSON] [RESTART_JSON]: a busybox httpd jail at 10.213.0.INDEX
# publishing PORT; RESTART_JSON is its "restart" object (default: always, 100 ms backoff).
web_jail() {
  local name=$1 index=$2 port=$3 extra=${4:-} root
  local restart=${5:-'{"policy": "always", "backoff_initial": "100ms", "backoff_max": "1s"}'}
  root=$(jail_root "$name" "$name says hi")
  printf '"%s": {"root": "%s", "address": "10.213.0.%s", "profile": "none", "publish": [%s],
    "command": ["/bin/httpd", "-f", "-p", "10.213.0.%s:%s", "-h", "/www"],
    "restart": %s%s}' \
    "$name" "$root" "$index" "$port" "$index" "$port" "$restart" "${extra:+, $extra}"
}

# A restart policy that reaches "failed" quickly: 3 failures within 60 s.
CRASH_LOOP_RESTART='{"policy": "always", "backoff_initial": "100ms", "backoff_max": "200ms",
  "crash_loop_limit": 3, "crash_loop_window": "60s", "crash_loop_cooldown": "60s"}'

# serves NAME PORT: the jail's page comes back through the public address.
serves() {
  [[ $(outside_http_get "http://$JAILD_PUBLIC_ADDR:$2/" 2>/dev/null) == "$1 says hi" ]]
}

# sandbox_count NAME: live firejail sandboxes named exactly NAME.
sandbox_count() {
  local file n=0
  for file in /run/firejail/name/*; do
    [[ -f $file && $(cat "$file" 2>/dev/null) == "$1" ]] || continue
    process_gone "${file##*/}" || n=$((n + 1))
  done
  echo "$n"
}

# kill9_jaild: SIGKILL to jaild, reaped; the harness no longer tracks it.
kill9_jaild() {
  log "kill -9 jaild (pid $JAILD_PID)"
  kill -KILL "$JAILD_PID"
  wait "$JAILD_PID" 2>/dev/null || true
  JAILD_PID=
}

# restart_jaild CONFIG: starts a new jaild after a crash (its socket file is stale, so wait
# until it answers).
restart_jaild() {
  start_jaild "$1"
  wait_until 10 answers_within_2s || fail "the new jaild does not answer"
}

# answers_within_2s: jailctl status answers (a client would hang on a socket that someone
# holds but nobody serves, as when a jail inherited the dead jaild's listening socket).
answers_within_2s() {
  timeout 2 "$JAILD_TEST_BUILD_DIR/client/jailctl" --socket "$JAILD_SOCKET" status >/dev/null 2>&1
}

# netns_list: the world's named network namespaces, sorted, one line.
netns_list() { ls /run/netns | sort | tr '\n' ' '; }

# nft_table_count: how many `inet jaild` tables exist (must be 1 while jaild runs).
nft_table_count() { nft list tables | grep -c '^table inet jaild$' || true; }

# nft_rule_count: rules in jaild's table.
nft_rule_count() { nft -a list table inet jaild | grep -c '# handle' || true; }

# links_list: the world's links (names), sorted, one line.
links_list() { ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | sort | tr '\n' ' '; }

# expect_exactly_one JAIL...: one live sandbox per name.
expect_exactly_one() {
  local j n
  for j in "$@"; do
    n=$(sandbox_count "$j")
    if ((n != 1)); then
      grep -H . /run/firejail/name/* >&2 || true
      fail "expected exactly one sandbox named $j, found $n"
    fi
  done
}

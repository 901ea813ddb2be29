# Shared by the supervisor integration tests: sourced after harness/lib.sh.
# Jail names are prefixed with the test id (sandbox names are global on the machine).

BRIDGE_JSON='"bridge": {"name": "jd0", "address": "10.213.0.1/24"}'
PUBLIC_JSON="\"public\": {\"addresses\": [\"$JAILD_PUBLIC_ADDR\"]}"
CONFIG=$JAILD_TEST_DIR/jaild.json

# jail_root NAME [INDEX_TEXT]: a fresh busybox root for jail NAME; prints its path.
jail_root() {
  local dir=$JAILD_TEST_DIR/roots/$1
  make_busybox_root "$dir" "${2:-$1}"
  printf '%s' "$dir"
}

# write_config JAIL_JSON...: each argument is one '"name": {...}' member of "jails".
write_config() {
  local jails
  jails=$(IFS=,; printf '%s' "$*")
  printf '{ %s, %s, "jails": { %s } }\n' "$BRIDGE_JSON" "$PUBLIC_JSON" "$jails" >"$CONFIG.tmp"
  mv "$CONFIG.tmp" "$CONFIG"
}

# status_of JAIL FIELD: one field of the jail's status (jq syntax without the dot).
status_of() {
  jailctl --json status "$1" | jq -r ".jails[0].$2"
}

# log_line_number PATTERN: line number of the first jaild.log line matching PATTERN (grep -E).
log_line_number() {
  grep -n -E "$1" "$JAILD_LOG" | head -n 1 | cut -d: -f1
}

# log_ms PATTERN [NTH]: time (ms since midnight) of the NTH (default 1) log line matching PATTERN.
log_ms() {
  local line
  line=$(grep -E "$1" "$JAILD_LOG" | sed -n "${2:-1}p")
  [[ -n $line ]] || fail "no log line matches: $1"
  local t=${line:11:12}  # HH:MM:SS.mmm
  echo $(( (10#${t:0:2} * 3600 + 10#${t:3:2} * 60 + 10#${t:6:2}) * 1000 + 10#${t:9:3} ))
}

# status_is JAIL FIELD VALUE: for wait_until (arguments are evaluated at each try).
status_is() {
  [[ $(status_of "$1" "$2") == "$3" ]]
}

# Helpers for integration test scripts run by run-in-world. Source it first:
#   source "$JAILD_SOURCE_DIR/tests/integration/harness/lib.sh"
# It turns on `set -euo pipefail`, so any failing command fails the test. At exit it runs the
# commands registered with `defer` (last first), stops a jaild left running, and on failure
# prints the last 50 lines of jaild.log.
# shellcheck shell=bash

set -euo pipefail

: "${JAILD_TEST_ID:?lib.sh must be sourced by a script run through run-in-world}"
: "${JAILD_TEST_DIR:?lib.sh must be sourced by a script run through run-in-world}"
: "${JAILD_TEST_BUILD_DIR:?run-in-world sets JAILD_TEST_BUILD_DIR}"
: "${JAILD_SOURCE_DIR:?run-in-world sets JAILD_SOURCE_DIR}"

JAILD_HARNESS_DIR=$JAILD_SOURCE_DIR/tests/integration/harness
JAILD_LOG=$JAILD_TEST_DIR/jaild.log
JAILD_SOCKET=$JAILD_TEST_DIR/jaild.sock
JAILD_STATE_DIR=$JAILD_TEST_DIR/state
# jaild's live-restore state (state.json); never the host's /run/jaild.
JAILD_RUN_DIR=$JAILD_TEST_DIR/run
JAILD_PID=
JAILD_TEST_CACHE=/var/tmp/jaild-test-cache
_jaild_deferred=()
# Configurations, jail status, jaild's log and figures, servers in namespaces, the jaild group.
source "$JAILD_HARNESS_DIR/helpers.sh"

log() { printf '[%s %s] %s\n' "$(date +%T.%3N)" "${JAILD_TEST_ID}" "$*" >&2; }

# Fails the test. (Inside $(...) it only ends that subshell: check its status.)
fail() {
  printf '[%s %s] FAIL: %s\n' "$(date +%T.%3N)" "${JAILD_TEST_ID}" "$*" >&2
  exit 1
}

# defer CMD [ARGS...]: run CMD when the script exits, even on failure (last registered first).
defer() {
  local quoted
  printf -v quoted '%q ' "$@"
  _jaild_deferred+=("$quoted")
}

_jaild_on_exit() {
  local status=$? i
  set +e
  for ((i = ${#_jaild_deferred[@]} - 1; i >= 0; i--)); do
    eval "${_jaild_deferred[i]}"
  done
  if [[ -n $JAILD_PID ]] && kill -0 "$JAILD_PID" 2>/dev/null; then
    log "jaild (pid $JAILD_PID) still running at exit; sending SIGTERM"
    kill -TERM "$JAILD_PID" 2>/dev/null
    _jaild_wait_gone "$JAILD_PID" 30 || kill -KILL "$JAILD_PID" 2>/dev/null
  fi
  if ((status != 0)) && [[ -s $JAILD_LOG ]]; then
    printf '%s\n' "----- last 50 lines of $JAILD_LOG -----" >&2
    tail -n 50 "$JAILD_LOG" >&2
    printf '%s\n' "----- end of jaild.log -----" >&2
  fi
  exit "$status"
}
trap _jaild_on_exit EXIT

_jaild_wait_gone() {  # PID SECONDS
  local pid=$1 deadline=$((SECONDS + $2))
  while kill -0 "$pid" 2>/dev/null; do
    [[ $(cat "/proc/$pid/stat" 2>/dev/null) == *") Z "* ]] && return 0
    ((SECONDS < deadline)) || return 1
    sleep 0.05
  done
}

# wait_until SECONDS CMD [ARGS...]: polls CMD every 0.1 s until it succeeds. Returns 1 (which
# fails the test under set -e unless the caller handles it) if it did not within SECONDS.
wait_until() {
  local timeout=$1
  shift
  local start=$EPOCHREALTIME
  local deadline
  deadline=$(awk -v s="$start" -v t="$timeout" 'BEGIN { printf "%.3f", s + t }')
  while :; do
    if "$@"; then return 0; fi
    if awk -v now="$EPOCHREALTIME" -v d="$deadline" 'BEGIN { exit !(now >= d) }'; then
      log "wait_until: '$*' still failing after ${timeout}s"
      return 1
    fi
    sleep 0.1
  done
}

# outside CMD [ARGS...]: run CMD in the "outside" namespace (198.51.100.2, the Internet side).
outside() { ip netns exec outside "$@"; }

# http_get URL: prints the body; fails on connection errors and timeouts (2 s).
http_get() { curl -sS -m 2 "$@"; }

# outside_http_get URL: http_get from the outside namespace.
outside_http_get() { outside curl -sS -m 2 "$@"; }

# Builds the cached busybox root template once per busybox binary; prints its path.
_busybox_template() {
  local busybox key template tmp tool
  busybox=$(command -v busybox) || fail "busybox not found; run packaging/install-deps (busybox-static)"
  busybox=$(readlink -f "$busybox")
  key=v2-$(stat -c '%s-%Y' "$busybox")  # bump v2 when the layout below changes
  template=$JAILD_TEST_CACHE/busybox-root-$key
  if [[ ! -d $template ]]; then
    mkdir -p "$JAILD_TEST_CACHE"
    chmod 0755 "$JAILD_TEST_CACHE"
    tmp=$(mktemp -d "$JAILD_TEST_CACHE/.build.XXXXXX")
    (
      cd "$tmp"
      mkdir -p bin dev etc home proc root tmp var/tmp var/log www run
      cp "$busybox" bin/busybox
      for tool in sh httpd nc sleep cat echo hostname ls ps kill id true false wget \
                  env test mkdir rm grep seq printf ip ifconfig; do
        ln -s busybox "bin/$tool"
      done
      printf 'root:x:0:0:root:/root:/bin/sh\n' >etc/passwd
      printf 'root:x:0:\n' >etc/group
      chmod 1777 tmp var/tmp
      chown -R 0:0 .
      chmod 0755 . bin dev etc home proc root var www run
    )
    # Another test may have built it meanwhile: then keep theirs.
    mv -T "$tmp" "$template" 2>/dev/null || rm -rf "$tmp"
  fi
  printf '%s' "$template"
}

# make_busybox_root DIR [INDEX_TEXT]: a root for firejail --chroot --noprofile: root-owned,
# 0755 (its parent, if created here, 0700), with bin dev etc proc tmp var var/tmp www, /bin/busybox (static) and its applets as
# symlinks, /etc/passwd and /etc/group, /www/index.html = INDEX_TEXT.
make_busybox_root() {
  local dir=$1 text=${2:-"hello from $1"} template
  template=$(_busybox_template)
  # Like /var/lib/jaild/jails: a new folder of roots is closed to other users (jaild refuses
  # to start a jail whose root they can reach).
  [[ -d ${dir%/*} ]] || install -d -m 0700 "${dir%/*}"
  mkdir -p "$dir"
  cp -a "$template/." "$dir/"
  chown 0:0 "$dir"
  chmod 0755 "$dir"
  printf '%s\n' "$text" >"$dir/www/index.html"
}

# start_jaild CONFIG_FILE [EXTRA ARGS...]: starts the built daemon in the background with its
# socket and state in the test dir, output to $JAILD_LOG; waits up to 10 s for the socket.
start_jaild() {
  local config=$1
  shift
  local binary=$JAILD_TEST_BUILD_DIR/daemon/jaild
  [[ -x $binary ]] || fail "$binary not built; build it: cmake --build $JAILD_TEST_BUILD_DIR --target jaild"
  [[ -z $JAILD_PID ]] || fail "start_jaild: jaild already started (pid $JAILD_PID); stop_jaild first"
  mkdir -p "$JAILD_STATE_DIR"
  log "starting jaild --config $config"
  "$binary" --config "$config" --socket "$JAILD_SOCKET" --state-dir "$JAILD_STATE_DIR" \
    --run-dir "$JAILD_RUN_DIR" "$@" \
    >>"$JAILD_LOG" 2>&1 &
  JAILD_PID=$!
  local deadline=$((SECONDS + 10))
  while [[ ! -S $JAILD_SOCKET ]]; do
    if ! kill -0 "$JAILD_PID" 2>/dev/null; then
      local status=0
      wait "$JAILD_PID" || status=$?
      JAILD_PID=
      fail "jaild exited with status $status before creating its socket $JAILD_SOCKET (log above)"
    fi
    ((SECONDS < deadline)) || fail "jaild did not create its socket $JAILD_SOCKET within 10 s"
    sleep 0.05
  done
  log "jaild running (pid $JAILD_PID)"
}

# stop_jaild: SIGTERM, wait up to 30 s; fails unless it exits with status 0.
stop_jaild() {
  [[ -n $JAILD_PID ]] || fail "stop_jaild: jaild is not running"
  local pid=$JAILD_PID status=0
  log "stopping jaild (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  if ! _jaild_wait_gone "$pid" 30; then
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    JAILD_PID=
    fail "jaild did not exit within 30 s of SIGTERM (killed it)"
  fi
  wait "$pid" || status=$?
  JAILD_PID=
  ((status == 0)) || fail "jaild exited with status $status after SIGTERM (expected 0)"
  log "jaild stopped"
}

# jailctl ARGS...: the built client talking to this test's daemon.
jailctl() {
  "$JAILD_TEST_BUILD_DIR/client/jailctl" --socket "$JAILD_SOCKET" "$@"
}

# firejail_sandbox_pid NAME: prints the pid of the live sandbox named exactly NAME, if any.
firejail_sandbox_pid() {
  local file
  for file in /run/firejail/name/*; do
    [[ -f $file && $(cat "$file" 2>/dev/null) == "$1" ]] || continue
    ! process_gone "${file##*/}" && { printf '%s\n' "${file##*/}"; return 0; }
  done
  return 1
}

# process_gone PID: true if PID no longer runs (absent, or a zombie not yet reaped).
process_gone() {
  [[ ! -d /proc/$1 ]] || [[ $(cat "/proc/$1/stat" 2>/dev/null) == *") Z "* ]]
}

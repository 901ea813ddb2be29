#!/usr/bin/env bash
# A real Prometheus (Debian's package) scrapes jaild's metrics endpoint inside the test world:
#   - promtool accepts the exposition (`jailctl metrics` and GET /metrics) and the shipped
#     alerting rules and scrape configuration (packaging/prometheus/);
#   - after the jail's service is killed and jaild restarts it, a PromQL query through
#     Prometheus' HTTP API shows the restart counter up by one and the jail up again;
#   - the published port's counters grow with requests made from the outside namespace;
#   - the endpoint serves GET /metrics only, and only on loopback: a jail (its root is the
#     attacker's) cannot reach it on the bridge, and jaild refuses to listen on the bridge or a
#     public address unless allow_remote says so.
set -euo pipefail
source "$JAILD_SOURCE_DIR/tests/integration/harness/lib.sh"

if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
  log "installing prometheus (Debian package; its service is not started here)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus >/dev/null ||
    fail "prometheus is missing and apt-get install prometheus failed; run packaging/install-deps"
fi

JAIL=$JAILD_TEST_ID-w
ADDR=10.213.0.2
METRICS=127.0.0.1:9688   # the world's own loopback: no clash with the host or other tests
PROM=127.0.0.1:9090
PROM_DIR=$JAILD_TEST_DIR/prometheus
mkdir -p "$PROM_DIR/data"

root=$(jail_root "$JAIL" "served by $JAIL")
jail="\"$JAIL\": {\"root\": \"$root\", \"address\": \"$ADDR\", \"profile\": \"none\",
  \"publish\": [80], \"restart\": {\"policy\": \"always\", \"backoff_initial\": \"100ms\"},
  \"command\": [\"/bin/httpd\", \"-f\", \"-p\", \"$ADDR:80\", \"-h\", \"/www\"]}"
write_config "$jail"

# ---- the address check: never on the bridge or a public address unless allowed --------------
for bad in "10.213.0.1:9688" "$JAILD_PUBLIC_ADDR:9688" "0.0.0.0:9688"; do
  jq --arg l "$bad" '.metrics = {listen: $l}' "$JAILD_CONFIG" >"$JAILD_TEST_DIR/bad.json"
  status=0
  out=$("$JAILD_TEST_BUILD_DIR/daemon/jaild" --check-config --config "$JAILD_TEST_DIR/bad.json" 2>&1) || status=$?
  ((status == 78)) && [[ $out == *metrics.listen* && $out == *allow_remote* ]] ||
    fail "listen on $bad was not refused with the fix (status $status): $out"
done

jq --arg l "$METRICS" '.metrics = {listen: $l}' "$JAILD_CONFIG" >"$JAILD_CONFIG.m"
mv "$JAILD_CONFIG.m" "$JAILD_CONFIG"
start_jaild "$JAILD_CONFIG"
wait_until 20 status_is "$JAIL" state running || fail "jail $JAIL never ran"
wait_until 10 outside_http_get "http://$JAILD_PUBLIC_ADDR/" >/dev/null || fail "jail $JAIL never served"

# ---- the exposition itself --------------------------------------------------------------------
jailctl metrics >"$JAILD_TEST_DIR/api.prom" || fail "jailctl metrics failed"
grep -q "^jaild_jail_up{jail=\"$JAIL\"} 1$" "$JAILD_TEST_DIR/api.prom" || fail "jailctl metrics lacks the jail up: $(head -c 2000 "$JAILD_TEST_DIR/api.prom")"
promtool check metrics <"$JAILD_TEST_DIR/api.prom" || fail "promtool check metrics refused jailctl metrics' output"
curl -sS -m 5 -D "$JAILD_TEST_DIR/headers" -o "$JAILD_TEST_DIR/http.prom" "http://$METRICS/metrics" || fail "GET /metrics failed"
grep -qi '^content-type: text/plain; version=0.0.4' "$JAILD_TEST_DIR/headers" || fail "wrong content type: $(cat "$JAILD_TEST_DIR/headers")"
promtool check metrics <"$JAILD_TEST_DIR/http.prom" || fail "promtool check metrics refused GET /metrics"
[[ $(curl -s -o /dev/null -w '%{http_code}' -m 5 "http://$METRICS/") == 404 ]] || fail "GET / was not 404"
[[ $(curl -s -o /dev/null -w '%{http_code}' -m 5 -X POST "http://$METRICS/metrics") == 405 ]] || fail "POST /metrics was not 405"
promtool check rules "$JAILD_SOURCE_DIR/packaging/prometheus/jaild-rules.yml" || fail "promtool check rules refused the alerting rules"
(cd "$JAILD_SOURCE_DIR/packaging/prometheus" && promtool test rules jaild-rules.test.yml) || fail "the alerting rules' own tests failed"

# ---- the jail cannot reach it ----------------------------------------------------------------
ss -Hltn "sport = :9688" | awk '{ print $4 }' | grep -qx "$METRICS" || fail "the endpoint does not listen on $METRICS only: $(ss -Hltn)"
if jailctl join "$JAIL" -- wget -q -T 2 -O - "http://10.213.0.1:9688/metrics" >/dev/null 2>&1; then
  fail "the jail read jaild's metrics through the bridge address"
fi

# ---- a real Prometheus -----------------------------------------------------------------------
# The shipped scrape configuration, with a 1 s interval and the shipped rules from the source.
sed -e 's/scrape_interval: 15s/scrape_interval: 1s/' -e 's/evaluation_interval: 15s/evaluation_interval: 1s/' \
  -e "s|/etc/prometheus/jaild-rules.yml|$JAILD_SOURCE_DIR/packaging/prometheus/jaild-rules.yml|" \
  -e "s|127.0.0.1:9688|$METRICS|" \
  "$JAILD_SOURCE_DIR/packaging/prometheus/prometheus-jaild.yml" >"$PROM_DIR/prometheus.yml"
promtool check config "$PROM_DIR/prometheus.yml" || fail "promtool check config refused the scrape configuration"
prometheus --config.file="$PROM_DIR/prometheus.yml" --storage.tsdb.path="$PROM_DIR/data" \
  --web.listen-address="$PROM" >"$PROM_DIR/prometheus.log" 2>&1 &
prom_pid=$!
stop_prometheus() {
  kill -TERM "$prom_pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 100; i++)); do kill -0 "$prom_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$prom_pid" 2>/dev/null || true
  wait "$prom_pid" 2>/dev/null || true
}
defer stop_prometheus

# query PROMQL: the first result's value, or "" (instant query through the HTTP API).
query() {
  curl -s -m 2 "http://$PROM/api/v1/query" --data-urlencode "query=$1" |
    jq -r '.data.result[0].value[1] // empty' 2>/dev/null || true
}
query_is() { [[ $(query "$1") == "$2" ]]; }
query_at_least() { local v; v=$(query "$1"); [[ -n $v ]] && awk -v v="$v" -v m="$2" 'BEGIN { exit !(v >= m) }'; }

wait_until 30 query_is "up{job=\"jaild\"}" 1 || fail "Prometheus never scraped jaild: $(tail -n 20 "$PROM_DIR/prometheus.log")"
wait_until 10 query_is "jaild_jail_up{jail=\"$JAIL\"}" 1 || fail "Prometheus does not see the jail up"
before=$(query "jaild_jail_restarts_total{jail=\"$JAIL\"}")
[[ $before == 0 ]] || fail "restarts before the crash: '$before', expected 0"

crash "$JAIL"
wait_until 20 status_is "$JAIL" restarts 1 || fail "jaild did not count the restart"
wait_until 20 status_is "$JAIL" state running || fail "jail $JAIL did not come back"
wait_until 15 query_is "jaild_jail_restarts_total{jail=\"$JAIL\"}" 1 ||
  fail "Prometheus: restarts_total is '$(query "jaild_jail_restarts_total{jail=\"$JAIL\"}")', expected 1"
wait_until 15 query_is "jaild_jail_up{jail=\"$JAIL\"}" 1 || fail "Prometheus does not see the jail up again"
wait_until 15 query_is "jaild_jail_last_exit_signal{jail=\"$JAIL\"}" 9 || fail "Prometheus: last exit signal is not 9 (SIGKILL)"
log "Prometheus saw the restart: restarts_total 0 -> 1, up 1 again"

# ---- published-port counters grow with traffic from outside ---------------------------------
port_sel="jail=\"$JAIL\",port=\"80\""
conns0=$(query "jaild_port_connections_total{$port_sel}")
bytes0=$(query "jaild_port_forwarded_bytes_total{$port_sel}")
[[ -n $conns0 && -n $bytes0 ]] || fail "Prometheus has no port counters for $JAIL:80"
for ((i = 0; i < 5; i++)); do
  [[ $(outside_http_get "http://$JAILD_PUBLIC_ADDR/") == "served by $JAIL" ]] || fail "request $i from outside failed"
done
wait_until 15 query_at_least "jaild_port_connections_total{$port_sel}" "$((conns0 + 5))" ||
  fail "connections counter: $conns0 -> $(query "jaild_port_connections_total{$port_sel}"), expected +5"
wait_until 15 query_at_least "jaild_port_forwarded_bytes_total{$port_sel}" "$((bytes0 + 5 * 100))" ||
  fail "bytes counter: $bytes0 -> $(query "jaild_port_forwarded_bytes_total{$port_sel}"), expected growth"
query_at_least "jaild_port_forwarded_packets_total{$port_sel}" 10 || fail "packets counter did not grow"
log "port counters: connections $conns0 -> $(query "jaild_port_connections_total{$port_sel}"), bytes $bytes0 -> $(query "jaild_port_forwarded_bytes_total{$port_sel}")"

# The counters do not disturb the firewall's tamper check: no "table changed" after traffic.
! log_has "by someone else" || fail "the counters' traffic looked like tampering"

stop_prometheus
stop_jaild

# ---- the attack: a local user holds the metrics port while jaild restarts ----------------------
# Any user may bind a port above 1023. jaild must start anyway (its jails with it), say so, and
# take the endpoint once the port is free.
setpriv --reuid=65534 --regid=65534 --clear-groups -- /usr/bin/python3 -c '
import socket, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past the scrapes in TIME_WAIT
s.bind(("127.0.0.1", 9688))
s.listen(1)
time.sleep(60)' 2>"$JAILD_TEST_DIR/squatter.err" &
squatter=$!
defer kill "$squatter"
squatting() { [[ -n $(ss -Hltn "sport = :9688") ]]; }
wait_until 5 squatting || fail "the squatter did not bind 127.0.0.1:9688: $(cat "$JAILD_TEST_DIR/squatter.err")"
start_jaild "$JAILD_CONFIG"
wait_until 15 status_is "$JAIL" state running || fail "jaild did not start its jail while the metrics port was taken"
[[ $(outside_http_get "http://$JAILD_PUBLIC_ADDR/") == "served by $JAIL" ]] || fail "the jail does not serve while the metrics port is taken"
log_has "cannot listen for metrics on $METRICS.*tries again every 10 s" || fail "jaild did not say the metrics port is taken"
[[ $(jailctl metrics) == *jaild_build_info* ]] || fail "jailctl metrics does not work while the port is taken"
kill "$squatter"
wait "$squatter" 2>/dev/null || true
scraped() { [[ $(curl -s -m 2 "http://$METRICS/metrics") == *jaild_build_info* ]]; }
wait_until 15 scraped || fail "jaild did not take the metrics port once it was free"
log "a user holding the metrics port: jaild started with its jail, said so, took the port once free"
stop_jaild

#!/usr/bin/env bash
# The www side of issue 18 with a real Apache (www alone, no database): the apache recipe
# serves HTTPS on 443 with the self-signed certificate made for the jail's root, and
# `jailctl reload-app` reloads Apache gracefully (SIGUSR1 to apache2, the child of the
# apache2ctl shell) while a steady load runs through the public address: 0 failed requests,
# the new configuration served, no restart.
#
# Shares deploy.sh's set-up (mirror relay, the debootstrap base cached in
# /var/tmp/jaild-test-cache/provision) and runs beside it.
source "$JAILD_SOURCE_DIR/tests/integration/harness/lib.sh"
source "$JAILD_SOURCE_DIR/tests/integration/deploy/mirror.sh"

WWW=$JAILD_TEST_ID-www
WWW_ADDR=10.213.0.2
ROOTS=$JAILD_TEST_DIR/roots
CACHE=/var/tmp/jaild-test-cache/provision
PUBLIC=$JAILD_PUBLIC_ADDR
RELOADS=${JAILD_TEST_RELOADS:-5}

write_config "$(cat <<JSON
    "$WWW": {
      "root": "$ROOTS/www", "address": "$WWW_ADDR",
      "command": ["/usr/sbin/apache2ctl", "-D", "FOREGROUND"],
      "publish": [80, 443],
      "health": {"tcp": 80, "interval": "1s"},
      "restart": {"policy": "always", "backoff_initial": "100ms", "backoff_max": "2s"},
      "provision": {"packages": ["apache2"], "recipe": "apache"}
    }
JSON
)"

serving() { [[ $(status_of "$WWW" state) == running && $(status_of "$WWW" health) == healthy ]]; }
https_page_ok() {
  local code
  code=$(outside curl -ksS -o "$JAILD_TEST_DIR/page.html" -w '%{http_code}' -m 3 "https://$PUBLIC/") || return 1
  [[ $code == 200 ]] && grep -q "Apache2 Debian Default Page" "$JAILD_TEST_DIR/page.html"
}
graceful_count() { grep -c "SIGUSR1 received.  Doing graceful restart" "$ROOTS/www/var/log/apache2/error.log" || true; }
# A graceful restart is over when Apache logs "resuming normal operations" (AH00489): a SIGUSR1
# that arrives before that, while it re-reads its configuration, is cleared by Apache and lost.
resumed_count() { grep -c "resuming normal operations" "$ROOTS/www/var/log/apache2/error.log" || true; }
resumed_since() { (($(resumed_count) > $1)); }

start_mirror_relay
install -d -m 0700 "$ROOTS"
mkdir -p "$CACHE"
start_jaild "$JAILD_CONFIG" --cache-dir "$CACHE"

log "provisioning $WWW (cache: $(ls "$CACHE" 2>/dev/null | tr '\n' ' '))"
jailctl provision "$WWW" >"$JAILD_TEST_DIR/provision.out" 2>&1 || {
  cat "$JAILD_TEST_DIR/provision.out"; fail "provisioning failed"; }
grep -q "ssl-cert" "$JAILD_TEST_DIR/provision.out" || log "(no ssl-cert progress line shown)"
wait_until 90 serving || fail "$WWW does not serve after provisioning: $(jailctl status)"

log "HTTPS: curl -k https://$PUBLIC/ from outside gets Apache's page"
wait_until 20 https_page_ok || fail "no Apache page over HTTPS through $PUBLIC: $(outside curl -ksS -m 3 "https://$PUBLIC/" 2>&1 | head -5)"
# It is TLS with the jail's own self-signed certificate: without -k curl refuses it (60).
rc=0; outside curl -sS -o /dev/null -m 3 "https://$PUBLIC/" 2>"$JAILD_TEST_DIR/verify.err" || rc=$?
[[ $rc == 60 ]] || fail "curl without -k: exit $rc, not 60 (certificate not trusted): $(cat "$JAILD_TEST_DIR/verify.err")"
subject=$(outside curl -kvsS -o /dev/null -m 3 "https://$PUBLIC/" 2>&1 | sed -n 's/^\*  subject: //p')
log "certificate subject: $subject (self-signed; curl without -k: exit 60)"
# Made for the jail: its host name, not the build host's.
[[ $subject == "CN=$WWW" ]] || fail "the self-signed certificate's subject is '$subject', not CN=$WWW"
[[ $(stat -c '%a %U' "$ROOTS/www/etc/ssl/private/ssl-cert-snakeoil.key") == "640 root" ]] ||
  fail "the key: $(stat -c '%a %U' "$ROOTS/www/etc/ssl/private/ssl-cert-snakeoil.key")"
[[ $(outside curl -sS -m 3 -o /dev/null -w '%{http_code}' "http://$PUBLIC/") == 200 ]] || fail "port 80 no longer serves"

log "reload-app: which process gets SIGUSR1 (apache2, the child of the apache2ctl shell)"
main_pid=$(status_of "$WWW" main_pid)
restarts=$(status_of "$WWW" restarts)
out=$(jailctl reload-app "$WWW") || fail "reload-app failed: $out"
log "$out"
[[ $out =~ ^$WWW:\ SIGUSR1\ sent\ to\ apache2\ \(pid\ ([0-9]+)\)$ ]] || fail "unexpected answer: $out"
target=${BASH_REMATCH[1]}
[[ $(ps -o ppid= -p "$target" | tr -d ' ') == "$main_pid" ]] || fail "pid $target is not the child of the main process $main_pid"
[[ $(cat "/proc/$main_pid/comm") == apache2ctl ]] || fail "the main process is $(cat "/proc/$main_pid/comm"), not apache2ctl"
graceful_seen() { (($(graceful_count) >= 1)); }
wait_until 10 graceful_seen || fail "Apache logged no graceful restart: $(tail -5 "$ROOTS/www/var/log/apache2/error.log")"

log "reload-app takes a new configuration: /jaild-reloaded appears without a restart"
code=$(outside curl -sS -m 3 -o /dev/null -w '%{http_code}' "http://$PUBLIC/jaild-reloaded") || true
[[ $code == 404 ]] || fail "/jaild-reloaded before the reload: $code, not 404"
printf 'Alias /jaild-reloaded /var/www/html/index.html\n' >"$ROOTS/www/etc/apache2/conf-enabled/zz-test-reload.conf"
jailctl reload-app "$WWW" >/dev/null || fail "reload-app failed"
reloaded() { [[ $(outside curl -sS -m 3 -o /dev/null -w '%{http_code}' "http://$PUBLIC/jaild-reloaded") == 200 ]]; }
wait_until 10 reloaded || fail "/jaild-reloaded is not served after reload-app"

log "reload-app $RELOADS times under a steady load (HTTP and HTTPS, new connection each)"
STOP=$JAILD_TEST_DIR/load.stop
outside python3 "$JAILD_SOURCE_DIR/tests/integration/harness/http_load.py" "$PUBLIC" 80 0.01 \
  "$STOP" "$JAILD_TEST_DIR/http.report" 120 &
http_load=$!
defer kill "$http_load"
https_load() {  # one curl after another until STOP: "total failed"
  local total=0 failed=0 deadline=$((SECONDS + 120)) code
  while [[ ! -e $STOP ]] && ((SECONDS < deadline)); do
    total=$((total + 1))
    code=$(outside curl -ksS -m 2 -o /dev/null -w '%{http_code}' "https://$PUBLIC/" 2>>"$JAILD_TEST_DIR/https.failures") || code=000
    if [[ $code != 200 ]]; then failed=$((failed + 1)); echo "$SECONDS code $code" >>"$JAILD_TEST_DIR/https.failures"; fi
  done
  echo "$total $failed" >"$JAILD_TEST_DIR/https.report"
}
https_load &
https_pid=$!
sleep 1
before=$(graceful_count)
# Each reload-app waits for the previous graceful restart to be over (on a loaded machine one
# took over 1 s and Apache dropped the next signal: 4 restarts logged for 5 reload-app).
for ((i = 1; i <= RELOADS; i++)); do
  resumed=$(resumed_count)
  jailctl reload-app "$WWW" >/dev/null || fail "reload-app $i failed"
  wait_until 20 resumed_since "$resumed" || fail "Apache did not finish graceful restart $i within 20 s: $(tail -3 "$ROOTS/www/var/log/apache2/error.log")"
  sleep 1
done
sleep 1
touch "$STOP"
wait "$https_pid"
wait_until 10 test -s "$JAILD_TEST_DIR/http.report" || fail "the HTTP load reported nothing"
read -r http_total http_failed <"$JAILD_TEST_DIR/http.report"
read -r https_total https_failed <"$JAILD_TEST_DIR/https.report"
after=$(graceful_count)
log "under load: HTTP $http_failed failed of $http_total, HTTPS $https_failed failed of $https_total; Apache logged $((after - before)) graceful restarts for $RELOADS reload-app"
((after - before == RELOADS)) || fail "Apache logged $((after - before)) graceful restarts, not $RELOADS"
((http_total > 100 && https_total > 20)) || fail "too little load to count: $http_total / $https_total"
((http_failed == 0)) || fail "HTTP requests failed during reload-app: $(head -5 "$JAILD_TEST_DIR/http.report.failures")"
((https_failed == 0)) || fail "HTTPS requests failed during reload-app: $(head -5 "$JAILD_TEST_DIR/https.failures")"
[[ $(status_of "$WWW" main_pid) == "$main_pid" && $(status_of "$WWW" restarts) == "$restarts" ]] ||
  fail "the jail restarted: main pid $(status_of "$WWW" main_pid) (was $main_pid), restarts $(status_of "$WWW" restarts) (was $restarts)"

log "host certificate (\"tls\"): copied into the root, served, renewed with a graceful reload"
HOSTTLS=$JAILD_TEST_DIR/letsencrypt
install -d -m 0700 "$HOSTTLS"
make_cert() {  # CN: a self-signed certificate and key in $HOSTTLS, replaced atomically
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$1" \
    -keyout "$HOSTTLS/key.new" -out "$HOSTTLS/cert.new" 2>/dev/null || fail "openssl failed"
  chmod 0600 "$HOSTTLS/key.new"
  mv "$HOSTTLS/key.new" "$HOSTTLS/privkey.pem"
  mv "$HOSTTLS/cert.new" "$HOSTTLS/fullchain.pem"
}
make_cert first.jaild.test
served_cn() { outside curl -kvsS -o /dev/null -m 3 "https://$PUBLIC/" 2>&1 | sed -n 's/^\*  subject: CN=//p'; }
cn_is() { [[ $(served_cn) == "$1" ]]; }
sed -i "s|\"provision\": {|\"tls\": {\"certificate\": \"$HOSTTLS/fullchain.pem\", \"key\": \"$HOSTTLS/privkey.pem\"},\n      \"provision\": {|" "$JAILD_CONFIG"
jailctl reload >/dev/null || fail "reload with tls failed: $(jailctl reload 2>&1)"
# The running jail takes its changed configuration when it restarts (at once, after the reload).
tls_change_shown() { out=$(jailctl provision "$WWW" 2>&1) || true; [[ $out == *tls* ]]; }
wait_until 30 tls_change_shown || fail "provision does not show the tls change: $out"
log "provision says: $(grep tls <<<"$out" | head -1)"
jailctl provision --force "$WWW" >"$JAILD_TEST_DIR/provision2.out" 2>&1 || {
  cat "$JAILD_TEST_DIR/provision2.out"; fail "provision --force with tls failed"; }
wait_until 90 serving || fail "$WWW does not serve after provisioning with tls"
wait_until 20 cn_is first.jaild.test || fail "served certificate: '$(served_cn)', not first.jaild.test"
[[ $(stat -c '%a %U' "$ROOTS/www/etc/jaild/tls/key.pem") == "600 root" ]] ||
  fail "the key in the root: $(stat -c '%a %U' "$ROOTS/www/etc/jaild/tls/key.pem")"
log "served: CN=first.jaild.test from the host's files"

# The jail plants links where jaild copies the certificate: renewing must replace them, not
# write the host file they point to.
decoy=$JAILD_TEST_DIR/host-decoy
echo "host file" >"$decoy"
ln -sfn "$decoy" "$ROOTS/www/etc/jaild/tls/key.pem"
ln -sfn "$decoy" "$ROOTS/www/etc/jaild/tls/certificate.pem"
main_pid=$(status_of "$WWW" main_pid)
make_cert renewed.jaild.test
jailctl reload >/dev/null || fail "reload failed"
wait_until 15 cn_is renewed.jaild.test || fail "renewed certificate not served: '$(served_cn)'"
[[ $(cat "$decoy") == "host file" ]] || fail "jaild wrote through a link planted in the root"
[[ ! -L $ROOTS/www/etc/jaild/tls/key.pem ]] || fail "the planted link is still there"
[[ $(status_of "$WWW" main_pid) == "$main_pid" ]] || fail "the jail restarted for a new certificate"
log_has "certificate .* copied into its root" || fail "jaild did not log the copy"
log "renewed: CN=renewed.jaild.test served after a graceful reload (same main process); the planted links were replaced, the host file untouched"

# A key other users may read is refused (named with the field and the fix); the root keeps
# the last good files.
chmod 0644 "$HOSTTLS/privkey.pem"
jailctl reload >/dev/null || true
wait_until 5 log_has "jails\.$WWW\.tls\.key: .*chmod o-rwx" || fail "a world-readable key was not refused"
cn_is renewed.jaild.test || fail "the served certificate changed after a refused copy"

stop_jaild
log "ok"

#!/bin/bash
# Scrapes GET /metrics of the registry and of the agent and reads the whole
# text with a strict parser of the exposition format (metrics_parse.py, which
# also runs python3-prometheus-client's parser when it is installed).  The
# counters must move by exactly the requests this script sent: a push, a
# pull, a 404, a failed login and an upload left open.  Histograms must be
# cumulative with +Inf equal to _count.  Both endpoints must require the same
# login as the rest of their API.  Last, the agent's API errors must come in
# Portuguese for Accept-Language: pt-PT and from a cmdlet run under
# LANG=pt_PT.UTF-8, and in English otherwise.
#
# Needs root (the agent), curl, jq, openssl, sha256sum and /usr/bin/python3.
# The servers listen on 127.0.0.1 in 25000-25999.
#
# Environment: EDGECR_REGISTRY, EDGECR_AGENT (binaries, default build/...),
# EDGECR_CMDLET_DIR (folder of the cmdlet symlinks and locale/, default
# build), all relative to the repository root unless absolute; IT_KEEP=1
# keeps the temporary directory.
set -u

. "$(dirname "$0")/lib.sh"

IT_PORT_MIN=25000
IT_PORT_MAX=25999

it_init curl jq openssl sha256sum /usr/bin/python3

BIN=${EDGECR_REGISTRY:-build/edgecr-registry}
AGENT=${EDGECR_AGENT:-build/edgecr-agent}
case $BIN in /*) ;; *) BIN=$IT_REPO_ROOT/$BIN ;; esac
CMDLET_DIR=${EDGECR_CMDLET_DIR:-build}
case $AGENT in /*) ;; *) AGENT=$IT_REPO_ROOT/$AGENT ;; esac
case $CMDLET_DIR in /*) ;; *) CMDLET_DIR=$IT_REPO_ROOT/$CMDLET_DIR ;; esac
[ -x "$BIN" ] || it_bail "registry binary not found at $BIN"
[ -x "$AGENT" ] || it_bail "agent binary not found at $AGENT"
PARSE=$IT_LIB_DIR/metrics_parse.py

D=$IT_DIR
HOST=$IT_HOSTNAME
PORT=$(it_free_port) || exit 2
METRICS_PORT=$(it_free_port) || exit 2
URL=https://$HOST:$PORT
USER=metrics
PASS="metrics-pass-$RANDOM$RANDOM"
REG_LOG=$D/registry.log
DOCKER_MT=application/vnd.docker.distribution.manifest.v2+json

# ---------------------------------------------------------------------------
# Helpers

cr() {
    curl --http1.1 -sS --cacert "$D/tls/ca.crt" --resolve "$HOST:$PORT:127.0.0.1" "$@"
}

# Bytes of response bodies per route, as curl received them, for the
# sent-bytes counters.
declare -A SENT=()

# req ROUTE METHOD PATH [CURL ARGS...]: authenticated request; ST is the
# status, $D/b the body.
req() {
    local route=$1 method=$2 path=$3 out size
    shift 3
    out=$(cr -u "$USER:$PASS" -X "$method" -o "$D/b" -w '%{http_code} %{size_download}' "$@" \
        "$URL$path")
    ST=${out% *}
    size=${out#* }
    SENT[$route]=$((${SENT[$route]:-0} + size))
}

digest_of() {
    echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"
}

# scrape_registry FILE: saves the text and the parsed samples (FILE.samples);
# fails when the parser finds a problem (listed in FILE.problems).
scrape_registry() {
    local file=$1
    cr -u "$USER:$PASS" -o "$file" "$URL/metrics" || return 1
    /usr/bin/python3 "$PARSE" "$file" >"$file.samples" 2>"$file.problems"
}

# metric FILE SERIES: prints the value of SERIES (labels sorted by name) in
# the samples of FILE, or 0 when the series is absent.
metric() {
    local value
    value=$(awk -v k="$2" '$1 == k { print $2; found = 1 } END { if (!found) print 0 }' \
        "$1.samples")
    printf '%s\n' "$value"
}

# delta SERIES: the change of SERIES from scrape 1 to scrape 2.
delta() {
    echo $(($(metric "$D/s2" "$1") - $(metric "$D/s1" "$1")))
}

# ---------------------------------------------------------------------------
# Registry: TLS, Basic auth

it_make_certs "$D/tls" || it_bail "certificate generation failed"
# gc_schedule names the current minute, so the scheduled collection runs
# right after the start.  Near the end of a minute, wait for the next one.
(( 10#$(date -u +%S) < 55 )) || sleep 6
GC_MINUTE=$(date -u +%H:%M)
START=$(date +%s)
printf '%s\n' "$PASS" | "$BIN" passwd "$USER" --auth-file "$D/auth" >/dev/null ||
    it_bail "edgecr-registry passwd failed"
cat >"$D/registry.conf" <<CONF
listen = 127.0.0.1:$PORT
root = $D/root
tls_cert = $D/tls/server.crt
tls_key = $D/tls/server.key
auth_file = $D/auth
storage_limit = 64M
gc_schedule = $GC_MINUTE
metrics_listen = 127.0.0.1:$METRICS_PORT
CONF

"$BIN" --config "$D/registry.conf" >>"$REG_LOG" 2>&1 &
REG_PID=$!
it_track_pid "$REG_PID" edgecr-registry
for ((i = 0; i < 100; i++)); do
    [ "$(cr -o /dev/null -w '%{http_code}' "$URL/v2/" 2>/dev/null)" = 401 ] && break
    kill -0 "$REG_PID" 2>/dev/null || it_bail "registry exited during start-up"
    sleep 0.1
done

it_assert_eq "registry metrics need credentials" 401 \
    "$(cr -o /dev/null -w '%{http_code}' "$URL/metrics")"
it_assert_eq "registry metrics reject a wrong password" 401 \
    "$(cr -u "$USER:wrong" -o /dev/null -w '%{http_code}' "$URL/metrics")"

for ((i = 0; i < 100; i++)); do
    scrape_registry "$D/s1" || it_bail "first scrape failed: $(cat "$D/s1.problems")"
    [ "$(metric "$D/s1" 'edgecr_registry_gc_runs_total{result="ok"}')" = 1 ] && break
    sleep 0.1
done
it_ok "first registry scrape parses"
it_assert_eq "scheduled gc counted" 1 "$(metric "$D/s1" 'edgecr_registry_gc_runs_total{result="ok"}')"
it_assert_eq "no failed gc" 0 "$(metric "$D/s1" 'edgecr_registry_gc_runs_total{result="failed"}')"
gc_end=$(metric "$D/s1" edgecr_registry_gc_last_run_end_timestamp_seconds{})
it_assert_eq "gc end time is since the start" yes \
    "$([ "$gc_end" -ge "$START" ] && [ "$gc_end" -le "$(date +%s)" ] && echo yes || echo "no: $gc_end")"
gc_bytes=$(sed -n 's/.*gc: removed .* blobs (\([0-9]*\) bytes.*/\1/p' "$REG_LOG" | tail -n 1)
it_assert_eq "gc freed bytes match its log line" "${gc_bytes:-missing}" \
    "$(metric "$D/s1" edgecr_registry_gc_freed_bytes_total{})"
# A scrape is counted once it completed, so in the next scrape.
SENT[other]=$(stat -c %s "$D/s1")
out=$(cr -u "$USER:$PASS" -o /dev/null -w '%{size_download} %{content_type}' "$URL/metrics")
SENT[other]=$((SENT[other] + ${out%% *}))
it_assert_match "content type is text format 0.0.4" '^text/plain; version=0\.0\.4' "${out#* }"

# Known requests: push two blobs and a manifest, pull them, one 404, one
# failed login, one upload left open.
printf '{"architecture":"amd64","os":"linux","n":%s}' "$RANDOM" >"$D/config"
head -c 300000 /dev/urandom >"$D/layer"
for blob in config layer; do
    req upload POST "/v2/app/metrics/blobs/uploads/?digest=$(digest_of "$D/$blob")" \
        -H 'Content-Type: application/octet-stream' --data-binary "@$D/$blob"
    it_assert_eq "push blob $blob" 201 "$ST"
done
printf '{"schemaVersion":2,"mediaType":"%s","config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","digest":"%s","size":%s}]}' \
    "$DOCKER_MT" "$(digest_of "$D/config")" "$(stat -c %s "$D/config")" \
    "$(digest_of "$D/layer")" "$(stat -c %s "$D/layer")" >"$D/manifest"
req manifest PUT /v2/app/metrics/manifests/v1 -H "Content-Type: $DOCKER_MT" \
    --data-binary "@$D/manifest"
it_assert_eq "push manifest" 201 "$ST"
req manifest GET /v2/app/metrics/manifests/v1 -H "Accept: $DOCKER_MT"
it_assert_eq "pull manifest" 200 "$ST"
for blob in config layer; do
    req blob GET "/v2/app/metrics/blobs/$(digest_of "$D/$blob")"
    it_assert_eq "pull blob $blob" 200 "$ST"
done
req manifest GET /v2/app/missing/manifests/v1
it_assert_eq "unknown manifest is 404" 404 "$ST"
it_assert_eq "wrong password is 401" 401 \
    "$(cr -u "$USER:wrong-$RANDOM" -o /dev/null -w '%{http_code}' "$URL/v2/")"
req upload POST /v2/app/metrics/blobs/uploads/
it_assert_eq "upload left open" 202 "$ST"

scrape_registry "$D/s2" || it_bail "second scrape failed: $(cat "$D/s2.problems")"
it_ok "second registry scrape parses, histograms cumulative with +Inf = count"

R=edgecr_registry_http_requests_total
it_assert_eq "POST upload 201 counted" 2 "$(delta "$R{code=\"201\",method=\"POST\",route=\"upload\"}")"
it_assert_eq "POST upload 202 counted" 1 "$(delta "$R{code=\"202\",method=\"POST\",route=\"upload\"}")"
it_assert_eq "PUT manifest 201 counted" 1 "$(delta "$R{code=\"201\",method=\"PUT\",route=\"manifest\"}")"
it_assert_eq "GET manifest 200 counted" 1 "$(delta "$R{code=\"200\",method=\"GET\",route=\"manifest\"}")"
it_assert_eq "GET manifest 404 counted" 1 "$(delta "$R{code=\"404\",method=\"GET\",route=\"manifest\"}")"
it_assert_eq "GET blob 200 counted" 2 "$(delta "$R{code=\"200\",method=\"GET\",route=\"blob\"}")"
it_assert_eq "failed login counted under base" 1 "$(delta "$R{code=\"401\",method=\"GET\",route=\"base\"}")"
it_assert_eq "two scrapes counted under other" 2 "$(delta "$R{code=\"200\",method=\"GET\",route=\"other\"}")"
total=$(awk -v p="$R{" 'index($1, p) == 1 { s += $2 } END { print s + 0 }' "$D/s2.samples")
before=$(awk -v p="$R{" 'index($1, p) == 1 { s += $2 } END { print s + 0 }' "$D/s1.samples")
# The first scrape completes after its own text was written, so it is
# counted in the second one, with the content-type scrape and the 9 requests
# above.
it_assert_eq "no other request counted" 11 "$((total - before))"
it_assert_eq "failed logins counted" 1 "$(delta edgecr_registry_failed_logins_total{})"

config_size=$(stat -c %s "$D/config")
layer_size=$(stat -c %s "$D/layer")
manifest_size=$(stat -c %s "$D/manifest")
it_assert_eq "received bytes of uploads" "$((config_size + layer_size))" \
    "$(delta 'edgecr_registry_http_received_bytes_total{route="upload"}')"
it_assert_eq "received bytes of manifests" "$manifest_size" \
    "$(delta 'edgecr_registry_http_received_bytes_total{route="manifest"}')"
for route in upload manifest blob other; do
    it_assert_eq "sent bytes of route $route" "${SENT[$route]:-0}" \
        "$(delta "edgecr_registry_http_sent_bytes_total{route=\"$route\"}")"
done

H=edgecr_registry_http_request_duration_seconds
for route in upload manifest blob base other; do
    requests=$(awk -v p="$R{" -v r="route=\"$route\"" \
        'index($1, p) == 1 && index($1, r) { s += $2 } END { print s + 0 }' "$D/s2.samples")
    it_assert_eq "duration count of $route equals its requests" "$requests" \
        "$(metric "$D/s2" "$H""_count{route=\"$route\"}")"
done
it_assert_eq "one upload in progress" 1 "$(metric "$D/s2" edgecr_registry_uploads_in_progress{})"
it_assert_eq "storage used is the pushed bytes" "$((config_size + layer_size + manifest_size))" \
    "$(metric "$D/s2" edgecr_registry_storage_used_bytes{})"
it_assert_eq "storage limit from the config" $((64 * 1024 * 1024)) \
    "$(metric "$D/s2" edgecr_registry_storage_limit_bytes{})"
it_assert_eq "no second gc ran" 1 "$(metric "$D/s2" 'edgecr_registry_gc_runs_total{result="ok"}')"
it_assert_eq "HEAD on metrics works" 200 \
    "$(cr -u "$USER:$PASS" -I -o /dev/null -w '%{http_code}' "$URL/metrics")"
it_assert_eq "POST on metrics is 405" 405 \
    "$(cr -u "$USER:$PASS" -X POST -o /dev/null -w '%{http_code}' "$URL/metrics")"

# The loopback listener serves the same text without a login, and its
# requests are not counted.
it_assert_eq "metrics_listen needs no login" 200 \
    "$(curl -sS -o "$D/s3" -w '%{http_code}' "http://127.0.0.1:$METRICS_PORT/metrics")"
/usr/bin/python3 "$PARSE" "$D/s3" >"$D/s3.samples" 2>"$D/s3.problems"
it_assert_eq "metrics_listen text parses" "" "$(cat "$D/s3.problems")"
it_assert_eq "metrics_listen serves the same counters" \
    "$(metric "$D/s2" 'edgecr_registry_http_requests_total{code="201",method="PUT",route="manifest"}')" \
    "$(metric "$D/s3" 'edgecr_registry_http_requests_total{code="201",method="PUT",route="manifest"}')"
it_assert_eq "metrics_listen serves only /metrics" 404 \
    "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$METRICS_PORT/v2/")"
it_assert_eq "metrics_listen rejects POST" 405 \
    "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$METRICS_PORT/metrics")"
scrape_registry "$D/s4" || it_bail "scrape failed: $(cat "$D/s4.problems")"
it_assert_eq "metrics_listen requests not counted" 0 \
    "$(metric "$D/s4" 'edgecr_registry_http_requests_total{code="404",method="GET",route="base"}')"

it_stop_pid "$REG_PID" edgecr-registry

# metrics_listen has no login, so a non-loopback address is refused.
printf 'listen = 127.0.0.1:%s\nroot = %s\nmetrics_listen = 0.0.0.0:%s\n' \
    "$PORT" "$D/root2" "$METRICS_PORT" >"$D/bad.conf"
out=$("$BIN" --config "$D/bad.conf" 2>&1)
it_assert_eq "non-loopback metrics_listen exits 1" 1 "$?"
it_assert_match "non-loopback metrics_listen is named" 'metrics_listen: invalid value "0\.0\.0\.0:' "$out"

# ---------------------------------------------------------------------------
# Agent: its own socket, state folder and registry port

SOCK=$D/agent.sock
STATE=$D/state
AGENT_PORT=$(it_free_port) || exit 2
UI_PORT=$(it_free_port) || exit 2
KUBE_PORT=$(it_free_port) || exit 2
NAME=ecr.dev1.local

# A kubeconfig whose API server port has no listener: the secrets thread
# fails on loopback, which the error counter must show.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -keyout "$D/kube-ca.key" -out "$D/kube-ca.crt" -subj /CN=kube-test >/dev/null 2>&1
cat >"$D/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: https://127.0.0.1:$KUBE_PORT
    certificate-authority: $D/kube-ca.crt
users:
- name: u
  user:
    token: test-token
contexts:
- name: x
  context:
    cluster: c
    user: u
current-context: x
EOF
cat >"$D/agent.conf" <<EOF
device_name = dev1
dns_domain = local
registry_ip = 127.0.0.1
registry_port = $AGENT_PORT
registry_binary = $BIN
ui_listen = 127.0.0.1:$UI_PORT
kubeconfig = $D/kubeconfig
EOF

# Portuguese needs the pt_PT.UTF-8 locale.  Without it on the system, build
# it in the test's folder and point LOCPATH at it.
it_pt_locale_env "$D" ||
    it_bail "pt_PT.UTF-8 is not installed and localedef failed: $(tail -n 3 "$D/localedef.log")"
LOCALE_ENV=("${IT_PT_LOCALE_ENV[@]}" EDGECR_LOCALEDIR="$CMDLET_DIR/locale")

env "${LOCALE_ENV[@]}" EDGECR_LOG=stderr "$AGENT" --config "$D/agent.conf" --state-dir "$STATE" \
    --socket "$SOCK" >>"$D/agent.log" 2>&1 &
AGENT_PID=$!
it_track_pid "$AGENT_PID" edgecr-agent
it_wait_socket "$SOCK" "$AGENT_PID" 30 || it_bail "agent did not create $SOCK"

api() {
    curl -sS --unix-socket "$SOCK" "$@"
}

# scrape_agent FILE: saves and parses the agent's metrics from the socket.
scrape_agent() {
    api -o "$1" http://agent/metrics || return 1
    /usr/bin/python3 "$PARSE" "$1" >"$1.samples" 2>"$1.problems"
}

scrape_agent "$D/a1" || it_bail "agent scrape failed: $(cat "$D/a1.problems")"
it_ok "agent scrape parses"
it_assert_eq "registry down before Set" 0 "$(metric "$D/a1" edgecr_agent_registry_up{})"
it_assert_eq "registry disabled before Set" 0 "$(metric "$D/a1" edgecr_agent_registry_enabled{})"
it_assert_no_match "no certificate expiry before Set" certificate_expiry "$(cat "$D/a1")"

api -o /dev/null http://agent/v1/nothing
api -o /dev/null -X PUT -d '{"rotatePassword":"yes"}' http://agent/v1/registry
it_assert_eq "Set succeeds" 200 \
    "$(api -o "$D/set.json" -w '%{http_code}' -X PUT -d '{}' http://agent/v1/registry)"
scrape_agent "$D/a2" || it_bail "agent scrape failed: $(cat "$D/a2.problems")"
A=edgecr_agent_api_requests_total
for code_count in 200:2 404:1 400:1; do
    code=${code_count%:*}
    it_assert_eq "agent API $code counted" "${code_count#*:}" \
        "$(($(metric "$D/a2" "$A{code=\"$code\"}") - $(metric "$D/a1" "$A{code=\"$code\"}")))"
done
it_assert_eq "registry up after Set" 1 "$(metric "$D/a2" edgecr_agent_registry_up{})"
not_after=$(api http://agent/v1/registry | jq -r .certificate.notAfter)
it_assert_eq "certificate expiry matches notAfter" "$(date -d "$not_after" +%s)" \
    "$(metric "$D/a2" edgecr_agent_certificate_expiry_timestamp_seconds{})"

# A registry killed with SIGKILL is restarted and counted.
pid=$(api http://agent/v1/status | jq -r .registry.pid)
kill -KILL "$pid"
for ((i = 0; i < 100; i++)); do
    scrape_agent "$D/a3" || break
    [ "$(metric "$D/a3" edgecr_agent_registry_restarts_total{})" = 1 ] &&
        [ "$(metric "$D/a3" edgecr_agent_registry_up{})" = 1 ] && break
    sleep 0.1
done
it_assert_eq "registry restart counted" 1 "$(metric "$D/a3" edgecr_agent_registry_restarts_total{})"
it_assert_eq "registry up after the restart" 1 "$(metric "$D/a3" edgecr_agent_registry_up{})"

for ((i = 0; i < 100; i++)); do
    scrape_agent "$D/a4" || break
    [ "$(metric "$D/a4" edgecr_agent_secret_reconcile_errors_total{})" -ge 1 ] && break
    sleep 0.1
done
it_assert_match "secret errors counted against a closed port" '^[1-9]' \
    "$(metric "$D/a4" edgecr_agent_secret_reconcile_errors_total{})"
it_assert_match "secret runs counted" '^[1-9]' \
    "$(metric "$D/a4" edgecr_agent_secret_reconcile_runs_total{})"

# The page's listener serves the metrics behind its login.
password=$(jq -r .password <(api http://agent/v1/registry))
it_assert_eq "agent metrics on the page listener need a login" 401 \
    "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$UI_PORT/metrics")"
it_assert_eq "agent metrics on the page listener with a login" 200 \
    "$(curl -s -o /dev/null -w '%{http_code}' -u "ase-ecr-user:$password" \
        "http://127.0.0.1:$UI_PORT/metrics")"

# ---------------------------------------------------------------------------
# Agent API errors in English and Portuguese

message() {
    jq -r .error.message
}
it_assert_eq "404 in English by default" "No endpoint /v1/nothing exists; see docs/agent-api.md." \
    "$(api http://agent/v1/nothing | message)"
it_assert_eq "404 in Portuguese for pt-PT" \
    "O endpoint /v1/nothing não existe; consulte docs/agent-api.md." \
    "$(api -H 'Accept-Language: pt-PT' http://agent/v1/nothing | message)"
it_assert_eq "English when English ranks first" \
    "Field rotatePassword must be true or false." \
    "$(api -H 'Accept-Language: en;q=0.9, pt;q=0.5' -X PUT -d '{"rotatePassword":1}' \
        http://agent/v1/registry | message)"
it_assert_eq "nested reason in Portuguese" \
    "O campo rotatePassword tem de ser true ou false." \
    "$(api -H 'Accept-Language: pt-PT,en;q=0.5' -X PUT -d '{"rotatePassword":1}' \
        http://agent/v1/registry | message)"

# A certificate for another name is refused; the cmdlet prints the agent's
# message in the language of its locale.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -keyout "$D/other.key" -out "$D/other.crt" -subj /CN=other.example >/dev/null 2>&1
out=$(env "${LOCALE_ENV[@]}" LANGUAGE= LC_ALL= LC_MESSAGES= LANG=pt_PT.UTF-8 \
    EDGECR_AGENT_SOCKET="$SOCK" "$CMDLET_DIR/Set-HcsKubernetesContainerRegistry" \
    -CertificatePath "$D/other.crt" -KeyPath "$D/other.key" 2>&1)
it_assert_match "cmdlet prints the refusal in Portuguese" \
    "O certificado fornecido foi recusado: o certificado não abrange $NAME" "$out"
out=$(env LANGUAGE= LC_ALL=C.UTF-8 EDGECR_AGENT_SOCKET="$SOCK" \
    "$CMDLET_DIR/Set-HcsKubernetesContainerRegistry" \
    -CertificatePath "$D/other.crt" -KeyPath "$D/other.key" 2>&1)
it_assert_match "cmdlet prints the refusal in English under C" \
    "The provided certificate was rejected: the certificate does not cover $NAME" "$out"

it_done

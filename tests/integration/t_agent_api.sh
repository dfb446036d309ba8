#!/bin/bash
#
# Drives edgecr-agent's management API over its Unix socket with curl and
# checks the registry it provisions and supervises, as a client of the
# registry endpoint would see it (curl with --cacert and --resolve).
#
# Environment:
#   EDGECR_AGENT      agent binary (default build/edgecr-agent)
#   EDGECR_REGISTRY   registry binary the agent starts (default build/edgecr-registry)
#   IT_KEEP=1         keep the temporary directory
#
# Prints "ok - NAME" or "not ok - NAME: expected ..., got ..." per check and
# exits non-zero when a check failed.  Needs root (the agent binds its socket
# as root, the 403 check runs curl as user nobody, and the registry_user checks
# create a system user edgecr-tPID, deleted on exit), curl, jq, openssl,
# setpriv, ss, useradd and userdel.  The registry listens on 127.0.0.1 in
# 17000-17999.

set -u
cd "$(dirname "$0")/../.." || exit 2
REPO=$(pwd)

AGENT=${EDGECR_AGENT:-build/edgecr-agent}
REGISTRY=${EDGECR_REGISTRY:-build/edgecr-registry}
case $AGENT in /*) ;; *) AGENT=$REPO/$AGENT ;; esac
case $REGISTRY in /*) ;; *) REGISTRY=$REPO/$REGISTRY ;; esac

DEVICE=dev1
DOMAIN=local
NAME=ecr.$DEVICE.$DOMAIN
PASSED=0
FAILED=0
AGENT_PID=
SERVICE_USER=

for tool in curl jq openssl setpriv ss useradd userdel; do
	command -v "$tool" >/dev/null || { echo "Bail out! $tool not found"; exit 2; }
done
for binary in "$AGENT" "$REGISTRY"; do
	[ -x "$binary" ] || { echo "Bail out! $binary not found; build it first"; exit 2; }
done

# A short path: sockets under it must fit in 107 bytes.  User nobody must be able
# to reach the socket for the 403 check, so the folder is world-searchable.
DIR=$(mktemp -d /tmp/edgecr-agent-it-XXXXXX) || exit 2
chmod 755 "$DIR"
SOCK=$DIR/agent.sock
STATE=$DIR/state

cleanup() {
	local rc=$?

	if [ -n "$AGENT_PID" ] && kill -0 "$AGENT_PID" 2>/dev/null; then
		kill -TERM "$AGENT_PID"
		wait "$AGENT_PID" 2>/dev/null
	fi
	# userdel fails while a process of the user runs, so the agent and its
	# registry stop first.
	[ -n "$SERVICE_USER" ] && userdel "$SERVICE_USER"
	if [ "${IT_KEEP:-0}" = 1 ]; then
		echo "# kept $DIR"
	else
		rm -rf -- "$DIR"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
	local port i

	for ((i = 0; i < 200; i++)); do
		port=$((17000 + RANDOM % 1000))
		if ! ss -Hltn "sport = :$port" | grep -q .; then
			echo "$port"
			return 0
		fi
	done
	echo "Bail out! no free port in 17000-17999" >&2
	exit 2
}
PORT=$(free_port)

ok() {
	PASSED=$((PASSED + 1))
	echo "ok - $1"
}

not_ok() {
	FAILED=$((FAILED + 1))
	echo "not ok - $1: $2"
	[ -f "$DIR/agent.log" ] && tail -n 15 "$DIR/agent.log" | sed 's/^/#   /'
}

# check NAME EXPECTED ACTUAL
check() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1" "expected '$2', got '$3'"
	fi
}

# check_match NAME PATTERN ACTUAL
check_match() {
	if printf '%s' "$3" | grep -Eq -- "$2"; then
		ok "$1"
	else
		not_ok "$1" "expected a match for /$2/, got '$3'"
	fi
}

# api METHOD PATH [BODY]: prints the body, then the HTTP status on the last line.
api() {
	local args=(-sS --unix-socket "$SOCK" -X "$1" -w '\n%{http_code}')

	[ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
	curl "${args[@]}" "http://agent$2"
}

body() { sed '$d' <<<"$1"; }
status() { tail -n 1 <<<"$1"; }

# registry_status USER PASSWORD: prints the HTTP status of GET /v2/ on the
# endpoint for a client that trusts the CA from the API ("000" when TLS fails).
registry_status() {
	local auth=()

	[ -n "$1" ] && auth=(-u "$1:$2")
	curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$DIR/ca.crt" \
		--resolve "$NAME:$PORT:127.0.0.1" "${auth[@]}" "https://$NAME:$PORT/v2/"
}

fetch_ca() {
	curl -sS --unix-socket "$SOCK" -o "$DIR/ca.crt" http://agent/v1/registry/ca.crt
}

registry_pid() {
	api GET /v1/status | sed '$d' | jq -r '.registry.pid'
}

start_agent() {
	"$AGENT" --config "$DIR/agent.conf" --state-dir "$STATE" --socket "$SOCK" \
		>>"$DIR/agent.log" 2>&1 &
	AGENT_PID=$!
	for ((i = 0; i < 100; i++)); do
		[ -S "$SOCK" ] && return 0
		kill -0 "$AGENT_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# wait_registry_running SECONDS: until the status API reports "running".
wait_registry_running() {
	local i state

	for ((i = 0; i < $1 * 10; i++)); do
		state=$(api GET /v1/status | sed '$d' | jq -r '.registry.state')
		[ "$state" = running ] && return 0
		sleep 0.1
	done
	return 1
}

cat >"$DIR/agent.conf" <<EOF
device_name = $DEVICE
dns_domain = $DOMAIN
registry_ip = 127.0.0.1
registry_port = $PORT
registry_binary = $REGISTRY
# Wider than the default 0660 so that user nobody reaches the peer check.
socket_mode = 0666
registry_watchdog_sec = 10
# Short, so that the renewal check below finds the certificate near expiry.
certificate_validity_days = 20
renew_before_days = 10
log_level = info
EOF
export EDGECR_LOG=stderr

# --- configuration errors stop the agent before anything listens
printf 'registry_port = 99999\n' >"$DIR/bad.conf"
out=$("$AGENT" --config "$DIR/bad.conf" --state-dir "$DIR/bad-state" --socket "$DIR/bad.sock" 2>&1)
rc=$?
check "bad config exits non-zero" 1 "$rc"
check_match "bad config names key and value" 'registry_port.*99999|99999.*registry_port' "$out"
check "bad config binds no socket" no "$([ -e "$DIR/bad.sock" ] && echo yes || echo no)"

# --- start
if start_agent; then
	ok "agent starts and listens"
else
	not_ok "agent starts and listens" "expected $SOCK, agent exited or timed out"
	exit 1
fi
check "socket mode from config" 666 "$(stat -c %a "$SOCK")"

r=$(api GET /v1/registry)
check "GET before Set is disabled" '200 false' "$(status "$r") $(body "$r" | jq -r .enabled)"
r=$(api GET /v1/registry/ca.crt)
check "ca.crt before Set is NOT_ENABLED" '409 NOT_ENABLED' "$(status "$r") $(body "$r" | jq -r .error.code)"
r=$(api GET /v1/nothing)
check "unknown path is NOT_FOUND" '404 NOT_FOUND' "$(status "$r") $(body "$r" | jq -r .error.code)"
r=$(api POST /v1/registry '{}')
check "POST is METHOD_NOT_ALLOWED" '405 METHOD_NOT_ALLOWED' "$(status "$r") $(body "$r" | jq -r .error.code)"
r=$(api PUT /v1/registry '{"rotatePassword":"yes"}')
check "PUT with a bad field is BAD_REQUEST" '400 BAD_REQUEST' "$(status "$r") $(body "$r" | jq -r .error.code)"

# --- first Set
r=$(api PUT /v1/registry '{}')
check "first PUT succeeds" 200 "$(status "$r")"
check_match "first PUT creates the user" 'created user ase-ecr-user' "$(body "$r" | jq -r '.actions[]')"

info=$(api GET /v1/registry | sed '$d')
password=$(jq -r .password <<<"$info")
fingerprint=$(jq -r .certificate.sha256Fingerprint <<<"$info")
check "GET shows the endpoint" "$NAME:$PORT" "$(jq -r .endpoint <<<"$info")"
check "GET shows the user" ase-ecr-user "$(jq -r .username <<<"$info")"
check_match "password is 15 alphanumerics" '^[A-Za-z0-9]{15}$' "$password"
check "certificate names the endpoint" "$NAME" "$(jq -r '.certificate.dnsNames[0]' <<<"$info")"
check "certificate names the IP" 127.0.0.1 "$(jq -r '.certificate.ipAddresses[0]' <<<"$info")"
check "registry is running" running "$(jq -r .registry.state <<<"$info")"
check "server key is private" 600 "$(stat -c %a "$STATE/registry/server.key")"

fetch_ca
check "registry rejects no credentials" 401 "$(registry_status '' '')"
check "registry accepts the password" 200 "$(registry_status ase-ecr-user "$password")"

# --- Set again keeps everything
r=$(api PUT /v1/registry)
info=$(api GET /v1/registry | sed '$d')
check "second PUT changes nothing" '200 0' "$(status "$r") $(body "$r" | jq '.actions | length')"
check "second PUT keeps the password" "$password" "$(jq -r .password <<<"$info")"
check "second PUT keeps the certificate" "$fingerprint" "$(jq -r .certificate.sha256Fingerprint <<<"$info")"

# --- storage figures, repository listing and garbage collection on request
# The registry's own numbers: a config and a layer blob, then the manifest.
reg_url=https://$NAME:$PORT
reg_curl() {
	curl -sS --max-time 10 --cacert "$DIR/ca.crt" --resolve "$NAME:$PORT:127.0.0.1" \
		-u "ase-ecr-user:$password" "$@"
}
fetch_ca
printf 'storage test layer %s\n' "$$" >"$DIR/layer"
printf '{"storage":"config %s"}' "$$" >"$DIR/config"
for f in layer config; do
	d=sha256:$(sha256sum "$DIR/$f" | cut -d' ' -f1)
	reg_curl -o /dev/null -X POST --data-binary "@$DIR/$f" \
		"$reg_url/v2/st/app/blobs/uploads/?digest=$d"
done
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
	"$(sha256sum "$DIR/config" | cut -d' ' -f1)" "$(stat -c %s "$DIR/config")" \
	"$(sha256sum "$DIR/layer" | cut -d' ' -f1)" "$(stat -c %s "$DIR/layer")" >"$DIR/manifest"
check "manifest push for the storage checks" 201 \
	"$(reg_curl -o /dev/null -w '%{http_code}' -X PUT --data-binary "@$DIR/manifest" \
		-H 'Content-Type: application/vnd.oci.image.manifest.v1+json' "$reg_url/v2/st/app/manifests/v1")"
image_bytes=$(($(stat -c %s "$DIR/layer") + $(stat -c %s "$DIR/config") + $(stat -c %s "$DIR/manifest")))
status_body=$(api GET /v1/status | sed '$d')
check "status storage counts the image" "$image_bytes" "$(jq -r .storage.blobBytes <<<"$status_body")"
check "status storage used includes uploads" "$image_bytes" "$(jq -r .storage.usedBytes <<<"$status_body")"
check "status storage lists the repository" "st/app $image_bytes" \
	"$(jq -r '.storage.repositories[] | "\(.name) \(.bytes)"' <<<"$status_body")"
check "status storage has no limit by default" null "$(jq -r .storage.limitBytes <<<"$status_body")"
check "status storage has the free-space floor" 1073741824 "$(jq -r .storage.minFreeBytes <<<"$status_body")"
check "GET /v1/registry has the same storage" "$image_bytes" \
	"$(api GET /v1/registry | sed '$d' | jq -r .storage.blobBytes)"
r=$(api GET /v1/registry/repositories)
tag_json=$(body "$r" | jq -c '.repositories[] | select(.name == "st/app") | .tags[0]')
check "listing gives the image size" "$image_bytes" "$(jq -r .sizeBytes <<<"$tag_json")"
check "listing gives the manifest digest" "sha256:$(sha256sum "$DIR/manifest" | cut -d' ' -f1)" \
	"$(jq -r .digest <<<"$tag_json")"
check_match "listing gives the push time" "^$(date -u +%Y-%m-%d)T[0-9:]{8}Z\$" "$(jq -r .pushedAt <<<"$tag_json")"

r=$(api DELETE "/v1/registry/repositories/st/app/manifests/sha256:$(sha256sum "$DIR/manifest" | cut -d' ' -f1)")
check "delete the storage test image" 200 "$(status "$r")"
r=$(api POST /v1/registry/gc)
check "POST /v1/registry/gc succeeds" 200 "$(status "$r")"
# The image is within the registry's gc_grace_period (3600 s), so its blobs stay.
check "gc result has its counts" "0 0" "$(body "$r" | jq -r '"\(.blobs) \(.bytesFreed)"')"
check_match "gc result has its start time" '^[0-9-]{10}T[0-9:]{8}Z$' "$(body "$r" | jq -r .startedAt)"
status_body=$(api GET /v1/status | sed '$d')
check "status shows the last gc" "$(body "$r" | jq -r .startedAt)" \
	"$(jq -r .storage.lastGc.startedAt <<<"$status_body")"
r=$(api GET /v1/registry/gc)
check "GET /v1/registry/gc is METHOD_NOT_ALLOWED" '405 METHOD_NOT_ALLOWED' \
	"$(status "$r") $(body "$r" | jq -r .error.code)"
r=$(setpriv --reuid=nobody --regid=nogroup --clear-groups \
	curl -sS --unix-socket "$SOCK" -w '\n%{http_code}' -X POST http://agent/v1/registry/gc)
check "non-admin caller cannot start gc" '403 FORBIDDEN' "$(status "$r") $(body "$r" | jq -r .error.code)"

# --- rotate the password
r=$(api PUT /v1/registry '{"rotatePassword":true}')
new_password=$(api GET /v1/registry | sed '$d' | jq -r .password)
check "rotatePassword succeeds" 200 "$(status "$r")"
check "rotatePassword changes it" changed "$([ "$new_password" != "$password" ] && echo changed || echo same)"
check "old password fails after rotation" 401 "$(registry_status ase-ecr-user "$password")"
check "new password works after rotation" 200 "$(registry_status ase-ecr-user "$new_password")"
password=$new_password

# --- repair a deleted key file
rm -f "$STATE/registry/server.key"
r=$(api PUT /v1/registry)
check "PUT after key deletion succeeds" 200 "$(status "$r")"
check_match "PUT reports the repair" 'server.key is missing' "$(body "$r" | jq -r '.actions[]')"
check "key file is back" yes "$([ -s "$STATE/registry/server.key" ] && echo yes || echo no)"
check "registry answers after repair" 200 "$(registry_status ase-ecr-user "$password")"

# --- repair a deleted credentials file
rm -f "$STATE/registry/credentials"
r=$(api PUT /v1/registry)
check "PUT after credentials deletion succeeds" 200 "$(status "$r")"
check "credentials file is back" yes "$([ -s "$STATE/registry/credentials" ] && echo yes || echo no)"
check "password kept after credentials repair" "$password" "$(api GET /v1/registry | sed '$d' | jq -r .password)"
fingerprint=$(api GET /v1/registry | sed '$d' | jq -r .certificate.sha256Fingerprint)

# --- kill -9 the registry: a new one within 2 s
old_pid=$(registry_pid)
kill -KILL "$old_pid"
new_pid=
for ((i = 0; i < 20; i++)); do
	sleep 0.1
	new_pid=$(registry_pid)
	[ "$new_pid" != null ] && [ "$new_pid" != "$old_pid" ] && break
done
check "registry restarted within 2 s" restarted \
	"$([ "$new_pid" != null ] && [ "$new_pid" != "$old_pid" ] && echo restarted || echo "pid $new_pid")"
wait_registry_running 10
check "restarted registry answers" 200 "$(registry_status ase-ecr-user "$password")"
status_body=$(api GET /v1/status | sed '$d')
check "status counts the restart" 1 "$(jq -r .registry.restartCount <<<"$status_body")"
check "status shows the last exit" "killed by signal 9 (SIGKILL)" "$(jq -r .registry.lastExit <<<"$status_body")"

# --- a caller who is not root or in the admin group
r=$(setpriv --reuid=nobody --regid=nogroup --clear-groups \
	curl -sS --unix-socket "$SOCK" -w '\n%{http_code}' http://agent/v1/registry)
check "non-admin caller gets FORBIDDEN" '403 FORBIDDEN' "$(status "$r") $(body "$r" | jq -r .error.code)"

# --- bring your own certificate
byo=$DIR/byo
mkdir -p "$byo"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
	-subj /CN=byo-root -keyout "$byo/root.key" -out "$byo/root.crt" 2>/dev/null
make_leaf() { # NAME SAN: leaf signed by the BYO root
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$2" \
		-keyout "$byo/$1.key" -out "$byo/$1.csr" 2>/dev/null
	printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth\n' "$2" >"$byo/$1.ext"
	openssl x509 -req -in "$byo/$1.csr" -CA "$byo/root.crt" -CAkey "$byo/root.key" \
		-CAcreateserial -days 30 -extfile "$byo/$1.ext" -out "$byo/$1.crt" 2>/dev/null
}
byo_body() { # CHAIN KEY
	jq -n --rawfile chain "$1" --rawfile key "$2" \
		'{certificateChainPem: $chain, privateKeyPem: $key}'
}
make_leaf wrong "ecr.other.$DOMAIN"
cat "$byo/wrong.crt" "$byo/root.crt" >"$byo/wrong.chain"
r=$(api PUT /v1/registry "$(byo_body "$byo/wrong.chain" "$byo/wrong.key")")
check "BYO for another name is CERTIFICATE_INVALID" '400 CERTIFICATE_INVALID' \
	"$(status "$r") $(body "$r" | jq -r .error.code)"

make_leaf wild "*.$DEVICE.$DOMAIN"
r=$(api PUT /v1/registry "$(byo_body "$byo/wild.crt" "$byo/wild.key")")
check "BYO without its root is CERTIFICATE_INVALID" '400 CERTIFICATE_INVALID' \
	"$(status "$r") $(body "$r" | jq -r .error.code)"
r=$(api PUT /v1/registry "$(byo_body <(cat "$byo/wild.crt" "$byo/root.crt") "$byo/wrong.key")")
check "BYO with another key is CERTIFICATE_INVALID" '400 CERTIFICATE_INVALID' \
	"$(status "$r") $(body "$r" | jq -r .error.code)"
check "rejected BYO keeps the certificate" "$fingerprint" \
	"$(api GET /v1/registry | sed '$d' | jq -r .certificate.sha256Fingerprint)"

r=$(api PUT /v1/registry "$(byo_body <(cat "$byo/wild.crt" "$byo/root.crt") "$byo/wild.key")")
check "BYO wildcard certificate is accepted" 200 "$(status "$r")"
check "certificate source is provided" provided \
	"$(api GET /v1/registry | sed '$d' | jq -r .certificate.source)"
fetch_ca
check "ca.crt is the BYO root" "$(openssl x509 -noout -fingerprint -sha256 -in "$byo/root.crt")" \
	"$(openssl x509 -noout -fingerprint -sha256 -in "$DIR/ca.crt")"
check "registry serves the BYO certificate" 200 "$(registry_status ase-ecr-user "$password")"

r=$(api PUT /v1/registry '{"reissueCertificate":true}')
check "reissueCertificate goes back to issued" '200 issued' \
	"$(status "$r") $(api GET /v1/registry | sed '$d' | jq -r .certificate.source)"
fetch_ca
check "registry serves the reissued certificate" 200 "$(registry_status ase-ecr-user "$password")"
fingerprint=$(api GET /v1/registry | sed '$d' | jq -r .certificate.sha256Fingerprint)

# --- SIGHUP re-reads the configuration; the longer renewal window makes the
# 20-day certificate due, so the agent renews it without a request
sed -i 's/^certificate_validity_days = 20$/certificate_validity_days = 397/;
	s/^renew_before_days = 10$/renew_before_days = 30/' "$DIR/agent.conf"
kill -HUP "$AGENT_PID"
renewed=
for ((i = 0; i < 100; i++)); do
	renewed=$(api GET /v1/registry | sed '$d' | jq -r .certificate.sha256Fingerprint)
	[ "$renewed" != "$fingerprint" ] && break
	sleep 0.1
done
check "SIGHUP renews a certificate near expiry" renewed \
	"$([ "$renewed" != "$fingerprint" ] && echo renewed || echo unchanged)"
not_after=$(api GET /v1/registry | sed '$d' | jq -r .certificate.notAfter)
check "renewed certificate has the new validity" "$(date -u -d '+397 days' +%Y-%m-%d)" "${not_after%%T*}"
check_match "renewal is logged" 'renewal: the certificate expires within 30 days' "$(cat "$DIR/agent.log")"
check "registry serves the renewed certificate" 200 "$(registry_status ase-ecr-user "$password")"
fingerprint=$renewed

# --- the storage settings reach the registry's configuration
check "registry.conf has the daily gc" "gc_schedule = 03:00" \
	"$(grep '^gc_schedule' "$STATE/registry/registry.conf")"
printf 'registry_storage_limit = 10M\nregistry_gc_schedule =\n' >>"$DIR/agent.conf"
kill -HUP "$AGENT_PID"
limit=
for ((i = 0; i < 100; i++)); do
	limit=$(api GET /v1/status | sed '$d' | jq -r .storage.limitBytes)
	[ "$limit" = 10485760 ] && break
	sleep 0.1
done
check "registry_storage_limit reaches the status" 10485760 "$limit"
check "an empty registry_gc_schedule turns the daily gc off" "gc_schedule = " \
	"$(grep '^gc_schedule' "$STATE/registry/registry.conf")"

# --- SIGTERM stops agent and registry; a new agent restores both
reg_pid=$(registry_pid)
kill -TERM "$AGENT_PID"
wait "$AGENT_PID"
rc=$?
AGENT_PID=
check "agent exits 0 on SIGTERM" 0 "$rc"
check "SIGTERM stopped the registry" stopped "$(kill -0 "$reg_pid" 2>/dev/null && echo running || echo stopped)"

if start_agent && wait_registry_running 30; then
	ok "restarted agent brings the registry back"
else
	not_ok "restarted agent brings the registry back" "expected state running within 30 s"
fi
info=$(api GET /v1/registry | sed '$d')
check "restarted agent keeps the password" "$password" "$(jq -r .password <<<"$info")"
check "restarted agent keeps the certificate" "$fingerprint" "$(jq -r .certificate.sha256Fingerprint <<<"$info")"
check "registry answers after agent restart" 200 "$(registry_status ase-ecr-user "$password")"

# --- Remove
reg_pid=$(registry_pid)
r=$(api DELETE /v1/registry)
check "DELETE succeeds" '200 false false' \
	"$(status "$r") $(body "$r" | jq -r '"\(.enabled) \(.purged)"')"
check "DELETE stopped the registry" stopped "$(kill -0 "$reg_pid" 2>/dev/null && echo running || echo stopped)"
check "DELETE removed the credentials" gone \
	"$([ -e "$STATE/registry/credentials" ] || [ -e "$STATE/registry/password" ] && echo present || echo gone)"
check "DELETE kept the storage" kept "$([ -d "$STATE/storage" ] && echo kept || echo gone)"
check "GET after DELETE is disabled" false "$(api GET /v1/registry | sed '$d' | jq -r .enabled)"
r=$(api POST /v1/registry/gc)
check "gc while disabled is NOT_ENABLED" '409 NOT_ENABLED' "$(status "$r") $(body "$r" | jq -r .error.code)"
check "status while disabled has no storage" null "$(api GET /v1/status | sed '$d' | jq -r .storage)"
r=$(api DELETE '/v1/registry?purge=true')
check "DELETE with purge" '200 true' "$(status "$r") $(body "$r" | jq -r .purged)"
check "purge removed the storage" gone "$([ -d "$STATE/storage" ] && echo kept || echo gone)"

# --- the admin group: a second agent whose admin group is nogroup
kill -TERM "$AGENT_PID"
wait "$AGENT_PID"
AGENT_PID=
printf 'registry_port = %s\nregistry_binary = %s\nadmin_group = nogroup\n' \
	"$PORT" "$REGISTRY" >"$DIR/group.conf"
SOCK=$DIR/group.sock
"$AGENT" --config "$DIR/group.conf" --state-dir "$DIR/group-state" --socket "$SOCK" \
	>>"$DIR/agent.log" 2>&1 &
AGENT_PID=$!
for ((i = 0; i < 100; i++)); do
	[ -S "$SOCK" ] && break
	sleep 0.1
done
check "socket belongs to the admin group" "root:nogroup 660" "$(stat -c '%U:%G %a' "$SOCK")"
r=$(setpriv --reuid=nobody --regid=nogroup --clear-groups \
	curl -sS --unix-socket "$SOCK" -w '\n%{http_code}' http://agent/v1/status)
check "admin group member may call the API" 200 "$(status "$r")"

# --- a registry that never starts: Set returns 503 and the registry stays enabled
kill -TERM "$AGENT_PID"
wait "$AGENT_PID"
AGENT_PID=
printf 'registry_port = %s\nregistry_binary = /bin/false\nregistry_start_timeout_sec = 2\n' \
	"$PORT" >"$DIR/down.conf"
SOCK=$DIR/down.sock
"$AGENT" --config "$DIR/down.conf" --state-dir "$DIR/down-state" --socket "$SOCK" \
	>>"$DIR/agent.log" 2>&1 &
AGENT_PID=$!
for ((i = 0; i < 100; i++)); do
	[ -S "$SOCK" ] && break
	sleep 0.1
done
r=$(api PUT /v1/registry)
check "Set with a registry that never starts" "503 REGISTRY_UNAVAILABLE" \
	"$(status "$r") $(body "$r" | jq -r .error.code)"
check_match "the 503 says the registry stays enabled" "stays enabled" "$(body "$r" | jq -r .error.message)"
check "GET after the 503 reports it enabled" true \
	"$(api GET /v1/registry | sed '$d' | jq -r .enabled)"

# --- registry_user: a third agent runs the registry as a system user of its own
kill -TERM "$AGENT_PID"
wait "$AGENT_PID"
AGENT_PID=
SERVICE_USER=edgecr-t$$
if ! useradd --system --no-create-home --shell /usr/sbin/nologin "$SERVICE_USER"; then
	SERVICE_USER=
	echo "Bail out! useradd failed"
	exit 2
fi
service_uid=$(id -u "$SERVICE_USER")
service_gid=$(id -g "$SERVICE_USER")
# as_service_user COMMAND...: runs COMMAND with the service user's uid and gid only.
as_service_user() {
	setpriv --reuid="$service_uid" --regid="$service_gid" --clear-groups "$@"
}
# process_ids PID: prints the real, effective, saved and fs uids, then the gids.
process_ids() {
	awk '/^Uid:|^Gid:/ { printf "%s %s %s %s ", $2, $3, $4, $5 }' "/proc/$1/status"
}
expected_ids="$service_uid $service_uid $service_uid $service_uid $service_gid $service_gid $service_gid $service_gid "

SOCK=$DIR/user.sock
STATE=$DIR/user-state
# Images stored while the registry ran as root, before registry_user was set.
mkdir -p "$STATE/storage/from-root"
touch "$STATE/storage/from-root/blob"
printf 'registry_user = %s\n' "$SERVICE_USER" >>"$DIR/agent.conf"
if start_agent; then
	ok "agent with registry_user starts"
else
	not_ok "agent with registry_user starts" "expected $SOCK, agent exited or timed out"
	exit 1
fi
r=$(api PUT /v1/registry '{}')
check "PUT with registry_user succeeds" 200 "$(status "$r")"
password=$(api GET /v1/registry | sed '$d' | jq -r .password)
reg_pid=$(registry_pid)
check "registry runs as registry_user" "$expected_ids" "$(process_ids "$reg_pid")"
check "registry has no supplementary groups" "" \
	"$(awk '/^Groups:/ { $1 = ""; print substr($0, 2) }' "/proc/$reg_pid/status")"
fetch_ca
check "registry_user registry accepts the password" 200 "$(registry_status ase-ecr-user "$password")"

blob=$DIR/blob
printf 'edgecr registry_user test %s\n' "$$" >"$blob"
digest=sha256:$(sha256sum "$blob" | cut -d' ' -f1)
check "registry_user registry stores a blob" 201 \
	"$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$DIR/ca.crt" \
		--resolve "$NAME:$PORT:127.0.0.1" -u "ase-ecr-user:$password" \
		-X POST --data-binary "@$blob" -H 'Content-Type: application/octet-stream' \
		"https://$NAME:$PORT/v2/test/user/blobs/uploads/?digest=$digest")"
r=$(api POST /v1/registry/gc)
check "gc of a registry_user registry succeeds" 200 "$(status "$r")"
check "older storage content is handed over" "$SERVICE_USER" \
	"$(stat -c %U "$STATE/storage/from-root/blob")"
for file in registry.conf credentials server.key; do
	check "$file belongs to registry_user, 0600" "$SERVICE_USER 600" \
		"$(stat -c '%U %a' "$STATE/registry/$file")"
done
check "server.crt belongs to registry_user" "$SERVICE_USER" "$(stat -c %U "$STATE/registry/server.crt")"
for file in registry/password ca/ca.key agent.db; do
	check "$file stays root's, 0600" "root 600" "$(stat -c '%U %a' "$STATE/$file")"
	check "registry_user cannot read $file" denied \
		"$(as_service_user cat "$STATE/$file" >/dev/null 2>&1 && echo read || echo denied)"
done
check "registry_user cannot list the state folder" denied \
	"$(as_service_user ls "$STATE" >/dev/null 2>&1 && echo listed || echo denied)"

kill -KILL "$reg_pid"
new_pid=
for ((i = 0; i < 20; i++)); do
	sleep 0.1
	new_pid=$(registry_pid)
	[ "$new_pid" != null ] && [ "$new_pid" != "$reg_pid" ] && break
done
wait_registry_running 10
check "restarted registry runs as registry_user" "$expected_ids" "$(process_ids "$new_pid")"

r=$(api PUT /v1/registry '{"rotatePassword":true}')
new_password=$(api GET /v1/registry | sed '$d' | jq -r .password)
check "rotatePassword with registry_user succeeds" 200 "$(status "$r")"
check "registry_user registry rejects the old password" 401 "$(registry_status ase-ecr-user "$password")"
check "registry_user registry accepts the new password" 200 \
	"$(registry_status ase-ecr-user "$new_password")"
check "rotated credentials belong to registry_user" "$SERVICE_USER 600" \
	"$(stat -c '%U %a' "$STATE/registry/credentials")"
check "rotation kept the registry process" "$new_pid" "$(registry_pid)"

echo "# $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]

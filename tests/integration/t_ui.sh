#!/bin/bash
#
# Checks the web UI's part of edgecr-agent.  On the Unix socket: the status
# with storage, certificate downloads as PEM and DER, repositories with tags,
# and deleting a tag.  On the TCP listener (setting ui_listen): the login, Host
# and CSRF checks and the security headers.  Last, the page itself in headless
# Chromium (tests/integration/ui/browser_test.py).
#
# Environment:
#   EDGECR_AGENT      agent binary (default build/edgecr-agent)
#   EDGECR_REGISTRY   registry binary the agent starts (default build/edgecr-registry)
#   IT_KEEP=1         keep the temporary directory (screenshots in $DIR/shots)
#   UI_SKIP_BROWSER=1 skip the Chromium part
#
# Prints "ok - NAME" or "not ok - NAME: expected ..., got ..." per check and
# exits non-zero when a check failed.  Needs root, curl, jq, openssl, sha256sum
# and ss; the browser part needs Debian's chromium, chromium-driver and
# python3-selenium.  The registry and the UI listen on 127.0.0.1 in 26000-26999.

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

for tool in curl jq openssl sha256sum ss; do
	command -v "$tool" >/dev/null || { echo "Bail out! $tool not found"; exit 2; }
done
for binary in "$AGENT" "$REGISTRY"; do
	[ -x "$binary" ] || { echo "Bail out! $binary not found; build it first"; exit 2; }
done

DIR=$(mktemp -d /tmp/edgecr-ui-it-XXXXXX) || exit 2
SOCK=$DIR/agent.sock
STATE=$DIR/state

cleanup() {
	local rc=$?

	if [ -n "$AGENT_PID" ] && kill -0 "$AGENT_PID" 2>/dev/null; then
		kill -TERM "$AGENT_PID"
		wait "$AGENT_PID" 2>/dev/null
	fi
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
		port=$((26000 + RANDOM % 1000))
		if ! ss -Hltn "sport = :$port" | grep -q .; then
			echo "$port"
			return 0
		fi
	done
	echo "Bail out! no free port in 26000-26999" >&2
	exit 2
}
PORT=$(free_port)
UI_PORT=$(free_port)
[ "$UI_PORT" = "$PORT" ] && UI_PORT=$(free_port)
UI=http://127.0.0.1:$UI_PORT

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

# ui METHOD PATH [CURL ARGS...]: like api, on the TCP listener with the login.
ui() {
	local method=$1 path=$2

	shift 2
	curl -sS -u "ase-ecr-user:$PASSWORD" -X "$method" -w '\n%{http_code}' "$@" "$UI$path"
}

# reg METHOD PATH [CURL ARGS...]: a request to the registry as a client.
reg() {
	local method=$1 path=$2

	shift 2
	curl -sS --cacert "$DIR/ca.crt" --resolve "$NAME:$PORT:127.0.0.1" -u "ase-ecr-user:$PASSWORD" \
		-X "$method" "$@" "https://$NAME:$PORT$path"
}

# push_blob REPO FILE: uploads FILE in one PUT and prints its digest.
push_blob() {
	local digest location

	digest=sha256:$(sha256sum "$2" | cut -d' ' -f1)
	location=$(reg POST "/v2/$1/blobs/uploads/" -o /dev/null -D - |
		tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
	case $location in http*) ;; *) location=https://$NAME:$PORT$location ;; esac
	case $location in *\?*) location="$location&digest=$digest" ;; *) location="$location?digest=$digest" ;; esac
	curl -sS --cacert "$DIR/ca.crt" --resolve "$NAME:$PORT:127.0.0.1" -u "ase-ecr-user:$PASSWORD" \
		-X PUT -H 'Content-Type: application/octet-stream' --data-binary "@$2" -o /dev/null "$location"
	echo "$digest"
}

# push_image REPO TAG: pushes a one-layer OCI image and prints the manifest's HTTP status.
push_image() {
	local config layer manifest

	printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}' >"$DIR/config.json"
	head -c 4096 /dev/urandom | gzip -c >"$DIR/layer.tar.gz"
	config=$(push_blob "$1" "$DIR/config.json")
	layer=$(push_blob "$1" "$DIR/layer.tar.gz")
	manifest=$(jq -cn --arg c "$config" --argjson cs "$(stat -c %s "$DIR/config.json")" \
		--arg l "$layer" --argjson ls "$(stat -c %s "$DIR/layer.tar.gz")" \
		'{schemaVersion:2,mediaType:"application/vnd.oci.image.manifest.v1+json",
		  config:{mediaType:"application/vnd.oci.image.config.v1+json",digest:$c,size:$cs},
		  layers:[{mediaType:"application/vnd.oci.image.layer.v1.tar+gzip",digest:$l,size:$ls}]}')
	printf '%s' "$manifest" >"$DIR/manifest.json"
	reg PUT "/v2/$1/manifests/$2" -o /dev/null -w '%{http_code}' \
		-H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary "@$DIR/manifest.json"
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

cat >"$DIR/agent.conf" <<CONF
device_name = $DEVICE
dns_domain = $DOMAIN
registry_ip = 127.0.0.1
registry_port = $PORT
registry_binary = $REGISTRY
ui_listen = 127.0.0.1:$UI_PORT
ui_dir = $REPO/share/ui
log_level = info
CONF
export EDGECR_LOG=stderr

# --- configuration: ui_listen takes only loopback addresses
printf 'ui_listen = 0.0.0.0:%s\n' "$UI_PORT" >"$DIR/bad.conf"
out=$("$AGENT" --config "$DIR/bad.conf" --state-dir "$DIR/bad-state" --socket "$DIR/bad.sock" 2>&1)
check "non-loopback ui_listen exits 1" 1 "$?"
check_match "non-loopback ui_listen names the key" 'ui_listen' "$out"

if start_agent; then
	ok "agent starts with ui_listen"
else
	not_ok "agent starts with ui_listen" "agent exited or timed out"
	exit 1
fi

# --- before Set
r=$(api GET /v1/registry/ca.cer)
check "ca.cer before Set is NOT_ENABLED" '409 NOT_ENABLED' "$(status "$r") $(body "$r" | jq -r .error.code)"
r=$(curl -sS -o /dev/null -w '%{http_code}' -u ase-ecr-user:x "$UI/v1/status")
check "UI login fails before Set" 401 "$r"

r=$(api PUT /v1/registry '{}')
check "PUT /v1/registry enables the registry" 200 "$(status "$r")"
info=$(api GET /v1/registry | sed '$d')
PASSWORD=$(jq -r .password <<<"$info")
check "GET /v1/registry has storage.usedBytes" number "$(jq -r '.storage.usedBytes | type' <<<"$info")"
check "GET /v1/registry has storage.limitBytes" null "$(jq -r '.storage.limitBytes' <<<"$info")"

# --- certificate downloads
curl -sS --unix-socket "$SOCK" -D "$DIR/ca.headers" -o "$DIR/ca.crt" http://agent/v1/registry/ca.crt
check_match "ca.crt has a file name" 'Content-Disposition: attachment; filename="ecr.dev1.local-ca.crt"' "$(tr -d '\r' <"$DIR/ca.headers")"
check "ca.crt parses as PEM" 0 "$(openssl x509 -noout -in "$DIR/ca.crt" >/dev/null 2>&1; echo $?)"
curl -sS --unix-socket "$SOCK" -D "$DIR/cer.headers" -o "$DIR/ca.cer" http://agent/v1/registry/ca.cer
check_match "ca.cer is application/pkix-cert" 'Content-Type: application/pkix-cert' "$(tr -d '\r' <"$DIR/cer.headers")"
check_match "ca.cer has a .cer file name" 'filename="ecr.dev1.local-ca.cer"' "$(tr -d '\r' <"$DIR/cer.headers")"
check "ca.cer parses as DER" 0 "$(openssl x509 -inform DER -noout -in "$DIR/ca.cer" >/dev/null 2>&1; echo $?)"
check "ca.cer is the same certificate as ca.crt" \
	"$(openssl x509 -noout -fingerprint -sha256 -in "$DIR/ca.crt")" \
	"$(openssl x509 -inform DER -noout -fingerprint -sha256 -in "$DIR/ca.cer")"
curl -sS --unix-socket "$SOCK" -o "$DIR/server.cer" http://agent/v1/registry/server.cer
check "server.cer fingerprint matches the status" \
	"$(jq -r .certificate.sha256Fingerprint <<<"$info")" \
	"$(openssl x509 -inform DER -noout -fingerprint -sha256 -in "$DIR/server.cer" | cut -d= -f2)"
curl -sS --unix-socket "$SOCK" -o "$DIR/server.crt" http://agent/v1/registry/server.crt
check "server.crt parses as PEM" 0 "$(openssl x509 -noout -in "$DIR/server.crt" >/dev/null 2>&1; echo $?)"

# --- repositories
r=$(api GET /v1/registry/repositories)
check "empty registry lists no repositories" '200 0' "$(status "$r") $(body "$r" | jq '.repositories | length')"
check "push app/web:v1" 201 "$(push_image app/web v1)"
check "push app/web:v2" 201 "$(push_image app/web v2)"
check "push tools:latest" 201 "$(push_image tools latest)"
r=$(api GET /v1/registry/repositories)
repos=$(body "$r")
check "repositories lists both" 'app/web tools' "$(jq -r '[.repositories[].name] | sort | join(" ")' <<<"$repos")"
check "app/web has tags v1 and v2" 'v1 v2' "$(jq -r '.repositories[] | select(.name=="app/web") | [.tags[].tag] | sort | join(" ")' <<<"$repos")"
check_match "tag has a digest" '^sha256:[0-9a-f]{64}$' "$(jq -r '.repositories[] | select(.name=="tools") | .tags[0].digest' <<<"$repos")"
check "tag size is manifest, config and layer" \
	"$(( $(stat -c %s "$DIR/manifest.json") + $(stat -c %s "$DIR/config.json") + $(stat -c %s "$DIR/layer.tar.gz") ))" \
	"$(jq -r '.repositories[] | select(.name=="tools") | .tags[0].sizeBytes' <<<"$repos")"
check_match "tag has a push time" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$' \
	"$(jq -r '.repositories[] | select(.name=="tools") | .tags[0].pushedAt' <<<"$repos")"
check "listing is not truncated" false "$(jq -r .truncated <<<"$repos")"
r=$(api GET /v1/registry)
check_match "storage counts the pushed blobs" '^[1-9][0-9]*$' "$(body "$r" | jq -r .storage.usedBytes)"

# --- delete a tag
r=$(api DELETE /v1/registry/repositories/app/web/manifests/v1)
check "DELETE a tag on the socket" '200 true' "$(status "$r") $(body "$r" | jq -r .deleted)"
check "deleted tag is gone from the registry" 404 \
	"$(reg GET /v2/app/web/manifests/v1 -o /dev/null -w '%{http_code}' -H 'Accept: application/vnd.oci.image.manifest.v1+json')"
check "push app/web:v3" 201 "$(push_image app/web v3)"
digest=$(api GET /v1/registry/repositories | sed '$d' |
	jq -r '.repositories[] | select(.name=="app/web") | .tags[] | select(.tag=="v3") | .digest')
r=$(api DELETE "/v1/registry/repositories/app/web/manifests/$digest")
check "DELETE a manifest by digest" '200 true' "$(status "$r") $(body "$r" | jq -r .deleted)"
check "manifest deleted by digest is gone" 404 \
	"$(reg GET "/v2/app/web/manifests/$digest" -o /dev/null -w '%{http_code}' -H 'Accept: application/vnd.oci.image.manifest.v1+json')"
r=$(api DELETE /v1/registry/repositories/app/web/manifests/nope)
check "DELETE a missing tag is NOT_FOUND" '404 NOT_FOUND' "$(status "$r") $(body "$r" | jq -r .error.code)"
r=$(api DELETE '/v1/registry/repositories/App/manifests/v1')
check "DELETE with an invalid name is BAD_REQUEST" '400 BAD_REQUEST' "$(status "$r") $(body "$r" | jq -r .error.code)"

# --- the TCP listener: login, Host, CSRF, headers
check "UI without login is 401" 401 "$(curl -sS -o /dev/null -w '%{http_code}' "$UI/v1/status")"
check "UI with a wrong password is 401" 401 \
	"$(curl -sS -o /dev/null -w '%{http_code}' -u ase-ecr-user:wrong "$UI/v1/status")"
check_match "401 asks for Basic" 'WWW-Authenticate: Basic realm="edgecr"' \
	"$(curl -sS -o /dev/null -D - "$UI/" | tr -d '\r')"
r=$(ui GET /v1/status)
check "UI with the login serves the API" 200 "$(status "$r")"
check "UI rejects a foreign Host" 403 \
	"$(curl -sS -o /dev/null -w '%{http_code}' -u "ase-ecr-user:$PASSWORD" -H 'Host: evil.example' "$UI/v1/status")"
headers=$(curl -sS -o /dev/null -D - -u "ase-ecr-user:$PASSWORD" -H 'Accept-Language: pt-PT,pt;q=0.9,en;q=0.5' "$UI/" | tr -d '\r')
check_match "page has a CSP" "Content-Security-Policy: .*frame-ancestors 'none'" "$headers"
check_match "page has nosniff" 'X-Content-Type-Options: nosniff' "$headers"
check_match "page has X-Frame-Options" 'X-Frame-Options: DENY' "$headers"
check_match "page has Referrer-Policy" 'Referrer-Policy: no-referrer' "$headers"
check_match "API has no-store" 'Cache-Control: no-store' "$(curl -sS -o /dev/null -D - -u "ase-ecr-user:$PASSWORD" "$UI/v1/status" | tr -d '\r')"
check_match "Accept-Language pt picks Portuguese" '<html lang="pt">' \
	"$(curl -sS -u "ase-ecr-user:$PASSWORD" -H 'Accept-Language: pt-PT,pt;q=0.9,en;q=0.5' "$UI/")"
check_match "Accept-Language en picks English" '<html lang="en">' \
	"$(curl -sS -u "ase-ecr-user:$PASSWORD" -H 'Accept-Language: en-US,en;q=0.9' "$UI/")"
check "UI refuses a path outside the page" 404 \
	"$(curl -sS -o /dev/null -w '%{http_code}' --path-as-is -u "ase-ecr-user:$PASSWORD" "$UI/ui/../../etc/passwd")"

r=$(ui DELETE /v1/registry/repositories/app/web/manifests/v2)
check "UI DELETE without the custom header is refused" '403 CSRF_REJECTED' "$(status "$r") $(body "$r" | jq -r .error.code)"
r=$(ui DELETE /v1/registry/repositories/app/web/manifests/v2 -H 'X-Edgecr-Request: 1' -H 'Origin: http://evil.example')
check "UI DELETE with a foreign Origin is refused" '403 CSRF_REJECTED' "$(status "$r") $(body "$r" | jq -r .error.code)"
r=$(ui DELETE /v1/registry/repositories/app/web/manifests/v2 -H 'X-Edgecr-Request: 1' -H 'Sec-Fetch-Site: cross-site')
check "UI DELETE cross-site is refused" '403 CSRF_REJECTED' "$(status "$r") $(body "$r" | jq -r .error.code)"
r=$(ui PUT /v1/registry -H 'Content-Type: application/json' --data-binary '{}')
check "UI PUT without the custom header is refused" '403 CSRF_REJECTED' "$(status "$r") $(body "$r" | jq -r .error.code)"
r=$(ui POST /v1/registry/gc)
check "UI gc without the custom header is refused" '403 CSRF_REJECTED' "$(status "$r") $(body "$r" | jq -r .error.code)"
r=$(ui POST /v1/registry/gc -H 'X-Edgecr-Request: 1' -H "Origin: http://127.0.0.1:$UI_PORT")
check "UI gc from the same origin works" 200 "$(status "$r")"
gc_started=$(body "$r" | jq -r .startedAt)
r=$(ui GET /v1/status)
check "UI status shows that gc" "$gc_started" "$(body "$r" | jq -r .storage.lastGc.startedAt)"
r=$(ui GET /v1/registry/repositories)
check "refused DELETEs kept app/web:v2" v2 "$(body "$r" | jq -r '.repositories[] | select(.name=="app/web") | .tags[].tag')"
r=$(ui DELETE /v1/registry/repositories/tools/manifests/latest -H 'X-Edgecr-Request: 1' -H "Origin: http://127.0.0.1:$UI_PORT")
check "UI DELETE from the same origin works" 200 "$(status "$r")"

# --- the page in headless Chromium
if [ "${UI_SKIP_BROWSER:-0}" = 1 ]; then
	echo "# skipped the browser test (UI_SKIP_BROWSER=1)"
elif ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null ||
	! /usr/bin/python3 -c 'import selenium' 2>/dev/null; then
	not_ok "browser test" "needs chromium, chromium-driver and python3-selenium"
else
	mkdir -p "$DIR/shots"
	if out=$(/usr/bin/python3 tests/integration/ui/browser_test.py --url "$UI/" --user ase-ecr-user \
		--password "$PASSWORD" --endpoint "$NAME:$PORT" --repository app/web --tag v2 \
		--out "$DIR/shots" 2>&1); then
		ok "browser: page loads, downloads the CA and deletes a tag"
	else
		not_ok "browser: page loads, downloads the CA and deletes a tag" "$(tail -n 5 <<<"$out")"
	fi
	sed 's/^/# /' <<<"$out"
	cer=$(ls "$DIR/shots/downloads/"*.cer 2>/dev/null | head -n 1)
	check "browser download parses as DER" 0 \
		"$([ -n "$cer" ] && openssl x509 -inform DER -noout -in "$cer" >/dev/null 2>&1; echo $?)"
	r=$(api GET /v1/registry/repositories)
	check "browser deleted app/web:v2" '' "$(body "$r" | jq -r '.repositories[] | select(.name=="app/web") | .tags[].tag')"
	check "screenshot written" yes "$([ -s "$DIR/shots/page.png" ] && echo yes || echo no)"
	[ -n "${UI_SCREENSHOT:-}" ] && cp "$DIR/shots/page.png" "$UI_SCREENSHOT"
fi

echo "# $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]

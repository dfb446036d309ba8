#!/bin/bash
#
# Checks the image-pull secrets that edgecr-agent keeps in every Kubernetes
# namespace, against a real kube-apiserver (tests/kube), and the node trust
# files it writes.  The agent runs with a bearer-token kubeconfig, then a
# client-certificate one, then the in-cluster service-account files.
#
# Environment:
#   EDGECR_AGENT       agent binary (default build/edgecr-agent)
#   EDGECR_REGISTRY    registry binary the agent starts (default build/edgecr-registry)
#   EDGECR_KUBE_CACHE  build folder of tests/kube/kube-build.sh (default /var/cache/edgecr-kube);
#                      the script builds there when the programs are missing
#   EDGECR_KUBE_REQUIRED=1  fail, rather than skip the Kubernetes checks, when the rig cannot be built
#   IT_KEEP=1          keep the temporary directory
#
# Prints "ok - NAME" or "not ok - NAME: expected ..., got ..." per check and
# exits non-zero when a check failed.  Needs root, curl, jq, openssl, ss and,
# for the Kubernetes part, kubectl, etcd (etcd-server) and the rig's build
# tools (golang-go, make, dpkg-dev).  It writes to etcd directly (HTTP gateway)
# only to compact it for the 410 check.  Listens on 127.0.0.1 only: the registry
# on a free port in 21000-21499, kube-apiserver on 21643, etcd on 21379-21380.
# The trust files and the hosts file that the agent writes live in the
# temporary directory.
#
# The pull checks take the credentials from a provisioned secret and pull an
# image with them: ctr through the containerd hosts directory that the agent
# wrote, and docker with the decoded .dockerconfigjson as its config.json.
# They need containerd, ctr, skopeo, umoci and busybox-static (docker and
# dockerd for the docker part) and are skipped when those are missing.  For
# them the script starts a private containerd and dockerd under the temporary
# directory (lib.sh), adds "127.0.0.1 <endpoint name> # edgecr-it-PID" to
# /etc/hosts and copies the agent's docker CA folder to
# /etc/docker/certs.d/<endpoint>.  The EXIT trap removes both.

set -u
cd "$(dirname "$0")/../.." || exit 2
REPO=$(pwd)
# lib.sh starts containerd and dockerd, builds the OCI image and owns the
# /etc/hosts line.  This script keeps its own temporary directory and traps,
# so it does not call it_init, and cleanup() below calls it_cleanup.
. tests/integration/lib.sh

AGENT=${EDGECR_AGENT:-build/edgecr-agent}
REGISTRY=${EDGECR_REGISTRY:-build/edgecr-registry}
case $AGENT in /*) ;; *) AGENT=$REPO/$AGENT ;; esac
case $REGISTRY in /*) ;; *) REGISTRY=$REPO/$REGISTRY ;; esac
KUBE_CACHE=${EDGECR_KUBE_CACHE:-/var/cache/edgecr-kube}
API_PORT=21643
ETCD_PORT=21379
SECRET=ase-ecr-credentials
LABEL=app.kubernetes.io/managed-by

DEVICE=dev1
DOMAIN=local
NAME=ecr.$DEVICE.$DOMAIN
PASSED=0
FAILED=0
AGENT_PID=
RIG_UP=0

for tool in curl jq openssl ss; do
	command -v "$tool" >/dev/null || { echo "Bail out! $tool not found"; exit 2; }
done
for binary in "$AGENT" "$REGISTRY"; do
	[ -x "$binary" ] || { echo "Bail out! $binary not found; build it first"; exit 2; }
done

DIR=$(mktemp -d /tmp/edgecr-kube-it-XXXXXX) || exit 2
# What it_init would record: lib.sh's daemons and clean-up use this
# directory, and it_cleanup removes only the system paths that are new.
IT_DIR=$DIR
if [ -e /var/lib/containers ]; then IT_VARLIB_CACHE_EXISTED=1; else IT_VARLIB_CACHE_EXISTED=0; fi
for path in "${IT_SYSTEM_PATHS[@]}"; do
	[ -e "$path" ] || IT_SYSTEM_PATHS_NEW+=("$path")
done
SOCK=$DIR/agent.sock
STATE=$DIR/state
RIG=$DIR/rig
TRUST=$DIR/trust
export KUBECONFIG=$RIG/kubeconfig KUBECACHEDIR=$RIG/kube-cache

stop_agent() {
	if [ -n "$AGENT_PID" ] && kill -0 "$AGENT_PID" 2>/dev/null; then
		kill -TERM "$AGENT_PID"
		wait "$AGENT_PID" 2>/dev/null
	fi
	AGENT_PID=
}

cleanup() {
	local rc=$?

	stop_agent
	[ "$RIG_UP" = 1 ] && tests/kube/kube-down.sh "$RIG"
	# it_cleanup stops containerd and dockerd, removes the /etc/hosts line and
	# the certs.d folder, unmounts what containerd mounted, removes $DIR
	# (unless IT_KEEP=1) and exits with the status it finds in $?.
	(exit "$rc")
	it_cleanup
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
	local port i

	for ((i = 0; i < 200; i++)); do
		port=$((21000 + RANDOM % 500))
		if ! ss -Hltn "sport = :$port" | grep -q .; then
			echo "$port"
			return 0
		fi
	done
	echo "Bail out! no free port in 21000-21499" >&2
	exit 2
}
PORT=$(free_port)
ENDPOINT=$NAME:$PORT

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

api() {
	local args=(-sS --unix-socket "$SOCK" -X "$1")

	[ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
	curl "${args[@]}" "http://agent$2"
}

start_agent() {  # extra arguments go to the agent
	"$AGENT" --config "$DIR/agent.conf" --state-dir "$STATE" --socket "$SOCK" "$@" \
		>>"$DIR/agent.log" 2>&1 &
	AGENT_PID=$!
	for ((i = 0; i < 100; i++)); do
		[ -S "$SOCK" ] && return 0
		kill -0 "$AGENT_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# wait_for SECONDS COMMAND...: runs COMMAND every 0.1 s until it succeeds.
wait_for() {
	local tenths=$(($1 * 10)) i

	shift
	for ((i = 0; i < tenths; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

secrets_state() { api GET /v1/status | jq -r .kubernetesSecrets.state; }
state_is() { [ "$(secrets_state)" = "$1" ]; }

# The .dockerconfigjson the secrets must hold, from GET /v1/registry, sorted.
expected_config() {
	api GET /v1/registry | jq -S -c '{auths: {(.endpoint): {username, password,
		auth: ("\(.username):\(.password)" | @base64)}}}'
}

# secret_config NS: the decoded .dockerconfigjson of NS's secret, sorted, or "".
secret_config() {
	kubectl get secret -n "$1" "$SECRET" -o json 2>/dev/null |
		jq -r '.data[".dockerconfigjson"] // empty' | base64 -d 2>/dev/null | jq -S -c . 2>/dev/null
}

secret_is_current() { [ "$(secret_config "$1")" = "$(expected_config)" ]; }
secret_absent() { ! kubectl get secret -n "$1" "$SECRET" >/dev/null 2>&1; }
secret_uid() { kubectl get secret -n "$1" "$SECRET" -o jsonpath='{.metadata.uid}' 2>/dev/null; }
uid_changed() { local u; u=$(secret_uid "$1"); [ -n "$u" ] && [ "$u" != "$2" ]; }

registry_status() {  # USER PASSWORD: HTTP status of GET /v2/ through the endpoint
	curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$DIR/ca.crt" \
		--resolve "$ENDPOINT:127.0.0.1" -u "$1:$2" "https://$ENDPOINT/v2/"
}

# --- configuration: node trust into the temporary directory
mkdir -p "$TRUST"
printf '127.0.0.1\tlocalhost\n::1 ip6-localhost # kept\n192.0.2.1 other.example\n' >"$TRUST/hosts"
cp "$TRUST/hosts" "$DIR/hosts.orig"
cat >"$DIR/agent.conf" <<EOF
device_name = $DEVICE
dns_domain = $DOMAIN
registry_ip = 127.0.0.1
registry_port = $PORT
registry_binary = $REGISTRY
node_trust = true
trust_containerd_dir = $TRUST/containerd
trust_docker_dir = $TRUST/docker
hosts_file = $TRUST/hosts
EOF
export EDGECR_LOG=stderr

# --- node trust and the status without a kubeconfig
if start_agent; then
	ok "agent starts without kubeconfig"
else
	not_ok "agent starts without kubeconfig" "agent exited or timed out"
	exit 1
fi
check "secrets disabled without kubeconfig" disabled "$(secrets_state)"
check "Set answers enabled" true "$(api PUT /v1/registry | jq -r .enabled)"
api GET /v1/registry/ca.crt >"$DIR/ca.crt"
check "GET shows secrets disabled" disabled "$(api GET /v1/registry | jq -r .kubernetesSecrets.state)"

toml_dir=$TRUST/containerd/$ENDPOINT
expected_toml="# Written by edgecr-agent; it replaces this file on each Set.
server = \"https://$ENDPOINT\"

[host.\"https://$ENDPOINT\"]
  capabilities = [\"pull\", \"resolve\"]
  ca = \"$toml_dir/ca.crt\""
check "hosts.toml content" "$expected_toml" "$(cat "$toml_dir/hosts.toml" 2>&1)"
check "containerd ca.crt is the registry CA" same \
	"$(cmp -s "$DIR/ca.crt" "$toml_dir/ca.crt" && echo same || echo differs)"
check "docker ca.crt is the registry CA" same \
	"$(cmp -s "$DIR/ca.crt" "$TRUST/docker/$ENDPOINT/ca.crt" && echo same || echo differs)"
check "hosts file keeps other lines and adds the endpoint" \
	"$(cat "$DIR/hosts.orig")
127.0.0.1 $NAME # edgecr" "$(cat "$TRUST/hosts")"
password=$(api GET /v1/registry | jq -r .password)
check "registry answers through the trusted CA" 200 "$(registry_status ase-ecr-user "$password")"
stop_agent

# --- the Kubernetes rig
rig_ready=0
if ! command -v kubectl >/dev/null || ! command -v etcd >/dev/null; then
	skip_reason="kubectl or etcd not installed"
elif ss -Hltn "sport = :$API_PORT" | grep -q . || ss -Hltn "sport = :$ETCD_PORT" | grep -q .; then
	skip_reason="port $API_PORT or $ETCD_PORT is in use"
elif ! tests/kube/kube-build.sh "$KUBE_CACHE" >"$DIR/kube-build.log" 2>&1; then
	skip_reason="tests/kube/kube-build.sh failed; see its log"
	tail -n 5 "$DIR/kube-build.log" | sed 's/^/#   /'
elif ! tests/kube/kube-up.sh "$RIG" "$KUBE_CACHE/bin" "$API_PORT" "$ETCD_PORT" >"$DIR/kube-up.log" 2>&1; then
	RIG_UP=1
	skip_reason="tests/kube/kube-up.sh failed"
	tail -n 5 "$DIR/kube-up.log" | sed 's/^/#   /'
else
	RIG_UP=1
	rig_ready=1
fi
if [ "$rig_ready" = 0 ]; then
	if [ "${EDGECR_KUBE_REQUIRED:-0}" = 1 ]; then
		not_ok "kubernetes rig starts" "$skip_reason"
	else
		echo "ok - kubernetes checks # SKIP $skip_reason"
	fi
	echo "# $PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
	exit
fi
ok "kubernetes rig starts"

kubectl create namespace team-a >/dev/null
# A secret of that name that edgecr did not create, present before the agent.
kubectl create namespace foreign >/dev/null
kubectl create secret generic "$SECRET" -n foreign --from-literal=owner=someone-else >/dev/null

# --- bearer-token kubeconfig (config key)
echo "kubeconfig = $RIG/kubeconfig" >>"$DIR/agent.conf"
start_agent || { not_ok "agent starts with kubeconfig" "agent exited or timed out"; exit 1; }
if wait_for 15 state_is synced; then ok "secrets synced after start"; else
	not_ok "secrets synced after start" "expected synced, got $(secrets_state)"; fi
for ns in default team-a; do
	check "secret in $ns has the registry credentials" "$(expected_config)" "$(secret_config "$ns")"
done
check "secret type" kubernetes.io/dockerconfigjson \
	"$(kubectl get secret -n default "$SECRET" -o jsonpath='{.type}')"
check "secret managed-by label" edgecr \
	"$(kubectl get secret -n default "$SECRET" -o json | jq -r --arg l "$LABEL" '.metadata.labels[$l]')"
check "auth is base64 of user:password" "ase-ecr-user:$(api GET /v1/registry | jq -r .password)" \
	"$(secret_config default | jq -r '.auths[].auth' | base64 -d)"
check "skipped namespace has no secret" yes "$(secret_absent kube-system && echo yes || echo no)"
check "unmanaged secret is left alone" someone-else \
	"$(kubectl get secret -n foreign "$SECRET" -o jsonpath='{.data.owner}' | base64 -d)"
check "unmanaged secret is reported" '["foreign"]' \
	"$(api GET /v1/registry | jq -c .kubernetesSecrets.unmanagedConflicts)"
check "namespaces counted" 2 "$(api GET /v1/status | jq -r .kubernetesSecrets.namespaces)"

start=$(date +%s%N)
kubectl create namespace team-new >/dev/null
if wait_for 2 secret_is_current team-new; then
	ok "new namespace gets the secret within 2 s ($((($(date +%s%N) - start) / 1000000)) ms)"
else
	not_ok "new namespace gets the secret within 2 s" "expected the secret, got '$(secret_config team-new)'"
fi

uid=$(secret_uid team-a)
kubectl delete secret -n team-a "$SECRET" >/dev/null
if wait_for 5 uid_changed team-a "$uid" && secret_is_current team-a; then
	ok "deleted managed secret comes back"
else
	not_ok "deleted managed secret comes back" "expected a new secret, got uid '$(secret_uid team-a)'"
fi

kubectl patch secret -n team-a "$SECRET" -p '{"data":{".dockerconfigjson":"e30="}}' >/dev/null
sleep 0.2
if wait_for 5 secret_is_current team-a; then ok "altered managed secret is restored"; else
	not_ok "altered managed secret is restored" "expected the credentials, got '$(secret_config team-a)'"; fi

api PUT /v1/registry '{"rotatePassword":true}' >/dev/null
MANAGED_NS="default team-a team-new"
all_current() {
	local ns

	for ns in $MANAGED_NS; do
		secret_is_current "$ns" || return 1
	done
}
if wait_for 5 all_current; then ok "rotation updates every secret"; else
	not_ok "rotation updates every secret" "expected $(expected_config), got $(secret_config default)"; fi

kubectl delete namespace team-new --wait=false >/dev/null
MANAGED_NS="default team-a"
count_is() { [ "$(api GET /v1/status | jq -r .kubernetesSecrets.namespaces)" = "$1" ]; }
if wait_for 5 count_is 2 && state_is synced; then ok "deleted namespace leaves the count, no error"; else
	not_ok "deleted namespace leaves the count, no error" "expected synced with 2, got $(api GET /v1/status | jq -c .kubernetesSecrets)"; fi

# --- pull with the secret's credentials through the agent's trust files
# The registry part of the image reference is the secret's auths key, so that
# name must resolve.  The agent wrote its hosts line to $TRUST/hosts, so the
# test adds one to /etc/hosts.
pull_tools_missing=
for tool in containerd ctr skopeo umoci; do
	command -v "$tool" >/dev/null || pull_tools_missing="$pull_tools_missing $tool"
done
[ -x /bin/busybox ] || pull_tools_missing="$pull_tools_missing busybox-static"
if [ -n "$pull_tools_missing" ]; then
	echo "ok - pull with the secret's credentials # SKIP not installed:$pull_tools_missing"
else
	IT_HOSTNAME=$NAME
	it_hosts_add
	secret_json=$(secret_config team-a)
	pull_user=$(jq -r --arg e "$ENDPOINT" '.auths[$e].username // empty' <<<"$secret_json")
	pull_pass=$(jq -r --arg e "$ENDPOINT" '.auths[$e].password // empty' <<<"$secret_json")
	check "secret names the endpoint" "$ENDPOINT" "$(jq -r '.auths | keys | join(",")' <<<"$secret_json")"
	image=$ENDPOINT/kube/trust:v1

	# Push with skopeo, trusting the CA file that the agent wrote for docker.
	layout=$DIR/oci
	if it_build_oci_layout "$layout" v1 0 amd64 >"$DIR/umoci.log" 2>&1; then
		ok "build OCI image"
	else
		not_ok "build OCI image" "umoci failed: $(tail -n 3 "$DIR/umoci.log")"
	fi
	pushed_digest=$(it_oci_layout_digest "$layout" v1)
	if skopeo copy --dest-cert-dir "$TRUST/docker/$ENDPOINT" --dest-creds "$pull_user:$pull_pass" \
		"oci:$layout:v1" "docker://$image" >"$DIR/skopeo.log" 2>&1; then
		ok "skopeo push with the secret's credentials"
	else
		not_ok "skopeo push with the secret's credentials" "$(tail -n 3 "$DIR/skopeo.log")"
	fi

	# ctr pull through the agent's hosts.toml and ca.crt.  The tag exists, so
	# containerd 1.6.20 resolves it at the host entry that names the CA and
	# does not try the server entry, which has no CA.
	it_containerd_start
	ctr_cmd=("${IT_CTR[@]}")
	if "${ctr_cmd[@]}" images pull --user "$pull_user:wrong-$pull_pass" --hosts-dir "$TRUST/containerd" \
		"$image" >"$DIR/ctr-wrong.log" 2>&1; then
		not_ok "ctr pull with a wrong password is rejected" "pull succeeded"
	else
		ok "ctr pull with a wrong password is rejected"
	fi
	check "ctr wrong password reports 401" yes \
		"$(grep -q '401 Unauthorized' "$DIR/ctr-wrong.log" && echo yes || echo no)"
	if "${ctr_cmd[@]}" images pull --user "$pull_user:$pull_pass" "$image" >"$DIR/ctr-noca.log" 2>&1; then
		not_ok "ctr pull without the hosts directory is rejected" "pull succeeded"
	else
		ok "ctr pull without the hosts directory is rejected"
	fi
	check "ctr without the CA reports x509" yes \
		"$(grep -q 'x509: certificate signed by unknown authority' "$DIR/ctr-noca.log" && echo yes || echo no)"
	if "${ctr_cmd[@]}" images pull --hosts-dir "$TRUST/containerd" --user "$pull_user:$pull_pass" \
		"$image" >"$DIR/ctr-pull.log" 2>&1; then
		ok "ctr pull with the secret and the agent's hosts directory"
	else
		not_ok "ctr pull with the secret and the agent's hosts directory" "$(tail -n 3 "$DIR/ctr-pull.log")"
	fi
	check "ctr pulled the pushed digest" "$pushed_digest" \
		"$("${ctr_cmd[@]}" images ls name=="$image" 2>/dev/null | awk 'NR == 2 { print $3 }')"

	# docker reads the decoded .dockerconfigjson as its config.json, which has
	# the same format.  dockerd 20.10 treats every registry on 127.0.0.0/8 as
	# insecure and skips certificate verification, so this part proves the
	# credentials only, not the TLS trust.
	if command -v dockerd >/dev/null && command -v docker >/dev/null; then
		REG_CA_DIR=$TRUST/docker/$ENDPOINT
		it_docker_trust "$ENDPOINT"
		it_dockerd_start
		printf '%s\n' "$secret_json" >"$DOCKER_CONFIG/config.json"
		if docker pull "$image" >"$DIR/docker-pull.log" 2>&1; then
			ok "docker pull with the secret as config.json (loopback, TLS not verified)"
		else
			not_ok "docker pull with the secret as config.json (loopback, TLS not verified)" \
				"$(tail -n 3 "$DIR/docker-pull.log")"
		fi
		check "docker pulled the pushed digest" "$ENDPOINT/kube/trust@$pushed_digest" \
			"$(docker image inspect --format '{{index .RepoDigests 0}}' "$image" 2>&1)"
		docker image rm "$image" >/dev/null 2>&1
		echo '{"auths":{}}' >"$DOCKER_CONFIG/config.json"
		# After the 401 over HTTPS, dockerd logs "no basic auth credentials"
		# and tries plain HTTP because the registry counts as insecure, so the
		# client prints that attempt's EOF and the cause is in dockerd's log.
		if docker pull "$image" >"$DIR/docker-noauth.log" 2>&1; then
			not_ok "docker pull without credentials fails" "pull succeeded"
		else
			ok "docker pull without credentials fails"
		fi
		check "dockerd logs missing credentials" yes \
			"$(grep -q 'no basic auth credentials' "$IT_DOCKERD_LOG" && echo yes || echo no)"
	else
		echo "ok - docker pull with the secret # SKIP docker or dockerd not installed"
	fi
	it_hosts_remove
fi

# --- API server stopped, then back
tests/kube/kube-down.sh "$RIG" apiserver
api PUT /v1/registry '{"rotatePassword":true}' >/dev/null
password=$(api GET /v1/registry | jq -r .password)
check "registry serves while the API server is down" 200 "$(registry_status ase-ecr-user "$password")"
if wait_for 15 state_is pending; then ok "status pending while the API server is down"; else
	not_ok "status pending while the API server is down" "expected pending, got $(secrets_state)"; fi
last_error=$(api GET /v1/status | jq -r .kubernetesSecrets.lastError)
case $last_error in
*127.0.0.1:$API_PORT*) ok "status names the last error" ;;
*) not_ok "status names the last error" "expected an error naming 127.0.0.1:$API_PORT, got '$last_error'" ;;
esac
tests/kube/kube-up.sh "$RIG" "$KUBE_CACHE/bin" "$API_PORT" "$ETCD_PORT" >>"$DIR/kube-up.log" 2>&1
if wait_for 20 state_is synced && all_current; then ok "catches up when the API server is back"; else
	not_ok "catches up when the API server is back" "expected synced and current, got $(secrets_state) $(secret_config default)"; fi

# --- API server down when the agent starts, then started
registry_answers() { [ "$(registry_status ase-ecr-user "$password")" = 200 ]; }
stop_agent
tests/kube/kube-down.sh "$RIG" apiserver
if start_agent; then ok "agent starts while the API server is down"; else
	not_ok "agent starts while the API server is down" "agent exited or timed out"; exit 1; fi
if wait_for 15 registry_answers; then ok "registry serves after a start without the API server"; else
	not_ok "registry serves after a start without the API server" "expected 200, got $(registry_status ase-ecr-user "$password")"; fi
if wait_for 15 state_is pending; then ok "pending after a start without the API server"; else
	not_ok "pending after a start without the API server" "expected pending, got $(secrets_state)"; fi
tests/kube/kube-up.sh "$RIG" "$KUBE_CACHE/bin" "$API_PORT" "$ETCD_PORT" >>"$DIR/kube-up.log" 2>&1
if wait_for 20 state_is synced && all_current; then ok "synced once the API server starts"; else
	not_ok "synced once the API server starts" "expected synced and current, got $(secrets_state) $(secret_config default)"; fi

# --- a watch that resumes from a compacted resourceVersion gets 410 Gone and lists again
etcd_api() { curl -sS -X POST "http://127.0.0.1:$ETCD_PORT/v3/kv/$1" -d "$2"; }
tests/kube/kube-down.sh "$RIG" apiserver
for i in 1 2 3; do  # raise etcd's revision past the agent's watch, then compact
	etcd_api put '{"key":"ZWRnZWNyLXQta3ViZQ==","value":"eA=="}' >/dev/null
done
revision=$(etcd_api range '{"key":"AA=="}' | jq -r .header.revision)
etcd_api compaction "{\"revision\":\"$revision\",\"physical\":true}" >/dev/null
tests/kube/kube-up.sh "$RIG" "$KUBE_CACHE/bin" "$API_PORT" "$ETCD_PORT" >>"$DIR/kube-up.log" 2>&1
relisted() { grep -q "resourceVersion expired (410 Gone); listing again" "$DIR/agent.log"; }
if wait_for 20 relisted && wait_for 10 state_is synced; then ok "410 Gone leads to a relist"; else
	not_ok "410 Gone leads to a relist" "expected the relist in the log and synced, got $(secrets_state)"; fi
kubectl create namespace team-after >/dev/null
if wait_for 5 secret_is_current team-after; then ok "watch works after the relist"; else
	not_ok "watch works after the relist" "got '$(secret_config team-after)'"; fi
MANAGED_NS="default team-a team-after"
stop_agent

# --- client-certificate kubeconfig (--kubeconfig overrides the key)
start_agent --kubeconfig "$RIG/kubeconfig-cert" || { not_ok "agent starts with kubeconfig-cert" "agent exited"; exit 1; }
kubectl create namespace team-cert >/dev/null
if wait_for 5 secret_is_current team-cert; then ok "client certificate: new namespace gets the secret"; else
	not_ok "client certificate: new namespace gets the secret" "got '$(secret_config team-cert)'"; fi
if wait_for 5 state_is synced; then ok "client certificate: synced"; else
	not_ok "client certificate: synced" "expected synced, got $(secrets_state)"; fi
stop_agent

# --- in-cluster service-account files
mkdir -p "$DIR/sa"
cp "$RIG/admin.token" "$DIR/sa/token"
cp "$RIG/pki/apiserver.crt" "$DIR/sa/ca.crt"
printf 'kube_serviceaccount_dir = %s\n' "$DIR/sa" >>"$DIR/agent.conf"
KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT=$API_PORT \
	start_agent --kubeconfig in-cluster || { not_ok "agent starts in-cluster" "agent exited"; exit 1; }
uid=$(secret_uid team-cert)
kubectl delete secret -n team-cert "$SECRET" >/dev/null
if wait_for 5 uid_changed team-cert "$uid"; then ok "in-cluster: deleted secret comes back"; else
	not_ok "in-cluster: deleted secret comes back" "got uid '$(secret_uid team-cert)'"; fi

# --- endpoint change and a longer skip list (SIGHUP)
old_toml_dir=$toml_dir
sed -i "s/^dns_domain = .*/dns_domain = example.test/" "$DIR/agent.conf"
echo "kube_skip_namespaces = kube-system,kube-public,kube-node-lease,team-after" >>"$DIR/agent.conf"
NAME=ecr.$DEVICE.example.test
ENDPOINT=$NAME:$PORT
toml_dir=$TRUST/containerd/$ENDPOINT
kill -HUP "$AGENT_PID"
endpoint_moved() { secret_is_current default && secret_is_current team-cert && [ -f "$toml_dir/hosts.toml" ]; }
if wait_for 15 endpoint_moved; then ok "endpoint change updates the secrets"; else
	not_ok "endpoint change updates the secrets" "expected auths for $ENDPOINT, got $(secret_config default)"; fi
if wait_for 5 secret_absent team-after; then ok "skipped namespace loses its managed secret"; else
	not_ok "skipped namespace loses its managed secret" "got '$(secret_config team-after)'"; fi
check "endpoint change moves the containerd folder" gone "$([ -e "$old_toml_dir" ] && echo present || echo gone)"
check "endpoint change rewrites the hosts line" "$(cat "$DIR/hosts.orig")
127.0.0.1 $NAME # edgecr" "$(cat "$TRUST/hosts")"

# --- Remove takes everything back
api DELETE /v1/registry >/dev/null
all_gone() { secret_absent default && secret_absent team-a && secret_absent team-cert && secret_absent team-after; }
if wait_for 5 all_gone; then ok "Remove deletes the managed secrets"; else
	not_ok "Remove deletes the managed secrets" "expected none, got $(kubectl get secrets -A --field-selector metadata.name=$SECRET -o name | tr '\n' ' ')"; fi
check "Remove keeps the unmanaged secret" someone-else \
	"$(kubectl get secret -n foreign "$SECRET" -o jsonpath='{.data.owner}' | base64 -d)"
if wait_for 5 state_is disabled; then ok "status disabled after Remove"; else
	not_ok "status disabled after Remove" "expected disabled, got $(secrets_state)"; fi
check "Remove deletes the containerd folder" gone "$([ -e "$toml_dir" ] && echo present || echo gone)"
check "Remove deletes the docker folder" gone "$([ -e "$TRUST/docker/$ENDPOINT" ] && echo present || echo gone)"
check "Remove restores the hosts file" "$(cat "$DIR/hosts.orig")" "$(cat "$TRUST/hosts")"

echo "# $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]

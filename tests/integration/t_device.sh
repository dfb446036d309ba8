#!/bin/bash
#
# The device flow end to end: edgecr-agent with a temporary state directory
# supervises edgecr-registry on 127.0.0.1, and the device cmdlets drive it.
# Set- enables the registry, Get- prints the credentials, and docker logs in,
# pushes, pulls and runs an image with them.  skopeo and curl check TLS
# against the CA that the agent issued.  Then: Set- is idempotent,
# -RotatePassword replaces the password, a killed registry is restarted,
# callers outside the admin group and certificates that do not cover the
# endpoint are rejected, a restarted agent keeps everything, messages are
# translated, and Remove- stops the registry.
#
# Environment (paths relative to the repository root unless absolute):
#   EDGECR_AGENT       default build/edgecr-agent
#   EDGECR_REGISTRY    default build/edgecr-registry
#   EDGECR_CMDLET_DIR  folder with the cmdlet symlinks and locale/ (default build)

. "$(dirname "$0")/lib.sh"

# The agent builds the endpoint name as ecr.<device_name>.<dns_domain>.
DEVICE_NAME=testdev
DNS_DOMAIN=test.local
IT_HOSTNAME=ecr.$DEVICE_NAME.$DNS_DOMAIN
# Registry ports reserved to this test.
IT_PORT_MIN=18000
IT_PORT_MAX=18999

# Maximum time between kill -9 of the registry and its new process.
RESTART_MAX_SECONDS=2

SET_CMDLET=Set-HcsKubernetesContainerRegistry
GET_CMDLET=Get-HcsKubernetesContainerRegistryInfo
REMOVE_CMDLET=Remove-HcsKubernetesContainerRegistry

# Prints the absolute form of a path given relative to the repository root.
dev_path() {
    case $1 in
    /*) echo "$1" ;;
    *) echo "$IT_REPO_ROOT/$1" ;;
    esac
}

AGENT_BIN=$(dev_path "${EDGECR_AGENT:-build/edgecr-agent}")
REGISTRY_BIN=$(dev_path "${EDGECR_REGISTRY:-build/edgecr-registry}")
CMDLET_DIR=$(dev_path "${EDGECR_CMDLET_DIR:-build}")

# --- Helpers -----------------------------------------------------------------

# Runs a cmdlet in English and sets DEV_RC, DEV_OUT (stdout, byte for byte
# in DEV_OUT_FILE) and DEV_ERR (stderr).
dev_cmdlet() {
    local name=$1
    shift

    env LANGUAGE= LC_ALL=C.UTF-8 "$CMDLET_DIR/$name" "$@" \
        >"$IT_DIR/cmdlet.out" 2>"$IT_DIR/cmdlet.err"
    DEV_RC=$?
    DEV_OUT_FILE=$IT_DIR/cmdlet.out
    DEV_OUT=$(cat "$IT_DIR/cmdlet.out")
    DEV_ERR=$(cat "$IT_DIR/cmdlet.err")
}

# Passes when the last cmdlet exited 0.
dev_expect_success() {
    local name=$1

    if [ "$DEV_RC" -eq 0 ]; then
        it_ok "$name"
        return 0
    fi
    it_not_ok "$name" "expected exit 0, got $DEV_RC" "$DEV_ERR"
    return 1
}

# Passes when the last cmdlet failed with exactly one line on stderr that
# matches PATTERN.
dev_expect_one_line_failure() {
    local name=$1 pattern=$2 lines

    lines=$(printf '%s\n' "$DEV_ERR" | grep -c .)
    if [ "$DEV_RC" -eq 0 ]; then
        it_not_ok "$name" "expected a non-zero exit, got 0" "$DEV_OUT"
    elif [ "$lines" -ne 1 ]; then
        it_not_ok "$name" "expected one line on stderr, got $lines" "$DEV_ERR"
    elif ! printf '%s' "$DEV_ERR" | grep -Eq -- "$pattern"; then
        it_not_ok "$name" "expected stderr to match /$pattern/, got '$DEV_ERR'"
    else
        it_ok "$name"
        return 0
    fi
    return 1
}

dev_max() {
    echo $(($1 > $2 ? $1 : $2))
}

# Sends GET PATH to the agent API and prints the body.
dev_api_get() {
    curl -sS --fail --unix-socket "$AGENT_SOCKET" "http://localhost$1"
}

# Prints the PID of the registry that the agent supervises, or nothing.
dev_registry_pid() {
    dev_api_get /v1/registry 2>/dev/null | jq -r '.registry.pid // empty' 2>/dev/null
}

# Prints the HTTP status of GET /v2/ over TLS verified against CA_FILE
# (default: the device CA) with USER:PASSWORD (no credentials when empty), or
# 000 when the connection or the verification fails.
dev_v2_status() {
    local credentials=$1 ca_file=${2:-$CA_DIR/ca.crt}

    curl --http1.1 -s -o /dev/null -w '%{http_code}' --max-time 10 \
        --cacert "$ca_file" --resolve "$IT_HOSTNAME:$REG_PORT:127.0.0.1" \
        ${credentials:+-u "$credentials"} "https://$ENDPOINT/v2/"
}

# Waits up to SECONDS for GET /v2/ with the current credentials to return 200.
dev_wait_registry() {
    local seconds=$1 i

    for ((i = 0; i < seconds * 10; i++)); do
        if [ "$(dev_v2_status "$REG_USER:$REG_PASS")" = 200 ]; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# Reads the values that Get- -Json prints into INFO_JSON, ENDPOINT, REG_IP,
# REG_USER and REG_PASS.  Returns 1 when Get- fails.
dev_read_info() {
    dev_cmdlet "$GET_CMDLET" -Json
    [ "$DEV_RC" -eq 0 ] || return 1
    INFO_JSON=$DEV_OUT
    ENDPOINT=$(printf '%s' "$INFO_JSON" | jq -r .Endpoint)
    REG_IP=$(printf '%s' "$INFO_JSON" | jq -r .IPAddress)
    REG_USER=$(printf '%s' "$INFO_JSON" | jq -r .Username)
    REG_PASS=$(printf '%s' "$INFO_JSON" | jq -r .Password)
}

# Runs Get- as the user nobody, outside the admin group, like dev_cmdlet.
dev_cmdlet_as_nobody() {
    setpriv --reuid=nobody --regid=nogroup --clear-groups \
        env LANGUAGE= LC_ALL=C.UTF-8 "$CMDLET_DIR/$GET_CMDLET" \
        >"$IT_DIR/nobody.out" 2>"$IT_DIR/nobody.err"
    DEV_RC=$?
    DEV_OUT=$(cat "$IT_DIR/nobody.out")
    DEV_ERR=$(cat "$IT_DIR/nobody.err")
}

# Logs docker in to the endpoint with USER and PASSWORD.
dev_docker_login() {
    printf '%s\n' "$2" | docker login "$ENDPOINT" -u "$1" --password-stdin
}

# Writes the agent's configuration and starts it, then waits for its socket.
# SOCKET_MODE (default: the agent's own) sets the socket's permissions.
dev_agent_start() {
    local socket_mode=${1:-}

    cat >"$IT_DIR/agent.conf" <<EOF
device_name = $DEVICE_NAME
dns_domain = $DNS_DOMAIN
registry_ip = 127.0.0.1
registry_port = $REG_PORT
registry_binary = $REGISTRY_BIN
state_dir = $IT_DIR/state
socket = $AGENT_SOCKET
log_level = debug
${socket_mode:+socket_mode = $socket_mode}
EOF
    EDGECR_LOG=stderr "$AGENT_BIN" --config "$IT_DIR/agent.conf" >>"$REG_LOG" 2>&1 &
    AGENT_PID=$!
    it_track_pid "$AGENT_PID" edgecr-agent
    it_wait_socket "$AGENT_SOCKET" "$AGENT_PID" 30
}

# --- Set-up --------------------------------------------------------------------

it_init dockerd docker skopeo curl jq openssl setpriv localedef
for bin in "$AGENT_BIN" "$REGISTRY_BIN" "$CMDLET_DIR/$SET_CMDLET" \
    "$CMDLET_DIR/$GET_CMDLET" "$CMDLET_DIR/$REMOVE_CMDLET"; do
    [ -x "$bin" ] || it_bail "$bin not found: build with make, or set EDGECR_AGENT, EDGECR_REGISTRY, EDGECR_CMDLET_DIR"
done

REG_PORT=$(it_free_port) || exit 2
AGENT_SOCKET=$IT_DIR/agent.sock
# it_not_ok prints the tail of REG_LOG: the agent's log, which also receives
# the registry's output.
REG_LOG=$IT_DIR/agent.log
CA_DIR=$IT_DIR/ca
REG_CA_DIR=$CA_DIR
mkdir -p "$IT_DIR/state" "$CA_DIR"
export EDGECR_AGENT_SOCKET=$AGENT_SOCKET EDGECR_LOCALEDIR=$CMDLET_DIR/locale

dev_agent_start || it_bail "edgecr-agent did not create $AGENT_SOCKET: $(tail -n 5 "$REG_LOG")"
echo "# edgecr-agent pid $AGENT_PID, registry port $REG_PORT"

# --- Enable and read the credentials -----------------------------------------

dev_cmdlet "$GET_CMDLET"
dev_expect_one_line_failure "get before set says not enabled" \
    "not enabled.*$SET_CMDLET"

dev_cmdlet "$SET_CMDLET"
dev_expect_success "set enables the registry" || it_bail "Set- failed: $DEV_ERR"
it_assert_eq "set prints the success line" \
    "Operation completed successfully. Use $GET_CMDLET for credentials" "$DEV_OUT"

dev_read_info || it_bail "Get- -Json failed: $DEV_ERR"
it_assert_eq "get -json endpoint" "$IT_HOSTNAME:$REG_PORT" "$ENDPOINT"
it_assert_eq "get -json ip address" 127.0.0.1 "$REG_IP"
it_assert_eq "get -json property names" '["Endpoint","IPAddress","Username","Password"]' \
    "$(printf '%s' "$INFO_JSON" | jq -c keys_unsorted)"
it_assert_match "get -json password is set" '^.{8,}$' "$REG_PASS"

# The table the device prints, built from the -Json values: each column as
# wide as its widest cell, the last one unpadded.  The trailing x keeps the
# closing blank line through command substitution.
w1=$(dev_max ${#ENDPOINT} 8)
w2=$(dev_max ${#REG_IP} 9)
w3=$(dev_max ${#REG_USER} 8)
expected_table=$(printf '\n%-*s %-*s %-*s %s\n%-*s %-*s %-*s %s\n%-*s %-*s %-*s %s\n\n' \
    "$w1" Endpoint "$w2" IPAddress "$w3" Username Password \
    "$w1" -------- "$w2" --------- "$w3" -------- -------- \
    "$w1" "$ENDPOINT" "$w2" "$REG_IP" "$w3" "$REG_USER" "$REG_PASS"; echo x)
dev_cmdlet "$GET_CMDLET"
dev_expect_success "get prints the table"
it_assert_eq "get table layout" "$expected_table" "$(cat "$DEV_OUT_FILE"; echo x)"

# --- Trust the issued CA -----------------------------------------------------

it_check "agent serves the CA certificate" \
    curl -sS --fail --unix-socket "$AGENT_SOCKET" -o "$CA_DIR/ca.crt" \
    http://localhost/v1/registry/ca.crt
it_check "CA certificate is a CA" \
    sh -c 'openssl x509 -in "$1" -noout -text | grep -q "CA:TRUE"' - "$CA_DIR/ca.crt"
it_check "server certificate verifies against the CA" \
    sh -c 'echo | openssl s_client -connect "127.0.0.1:$1" -servername "$2" \
        -CAfile "$3" -verify_return_error -verify_hostname "$2" 2>&1' \
    - "$REG_PORT" "$IT_HOSTNAME" "$CA_DIR/ca.crt"

it_assert_eq "v2 over verified TLS with credentials" 200 "$(dev_v2_status "$REG_USER:$REG_PASS")"
it_assert_eq "v2 without credentials is 401" 401 "$(dev_v2_status "")"

# --- docker: login, push, pull, run ------------------------------------------

it_hosts_add
it_docker_trust "$ENDPOINT"
it_dockerd_start
image=$ENDPOINT/device/busybox

it_docker_import_busybox device-local/busybox:1 2>"$IT_DIR/import.log" ||
    it_bail "docker import failed: $(tail -n 5 "$IT_DIR/import.log")"

it_check "docker login with the printed credentials" dev_docker_login "$REG_USER" "$REG_PASS"
it_check "docker tag" docker tag device-local/busybox:1 "$image:1"
it_check "docker push" docker push "$image:1"
it_check "docker rmi" docker rmi "$image:1"
it_check "docker pull" docker pull "$image:1"
it_check "docker run pulled image" docker run --rm --network none "$image:1" /bin/echo hi
it_assert_eq "run prints hi" hi "$IT_OUT"

# --- skopeo over verified TLS --------------------------------------------------

it_check "skopeo inspect with the issued CA" \
    skopeo inspect --cert-dir "$CA_DIR" --creds "$REG_USER:$REG_PASS" "docker://$image:1"
# An empty --cert-dir, because skopeo also trusts /etc/docker/certs.d, where
# it_docker_trust put the CA.
mkdir -p "$IT_DIR/no-certs"
it_check_fails "skopeo inspect without the CA is rejected" \
    skopeo inspect --cert-dir "$IT_DIR/no-certs" --creds "$REG_USER:$REG_PASS" "docker://$image:1"
it_assert_match "skopeo without the CA fails on the certificate" 'x509|certificate' "$IT_OUT"

# --- Set- is idempotent; -RotatePassword replaces the password ------------------

first_info=$INFO_JSON
dev_cmdlet "$SET_CMDLET"
dev_expect_success "second set succeeds"
dev_read_info
it_assert_eq "second set keeps the credentials" "$first_info" "$INFO_JSON"

old_pass=$REG_PASS
dev_cmdlet "$SET_CMDLET" -RotatePassword
dev_expect_success "set -rotatepassword succeeds"
dev_read_info
it_assert_no_match "rotated password differs" "^$old_pass\$" "$REG_PASS"
it_assert_eq "endpoint kept after rotation" "$IT_HOSTNAME:$REG_PORT" "$ENDPOINT"
it_assert_eq "old password rejected" 401 "$(dev_v2_status "$REG_USER:$old_pass")"
it_assert_eq "new password accepted" 200 "$(dev_v2_status "$REG_USER:$REG_PASS")"
it_check_fails "docker login with the old password fails" dev_docker_login "$REG_USER" "$old_pass"
it_check "docker login with the new password" dev_docker_login "$REG_USER" "$REG_PASS"

# --- kill -9 of the registry -----------------------------------------------------

old_pid=$(dev_registry_pid)
it_assert_match "agent reports the registry pid" '^[0-9]+$' "$old_pid"
# Kill only the registry that our agent started.
parent=$(awk '{ print $4 }' "/proc/$old_pid/stat" 2>/dev/null)
if [ -n "$old_pid" ] && [ "$parent" = "$AGENT_PID" ]; then
    kill -9 "$old_pid"
    start=$(date +%s%N)
    new_pid=
    for ((i = 0; i < 100; i++)); do
        new_pid=$(dev_registry_pid)
        if [ -n "$new_pid" ] && [ "$new_pid" != "$old_pid" ] && kill -0 "$new_pid" 2>/dev/null; then
            break
        fi
        new_pid=
        sleep 0.05
    done
    elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
    if [ -n "$new_pid" ] && [ "$elapsed_ms" -le $((RESTART_MAX_SECONDS * 1000)) ]; then
        it_ok "registry restarted ${elapsed_ms}ms after kill -9"
    else
        it_not_ok "registry restarted after kill -9" \
            "expected a new pid within ${RESTART_MAX_SECONDS}s, got '${new_pid:-none}' after ${elapsed_ms}ms"
    fi
    dev_wait_registry 20 || it_not_ok "registry answers after restart" "expected 200 from /v2/ within 20s"
    docker rmi "$image:1" >/dev/null 2>&1
    it_check "docker pull after restart" docker pull "$image:1"
else
    it_not_ok "registry is a child of the agent" "expected parent $AGENT_PID, got '${parent:-none}'"
fi

# --- Callers outside the admin group -------------------------------------------

dev_cmdlet_as_nobody
dev_expect_one_line_failure "get as nobody is refused" 'root.*admin group'
it_assert_no_match "refusal leaks no password" "$REG_PASS" "$DEV_OUT$DEV_ERR"

# --- A provided certificate that does not cover the endpoint -----------------------

wrong=$IT_DIR/wrong-cert
mkdir -p "$wrong"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -keyout "$wrong/key.pem" \
    -out "$wrong/chain.pem" -subj "/CN=other.$DNS_DOMAIN" \
    -addext "subjectAltName=DNS:other.$DNS_DOMAIN" >"$wrong/openssl.log" 2>&1 ||
    it_bail "openssl failed: $(tail -n 5 "$wrong/openssl.log")"
dev_cmdlet "$SET_CMDLET" -CertificatePath "$wrong/chain.pem" -KeyPath "$wrong/key.pem"
dev_expect_one_line_failure "certificate for another name is rejected" '[Cc]ertificate'
pass_before=$REG_PASS
dev_read_info
it_assert_eq "rejected certificate leaves the credentials" "$pass_before" "$REG_PASS"
it_assert_eq "registry still serves the issued certificate" 200 \
    "$(dev_v2_status "$REG_USER:$REG_PASS")"

# --- A provided certificate, then back to an issued one ----------------------------

provided=$IT_DIR/provided
it_make_certs "$provided" || it_bail "openssl failed: $(tail -n 5 "$provided/openssl.log")"
cat "$provided/server.crt" "$provided/ca.crt" >"$provided/chain.pem"
dev_cmdlet "$SET_CMDLET" -CertificatePath "$provided/chain.pem" -KeyPath "$provided/server.key"
dev_expect_success "set with a provided certificate"
it_assert_eq "agent reports the provided certificate" provided \
    "$(dev_api_get /v1/registry | jq -r .certificate.source)"
it_assert_eq "registry serves the provided certificate" 200 \
    "$(dev_v2_status "$REG_USER:$REG_PASS" "$provided/ca.crt")"
it_assert_eq "ca.crt is the top of the provided chain" "$(cat "$provided/ca.crt")" \
    "$(dev_api_get /v1/registry/ca.crt)"
dev_read_info
it_assert_eq "provided certificate keeps the password" "$pass_before" "$REG_PASS"

dev_cmdlet "$SET_CMDLET" -ReissueCertificate
dev_expect_success "set -reissuecertificate succeeds"
it_assert_eq "agent reports an issued certificate" issued \
    "$(dev_api_get /v1/registry | jq -r .certificate.source)"
it_assert_eq "reissued certificate verifies against the device CA" 200 \
    "$(dev_v2_status "$REG_USER:$REG_PASS")"

# --- Translation ---------------------------------------------------------------------

pt_line="Operação concluída com êxito. Utilize $GET_CMDLET para obter as credenciais"
it_assert_eq "set in pt_PT through LANGUAGE" "$pt_line" \
    "$(LANGUAGE=pt_PT LC_ALL=C.UTF-8 "$CMDLET_DIR/$SET_CMDLET" 2>&1)"
# LC_ALL=pt_PT.UTF-8 needs the compiled locale; without it on the system it
# is built in the test folder, so the system's locale archive stays untouched.
if it_pt_locale_env "$IT_DIR"; then
    it_assert_eq "set in pt_PT through LC_ALL" "$pt_line" \
        "$(env "${IT_PT_LOCALE_ENV[@]}" LANGUAGE=pt_PT LC_ALL=pt_PT.UTF-8 \
            "$CMDLET_DIR/$SET_CMDLET" 2>&1)"
else
    it_not_ok "localedef pt_PT.UTF-8" "expected exit 0" "$(cat "$IT_DIR/localedef.log")"
fi

# --- The agent restarted keeps everything ----------------------------------------------

dev_cmdlet "$GET_CMDLET"
table_before=$(cat "$DEV_OUT_FILE"; echo x)
it_stop_pid "$AGENT_PID" edgecr-agent 30
it_assert_eq "registry stops with the agent" 000 "$(dev_v2_status "$REG_USER:$REG_PASS")"

dev_cmdlet "$GET_CMDLET"
dev_expect_one_line_failure "get without the agent says how to start it" \
    'systemctl start edgecr-agent'

# This time everyone may connect, so the agent's own check (SO_PEERCRED,
# 403 FORBIDDEN) must reject the user nobody.
dev_agent_start 0666 || it_bail "edgecr-agent did not restart: $(tail -n 5 "$REG_LOG")"
dev_cmdlet "$GET_CMDLET"
dev_expect_success "get after agent restart"
it_assert_eq "get output unchanged after agent restart" "$table_before" "$(cat "$DEV_OUT_FILE"; echo x)"
if dev_wait_registry 30; then
    it_ok "registry back after agent restart"
else
    it_not_ok "registry back after agent restart" "expected 200 from /v2/ within 30s"
fi
docker rmi "$image:1" >/dev/null 2>&1
it_check "docker pull after agent restart" docker pull "$image:1"

it_assert_eq "socket open to everyone" 666 "$(stat -c %a "$AGENT_SOCKET")"
dev_cmdlet_as_nobody
dev_expect_one_line_failure "get as nobody gets 403" 'root.*admin group'
it_assert_match "agent logged the 403" 'FORBIDDEN|403' "$(tail -n 20 "$REG_LOG")"

# --- Remove- --------------------------------------------------------------------------

dev_cmdlet "$REMOVE_CMDLET" -Purge
dev_expect_one_line_failure "remove -purge without confirmation is refused" '-Confirm.*-Force'

registry_pid=$(dev_registry_pid)
dev_cmdlet "$REMOVE_CMDLET"
dev_expect_success "remove succeeds"
it_assert_match "remove reports the images are kept" 'kept' "$DEV_OUT"
it_assert_eq "registry stopped after remove" 000 "$(dev_v2_status "$REG_USER:$REG_PASS")"
if [ -n "$registry_pid" ] && kill -0 "$registry_pid" 2>/dev/null; then
    it_not_ok "registry process gone after remove" "expected pid $registry_pid to have exited"
else
    it_ok "registry process gone after remove"
fi
dev_cmdlet "$GET_CMDLET"
dev_expect_one_line_failure "get after remove says not enabled" "not enabled.*$SET_CMDLET"
it_assert_eq "ca.crt after remove is 409" 409 \
    "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$AGENT_SOCKET" http://localhost/v1/registry/ca.crt)"

dev_cmdlet "$REMOVE_CMDLET" -Purge -Force
dev_expect_success "remove -purge -force succeeds"
it_assert_match "remove -purge reports the images deleted" 'deleted' "$DEV_OUT"

it_done

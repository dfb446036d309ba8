#!/bin/bash
#
# Where secrets must not show up: process arguments (/proc/PID/cmdline),
# environment reachable by other processes, logs, core files; and the
# modes of the files that hold them.
#
#   1. edgecr-registry, started as user nobody with TLS and a credentials
#      file: no password in its command line or log after pushes, pulls and
#      failed logins; core limit 0 and not dumpable (its /proc files belong
#      to root, and another process of nobody cannot read its environment).
#   2. edgecr-agent with the registry it provisions, and the cmdlets: no
#      password in any command line or log, core limit 0, every secret file
#      under the state folder 0600.
#
# Needs root (setpriv to user nobody, the agent's socket). The registries
# listen on 127.0.0.1 in 20700-20999.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry_direct.sh"
IT_PORT_MIN=20700
IT_PORT_MAX=20999

it_init curl jq openssl setpriv sha256sum base64

AGENT=${EDGECR_AGENT:-build/edgecr-agent}
case $AGENT in /*) ;; *) AGENT=$IT_REPO_ROOT/$AGENT ;; esac
CMDLET_DIR=${EDGECR_CMDLET_DIR:-build}
case $CMDLET_DIR in /*) ;; *) CMDLET_DIR=$IT_REPO_ROOT/$CMDLET_DIR ;; esac

# no_secret NAME SECRET TEXT: passes when SECRET is not in TEXT.
no_secret() {
    if printf '%s' "$3" | grep -qF -- "$2"; then
        it_not_ok "$1" "the secret appears" "$(printf '%s' "$3" | grep -F -- "$2" | head -n 3)"
    else
        it_ok "$1"
    fi
}

core_limit() {
    awk '/^Max core file size/ { print $5 "/" $6 }' "/proc/$1/limits"
}

# --- 1. The registry as user nobody -------------------------------------------

USER_NAME=secrets
PASS="S3cret-$RANDOM$RANDOM-pass"
WRONG="Wr0ng-$RANDOM$RANDOM-guess"
it_make_certs "$IT_DIR/tls" || it_bail "certificate generation failed"
printf '%s\n' "$PASS" | "$RD_BIN" passwd "$USER_NAME" --auth-file "$IT_DIR/auth" ||
    it_bail "passwd failed"
it_assert_eq "passwd writes the credentials file 0600" 600 "$(stat -c %a "$IT_DIR/auth")"
chown nobody "$IT_DIR/auth" "$IT_DIR/tls/server.key"
chmod 600 "$IT_DIR/tls/server.key"
mkdir -p "$IT_DIR/nobody-root"
chown nobody "$IT_DIR/nobody-root"

PORT=$(it_free_port) || exit 2
URL=https://127.0.0.1:$PORT
LOG=$IT_DIR/registry.log
MARKER="edgecr-env-marker-$RANDOM"
setpriv --reuid=nobody --regid=nogroup --clear-groups env EDGECR_TEST_MARKER="$MARKER" \
    "$RD_BIN" --listen "127.0.0.1:$PORT" --root "$IT_DIR/nobody-root" \
    --tls-cert "$IT_DIR/tls/server.crt" --tls-key "$IT_DIR/tls/server.key" \
    --auth-file "$IT_DIR/auth" --log-level debug >"$LOG" 2>&1 &
REG=$!
it_track_pid "$REG" edgecr-registry
for ((i = 0; ; i++)); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$IT_DIR/tls/ca.crt" "$URL/v2/")
    [ "$code" = 401 ] && break
    kill -0 "$REG" 2>/dev/null || it_bail "registry exited: $(tail -n 5 "$LOG")"
    sleep 0.1
done
# setpriv execs env, which execs the registry: the PID stays the same.
it_assert_eq "registry runs as nobody" nobody "$(ps -o user= -p "$REG")"
it_assert_eq "registry: core file size limit 0" 0/0 "$(core_limit "$REG")"
# The kernel makes the /proc files of a process that is not dumpable belong to root.
it_assert_eq "registry: not dumpable (/proc/PID/status belongs to root)" root "$(stat -c %U "/proc/$REG/status")"
it_check_fails "registry: another process of nobody cannot read its environment" \
    setpriv --reuid=nobody --regid=nogroup --clear-groups cat "/proc/$REG/environ"

C=(--cacert "$IT_DIR/tls/ca.crt")
rd_push_image "$URL" app/secret v1 "${C[@]}" -u "$USER_NAME:$PASS" >/dev/null ||
    it_bail "push failed"
curl -s -o /dev/null "${C[@]}" -u "$USER_NAME:$PASS" "$URL/v2/app/secret/manifests/v1"
for i in 1 2 3; do
    curl -s -o /dev/null "${C[@]}" -u "$USER_NAME:$WRONG" "$URL/v2/"
done
CMDLINE=$(tr '\0' ' ' <"/proc/$REG/cmdline")
no_secret "registry: no password in the command line" "$PASS" "$CMDLINE"
it_stop_pid "$REG" edgecr-registry
it_assert_match "the log has the requests" 'HTTP_STATUS=201' "$(cat "$LOG")"
no_secret "registry log: no password" "$PASS" "$(cat "$LOG")"
no_secret "registry log: no wrong password" "$WRONG" "$(cat "$LOG")"
no_secret "registry log: no Authorization value" "$(printf '%s:%s' "$USER_NAME" "$PASS" | base64 -w0)" \
    "$(cat "$LOG")"
no_secret "registry log: no key material" "PRIVATE KEY" "$(cat "$LOG")"

# --- 2. The agent, its registry and the cmdlets ------------------------------------

SOCK=$IT_DIR/agent.sock
STATE=$IT_DIR/state
APORT=$(it_free_port) || exit 2
AGENT_LOG=$IT_DIR/agent.log
cat >"$IT_DIR/agent.conf" <<CONF
device_name = dev1
dns_domain = local
registry_ip = 127.0.0.1
registry_port = $APORT
registry_binary = $RD_BIN
log_level = debug
CONF
EDGECR_LOG=stderr "$AGENT" --config "$IT_DIR/agent.conf" --state-dir "$STATE" --socket "$SOCK" \
    >>"$AGENT_LOG" 2>&1 &
AGENT_PID=$!
it_track_pid "$AGENT_PID" edgecr-agent
until [ -S "$SOCK" ]; do
    kill -0 "$AGENT_PID" 2>/dev/null || it_bail "agent exited: $(tail -n 5 "$AGENT_LOG")"
    sleep 0.1
done
export EDGECR_AGENT_SOCKET=$SOCK

it_check "Set- provisions the registry" "$CMDLET_DIR/Set-HcsKubernetesContainerRegistry"
it_check "Get-...Info shows the password" "$CMDLET_DIR/Get-HcsKubernetesContainerRegistryInfo"
INFO=$(curl -s --unix-socket "$SOCK" http://agent/v1/registry)
APASS=$(jq -r .password <<<"$INFO")
it_assert_match "the agent made a password" '^[A-Za-z0-9]{15}$' "$APASS"
no_secret "the password is printed only on standard output" "$APASS" "$(
    "$CMDLET_DIR/Get-HcsKubernetesContainerRegistryInfo" 2>&1 >/dev/null)"
it_check "Set- -RotatePassword" "$CMDLET_DIR/Set-HcsKubernetesContainerRegistry" -RotatePassword
NEWPASS=$(curl -s --unix-socket "$SOCK" http://agent/v1/registry | jq -r .password)
for ((i = 0; i < 100; i++)); do
    RPID=$(curl -s --unix-socket "$SOCK" http://agent/v1/status | jq -r '.registry.pid // empty')
    [ -n "$RPID" ] && [ "$RPID" != null ] && break
    sleep 0.1
done
curl -s -o /dev/null -k -u "ase-ecr-user:$NEWPASS" "https://127.0.0.1:$APORT/v2/"
curl -s -o /dev/null -k -u "ase-ecr-user:$APASS" "https://127.0.0.1:$APORT/v2/"

no_secret "agent: no password in the command line" "$NEWPASS" "$(tr '\0' ' ' <"/proc/$AGENT_PID/cmdline")"
no_secret "agent's registry: no password in the command line" "$NEWPASS" \
    "$(tr '\0' ' ' <"/proc/$RPID/cmdline" 2>/dev/null)"
it_assert_eq "agent: core file size limit 0" 0/0 "$(core_limit "$AGENT_PID")"
it_assert_eq "agent's registry: core file size limit 0" 0/0 "$(core_limit "$RPID")"
no_secret "no cmdlet takes a password argument" "-Password" \
    "$("$CMDLET_DIR/Set-HcsKubernetesContainerRegistry" -Help 2>&1)"

# storage/ contains the images and their metadata, which are not secret.
bad=$(find "$STATE" -path "$STATE/storage" -prune -o -type f \( -name '*.key' -o -name 'password' \
    -o -name 'credentials' -o -name '*.db' -o -name '*.conf' \) ! -perm 600 -printf '%p %m\n')
it_assert_eq "secret files under the state folder are 0600" "" "$bad"
it_assert_match "and there are some" 'server.key' "$(find "$STATE" -name '*.key')"
it_stop_pid "$AGENT_PID" edgecr-agent
for secret in "$APASS" "$NEWPASS"; do
    no_secret "agent and registry log: no password" "$secret" "$(cat "$AGENT_LOG")"
done
no_secret "agent log: no key material" "PRIVATE KEY" "$(cat "$AGENT_LOG")"

it_done

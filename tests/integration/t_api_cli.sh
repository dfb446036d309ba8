#!/bin/bash
# Command line, configuration errors, the passwd command and the service
# manager protocol (READY=1, WATCHDOG=1, STOPPING=1) of edgecr-registry, on
# plain HTTP on 127.0.0.1.
#
# Environment: EDGECR_REGISTRY (binary, default build/edgecr-registry,
# relative to the repository root), IT_KEEP=1 keeps the temporary directory.
set -u

. "$(dirname "$0")/lib.sh"

# This test's servers use 16000-16999; lib.sh's range belongs to the client tests.
IT_PORT_MIN=16000
IT_PORT_MAX=16999

it_init curl python3
IT_VARLIB_CACHE_EXISTED=1

BIN=${EDGECR_REGISTRY:-build/edgecr-registry}
case $BIN in /*) ;; *) BIN=$IT_REPO_ROOT/$BIN ;; esac
[ -x "$BIN" ] || it_bail "registry binary not found at $BIN"
D=$IT_DIR
REG_LOG=$D/registry.log

# run_fails NAME PATTERN ARGS...: the command must exit non-zero (within 10 s)
# and print a message matching PATTERN.
run_fails() {
    local name=$1 pattern=$2 rc
    shift 2

    IT_OUT=$(timeout 10 "$BIN" "$@" 2>&1)
    rc=$?
    if [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ]; then
        it_not_ok "$name" "expected a non-zero exit, got $rc" "$IT_OUT"
        return 1
    fi
    it_assert_match "$name" "$pattern" "$IT_OUT"
}

# ---------------------------------------------------------------------------
# Help, version, bad options and bad configuration

it_check "help exits 0" "$BIN" --help
it_assert_match "help lists the options" "--listen.*" "$IT_OUT"
it_assert_match "help lists passwd" "passwd USER --auth-file FILE" "$IT_OUT"
it_check "version exits 0" "$BIN" --version

PORT=$(it_free_port) || exit 2
run_fails "unknown option" "--help" --colour
run_fails "bad --listen names the key and value" 'listen.*"localhost:1"' --listen localhost:1
run_fails "tls cert without key" "tls_key" --listen "127.0.0.1:$PORT" --tls-cert /nonexistent
run_fails "missing config file" "/nonexistent.conf" --config /nonexistent.conf

printf 'listen = 127.0.0.1:%s\nmax_connections = many\n' "$PORT" >"$D/bad.conf"
run_fails "bad config value names file, line, key and value" \
    'bad.conf:2: max_connections: invalid value "many"' --config "$D/bad.conf"
printf 'listen = 127.0.0.1:%s\ncolour = blue\n' "$PORT" >"$D/bad2.conf"
run_fails "unknown config key" 'bad2.conf:2: colour' --config "$D/bad2.conf"
run_fails "unreadable certificate" 'tls_cert' --listen "127.0.0.1:$PORT" --root "$D/r0" \
    --tls-cert /nonexistent.crt --tls-key /nonexistent.key
run_fails "unreadable credentials file" '/nonexistent.auth' --listen "127.0.0.1:$PORT" \
    --root "$D/r0" --auth-file /nonexistent.auth
if ss -Hltn "sport = :$PORT" | grep -q .; then
    it_not_ok "nothing listens after a bad start" "port $PORT is in use"
else
    it_ok "nothing listens after a bad start"
fi

# ---------------------------------------------------------------------------
# passwd

printf 'first\n' | "$BIN" passwd alice --auth-file "$D/auth"
it_assert_eq "passwd creates the file" 1 "$(grep -c '^alice:\$pbkdf2-sha256\$' "$D/auth")"
it_assert_eq "credentials file mode is 0600" 600 "$(stat -c %a "$D/auth")"
printf 'second' | "$BIN" passwd bob --auth-file "$D/auth"
OLD=$(grep '^alice:' "$D/auth")
printf 'third\n' | "$BIN" passwd alice --auth-file "$D/auth"
it_assert_eq "passwd replaces a user" 1 "$(grep -c '^alice:' "$D/auth")"
it_assert_no_match "replaced hash differs" "^$OLD\$" "$(grep '^alice:' "$D/auth")"
it_assert_eq "other users stay" 1 "$(grep -c '^bob:' "$D/auth")"
it_check_fails "empty password is refused" sh -c "printf '' | '$BIN' passwd carol --auth-file '$D/auth'"
it_check_fails "user with ':' is refused" sh -c "printf 'x' | '$BIN' passwd 'a:b' --auth-file '$D/auth'"
it_check_fails "passwd without --auth-file" sh -c "printf 'x' | '$BIN' passwd carol"
it_assert_no_match "passwords are not in the file" "first|second|third" "$(cat "$D/auth")"

# ---------------------------------------------------------------------------
# Serving with a config file, plain HTTP, and the notify protocol

NOTIFY=$D/notify.sock
python3 - "$NOTIFY" >"$D/notify.log" <<'PYEOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(30)
end = time.time() + 30
while time.time() < end:
    try:
        data = s.recv(4096)
    except socket.timeout:
        break
    for line in data.decode().splitlines():
        print(line, flush=True)
        if line == "STOPPING=1":
            sys.exit(0)
PYEOF
LISTENER=$!
it_track_pid "$LISTENER" notify-listener
for ((i = 0; i < 50; i++)); do [ -S "$NOTIFY" ] && break; sleep 0.1; done

printf 'listen = 127.0.0.1:%s\nroot = %s\nlog_level = debug\nshutdown_timeout = 2\n' \
    "$PORT" "$D/root" >"$D/good.conf"
NOTIFY_SOCKET=$NOTIFY WATCHDOG_USEC=400000 "$BIN" --config "$D/good.conf" >"$REG_LOG" 2>&1 &
REG_PID=$!
it_track_pid "$REG_PID" edgecr-registry
for ((i = 0; i < 50; i++)); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/v2/")" = 200 ] && break
    sleep 0.1
done
it_assert_eq "plain HTTP without auth serves /v2/" 200 \
    "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/v2/")"
sleep 1
kill -TERM "$REG_PID"
wait "$REG_PID"
it_assert_eq "SIGTERM exits 0" 0 "$?"
wait "$LISTENER" 2>/dev/null
it_assert_match "READY=1 sent" "^READY=1$" "$(cat "$D/notify.log")"
it_assert_match "STATUS sent" "^STATUS=Serving on 127.0.0.1:$PORT" "$(cat "$D/notify.log")"
it_assert_eq "WATCHDOG=1 sent every 200 ms" 1 \
    "$([ "$(grep -c '^WATCHDOG=1$' "$D/notify.log")" -ge 3 ] && echo 1 || echo 0)"
it_assert_match "STOPPING=1 sent" "^STOPPING=1$" "$(cat "$D/notify.log")"
it_assert_match "access log line has fields" \
    "GET /v2/ 200 .*HTTP_STATUS=200.*DURATION_MS=[0-9]+.*REQUEST_ID=" "$(cat "$REG_LOG")"

it_done

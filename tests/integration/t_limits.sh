#!/bin/bash
#
# Every limit on what one client can consume, hit on purpose, with the answer
# it must give, while a normal client goes on being served:
#   - header size (431), manifest size (413 MANIFEST_INVALID);
#   - uploads in progress per client address (429 TOOMANYREQUESTS), freed
#     by finishing or cancelling an upload;
#   - connections per address and in total (the connection is closed);
#   - failed logins per address (429 with Retry-After);
#   - slowloris: connections trickling their headers, or a TLS handshake,
#     closed by header_timeout over plain HTTP, TLS and across a reload,
#     while a slow upload body and a kept-alive connection waiting between
#     requests are left to connection_timeout;
#   - half-open uploads (POST then nothing, a PATCH that stalls): removed with
#     their files once upload_idle_timeout has passed;
#   - TLS: 1.0 and 1.1 refused, 1.2 and 1.3 accepted, and under 1.2 only
#     ECDHE with AES-GCM or ChaCha20-Poly1305 (openssl s_client).
#
# Timing checks ("served within N s") are reported but not enforced under a
# sanitizer build (ASAN_OPTIONS set), where every request is slower. The
# upload expiry needs upload_idle_timeout's minimum of 60 s, so the script
# takes a bit over a minute.
#
# Uses ports 19000-19999 and the source addresses 127.0.0.1 to 127.0.0.60.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry_direct.sh"
IT_PORT_MIN=19000
IT_PORT_MAX=19999

it_init curl jq openssl python3 sha256sum

USER_NAME=limits
PASS="l-$RANDOM$RANDOM"
AUTH=$IT_DIR/auth
printf '%s' "$PASS" | "$RD_BIN" passwd "$USER_NAME" --auth-file "$AUTH" || it_bail "passwd failed"
U=(-u "$USER_NAME:$PASS")

# The latency bound of a normal client while others misbehave.
FAST_MS=${IT_FAST_MS:-2000}

# fast NAME MILLISECONDS: checks a latency against FAST_MS, or only reports
# it under a sanitizer build.
fast() {
    if [ -n "${ASAN_OPTIONS:-}" ]; then
        it_ok "$1 (took $2 ms; not enforced under sanitizers)"
    elif [ "$2" -lt "$FAST_MS" ]; then
        it_ok "$1 (took $2 ms)"
    else
        it_not_ok "$1" "took $2 ms, more than $FAST_MS ms"
    fi
}

# timed_get URL SOURCE: GET /v2/ from SOURCE address; prints "STATUS MS".
timed_get() {
    local start code
    start=$(date +%s%N)
    code=$(curl -s -o /dev/null -w '%{http_code}' --interface "$2" "${U[@]}" "$1/v2/")
    echo "$code $((($(date +%s%N) - start) / 1000000))"
}

status() {
    local method=$1 url=$2
    shift 2
    curl -s -o "$IT_DIR/b" -D "$IT_DIR/h" -w '%{http_code}' -X "$method" "$@" "$url"
}

errcode() {
    jq -r '.errors[0].code // empty' <"$IT_DIR/b" 2>/dev/null
}

rd_start lim "auth_file=$AUTH" max_connections=64 max_connections_per_address=8 \
    max_uploads_per_client=5 connection_timeout=5 header_timeout=3 upload_idle_timeout=60
URL=$RD_URL
PORT=$RD_PORT
CONF=$IT_DIR/lim.conf
ROOT=$IT_DIR/lim-root

# --- Half-open uploads, started first so that they can expire --------------

# Five POSTs from 127.0.0.40 that nothing follows, which reach the cap, and
# one PATCH that sends 1000 of its announced 1 MiB and stalls.
HALF_IDS=()
for i in 1 2 3 4 5; do
    status POST "$URL/v2/half/open/blobs/uploads/" "${U[@]}" --interface 127.0.0.40 >/dev/null
    HALF_IDS+=("$(tr -d '\r' <"$IT_DIR/h" | sed -n 's/^docker-upload-uuid: //Ip')")
done
it_assert_eq "half-open: five POSTs without data" 5 "$(ls "$ROOT/uploads" | wc -l)"
it_assert_eq "half-open: they reach the cap" 429 \
    "$(status POST "$URL/v2/half/open/blobs/uploads/" "${U[@]}" --interface 127.0.0.40)"
status POST "$URL/v2/half/open/blobs/uploads/" "${U[@]}" --interface 127.0.0.41 >/dev/null
STALLED=$(tr -d '\r' <"$IT_DIR/h" | sed -n 's/^[Ll]ocation: //p')
HALF_IDS+=("${STALLED##*/}")
HALF_START=$SECONDS
python3 - "$PORT" "$STALLED" "$USER_NAME:$PASS" >"$IT_DIR/stall.out" <<'PY'
import base64, socket, sys, time
port, path, creds = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.create_connection(("127.0.0.1", port), source_address=("127.0.0.41", 0))
auth = base64.b64encode(creds.encode()).decode()
s.sendall(("PATCH %s HTTP/1.1\r\nHost: x\r\nAuthorization: Basic %s\r\n"
           "Content-Type: application/octet-stream\r\nContent-Length: 1048576\r\n\r\n" % (path, auth)).encode())
s.sendall(b"x" * 1000)
start = time.time()
s.settimeout(60)
try:
    data = s.recv(4096)
except OSError:
    data = b""
print("closed after %.1f s%s" % (time.time() - start, " with data" if data else ""))
PY
it_assert_match "half-open: a stalled PATCH is closed after connection_timeout" \
    '^closed after [3-9]\.' "$(cat "$IT_DIR/stall.out")"

# --- Header and manifest size ------------------------------------------------

OUT=$(python3 - "$PORT" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200000 + b"\r\n\r\n")
print(s.recv(200).split(b"\r\n")[0].decode())
PY
)
it_assert_match "a 200 KB header gets 431" '^HTTP/1\.1 431' "$OUT"

head -c $((4 * 1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' >"$IT_DIR/big.json"
it_assert_eq "a manifest over 4 MiB gets 413" 413 \
    "$(status PUT "$URL/v2/big/manifests/v1" "${U[@]}" \
        -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary "@$IT_DIR/big.json")"
it_assert_eq "with MANIFEST_INVALID" MANIFEST_INVALID "$(errcode)"
it_assert_eq "a chunked manifest over 4 MiB gets 413" 413 \
    "$(status PUT "$URL/v2/big/manifests/v1" "${U[@]}" -H 'Transfer-Encoding: chunked' \
        -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary "@$IT_DIR/big.json")"

# --- Uploads in progress per client address -----------------------------------

LOCS=()
for i in 1 2 3 4 5; do
    st=$(status POST "$URL/v2/cap/one/blobs/uploads/" "${U[@]}" --interface 127.0.0.50)
    [ "$st" = 202 ] && LOCS+=("$(tr -d '\r' <"$IT_DIR/h" | sed -n 's/^[Ll]ocation: //p')")
done
it_assert_eq "upload cap: five uploads start" 5 "${#LOCS[@]}"
it_assert_eq "upload cap: the sixth gets 429" 429 \
    "$(status POST "$URL/v2/cap/one/blobs/uploads/" "${U[@]}" --interface 127.0.0.50)"
it_assert_eq "with TOOMANYREQUESTS" TOOMANYREQUESTS "$(errcode)"
it_assert_match "and a detail naming the key" 'max_uploads_per_client' "$(cat "$IT_DIR/b")"
it_assert_eq "upload cap: a monolithic push is refused too" 429 \
    "$(status POST "$URL/v2/cap/one/blobs/uploads/?digest=sha256:$(printf x | sha256sum | cut -d' ' -f1)" \
        "${U[@]}" --interface 127.0.0.50 --data-binary x)"
it_assert_eq "upload cap: another address may start one" 202 \
    "$(status POST "$URL/v2/cap/one/blobs/uploads/" "${U[@]}" --interface 127.0.0.51)"
it_assert_eq "upload cap: cancelling one" 204 "$(status DELETE "$URL${LOCS[0]}" "${U[@]}" --interface 127.0.0.50)"
it_assert_eq "upload cap: frees a place" 202 \
    "$(status POST "$URL/v2/cap/one/blobs/uploads/" "${U[@]}" --interface 127.0.0.50)"
it_assert_eq "upload cap: full again" 429 \
    "$(status POST "$URL/v2/cap/one/blobs/uploads/" "${U[@]}" --interface 127.0.0.50)"
DIGEST="sha256:$(printf 'done' | sha256sum | cut -d' ' -f1)"
it_assert_eq "upload cap: finishing one" 201 \
    "$(status PUT "$URL${LOCS[1]}?digest=$DIGEST" "${U[@]}" --interface 127.0.0.50 --data-binary done)"
it_assert_eq "upload cap: frees a place too" 202 \
    "$(status POST "$URL/v2/cap/one/blobs/uploads/" "${U[@]}" --interface 127.0.0.50)"
for i in 1 2 3 4; do
    status POST "$URL/v2/cap/two/blobs/uploads/" "${U[@]}" --interface 127.0.0.52 >/dev/null
done
it_assert_eq "upload cap: a mount" 201 \
    "$(status POST "$URL/v2/cap/two/blobs/uploads/?mount=$DIGEST&from=cap/one" "${U[@]}" --interface 127.0.0.52)"
it_assert_eq "upload cap: does not take a place" 202 \
    "$(status POST "$URL/v2/cap/two/blobs/uploads/" "${U[@]}" --interface 127.0.0.52)"

# --- Connections per address and in total ---------------------------------------

# hold SOURCE COUNT: opens COUNT connections from SOURCE that send half a
# request line; prints how many the server kept open after 1 s.
cat >"$IT_DIR/hold.py" <<'PY'
import socket, sys, time
port, count, seconds = int(sys.argv[1]), int(sys.argv[3]), float(sys.argv[4])
sources = sys.argv[2].split(",")
socks = []
for i in range(count):
    s = socket.create_connection(("127.0.0.1", port), source_address=(sources[i % len(sources)], 0))
    s.sendall(b"GET /v2/ HTTP/1.1\r\n")
    socks.append(s)
time.sleep(1)
alive = 0
for s in socks:
    s.setblocking(False)
    try:
        alive += 1 if s.recv(1) else 0
    except BlockingIOError:
        alive += 1
    except OSError:
        pass
print(alive, flush=True)
time.sleep(seconds)
PY
OUT=$(python3 "$IT_DIR/hold.py" "$PORT" 127.0.0.5 12 0)
it_assert_eq "per address: 8 of 12 connections stay open" 8 "$OUT"

python3 "$IT_DIR/hold.py" "$PORT" 127.0.0.5 12 2 >"$IT_DIR/hold.out" &
HOLD=$!
sleep 1.5
read -r code ms < <(timed_get "$URL" 127.0.0.6)
it_assert_eq "per address: another address is served meanwhile" 200 "$code"
fast "per address: and quickly" "$ms"
wait "$HOLD"

SOURCES=$(seq -s, -f '127.0.0.%g' 10 19)
OUT=$(python3 "$IT_DIR/hold.py" "$PORT" "$SOURCES" 70 0)
it_assert_eq "in total: 64 of 70 connections stay open" 64 "$OUT"
sleep 0.5
it_assert_eq "in total: a request is served once they are closed" 200 "$(status GET "$URL/v2/" "${U[@]}")"

# --- Failed logins -------------------------------------------------------------

for i in $(seq 1 10); do
    status GET "$URL/v2/" -u "$USER_NAME:wrong" --interface 127.0.0.30 >/dev/null
done
it_assert_eq "logins: the 11th try from an address gets 429" 429 \
    "$(status GET "$URL/v2/" "${U[@]}" --interface 127.0.0.30)"
it_assert_eq "with TOOMANYREQUESTS" TOOMANYREQUESTS "$(errcode)"
it_assert_match "and Retry-After" '^[Rr]etry-[Aa]fter: [0-9]+$' "$(tr -d '\r' <"$IT_DIR/h")"
read -r code ms < <(timed_get "$URL" 127.0.0.31)
it_assert_eq "logins: another address logs in" 200 "$code"
fast "logins: and quickly" "$ms"

# --- Slowloris --------------------------------------------------------------------

# slow.py MODE PORT ...: one slow client; prints the seconds after which the
# server closed the connection, counted from the time named in each mode,
# or "open" when it stayed open.
#   trickle SOURCE...        a request's headers, one byte a second for 12 s
#                            (from the connection's start), one connection
#                            from each SOURCE at once, a result per line
#   idle SOURCE...           half a request line, then nothing (from the start)
#   kept-idle CREDS          one request, then nothing (from its response)
#   kept-trickle CREDS       one request, 2 s idle, then the next request's
#                            headers one byte a second (from that first byte)
#   slow-body CREDS PATH     a PATCH whose 8 body bytes come one a second;
#                            prints the response's status line instead
#   tls-hello                a TLS ClientHello, one byte a second (from the start)
#   tls-trickle CAFILE       a TLS handshake, then headers one byte a second
#                            (from the start)
cat >"$IT_DIR/slow.py" <<'PY'
import base64, select, socket, ssl, sys, threading, time
mode, port = sys.argv[1], int(sys.argv[2])
args = sys.argv[3:]
HEADERS = b"GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 100

def connect(source="127.0.0.1"):
    return socket.create_connection(("127.0.0.1", port), source_address=(source, 0))

def closed_within(s, seconds):
    """True when the server closed S within SECONDS."""
    if not select.select([s], [], [], seconds)[0]:
        return False
    try:
        return s.recv(1) == b""
    except (OSError, ssl.SSLError):
        return True

def trickle(s, data, start, seconds=12):
    """Sends DATA a byte a second; returns the seconds from START to the close."""
    try:
        for i in range(seconds):
            s.sendall(data[i:i + 1])
            if closed_within(s, 1.0):
                return "%.1f" % (time.time() - start)
    except (OSError, ssl.SSLError):
        return "%.1f" % (time.time() - start)
    return "open"

def auth(creds):
    return "Authorization: Basic %s\r\n" % base64.b64encode(creds.encode()).decode()

def get(s, creds):
    """Sends one GET /v2/ and reads its whole response."""
    s.sendall(("GET /v2/ HTTP/1.1\r\nHost: x\r\n%s\r\n" % auth(creds)).encode())
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(4096)
    head, body = data.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    while len(body) < length:
        body += s.recv(4096)

def trickle_from(source):
    s = connect(source)
    return trickle(s, HEADERS, time.time())

def idle_from(source):
    s = connect(source)
    s.sendall(b"GET /v2/ HT")
    start = time.time()
    return "%.1f" % (time.time() - start) if closed_within(s, 20) else "open"

def in_threads(function, sources):
    """Runs FUNCTION once per source at the same time; prints each result."""
    results = []
    threads = [threading.Thread(target=lambda a=a: results.append(function(a))) for a in sources]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("\n".join(results))

if mode == "trickle":
    in_threads(trickle_from, args)
elif mode == "idle":
    in_threads(idle_from, args)
elif mode == "kept-idle":
    s = connect()
    get(s, args[0])
    start = time.time()
    print("%.1f" % (time.time() - start) if closed_within(s, 20) else "open")
elif mode == "kept-trickle":
    s = connect()
    get(s, args[0])
    time.sleep(2)
    print(trickle(s, HEADERS, time.time()))
elif mode == "slow-body":
    s = connect()
    s.sendall(("PATCH %s HTTP/1.1\r\nHost: x\r\n%sContent-Type: application/octet-stream\r\n"
               "Content-Length: 8\r\n\r\n" % (args[1], auth(args[0]))).encode())
    for i in range(8):
        time.sleep(1)
        s.sendall(b"b")
    s.settimeout(10)
    print(s.recv(4096).split(b"\r\n")[0].decode())
elif mode == "tls-hello":
    s = connect()
    # A TLS record header announcing a 512-byte handshake message, and its start.
    print(trickle(s, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 20, time.time()))
elif mode == "tls-trickle":
    start = time.time()
    context = ssl.create_default_context(cafile=args[0])
    s = context.wrap_socket(connect(), server_hostname="127.0.0.1")
    print(trickle(s, HEADERS, start))
PY

# 5 addresses x 8 connections trickle their headers, one byte a second,
# which restarts connection_timeout each time: header_timeout (3 s) closes
# them.  8 more connections from two other addresses send half a request
# line and then nothing.  Meanwhile a normal client is served.
python3 "$IT_DIR/slow.py" trickle "$PORT" $(for i in $(seq 0 39); do echo "127.0.0.$((20 + i % 5))"; done) \
    >"$IT_DIR/trickle.out" &
TRICKLE_PID=$!
python3 "$IT_DIR/slow.py" idle "$PORT" $(for i in $(seq 0 7); do echo "127.0.0.$((28 + i % 2))"; done) \
    >"$IT_DIR/idle.out" &
IDLE_PID=$!
sleep 1.5
worst=0
served=0
for i in 1 2 3 4 5; do
    read -r code ms < <(timed_get "$URL" 127.0.0.1)
    [ "$code" = 200 ] && served=$((served + 1))
    [ "$ms" -gt "$worst" ] && worst=$ms
    sleep 0.5
done
it_assert_eq "slowloris: a normal client is served 5 times" 5 "$served"
fast "slowloris: the slowest of them" "$worst"
wait "$TRICKLE_PID" "$IDLE_PID"
TRICKLE=$(sort -n "$IT_DIR/trickle.out" | uniq -c | awk '{printf "%s%sx%s", sep, $1, $2; sep=" "}')
it_assert_eq "slowloris: all 40 trickling connections were closed" 0 \
    "$(grep -vc '^[0-9]' "$IT_DIR/trickle.out")"
it_assert_eq "slowloris: after header_timeout (3 s), within 3-5 s (got $TRICKLE)" 40 \
    "$(grep -c '^[3-5]\.' "$IT_DIR/trickle.out")"
it_assert_eq "slowloris: all 8 idle connections were closed within 3-4 s" 8 \
    "$(grep -c '^[34]\.' "$IT_DIR/idle.out")"
it_assert_eq "slowloris: the server still serves" 200 "$(status GET "$URL/v2/" "${U[@]}")"

# Kept-alive connections: connection_timeout (5 s) closes one that waits
# between requests, and the next request's headers get header_timeout from
# their first byte.
python3 "$IT_DIR/slow.py" kept-idle "$PORT" "$USER_NAME:$PASS" >"$IT_DIR/kept-idle" &
KEPT_IDLE=$!
python3 "$IT_DIR/slow.py" kept-trickle "$PORT" "$USER_NAME:$PASS" >"$IT_DIR/kept-trickle" &
KEPT_TRICKLE=$!
status POST "$URL/v2/slow/body/blobs/uploads/" "${U[@]}" >/dev/null
SLOW_UPLOAD=$(tr -d '\r' <"$IT_DIR/h" | sed -n 's/^[Ll]ocation: //p')
it_assert_match "slow body: 8 bytes in 8 s after the headers are accepted" '^HTTP/1\.1 202' \
    "$(python3 "$IT_DIR/slow.py" slow-body "$PORT" "$USER_NAME:$PASS" "$SLOW_UPLOAD")"
wait "$KEPT_IDLE" "$KEPT_TRICKLE"
OUT=$(cat "$IT_DIR/kept-idle")
it_assert_match "kept alive: an idle connection is closed after connection_timeout (5 s; got $OUT)" \
    '^[56]\.' "$OUT"
OUT=$(cat "$IT_DIR/kept-trickle")
it_assert_match "kept alive: trickled headers are closed 3-5 s after their first byte (got $OUT)" \
    '^[3-5]\.' "$OUT"

# --- Half-open uploads expire -------------------------------------------------------

wait_s=$((62 - (SECONDS - HALF_START)))
[ "$wait_s" -gt 0 ] && sleep "$wait_s"
it_check "gc removes the expired uploads" "$RD_BIN" gc --config "$CONF"
it_assert_match "gc counts them" 'removed .* [1-9][0-9]* uploads' "$IT_OUT"
it_assert_eq "half-open: the stalled PATCH's upload is gone" 404 "$(status GET "$URL$STALLED" "${U[@]}")"
left=0
for id in "${HALF_IDS[@]}"; do
    [ -z "$id" ] || [ -e "$ROOT/uploads/$id" ] && left=$((left + 1))
done
it_assert_eq "half-open: the files of all 6 are gone" "6 0" "${#HALF_IDS[@]} $left"
it_assert_eq "half-open: 127.0.0.40 may start uploads again" 202 \
    "$(status POST "$URL/v2/half/open/blobs/uploads/" "${U[@]}" --interface 127.0.0.40)"
it_stop_pid "$RD_PID" registry

# --- TLS versions and ciphers ----------------------------------------------------------

it_make_certs "$IT_DIR/tls" || it_bail "certificate generation failed"
rd_start tls "tls_cert=$IT_DIR/tls/server.crt" "tls_key=$IT_DIR/tls/server.key" \
    header_timeout=3 connection_timeout=20

# tls_probe OPTIONS...: prints the negotiated cipher, or "refused".  The
# client's security level 0 lets it offer what the server must refuse.
tls_probe() {
    local out
    out=$(echo | openssl s_client -connect "127.0.0.1:$RD_PORT" -CAfile "$IT_DIR/tls/ca.crt" \
        "$@" 2>&1)
    if printf '%s' "$out" | grep -q '^Server certificate'; then
        printf '%s' "$out" | sed -n 's/^New, \(.*\), Cipher is \(.*\)$/\1 \2/p' | head -n 1
    else
        echo refused
    fi
}

for version in tls1 tls1_1; do
    it_assert_eq "TLS: -$version is refused" refused "$(tls_probe "-$version" -cipher 'DEFAULT:@SECLEVEL=0')"
done
it_assert_match "TLS: 1.2 is accepted" '^TLSv1\.2 ECDHE-' "$(tls_probe -tls1_2)"
it_assert_match "TLS: 1.3 is accepted" '^TLSv1\.3 TLS_' "$(tls_probe -tls1_3)"
for cipher in AES128-SHA AES256-SHA256 AES128-GCM-SHA256 AES256-GCM-SHA384 \
    ECDHE-RSA-AES128-SHA ECDHE-RSA-AES256-SHA ECDHE-RSA-AES128-SHA256 ECDHE-RSA-AES256-SHA384 \
    DHE-RSA-AES128-GCM-SHA256 DHE-RSA-AES256-SHA DES-CBC3-SHA ECDHE-RSA-DES-CBC3-SHA; do
    it_assert_eq "TLS 1.2: $cipher is refused" refused \
        "$(tls_probe -tls1_2 -cipher "$cipher:@SECLEVEL=0")"
done
for cipher in ECDHE-RSA-AES128-GCM-SHA256 ECDHE-RSA-AES256-GCM-SHA384 ECDHE-RSA-CHACHA20-POLY1305; do
    it_assert_eq "TLS 1.2: $cipher is accepted" "TLSv1.2 $cipher" "$(tls_probe -tls1_2 -cipher "$cipher")"
done
it_assert_eq "TLS: curl is served over the tightened list" 200 \
    "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$IT_DIR/tls/ca.crt" "$RD_URL/v2/")"

# --- Slowloris over TLS, and across a reload ---------------------------------------------

# connection_timeout is 20 s here, so only header_timeout (3 s) can close
# these within 6 s.
OUT=$(python3 "$IT_DIR/slow.py" tls-hello "$RD_PORT")
it_assert_match "TLS slowloris: a trickled ClientHello is closed after 3-5 s (got $OUT)" '^[3-5]\.' "$OUT"
OUT=$(python3 "$IT_DIR/slow.py" tls-trickle "$RD_PORT" "$IT_DIR/tls/ca.crt")
it_assert_match "TLS slowloris: trickled headers are closed after 3-5 s (got $OUT)" '^[3-5]\.' "$OUT"

# SIGHUP starts a new daemon for the certificate.  A connection of the old
# daemon is closed when that daemon stops (it has no request in flight) and
# one of the new daemon by header_timeout.
python3 "$IT_DIR/slow.py" tls-trickle "$RD_PORT" "$IT_DIR/tls/ca.crt" >"$IT_DIR/tls-old" &
TLS_OLD=$!
sleep 1.5
kill -HUP "$RD_PID"
sleep 0.5
OUT=$(python3 "$IT_DIR/slow.py" tls-trickle "$RD_PORT" "$IT_DIR/tls/ca.crt")
it_assert_match "reload: a connection of the new daemon is closed after 3-5 s (got $OUT)" '^[3-5]\.' "$OUT"
wait "$TLS_OLD"
OUT=$(cat "$IT_DIR/tls-old")
it_assert_match "reload: a connection of the old daemon is closed too (got $OUT)" '^[1-5]\.' "$OUT"
it_assert_match "reload: done" 'reload done' "$(cat "$RD_LOG")"
it_assert_eq "reload: curl is served after the slow clients" 200 \
    "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$IT_DIR/tls/ca.crt" "$RD_URL/v2/")"

it_done

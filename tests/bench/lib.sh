# shellcheck shell=bash
#
# Helpers for tests/bench/run.sh: the temporary directory, ports, certificates,
# starting and stopping the registries and nginx, Registry API v2 requests
# with curl, and reading a process's memory counters.
#
# Every process started here is recorded and stopped by PID in bench_cleanup.
# The temporary directory is /tmp/edgecr-bench-XXXXXX. Clean-up always deletes
# the large files and storage roots in it, and deletes the rest unless
# BENCH_KEEP=1.

BENCH_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_REPO_ROOT=$(cd "$BENCH_LIB_DIR/../.." && pwd)

# Ports reserved to the benchmarks. Other developers use other ranges on the
# same machine, so nothing outside this range may be bound.
BENCH_PORT_MIN=27000
BENCH_PORT_MAX=27999

BENCH_USER=bench
BENCH_PASS="bench-pass-$RANDOM$RANDOM"
# shellcheck disable=SC2034 # read by run.sh
BENCH_BASIC=$(printf '%s:%s' "$BENCH_USER" "$BENCH_PASS" | base64 -w0)

# Media types a pulling client sends in Accept for a manifest GET or HEAD.
# shellcheck disable=SC2034 # read by run.sh
BENCH_ACCEPT='application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json'

BENCH_DIR=
BENCH_PIDS=()         # processes started by bench_track_pid, in start order
BENCH_PID_NAMES=()
BENCH_PORTS_TAKEN=()  # ports handed out by bench_free_port

# ---------------------------------------------------------------------------
# Set-up and clean-up

bench_log() {
    printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2
}

# Create the temporary directory and install the clean-up trap.
bench_init() {
    BENCH_DIR=$(mktemp -d /tmp/edgecr-bench-XXXXXX) || {
        echo "bench: mktemp failed" >&2
        exit 2
    }
    # nginx workers run as nobody and must read the blob file in here.
    chmod 755 "$BENCH_DIR"
    trap bench_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

bench_track_pid() {
    BENCH_PIDS+=("$1")
    BENCH_PID_NAMES+=("$2")
}

# Stop one process by PID: SIGTERM, then SIGKILL after TIMEOUT seconds.
bench_stop_pid() {
    local pid=$1 name=${2:-process} timeout=${3:-20} i

    if ! kill -0 "$pid" 2>/dev/null; then
        wait "$pid" 2>/dev/null
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < timeout * 10; i++)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid" 2>/dev/null
            return 0
        fi
        sleep 0.1
    done
    bench_log "$name (pid $pid) did not stop within ${timeout}s of SIGTERM; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
}

bench_cleanup() {
    local i

    for ((i = ${#BENCH_PIDS[@]} - 1; i >= 0; i--)); do
        bench_stop_pid "${BENCH_PIDS[i]}" "${BENCH_PID_NAMES[i]}"
    done
    BENCH_PIDS=()
    BENCH_PID_NAMES=()
    if [ -z "$BENCH_DIR" ] || [ ! -d "$BENCH_DIR" ]; then
        return 0
    fi
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        # Keep logs and results, but never the multi-GiB data.
        rm -rf "$BENCH_DIR"/blob.bin "$BENCH_DIR"/www "$BENCH_DIR"/dd.bin "$BENCH_DIR"/*/storage \
            "$BENCH_DIR"/image "$BENCH_DIR"/image.tar "$BENCH_DIR"/pulled "$BENCH_DIR"/docker/data
        echo "bench: kept $BENCH_DIR (logs and results; blob, image, storage roots and docker data deleted)" >&2
    else
        rm -rf "$BENCH_DIR"
    fi
}

# Print a port of 127.0.0.1 in the benchmark range that nothing listens on and
# that this run has not handed out yet.
bench_free_port() {
    local span=$((BENCH_PORT_MAX - BENCH_PORT_MIN + 1)) start port i handed_out

    start=$((RANDOM % span))
    for ((i = 0; i < span; i++)); do
        port=$((BENCH_PORT_MIN + (start + i) % span))
        for handed_out in "${BENCH_PORTS_TAKEN[@]}"; do
            if [ "$handed_out" = "$port" ]; then
                continue 2
            fi
        done
        if [ -n "$(ss -Htan "sport = :$port" 2>/dev/null)" ]; then
            continue
        fi
        BENCH_PORTS_TAKEN+=("$port")
        echo "$port"
        return 0
    done
    echo "bench: no free port in $BENCH_PORT_MIN-$BENCH_PORT_MAX" >&2
    return 1
}

# Make a CA and a server certificate for 127.0.0.1 in DIR: ca.crt, server.crt,
# server.key.
bench_make_certs() {
    local dir=$1

    mkdir -p "$dir" || return 1
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
        -keyout "$dir/ca.key" -out "$dir/ca.crt" \
        -subj "/CN=edgecr benchmark CA" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        >"$dir/openssl.log" 2>&1 || return 1
    openssl req -new -newkey rsa:2048 -nodes \
        -keyout "$dir/server.key" -out "$dir/server.csr" \
        -subj "/CN=127.0.0.1" >>"$dir/openssl.log" 2>&1 || return 1
    printf '%s\n' \
        'basicConstraints = critical, CA:FALSE' \
        'keyUsage = critical, digitalSignature, keyEncipherment' \
        'extendedKeyUsage = serverAuth' \
        'subjectAltName = IP:127.0.0.1, DNS:localhost' >"$dir/server.ext"
    openssl x509 -req -days 2 -in "$dir/server.csr" \
        -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
        -extfile "$dir/server.ext" -out "$dir/server.crt" \
        >>"$dir/openssl.log" 2>&1 || return 1
    # The servers all run as root here, so the keys need no other reader.
    chmod 600 "$dir/ca.key" "$dir/server.key"
}

# ---------------------------------------------------------------------------
# Servers
#
# bench_server_start IMPL SCHEME [AUTH] sets SRV_PID, SRV_URL, SRV_LOG,
# SRV_NAME and SRV_READY_MS. IMPL is edgecr or reference, SCHEME http or
# https, AUTH auth (HTTP Basic, the default) or none. The storage root is
# $BENCH_DIR/IMPL/storage, and the caller empties it between runs when it
# needs empty storage.

SRV_PID=
SRV_URL=
SRV_LOG=
SRV_NAME=

# Path of the edgecr binary: EDGECR_REGISTRY, relative to the repository root
# unless absolute, default build/edgecr-registry.
bench_edgecr_bin() {
    local bin=${EDGECR_REGISTRY:-build/edgecr-registry}

    case $bin in
    /*) echo "$bin" ;;
    *) echo "$BENCH_REPO_ROOT/$bin" ;;
    esac
}

bench_server_start() {
    local impl=$1 scheme=$2 auth=${3:-auth} dir=$BENCH_DIR/$1 port code i t0

    mkdir -p "$dir/storage" || return 1
    port=$(bench_free_port) || return 1
    SRV_URL=$scheme://127.0.0.1:$port
    SRV_LOG=$dir/$scheme-$auth.log
    SRV_NAME="$impl ($scheme, $auth)"

    t0=$(bench_now_ns)
    case $impl in
    edgecr) bench_start_edgecr "$dir" "$port" "$scheme" "$auth" || return 1 ;;
    reference) bench_start_reference "$dir" "$port" "$scheme" "$auth" || return 1 ;;
    *)
        echo "bench: unknown registry '$impl' (use edgecr or reference)" >&2
        return 1
        ;;
    esac

    # Polls every 10 ms, so SRV_READY_MS is late by up to 10 ms plus one curl start.
    for ((i = 0; i < 2000; i++)); do
        if ! kill -0 "$SRV_PID" 2>/dev/null; then
            bench_log "$SRV_NAME exited during start-up; last lines of $SRV_LOG:"
            tail -n 10 "$SRV_LOG" >&2
            return 1
        fi
        code=$(bench_curl -o /dev/null -w '%{http_code}' "$SRV_URL/v2/" 2>/dev/null)
        if [ "$code" = 200 ]; then
            SRV_READY_MS=$((($(bench_now_ns) - t0) / 1000000))
            bench_log "$SRV_NAME: pid $SRV_PID on $SRV_URL, ready after $SRV_READY_MS ms"
            return 0
        fi
        sleep 0.01
    done
    bench_log "$SRV_NAME did not answer GET /v2/ with 200 on $SRV_URL within 20s (last status: $code)"
    return 1
}

bench_start_edgecr() {
    local dir=$1 port=$2 scheme=$3 auth=$4 bin tls=() auth_args=()

    bin=$(bench_edgecr_bin)
    if [ ! -s "$dir/auth" ]; then
        printf '%s' "$BENCH_PASS" | "$bin" passwd "$BENCH_USER" --auth-file "$dir/auth" \
            >"$dir/passwd.log" 2>&1 || {
            bench_log "'edgecr-registry passwd' failed: $(tail -n 5 "$dir/passwd.log")"
            return 1
        }
    fi
    if [ "$scheme" = https ]; then
        tls=(--tls-cert "$BENCH_DIR/tls/server.crt" --tls-key "$BENCH_DIR/tls/server.key")
    fi
    if [ "$auth" = auth ]; then
        auth_args=(--auth-file "$dir/auth")
    fi
    "$bin" --listen "127.0.0.1:$port" --root "$dir/storage" "${tls[@]}" \
        "${auth_args[@]}" >"$SRV_LOG" 2>&1 &
    SRV_PID=$!
    bench_track_pid "$SRV_PID" "$SRV_NAME"
}

# Both registries log as they do by default, at info level: edgecr one line
# per request, the reference three (an access log line, "authorized request"
# and "response completed"). Their logs go to files in BENCH_DIR.
bench_start_reference() {
    local dir=$1 port=$2 scheme=$3 auth=$4 tls_block='' auth_block=''

    if [ ! -s "$dir/htpasswd" ]; then
        htpasswd -Bbn "$BENCH_USER" "$BENCH_PASS" >"$dir/htpasswd" 2>"$dir/htpasswd.log" || {
            bench_log "htpasswd failed: $(cat "$dir/htpasswd.log")"
            return 1
        }
    fi
    if [ "$scheme" = https ]; then
        tls_block="  tls:
    certificate: $BENCH_DIR/tls/server.crt
    key: $BENCH_DIR/tls/server.key"
    fi
    if [ "$auth" = auth ]; then
        auth_block="auth:
  htpasswd:
    realm: edgecr-bench
    path: $dir/htpasswd"
    fi
    cat >"$dir/config-$scheme.yml" <<EOF
version: 0.1
log:
  level: info
  formatter: text
storage:
  filesystem:
    rootdirectory: $dir/storage
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$port
$tls_block
$auth_block
health:
  storagedriver:
    enabled: false
EOF
    docker-registry serve "$dir/config-$scheme.yml" >"$SRV_LOG" 2>&1 &
    SRV_PID=$!
    bench_track_pid "$SRV_PID" "$SRV_NAME"
}

# Forget PID once it has been waited for, so clean-up never signals a reused PID.
bench_untrack_pid() {
    local i pids=() names=()

    for ((i = 0; i < ${#BENCH_PIDS[@]}; i++)); do
        if [ "${BENCH_PIDS[i]}" != "$1" ]; then
            pids+=("${BENCH_PIDS[i]}")
            names+=("${BENCH_PID_NAMES[i]}")
        fi
    done
    BENCH_PIDS=("${pids[@]}")
    BENCH_PID_NAMES=("${names[@]}")
}

# Stop the server started last by bench_server_start.
bench_server_stop() {
    bench_stop_pid "$SRV_PID" "$SRV_NAME"
    bench_untrack_pid "$SRV_PID"
}

# Start nginx serving $BENCH_DIR/www over HTTP on PORT and HTTPS on TLS_PORT.
# Sets NGINX_PID. sendfile is on, as in Debian's default nginx.conf.
bench_nginx_start() {
    local dir=$BENCH_DIR/nginx port=$1 tls_port=$2 i

    mkdir -p "$dir/tmp" || return 1
    cat >"$dir/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    default_type application/octet-stream;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    server {
        listen 127.0.0.1:$port;
        root $BENCH_DIR/www;
    }
    server {
        listen 127.0.0.1:$tls_port ssl;
        ssl_certificate $BENCH_DIR/tls/server.crt;
        ssl_certificate_key $BENCH_DIR/tls/server.key;
        root $BENCH_DIR/www;
    }
}
EOF
    nginx -e "$dir/error.log" -p "$dir" -c "$dir/nginx.conf" >"$dir/stdout.log" 2>&1 &
    NGINX_PID=$!
    bench_track_pid "$NGINX_PID" nginx
    for ((i = 0; i < 100; i++)); do
        if ! kill -0 "$NGINX_PID" 2>/dev/null; then
            bench_log "nginx exited during start-up: $(tail -n 5 "$dir/error.log" "$dir/stdout.log" 2>/dev/null)"
            return 1
        fi
        if curl -s -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    bench_log "nginx did not answer on port $port within 10s"
    return 1
}

# ---------------------------------------------------------------------------
# Requests

# Run curl with the benchmark's credentials, CA and HTTP/1.1, which container
# clients speak. The caller adds --max-time for large transfers.
bench_curl() {
    curl --http1.1 -sS --cacert "$BENCH_DIR/tls/ca.crt" -u "$BENCH_USER:$BENCH_PASS" "$@"
}

# Print the Location header of the response headers in FILE as an absolute
# URL under SRV_URL.
bench_location() {
    local location

    location=$(tr -d '\r' <"$1" | sed -n 's/^[Ll][Oo][Cc][Aa][Tt][Ii][Oo][Nn]: *//p' | tail -n 1)
    case $location in
    '') return 1 ;;
    http://* | https://*) echo "$location" ;;
    /*) echo "$SRV_URL$location" ;;
    *) return 1 ;;
    esac
}

# Print URL with the digest query parameter added.
bench_with_digest() {
    local url=$1 digest=$2

    case $url in
    *\?*) echo "$url&digest=${digest/:/%3A}" ;;
    *) echo "$url?digest=${digest/:/%3A}" ;;
    esac
}

# Start an upload in REPO and print its URL.
bench_upload_start() {
    local repo=$1 headers=$BENCH_DIR/headers code

    code=$(bench_curl --max-time 30 -X POST -D "$headers" -o /dev/null -w '%{http_code}' \
        "$SRV_URL/v2/$repo/blobs/uploads/") || return 1
    if [ "$code" != 202 ]; then
        bench_log "POST /v2/$repo/blobs/uploads/ returned $code, expected 202"
        return 1
    fi
    bench_location "$headers" || {
        bench_log "POST /v2/$repo/blobs/uploads/ returned no usable Location header"
        return 1
    }
}

# Push FILE to REPO in one PUT (POST, then PUT ?digest= with the body).
bench_push_monolithic() {
    local repo=$1 file=$2 digest=$3 max_time=$4 url code

    url=$(bench_upload_start "$repo") || return 1
    code=$(bench_curl --max-time "$max_time" -X PUT -T "$file" -H 'Expect:' \
        -H 'Content-Type: application/octet-stream' -o /dev/null -w '%{http_code}' \
        "$(bench_with_digest "$url" "$digest")") || return 1
    if [ "$code" != 201 ]; then
        bench_log "monolithic PUT of $digest to $repo returned $code, expected 201"
        return 1
    fi
}

# Push FILE to REPO as a client does: POST, one PATCH with the whole body,
# then PUT ?digest= with an empty body. With MODE "chunked" the PATCH streams
# the body with chunked transfer encoding and no Content-Length, as docker
# sends it; otherwise it carries a Content-Length, as skopeo sends it.
bench_push_patch() {
    local repo=$1 file=$2 digest=$3 max_time=$4 mode=${5:-length} url code headers=$BENCH_DIR/headers
    local framing=()

    if [ "$mode" = chunked ]; then
        framing=(-H 'Transfer-Encoding: chunked')
    fi
    url=$(bench_upload_start "$repo") || return 1
    code=$(bench_curl --max-time "$max_time" -X PATCH -T "$file" -H 'Expect:' "${framing[@]}" \
        -H 'Content-Type: application/octet-stream' -D "$headers" -o /dev/null \
        -w '%{http_code}' "$url") || return 1
    if [ "$code" != 202 ]; then
        bench_log "PATCH of $digest to $repo returned $code, expected 202"
        return 1
    fi
    url=$(bench_location "$headers") || {
        bench_log "PATCH to $repo returned no usable Location header"
        return 1
    }
    code=$(bench_curl --max-time 120 -X PUT -H 'Content-Length: 0' -o /dev/null \
        -w '%{http_code}' "$(bench_with_digest "$url" "$digest")") || return 1
    if [ "$code" != 201 ]; then
        bench_log "closing PUT of $digest to $repo returned $code, expected 201"
        return 1
    fi
}

# Push a one-layer OCI image (small config, small layer) to REPO:TAG from the
# files in DIR.
bench_push_small_image() {
    local repo=$1 tag=$2 dir=$3 config_digest layer_digest code

    mkdir -p "$dir" || return 1
    printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}' \
        >"$dir/config.json"
    head -c 2048 /dev/urandom >"$dir/layer.bin"
    config_digest=sha256:$(sha256sum "$dir/config.json" | cut -d' ' -f1)
    layer_digest=sha256:$(sha256sum "$dir/layer.bin" | cut -d' ' -f1)
    bench_push_monolithic "$repo" "$dir/config.json" "$config_digest" 30 || return 1
    bench_push_monolithic "$repo" "$dir/layer.bin" "$layer_digest" 30 || return 1
    cat >"$dir/manifest.json" <<EOF
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"$config_digest","size":$(stat -c %s "$dir/config.json")},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"$layer_digest","size":2048}]}
EOF
    code=$(bench_curl --max-time 30 -X PUT --data-binary "@$dir/manifest.json" \
        -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
        -o /dev/null -w '%{http_code}' "$SRV_URL/v2/$repo/manifests/$tag") || return 1
    if [ "$code" != 201 ]; then
        bench_log "PUT /v2/$repo/manifests/$tag returned $code, expected 201"
        return 1
    fi
}

# ---------------------------------------------------------------------------
# Measurements

# Print the current time in nanoseconds.
bench_now_ns() {
    date +%s%N
}

# Print FIELD (VmRSS, VmHWM, ...) of /proc/PID/status in KiB.
bench_proc_kib() {
    awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null
}

# Reset the peak RSS (VmHWM) of PID to its current RSS and print that RSS in
# KiB. Writing 5 to clear_refs needs only ptrace access, not CAP_SYS_RESOURCE.
bench_rss_reset() {
    echo 5 >"/proc/$1/clear_refs" 2>/dev/null || return 1
    bench_proc_kib "$1" VmRSS
}

# Print "BYTES/NS" as MiB/s with one decimal.
bench_mib_per_s() {
    awk -v b="$1" -v ns="$2" 'BEGIN { if (ns <= 0) print "-"; else printf "%.1f", b / 1048576 / (ns / 1e9) }'
}

# ---------------------------------------------------------------------------
# Client images and daemons

# Write an OCI image layout to DIR with LAYERS uncompressed tar layers of
# LAYER_MIB MiB of random data each, tagged "v1". Sets IMAGE_MANIFEST_DIGEST
# and IMAGE_BLOBS (digests of the config and the layers).
bench_make_image() {
    local dir=$1 layers=$2 layer_mib=$3 i work=$1.work digest size diff_ids='' layer_json='' config_digest
    local manifest

    mkdir -p "$dir/blobs/sha256" "$work" || return 1
    IMAGE_BLOBS=()
    for ((i = 0; i < layers; i++)); do
        mkdir -p "$work/l$i/data" || return 1
        openssl enc -aes-128-ctr -nosalt -K "$(openssl rand -hex 16)" -iv "$(openssl rand -hex 16)" \
            -in /dev/zero 2>/dev/null | head -c $((layer_mib * 1048576)) >"$work/l$i/data/layer$i.bin"
        tar -C "$work/l$i" -cf "$work/layer.tar" data || return 1
        digest=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
        size=$(stat -c %s "$work/layer.tar")
        mv "$work/layer.tar" "$dir/blobs/sha256/$digest"
        diff_ids+="${diff_ids:+,}\"sha256:$digest\""
        layer_json+="${layer_json:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"sha256:$digest\",\"size\":$size}"
        IMAGE_BLOBS+=("sha256:$digest")
    done
    rm -rf "$work"
    printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[%s]}}' \
        "$diff_ids" >"$dir/config.json"
    config_digest=$(sha256sum "$dir/config.json" | cut -d' ' -f1)
    size=$(stat -c %s "$dir/config.json")
    mv "$dir/config.json" "$dir/blobs/sha256/$config_digest"
    IMAGE_BLOBS=("sha256:$config_digest" "${IMAGE_BLOBS[@]}")
    manifest=$(printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' \
        "$config_digest" "$size" "$layer_json")
    IMAGE_MANIFEST_DIGEST=sha256:$(printf '%s' "$manifest" | sha256sum | cut -d' ' -f1)
    printf '%s' "$manifest" >"$dir/blobs/sha256/${IMAGE_MANIFEST_DIGEST#sha256:}"
    printf '{"imageLayoutVersion":"1.0.0"}' >"$dir/oci-layout"
    printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"v1"}}]}' \
        "$IMAGE_MANIFEST_DIGEST" "${#manifest}" >"$dir/index.json"
}

# Start a private dockerd with its data, socket and configuration under
# $BENCH_DIR/docker, as the container test rig does. Sets DOCKER_HOST and
# DOCKER_CONFIG for the docker CLI. Fails when the daemon does not answer
# within 30 s.
bench_dockerd_start() {
    local dir=$BENCH_DIR/docker i

    mkdir -p "$dir/data" "$dir/exec" "$dir/config" || return 1
    dockerd --iptables=false --ip6tables=false --bridge=none --storage-driver=vfs \
        --data-root="$dir/data" --exec-root="$dir/exec" --pidfile="$dir/dockerd.pid" \
        -H "unix://$dir/docker.sock" >"$dir/dockerd.log" 2>&1 &
    DOCKERD_PID=$!
    bench_track_pid "$DOCKERD_PID" dockerd
    export DOCKER_HOST=unix://$dir/docker.sock DOCKER_CONFIG=$dir/config
    for ((i = 0; i < 300; i++)); do
        if ! kill -0 "$DOCKERD_PID" 2>/dev/null; then
            bench_log "dockerd exited during start-up: $(tail -n 3 "$dir/dockerd.log" | tr '\n' ' ')"
            return 1
        fi
        if docker version >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.1
    done
    bench_log "dockerd did not answer within 30s: $(tail -n 3 "$dir/dockerd.log" | tr '\n' ' ')"
    return 1
}

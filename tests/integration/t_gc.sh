#!/bin/bash
# Garbage collection and delete semantics against a TLS + Basic auth registry
# on 127.0.0.1: the device's delete sequence (tags/list, HEAD with the Docker
# Accept header, DELETE by Docker-Content-Digest), tag and blob deletes,
# "edgecr-registry gc --dry-run" and "gc" while the server runs, shared layers
# kept and unique ones removed (files and HEAD), the survivor still pulls,
# manifest pushes racing a gc loop never leave a manifest whose blob is
# gone, and the /v2/_edgecr/ usage, repository and gc endpoints agree with
# the files.  Blob files are removed only once they are 60 s old (see registry/gc.h),
# so the script waits about a minute.
#
# Environment: EDGECR_REGISTRY (binary, default build/edgecr-registry,
# relative to the repository root), IT_KEEP=1 keeps the temporary directory.
set -u

. "$(dirname "$0")/lib.sh"

# This test's servers use 23000-23999.
IT_PORT_MIN=23000
IT_PORT_MAX=23999

it_init curl jq openssl sha256sum
IT_VARLIB_CACHE_EXISTED=1

BIN=${EDGECR_REGISTRY:-build/edgecr-registry}
case $BIN in /*) ;; *) BIN=$IT_REPO_ROOT/$BIN ;; esac
[ -x "$BIN" ] || it_bail "registry binary not found at $BIN"

D=$IT_DIR
ROOT=$D/root
HOST=$IT_HOSTNAME
PORT=$(it_free_port) || exit 2
URL=https://$HOST:$PORT
USER=gcuser
PASS="gc-pass-$RANDOM$RANDOM"
REG_LOG=$D/registry.log
CONF=$D/registry.conf
DOCKER_MT=application/vnd.docker.distribution.manifest.v2+json

it_make_certs "$D/tls" || it_bail "certificate generation failed"
printf '%s\n' "$PASS" | "$BIN" passwd "$USER" --auth-file "$D/auth" ||
    it_bail "edgecr-registry passwd failed"
cat >"$CONF" <<CONF
listen = 127.0.0.1:$PORT
root = $ROOT
tls_cert = $D/tls/server.crt
tls_key = $D/tls/server.key
auth_file = $D/auth
gc_grace_period = 0
CONF

cr() {
    curl --http1.1 -sS --cacert "$D/tls/ca.crt" --resolve "$HOST:$PORT:127.0.0.1" "$@"
}

# req METHOD PATH [CURL ARGS...]: authenticated request; ST is the status,
# $D/h the headers, $D/b the body.
req() {
    local method=$1 path=$2
    shift 2
    if [ "$method" = HEAD ]; then
        set -- -I "$@"
    else
        set -- -X "$method" "$@"
    fi
    ST=$(cr -u "$USER:$PASS" -o "$D/b" -D "$D/h" -w '%{http_code}' "$@" "$URL$path")
}

hdr() {
    tr -d '\r' <"$D/h" | awk -v n="$(printf '%s:' "$1" | tr 'A-Z' 'a-z')" \
        'tolower($1) == n { sub(/^[^:]*:[ ]*/, ""); v = $0 } END { print v }'
}

errcode() {
    jq -r '.errors[0].code // empty' <"$D/b" 2>/dev/null
}

expect() {
    local name=$1 status=$2 code=${3:-}

    if [ "$ST" != "$status" ]; then
        it_not_ok "$name" "expected status $status, got $ST" "$(head -c 400 "$D/b")"
        return 1
    fi
    if [ -n "$code" ] && [ "$(errcode)" != "$code" ]; then
        it_not_ok "$name" "expected error code $code, got '$(errcode)'" "$(head -c 400 "$D/b")"
        return 1
    fi
    it_ok "$name"
}

digest_of() {
    echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"
}

blob_file() {
    local hex=${1#sha256:}
    echo "$ROOT/blobs/sha256/${hex:0:2}/$hex"
}

push_blob() {
    req POST "/v2/$1/blobs/uploads/?digest=$(digest_of "$2")" \
        -H 'Content-Type: application/octet-stream' --data-binary "@$2"
}

# image_manifest OUT CONFIG LAYER...: writes a Docker v2 manifest.
image_manifest() {
    local out=$1 config=$2 layer layers=
    shift 2
    for layer in "$@"; do
        layers+="${layers:+,}{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"digest\":\"$(digest_of "$layer")\",\"size\":$(stat -c %s "$layer")}"
    done
    printf '{"schemaVersion":2,"mediaType":"%s","config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"%s","size":%s},"layers":[%s]}' \
        "$DOCKER_MT" "$(digest_of "$config")" "$(stat -c %s "$config")" "$layers" >"$out"
}

# push_image REPO TAG CONFIG LAYER...: pushes the blobs and the manifest.
push_image() {
    local repo=$1 tag=$2 blob
    shift 2
    for blob in "$@"; do
        push_blob "$repo" "$blob"
        [ "$ST" = 201 ] || return 1
    done
    image_manifest "$D/manifest-${repo//\//_}-$tag" "$@"
    req PUT "/v2/$repo/manifests/$tag" -H "Content-Type: $DOCKER_MT" \
        --data-binary "@$D/manifest-${repo//\//_}-$tag"
    [ "$ST" = 201 ]
}

registry_start() {
    local i code

    "$BIN" --config "$CONF" >>"$REG_LOG" 2>&1 &
    REG_PID=$!
    it_track_pid "$REG_PID" edgecr-registry
    for ((i = 0; i < 100; i++)); do
        code=$(cr -o /dev/null -w '%{http_code}' "$URL/v2/" 2>/dev/null)
        [ "$code" = 401 ] && return 0
        kill -0 "$REG_PID" 2>/dev/null || it_bail "registry exited during start-up"
        sleep 0.1
    done
    it_bail "registry did not answer on $URL"
}

store_files() {
    (cd "$ROOT/blobs" && find . -type f | sort)
}

registry_start

# ---------------------------------------------------------------------------
# Images: app/gc:v1 and app/gc:v2 share layer S; app/solo has one image.

for name in config1 config2 config3 shared unique1 unique2 solo; do
    printf '{"name":"%s","n":%s}' "$name" "$RANDOM$RANDOM" >"$D/$name"
done
head -c 300000 /dev/urandom >>"$D/shared"
head -c 200000 /dev/urandom >>"$D/unique2"

it_check "push app/gc:v1" push_image app/gc v1 "$D/config1" "$D/shared" "$D/unique1"
it_check "push app/gc:v2" push_image app/gc v2 "$D/config2" "$D/shared" "$D/unique2"
it_check "push app/solo:v1" push_image app/solo v1 "$D/config3" "$D/solo"
push_blob app/loose "$D/solo"
expect "push a blob without a manifest" 201
PUSHED_AT=$(date +%s)

# ---------------------------------------------------------------------------
# Delete semantics: the device's sequence for app/gc:v2.

req GET /v2/app/gc/tags/list
it_assert_eq "tags/list before the delete" '["v1","v2"]' "$(jq -c '.tags | sort' "$D/b")"
req HEAD /v2/app/gc/manifests/v2 -H "Accept: $DOCKER_MT"
expect "HEAD manifest with the Docker Accept header" 200
V2=$(hdr Docker-Content-Digest)
it_assert_eq "HEAD gives the manifest digest" "$(digest_of "$D/manifest-app_gc-v2")" "$V2"
req DELETE "/v2/app/gc/manifests/$V2"
expect "DELETE manifest by digest is 202" 202
req GET /v2/app/gc/tags/list
it_assert_eq "deleted manifest's tag leaves tags/list" '["v1"]' "$(jq -c '.tags' "$D/b")"
req GET "/v2/app/gc/manifests/$V2"
expect "deleted manifest is unknown" 404 MANIFEST_UNKNOWN
req DELETE "/v2/app/gc/manifests/$V2"
expect "second DELETE of the manifest is 404" 404 MANIFEST_UNKNOWN

# Tag delete, then the manifest by digest, for app/solo.
SOLO=$(digest_of "$D/manifest-app_solo-v1")
req DELETE /v2/app/solo/manifests/v1
expect "DELETE by tag is 202" 202
req GET "/v2/app/solo/manifests/$SOLO"
expect "manifest stays after its tag is deleted" 200
req DELETE "/v2/app/solo/manifests/$SOLO"
expect "DELETE the untagged manifest by digest" 202

req DELETE "/v2/app/loose/blobs/$(digest_of "$D/solo")"
expect "DELETE blob is 202" 202
req HEAD "/v2/app/loose/blobs/$(digest_of "$D/solo")"
expect "deleted blob link is 404" 404

# ---------------------------------------------------------------------------
# Dry run changes nothing.

BEFORE=$(store_files)
DB_BEFORE=$(sha256sum <"$ROOT/metadata.db")
"$BIN" gc --dry-run --config "$CONF" >"$D/dry.out" 2>"$D/dry.err"
it_assert_eq "gc --dry-run exits 0" 0 "$?"
it_assert_match "gc --dry-run reports" 'gc dry run: would remove .* blob links' "$(cat "$D/dry.out")"
it_assert_eq "gc --dry-run leaves the files" "$BEFORE" "$(store_files)"
req GET /v2/_catalog
it_assert_match "catalog before gc lists app/solo" 'app/solo' "$(jq -c .repositories "$D/b")"

# ---------------------------------------------------------------------------
# gc while the server runs, once the files are past the 60 s settle time.

WAIT=$((PUSHED_AT + 62 - $(date +%s)))
[ "$WAIT" -gt 0 ] && sleep "$WAIT"
"$BIN" gc --config "$CONF" >"$D/gc.out" 2>"$D/gc.err"
it_assert_eq "gc exits 0" 0 "$?"
cat "$D/gc.out" | sed 's/^/# /'
# The API deleted the manifests; gc removes their links and files: config2,
# unique2, config3 and solo as links; those four and both manifests as blobs.
it_assert_match "gc reports what it removed" '^gc: removed 0 manifests, 4 blob links, 6 blobs' \
    "$(cat "$D/gc.out")"

# The usage endpoint: the last run, the totals and each repository.
req GET /v2/_edgecr/usage
expect "GET /v2/_edgecr/usage" 200
it_assert_eq "usage shows the last gc's blobs and bytes" \
    "$(sed -n 's/^gc: removed .*, \([0-9]*\) blobs (\([0-9]*\) bytes.*/\1 \2/p' "$D/gc.out")" \
    "$(jq -r '"\(.lastGc.blobs) \(.lastGc.bytesFreed)"' "$D/b")"
it_assert_match "usage shows when the last gc started" "^$(date -u +%Y-%m-%d)T[0-9:]{8}Z\$" \
    "$(jq -r .lastGc.startedAt "$D/b")"
it_assert_eq "usage blob bytes are the bytes of the files" \
    "$(find "$ROOT/blobs" -type f -printf '%s\n' | awk '{ n += $1 } END { print n + 0 }')" \
    "$(jq -r .blobBytes "$D/b")"
APP_GC_BYTES=$(($(stat -c %s "$D/config1") + $(stat -c %s "$D/shared") + $(stat -c %s "$D/unique1") +
    $(stat -c %s "$D/manifest-app_gc-v1")))
it_assert_eq "usage lists each repository's bytes" "[{\"name\":\"app/gc\",\"bytes\":$APP_GC_BYTES}]" \
    "$(jq -c .repositories "$D/b")"
it_assert_eq "usage shows no limit" null "$(jq -r .limitBytes "$D/b")"
it_assert_eq "usage without credentials is 401" 401 \
    "$(cr -o /dev/null -w '%{http_code}' "$URL/v2/_edgecr/usage")"
it_assert_eq "gc over HTTP without credentials is 401" 401 \
    "$(cr -o /dev/null -w '%{http_code}' -X POST "$URL/v2/_edgecr/gc")"
req GET /v2/_edgecr/repositories/app/gc
expect "GET /v2/_edgecr/repositories/app/gc" 200
it_assert_eq "repository listing gives tag, digest and size" \
    "v1 $(digest_of "$D/manifest-app_gc-v1") $APP_GC_BYTES" \
    "$(jq -r '.tags[] | "\(.tag) \(.digest) \(.sizeBytes)"' "$D/b")"
it_assert_match "repository listing gives the push time" "^$(date -u +%Y-%m-%d)T[0-9:]{8}Z\$" \
    "$(jq -r '.tags[0].pushedAt' "$D/b")"
req GET /v2/_edgecr/repositories/app/solo
expect "repository listing of a collected repository is NAME_UNKNOWN" 404 NAME_UNKNOWN

for f in config1 shared unique1; do
    it_check "file of $f kept" test -f "$(blob_file "$(digest_of "$D/$f")")"
    req HEAD "/v2/app/gc/blobs/$(digest_of "$D/$f")"
    expect "HEAD $f after gc is 200" 200
done
for f in config2 unique2 manifest-app_gc-v2; do
    it_check_fails "file of $f removed" test -e "$(blob_file "$(digest_of "$D/$f")")"
done
req HEAD "/v2/app/gc/blobs/$(digest_of "$D/unique2")"
expect "HEAD of a removed layer is 404" 404
it_check_fails "file of the solo layer removed" test -e "$(blob_file "$(digest_of "$D/solo")")"
req GET /v2/_catalog
it_assert_eq "catalog after gc" '["app/gc"]' "$(jq -c .repositories "$D/b")"

# The survivor still pulls: manifest by tag and every blob it names.
req GET /v2/app/gc/manifests/v1 -H "Accept: $DOCKER_MT"
expect "survivor manifest GET" 200
for d in $(jq -r '.config.digest, .layers[].digest' "$D/b"); do
    req GET "/v2/app/gc/blobs/$d"
    it_assert_eq "survivor blob $d pulls intact" "$d" "$(digest_of "$D/b")"
done

"$BIN" gc --config "$CONF" >"$D/gc2.out" 2>&1
it_assert_match "second gc removes nothing" '^gc: removed 0 manifests, 0 blob links, 0 blobs' \
    "$(cat "$D/gc2.out")"
req POST /v2/_edgecr/gc
expect "POST /v2/_edgecr/gc runs a collection" 200
GC_HTTP=$(jq -c . "$D/b")
it_assert_eq "gc over HTTP removes nothing more" 0 "$(jq -r .blobs <<<"$GC_HTTP")"
req GET /v2/_edgecr/usage
it_assert_eq "usage shows the gc run over HTTP" "$GC_HTTP" "$(jq -c .lastGc "$D/b")"

# An upload in progress survives gc (with grace period 0) and finishes.
req POST /v2/app/gc/blobs/uploads/
expect "start an upload" 202
UPLOAD=$(hdr Location)
"$BIN" gc --config "$CONF" >/dev/null 2>&1
req PATCH "$UPLOAD" -H 'Content-Type: application/octet-stream' --data-binary "@$D/unique2"
expect "upload in progress continues after gc" 202
req PUT "$UPLOAD?digest=$(digest_of "$D/unique2")" -H 'Content-Type: application/octet-stream'
expect "upload in progress finishes after gc" 201

# ---------------------------------------------------------------------------
# Manifest pushes racing a gc loop: each PUT gets 201 with every blob
# readable, or MANIFEST_BLOB_UNKNOWN; never a manifest with a missing blob.

V1=$(digest_of "$D/manifest-app_gc-v1")
# A random pause of up to 0.1 s between runs lets some pushes finish between
# two sweeps and others meet one.
( while [ ! -e "$D/stop-gc" ]; do
    "$BIN" gc --config "$CONF" >>"$D/gc-loop.out" 2>&1
    sleep "0.$((RANDOM % 10))"
done ) &
GC_LOOP=$!
it_track_pid "$GC_LOOP" "gc loop"
created=0 refused=0 bad=0
for ((i = 0; i < 20; i++)); do
    req DELETE "/v2/app/gc/manifests/$V1"
    # Odd rounds skip the blobs, as a client does when HEAD found them: a
    # sweep in between then makes the PUT fail.
    if ((i % 2 == 0)); then
        for f in config1 shared unique1; do push_blob app/gc "$D/$f"; done
    fi
    req PUT /v2/app/gc/manifests/v1 -H "Content-Type: $DOCKER_MT" --data-binary "@$D/manifest-app_gc-v1"
    if [ "$ST" = 201 ]; then
        created=$((created + 1))
        for f in config1 shared unique1; do
            req GET "/v2/app/gc/blobs/$(digest_of "$D/$f")"
            [ "$(digest_of "$D/b")" = "$(digest_of "$D/$f")" ] || bad=$((bad + 1))
        done
    elif [ "$(errcode)" = MANIFEST_BLOB_UNKNOWN ]; then
        refused=$((refused + 1))
        [ "$refused" = 1 ] && echo "# first refusal: $(head -c 300 "$D/b")"
    else
        bad=$((bad + 1))
    fi
done
touch "$D/stop-gc"
wait "$GC_LOOP"
echo "# racing pushes: $created created, $refused refused with MANIFEST_BLOB_UNKNOWN"
it_assert_eq "no racing push left a manifest with a missing blob" 0 "$bad"
it_check_fails "gc loop reported no failure" grep -q failed "$D/gc-loop.out"
it_stop_pid "$REG_PID" edgecr-registry

# ---------------------------------------------------------------------------
# Quota: a registry on its own root with storage_limit = 1M.

# switch_registry NAME ROOT EXTRA-CONFIG: starts a registry on a new port.
switch_registry() {
    PORT=$(it_free_port) || exit 2
    URL=https://$HOST:$PORT
    ROOT=$2
    CONF=$D/$1.conf
    cat >"$CONF" <<CONF
listen = 127.0.0.1:$PORT
root = $ROOT
tls_cert = $D/tls/server.crt
tls_key = $D/tls/server.key
auth_file = $D/auth
$3
CONF
    registry_start
}

upload_files() {
    find "$ROOT/uploads" -type f | wc -l
}

switch_registry quota "$D/quota-root" 'storage_limit = 1M'
head -c 600000 /dev/urandom >"$D/small"
head -c 700000 /dev/urandom >"$D/big"
push_blob q/app "$D/small"
expect "blob under the storage limit is 201" 201
push_blob q/app "$D/big"
expect "blob past the storage limit is DENIED" 403 DENIED
it_assert_match "DENIED names used and limit" 'used of 1.0 MiB \(storage_limit\)' \
    "$(jq -r '.errors[0].detail' "$D/b")"
it_assert_eq "no partial upload file after DENIED" 0 "$(upload_files)"
req POST /v2/q/app/blobs/uploads/
UPLOAD=$(hdr Location)
req PATCH "$UPLOAD" -H 'Content-Type: application/octet-stream' --data-binary "@$D/big"
expect "chunk past the storage limit is DENIED" 403 DENIED
req GET "$UPLOAD"
expect "refused upload is removed" 404 BLOB_UPLOAD_UNKNOWN
it_assert_eq "no upload file after a refused chunk" 0 "$(upload_files)"
"$BIN" gc --dry-run --config "$CONF" >"$D/usage.out" 2>&1
it_assert_match "gc prints the usage" 'usage: repository q/app 600000 bytes' "$(cat "$D/usage.out")"

# An unfinished upload counts toward the limit: 600000 bytes of blobs and
# 300000 of upload leave no room for 200000 more.
head -c 300000 /dev/urandom >"$D/part"
head -c 200000 /dev/urandom >"$D/fifth"
req POST /v2/q/app/blobs/uploads/
ABANDONED=$(hdr Location)
req PATCH "$ABANDONED" -H 'Content-Type: application/octet-stream' --data-binary "@$D/part"
expect "unfinished upload under the limit is accepted" 202
req GET /v2/_edgecr/usage
it_assert_eq "usage counts the unfinished upload" "600000 300000 900000" \
    "$(jq -r '"\(.blobBytes) \(.uploadBytes) \(.usedBytes)"' "$D/b")"
# The quota reads the upload files at most once a second.
sleep 1.1
push_blob q/app "$D/fifth"
expect "blob that fits only without the upload is DENIED" 403 DENIED
it_assert_match "DENIED counts the upload as used" '^storage limit reached: 878\.9 KiB used of 1\.0 MiB' \
    "$(jq -r '.errors[0].message' "$D/b")"
req DELETE "$ABANDONED"
expect "cancel the unfinished upload" 204
sleep 1.1
push_blob q/app "$D/fifth"
expect "blob fits once the upload is gone" 201
it_stop_pid "$REG_PID" edgecr-registry

# ---------------------------------------------------------------------------
# A full disk: a 20 MiB tmpfs as the storage root (root only).

if [ "$(id -u)" != 0 ]; then
    it_ok "ENOSPC on a small tmpfs # SKIP needs root"
    it_done
    exit $?
fi
mkdir -p "$D/small-fs"
mount -t tmpfs -o size=20m tmpfs "$D/small-fs" || it_bail "cannot mount a tmpfs"
switch_registry full "$D/small-fs/root" 'min_free_space = 0'
it_check "push an image before the disk fills" push_image full/app v1 "$D/config1" "$D/small"
head -c 25000000 /dev/urandom >"$D/huge"
push_blob full/app "$D/huge"
expect "upload that fills the disk gets 507" 507 UNKNOWN
it_assert_eq "no upload file after ENOSPC" 0 "$(upload_files)"
req GET "/v2/full/app/blobs/$(digest_of "$D/small")"
it_assert_eq "pull after ENOSPC still works" "$(digest_of "$D/small")" "$(digest_of "$D/b")"
req GET /v2/full/app/manifests/v1
expect "manifest GET after ENOSPC" 200
it_check "push after ENOSPC works" push_image full/app v2 "$D/config2" "$D/unique1"
it_stop_pid "$REG_PID" edgecr-registry

switch_registry floor "$D/small-fs/floor" 'min_free_space = 15M'
head -c 8000000 /dev/urandom >"$D/eight"
push_blob floor/app "$D/eight"
expect "upload below min_free_space is DENIED" 403 DENIED
it_assert_match "DENIED names min_free_space" 'min_free_space' "$(jq -r '.errors[0].detail' "$D/b")"
it_assert_eq "no upload file after the floor refusal" 0 "$(upload_files)"

it_done

#!/bin/bash
#
# Garbage collection while 8 clients push and pull, against a plain HTTP +
# Basic auth registry on 127.0.0.1 (ports 24000-24999, about 90 s).
#
# Before the run, 4 images are pushed and deleted. Then 8 curl clients loop.
# Each pushes a small image of its own: a shared base layer, a unique layer
# and a config, then the manifest. It records the digest of every manifest
# acknowledged with 201. Then it pulls a manifest another client had
# acknowledged and checks the sha256 of every blob. Meanwhile collections
# run one after the other, alternately "edgecr-registry gc" on the server's
# configuration and POST /v2/_edgecr/gc.
#
# What may fail: the clients push each blob within a second or so of its
# manifest, far inside gc_grace_period (GRACE, 30 s), so a collection must
# keep every blob they pushed. The only documented race answer,
# MANIFEST_BLOB_UNKNOWN on the manifest PUT, is accepted only for a client
# whose first blob was acknowledged GRACE seconds or more before the PUT;
# every other error fails the test. Afterwards every acknowledged manifest
# must pull whole, fsck must be clean, the deleted images' files must be
# gone once they are past the 60 s settle time, and GET /v2/_edgecr/usage
# must agree with the files.
#
# Environment: EDGECR_REGISTRY (binary, default build/edgecr-registry),
# GC_ONLINE_SECONDS (length of the concurrent phase, default 40),
# IT_KEEP=1 keeps the temporary directory.
set -u

. "$(dirname "$0")/lib.sh"

IT_PORT_MIN=24000
IT_PORT_MAX=24999

it_init curl jq sha256sum
BIN=${EDGECR_REGISTRY:-build/edgecr-registry}
case $BIN in /*) ;; *) BIN=$IT_REPO_ROOT/$BIN ;; esac
[ -x "$BIN" ] || it_bail "registry binary not found at $BIN"

D=$IT_DIR
ROOT=$D/root
PORT=$(it_free_port) || exit 2
URL=http://127.0.0.1:$PORT
USER=gcuser
PASS="gc-pass-$RANDOM$RANDOM"
CONF=$D/registry.conf
REG_LOG=$D/registry.log
GRACE=30
CLIENTS=8
PHASE=${GC_ONLINE_SECONDS:-40}
MT=application/vnd.oci.image.manifest.v1+json

printf '%s\n' "$PASS" | "$BIN" passwd "$USER" --auth-file "$D/auth" ||
    it_bail "edgecr-registry passwd failed"
cat >"$CONF" <<CONF
listen = 127.0.0.1:$PORT
root = $ROOT
auth_file = $D/auth
gc_grace_period = $GRACE
min_free_space = 0
CONF

"$BIN" --config "$CONF" >>"$REG_LOG" 2>&1 &
REG_PID=$!
it_track_pid "$REG_PID" edgecr-registry
for ((i = 0; i < 100; i++)); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/v2/")" = 401 ] && break
    kill -0 "$REG_PID" 2>/dev/null || it_bail "registry exited during start-up"
    sleep 0.1
done

# c CURL-ARGS...: an authenticated request.
c() {
    curl -sS -u "$USER:$PASS" "$@"
}

digest_of() {
    echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"
}

blob_file() {
    local hex=${1#sha256:}
    echo "$ROOT/blobs/sha256/${hex:0:2}/$hex"
}

# push_blob REPO FILE: prints the status of a monolithic upload.
push_blob() {
    c -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/octet-stream' \
        --data-binary "@$2" "$URL/v2/$1/blobs/uploads/?digest=$(digest_of "$2")"
}

# write_manifest OUT CONFIG LAYER...
write_manifest() {
    local out=$1 config=$2 layer layers=
    shift 2
    for layer in "$@"; do
        layers+="${layers:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"$(digest_of "$layer")\",\"size\":$(stat -c %s "$layer")}"
    done
    printf '{"schemaVersion":2,"mediaType":"%s","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[%s]}' \
        "$MT" "$(digest_of "$config")" "$(stat -c %s "$config")" "$layers" >"$out"
}

# pull_whole REPO DIGEST DIR: fetches the manifest and every blob it names
# in one curl and checks each sha256.  Prints what failed; returns 1 then.
pull_whole() {
    local repo=$1 digest=$2 dir=$3 d args=() n=0

    c -f -o "$dir/m" -H "Accept: $MT" "$URL/v2/$repo/manifests/$digest" 2>"$dir/err" || {
        echo "GET manifest $repo@$digest: $(cat "$dir/err")"
        return 1
    }
    [ "$(digest_of "$dir/m")" = "$digest" ] || {
        echo "manifest $repo@$digest has other bytes"
        return 1
    }
    for d in $(jq -r '.config.digest, .layers[].digest' "$dir/m"); do
        args+=(-o "$dir/b$n" "$URL/v2/$repo/blobs/$d")
        n=$((n + 1))
    done
    c -f "${args[@]}" 2>"$dir/err" || {
        echo "GET blobs of $repo@$digest: $(cat "$dir/err")"
        return 1
    }
    n=0
    for d in $(jq -r '.config.digest, .layers[].digest' "$dir/m"); do
        [ "$(digest_of "$dir/b$n")" = "$d" ] || {
            echo "blob $d of $repo@$digest has other bytes"
            return 1
        }
        n=$((n + 1))
    done
}

# ---------------------------------------------------------------------------
# Images deleted before the run: each has the shared base layer, a unique
# 100 KB layer and a config.

head -c 50000 /dev/urandom >"$D/base"
DOOMED_BYTES=0
DOOMED_FILES=()
for n in 1 2 3 4; do
    head -c 100000 /dev/urandom >"$D/doomed-layer-$n"
    printf '{"doomed":%s,"n":"%s"}' "$n" "$RANDOM$RANDOM" >"$D/doomed-config-$n"
    for f in base "doomed-layer-$n" "doomed-config-$n"; do
        [ "$(push_blob "doomed/$n" "$D/$f")" = 201 ] || it_bail "push of doomed/$n failed"
    done
    write_manifest "$D/doomed-manifest-$n" "$D/doomed-config-$n" "$D/base" "$D/doomed-layer-$n"
    [ "$(c -o /dev/null -w '%{http_code}' -X PUT -H "Content-Type: $MT" \
        --data-binary "@$D/doomed-manifest-$n" "$URL/v2/doomed/$n/manifests/v1")" = 201 ] ||
        it_bail "manifest push of doomed/$n failed"
    for f in "doomed-layer-$n" "doomed-config-$n" "doomed-manifest-$n"; do
        DOOMED_BYTES=$((DOOMED_BYTES + $(stat -c %s "$D/$f")))
        DOOMED_FILES+=("$(blob_file "$(digest_of "$D/$f")")")
    done
done
DOOMED_AT=$(date +%s)
for n in 1 2 3 4; do
    [ "$(c -o /dev/null -w '%{http_code}' -X DELETE \
        "$URL/v2/doomed/$n/manifests/$(digest_of "$D/doomed-manifest-$n")")" = 202 ] ||
        it_bail "delete of doomed/$n failed"
done
USED_BEFORE=$(c "$URL/v2/_edgecr/usage" | jq -r .blobBytes)
echo "# deleted 4 images of $DOOMED_BYTES bytes (besides the base layer); usage $USED_BEFORE bytes"

# ---------------------------------------------------------------------------
# The concurrent phase.

# client K: pushes and pulls until $D/stop exists.  Writes "REPO DIGEST"
# lines to $D/acked.K, one line per problem to $D/errors.K, and its counts to
# $D/counts.K.
client() {
    local k=$1 dir=$D/client-$k i=0 pulls=0 tolerated=0 repo=client$k/app
    local f st first elapsed digest line others

    mkdir -p "$dir"
    : >"$D/acked.$k"
    : >"$D/errors.$k"
    while [ ! -e "$D/stop" ]; do
        i=$((i + 1))
        head -c $((2000 + RANDOM % 20000)) /dev/urandom >"$dir/layer"
        printf '{"client":%s,"round":%s,"n":"%s"}' "$k" "$i" "$RANDOM$RANDOM" >"$dir/config"
        write_manifest "$dir/manifest" "$dir/config" "$D/base" "$dir/layer"
        first=
        for f in "$D/base" "$dir/layer" "$dir/config"; do
            st=$(push_blob "$repo" "$f")
            [ -z "$first" ] && first=$EPOCHSECONDS
            [ "$st" = 201 ] || echo "round $i: blob push got $st" >>"$D/errors.$k"
        done
        st=$(c -o "$dir/put" -w '%{http_code}' -X PUT -H "Content-Type: $MT" \
            --data-binary "@$dir/manifest" "$URL/v2/$repo/manifests/r$i")
        digest=$(digest_of "$dir/manifest")
        if [ "$st" = 201 ]; then
            echo "$repo $digest" >>"$D/acked.$k"
        else
            elapsed=$((EPOCHSECONDS - first))
            if [ "$st" = 400 ] && [ "$(jq -r '.errors[0].code' "$dir/put")" = MANIFEST_BLOB_UNKNOWN ] &&
                [ "$elapsed" -ge "$GRACE" ]; then
                tolerated=$((tolerated + 1))
            else
                echo "round $i: manifest PUT got $st after ${elapsed}s: $(head -c 200 "$dir/put")" \
                    >>"$D/errors.$k"
            fi
        fi
        # Pull a manifest another client had acknowledged.
        others=$(cat "$D"/acked.* 2>/dev/null | grep -v "^$repo " | shuf -n 1)
        if [ -n "$others" ]; then
            if line=$(pull_whole ${others% *} ${others#* } "$dir"); then
                pulls=$((pulls + 1))
            else
                echo "round $i: pull: $line" >>"$D/errors.$k"
            fi
        fi
        sleep 0.3
    done
    echo "$i $pulls $tolerated" >"$D/counts.$k"
}

# The collections: the command and the HTTP endpoint in turn.
gc_loop() {
    local n=0 st

    : >"$D/gc-runs"
    while [ ! -e "$D/stop" ]; do
        if ((n % 2 == 0)); then
            "$BIN" gc --config "$CONF" >>"$D/gc-loop.out" 2>&1
            st=$?
            if [ "$st" = 0 ]; then
                echo command >>"$D/gc-runs"
            else
                echo "command failed with exit status $st" >>"$D/gc-runs"
            fi
        else
            if [ "$(c -o "$D/gc-http.json" -w '%{http_code}' -X POST "$URL/v2/_edgecr/gc")" = 200 ]; then
                echo http >>"$D/gc-runs"
            else
                echo "http failed: $(head -c 200 "$D/gc-http.json")" >>"$D/gc-runs"
            fi
        fi
        n=$((n + 1))
        sleep 2
    done
}

gc_loop &
GC_PID=$!
it_track_pid "$GC_PID" "gc loop"
CLIENT_PIDS=()
for ((k = 1; k <= CLIENTS; k++)); do
    client "$k" &
    CLIENT_PIDS+=($!)
    it_track_pid "$!" "client $k"
done
sleep "$PHASE"
touch "$D/stop"
for pid in "${CLIENT_PIDS[@]}" "$GC_PID"; do
    wait "$pid"
done

rounds=0 pulls=0 tolerated=0
for ((k = 1; k <= CLIENTS; k++)); do
    read -r r p t <"$D/counts.$k" || it_not_ok "client $k finished" "no counts written"
    rounds=$((rounds + ${r:-0})) pulls=$((pulls + ${p:-0})) tolerated=$((tolerated + ${t:-0}))
done
ACKED=$(cat "$D"/acked.* | wc -l)
echo "# $rounds rounds, $ACKED manifests acknowledged, $pulls whole pulls of other clients' images," \
    "$tolerated MANIFEST_BLOB_UNKNOWN after the grace period"
echo "# collections: $(sort "$D/gc-runs" | uniq -c | tr -s ' \n' ' ')"

errors=$(cat "$D"/errors.*)
it_assert_eq "no client got an error" "" "$errors"
it_assert_eq "every push was acknowledged" "$rounds" "$((ACKED + tolerated))"
it_assert_match "clients pushed and pulled" '^[1-9][0-9]+ [1-9][0-9]*$' "$ACKED $pulls"
it_assert_match "gc ran as a command during the pushes" '[1-9]' "$(grep -c '^command$' "$D/gc-runs")"
it_assert_match "gc ran over HTTP during the pushes" '[1-9]' "$(grep -c '^http$' "$D/gc-runs")"
it_assert_eq "no collection failed" 0 "$(grep -c failed "$D/gc-runs")" \
    "$(grep -v '^\(gc: removed\|usage: \)' "$D/gc-loop.out"; grep failed "$D/gc-runs")"

# ---------------------------------------------------------------------------
# Afterwards: one last collection once the deleted images' files are past the
# settle time, then every acknowledged manifest pulls whole.

WAIT=$((DOOMED_AT + 62 - $(date +%s)))
[ "$WAIT" -gt 0 ] && sleep "$WAIT"
"$BIN" gc --config "$CONF" >"$D/gc-final.out" 2>&1
it_assert_eq "last gc exits 0" 0 "$?"
sed 's/^/# /' "$D/gc-final.out"

gone=0
for f in "${DOOMED_FILES[@]}"; do
    [ -e "$f" ] || gone=$((gone + 1))
done
it_assert_eq "files of the deleted images are gone" "${#DOOMED_FILES[@]}" "$gone"
it_check "shared base layer kept" test -f "$(blob_file "$(digest_of "$D/base")")"

mkdir -p "$D/verify"
bad=0
while read -r repo digest; do
    if ! line=$(pull_whole "$repo" "$digest" "$D/verify"); then
        bad=$((bad + 1))
        [ "$bad" -le 3 ] && echo "# $line"
    fi
done < <(cat "$D"/acked.*)
it_assert_eq "every acknowledged manifest pulls whole after the run" 0 "$bad"

c "$URL/v2/_edgecr/usage" >"$D/usage.json"
FILE_BYTES=$(find "$ROOT/blobs" -type f -printf '%s\n' | awk '{ n += $1 } END { print n + 0 }')
it_assert_eq "usage agrees with the files" "$FILE_BYTES" "$(jq -r .blobBytes "$D/usage.json")"
it_assert_eq "usage lists no deleted repository" "" \
    "$(jq -r '.repositories[].name | select(startswith("doomed/"))' "$D/usage.json")"
it_assert_eq "usage lists every client's repository" "$CLIENTS" \
    "$(jq -r '[.repositories[].name | select(startswith("client"))] | length' "$D/usage.json")"
# Earlier runs may have removed the rows; the files go in the last one.
it_assert_eq "last gc freed the deleted images' bytes" ok \
    "$(jq -r --argjson min "$DOOMED_BYTES" 'if .lastGc.bytesFreed >= $min then "ok" else .lastGc.bytesFreed end' "$D/usage.json")"
echo "# usage before the run $USED_BEFORE bytes, after $(jq -r .blobBytes "$D/usage.json") bytes" \
    "with $ACKED new images"

"$BIN" fsck --config "$CONF" >"$D/fsck.out" 2>&1
it_assert_eq "fsck finds no problem after the run" 0 "$?"
tail -n 1 "$D/fsck.out" | sed 's/^/# /'

it_done

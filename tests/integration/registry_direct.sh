# shellcheck shell=bash
#
# Helpers for scripts that start edgecr-registry directly with a
# configuration file of their own and drive it with curl. Source after
# lib.sh and it_init.
#
#   rd_start NAME [KEY=VALUE...]   write $IT_DIR/NAME.conf and start the registry
#   rd_push_image URL REPO TAG [CURL ARGS...]
#                                  push a one-layer image with curl; prints the
#                                  manifest digest
#
# rd_start sets RD_PID, RD_PORT, RD_URL and RD_LOG. Without an auth_file
# key the registry runs without authentication, and without tls_cert on
# plain HTTP.

RD_BIN=${EDGECR_REGISTRY:-build/edgecr-registry}
case $RD_BIN in /*) ;; *) RD_BIN=$IT_REPO_ROOT/$RD_BIN ;; esac

rd_start() {
    local name=$1 conf line i code scheme=http
    shift

    conf=$IT_DIR/$name.conf
    RD_PORT=$(it_free_port) || exit 2
    RD_LOG=$IT_DIR/$name.log
    {
        echo "listen = 127.0.0.1:$RD_PORT"
        echo "root = $IT_DIR/$name-root"
        for line in "$@"; do
            echo "${line%%=*} = ${line#*=}"
            case $line in tls_cert=*) scheme=https ;; esac
        done
    } >"$conf"
    RD_URL=$scheme://127.0.0.1:$RD_PORT
    [ -x "$RD_BIN" ] || it_bail "registry binary not found at $RD_BIN"
    "$RD_BIN" --config "$conf" >>"$RD_LOG" 2>&1 &
    RD_PID=$!
    it_track_pid "$RD_PID" "edgecr-registry $name"
    # No deadline: a sanitizer build may take seconds to start.
    for ((i = 0; ; i++)); do
        code=$(curl -sk -o /dev/null -w '%{http_code}' "$RD_URL/v2/" 2>/dev/null)
        case $code in 200 | 401) return 0 ;; esac
        kill -0 "$RD_PID" 2>/dev/null || it_bail "registry $name exited: $(tail -n 5 "$RD_LOG")"
        sleep 0.1
    done
}

# Pushes one blob (file BLOB) monolithically; prints its digest.
rd_push_blob() {
    local url=$1 repo=$2 blob=$3 digest code
    shift 3

    digest="sha256:$(sha256sum "$blob" | cut -d' ' -f1)"
    code=$(curl -sk -o /dev/null -w '%{http_code}' "$@" -X POST \
        -H 'Content-Type: application/octet-stream' --data-binary "@$blob" \
        "$url/v2/$repo/blobs/uploads/?digest=$digest")
    [ "$code" = 201 ] || { echo "blob push got $code" >&2; return 1; }
    echo "$digest"
}

rd_push_image() {
    local url=$1 repo=$2 tag=$3 dir config layer cdigest ldigest mdigest code
    shift 3

    dir=$(mktemp -d "$IT_DIR/image-XXXXXX")
    printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"tag":"%s"}' \
        "$tag" >"$dir/config"
    head -c 4096 /dev/urandom >"$dir/layer"
    cdigest=$(rd_push_blob "$url" "$repo" "$dir/config" "$@") || return 1
    ldigest=$(rd_push_blob "$url" "$repo" "$dir/layer" "$@") || return 1
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":4096}]}' \
        "$cdigest" "$(stat -c %s "$dir/config")" "$ldigest" >"$dir/manifest"
    mdigest="sha256:$(sha256sum "$dir/manifest" | cut -d' ' -f1)"
    code=$(curl -sk -o /dev/null -w '%{http_code}' "$@" -X PUT \
        -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
        --data-binary "@$dir/manifest" "$url/v2/$repo/manifests/$tag")
    [ "$code" = 201 ] || { echo "manifest push got $code" >&2; return 1; }
    echo "$mdigest"
}

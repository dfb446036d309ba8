#!/bin/bash
#
# podman (rootful, private storage) against the registry: login, push, pull,
# run, and a two-architecture manifest list pushed with "manifest push --all"
# as an OCI index and as a Docker manifest list. TLS is verified against the
# test CA through --cert-dir.

. "$(dirname "$0")/lib.sh"

it_init podman skopeo jq curl openssl tar
it_registry_start
it_podman_env

tls=(--cert-dir "$REG_CA_DIR")
image=$REG/it/podman

it_podman_build_multiarch localhost/it/busybox 2>"$IT_DIR/import.log" ||
    it_bail "podman import failed: $(tail -n 5 "$IT_DIR/import.log")"

# A third image for push and pull, removed locally before the pull so that
# podman has to fetch every blob.
it_podman_import_busybox localhost/it/busybox:single 2>"$IT_DIR/import.log" ||
    it_bail "podman import failed: $(tail -n 5 "$IT_DIR/import.log")"

# --- Login -----------------------------------------------------------------

it_check_fails "login without the CA is rejected" \
    sh -c 'printf "%s\n" "$3" | podman login -u "$2" --password-stdin "$1"' \
    - "$REG" "$REG_USER" "$REG_PASS"
it_assert_match "login without the CA fails on the certificate" 'x509|certificate' "$IT_OUT"

it_check_fails "login with wrong password is rejected" \
    sh -c 'printf "%s\n" wrong-password | podman login "$3" "$4" -u "$2" --password-stdin "$1"' \
    - "$REG" "$REG_USER" --cert-dir "$REG_CA_DIR"
it_assert_match "wrong password reports unauthorized" \
    'unauthorized|401|invalid username/password' "$IT_OUT"

it_check "login" \
    sh -c 'printf "%s\n" "$3" | podman login "$4" "$5" -u "$2" --password-stdin "$1"' \
    - "$REG" "$REG_USER" "$REG_PASS" --cert-dir "$REG_CA_DIR"

# --- Push, pull, run -------------------------------------------------------

it_check "tag" podman tag localhost/it/busybox:single "$image:v1"
it_check "push" podman push "${tls[@]}" --digestfile "$IT_DIR/push.digest" "$image:v1"
push_digest=$(cat "$IT_DIR/push.digest" 2>/dev/null)
it_assert_eq "registry returns the pushed digest" "$push_digest" \
    "$(it_manifest_digest it/podman v1 \
        'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json')"

it_check "rmi" podman rmi "$image:v1" localhost/it/busybox:single
it_check_fails "image gone locally after rmi" podman image exists "$image:v1"
it_check "pull" podman pull "${tls[@]}" "$image:v1"
it_assert_eq "pulled image has the pushed digest" "$push_digest" \
    "$(podman image inspect --format '{{.Digest}}' "$image:v1" 2>&1)"
it_check "run pulled image" podman run --rm --network none "$image:v1" /bin/echo hi
it_assert_eq "run prints hi" hi "$IT_OUT"

# --- zstd-compressed layers -----------------------------------------------

# The registry stores layers of any media type, and zstd is the one podman 4.3
# can produce besides gzip. The image is new to the registry because podman
# reuses a gzip layer that its blob-info cache records in the registry.
it_podman_import_busybox localhost/it/busybox:zstd 2>"$IT_DIR/import.log" ||
    it_bail "podman import failed: $(tail -n 5 "$IT_DIR/import.log")"
it_check "push with zstd layers" \
    podman push "${tls[@]}" --format oci --compression-format zstd \
    --digestfile "$IT_DIR/zstd.digest" localhost/it/busybox:zstd "docker://$image:zstd"
it_check_stdout "inspect --raw zstd image" "$IT_DIR/zstd.raw" \
    skopeo inspect --raw "${tls[@]}" --creds "$REG_USER:$REG_PASS" "docker://$image:zstd"
it_assert_eq "zstd manifest bytes match" "$(cat "$IT_DIR/zstd.digest" 2>/dev/null)" \
    "$(it_sha256 "$IT_DIR/zstd.raw")"
it_assert_eq "zstd layer media type" application/vnd.oci.image.layer.v1.tar+zstd \
    "$(jq -r '.layers[0].mediaType' "$IT_DIR/zstd.raw" 2>&1)"
it_check "rmi zstd source" podman rmi localhost/it/busybox:zstd
it_check "pull zstd image" podman pull "${tls[@]}" "$image:zstd"
it_check "run zstd image" podman run --rm --network none "$image:zstd" /bin/echo hi
it_assert_eq "zstd image run prints hi" hi "$IT_OUT"

# --- Multi-architecture manifest list --------------------------------------

it_check "manifest create" podman manifest create it-list
it_check "manifest add amd64" \
    podman manifest add --arch amd64 --os linux it-list containers-storage:localhost/it/busybox:amd64
it_check "manifest add arm64" \
    podman manifest add --arch arm64 --os linux it-list containers-storage:localhost/it/busybox:arm64

# Push the list in FORMAT as it/podman-list:TAG, then check that the list has
# media type LIST_TYPE, that both children have CHILD_TYPE and the two
# platforms, and that each child is served by digest with matching bytes.
check_list() {
    local format=$1 tag=$2 list_type=$3 child_type=$4 raw="$IT_DIR/list-$1.json"
    local digest child i

    it_check "manifest push --all --format $format" \
        podman manifest push --all --format "$format" "${tls[@]}" \
        --digestfile "$IT_DIR/list-$format.digest" it-list "docker://$REG/it/podman-list:$tag"

    it_check_stdout "inspect --raw $format list" "$raw" \
        skopeo inspect --raw "${tls[@]}" --creds "$REG_USER:$REG_PASS" \
        "docker://$REG/it/podman-list:$tag"
    digest=$(cat "$IT_DIR/list-$format.digest" 2>/dev/null)
    it_assert_eq "$format list bytes match the pushed digest" "$digest" "$(it_sha256 "$raw")"
    it_assert_eq "$format list media type" "$list_type" "$(jq -r .mediaType "$raw" 2>&1)"
    it_assert_eq "$format list served with its media type" "$list_type" \
        "$(it_manifest_header it/podman-list "$tag" "$list_type" Content-Type)"
    it_assert_eq "$format list has two children" 2 "$(jq -r '.manifests | length' "$raw" 2>&1)"
    it_assert_eq "$format list child media types" "$child_type $child_type" \
        "$(jq -r '[.manifests[].mediaType] | join(" ")' "$raw" 2>&1)"
    it_assert_eq "$format list platforms" "linux/amd64 linux/arm64" \
        "$(jq -r '[.manifests[].platform | "\(.os)/\(.architecture)"] | sort | join(" ")' "$raw" 2>&1)"

    for ((i = 0; i < 2; i++)); do
        child=$(jq -r ".manifests[$i].digest" "$raw")
        it_check_stdout "$format child $i served by digest" "$IT_DIR/child-$format-$i.json" \
            skopeo inspect --raw "${tls[@]}" --creds "$REG_USER:$REG_PASS" \
            "docker://$REG/it/podman-list@$child"
        it_assert_eq "$format child $i bytes match its digest" "$child" \
            "$(it_sha256 "$IT_DIR/child-$format-$i.json")"
        it_assert_eq "$format child $i media type" "$child_type" \
            "$(it_manifest_header it/podman-list "$child" "$child_type" Content-Type)"
    done
}

check_list oci oci application/vnd.oci.image.index.v1+json \
    application/vnd.oci.image.manifest.v1+json
check_list v2s2 v2s2 application/vnd.docker.distribution.manifest.list.v2+json \
    application/vnd.docker.distribution.manifest.v2+json

it_check "pull arm64 from the list" \
    podman pull "${tls[@]}" --arch arm64 "$REG/it/podman-list:oci"
it_assert_eq "pulled image is arm64" arm64 \
    "$(podman image inspect --format '{{.Architecture}}' "$REG/it/podman-list:oci" 2>&1)"

it_check "logout" podman logout "$REG"

it_done

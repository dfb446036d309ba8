#!/bin/bash
#
# skopeo against the registry: copies from an OCI layout and a docker-archive,
# inspect, byte-exact manifests, list-tags, delete, copy back out, and a
# multi-architecture index with copy --all. TLS is verified against the test
# CA through --cert-dir options.

. "$(dirname "$0")/lib.sh"

it_init skopeo umoci jq openssl curl
it_registry_start

creds=(--creds "$REG_USER:$REG_PASS")
tls=(--cert-dir "$REG_CA_DIR")
layout="$IT_DIR/oci"
repo=it/skopeo

# One image with three layers, one of them 16 MiB of random data, and an
# arm64 sibling for the multi-architecture index.
it_build_oci_layout "$layout" single 16 amd64 >"$IT_DIR/umoci.log" 2>&1 ||
    it_bail "building the OCI layout failed: $(tail -n 5 "$IT_DIR/umoci.log")"
it_build_oci_layout "$layout" arm 1 arm64 >>"$IT_DIR/umoci.log" 2>&1 ||
    it_bail "building the arm64 image failed: $(tail -n 5 "$IT_DIR/umoci.log")"
it_oci_layout_add_index "$layout" multi single arm ||
    it_bail "writing the OCI index failed"
src_digest=$(it_oci_layout_digest "$layout" single)
src_manifest="$layout/blobs/sha256/${src_digest#sha256:}"

# --- Trust and credentials -------------------------------------------------

it_check_fails "copy without the CA is rejected" \
    skopeo copy --dest-creds "$REG_USER:$REG_PASS" \
    "oci:$layout:single" "docker://$REG/$repo:notrust"
it_assert_match "copy without the CA fails on the certificate" \
    'x509|certificate' "$IT_OUT"

it_check_fails "copy with a wrong password is rejected" \
    skopeo copy --dest-cert-dir "$REG_CA_DIR" --dest-creds "$REG_USER:wrong-password" \
    "oci:$layout:single" "docker://$REG/$repo:badpass"
it_assert_match "wrong password fails with 401" \
    'unauthorized|401|authentication required' "$IT_OUT"

# --- Copy from an OCI layout -----------------------------------------------

it_check "copy OCI layout to registry" \
    skopeo copy --dest-cert-dir "$REG_CA_DIR" --dest-creds "$REG_USER:$REG_PASS" \
    --digestfile "$IT_DIR/oci.digest" \
    "oci:$layout:single" "docker://$REG/$repo:oci"
it_assert_eq "pushed digest is the layout's digest" \
    "$src_digest" "$(cat "$IT_DIR/oci.digest" 2>/dev/null)"

it_check_stdout "inspect --raw OCI manifest" "$IT_DIR/oci.raw" \
    skopeo inspect --raw "${tls[@]}" "${creds[@]}" "docker://$REG/$repo:oci"
it_assert_eq "raw manifest bytes equal the pushed bytes" \
    "$(it_sha256 "$src_manifest")" "$(it_sha256 "$IT_DIR/oci.raw")"
# The certificate also names IP:127.0.0.1.
it_check "inspect by IP address" \
    skopeo inspect --raw "${tls[@]}" "${creds[@]}" "docker://127.0.0.1:$REG_PORT/$repo:oci"

# umoci writes no mediaType field (optional in OCI image-spec 1.0), so the
# registry has to keep the Content-Type the client sent with the manifest.
it_assert_eq "OCI manifest served with its media type" \
    application/vnd.oci.image.manifest.v1+json \
    "$(it_manifest_header "$repo" oci application/vnd.oci.image.manifest.v1+json Content-Type)"

it_check "inspect OCI image" \
    skopeo inspect "${tls[@]}" "${creds[@]}" "docker://$REG/$repo:oci"
printf '%s' "$IT_OUT" >"$IT_DIR/oci.inspect"
it_assert_eq "inspect reports the manifest digest" \
    "$src_digest" "$(jq -r .Digest "$IT_DIR/oci.inspect" 2>&1)"
it_assert_eq "inspect reports three layers" \
    3 "$(jq -r '.Layers | length' "$IT_DIR/oci.inspect" 2>&1)"
it_assert_eq "inspect reports the architecture" \
    amd64 "$(jq -r .Architecture "$IT_DIR/oci.inspect" 2>&1)"

it_check "inspect --config" \
    skopeo inspect --config "${tls[@]}" "${creds[@]}" "docker://$REG/$repo:oci"
it_assert_eq "config command from the config blob" \
    '["/bin/sh"]' "$(printf '%s' "$IT_OUT" | jq -c .config.Cmd 2>&1)"

# --- Copy from a docker-archive --------------------------------------------

skopeo copy "oci:$layout:single" "docker-archive:$IT_DIR/single.tar:$repo:archive" \
    >"$IT_DIR/archive.log" 2>&1 ||
    it_bail "writing the docker-archive failed: $(tail -n 5 "$IT_DIR/archive.log")"

it_check "copy docker-archive to registry" \
    skopeo copy --dest-cert-dir "$REG_CA_DIR" --dest-creds "$REG_USER:$REG_PASS" \
    --digestfile "$IT_DIR/archive.digest" \
    "docker-archive:$IT_DIR/single.tar" "docker://$REG/$repo:archive"
it_check_stdout "inspect --raw docker-archive image" "$IT_DIR/archive.raw" \
    skopeo inspect --raw "${tls[@]}" "${creds[@]}" "docker://$REG/$repo:archive"
it_assert_eq "docker-archive manifest is Docker v2 schema 2" \
    application/vnd.docker.distribution.manifest.v2+json \
    "$(jq -r .mediaType "$IT_DIR/archive.raw" 2>&1)"
it_assert_eq "docker-archive raw bytes match the pushed digest" \
    "$(cat "$IT_DIR/archive.digest" 2>/dev/null)" "$(it_sha256 "$IT_DIR/archive.raw")"

# --- Parallel copies of one image ------------------------------------------

# Three copies at once upload the same blobs to three repositories, so the
# registry completes uploads of one digest concurrently.
pids=()
for i in 1 2 3; do
    skopeo copy --dest-cert-dir "$REG_CA_DIR" --dest-creds "$REG_USER:$REG_PASS" \
        "oci:$layout:single" "docker://$REG/it/skopeo-parallel-$i:v1" \
        >"$IT_DIR/parallel-$i.log" 2>&1 &
    pids+=($!)
done
for i in 1 2 3; do
    wait "${pids[i - 1]}"
    it_assert_eq "parallel copy $i exit status" 0 "$?" "$(tail -n 5 "$IT_DIR/parallel-$i.log")"
    it_assert_eq "parallel copy $i digest" "$src_digest" \
        "$(it_manifest_digest "it/skopeo-parallel-$i" v1 application/vnd.oci.image.manifest.v1+json)"
done

# --- Tags ------------------------------------------------------------------

it_check "list-tags" \
    skopeo list-tags "${tls[@]}" "${creds[@]}" "docker://$REG/$repo"
tags=$(printf '%s' "$IT_OUT" | jq -r '.Tags[]' 2>&1 | sort | tr '\n' ' ')
it_assert_eq "list-tags returns both tags" "archive oci " "$tags"

# --- Copy back out ---------------------------------------------------------

it_check "copy registry image to OCI layout" \
    skopeo copy --src-cert-dir "$REG_CA_DIR" --src-creds "$REG_USER:$REG_PASS" \
    "docker://$REG/$repo:oci" "oci:$IT_DIR/out:back"
back_digest=$(it_oci_layout_digest "$IT_DIR/out" back 2>/dev/null)
it_assert_eq "copied-back manifest digest" "$src_digest" "$back_digest"
it_assert_eq "copied-back layer digests" \
    "$(jq -c '[.layers[].digest]' "$src_manifest")" \
    "$(jq -c '[.layers[].digest]' "$IT_DIR/out/blobs/sha256/${back_digest#sha256:}" 2>&1)"
big_layer=$(jq -r '.layers[2].digest' "$src_manifest")
it_assert_eq "random layer content intact" \
    "$big_layer" "$(it_sha256 "$IT_DIR/out/blobs/sha256/${big_layer#sha256:}" 2>&1)"

# --- Delete ----------------------------------------------------------------

it_check "delete by tag" \
    skopeo delete "${tls[@]}" "${creds[@]}" "docker://$REG/$repo:archive"
it_check_fails "inspect after delete fails" \
    skopeo inspect --raw "${tls[@]}" "${creds[@]}" "docker://$REG/$repo:archive"
it_assert_match "inspect after delete reports not found" \
    'manifest unknown|not found|404' "$IT_OUT"
it_check "inspect other tag after delete" \
    skopeo inspect --raw "${tls[@]}" "${creds[@]}" "docker://$REG/$repo:oci"
it_check "list-tags after delete" \
    skopeo list-tags "${tls[@]}" "${creds[@]}" "docker://$REG/$repo"
tags=$(printf '%s' "$IT_OUT" | jq -r '.Tags[]' 2>&1 | sort | tr '\n' ' ')
it_assert_eq "deleted tag is gone from list-tags" "oci " "$tags"

# --- Multi-architecture index ----------------------------------------------

index_digest=$(it_oci_layout_digest "$layout" multi)
arm_digest=$(it_oci_layout_digest "$layout" arm)

it_check "copy --all index to registry" \
    skopeo copy --all --dest-cert-dir "$REG_CA_DIR" --dest-creds "$REG_USER:$REG_PASS" \
    "oci:$layout:multi" "docker://$REG/it/skopeo-multi:latest"
it_check_stdout "inspect --raw index" "$IT_DIR/index.raw" \
    skopeo inspect --raw "${tls[@]}" "${creds[@]}" "docker://$REG/it/skopeo-multi:latest"
it_assert_eq "index bytes equal the pushed bytes" "$index_digest" "$(it_sha256 "$IT_DIR/index.raw")"
it_assert_eq "index media type" application/vnd.oci.image.index.v1+json \
    "$(jq -r .mediaType "$IT_DIR/index.raw" 2>&1)"

# skopeo 1.9.3 reports the index digest as .Digest here, so the child is
# recognized by its architecture and layers.
it_check_stdout "inspect --override-arch arm64" "$IT_DIR/arm.inspect" \
    skopeo inspect --override-arch arm64 "${tls[@]}" "${creds[@]}" \
    "docker://$REG/it/skopeo-multi:latest"
it_assert_eq "arm64 child selected" arm64 \
    "$(jq -r .Architecture "$IT_DIR/arm.inspect" 2>&1)"
it_assert_eq "arm64 child layers" \
    "$(jq -c '[.layers[].digest]' "$layout/blobs/sha256/${arm_digest#sha256:}")" \
    "$(jq -c .Layers "$IT_DIR/arm.inspect" 2>&1)"

it_check_stdout "inspect child by digest" "$IT_DIR/arm.raw" \
    skopeo inspect --raw "${tls[@]}" "${creds[@]}" "docker://$REG/it/skopeo-multi@$arm_digest"
it_assert_eq "child bytes match its digest" "$arm_digest" "$(it_sha256 "$IT_DIR/arm.raw")"

it_check "copy --all index back out" \
    skopeo copy --all --src-cert-dir "$REG_CA_DIR" --src-creds "$REG_USER:$REG_PASS" \
    "docker://$REG/it/skopeo-multi:latest" "oci:$IT_DIR/out:multi"
it_assert_eq "copied-back index digest" "$index_digest" \
    "$(it_oci_layout_digest "$IT_DIR/out" multi 2>&1)"
it_check "copied-back arm64 manifest present" \
    test -f "$IT_DIR/out/blobs/sha256/${arm_digest#sha256:}"

# --- Restart ---------------------------------------------------------------

it_registry_restart
it_check_stdout "inspect --raw after restart" "$IT_DIR/restart.raw" \
    skopeo inspect --raw "${tls[@]}" "${creds[@]}" "docker://$REG/$repo:oci"
it_assert_eq "manifest bytes kept across restart" "$src_digest" "$(it_sha256 "$IT_DIR/restart.raw")"
it_check "list-tags after restart" \
    skopeo list-tags "${tls[@]}" "${creds[@]}" "docker://$REG/$repo"
tags=$(printf '%s' "$IT_OUT" | jq -r '.Tags[]' 2>&1 | sort | tr '\n' ' ')
it_assert_eq "tags kept across restart" "oci " "$tags"
it_check_fails "deleted tag stays deleted after restart" \
    skopeo inspect --raw "${tls[@]}" "${creds[@]}" "docker://$REG/$repo:archive"
it_check "copy --all index out after restart" \
    skopeo copy --all --src-cert-dir "$REG_CA_DIR" --src-creds "$REG_USER:$REG_PASS" \
    "docker://$REG/it/skopeo-multi:latest" "oci:$IT_DIR/restart-out:multi"
it_assert_eq "index digest after restart" "$index_digest" \
    "$(it_oci_layout_digest "$IT_DIR/restart-out" multi 2>&1)"

it_done

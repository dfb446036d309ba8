#!/bin/bash
#
# containerd's ctr against the registry: pull with Basic credentials and TLS
# verified through a hosts directory that contains only <host:port>/ca.crt,
# push of an imported image, and pull of one platform from a
# multi-architecture index.

. "$(dirname "$0")/lib.sh"

it_init containerd ctr skopeo umoci jq curl openssl
it_registry_start
it_containerd_start

ctr_cmd=("${IT_CTR[@]}")
hosts_dir="$IT_DIR/hosts.d"
mkdir -p "$hosts_dir/$REG" && cp "$REG_CA_DIR/ca.crt" "$hosts_dir/$REG/ca.crt" ||
    it_bail "writing the hosts directory failed"
remote=(--hosts-dir "$hosts_dir" --user "$REG_USER:$REG_PASS")
layout="$IT_DIR/oci"

# Seed images: a single image and a two-architecture index pushed with skopeo,
# and a third image imported into containerd for ctr to push.
{
    it_build_oci_layout "$layout" single 2 amd64 &&
        it_build_oci_layout "$layout" arm 1 arm64 &&
        it_oci_layout_add_index "$layout" multi single arm &&
        it_build_oci_layout "$layout" ctrsrc 1 amd64
} >"$IT_DIR/umoci.log" 2>&1 || it_bail "building the OCI layout failed: $(tail -n 5 "$IT_DIR/umoci.log")"
{
    skopeo copy --dest-cert-dir "$REG_CA_DIR" --dest-creds "$REG_USER:$REG_PASS" \
        "oci:$layout:single" "docker://$REG/it/ctr:single" &&
        skopeo copy --all --dest-cert-dir "$REG_CA_DIR" --dest-creds "$REG_USER:$REG_PASS" \
            "oci:$layout:multi" "docker://$REG/it/ctr:multi" &&
        skopeo copy "oci:$layout:ctrsrc" "oci-archive:$IT_DIR/ctrsrc.tar:$REG/it/ctr-pushed:v1"
} >"$IT_DIR/seed.log" 2>&1 || it_bail "seeding the registry failed: $(tail -n 5 "$IT_DIR/seed.log")"

single_digest=$(it_oci_layout_digest "$layout" single)
amd64_digest=$single_digest
arm64_digest=$(it_oci_layout_digest "$layout" arm)
index_digest=$(it_oci_layout_digest "$layout" multi)
pushed_digest=$(it_oci_layout_digest "$layout" ctrsrc)

# Print the target digest of image NAME in containerd.
image_digest() {
    "${ctr_cmd[@]}" images ls name=="$1" 2>/dev/null | awk 'NR == 2 { print $3 }'
}

# --- Trust and credentials -------------------------------------------------

it_check_fails "pull without the CA is rejected" \
    "${ctr_cmd[@]}" images pull --user "$REG_USER:$REG_PASS" "$REG/it/ctr:single"
it_assert_match "pull without the CA fails on the certificate" 'x509|certificate' "$IT_OUT"

it_check_fails "pull with wrong password is rejected" \
    "${ctr_cmd[@]}" images pull --hosts-dir "$hosts_dir" --user "$REG_USER:wrong-password" \
    "$REG/it/ctr:single"
it_assert_match "wrong password reports unauthorized" '401|unauthorized' "$IT_OUT"

# --- Pull ------------------------------------------------------------------

it_check "pull" "${ctr_cmd[@]}" images pull "${remote[@]}" "$REG/it/ctr:single"
it_assert_eq "pulled image has the pushed digest" "$single_digest" "$(image_digest "$REG/it/ctr:single")"
it_check "pulled content verifies" \
    "${ctr_cmd[@]}" images check name=="$REG/it/ctr:single"
it_assert_match "pulled image is complete and unpacked" 'complete' "$IT_OUT"

it_check_fails "pull of missing tag fails" \
    "${ctr_cmd[@]}" images pull "${remote[@]}" "$REG/it/ctr:missing"
it_assert_match "missing tag reports not found" 'not found' "$IT_OUT"

# --- Push ------------------------------------------------------------------

it_check "import image to push" "${ctr_cmd[@]}" images import "$IT_DIR/ctrsrc.tar"
it_assert_eq "imported image digest" "$pushed_digest" "$(image_digest "$REG/it/ctr-pushed:v1")"
it_check "push" "${ctr_cmd[@]}" images push "${remote[@]}" "$REG/it/ctr-pushed:v1"
it_check_stdout "inspect --raw pushed image" "$IT_DIR/pushed.raw" \
    skopeo inspect --raw --cert-dir "$REG_CA_DIR" --creds "$REG_USER:$REG_PASS" \
    "docker://$REG/it/ctr-pushed:v1"
it_assert_eq "pushed manifest bytes match" "$pushed_digest" "$(it_sha256 "$IT_DIR/pushed.raw")"
for layer in $(jq -r '.layers[].digest' "$layout/blobs/sha256/${pushed_digest#sha256:}"); do
    it_curl_auth -o "$IT_DIR/layer.blob" "$REG_URL/v2/it/ctr-pushed/blobs/$layer"
    it_assert_eq "pushed layer ${layer:7:12} content" "$layer" "$(it_sha256 "$IT_DIR/layer.blob")"
done

it_check "remove pushed image locally" "${ctr_cmd[@]}" images rm --sync "$REG/it/ctr-pushed:v1"
it_check "pull pushed image back" "${ctr_cmd[@]}" images pull "${remote[@]}" "$REG/it/ctr-pushed:v1"
it_assert_eq "pulled-back image digest" "$pushed_digest" "$(image_digest "$REG/it/ctr-pushed:v1")"

# --- One platform of a multi-architecture index ----------------------------

# A namespace of its own, so that its content store starts empty.
ctr_platform=(ctr -a "${ctr_cmd[2]}" -n edgecr-it-platform)
it_check "pull arm64 from index" \
    "${ctr_platform[@]}" images pull --platform linux/arm64 "${remote[@]}" "$REG/it/ctr:multi"
it_assert_eq "index digest" "$index_digest" \
    "$("${ctr_platform[@]}" images ls name=="$REG/it/ctr:multi" 2>/dev/null | awk 'NR == 2 { print $3 }')"
content=$("${ctr_platform[@]}" content ls -q 2>&1)
it_assert_match "arm64 manifest fetched" "$arm64_digest" "$content"
for layer in $(jq -r '.layers[].digest' "$layout/blobs/sha256/${arm64_digest#sha256:}"); do
    it_assert_match "arm64 layer ${layer:7:12} fetched" "$layer" "$content"
done
it_assert_no_match "amd64 manifest not fetched" "$amd64_digest" "$content"
amd64_random_layer=$(jq -r '.layers[2].digest' "$layout/blobs/sha256/${amd64_digest#sha256:}")
it_assert_no_match "amd64 layer not fetched" "$amd64_random_layer" "$content"

ctr_all=(ctr -a "${ctr_cmd[2]}" -n edgecr-it-all)
it_check "pull all platforms" \
    "${ctr_all[@]}" images pull --all-platforms "${remote[@]}" "$REG/it/ctr:multi"
content=$("${ctr_all[@]}" content ls -q 2>&1)
it_assert_match "all platforms: amd64 manifest fetched" "$amd64_digest" "$content"
it_assert_match "all platforms: amd64 layer fetched" "$amd64_random_layer" "$content"
it_assert_match "all platforms: arm64 manifest fetched" "$arm64_digest" "$content"

it_done

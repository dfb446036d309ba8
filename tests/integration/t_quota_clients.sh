#!/bin/bash
#
# The registry's quota refusal as docker and podman users see it. With
# storage_limit = 256K a push of a busybox image fails, and the client's
# output contains the registry's message with the used bytes and the limit.
# Runs a private dockerd and podman with private storage. The registry
# listens on 127.0.0.1 in 24000-24999. Only for EDGECR_IMPL=edgecr, because
# the reference registry has no quota.

. "$(dirname "$0")/lib.sh"

IT_PORT_MIN=24000
IT_PORT_MAX=24999

it_init dockerd docker podman curl openssl tar jq
if [ "${EDGECR_IMPL:-edgecr}" != edgecr ]; then
    it_ok "quota messages # SKIP the reference registry has no storage_limit"
    it_done
    exit $?
fi

IT_REG_CONFIG=$IT_DIR/quota.conf
printf 'storage_limit = 256K\nmin_free_space = 0\n' >"$IT_REG_CONFIG"
it_registry_start
it_docker_trust "$REG"
it_dockerd_start
it_podman_env

QUOTA_MESSAGE='storage limit reached: [0-9.]+ [KMG]?i?B used of 256\.0 KiB \(storage_limit\)'

# --- docker ----------------------------------------------------------------

it_docker_import_busybox it-local/quota:1 2>"$IT_DIR/import.log" ||
    it_bail "docker import failed: $(tail -n 5 "$IT_DIR/import.log")"
it_check "docker login" \
    sh -c 'printf "%s\n" "$3" | docker login "$1" -u "$2" --password-stdin' \
    - "$REG" "$REG_USER" "$REG_PASS"
it_check "docker tag" docker tag it-local/quota:1 "$REG/it/quota-docker:v1"
it_check_fails "docker push past the storage limit fails" docker push "$REG/it/quota-docker:v1"
printf '%s\n' "$IT_OUT" | sed 's/^/# docker: /'
it_assert_match "docker prints the registry's quota message" "$QUOTA_MESSAGE" "$IT_OUT"

# --- podman ----------------------------------------------------------------

it_podman_import_busybox localhost/it/quota:1 2>"$IT_DIR/import.log" ||
    it_bail "podman import failed: $(tail -n 5 "$IT_DIR/import.log")"
it_check "podman login" \
    sh -c 'printf "%s\n" "$3" | podman login "$4" "$5" -u "$2" --password-stdin "$1"' \
    - "$REG" "$REG_USER" "$REG_PASS" --cert-dir "$REG_CA_DIR"
it_check "podman tag" podman tag localhost/it/quota:1 "$REG/it/quota-podman:v1"
it_check_fails "podman push past the storage limit fails" \
    podman push --cert-dir "$REG_CA_DIR" "$REG/it/quota-podman:v1"
printf '%s\n' "$IT_OUT" | sed 's/^/# podman: /'
it_assert_match "podman prints the registry's quota message" "$QUOTA_MESSAGE" "$IT_OUT"

# Nothing of the refused pushes is left as an upload.
it_assert_eq "no upload file after the refusals" 0 \
    "$(find "$IT_DIR/registry/storage/uploads" -type f | wc -l)"

it_done

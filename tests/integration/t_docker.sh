#!/bin/bash
#
# docker against the registry: login, push, pull, run, blob reuse between
# tags, parallel layer uploads, pull of multi-architecture images, and delete
# by digest through the HTTP API.
#
# dockerd 20.10 treats a registry that resolves into 127.0.0.0/8 as insecure
# and skips certificate verification there, so TLS trust is tested by the
# other clients. The CA still goes to /etc/docker/certs.d as it would for a
# real host.

. "$(dirname "$0")/lib.sh"

it_init dockerd docker curl openssl tar skopeo umoci jq
it_registry_start
it_docker_trust "$REG"
it_dockerd_start

image=$REG/it/docker

it_docker_import_busybox it-local/busybox:1 2>"$IT_DIR/import.log" ||
    it_bail "docker import failed: $(tail -n 5 "$IT_DIR/import.log")"

# --- Login -----------------------------------------------------------------

it_check_fails "login with wrong password is rejected" \
    sh -c 'printf "%s\n" wrong-password | docker login "$1" -u "$2" --password-stdin' \
    - "$REG" "$REG_USER"
it_assert_match "wrong password reports unauthorized" \
    'unauthorized|401|incorrect username or password' "$IT_OUT"

it_check_fails "push without login is rejected" \
    sh -c 'docker tag it-local/busybox:1 "$1:nologin" && docker push "$1:nologin"' - "$image"
it_assert_match "push without login reports missing credentials" \
    'no basic auth credentials|unauthorized|authentication required' "$IT_OUT"
docker rmi "$image:nologin" >/dev/null 2>&1

it_check "login" \
    sh -c 'printf "%s\n" "$3" | docker login "$1" -u "$2" --password-stdin' \
    - "$REG" "$REG_USER" "$REG_PASS"
it_assert_match "login reports success" 'Login Succeeded' "$IT_OUT"

# --- Push, pull, run -------------------------------------------------------

it_check "tag" docker tag it-local/busybox:1 "$image:v1"
it_check "push" docker push "$image:v1"
it_assert_match "push uploads the layer" 'Pushed' "$IT_OUT"
push_digest=$(printf '%s' "$IT_OUT" | grep -Eo 'digest: sha256:[0-9a-f]{64}' | cut -d' ' -f2)
it_assert_match "push prints the manifest digest" '^sha256:[0-9a-f]{64}$' "$push_digest"
it_assert_eq "registry returns the pushed digest" "$push_digest" \
    "$(it_manifest_digest it/docker v1)"

it_check "rmi" docker rmi "$image:v1"
it_check_fails "image gone locally after rmi" docker image inspect "$image:v1"
it_check "pull" docker pull "$image:v1"
it_assert_match "pull reports the digest" "Digest: $push_digest" "$IT_OUT"
it_assert_eq "pulled image has the pushed digest" "$image@$push_digest" \
    "$(docker image inspect --format '{{index .RepoDigests 0}}' "$image:v1" 2>&1)"
it_check "run pulled image" docker run --rm --network none "$image:v1" /bin/echo hi
it_assert_eq "run prints hi" hi "$IT_OUT"

it_check "rmi before pull by digest" docker rmi "$image:v1"
it_check "pull by digest" docker pull "$image@$push_digest"
it_check "tag pulled digest" docker tag "$image@$push_digest" "$image:v1"

# --- Second tag reuses blobs -----------------------------------------------

it_check "tag second" docker tag "$image:v1" "$image:v2"
it_check "push second tag" docker push "$image:v2"
it_assert_match "second push reuses the layer" 'Layer already exists' "$IT_OUT"
it_assert_no_match "second push uploads no layer" 'Pushed' "$IT_OUT"
it_assert_eq "second tag has the same digest" "$push_digest" \
    "$(it_manifest_digest it/docker v2)"

# A push to another repository of the same registry makes dockerd try a
# cross-repository mount (POST ?mount=...&from=it/docker). Either a mount or an
# upload is correct, and the pull afterwards must work.
it_check "tag in other repository" docker tag "$image:v1" "$REG/it/docker-other:v1"
it_check "push to other repository" docker push "$REG/it/docker-other:v1"
it_assert_match "other repository push reuses or mounts the layer" \
    'Mounted from|Layer already exists|Pushed' "$IT_OUT"
it_check "rmi other repository tag" docker rmi "$REG/it/docker-other:v1"
it_check "pull from other repository" docker pull "$REG/it/docker-other:v1"

# --- Several layers pushed in parallel --------------------------------------

# dockerd uploads up to 5 layers at once, each as one chunked PATCH. The image
# comes from an OCI layout (three layers, one of them 16 MiB of random data)
# through a docker-archive, because docker import makes single-layer images.
{
    it_build_oci_layout "$IT_DIR/oci" layers 16 amd64 &&
        skopeo copy "oci:$IT_DIR/oci:layers" "docker-archive:$IT_DIR/layers.tar:$REG/it/docker-layers:v1"
} >"$IT_DIR/layers.log" 2>&1 || it_bail "building the multi-layer image failed: $(tail -n 5 "$IT_DIR/layers.log")"
it_check "load multi-layer image" docker load -i "$IT_DIR/layers.tar"
it_check "push multi-layer image" docker push "$REG/it/docker-layers:v1"
it_assert_eq "push uploads three layers" 3 "$(printf '%s\n' "$IT_OUT" | grep -c ': Pushed')"
layers_id=$(docker image inspect --format '{{.Id}}' "$REG/it/docker-layers:v1" 2>&1)
it_check "rmi multi-layer image" docker rmi "$REG/it/docker-layers:v1"
it_check "pull multi-layer image" docker pull "$REG/it/docker-layers:v1"
it_assert_eq "pulled image has the loaded image ID" "$layers_id" \
    "$(docker image inspect --format '{{.Id}}' "$REG/it/docker-layers:v1" 2>&1)"
it_check "run multi-layer image" \
    docker run --rm --network none "$REG/it/docker-layers:v1" /bin/sh -c 'cat /notes/README; ls /random'
it_assert_eq "run sees files of every layer" \
    "$(printf 'edgecr integration layer for layers amd64\nblob.bin')" "$IT_OUT"

# --- Multi-architecture images ---------------------------------------------

# docker requests the manifest with an Accept list that names the OCI index and
# the Docker manifest list, then pulls the linux/amd64 child by digest.
{
    it_build_oci_layout "$IT_DIR/oci" arm 1 arm64 &&
        it_oci_layout_add_index "$IT_DIR/oci" multi layers arm &&
        skopeo copy --all --dest-cert-dir "$REG_CA_DIR" --dest-creds "$REG_USER:$REG_PASS" \
            "oci:$IT_DIR/oci:multi" "docker://$REG/it/docker-multi:oci" &&
        skopeo copy --all --format v2s2 --dest-cert-dir "$REG_CA_DIR" \
            --dest-creds "$REG_USER:$REG_PASS" \
            "oci:$IT_DIR/oci:multi" "docker://$REG/it/docker-multi:v2s2"
} >"$IT_DIR/multi.log" 2>&1 || it_bail "pushing the multi-architecture images failed: $(tail -n 5 "$IT_DIR/multi.log")"

list_accept='application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json'
it_assert_eq "oci tag is an OCI index" application/vnd.oci.image.index.v1+json \
    "$(it_manifest_header it/docker-multi oci "$list_accept" Content-Type)"
it_assert_eq "v2s2 tag is a Docker manifest list" \
    application/vnd.docker.distribution.manifest.list.v2+json \
    "$(it_manifest_header it/docker-multi v2s2 "$list_accept" Content-Type)"
for tag in oci v2s2; do
    it_check "pull $tag multi-architecture image" docker pull "$REG/it/docker-multi:$tag"
    it_assert_eq "$tag pull selects amd64" amd64 \
        "$(docker image inspect --format '{{.Architecture}}' "$REG/it/docker-multi:$tag" 2>&1)"
    it_check "run $tag multi-architecture image" \
        docker run --rm --network none "$REG/it/docker-multi:$tag" /bin/echo hi
done

# --- Delete by digest through the HTTP API ---------------------------------

digest=$(it_manifest_digest it/docker v1)
it_assert_eq "HEAD manifest returns Docker-Content-Digest" "$push_digest" "$digest"

code=$(it_curl_auth -o "$IT_DIR/delete.body" -w '%{http_code}' -X DELETE \
    "$REG_URL/v2/it/docker/manifests/$digest" 2>&1)
it_assert_eq "DELETE manifest by digest returns 202" 202 "$code" \
    "response body: $(head -c 500 "$IT_DIR/delete.body" 2>/dev/null)"

code=$(it_curl_auth -o /dev/null -w '%{http_code}' -I \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "$REG_URL/v2/it/docker/manifests/$digest" 2>&1)
it_assert_eq "HEAD deleted manifest returns 404" 404 "$code"

code=$(it_curl_auth -o /dev/null -w '%{http_code}' -I \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "$REG_URL/v2/it/docker/manifests/v2" 2>&1)
it_assert_eq "tag of deleted manifest returns 404" 404 "$code"

docker rmi "$image:v1" "$image:v2" >/dev/null 2>&1
it_check_fails "pull after delete fails" docker pull "$image:v1"
it_assert_match "pull after delete reports not found" \
    'not found|manifest unknown' "$IT_OUT"

code=$(it_curl_auth -o /dev/null -w '%{http_code}' -I \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "$REG_URL/v2/it/docker-other/manifests/v1" 2>&1)
it_assert_eq "other repository keeps its manifest" 200 "$code"

it_check "logout" docker logout "$REG"

it_done

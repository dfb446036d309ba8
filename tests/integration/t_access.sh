#!/bin/bash
#
# Rights of registry users: a read-only user (passwd --read-only) may pull
# but gets 403 DENIED for every push or delete, and with anonymous_pull a
# client without credentials may pull while everything else gets the 401
# challenge. Plain HTTP on 127.0.0.1 with curl, and skopeo as a real client.
#
# Uses ports 20500-20699.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry_direct.sh"
IT_PORT_MIN=20500
IT_PORT_MAX=20699

it_init curl jq skopeo sha256sum

WRITER=writer
WRITER_PASS="w-$RANDOM$RANDOM"
READER=reader
READER_PASS="r-$RANDOM$RANDOM"
AUTH=$IT_DIR/auth
REPO=app/access

# status METHOD URL [CURL ARGS...]: prints the status; the body goes to $IT_DIR/b.
status() {
    local method=$1 url=$2
    shift 2
    if [ "$method" = HEAD ]; then
        set -- -I "$@"
    else
        set -- -X "$method" "$@"
    fi
    curl -s -o "$IT_DIR/b" -D "$IT_DIR/h" -w '%{http_code}' "$@" "$url"
}

errcode() {
    jq -r '.errors[0].code // empty' <"$IT_DIR/b" 2>/dev/null
}

# --- The credentials file --------------------------------------------------

printf '%s' "$WRITER_PASS" | "$RD_BIN" passwd "$WRITER" --auth-file "$AUTH" ||
    it_bail "passwd for the writer failed"
printf '%s\n' "$READER_PASS" | "$RD_BIN" passwd "$READER" --auth-file "$AUTH" --read-only ||
    it_bail "passwd --read-only failed"
it_assert_match "passwd --read-only ends the line in :pull" "^$READER:\\\$pbkdf2-sha256\\\$[^:]*:pull\$" \
    "$(grep "^$READER:" "$AUTH")"
it_assert_match "a user with every right keeps the two-field line" "^$WRITER:\\\$pbkdf2-sha256\\\$[^:]*\$" \
    "$(grep "^$WRITER:" "$AUTH")"
it_assert_eq "the credentials file has mode 0600" 600 "$(stat -c %a "$AUTH")"
it_check_fails "passwd rejects --read-only before the command" \
    "$RD_BIN" --read-only passwd x --auth-file "$AUTH"

cp "$AUTH" "$IT_DIR/auth-bad"
sed -i "s/:pull\$/:admin/" "$IT_DIR/auth-bad"
it_check_fails "an unknown rights field stops the start" \
    "$RD_BIN" --listen 127.0.0.1:1 --root "$IT_DIR/bad-root" --auth-file "$IT_DIR/auth-bad"
it_assert_match "and names the line and the expected values" "auth-bad:[0-9]+: .*expected pull or push" "$IT_OUT"

# --- Read-only user, anonymous pull off ------------------------------------

rd_start ro "auth_file=$AUTH"
URL=$RD_URL
W=(-u "$WRITER:$WRITER_PASS")
R=(-u "$READER:$READER_PASS")

MANIFEST=$(rd_push_image "$URL" "$REPO" v1 "${W[@]}") || it_bail "the writer cannot push"
it_ok "the writer pushes an image"
LAYER=$(jq -r '.layers[0].digest' < <(curl -s "${W[@]}" -H 'Accept: application/vnd.oci.image.manifest.v1+json' "$URL/v2/$REPO/manifests/v1"))

it_assert_eq "without credentials /v2/ is 401" 401 "$(status GET "$URL/v2/")"
it_assert_eq "without credentials a manifest is 401" 401 "$(status GET "$URL/v2/$REPO/manifests/v1")"
it_assert_eq "empty credentials are 401 without anonymous pull" 401 \
    "$(status GET "$URL/v2/$REPO/manifests/v1" -u :)"
it_assert_eq "reader with a wrong password is 401" 401 "$(status GET "$URL/v2/" -u "$READER:wrong")"

it_assert_eq "reader: GET /v2/" 200 "$(status GET "$URL/v2/" "${R[@]}")"
it_assert_eq "reader: GET manifest by tag" 200 "$(status GET "$URL/v2/$REPO/manifests/v1" "${R[@]}")"
it_assert_eq "reader: HEAD manifest by digest" 200 "$(status HEAD "$URL/v2/$REPO/manifests/$MANIFEST" "${R[@]}")"
it_assert_eq "reader: GET blob" 200 "$(status GET "$URL/v2/$REPO/blobs/$LAYER" "${R[@]}")"
it_assert_eq "reader: HEAD blob" 200 "$(status HEAD "$URL/v2/$REPO/blobs/$LAYER" "${R[@]}")"
it_assert_eq "reader: tags/list" 200 "$(status GET "$URL/v2/$REPO/tags/list" "${R[@]}")"
it_assert_eq "reader: _catalog" 200 "$(status GET "$URL/v2/_catalog" "${R[@]}")"
it_assert_eq "reader: referrers" 200 "$(status GET "$URL/v2/$REPO/referrers/$MANIFEST" "${R[@]}")"

it_assert_eq "reader: POST upload is 403" 403 "$(status POST "$URL/v2/$REPO/blobs/uploads/" "${R[@]}")"
it_assert_eq "reader: POST upload is DENIED" DENIED "$(errcode)"
it_assert_eq "reader: monolithic POST is 403" 403 \
    "$(status POST "$URL/v2/$REPO/blobs/uploads/?digest=$LAYER" "${R[@]}" --data-binary x)"
it_assert_eq "reader: mount is 403" 403 \
    "$(status POST "$URL/v2/other/blobs/uploads/?mount=$LAYER&from=$REPO" "${R[@]}")"
it_assert_eq "reader: PUT manifest is 403" 403 \
    "$(status PUT "$URL/v2/$REPO/manifests/v2" "${R[@]}" \
        -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
        --data-binary "@$(ls "$IT_DIR"/image-*/manifest | head -n 1)")"
it_assert_eq "reader: PUT manifest is DENIED" DENIED "$(errcode)"
it_assert_eq "reader: DELETE manifest is 403" 403 "$(status DELETE "$URL/v2/$REPO/manifests/$MANIFEST" "${R[@]}")"
it_assert_eq "reader: DELETE blob is 403" 403 "$(status DELETE "$URL/v2/$REPO/blobs/$LAYER" "${R[@]}")"

status POST "$URL/v2/$REPO/blobs/uploads/" "${W[@]}" >/dev/null
UPLOAD=$(tr -d '\r' <"$IT_DIR/h" | sed -n 's/^[Ll]ocation: //p')
it_assert_match "the writer starts an upload" '/blobs/uploads/' "$UPLOAD"
it_assert_eq "reader: upload status is 403" 403 "$(status GET "$URL$UPLOAD" "${R[@]}")"
it_assert_eq "reader: PATCH is 403" 403 "$(status PATCH "$URL$UPLOAD" "${R[@]}" --data-binary x)"
it_assert_eq "reader: DELETE upload is 403" 403 "$(status DELETE "$URL$UPLOAD" "${R[@]}")"
it_assert_eq "the writer's upload is still there" 204 "$(status GET "$URL$UPLOAD" "${W[@]}")"
it_assert_eq "the manifest is still there" 200 "$(status HEAD "$URL/v2/$REPO/manifests/$MANIFEST" "${W[@]}")"

it_check "skopeo inspect as the reader" \
    skopeo inspect --tls-verify=false --creds "$READER:$READER_PASS" "docker://127.0.0.1:$RD_PORT/$REPO:v1"
it_check_fails "skopeo copy as the reader is refused" \
    skopeo copy --src-tls-verify=false --dest-tls-verify=false --src-creds "$WRITER:$WRITER_PASS" \
    --dest-creds "$READER:$READER_PASS" "docker://127.0.0.1:$RD_PORT/$REPO:v1" \
    "docker://127.0.0.1:$RD_PORT/$REPO:copy"
it_assert_match "with a denied error" 'denied|403' "$IT_OUT"
it_assert_match "the access log names the reader" "USER=$READER" "$(grep 'HTTP_STATUS=403' "$RD_LOG")"
it_stop_pid "$RD_PID" registry

# --- Anonymous pull ----------------------------------------------------------

rd_start anon "auth_file=$AUTH" anonymous_pull=true
URL=$RD_URL
MANIFEST=$(rd_push_image "$URL" "$REPO" v1 "${W[@]}") || it_bail "the writer cannot push"
it_ok "anonymous pull on: the writer pushes"
LAYER=$(jq -r '.layers[0].digest' < <(curl -s -H 'Accept: application/vnd.oci.image.manifest.v1+json' "$URL/v2/$REPO/manifests/v1"))

it_assert_eq "anonymous: GET manifest" 200 "$(status GET "$URL/v2/$REPO/manifests/v1")"
it_assert_eq "anonymous: HEAD manifest" 200 "$(status HEAD "$URL/v2/$REPO/manifests/$MANIFEST")"
it_assert_eq "anonymous: GET blob" 200 "$(status GET "$URL/v2/$REPO/blobs/$LAYER")"
it_assert_eq "anonymous: tags/list" 200 "$(status GET "$URL/v2/$REPO/tags/list")"
it_assert_eq "anonymous: _catalog" 200 "$(status GET "$URL/v2/_catalog")"
it_assert_eq "anonymous: referrers" 200 "$(status GET "$URL/v2/$REPO/referrers/$MANIFEST")"
it_assert_eq "anonymous: empty credentials (Basic Og==) pull" 200 \
    "$(status GET "$URL/v2/$REPO/manifests/v1" -u :)"
it_assert_eq "anonymous: empty credentials cannot push" 401 "$(status POST "$URL/v2/$REPO/blobs/uploads/" -u :)"
it_assert_eq "anonymous: unknown manifest is 404" 404 "$(status GET "$URL/v2/$REPO/manifests/nope")"

it_assert_eq "anonymous: /v2/ still challenges" 401 "$(status GET "$URL/v2/")"
it_assert_match "with WWW-Authenticate" '^[Ww][Ww][Ww]-[Aa]uthenticate: Basic realm=' "$(tr -d '\r' <"$IT_DIR/h")"
it_assert_eq "anonymous: POST upload is 401" 401 "$(status POST "$URL/v2/$REPO/blobs/uploads/")"
it_assert_eq "anonymous: POST upload is UNAUTHORIZED" UNAUTHORIZED "$(errcode)"
it_assert_eq "anonymous: PUT manifest is 401" 401 \
    "$(status PUT "$URL/v2/$REPO/manifests/v2" -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
        --data-binary "@$(ls "$IT_DIR"/image-*/manifest | head -n 1)")"
it_assert_eq "anonymous: DELETE manifest is 401" 401 "$(status DELETE "$URL/v2/$REPO/manifests/$MANIFEST")"
it_assert_eq "anonymous: DELETE blob is 401" 401 "$(status DELETE "$URL/v2/$REPO/blobs/$LAYER")"
it_assert_eq "anonymous: PATCH of a made-up upload is 401" 401 \
    "$(status PATCH "$URL/v2/$REPO/blobs/uploads/0123456789abcdef0123456789abcdef" --data-binary x)"
it_assert_eq "anonymous: upload status is 401" 401 \
    "$(status GET "$URL/v2/$REPO/blobs/uploads/0123456789abcdef0123456789abcdef")"
it_assert_eq "anonymous: a wrong password is still 401" 401 \
    "$(status GET "$URL/v2/$REPO/manifests/v1" -u "$READER:wrong")"
it_assert_eq "the reader still gets DENIED for a push" 403 "$(status POST "$URL/v2/$REPO/blobs/uploads/" "${R[@]}")"

it_check "skopeo inspect without credentials" \
    skopeo inspect --tls-verify=false --no-creds "docker://127.0.0.1:$RD_PORT/$REPO:v1"
it_check "skopeo copy without credentials to a folder" \
    skopeo copy --src-tls-verify=false --src-no-creds "docker://127.0.0.1:$RD_PORT/$REPO:v1" \
    "dir:$IT_DIR/pulled"
it_assert_eq "the pulled manifest has the pushed digest" "$MANIFEST" \
    "sha256:$(sha256sum "$IT_DIR/pulled/manifest.json" | cut -d' ' -f1)"
it_check_fails "skopeo copy into the registry without credentials is refused" \
    skopeo copy --dest-tls-verify=false --dest-no-creds "dir:$IT_DIR/pulled" \
    "docker://127.0.0.1:$RD_PORT/$REPO:anon"

it_done

#!/bin/bash
# Crash consistency.  Four loops push random images (config and layer blobs by
# monolithic POST, manifest PUT by tag) to a plain HTTP + Basic auth registry
# on 127.0.0.1.  Meanwhile the registry is killed with SIGKILL at random
# moments and restarted, CRASH_KILLS times.  Afterwards "edgecr-registry fsck"
# must find no problem, and every manifest that got 201 must pull
# byte-identical by digest and by tag, with its blobs.  The pulls run once
# against the running registry and once after a last kill and restart.
#
# SIGKILL ends the process but not the kernel, so written data survives in the
# page cache: this tests process crashes, not power loss.
#
# Environment: EDGECR_REGISTRY (binary, default build/edgecr-registry,
# relative to the repository root), CRASH_KILLS (default 50), CRASH_SEED
# (seed of $RANDOM, printed so a run can be repeated), IT_KEEP=1 keeps the
# temporary directory.
set -u

. "$(dirname "$0")/lib.sh"

# This test's servers use 29000-29999.
IT_PORT_MIN=29000
IT_PORT_MAX=29999

it_init curl jq sha256sum head od
IT_VARLIB_CACHE_EXISTED=1

BIN=${EDGECR_REGISTRY:-build/edgecr-registry}
case $BIN in /*) ;; *) BIN=$IT_REPO_ROOT/$BIN ;; esac
[ -x "$BIN" ] || it_bail "registry binary not found at $BIN"

KILLS=${CRASH_KILLS:-50}
WORKERS=4
SEED=${CRASH_SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}
RANDOM=$SEED
echo "# CRASH_SEED=$SEED CRASH_KILLS=$KILLS"

D=$IT_DIR
ROOT=$D/root
PORT=$(it_free_port) || exit 2
URL=http://127.0.0.1:$PORT
USER=crashuser
PASS="crash-pass-$RANDOM$RANDOM"
REG_LOG=$D/registry.log
CONF=$D/registry.conf
OCI_MT=application/vnd.oci.image.manifest.v1+json
STOP=$D/stop

printf '%s\n' "$PASS" | "$BIN" passwd "$USER" --auth-file "$D/auth" ||
    it_bail "edgecr-registry passwd failed"
cat >"$CONF" <<CONF
listen = 127.0.0.1:$PORT
root = $ROOT
auth_file = $D/auth
CONF

# Every request is bounded, so a push loop notices a dead registry quickly.
cr() {
    curl --http1.1 -sS --connect-timeout 2 --max-time 10 -u "$USER:$PASS" "$@"
}

REG_PID=
registry_start() {
    "$BIN" --config "$CONF" >>"$REG_LOG" 2>&1 &
    REG_PID=$!
    it_track_pid "$REG_PID" edgecr-registry
}

# Wait up to 10 s until the registry responds to /v2/ (401 without credentials).
registry_wait() {
    local i st

    for ((i = 0; i < 100; i++)); do
        st=$(curl -s --max-time 2 -o /dev/null -w '%{http_code}' "$URL/v2/" 2>/dev/null)
        [ "$st" = 401 ] && return 0
        kill -0 "$REG_PID" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

registry_kill() {
    kill -KILL "$REG_PID" 2>/dev/null
    wait "$REG_PID" 2>/dev/null
}

# push_blob REPO FILE: monolithic upload of FILE; prints its digest on 201.
push_blob() {
    local repo=$1 file=$2 digest st

    digest=sha256:$(sha256sum "$file" | cut -d' ' -f1)
    st=$(cr -o /dev/null -w '%{http_code}' -X POST \
        -H 'Content-Type: application/octet-stream' --data-binary "@$file" \
        "$URL/v2/$repo/blobs/uploads/?digest=$digest" 2>/dev/null) || return 1
    [ "$st" = 201 ] || return 1
    echo "$digest"
}

# One push loop: WORKER's pushes until $STOP exists (at most 10000).  Each
# acknowledged manifest is recorded as "REPO TAG DIGEST FILE" in acked-WORKER.
push_loop() {
    local worker=$1 repo=crash/w$1 n dir cfg layer cd ld md st size_c size_l
    dir=$D/w$worker
    mkdir -p "$dir"
    RANDOM=$((SEED + worker))
    for ((n = 0; n < 10000; n++)); do
        [ -e "$STOP" ] && break
        cfg=$dir/c$n
        layer=$dir/l$n
        printf '{"worker":%d,"n":%d,"r":"%s"}' "$worker" "$n" "$RANDOM$RANDOM" >"$cfg"
        head -c $((1 + RANDOM % 200000)) /dev/urandom >"$layer"
        cd=$(push_blob "$repo" "$cfg") || continue
        ld=$(push_blob "$repo" "$layer") || continue
        size_c=$(stat -c %s "$cfg")
        size_l=$(stat -c %s "$layer")
        printf '{"schemaVersion":2,"mediaType":"%s","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%d}]}' \
            "$OCI_MT" "$cd" "$size_c" "$ld" "$size_l" >"$dir/m$n"
        md=sha256:$(sha256sum "$dir/m$n" | cut -d' ' -f1)
        st=$(cr -o /dev/null -w '%{http_code}' -X PUT -H "Content-Type: $OCI_MT" \
            --data-binary "@$dir/m$n" "$URL/v2/$repo/manifests/t$n" 2>/dev/null) || continue
        if [ "$st" = 201 ]; then
            echo "$repo t$n $md $dir/m$n" >>"$D/acked-$worker"
        fi
    done
}

# verify_acked ACKED TMP: checks the manifests listed in ACKED (lines of
# acked-WORKER), using files TMP-*, and writes "TOTAL BAD" to TMP.
verify_acked() {
    local acked=$1 tmp=$2 repo tag md file ref blob bad=0 total=0 got i
    local -a blobs

    while read -r repo tag md file; do
        total=$((total + 1))
        mapfile -t blobs < <(jq -r '.config.digest, .layers[].digest' "$file")
        rm -f "$tmp"-*
        # One curl for the four requests of a manifest keeps the check fast.
        cr -H "Accept: $OCI_MT" \
            -o "$tmp-tag" "$URL/v2/$repo/manifests/$tag" \
            -o "$tmp-digest" "$URL/v2/$repo/manifests/$md" \
            -o "$tmp-blob0" "$URL/v2/$repo/blobs/${blobs[0]}" \
            -o "$tmp-blob1" "$URL/v2/$repo/blobs/${blobs[1]}" 2>/dev/null
        for ref in tag digest; do
            if ! cmp -s "$tmp-$ref" "$file"; then
                bad=$((bad + 1))
                echo "# $repo manifest by $ref ($tag, $md) does not pull byte-identical"
            fi
        done
        for i in 0 1; do
            blob=${blobs[i]}
            got=sha256:$(sha256sum <"$tmp-blob$i" 2>/dev/null | cut -d' ' -f1)
            if [ "$got" != "$blob" ]; then
                bad=$((bad + 1))
                echo "# blob $blob of $repo@$md pulls as $got"
            fi
        done
    done <"$acked"
    echo "$total $bad" >"$tmp"
}

# verify_all NAME: every acknowledged manifest pulls byte-identical by tag and
# by digest, and its blobs hash to their digests.  One checker per worker.
verify_all() {
    local name=$1 w total=0 bad=0 t b
    local -a pids=()

    for ((w = 1; w <= WORKERS; w++)); do
        [ -e "$D/acked-$w" ] || continue
        verify_acked "$D/acked-$w" "$D/verify-$w" &
        pids+=($!)
    done
    for w in "${pids[@]}"; do
        wait "$w"
    done
    for ((w = 1; w <= WORKERS; w++)); do
        [ -e "$D/verify-$w" ] || continue
        read -r t b <"$D/verify-$w"
        total=$((total + t))
        bad=$((bad + b))
        rm -f "$D/verify-$w"
    done

    if [ "$total" -eq 0 ]; then
        it_not_ok "$name" "expected acknowledged pushes, got none"
    elif [ "$bad" -eq 0 ]; then
        it_ok "$name ($total manifests)"
    else
        it_not_ok "$name" "expected all $total acknowledged manifests intact, got $bad mismatches"
    fi
}

it_on_cleanup "touch $STOP"
started=$SECONDS
registry_start
registry_wait || it_bail "registry did not start"

loop_pids=()
for ((w = 1; w <= WORKERS; w++)); do
    push_loop "$w" &
    loop_pids+=($!)
    it_track_pid "$!" "push loop $w"
done

# Kill at random moments, 0.1 to 1.0 s after the registry responded again.
failed_restarts=0
mid_fsck_rc=
for ((k = 1; k <= KILLS; k++)); do
    # Once, halfway, check the store while the loops go on pushing.
    if [ "$k" -eq $(((KILLS + 1) / 2)) ]; then
        MID_FSCK_OUT=$("$BIN" fsck --config "$CONF" 2>&1)
        mid_fsck_rc=$?
    fi
    sleep "0.$((1 + RANDOM % 9))$((RANDOM % 10))"
    registry_kill
    registry_start
    if ! registry_wait; then
        failed_restarts=$((failed_restarts + 1))
        echo "# restart $k: registry did not respond within 10 s"
        registry_kill
        registry_start
        registry_wait || it_bail "registry does not restart after kill $k"
    fi
done
kill_seconds=$((SECONDS - started))

# Let the loops finish the push in progress against a live registry.
touch "$STOP"
for pid in "${loop_pids[@]}"; do
    wait "$pid"
done
echo "# $KILLS kills in $kill_seconds s, $(cat "$D"/acked-* 2>/dev/null | wc -l) acknowledged pushes"

if [ "$failed_restarts" -eq 0 ]; then
    it_ok "registry restarts after each SIGKILL"
else
    it_not_ok "registry restarts after each SIGKILL" \
        "expected a response within 10 s of each restart, got $failed_restarts timeouts"
fi

if [ "$mid_fsck_rc" = 0 ]; then
    it_ok "fsck clean during pushes"
else
    it_not_ok "fsck clean during pushes" "expected exit 0, got ${mid_fsck_rc:-no run}" \
        "${MID_FSCK_OUT:-}"
fi

# fsck next to the running registry, then the pulls.
FSCK_OUT=$("$BIN" fsck --config "$CONF" 2>&1)
rc=$?
if [ "$rc" -eq 0 ]; then
    it_ok "fsck clean while serving"
else
    it_not_ok "fsck clean while serving" "expected exit 0, got $rc" "$FSCK_OUT"
fi
echo "# $(printf '%s\n' "$FSCK_OUT" | tail -n 1)"
verify_all "acknowledged pushes pull intact"

# One more crash with no traffic, then the same checks on a cold start.
registry_kill
FSCK_OUT=$("$BIN" fsck --config "$CONF" 2>&1)
rc=$?
if [ "$rc" -eq 0 ]; then
    it_ok "fsck clean after final SIGKILL"
else
    it_not_ok "fsck clean after final SIGKILL" "expected exit 0, got $rc" "$FSCK_OUT"
fi
registry_start
registry_wait || it_bail "registry did not start after the final kill"
verify_all "acknowledged pushes pull after restart"

it_stop_pid "$REG_PID" edgecr-registry
echo "# total $((SECONDS - started)) s"
it_done

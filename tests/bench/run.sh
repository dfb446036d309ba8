#!/bin/bash
#
# Benchmarks edgecr-registry side by side with the reference registry (Debian's
# docker-registry, CNCF distribution 2.8.2) on 127.0.0.1 in one run, and
# measures the limits of the machine in the same run. It prints one table:
# each result for both registries, the ratio edgecr / reference, edgecr's
# fraction of the matching machine limit, and whether edgecr meets its target. The same table
# goes to bench/results/ as JSON, with a PNG chart when gnuplot is installed.
# docs/BENCHMARKS.md explains each row.
#
# Each registry starts twice on empty storage, one registry at a time:
#   plain HTTP without authentication: start-up time, idle RSS, push of a
#     random blob (monolithic PUT, and one PATCH with chunked transfer
#     encoding as docker sends it), blob GET, manifest GET (wrk) and HEAD (ab),
#     _catalog with BENCH_REPOS repositories and tags/list with BENCH_TAGS
#     tags, then, with the registry stopped, garbage collection of BENCH_GC_BLOBS
#     unreferenced blobs;
#   HTTPS with Basic auth (same certificate, same user; bcrypt htpasswd for the
#     reference): push and blob GET again, manifest GET and HEAD, a multi-layer
#     image pushed and pulled with skopeo and with docker, and
#     BENCH_PULLERS concurrent pulls of that image with curl.
# Peak RSS is VmHWM from /proc/PID/status, reset before each step.
#
# Environment:
#   BENCH_BLOB_MIB      size of the large blob in MiB (default 1024, 4096 with BENCH_BIG=1)
#   BENCH_DURATION      seconds of each wrk run (default 20)
#   BENCH_AB_DURATION   seconds of each ab run (default 10)
#   BENCH_CONNECTIONS   concurrent connections of wrk and ab (default 64)
#   BENCH_REPEAT        downloads per blob GET result, best kept (default 2)
#   BENCH_IMAGE_MIB     size of the multi-layer image in MiB, 4 layers (default 100)
#   BENCH_PULLERS       concurrent pulls of that image (default 50)
#   BENCH_REPOS         repositories listed by _catalog (default 10000)
#   BENCH_TAGS          tags listed by tags/list (default 10000)
#   BENCH_GC_BLOBS      unreferenced blobs removed by garbage collection (default 10000)
#   BENCH_FILL_SECONDS  time limit of the timed part of each of those three
#                       fills (default 20). The rest is created untimed, so both
#                       registries list and collect the same number: edgecr's
#                       through its API, the reference's by writing its storage
#                       with layout.py
#   BENCH_FILL_WORKERS  client processes of each fill (default 1)
#   BENCH_DD_MIB        size of the dd write in MiB (default 2048)
#   BENCH_BIG=1         4 GiB blob, and three more wrk runs while a blob
#                       transfer runs (fast GET, and GET and PATCH at BENCH_SLOW_RATE)
#   BENCH_SLOW_RATE     curl --limit-rate of the slow transfers (default 20M)
#   BENCH_IMPLS         registries to run, in order (default "reference edgecr")
#   BENCH_NGINX=0       skip nginx;  BENCH_DOCKER=0  skip docker
#   BENCH_KEEP=1        keep logs and results in /tmp/edgecr-bench-*
#   BENCH_RESULTS=FILE  also write the results as tab-separated values to FILE
#   BENCH_OUT_DIR       folder of the JSON and PNG results (default bench/results)
#   EDGECR_REGISTRY     edgecr binary, relative to the repository root unless
#                       absolute (default build/edgecr-registry)
#
# Exit status: 0 when every step ran, 1 when a step failed (a registry did not
# start or died, a request returned an unexpected status, a download was
# short or corrupt), 2 when a required tool is missing. Slow results, missed
# targets and errors under load are reported in the table and do not change
# the status.

set -u -o pipefail

# The rest of the script is one brace group, so bash parses all of it before
# it runs any of it, and editing the file during a run cannot break that run.
{

# shellcheck source=tests/bench/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$BENCH_REPO_ROOT" || exit 2

BIG_EXTRA=${BENCH_BIG:-0}
if [ "$BIG_EXTRA" = 1 ]; then
    BLOB_MIB=${BENCH_BLOB_MIB:-4096}
else
    BLOB_MIB=${BENCH_BLOB_MIB:-1024}
fi
DURATION=${BENCH_DURATION:-20}
AB_DURATION=${BENCH_AB_DURATION:-10}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
REPEAT=${BENCH_REPEAT:-2}
IMAGE_MIB=${BENCH_IMAGE_MIB:-100}
PULLERS=${BENCH_PULLERS:-50}
REPOS=${BENCH_REPOS:-10000}
TAGS=${BENCH_TAGS:-10000}
GC_BLOBS=${BENCH_GC_BLOBS:-10000}
FILL_SECONDS=${BENCH_FILL_SECONDS:-20}
FILL_WORKERS=${BENCH_FILL_WORKERS:-1}
# Time limit of the untimed completion of a fill, only against a hang.
FILL_COMPLETE_SECONDS=600
SLOW_RATE=${BENCH_SLOW_RATE:-20M}
DD_MIB=${BENCH_DD_MIB:-2048}
OUT_DIR=${BENCH_OUT_DIR:-bench/results}
read -r -a IMPLS <<<"${BENCH_IMPLS:-reference edgecr}"

# Targets of edgecr, checked in the table.
TARGET_PUSH_RATIO=4         # push rate, times the reference
TARGET_PULL_FRACTION=0.95   # blob GET rate, fraction of nginx's
TARGET_TLS_RATE_RATIO=20    # manifest requests/s with TLS and auth, times the reference
TARGET_TLS_P99_RATIO=0.1    # their p99 latency, at most this times the reference's
TARGET_PLAIN_RATIO=10       # manifest requests/s over plain HTTP, times the reference
TARGET_IDLE_MIB=8           # RSS after start-up
TARGET_LOAD_MIB=24          # peak RSS under the wrk load
TARGET_PUSH_GROWTH_MIB=4    # peak RSS growth during one large push
TARGET_LIST_RATIO=0.1       # _catalog, tags/list and gc time, at most this times the reference's
TARGET_CLIENT_RATIO=1       # skopeo and docker push and pull time, at most the reference's

# ---------------------------------------------------------------------------
# Checks of the environment

for name in BLOB_MIB DURATION AB_DURATION CONNECTIONS REPEAT IMAGE_MIB PULLERS REPOS TAGS \
    GC_BLOBS FILL_SECONDS FILL_WORKERS DD_MIB; do
    value=${!name}
    if ! [[ $value =~ ^[0-9]+$ ]] || [ "$value" -eq 0 ]; then
        echo "bench: BENCH_$name must be a positive integer, got '$value'" >&2
        exit 2
    fi
done
SLOW_RATE_BYTES=$(numfmt --from=iec "$SLOW_RATE" 2>/dev/null) || {
    echo "bench: BENCH_SLOW_RATE must be a curl --limit-rate value such as 20M, got '$SLOW_RATE'" >&2
    exit 2
}

missing=()
for tool in wrk ab curl openssl docker-registry htpasswd ss sha256sum base64 numfmt python3 skopeo tar; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "bench: required tools not found: ${missing[*]} (install them with 'make deps'; skopeo with apt-get)" >&2
    exit 2
fi

FAILURES=()
NOTES=()

fail() {
    FAILURES+=("$*")
    bench_log "FAILED: $*"
}

note() {
    NOTES+=("$*")
    bench_log "$*"
}

bench_init
bench_make_certs "$BENCH_DIR/tls" || {
    echo "bench: certificate generation failed: $(tail -n 5 "$BENCH_DIR/tls/openssl.log")" >&2
    exit 1
}
mkdir -p "$BENCH_DIR/certs.d" && cp "$BENCH_DIR/tls/ca.crt" "$BENCH_DIR/certs.d/"

# edgecr is skipped without failing only while its main.c is not written yet.
run_impls=()
for impl in "${IMPLS[@]}"; do
    if [ "$impl" = edgecr ] && [ ! -x "$(bench_edgecr_bin)" ]; then
        if [ -e registry/main.c ]; then
            fail "edgecr binary not found at $(bench_edgecr_bin) although registry/main.c exists (run make, or set EDGECR_REGISTRY)"
        else
            note "edgecr skipped: registry/main.c does not exist yet, so only the reference was measured"
        fi
        continue
    fi
    run_impls+=("$impl")
done

BLOB_BYTES=$((BLOB_MIB * 1048576))
# Slowest transfer rate accepted before curl gives up: 8 MiB/s.
BIG_MAX_TIME=$((120 + BLOB_MIB / 8))

# The large blob needs room for three copies at once: the source file, the
# stored blob, and the upload of the second push, which stores the same
# content again before the registry discards it. The image needs two copies.
avail_mib=$(df -Pm "$BENCH_DIR" | awk 'NR == 2 { print $4 }')
need_mib=$((3 * BLOB_MIB + 2 * IMAGE_MIB + 512))
BIG=1
if [ "$avail_mib" -lt "$need_mib" ]; then
    BIG=0
    note "large-blob benchmarks skipped: $BENCH_DIR has $avail_mib MiB free, and a $BLOB_MIB MiB blob needs $need_mib MiB (set BENCH_BLOB_MIB lower)"
fi

# ---------------------------------------------------------------------------
# Results: VALUE[impl/key] is one result of one registry, and ROWS lists
# "key|label|unit|better|target|limit|limit2" in print order. target is empty
# or one of ratio>=X, ratio<=X (edgecr / reference), limit>=X (edgecr / the
# machine limit) and max=X (edgecr's own value at most X); limit is empty or
# a key of LIMIT. limit2 is a second key of LIMIT whose fraction the table
# shows without a target (the dd rate for the push rows).

declare -A VALUE
declare -A LIMIT
ROWS=()

row() {
    ROWS+=("$1|$2|$3|$4|${5:-}|${6:-}|${7:-}")
}

record() {
    VALUE[$1/$2]=$3
}

B="$BLOB_MIB MiB"
C=$CONNECTIONS
row ready_ms "start to ready (GET /v2/ answers 200)" ms lower
row rss_idle "RSS idle after start" MiB lower "max=$TARGET_IDLE_MIB"
row push_put_http "push $B, monolithic PUT, HTTP" MiB/s higher "ratio>=$TARGET_PUSH_RATIO" sha256 dd
row push_patch_http "push $B, chunked PATCH, HTTP" MiB/s higher "ratio>=$TARGET_PUSH_RATIO" sha256 dd
row push_put_https "push $B, monolithic PUT, TLS" MiB/s higher "ratio>=$TARGET_PUSH_RATIO" sha256 dd
row push_patch_https "push $B, chunked PATCH, TLS" MiB/s higher "ratio>=$TARGET_PUSH_RATIO" sha256 dd
row rss_push "peak RSS growth in one push, max of 4" MiB lower "max=$TARGET_PUSH_GROWTH_MIB"
row pull_http "pull $B blob, HTTP" MiB/s higher "limit>=$TARGET_PULL_FRACTION" nginx_http
row pull_https "pull $B blob, TLS" MiB/s higher "limit>=$TARGET_PULL_FRACTION" nginx_https
row rss_pull "peak RSS growth in the pulls, max of 2" MiB lower
row get_rate_https "manifest GET, TLS + auth, wrk -c $C" req/s higher "ratio>=$TARGET_TLS_RATE_RATIO"
row get_p99_https "  p99 latency" ms lower "ratio<=$TARGET_TLS_P99_RATIO"
row head_rate_https "manifest HEAD, TLS + auth, ab -c $C" req/s higher "ratio>=$TARGET_TLS_RATE_RATIO"
row head_p99_https "  p99 latency" ms lower "ratio<=$TARGET_TLS_P99_RATIO"
row get_rate_http "manifest GET, HTTP, no auth, wrk -c $C" req/s higher "ratio>=$TARGET_PLAIN_RATIO"
row get_p99_http "  p99 latency" ms lower
row head_rate_http "manifest HEAD, HTTP, no auth, ab -c $C" req/s higher "ratio>=$TARGET_PLAIN_RATIO"
row head_p99_http "  p99 latency" ms lower
row rss_wrk_https "peak RSS, wrk TLS + auth" MiB lower "max=$TARGET_LOAD_MIB"
row rss_wrk_http "peak RSS, wrk HTTP" MiB lower "max=$TARGET_LOAD_MIB"
row load_errors "errors in the wrk and ab runs" count lower
if [ "$BIG_EXTRA" = 1 ]; then
    row get_p99_fast "  wrk p99 during an unlimited blob GET, HTTP" ms lower
    row fast_mibs "  rate of that blob GET meanwhile" MiB/s higher
    row get_p99_slow "  wrk p99 during a $SLOW_RATE/s blob GET" ms lower
    row get_p99_upload "  wrk p99 during a $SLOW_RATE/s blob PATCH" ms lower
fi
row pulls_concurrent "$PULLERS concurrent pulls of $IMAGE_MIB MiB image, TLS" MiB/s higher
row rss_pulls_concurrent "  peak RSS" MiB lower
row skopeo_push "skopeo push $IMAGE_MIB MiB image, TLS" s lower "ratio<=$TARGET_CLIENT_RATIO"
row skopeo_pull "skopeo pull of it" s lower "ratio<=$TARGET_CLIENT_RATIO"
row docker_push "docker push $IMAGE_MIB MiB image" s lower "ratio<=$TARGET_CLIENT_RATIO"
row docker_pull "docker pull of it" s lower "ratio<=$TARGET_CLIENT_RATIO"
row fill_repos "create repositories (mount + PUT), first ${FILL_SECONDS}s" req/s higher
row catalog "list _catalog, $REPOS repositories, n=1000" ms lower "ratio<=$TARGET_LIST_RATIO"
row fill_tags "create tags (manifest PUT), first ${FILL_SECONDS}s" req/s higher
row tags_list "list tags/list, $TAGS tags" ms lower "ratio<=$TARGET_LIST_RATIO"
row fill_blobs "upload small blobs (POST + PUT), first ${FILL_SECONDS}s" req/s higher
row gc "garbage collection, $GC_BLOBS unreferenced blobs" s lower "ratio<=$TARGET_LIST_RATIO"
row gc_removed "  files removed by it" count higher

# ---------------------------------------------------------------------------
# Steps

# Print the peak RSS growth of PID since bench_rss_reset printed BASE_KIB, in
# MiB.
rss_growth_mib() {
    local hwm

    # VmHWM can end a little below the RSS read just after the reset, when
    # memory was freed in between, and that counts as no growth.
    hwm=$(bench_proc_kib "$1" VmHWM)
    awk -v h="${hwm:-0}" -v b="${2:-0}" 'BEGIN { g = (h - b) / 1024; printf "%.1f", (g > 0 ? g : 0) }'
}

# Download URL to /dev/null REPEAT times with the given extra curl options and
# print the best rate in MiB/s. Fails unless every download returns 200 with
# BLOB_BYTES bytes.
download_best() {
    local url=$1 out code size time best=0 i
    shift

    for ((i = 0; i < REPEAT; i++)); do
        out=$(curl --http1.1 -sS "$@" --max-time "$BIG_MAX_TIME" -o /dev/null \
            -w '%{http_code} %{size_download} %{time_total}' "$url") || {
            bench_log "GET $url failed: curl exit $?"
            return 1
        }
        read -r code size time <<<"$out"
        if [ "$code" != 200 ] || [ "$size" != "$BLOB_BYTES" ]; then
            bench_log "GET $url returned $code with $size bytes, expected 200 with $BLOB_BYTES"
            return 1
        fi
        best=$(awk -v b="$best" -v s="$size" -v t="$time" \
            'BEGIN { r = s / 1048576 / t; printf "%.1f", (r > b ? r : b) }')
    done
    echo "$best"
}

# Run wrk against the manifest at URL, with Basic credentials unless BASIC is
# empty, and set WRK_RATE, WRK_P50_MS, WRK_P99_MS,
# WRK_MAX_MS and WRK_ERRORS (connect, read, write and timeout errors plus non-2xx/3xx
# responses). Keeps wrk's output in $BENCH_DIR/IMPL/wrk-NAME.txt.
run_wrk() {
    local impl=$1 name=$2 url=$3 basic=${4-$BENCH_BASIC} out=$BENCH_DIR/$1/wrk-$2.txt line

    BENCH_BASIC=$basic BENCH_ACCEPT=$BENCH_ACCEPT \
        timeout $((DURATION + 30)) wrk -t 2 -c "$CONNECTIONS" -d "${DURATION}s" --timeout 5s \
        --latency -s "$BENCH_LIB_DIR/manifest-get.lua" "$url" >"$out" 2>&1
    line=$(grep '^bench-result ' "$out")
    if [ -z "$line" ]; then
        bench_log "wrk ($name) printed no result: $(tail -n 3 "$out")"
        return 1
    fi
    WRK_RATE=$(awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        printf "%.0f", v["requests"] / (v["duration_us"] / 1e6) }' <<<"$line")
    WRK_P50_MS=$(awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        printf "%.2f", v["p50_us"] / 1000 }' <<<"$line")
    WRK_P99_MS=$(awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        printf "%.2f", v["p99_us"] / 1000 }' <<<"$line")
    WRK_MAX_MS=$(awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        printf "%.2f", v["max_us"] / 1000 }' <<<"$line")
    WRK_ERRORS=$(awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        print v["connect"] + v["read"] + v["write"] + v["status"] + v["timeout"] }' <<<"$line")
    if [ "$WRK_ERRORS" != 0 ]; then
        note "$impl: wrk ($name) counted errors: ${line#bench-result }"
    fi
}

# Run wrk while a background transfer runs, and set BG_MIBS to the rate of
# that transfer during the run. KIND is fast (blob GETs one after another),
# slow (one blob GET at SLOW_RATE) or upload (one PATCH at SLOW_RATE).
run_wrk_with_transfer() {
    local impl=$1 kind=$2 manifest_url=$3 blob_url=$4 out=$BENCH_DIR/$1/transfer-$2.txt
    local pid start_ns end_ns bytes upload_url deadline_ns

    : >"$out"
    start_ns=$(bench_now_ns)
    case $kind in
    fast)
        deadline_ns=$((start_ns + (DURATION + 2) * 1000000000))
        (
            while :; do
                left=$(((deadline_ns - $(bench_now_ns)) / 1000000000))
                [ "$left" -ge 1 ] || break
                bench_curl --max-time "$left" -o /dev/null -w '%{size_download}\n' "$blob_url" >>"$out" 2>/dev/null
            done
        ) &
        ;;
    slow)
        bench_curl --limit-rate "$SLOW_RATE" --max-time $((DURATION + 2)) -o /dev/null \
            -w '%{size_download}\n' "$blob_url" >"$out" 2>/dev/null &
        ;;
    upload)
        upload_url=$(bench_upload_start bench/slow-upload) || return 1
        bench_curl --limit-rate "$SLOW_RATE" --max-time $((DURATION + 2)) -X PATCH -T "$BENCH_DIR/blob.bin" \
            -H 'Expect:' -H 'Content-Type: application/octet-stream' -o /dev/null \
            -w '%{size_upload}\n' "$upload_url" >"$out" 2>/dev/null &
        ;;
    esac
    pid=$!
    bench_track_pid "$pid" "background $kind transfer"

    # Let the transfer get going before the small requests start.
    sleep 1
    run_wrk "$impl" "$kind" "$manifest_url"
    local wrk_status=$?
    wait "$pid"
    bench_untrack_pid "$pid"
    end_ns=$(bench_now_ns)

    bytes=$(awk '{ s += $1 } END { printf "%.0f", s }' "$out")
    BG_MIBS=$(bench_mib_per_s "$bytes" $((end_ns - start_ns)))
    return $wrk_status
}

# Run ab with HEAD requests on the manifest at URL, with Basic credentials
# when AUTH is "auth", and record the results under keys ending in SUFFIX.
run_ab_head() {
    local impl=$1 url=$2 suffix=$3 auth=$4 out=$BENCH_DIR/$1/ab-head$3.txt complete failed non2xx
    local credentials=()

    if [ "$auth" = auth ]; then
        credentials=(-H "Authorization: Basic $BENCH_BASIC")
    fi

    # -n after -t raises ab's request cap, which -t sets to 50000. ab
    # allocates its per-request statistics for the whole cap up front, so the
    # cap stays near what DURATION seconds can reach.
    timeout $((AB_DURATION + 30)) ab -i -k -r -q -t "$AB_DURATION" -n $((AB_DURATION * 100000)) \
        -c "$CONNECTIONS" "${credentials[@]}" -H "Accept: $BENCH_ACCEPT" \
        "$url" >"$out" 2>&1
    complete=$(awk '/^Complete requests:/ { print $3 }' "$out")
    if [ -z "$complete" ]; then
        fail "$impl: ab (HEAD $url) printed no result: $(tail -n 3 "$out")"
        return 1
    fi
    failed=$(awk '/^Failed requests:/ { print $3 }' "$out")
    non2xx=$(awk '/^Non-2xx responses:/ { print $3 }' "$out")
    record "$impl" "head_rate$suffix" "$(awk '/^Requests per second:/ { printf "%.0f", $4 }' "$out")"
    record "$impl" "head_p99$suffix" "$(awk '$1 == "99%" { print $2 }' "$out")"
    AB_ERRORS=$((${failed:-0} + ${non2xx:-0}))
    if [ $((${failed:-0} + ${non2xx:-0})) -ne 0 ]; then
        note "$impl: ab HEAD $url: $failed failed requests, ${non2xx:-0} non-2xx responses (see $out)"
    fi
}

# Check that the server started last is still running after STEP.
check_alive() {
    if ! kill -0 "$SRV_PID" 2>/dev/null; then
        fail "$SRV_NAME died during $1; last lines of $SRV_LOG: $(tail -n 5 "$SRV_LOG" | tr '\n' ' ')"
        return 1
    fi
}

# Push the large blob twice (monolithic PUT, chunked PATCH) and pull it, over
# the server started last, and record the results under keys ending in
# _SCHEME. Keeps the largest RSS growth of the pushes in PUSH_GROWTH and of
# the pulls in PULL_GROWTH.
bench_transfers() {
    local impl=$1 scheme=$2 pid=$SRV_PID base t0 t1 sum mibs growth blob_url extra=()

    blob_url=$SRV_URL/v2/bench/big-put/blobs/$BLOB_DIGEST
    bench_log "$impl: monolithic PUT of $BLOB_MIB MiB over $scheme"
    base=$(bench_rss_reset "$pid")
    t0=$(bench_now_ns)
    if bench_push_monolithic bench/big-put "$BENCH_DIR/blob.bin" "$BLOB_DIGEST" "$BIG_MAX_TIME"; then
        t1=$(bench_now_ns)
        record "$impl" "push_put_$scheme" "$(bench_mib_per_s "$BLOB_BYTES" $((t1 - t0)))"
        growth=$(rss_growth_mib "$pid" "$base")
        PUSH_GROWTH=$(awk -v a="$PUSH_GROWTH" -v b="$growth" 'BEGIN { print (b > a ? b : a) }')
    else
        fail "$impl: monolithic PUT of the $BLOB_MIB MiB blob over $scheme failed"
    fi
    check_alive "the monolithic PUT" || return 1

    bench_log "$impl: POST + chunked PATCH + PUT of $BLOB_MIB MiB over $scheme"
    base=$(bench_rss_reset "$pid")
    t0=$(bench_now_ns)
    if bench_push_patch bench/big-patch "$BENCH_DIR/blob.bin" "$BLOB_DIGEST" "$BIG_MAX_TIME" chunked; then
        t1=$(bench_now_ns)
        record "$impl" "push_patch_$scheme" "$(bench_mib_per_s "$BLOB_BYTES" $((t1 - t0)))"
        growth=$(rss_growth_mib "$pid" "$base")
        PUSH_GROWTH=$(awk -v a="$PUSH_GROWTH" -v b="$growth" 'BEGIN { print (b > a ? b : a) }')
    else
        fail "$impl: chunked PATCH of the $BLOB_MIB MiB blob over $scheme failed"
    fi
    check_alive "the PATCH upload" || return 1

    # One untimed download checks the content before the timed ones.
    bench_log "$impl: blob GET over $scheme"
    sum=$(bench_curl -f --max-time "$BIG_MAX_TIME" "$blob_url" | sha256sum | cut -d' ' -f1)
    if [ "sha256:$sum" != "$BLOB_DIGEST" ]; then
        fail "$impl: GET $blob_url returned content with digest sha256:$sum, expected $BLOB_DIGEST"
        return 0
    fi
    if [ "$scheme" = https ]; then
        extra=(--cacert "$BENCH_DIR/tls/ca.crt")
    fi
    base=$(bench_rss_reset "$pid")
    if mibs=$(download_best "$blob_url" -u "$BENCH_USER:$BENCH_PASS" "${extra[@]}"); then
        record "$impl" "pull_$scheme" "$mibs"
        growth=$(rss_growth_mib "$pid" "$base")
        PULL_GROWTH=$(awk -v a="$PULL_GROWTH" -v b="$growth" 'BEGIN { print (b > a ? b : a) }')
    else
        fail "$impl: blob GET over $scheme failed"
    fi
    check_alive "the blob GETs over $scheme"
}

# Run wrk and ab on the manifest of bench/small:v1 and record the results under
# keys ending in _SCHEME. AUTH is "auth" or "none".
bench_manifest_load() {
    local impl=$1 scheme=$2 auth=$3 pid=$SRV_PID manifest_url basic='' hwm

    manifest_url=$SRV_URL/v2/bench/small/manifests/v1
    if [ "$auth" = auth ]; then
        basic=$BENCH_BASIC
    fi
    bench_log "$impl: manifest GET with wrk -c $CONNECTIONS for ${DURATION}s over $scheme ($auth)"
    bench_rss_reset "$pid" >/dev/null
    if run_wrk "$impl" "$scheme" "$manifest_url" "$basic"; then
        record "$impl" "get_rate_$scheme" "$WRK_RATE"
        record "$impl" "get_p99_$scheme" "$WRK_P99_MS"
        LOAD_ERRORS=$((LOAD_ERRORS + WRK_ERRORS))
    else
        fail "$impl: wrk on $manifest_url failed"
    fi
    hwm=$(bench_proc_kib "$pid" VmHWM)
    record "$impl" "rss_wrk_$scheme" "$(awk -v h="${hwm:-0}" 'BEGIN { printf "%.1f", h / 1024 }')"
    check_alive "wrk" || return 1

    bench_log "$impl: manifest HEAD with ab -c $CONNECTIONS for ${AB_DURATION}s over $scheme ($auth)"
    AB_ERRORS=0
    run_ab_head "$impl" "$manifest_url" "_$scheme" "$auth"
    LOAD_ERRORS=$((LOAD_ERRORS + AB_ERRORS))
    check_alive "ab"
}

# Run wrk while the large blob is transferred in the background (BENCH_BIG=1).
bench_transfer_load() {
    local impl=$1 kind manifest_url=$SRV_URL/v2/bench/small/manifests/v1
    local blob_url=$SRV_URL/v2/bench/big-put/blobs/$BLOB_DIGEST

    for kind in fast slow upload; do
        bench_log "$impl: manifest GET with wrk during a $kind transfer"
        if run_wrk_with_transfer "$impl" "$kind" "$manifest_url" "$blob_url"; then
            case $kind in
            fast) record "$impl" get_p99_fast "$WRK_P99_MS"; record "$impl" fast_mibs "$BG_MIBS" ;;
            slow) record "$impl" get_p99_slow "$WRK_P99_MS" ;;
            upload) record "$impl" get_p99_upload "$WRK_P99_MS" ;;
            esac
            LOAD_ERRORS=$((LOAD_ERRORS + WRK_ERRORS))
            if [ "$kind" != fast ] && awk -v m="$BG_MIBS" -v r="$SLOW_RATE_BYTES" \
                'BEGIN { exit !(m * 1048576 < r / 2) }'; then
                note "$impl: the $kind transfer moved at $BG_MIBS MiB/s during wrk, less than half of $SLOW_RATE/s"
            fi
        else
            fail "$impl: wrk during the $kind transfer failed"
        fi
        check_alive "wrk with a $kind transfer" || return 1
    done
}

# Run populate.py MODE ARGS... against the server started last, with the fill
# time limit, in FILL_WORKERS processes for the fill modes, and print one
# "done=N seconds=S per_worker=D0,D1,..." line: the items done by all of
# them, the time of the slowest, and the items each one did. With
# POPULATE_SKIP set to such a per_worker list, each process leaves out the
# items it did then and runs without the time limit.
populate() {
    local mode=$1 workers=$FILL_WORKERS k pids=() status=0 deadline=$FILL_SECONDS skips=()
    shift

    if [ "$mode" = list ]; then
        workers=1
    fi
    if [ -n "${POPULATE_SKIP:-}" ]; then
        IFS=, read -r -a skips <<<"$POPULATE_SKIP"
        deadline=$FILL_COMPLETE_SECONDS
    fi
    for ((k = 0; k < workers; k++)); do
        python3 "$BENCH_LIB_DIR/populate.py" --deadline "$deadline" --workers "$workers" \
            --worker "$k" --skip "${skips[k]:-0}" "$mode" "$SRV_URL" "$@" \
            >"$BENCH_DIR/populate.$k.out" 2>"$BENCH_DIR/populate.$k.err" &
        pids+=($!)
    done
    for k in "${pids[@]}"; do
        wait "$k" || status=1
    done
    if [ "$status" != 0 ]; then
        bench_log "populate.py $mode failed: $(cat "$BENCH_DIR"/populate.*.err | tail -n 2)"
        return 1
    fi
    for ((k = 0; k < workers; k++)); do
        cat "$BENCH_DIR/populate.$k.out"
    done | awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        done += v["done"]; if (v["seconds"] > s) s = v["seconds"]
        per = per (NR > 1 ? "," : "") v["done"] }
        END { printf "done=%d seconds=%.3f per_worker=%s\n", done, s, per }'
    rm -f "$BENCH_DIR"/populate.*.out "$BENCH_DIR"/populate.*.err
}

# Time a listing: GET PATH of the server started last and every page its Link
# headers name, one curl run per page, and add up curl's time_total of the
# pages. The listing runs LIST_RUNS times. Prints "done=N seconds=S" with the
# entries of the JSON array KEY in the last run and the median time. curl
# times both registries the same way and starts faster than python3, whose
# http.client and json.loads added about 3 ms to a 10,000-tag page.
LIST_RUNS=5
list_timed() {
    local path=$1 key=$2 run url out code t link total count times=()

    for ((run = 0; run < LIST_RUNS; run++)); do
        url=$SRV_URL$path total=0 count=0
        while [ -n "$url" ]; do
            out=$(curl -sS --max-time 60 -D "$BENCH_DIR/list.head" -o "$BENCH_DIR/list.body" \
                -w '%{http_code} %{time_total}' "$url") || return 1
            read -r code t <<<"$out"
            if [ "$code" != 200 ]; then
                bench_log "GET $url returned $code, expected 200"
                return 1
            fi
            total=$(awk -v a="$total" -v b="$t" 'BEGIN { printf "%.6f", a + b }')
            count=$((count + $(python3 -c 'import json, sys
print(len(json.load(open(sys.argv[1])).get(sys.argv[2]) or []))' "$BENCH_DIR/list.body" "$key"))) ||
                return 1
            # Link: </v2/_catalog?n=1000&last=x>; rel="next", relative or absolute
            link=$(tr -d '\r' <"$BENCH_DIR/list.head" |
                awk 'tolower($1) == "link:" { sub(/^[^<]*</, ""); sub(/>.*/, ""); print; exit }')
            case $link in
            '') url= ;;
            http://* | https://*) url=$link ;;
            *) url=$SRV_URL$link ;;
            esac
        done
        times+=("$total")
    done
    printf 'done=%d seconds=%s\n' "$count" \
        "$(printf '%s\n' "${times[@]}" | sort -g | awk -v n="$LIST_RUNS" 'NR == int((n + 1) / 2)')"
}

# Print field NAME of a "name=value ..." line.
line_field() {
    awk -v f="$2" '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == f) print kv[2] } }' <<<"$1"
}

# Create, untimed, the items of fill MODE that its time limit left out, so
# both registries list and collect the same number of items. LINE is the
# timed fill's result and ARGS the populate.py arguments after the mode.
# edgecr goes on through its API. The reference's API would need minutes
# for 10,000 items, so layout.py writes the files that its API writes
# straight into its storage root. The listings then check through the API
# that the reference sees every item.
fill_complete() {
    local impl=$1 line=$2 mode=$3 out items
    shift 3

    items=${mode/repos/repositories}

    bench_log "$impl: completing the $items untimed ($(line_field "$line" done) done in ${FILL_SECONDS}s)"
    case $impl in
    edgecr)
        out=$(POPULATE_SKIP=$(line_field "$line" per_worker) populate "$mode" "$@") || return 1
        note "$impl: $(line_field "$line" done) $items were created through the API within ${FILL_SECONDS}s and $(line_field "$out" done) more through the API untimed"
        ;;
    reference)
        out=$(python3 "$BENCH_LIB_DIR/layout.py" "$mode" "$BENCH_DIR/$impl/storage" "$@" \
            2>"$BENCH_DIR/layout.err") || {
            bench_log "layout.py $mode failed: $(tail -n 2 "$BENCH_DIR/layout.err")"
            return 1
        }
        note "$impl: $(line_field "$line" done) $items were created through the API within ${FILL_SECONDS}s and $(line_field "$out" done) more written to its storage in $(line_field "$out" seconds) s"
        ;;
    esac
}

# Print the request rate of a populate.py fill line given REQUESTS_PER_ITEM.
fill_rate() {
    awk -v per="$2" '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        printf "%.0f", (v["seconds"] > 0 ? v["done"] * per / v["seconds"] : 0) }' <<<"$1"
}

# Fill the registry with REPOS repositories and TAGS tags through the API, and
# time the two listings.
bench_fill() {
    local impl=$1 dir=$BENCH_DIR/$1/small line count config_digest code args

    config_digest=sha256:$(sha256sum "$dir/config.json" | cut -d' ' -f1)
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[]}' \
        "$config_digest" "$(stat -c %s "$dir/config.json")" >"$dir/empty-manifest.json"

    bench_log "$impl: creating $REPOS repositories (timed for at most ${FILL_SECONDS}s)"
    args=("$REPOS" --base bench/small --blob "$config_digest" --manifest "$dir/empty-manifest.json")
    if line=$(populate repos "${args[@]}"); then
        record "$impl" fill_repos "$(fill_rate "$line" 2)"
        if [ "$(line_field "$line" done)" -lt "$REPOS" ]; then
            fill_complete "$impl" "$line" repos "${args[@]}" || fail "$impl: completing the repositories failed"
        fi
        # The other repositories of the run (bench/small and the pushes) are listed too.
        if line=$(list_timed "/v2/_catalog?n=1000" repositories); then
            count=$(line_field "$line" done)
            record "$impl" catalog "$(awk '{ split($2, kv, "="); printf "%.2f", kv[2] * 1000 }' <<<"$line")"
            if [ "$count" -lt "$REPOS" ]; then
                fail "$impl: _catalog listed $count repositories, expected at least $REPOS"
            fi
        else
            fail "$impl: listing _catalog failed"
        fi
    else
        fail "$impl: creating repositories failed"
    fi
    check_alive "the repository fill" || return 1

    bench_log "$impl: creating $TAGS tags (timed for at most ${FILL_SECONDS}s)"
    code=$(bench_curl --max-time 30 -X POST -o /dev/null -w '%{http_code}' \
        "$SRV_URL/v2/bench/tags/blobs/uploads/?mount=$config_digest&from=bench/small")
    args=(bench/tags "$TAGS" --manifest "$dir/empty-manifest.json")
    if [ "$code" = 201 ] && line=$(populate tags "${args[@]}"); then
        record "$impl" fill_tags "$(fill_rate "$line" 1)"
        if [ "$(line_field "$line" done)" -lt "$TAGS" ]; then
            fill_complete "$impl" "$line" tags "${args[@]}" || fail "$impl: completing the tags failed"
        fi
        if line=$(list_timed /v2/bench/tags/tags/list tags); then
            count=$(line_field "$line" done)
            record "$impl" tags_list "$(awk '{ split($2, kv, "="); printf "%.2f", kv[2] * 1000 }' <<<"$line")"
            if [ "$count" -ne "$TAGS" ]; then
                fail "$impl: tags/list listed $count tags, expected $TAGS"
            fi
        else
            fail "$impl: listing tags failed"
        fi
    else
        fail "$impl: creating tags failed (mount returned $code)"
    fi
    check_alive "the tag fill"
}

# Upload GC_BLOBS blobs that no manifest references, set GC_UPLOADED to
# their number and GC_FILLED_NS to the time the last one was stored.
bench_fill_blobs() {
    local impl=$1 line

    bench_log "$impl: uploading $GC_BLOBS unreferenced blobs (timed for at most ${FILL_SECONDS}s)"
    if line=$(populate blobs bench/gc "$GC_BLOBS"); then
        record "$impl" fill_blobs "$(fill_rate "$line" 2)"
        GC_UPLOADED=$(line_field "$line" done)
        if [ "$GC_UPLOADED" -lt "$GC_BLOBS" ]; then
            if fill_complete "$impl" "$line" blobs bench/gc "$GC_BLOBS"; then
                GC_UPLOADED=$GC_BLOBS
            else
                fail "$impl: completing the blobs failed"
            fi
        fi
        GC_FILLED_NS=$(bench_now_ns)
    else
        fail "$impl: uploading the blobs failed"
    fi
    check_alive "the blob fill"
}

# Run garbage collection on IMPL's storage with the registry stopped, and
# record its time and the number of files it removed.
bench_gc() {
    local impl=$1 dir=$BENCH_DIR/$1 before after t0 t1 status wait_ns

    if [ "$impl" = edgecr ]; then
        wait_ns=$((GC_FILLED_NS + 62000000000 - $(bench_now_ns)))
        if [ "$wait_ns" -gt 0 ]; then
            bench_log "$impl: waiting $((wait_ns / 1000000000)) s until the blob files are 60 s old"
            sleep $((wait_ns / 1000000000 + 1))
        fi
    fi
    before=$(find "$dir/storage" -type f | wc -l)
    bench_log "$impl: garbage collection"
    t0=$(bench_now_ns)
    case $impl in
    edgecr)
        # A grace period of 0 lets the collection remove the blobs just
        # uploaded. It still keeps blob files whose ctime is less than 60 s
        # old (a fixed settle time). bench_impl uploads the blobs before the
        # manifest load and the fills, so this wait is usually short.
        printf 'gc_grace_period = 0\n' >"$dir/gc.conf"
        timeout 600 "$(bench_edgecr_bin)" gc --config "$dir/gc.conf" --root "$dir/storage" >"$dir/gc.log" 2>&1
        ;;
    reference)
        timeout 600 docker-registry garbage-collect "$dir/config-http.yml" >"$dir/gc.log" 2>&1
        ;;
    esac
    status=$?
    t1=$(bench_now_ns)
    after=$(find "$dir/storage" -type f | wc -l)
    if [ "$status" != 0 ]; then
        fail "$impl: garbage collection exited with status $status: $(tail -n 3 "$dir/gc.log" | tr '\n' ' ')"
        return 1
    fi
    record "$impl" gc "$(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.2f", ns / 1e9 }')"
    record "$impl" gc_removed $((before - after))
    if [ $((before - after)) -lt "${GC_UPLOADED:-0}" ]; then
        note "$impl: garbage collection removed $((before - after)) files, fewer than the $GC_UPLOADED unreferenced blobs stored"
    fi
}

# Push IMAGE_DIR with skopeo and pull it back, over the HTTPS server started
# last, then pull it PULLERS times at once with curl.
bench_image() {
    local impl=$1 pid=$SRV_PID ref t0 t1 i url urls=() bytes hwm pullers=() blobs
    local host=${SRV_URL#https://}

    ref=docker://$host/bench/image:v1
    bench_log "$impl: skopeo push of the $IMAGE_MIB MiB image"
    t0=$(bench_now_ns)
    if skopeo copy -q --dest-cert-dir "$BENCH_DIR/certs.d" --dest-creds "$BENCH_USER:$BENCH_PASS" \
        "oci:$BENCH_DIR/image:v1" "$ref" >"$BENCH_DIR/$impl/skopeo.log" 2>&1; then
        t1=$(bench_now_ns)
        record "$impl" skopeo_push "$(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.2f", ns / 1e9 }')"
    else
        fail "$impl: skopeo push failed: $(tail -n 2 "$BENCH_DIR/$impl/skopeo.log" | tr '\n' ' ')"
        return 1
    fi
    t0=$(bench_now_ns)
    if skopeo copy -q --src-cert-dir "$BENCH_DIR/certs.d" --src-creds "$BENCH_USER:$BENCH_PASS" \
        "$ref" "dir:$BENCH_DIR/pulled" >>"$BENCH_DIR/$impl/skopeo.log" 2>&1; then
        t1=$(bench_now_ns)
        record "$impl" skopeo_pull "$(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.2f", ns / 1e9 }')"
    else
        fail "$impl: skopeo pull failed: $(tail -n 2 "$BENCH_DIR/$impl/skopeo.log" | tr '\n' ' ')"
    fi
    rm -rf "$BENCH_DIR/pulled"
    check_alive "skopeo" || return 1

    # Each puller GETs the manifest by tag, then the config and the layers.
    # skopeo compresses the uncompressed layers when it pushes, so the blob
    # digests come from the pushed manifest.
    urls=("$SRV_URL/v2/bench/image/manifests/v1")
    blobs=$(bench_curl -f --max-time 30 -H "Accept: $BENCH_ACCEPT" "${urls[0]}" |
        python3 -c 'import json, sys; m = json.load(sys.stdin); print(" ".join(d["digest"] for d in [m["config"]] + m["layers"]))') || {
        fail "$impl: GET ${urls[0]} after the skopeo push failed"
        return 1
    }
    for i in $blobs; do
        urls+=("$SRV_URL/v2/bench/image/blobs/$i")
    done
    bench_log "$impl: $PULLERS concurrent pulls of the image"
    bench_rss_reset "$pid" >/dev/null
    : >"$BENCH_DIR/pullers.txt"
    t0=$(bench_now_ns)
    for ((i = 0; i < PULLERS; i++)); do
        bench_curl -f --max-time 300 -H "Accept: $BENCH_ACCEPT" -w '%{size_download}\n' \
            $(printf -- '-o /dev/null %s ' "${urls[@]}") >>"$BENCH_DIR/pullers.txt" 2>>"$BENCH_DIR/pullers.err" &
        pullers+=($!)
    done
    # A bare wait would also wait for dockerd.
    wait "${pullers[@]}"
    t1=$(bench_now_ns)
    bytes=$(awk '{ s += $1 } END { printf "%.0f", s }' "$BENCH_DIR/pullers.txt")
    if [ "$(wc -l <"$BENCH_DIR/pullers.txt")" -ne $((PULLERS * ${#urls[@]})) ] || [ -s "$BENCH_DIR/pullers.err" ]; then
        fail "$impl: some of the $PULLERS concurrent pulls failed: $(head -n 2 "$BENCH_DIR/pullers.err" | tr '\n' ' ')"
    else
        record "$impl" pulls_concurrent "$(bench_mib_per_s "$bytes" $((t1 - t0)))"
    fi
    hwm=$(bench_proc_kib "$pid" VmHWM)
    record "$impl" rss_pulls_concurrent "$(awk -v h="${hwm:-0}" 'BEGIN { printf "%.1f", h / 1024 }')"
    rm -f "$BENCH_DIR/pullers.err"
    check_alive "the concurrent pulls"
}

# Push the image loaded into the private dockerd and pull it back.
bench_docker() {
    local impl=$1 host=${SRV_URL#https://} t0 t1 log=$BENCH_DIR/$1/docker.log

    if [ "$DOCKER_OK" != 1 ]; then
        return 0
    fi
    bench_log "$impl: docker push and pull of the image"
    printf '%s' "$BENCH_PASS" | docker login "$host" -u "$BENCH_USER" --password-stdin >"$log" 2>&1 || {
        fail "$impl: docker login failed: $(tail -n 2 "$log" | tr '\n' ' ')"
        return 1
    }
    docker tag bench/image:v1 "$host/bench/docker:v1" >>"$log" 2>&1
    t0=$(bench_now_ns)
    if docker push -q "$host/bench/docker:v1" >>"$log" 2>&1; then
        t1=$(bench_now_ns)
        record "$impl" docker_push "$(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.2f", ns / 1e9 }')"
    else
        fail "$impl: docker push failed: $(tail -n 2 "$log" | tr '\n' ' ')"
        return 1
    fi
    # Removing both names deletes the image, so the pull downloads every layer.
    docker rmi "$host/bench/docker:v1" bench/image:v1 >>"$log" 2>&1
    t0=$(bench_now_ns)
    if docker pull -q "$host/bench/docker:v1" >>"$log" 2>&1; then
        t1=$(bench_now_ns)
        record "$impl" docker_pull "$(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.2f", ns / 1e9 }')"
    else
        fail "$impl: docker pull failed: $(tail -n 2 "$log" | tr '\n' ' ')"
    fi
    # The next registry pushes the same image under its original name.
    docker tag "$host/bench/docker:v1" bench/image:v1 >>"$log" 2>&1
    docker rmi "$host/bench/docker:v1" >>"$log" 2>&1
    docker logout "$host" >>"$log" 2>&1
    check_alive "docker"
}

# Run every per-registry benchmark against IMPL.
bench_impl() {
    local impl=$1

    mkdir -p "$BENCH_DIR/$impl"
    PUSH_GROWTH=0
    PULL_GROWTH=0
    LOAD_ERRORS=0

    # Plain HTTP without authentication, on empty storage.
    bench_server_start "$impl" http none || {
        fail "$impl: the registry did not start over HTTP (log: $SRV_LOG)"
        return 1
    }
    record "$impl" ready_ms "$SRV_READY_MS"
    sleep 1
    record "$impl" rss_idle "$(awk -v r="$(bench_proc_kib "$SRV_PID" VmRSS)" 'BEGIN { printf "%.1f", r / 1024 }')"
    if [ "$BIG" = 1 ]; then
        bench_transfers "$impl" http || return 1
    fi
    bench_push_small_image bench/small v1 "$BENCH_DIR/$impl/small" || {
        fail "$impl: pushing the small image failed"
        return 1
    }
    GC_FILLED_NS=$(bench_now_ns)
    bench_fill_blobs "$impl" || return 1
    bench_manifest_load "$impl" http none || return 1
    if [ "$BIG_EXTRA" = 1 ] && [ "$BIG" = 1 ]; then
        bench_transfer_load "$impl" || return 1
    fi
    bench_fill "$impl" || return 1
    bench_server_stop
    bench_gc "$impl"
    rm -rf "$BENCH_DIR/$impl/storage"

    # HTTPS with Basic auth, on empty storage again.
    bench_server_start "$impl" https auth || {
        fail "$impl: the registry did not start over HTTPS (log: $SRV_LOG)"
        return 1
    }
    if [ "$BIG" = 1 ]; then
        bench_transfers "$impl" https || return 1
    fi
    bench_push_small_image bench/small v1 "$BENCH_DIR/$impl/small" || {
        fail "$impl: pushing the small image over HTTPS failed"
        return 1
    }
    bench_manifest_load "$impl" https auth || return 1
    if [ "$BIG" = 1 ]; then
        bench_image "$impl" || return 1
        bench_docker "$impl"
    fi
    bench_server_stop
    record "$impl" rss_push "$PUSH_GROWTH"
    record "$impl" rss_pull "$PULL_GROWTH"
    record "$impl" load_errors "$LOAD_ERRORS"
}

# Measure the machine's limits: hashing, encryption, disk, and nginx.
declare -A LIMIT

bench_limits() {
    local rate t0 t1

    bench_log "limits: openssl speed (3 s each)"
    rate=$(openssl speed -mr -seconds 3 -evp sha256 -bytes 16384 2>/dev/null | awk -F: '/^\+F:/ { print $4 }')
    LIMIT[sha256]=$(awk -v r="${rate:-0}" 'BEGIN { printf "%.1f", r / 1048576 }')
    rate=$(openssl speed -mr -seconds 3 -evp aes-128-gcm -bytes 16384 2>/dev/null | awk -F: '/^\+F:/ { print $4 }')
    LIMIT[aes]=$(awk -v r="${rate:-0}" 'BEGIN { printf "%.1f", r / 1048576 }')

    avail_mib=$(df -Pm "$BENCH_DIR" | awk 'NR == 2 { print $4 }')
    if [ "$avail_mib" -ge $((DD_MIB + 256)) ]; then
        bench_log "limits: dd of $DD_MIB MiB with fdatasync"
        t0=$(bench_now_ns)
        if dd if=/dev/zero of="$BENCH_DIR/dd.bin" bs=1M count="$DD_MIB" conv=fdatasync status=none; then
            t1=$(bench_now_ns)
            LIMIT[dd]=$(bench_mib_per_s $((DD_MIB * 1048576)) $((t1 - t0)))
        else
            fail "dd write to $BENCH_DIR/dd.bin failed"
        fi
        rm -f "$BENCH_DIR/dd.bin"
    else
        note "dd skipped: $avail_mib MiB free, $DD_MIB MiB needed"
    fi

    if [ "$BIG" != 1 ]; then
        return 0
    fi
    if [ "${BENCH_NGINX:-1}" = 0 ]; then
        note "nginx skipped: BENCH_NGINX=0"
        return 0
    fi
    if ! command -v nginx >/dev/null 2>&1; then
        note "nginx skipped: not installed (apt-get install nginx-light)"
        return 0
    fi
    local port tls_port
    port=$(bench_free_port) && tls_port=$(bench_free_port) || return 1
    mkdir -p "$BENCH_DIR/www" && ln "$BENCH_DIR/blob.bin" "$BENCH_DIR/www/blob" || return 1
    bench_log "limits: nginx static file over HTTP and HTTPS"
    if bench_nginx_start "$port" "$tls_port"; then
        LIMIT[nginx_http]=$(download_best "http://127.0.0.1:$port/blob") ||
            fail "nginx: GET over HTTP failed"
        LIMIT[nginx_https]=$(download_best "https://127.0.0.1:$tls_port/blob" --cacert "$BENCH_DIR/tls/ca.crt") ||
            fail "nginx: GET over HTTPS failed"
        bench_stop_pid "$NGINX_PID" nginx
        bench_untrack_pid "$NGINX_PID"
    else
        fail "nginx did not start (log: $BENCH_DIR/nginx/error.log)"
    fi
    rm -rf "$BENCH_DIR/www"
}

# ---------------------------------------------------------------------------
# Report

# Print "ratio fraction status" for one row: the ratio edgecr / reference,
# edgecr's fraction of the limit, and met, NOT met or - for the target. A
# missing value prints as -.
evaluate_row() {
    local key=$1 target=$2 limit=$3 edgecr ref limit_value

    edgecr=${VALUE[edgecr/$key]:-}
    ref=${VALUE[reference/$key]:-}
    limit_value=
    if [ -n "$limit" ]; then
        limit_value=${LIMIT[$limit]:-}
    fi
    awk -v e="$edgecr" -v r="$ref" -v l="$limit_value" -v t="$target" 'BEGIN {
        ratio = (e != "" && r != "" && r + 0 > 0) ? e / r : ""
        fraction = (e != "" && l != "" && l + 0 > 0) ? e / l : ""
        status = "-"
        if (t != "") {
            # x is a string after sub(), and awk would compare it as one.
            op = t; sub(/[0-9.]+$/, "", op); x = t; sub(/^[a-z<>=]+/, "", x); x += 0
            if (op == "ratio>=" && ratio != "") status = (ratio >= x ? "met" : "NOT met")
            if (op == "ratio<=" && ratio != "") status = (ratio <= x ? "met" : "NOT met")
            if (op == "limit>=" && fraction != "") status = (fraction >= x ? "met" : "NOT met")
            if (op == "max=" && e != "") status = (e + 0 <= x ? "met" : "NOT met")
        }
        printf "%s|%s|%s\n", (ratio == "" ? "-" : sprintf("%.2f", ratio)),
            (fraction == "" ? "-" : sprintf("%.2f", fraction)), status
    }'
}

# Print a target as the table shows it: "ratio >= 4", "<= 8 MiB", ">= 0.95 x nginx_http".
target_text() {
    local target=$1 unit=$2 limit=$3

    case $target in
    'ratio>='*) echo "ratio >= ${target#ratio>=}" ;;
    'ratio<='*) echo "ratio <= ${target#ratio<=}" ;;
    'limit>='*) echo ">= ${target#limit>=} x $limit" ;;
    max=*) echo "<= ${target#max=} $unit" ;;
    *) echo "" ;;
    esac
}

# Print edgecr's value of KEY over LIMIT[NAME] with two decimals, or nothing.
limit_fraction() {
    local edgecr=${VALUE[edgecr/$1]:-} limit_value=${2:+${LIMIT[$2]:-}}

    awk -v e="$edgecr" -v l="$limit_value" 'BEGIN {
        if (e != "" && l != "" && l + 0 > 0) printf "%.2f", e / l }'
}

# Write the results as tab-separated values to FILE, one row per result. The
# columns limit2, limit2_value and fraction2 come last, so the column numbers
# of the others stay as they were.
write_results() {
    local entry key label unit better target limit limit2 evaluation ratio fraction status

    {
        printf 'key\tlabel\tunit\tbetter\treference\tedgecr\tratio\tlimit\tlimit_value\tfraction\ttarget\tstatus\tlimit2\tlimit2_value\tfraction2\n'
        for entry in "${ROWS[@]}"; do
            IFS='|' read -r key label unit better target limit limit2 <<<"$entry"
            evaluation=$(evaluate_row "$key" "$target" "$limit")
            IFS='|' read -r ratio fraction status <<<"$evaluation"
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$key" "$label" "$unit" "$better" \
                "${VALUE[reference/$key]:-}" "${VALUE[edgecr/$key]:-}" "$ratio" "$limit" \
                "${limit:+${LIMIT[$limit]:-}}" "$fraction" "$(target_text "$target" "$unit" "$limit")" "$status" \
                "$limit2" "${limit2:+${LIMIT[$limit2]:-}}" "$(limit_fraction "$key" "$limit2")"
        done
    } >"$1"
}

print_report() {
    local tsv=$1 name

    echo
    echo "edgecr benchmarks, $RUN_DATE, $(nproc) CPUs, blob $BLOB_MIB MiB," \
        "wrk ${DURATION}s and ab ${AB_DURATION}s with $CONNECTIONS connections"
    echo "load average (1, 5, 15 min) at the start: $LOAD_START, at the end: $LOAD_END"
    # awk, because read with a tab IFS would merge the empty fields.
    awk -F'\t' '{
        if (NR == 1) { $3 = "unit"; $5 = "reference"; $6 = "edgecr"; $7 = "ratio"; $10 = "of limit"
            $15 = "of dd"; $2 = "benchmark"; $11 = "target"; $12 = "status" }
        for (i = 5; i <= 15; i++) if ($i == "") $i = "-"
        printf "%-50s %-6s %10s %10s %8s %8s %6s  %-24s %s\n", $2, $3, $5, $6, $7, $10, $15, $11, $12
    }' "$tsv"

    echo
    echo "Limits of this machine, same run (MiB/s)"
    for name in sha256 aes dd nginx_http nginx_https; do
        printf '  %-12s %-44s %10s\n' "$name" "${LIMIT_LABEL[$name]}" "${LIMIT[$name]:--}"
    done

    if [ ${#NOTES[@]} -gt 0 ]; then
        echo
        echo "Notes"
        printf '  %s\n' "${NOTES[@]}"
    fi
    if [ ${#FAILURES[@]} -gt 0 ]; then
        echo
        echo "Failed steps"
        printf '  %s\n' "${FAILURES[@]}"
    fi
    print_verdicts "$tsv"
}

# Print one line per row with a target: met, NOT met, or not measured, with
# the value it was judged on. An indented row takes the label of the row
# above it.
print_verdicts() {
    echo
    echo "Verdicts"
    awk -F'\t' 'NR > 1 {
        label = $2
        if (label ~ /^  /) { sub(/^ +/, "", label); label = prev ", " label } else prev = label
        if ($11 == "") next
        status = ($12 == "met" || $12 == "NOT met") ? $12 : "not measured"
        if ($11 ~ /^ratio/) value = "edgecr / reference " ($7 == "" ? "-" : $7)
        else if ($11 ~ /^>= /) value = "fraction " ($10 == "" ? "-" : $10)
        else value = "edgecr " ($6 == "" ? "-" : $6 " " $3)
        printf "  %-12s %s: %s, target %s\n", status, label, value, $11
    }' "$1"
}

# Write the results of TSV as JSON to FILE.
write_json() {
    local tsv=$1 file=$2 limits_json='' name

    for name in sha256 aes dd nginx_http nginx_https; do
        limits_json+="${limits_json:+,}\"$name\": {\"label\": \"${LIMIT_LABEL[$name]}\", \"mib_per_s\": ${LIMIT[$name]:-null}}"
    done
    BENCH_META="{\"date\": \"$RUN_DATE\", \"commit\": \"$RUN_COMMIT\",
        \"edgecr_version\": \"$("$(bench_edgecr_bin)" --version 2>/dev/null | head -n 1)\",
        \"reference\": \"$(dpkg-query -W -f '${Version}' docker-registry 2>/dev/null)\",
        \"cpus\": $(nproc), \"load_start\": \"$LOAD_START\", \"load_end\": \"$LOAD_END\",
        \"blob_mib\": $BLOB_MIB, \"wrk_seconds\": $DURATION, \"ab_seconds\": $AB_DURATION,
        \"connections\": $CONNECTIONS, \"limits\": {$limits_json}}" \
    BENCH_NOTES=$(printf '%s\n' "${NOTES[@]}") BENCH_FAILURES=$(printf '%s\n' "${FAILURES[@]}") \
        python3 - "$tsv" "$file" <<'PYEOF'
import csv, json, os, sys

def number(text):
    try:
        return float(text) if "." in text else int(text)
    except ValueError:
        return None

rows = []
with open(sys.argv[1], newline="") as f:
    for r in csv.DictReader(f, delimiter="\t"):
        rows.append({
            "key": r["key"], "label": r["label"].strip(), "unit": r["unit"], "better": r["better"],
            "reference": number(r["reference"]), "edgecr": number(r["edgecr"]),
            "ratio": number(r["ratio"]), "limit": r["limit"] or None,
            "limit_value": number(r["limit_value"]), "fraction_of_limit": number(r["fraction"]),
            "target": r["target"] or None, "status": None if r["status"] == "-" else r["status"],
            "limit2": r["limit2"] or None, "limit2_value": number(r["limit2_value"]),
            "fraction_of_limit2": number(r["fraction2"]),
        })
result = json.loads(os.environ["BENCH_META"])
result["rows"] = rows
result["notes"] = [n for n in os.environ.get("BENCH_NOTES", "").splitlines() if n]
result["failed_steps"] = [n for n in os.environ.get("BENCH_FAILURES", "").splitlines() if n]
with open(sys.argv[2], "w") as f:
    json.dump(result, f, indent=1)
    f.write("\n")
PYEOF
}

# Draw one bar per row that has both values, counts aside. A bar is how many
# times better edgecr did than the reference (the ratio, inverted where lower
# is better) on a log scale. It is green where the row's target is met, red
# where it is not, and grey without a target. Black marks are the targets
# stated as ratios.
write_chart() {
    local tsv=$1 file=$2 data=$BENCH_DIR/chart.dat

    if ! command -v gnuplot >/dev/null 2>&1; then
        note "chart skipped: gnuplot not installed (apt-get install gnuplot-nox)"
        return 0
    fi
    awk -F'\t' 'NR > 1 && $3 != "count" && $5 != "" && $6 != "" && $5 + 0 > 0 && $6 + 0 > 0 {
        factor = ($4 == "lower") ? $5 / $6 : $6 / $5
        color = ($12 == "met") ? 3050327 : ($12 == "NOT met") ? 12597547 : 10066329
        mark = "NaN"
        if ($11 ~ /^ratio >= /) { mark = substr($11, 10) + 0 }
        if ($11 ~ /^ratio <= /) { mark = 1 / (substr($11, 10) + 0) }
        # An indented row belongs to the row above it, so its bar gets both labels.
        label = $2; gsub(/"/, "", label)
        if (label ~ /^  /) { sub(/^ +/, "", label); label = prev ", " label }
        else prev = label
        printf "%d \"%s\" %g %d %s\n", n++, label, factor, color, mark
    }' "$tsv" >"$data"
    gnuplot >"$BENCH_DIR/gnuplot.log" 2>&1 <<EOF || note "chart failed: $(tail -n 2 "$BENCH_DIR/gnuplot.log" | tr '\n' ' ')"
set terminal pngcairo size 1400,900 font "DejaVu Sans,10"
set output "$file"
set title "edgecr vs reference registry (distribution 2.8.2), $RUN_DATE: times better, log scale (green: target met, red: not met, black: ratio target)"
set logscale y
set yrange [0.1:*]
set ylabel "edgecr better by (reference / edgecr where lower is better)"
set grid ytics
set style fill solid 0.8
set boxwidth 0.7
set xtics rotate by 60 right nomirror
set bmargin 24
set lmargin 16
set key off
f(x) = 1
plot "$data" using 1:3:4:xtic(2) with boxes lc rgb variable, \
     f(x) with lines lc rgb "black" dt 2, \
     "$data" using 1:5 with points pt 9 ps 1.5 lc rgb "black"
EOF
}

# ---------------------------------------------------------------------------
# Main

declare -A LIMIT_LABEL=(
    [sha256]="openssl speed -evp sha256, 16 KiB blocks"
    [aes]="openssl speed -evp aes-128-gcm, 16 KiB blocks"
    [dd]="dd write of $DD_MIB MiB, conv=fdatasync"
    [nginx_http]="nginx static file over HTTP, curl"
    [nginx_https]="nginx static file over TLS, curl"
)

if [ "$BIG" = 1 ]; then
    bench_log "writing a $BLOB_MIB MiB random blob and a $IMAGE_MIB MiB image"
    # AES-CTR output is incompressible, and it came three times as fast as
    # /dev/urandom on the machine in docs/BENCHMARKS.md.
    openssl enc -aes-128-ctr -nosalt -K "$(openssl rand -hex 16)" -iv "$(openssl rand -hex 16)" \
        -in /dev/zero 2>/dev/null | head -c "$BLOB_BYTES" >"$BENCH_DIR/blob.bin"
    if [ "$(stat -c %s "$BENCH_DIR/blob.bin")" != "$BLOB_BYTES" ]; then
        fail "writing $BENCH_DIR/blob.bin failed"
        BIG=0
    else
        chmod 644 "$BENCH_DIR/blob.bin"
        # Write the blob out now, so that background writeback does not
        # slow the first measurements.
        sync "$BENCH_DIR/blob.bin"
        BLOB_DIGEST=sha256:$(sha256sum "$BENCH_DIR/blob.bin" | cut -d' ' -f1)
    fi
    if ! bench_make_image "$BENCH_DIR/image" 4 $((IMAGE_MIB / 4)); then
        fail "writing the OCI image layout $BENCH_DIR/image failed"
        BIG=0
    fi
fi

DOCKER_OK=0
if [ "${BENCH_DOCKER:-1}" = 0 ]; then
    note "docker rows skipped: BENCH_DOCKER=0"
elif [ "$BIG" = 1 ]; then
    if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
        note "docker rows skipped: dockerd or docker not installed (apt-get install docker.io)"
    elif ! bench_dockerd_start; then
        note "docker rows skipped: the private dockerd did not start (log: $BENCH_DIR/docker/dockerd.log)"
    elif ! skopeo copy -q "oci:$BENCH_DIR/image:v1" "docker-archive:$BENCH_DIR/image.tar:bench/image:v1" \
        >"$BENCH_DIR/docker/load.log" 2>&1 ||
        ! docker load -q -i "$BENCH_DIR/image.tar" >>"$BENCH_DIR/docker/load.log" 2>&1; then
        note "docker rows skipped: loading the image into dockerd failed: $(tail -n 2 "$BENCH_DIR/docker/load.log" | tr '\n' ' ')"
    else
        DOCKER_OK=1
    fi
    rm -f "$BENCH_DIR/image.tar"
fi

# Other work on the machine skews every result, so the report shows the load.
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
RUN_DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
# "-dirty" marks a binary that may include uncommitted changes.
RUN_COMMIT=$(git describe --always --dirty 2>/dev/null)
if awk -v l="${LOAD_START%% *}" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
    note "the machine was busy at the start (load average $LOAD_START on $(nproc) CPUs), so the results are noisier than usual"
fi

bench_limits
for impl in "${run_impls[@]}"; do
    bench_impl "$impl"
    # A step that returned early may have left the server running.
    bench_stop_pid "$SRV_PID" "$SRV_NAME"
    bench_untrack_pid "$SRV_PID"
    rm -rf "$BENCH_DIR/$impl/storage"
done
if [ -n "${DOCKERD_PID:-}" ]; then
    bench_stop_pid "$DOCKERD_PID" dockerd
    bench_untrack_pid "$DOCKERD_PID"
fi
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

write_results "$BENCH_DIR/results.tsv"
if [ -n "${BENCH_RESULTS:-}" ]; then
    cp "$BENCH_DIR/results.tsv" "$BENCH_RESULTS"
fi
stamp=$(date -u -d "${RUN_DATE% UTC}" +%Y%m%dT%H%MZ 2>/dev/null || date -u +%Y%m%dT%H%MZ)
if mkdir -p "$OUT_DIR"; then
    write_json "$BENCH_DIR/results.tsv" "$OUT_DIR/bench-$stamp.json" ||
        fail "writing $OUT_DIR/bench-$stamp.json failed"
    write_chart "$BENCH_DIR/results.tsv" "$OUT_DIR/bench-$stamp.png"
else
    fail "creating $OUT_DIR failed"
fi
print_report "$BENCH_DIR/results.tsv"
echo
echo "Results: $OUT_DIR/bench-$stamp.json, chart: $OUT_DIR/bench-$stamp.png"

[ ${#FAILURES[@]} -eq 0 ]
exit
}

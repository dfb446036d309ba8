#!/bin/bash
#
# Benchmarks edgecr-registry side by side with the reference registry (Debian's
# docker-registry, CNCF distribution 2.8.2) on 127.0.0.1, and prints one table
# with the ratio edgecr / reference for each result. Both run with Basic auth
# on the same machine in the same run. docs/benchmarks.md explains each row.
#
# Measured for each registry:
#   - push of one large random blob: monolithic PUT, and POST + PATCH + PUT;
#   - blob GET of that blob over HTTP and HTTPS (curl, HTTP/1.1);
#   - peak RSS growth (VmHWM) during each of those transfers;
#   - manifest GET with wrk (-c BENCH_CONNECTIONS): rate and latency, alone
#     and while large blob GETs or a large PATCH run on another connection;
#   - manifest HEAD rate with ab -i -k.
# Measured once, as limits of this machine: openssl speed for SHA-256 and
# AES-128-GCM, a dd write with fdatasync, and nginx serving the same blob as a
# static file over HTTP and HTTPS (skipped when nginx is not installed).
#
# Environment:
#   BENCH_BLOB_MIB      size of the large blob in MiB (default 4096)
#   BENCH_DURATION      seconds of each wrk and ab run (default 10)
#   BENCH_CONNECTIONS   concurrent connections of wrk and ab (default 256)
#   BENCH_REPEAT        downloads per blob GET result, best kept (default 2)
#   BENCH_SLOW_RATE     curl --limit-rate of the slow transfers (default 20M)
#   BENCH_DD_MIB        size of the dd write in MiB (default 2048)
#   BENCH_RSS_TARGET_MIB  largest peak RSS growth per transfer that meets the
#                       streaming target (default 8)
#   BENCH_IMPLS         registries to run, in order (default "reference edgecr")
#   BENCH_NGINX=0       skip nginx
#   BENCH_KEEP=1        keep logs and results in /tmp/edgecr-bench-*
#   BENCH_RESULTS=FILE  also write the results as tab-separated values to FILE
#   EDGECR_REGISTRY     edgecr binary, relative to the repository root unless
#                       absolute (default build/edgecr-registry)
#
# Exit status: 0 when every step ran, 1 when a step failed (a registry did not
# start or died, a request returned an unexpected status, a download was
# short or corrupt), 2 when a required tool is missing. Slow results and
# errors under load are reported in the table and do not change the status.

set -u -o pipefail

# The rest of the script is one brace group, so bash parses all of it before
# it runs any of it, and editing the file during a run cannot break that run.
{

# shellcheck source=tests/bench/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$BENCH_REPO_ROOT" || exit 2

BLOB_MIB=${BENCH_BLOB_MIB:-4096}
DURATION=${BENCH_DURATION:-10}
CONNECTIONS=${BENCH_CONNECTIONS:-256}
REPEAT=${BENCH_REPEAT:-2}
SLOW_RATE=${BENCH_SLOW_RATE:-20M}
DD_MIB=${BENCH_DD_MIB:-2048}
RSS_TARGET_MIB=${BENCH_RSS_TARGET_MIB:-8}
read -r -a IMPLS <<<"${BENCH_IMPLS:-reference edgecr}"

# ---------------------------------------------------------------------------
# Checks of the environment

for name in BLOB_MIB DURATION CONNECTIONS REPEAT DD_MIB RSS_TARGET_MIB; do
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
for tool in wrk ab curl openssl docker-registry htpasswd ss sha256sum base64 numfmt; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "bench: required tools not found: ${missing[*]} (install them with 'make deps')" >&2
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
# content again before the registry discards it.
avail_mib=$(df -Pm "$BENCH_DIR" | awk 'NR == 2 { print $4 }')
need_mib=$((3 * BLOB_MIB + 256))
BIG=1
if [ "$avail_mib" -lt "$need_mib" ]; then
    BIG=0
    note "large-blob benchmarks skipped: $BENCH_DIR has $avail_mib MiB free, and a $BLOB_MIB MiB blob needs $need_mib MiB (set BENCH_BLOB_MIB lower)"
fi

# ---------------------------------------------------------------------------
# Results: VALUE[impl/key] is one result of one registry, and ROWS lists
# "key|label|unit|better" in print order.

declare -A VALUE
ROWS=()

row() {
    ROWS+=("$1|$2|$3|$4")
}

record() {
    VALUE[$1/$2]=$3
}

row push_put "push, monolithic PUT, $BLOB_MIB MiB" MiB/s higher
row push_patch "push, POST + PATCH + PUT, $BLOB_MIB MiB" MiB/s higher
row pull_http "blob GET over HTTP, $BLOB_MIB MiB" MiB/s higher
row pull_https "blob GET over HTTPS, $BLOB_MIB MiB" MiB/s higher
row get_rate "manifest GET, wrk -c $CONNECTIONS" req/s higher
row get_p50 "  p50 latency" ms lower
row get_p99 "  p99 latency" ms lower
row get_max "  max latency" ms lower
row get_p99_fast "  p99 during an unlimited blob GET" ms lower
row fast_mibs "  rate of that blob GET meanwhile" MiB/s higher
row get_p99_slow "  p99 during a $SLOW_RATE/s blob GET" ms lower
row slow_mibs "  rate of that blob GET meanwhile" MiB/s higher
row get_p99_upload "  p99 during a $SLOW_RATE/s blob PATCH" ms lower
row upload_mibs "  rate of that PATCH meanwhile" MiB/s higher
row get_max_transfer "  max latency during the three transfers" ms lower
row get_errors "  errors and timeouts, all four runs" count lower
row head_rate "manifest HEAD, ab -i -k -c $CONNECTIONS" req/s higher
row head_p99 "  p99 latency" ms lower
row head_keepalive "  requests on kept-alive connections" % higher
row head_errors "  failed or non-2xx responses" count lower
row rss_idle "RSS after start and one image push" MiB lower
row rss_push_put "peak RSS growth, monolithic PUT" MiB lower
row rss_push_patch "peak RSS growth, PATCH + PUT" MiB lower
row rss_pull_http "peak RSS growth, blob GET over HTTP" MiB lower
row rss_pull_https "peak RSS growth, blob GET over HTTPS" MiB lower
row rss_wrk "peak RSS growth, the four wrk runs" MiB lower

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

# Run wrk against the manifest at URL and set WRK_RATE, WRK_P50_MS, WRK_P99_MS,
# WRK_MAX_MS and WRK_ERRORS (connect, read, write and timeout errors plus non-2xx/3xx
# responses). Keeps wrk's output in $BENCH_DIR/IMPL/wrk-NAME.txt.
run_wrk() {
    local impl=$1 name=$2 url=$3 out=$BENCH_DIR/$1/wrk-$2.txt line

    BENCH_BASIC=$BENCH_BASIC BENCH_ACCEPT=$BENCH_ACCEPT \
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

# Run ab with HEAD requests on the manifest at URL and record the results.
run_ab_head() {
    local impl=$1 url=$2 out=$BENCH_DIR/$1/ab-head.txt complete failed non2xx keepalive

    # -n after -t raises ab's request cap, which -t sets to 50000. ab
    # allocates its per-request statistics for the whole cap up front, so the
    # cap stays near what DURATION seconds can reach.
    timeout $((DURATION + 30)) ab -i -k -r -q -t "$DURATION" -n $((DURATION * 100000)) \
        -c "$CONNECTIONS" -H "Authorization: Basic $BENCH_BASIC" -H "Accept: $BENCH_ACCEPT" \
        "$url" >"$out" 2>&1
    complete=$(awk '/^Complete requests:/ { print $3 }' "$out")
    if [ -z "$complete" ]; then
        fail "$impl: ab (HEAD $url) printed no result: $(tail -n 3 "$out")"
        return 1
    fi
    failed=$(awk '/^Failed requests:/ { print $3 }' "$out")
    non2xx=$(awk '/^Non-2xx responses:/ { print $3 }' "$out")
    keepalive=$(awk '/^Keep-Alive requests:/ { print $3 }' "$out")
    record "$impl" head_rate "$(awk '/^Requests per second:/ { printf "%.0f", $4 }' "$out")"
    record "$impl" head_p99 "$(awk '$1 == "99%" { print $2 }' "$out")"
    record "$impl" head_keepalive "$(awk -v k="${keepalive:-0}" -v c="$complete" \
        'BEGIN { printf "%.0f", (c > 0 ? 100 * k / c : 0) }')"
    record "$impl" head_errors $((${failed:-0} + ${non2xx:-0}))
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

# Run every per-registry benchmark against IMPL.
bench_impl() {
    local impl=$1 pid base t0 t1 manifest_url blob_url sum code wrk_errors=0 mibs max_transfer=0

    mkdir -p "$BENCH_DIR/$impl"
    bench_server_start "$impl" http || {
        fail "$impl: the registry did not start over HTTP (log: $SRV_LOG)"
        return 1
    }
    pid=$SRV_PID

    bench_push_small_image bench/small v1 "$BENCH_DIR/$impl/small" || {
        fail "$impl: pushing the small image failed"
        return 1
    }
    manifest_url=$SRV_URL/v2/bench/small/manifests/v1
    code=$(bench_curl --max-time 30 -H "Accept: $BENCH_ACCEPT" -o /dev/null -w '%{http_code}' "$manifest_url")
    if [ "$code" != 200 ]; then
        fail "$impl: GET $manifest_url returned $code, expected 200"
        return 1
    fi
    code=$(bench_curl --max-time 30 -I -H "Accept: $BENCH_ACCEPT" -o /dev/null -w '%{http_code}' "$manifest_url")
    if [ "$code" != 200 ]; then
        fail "$impl: HEAD $manifest_url returned $code, expected 200"
    fi
    record "$impl" rss_idle "$(awk -v r="$(bench_proc_kib "$pid" VmRSS)" 'BEGIN { printf "%.1f", r / 1024 }')"

    if [ "$BIG" = 1 ]; then
        blob_url=$SRV_URL/v2/bench/big-put/blobs/$BLOB_DIGEST

        bench_log "$impl: monolithic PUT of $BLOB_MIB MiB"
        base=$(bench_rss_reset "$pid")
        t0=$(bench_now_ns)
        if bench_push_monolithic bench/big-put "$BENCH_DIR/blob.bin" "$BLOB_DIGEST" "$BIG_MAX_TIME"; then
            t1=$(bench_now_ns)
            record "$impl" push_put "$(bench_mib_per_s "$BLOB_BYTES" $((t1 - t0)))"
            record "$impl" rss_push_put "$(rss_growth_mib "$pid" "$base")"
        else
            fail "$impl: monolithic PUT of the $BLOB_MIB MiB blob failed"
        fi
        check_alive "the monolithic PUT" || return 1

        bench_log "$impl: POST + PATCH + PUT of $BLOB_MIB MiB"
        base=$(bench_rss_reset "$pid")
        t0=$(bench_now_ns)
        if bench_push_patch bench/big-patch "$BENCH_DIR/blob.bin" "$BLOB_DIGEST" "$BIG_MAX_TIME"; then
            t1=$(bench_now_ns)
            record "$impl" push_patch "$(bench_mib_per_s "$BLOB_BYTES" $((t1 - t0)))"
            record "$impl" rss_push_patch "$(rss_growth_mib "$pid" "$base")"
        else
            fail "$impl: POST + PATCH + PUT of the $BLOB_MIB MiB blob failed"
        fi
        check_alive "the PATCH upload" || return 1

        # One untimed download checks the content before the timed ones.
        bench_log "$impl: blob GET over HTTP"
        sum=$(bench_curl -f --max-time "$BIG_MAX_TIME" "$blob_url" | sha256sum | cut -d' ' -f1)
        if [ "sha256:$sum" != "$BLOB_DIGEST" ]; then
            fail "$impl: GET $blob_url returned content with digest sha256:$sum, expected $BLOB_DIGEST"
        else
            base=$(bench_rss_reset "$pid")
            if mibs=$(download_best "$blob_url" -u "$BENCH_USER:$BENCH_PASS"); then
                record "$impl" pull_http "$mibs"
                record "$impl" rss_pull_http "$(rss_growth_mib "$pid" "$base")"
            else
                fail "$impl: blob GET over HTTP failed"
            fi
        fi
        check_alive "the blob GETs over HTTP" || return 1
    fi

    bench_log "$impl: manifest GET with wrk -c $CONNECTIONS, ${DURATION}s per run"
    base=$(bench_rss_reset "$pid")
    if run_wrk "$impl" alone "$manifest_url"; then
        record "$impl" get_rate "$WRK_RATE"
        record "$impl" get_p50 "$WRK_P50_MS"
        record "$impl" get_p99 "$WRK_P99_MS"
        record "$impl" get_max "$WRK_MAX_MS"
        wrk_errors=$((wrk_errors + WRK_ERRORS))
    else
        fail "$impl: wrk on $manifest_url failed"
    fi
    if [ "$BIG" = 1 ]; then
        local kind
        for kind in fast slow upload; do
            bench_log "$impl: manifest GET with wrk during a $kind transfer"
            if run_wrk_with_transfer "$impl" "$kind" "$manifest_url" "$blob_url"; then
                case $kind in
                fast) record "$impl" get_p99_fast "$WRK_P99_MS"; record "$impl" fast_mibs "$BG_MIBS" ;;
                slow) record "$impl" get_p99_slow "$WRK_P99_MS"; record "$impl" slow_mibs "$BG_MIBS" ;;
                upload) record "$impl" get_p99_upload "$WRK_P99_MS"; record "$impl" upload_mibs "$BG_MIBS" ;;
                esac
                wrk_errors=$((wrk_errors + WRK_ERRORS))
                max_transfer=$(awk -v a="$max_transfer" -v b="$WRK_MAX_MS" 'BEGIN { print (b > a ? b : a) }')
                # The limited transfers should move at about SLOW_RATE, so
                # less than half of it means the server stalled them.
                if [ "$kind" != fast ] && awk -v m="$BG_MIBS" -v r="$SLOW_RATE_BYTES" \
                    'BEGIN { exit !(m * 1048576 < r / 2) }'; then
                    note "$impl: the $kind transfer moved at $BG_MIBS MiB/s during wrk, less than half of $SLOW_RATE/s"
                fi
            else
                fail "$impl: wrk during the $kind transfer failed"
            fi
            check_alive "wrk with a $kind transfer" || return 1
        done
        record "$impl" get_max_transfer "$max_transfer"
    fi
    record "$impl" get_errors "$wrk_errors"
    record "$impl" rss_wrk "$(rss_growth_mib "$pid" "$base")"

    bench_log "$impl: manifest HEAD with ab -c $CONNECTIONS"
    run_ab_head "$impl" "$manifest_url"
    check_alive "ab" || return 1
    bench_server_stop

    if [ "$BIG" = 1 ]; then
        bench_server_start "$impl" https || {
            fail "$impl: the registry did not start over HTTPS (log: $SRV_LOG)"
            return 1
        }
        pid=$SRV_PID
        blob_url=$SRV_URL/v2/bench/big-put/blobs/$BLOB_DIGEST
        bench_log "$impl: blob GET over HTTPS"
        base=$(bench_rss_reset "$pid")
        if mibs=$(download_best "$blob_url" -u "$BENCH_USER:$BENCH_PASS" --cacert "$BENCH_DIR/tls/ca.crt"); then
            record "$impl" pull_https "$mibs"
            record "$impl" rss_pull_https "$(rss_growth_mib "$pid" "$base")"
        else
            fail "$impl: blob GET over HTTPS failed"
        fi
        check_alive "the blob GETs over HTTPS" || return 1
        bench_server_stop
    fi
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

print_report() {
    local entry key label unit better impl value ref ratio header min

    echo
    echo "edgecr benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, blob $BLOB_MIB MiB," \
        "wrk/ab ${DURATION}s with $CONNECTIONS connections"
    echo "load average (1, 5, 15 min) at the start: $LOAD_START, at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
    header=$(printf '%-44s %-6s' benchmark unit)
    for impl in "${run_impls[@]}"; do
        header+=$(printf ' %10s' "$impl")
    done
    if [ -n "${VALUE[edgecr/rss_idle]:-}" ] && [ -n "${VALUE[reference/rss_idle]:-}" ]; then
        header+=$(printf ' %10s' edgecr/ref)
    fi
    echo "$header  better"
    for entry in "${ROWS[@]}"; do
        IFS='|' read -r key label unit better <<<"$entry"
        printf '%-44s %-6s' "$label" "$unit"
        for impl in "${run_impls[@]}"; do
            printf ' %10s' "${VALUE[$impl/$key]:--}"
        done
        if [ -n "${VALUE[edgecr/rss_idle]:-}" ] && [ -n "${VALUE[reference/rss_idle]:-}" ]; then
            value=${VALUE[edgecr/$key]:-}
            ref=${VALUE[reference/$key]:-}
            # A growth below 1 MiB is noise, and so is any ratio to it.
            case $key in
            rss_idle) min=0 ;;
            rss_*) min=1 ;;
            *) min=0 ;;
            esac
            ratio=$(awk -v a="$value" -v b="$ref" -v min="$min" \
                'BEGIN { if (a == "" || b == "" || b + 0 == 0 || a + 0 < min || b + 0 < min) print "-"; else printf "%.2f", a / b }')
            printf ' %10s' "$ratio"
        fi
        printf '  %s\n' "$better"
    done

    echo
    echo "Limits of this machine, same run"
    printf '%-44s %-6s %10s\n' "SHA-256, openssl speed, 16 KiB blocks" MiB/s "${LIMIT[sha256]:--}"
    printf '%-44s %-6s %10s\n' "AES-128-GCM, openssl speed, 16 KiB blocks" MiB/s "${LIMIT[aes]:--}"
    printf '%-44s %-6s %10s\n' "dd write $DD_MIB MiB, conv=fdatasync" MiB/s "${LIMIT[dd]:--}"
    printf '%-44s %-6s %10s\n' "nginx static file over HTTP, curl" MiB/s "${LIMIT[nginx_http]:--}"
    printf '%-44s %-6s %10s\n' "nginx static file over HTTPS, curl" MiB/s "${LIMIT[nginx_https]:--}"

    if [ -n "${VALUE[edgecr/rss_idle]:-}" ] && [ "$BIG" = 1 ]; then
        echo
        echo "Streaming target for edgecr: peak RSS growth of at most $RSS_TARGET_MIB MiB per $BLOB_MIB MiB transfer"
        for key in rss_push_put rss_push_patch rss_pull_http rss_pull_https; do
            value=${VALUE[edgecr/$key]:-}
            if [ -z "$value" ]; then
                printf '  %-18s not measured\n' "$key"
            elif awk -v v="$value" -v t="$RSS_TARGET_MIB" 'BEGIN { exit !(v <= t) }'; then
                printf '  %-18s %s MiB, met\n' "$key" "$value"
            else
                printf '  %-18s %s MiB, NOT met\n' "$key" "$value"
            fi
        done
    fi

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
}

write_results() {
    local entry key label unit better impl

    {
        printf 'key\tlabel\tunit\tbetter'
        printf '\t%s' "${run_impls[@]}"
        printf '\n'
        for entry in "${ROWS[@]}"; do
            IFS='|' read -r key label unit better <<<"$entry"
            printf '%s\t%s\t%s\t%s' "$key" "$label" "$unit" "$better"
            for impl in "${run_impls[@]}"; do
                printf '\t%s' "${VALUE[$impl/$key]:-}"
            done
            printf '\n'
        done
        for key in sha256 aes dd nginx_http nginx_https; do
            printf 'limit_%s\t\tMiB/s\thigher\t%s\n' "$key" "${LIMIT[$key]:-}"
        done
        printf 'load_start\t\t\t\t%s\n' "$LOAD_START"
        printf 'load_end\t\t\t\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
    } >"$1"
}

# ---------------------------------------------------------------------------
# Main

if [ "$BIG" = 1 ]; then
    bench_log "writing a $BLOB_MIB MiB random blob"
    # AES-CTR output is incompressible, and it came three times as fast as
    # /dev/urandom on the machine in docs/benchmarks.md.
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
fi

# Other work on the machine skews every result, so the report shows the load.
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
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

write_results "$BENCH_DIR/results.tsv"
if [ -n "${BENCH_RESULTS:-}" ]; then
    cp "$BENCH_DIR/results.tsv" "$BENCH_RESULTS"
fi
print_report

[ ${#FAILURES[@]} -eq 0 ]
exit
}

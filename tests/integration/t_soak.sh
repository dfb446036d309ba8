#!/bin/bash
#
# Soak test: 256 connections push and pull small images for SOAK_SECONDS
# (default 120) against a registry with TLS and Basic auth on 127.0.0.1,
# using soak_client.py (python3 threads with http.client and ssl).
#
# Passes when no request failed, every pulled manifest and layer had the
# pushed bytes, and the registry did not grow after the warm-up (SOAK_WARMUP
# seconds, default a quarter of the run, at least 20 s): the highest RSS and
# open descriptor count sampled in the last third of the time after the
# warm-up pass those of the first third by at most SOAK_RSS_GROWTH_KIB
# (default 16384) and SOAK_FD_GROWTH (default 32).  Samples are taken every
# 2 s; requests in flight hold a file descriptor and buffers each, hence
# the slack.  Latency p50, p99
# and maximum are reported, not enforced, because the machine may be
# shared, and so are the longest metadata write waits from /metrics.
#
# Under a sanitizer build (ASAN_OPTIONS set) a request may take up to 600 s
# instead of 120 s (SOAK_REQUEST_TIMEOUT), and RSS growth is reported but
# not enforced: AddressSanitizer keeps freed memory in a quarantine of up to
# 256 MiB, and LeakSanitizer checks for leaks when the registry exits.
#
#   SOAK_SECONDS=1800 tests/integration/run.sh t_soak.sh   # a longer run
#
# Uses ports 20000-20499 and the source addresses 127.0.0.1 to 127.0.0.4.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry_direct.sh"
IT_PORT_MIN=20000
IT_PORT_MAX=20499

it_init curl jq openssl python3

SECONDS_RUN=${SOAK_SECONDS:-120}
WARMUP=${SOAK_WARMUP:-$((SECONDS_RUN / 4 > 20 ? SECONDS_RUN / 4 : 20))}
CONNECTIONS=${SOAK_CONNECTIONS:-256}
RSS_GROWTH=${SOAK_RSS_GROWTH_KIB:-16384}
FD_GROWTH=${SOAK_FD_GROWTH:-32}
if [ -n "${ASAN_OPTIONS:-}" ]; then
    export SOAK_REQUEST_TIMEOUT=${SOAK_REQUEST_TIMEOUT:-600}
fi

USER_NAME=soak
PASS="soak-$RANDOM$RANDOM"
printf '%s' "$PASS" | "$RD_BIN" passwd "$USER_NAME" --auth-file "$IT_DIR/auth" || it_bail "passwd failed"
it_make_certs "$IT_DIR/tls" || it_bail "certificate generation failed"

# The defaults of max_connections and max_connections_per_address apply:
# the run checks that they admit 256 clients.
rd_start soak "auth_file=$IT_DIR/auth" "tls_cert=$IT_DIR/tls/server.crt" \
    "tls_key=$IT_DIR/tls/server.key" log_level=warning
it_assert_match "max_connections' default leaves headroom over $CONNECTIONS" \
    'ok' "$(python3 -c "print('ok' if 512 >= $CONNECTIONS + 64 else 'no')")"

echo "# soak: $CONNECTIONS connections for $SECONDS_RUN s, warm-up $WARMUP s"
python3 "$(dirname "$0")/soak_client.py" "$RD_PORT" "$IT_DIR/tls/ca.crt" "$USER_NAME" "$PASS" \
    "$RD_PID" "$SECONDS_RUN" "$CONNECTIONS" "$WARMUP" "$IT_DIR/soak.json" ||
    it_bail "the soak client failed"
R=$IT_DIR/soak.json

echo "# soak: $(jq -r '"\(.requests) requests, \(.images) images in \(.seconds) s"' "$R")"
echo "# soak: latency p50 $(jq -r .p50_ms "$R") ms, p99 $(jq -r .p99_ms "$R") ms, max $(jq -r .max_ms "$R") ms"
metrics=$(curl -s --cacert "$IT_DIR/tls/ca.crt" -u "$USER_NAME:$PASS" "$RD_URL/metrics")
metric() { printf '%s\n' "$metrics" | awk -v name="$1" '$1 == name { print $2 }'; }
echo "# soak: $(metric edgecr_registry_metadata_writes_total) metadata writes," \
    "longest wait for their turn $(metric edgecr_registry_metadata_write_queue_wait_max_seconds) s," \
    "for the write lock $(metric edgecr_registry_metadata_write_lock_wait_max_seconds) s"
echo "# soak: RSS KiB and open fds over time: $(jq -r '[.samples[] | "\(.t)s:\(.rss_kib)/\(.fds)"] | join(" ")' "$R")"

it_assert_eq "soak: no failed request" 0 "$(jq -r .failed "$R")" \
    "$(jq -r '.failures[]' "$R"; echo "registry errors:"; grep -E ' (err|warning) ' "$RD_LOG" | head -n 10)"
it_assert_match "soak: requests were made" '^[1-9][0-9]*$' "$(jq -r .requests "$R")"
early_rss=$(jq -r .early_rss_kib "$R")
late_rss=$(jq -r .late_rss_kib "$R")
early_fds=$(jq -r .early_fds "$R")
late_fds=$(jq -r .late_fds "$R")
if [ -n "${ASAN_OPTIONS:-}" ]; then
    it_ok "soak: RSS $early_rss KiB early, $late_rss KiB late (not enforced under sanitizers)"
elif [ "$((late_rss - early_rss))" -le "$RSS_GROWTH" ]; then
    it_ok "soak: RSS $early_rss KiB early, $late_rss KiB late (growth at most $RSS_GROWTH)"
else
    it_not_ok "soak: RSS growth" "grew from $early_rss to $late_rss KiB, more than $RSS_GROWTH"
fi
if [ "$((late_fds - early_fds))" -le "$FD_GROWTH" ]; then
    it_ok "soak: open fds $early_fds early, $late_fds late (growth at most $FD_GROWTH)"
else
    it_not_ok "soak: fd growth" "grew from $early_fds to $late_fds, more than $FD_GROWTH"
fi
it_assert_eq "soak: the registry still serves" 200 \
    "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$IT_DIR/tls/ca.crt" -u "$USER_NAME:$PASS" "$RD_URL/v2/")"

it_done

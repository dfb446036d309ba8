# shellcheck shell=bash
#
# Helpers for the integration tests that drive real container clients
# (docker, skopeo, podman, ctr, curl) against a registry on 127.0.0.1.
#
# Source this file from a t_*.sh script, then call it_init. What the helpers
# start or write outside the test's temporary directory is recorded here and
# undone by the EXIT trap. It stops daemons by PID and unmounts what is
# mounted under the temporary directory. It also removes the /etc/hosts line,
# the /etc/docker/certs.d folders and the empty run-time folders of the
# clients.
#
# Environment read here:
#   EDGECR_IMPL       edgecr (default) or reference (CNCF distribution 2.8.2,
#                     Debian's docker-registry)
#   EDGECR_REGISTRY   path of the edgecr binary, relative to the repository
#                     root unless absolute (default build/edgecr-registry)
#   IT_KEEP=1         keep the temporary directory after the test
#   IT_REG_LOGLEVEL   log level of the reference registry (default info)
#   IT_REG_CONFIG     configuration file given to edgecr-registry with --config
#
# Each check prints one TAP-style line, "ok - NAME" or "not ok - NAME: REASON",
# with diagnostics on following lines that start with "#".

IT_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IT_REPO_ROOT=$(cd "$IT_LIB_DIR/../.." && pwd)

# Ports reserved to these tests. Other developers use other ranges on the same
# machine, so nothing outside this range may be bound.
IT_PORT_MIN=15000
IT_PORT_MAX=15999

IT_HOSTNAME=ecr.test.local

IT_DIR=
IT_PASSED=0
IT_FAILED=0
IT_PIDS=()            # daemons started by this test, in start order
IT_PID_NAMES=()       # name of each entry of IT_PIDS, for messages
IT_PORTS_TAKEN=()     # ports handed out by it_free_port in this shell
IT_CERTSD_DIRS=()     # folders created under /etc/docker/certs.d
IT_HOSTS_MARKER=      # comment that tags our /etc/hosts line
IT_CLEANUP_HOOKS=()   # commands run first by it_cleanup
IT_VARLIB_CACHE_EXISTED=

# Paths that the clients create outside the test's directory regardless of
# their options (dockerd 20.10, its containerd 1.6 shims, podman 4.3 with CNI,
# runc), deepest first. Clean-up removes those that did not exist before the
# test, directories only when empty because another test may be using them.
IT_SYSTEM_PATHS=(
    /run/containerd/s /run/containerd
    /run/docker/plugins /run/docker
    /run/containers/networks /run/containers
    /run/runc
    /etc/cni/net.d/cni.lock
)
IT_SYSTEM_PATHS_NEW=()

# ---------------------------------------------------------------------------
# Set-up and clean-up

# Create the test's temporary directory, install the traps and check that the
# tools named as arguments exist.
it_init() {
    local tool missing=0

    for tool in "$@"; do
        if ! command -v "$tool" >/dev/null 2>&1; then
            echo "Bail out! required tool not found: $tool" >&2
            missing=1
        fi
    done
    if [ "$missing" -ne 0 ]; then
        exit 2
    fi

    it_tmpdir
    trap it_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM

    # containers/image (skopeo, podman) keeps a blob-info cache in
    # /var/lib/containers/cache when run as root, and skopeo has no option to
    # move it. skopeo 1.9.3 did not create it while /var/lib/containers was
    # missing. Remember whether it existed, so clean-up can remove ours.
    if [ -e /var/lib/containers ]; then
        IT_VARLIB_CACHE_EXISTED=1
    else
        IT_VARLIB_CACHE_EXISTED=0
    fi

    local path
    for path in "${IT_SYSTEM_PATHS[@]}"; do
        if [ ! -e "$path" ]; then
            IT_SYSTEM_PATHS_NEW+=("$path")
        fi
    done
}

# Create a private temporary directory under /tmp/edgecr-it-* and set IT_DIR.
# The name stays short because unix socket paths under it are limited to 107
# bytes.
it_tmpdir() {
    IT_DIR=$(mktemp -d /tmp/edgecr-it-XXXXXX) || {
        echo "Bail out! mktemp failed" >&2
        exit 2
    }
    chmod 755 "$IT_DIR"
}

# Register a command that it_cleanup runs before stopping daemons.
it_on_cleanup() {
    IT_CLEANUP_HOOKS+=("$1")
}

# Record a daemon started by this test so that clean-up stops it.
it_track_pid() {
    IT_PIDS+=("$1")
    IT_PID_NAMES+=("$2")
}

# Stop one process by PID: SIGTERM, then SIGKILL after TIMEOUT seconds. Only
# a child of this shell is signalled, so that a PID reused by another
# program after our daemon exited is left alone.
it_stop_pid() {
    local pid=$1 name=${2:-process} timeout=${3:-20} i ppid

    if ! kill -0 "$pid" 2>/dev/null; then
        return 0
    fi
    # Field 4 of /proc/PID/stat is the parent PID. The command name in field 2
    # may contain spaces, so the fields are counted after its closing bracket.
    ppid=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f2)
    if [ "$ppid" != "$$" ]; then
        echo "# not stopping pid $pid: it is no longer the $name this test started" >&2
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < timeout * 10; i++)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid" 2>/dev/null
            return 0
        fi
        sleep 0.1
    done
    echo "# $name (pid $pid) did not stop after SIGTERM within ${timeout}s; sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
}

# Unmount every mount point under DIR, deepest first. podman (overlay) and
# containerd (snapshots, shm) can leave mounts under their roots.
it_unmount_under() {
    local dir=$1 mnt

    # Field 5 of mountinfo is the mount point, with spaces escaped as \040.
    awk -v d="$dir/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo |
        sort -r |
        while read -r mnt; do
            mnt=$(printf '%b' "$mnt")
            umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null ||
                echo "# failed to unmount $mnt" >&2
        done
}

# Undo everything the test did. Runs from the EXIT trap.
it_cleanup() {
    local rc=$? i hook

    trap - EXIT INT TERM
    for hook in "${IT_CLEANUP_HOOKS[@]}"; do
        eval "$hook" >/dev/null 2>&1
    done
    for ((i = ${#IT_PIDS[@]} - 1; i >= 0; i--)); do
        it_stop_pid "${IT_PIDS[i]}" "${IT_PID_NAMES[i]}"
    done

    it_hosts_remove
    # Newest first, so that a certs.d we created is removed only when empty:
    # other tests may have added their own folders to it meanwhile.
    for ((i = ${#IT_CERTSD_DIRS[@]} - 1; i >= 0; i--)); do
        if [ "${IT_CERTSD_DIRS[i]}" = /etc/docker/certs.d ]; then
            rmdir /etc/docker/certs.d 2>/dev/null
        else
            rm -rf -- "${IT_CERTSD_DIRS[i]}"
        fi
    done
    if [ "$IT_VARLIB_CACHE_EXISTED" = 0 ]; then
        # NOTE: a test of another developer running at the same moment may
        # have created the cache too. containers/image recreates it on the
        # next run, so removing it costs them only cached blob locations.
        rm -f /var/lib/containers/cache/blob-info-cache-v1.boltdb
        rmdir /var/lib/containers/cache /var/lib/containers 2>/dev/null
    fi

    for i in "${IT_SYSTEM_PATHS_NEW[@]}"; do
        if [ -d "$i" ]; then
            rmdir -- "$i" 2>/dev/null
        elif [ -f "$i" ] && [ ! -s "$i" ]; then
            rm -f -- "$i"
        fi
    done

    if [ -n "$IT_DIR" ] && [ -d "$IT_DIR" ]; then
        it_unmount_under "$IT_DIR"
        if [ "${IT_KEEP:-0}" = 1 ]; then
            echo "# kept $IT_DIR" >&2
        elif awk -v d="$IT_DIR/" 'index($5, d) == 1 { found = 1 } END { exit !found }' \
            /proc/self/mountinfo; then
            echo "# kept $IT_DIR because mounts under it remain; unmount them and remove it" >&2
        else
            rm -rf -- "$IT_DIR"
        fi
    fi
    exit "$rc"
}

# Print a free TCP port of 127.0.0.1 in 15000-15999 that this shell has not
# handed out before.
it_free_port() {
    local port tries used_port

    for ((tries = 0; tries < 200; tries++)); do
        port=$((IT_PORT_MIN + RANDOM % (IT_PORT_MAX - IT_PORT_MIN + 1)))
        for used_port in "${IT_PORTS_TAKEN[@]}"; do
            if [ "$used_port" = "$port" ]; then
                continue 2
            fi
        done
        if ss -Hltn "sport = :$port" 2>/dev/null | grep -q .; then
            continue
        fi
        IT_PORTS_TAKEN+=("$port")
        echo "$port"
        return 0
    done
    echo "Bail out! no free port in $IT_PORT_MIN-$IT_PORT_MAX" >&2
    return 1
}

# Wait until a unix socket exists, for at most TIMEOUT seconds, while PID lives.
it_wait_socket() {
    local sock=$1 pid=$2 timeout=${3:-30} i

    for ((i = 0; i < timeout * 10; i++)); do
        if [ -S "$sock" ]; then
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            return 1
        fi
        sleep 0.1
    done
    return 1
}

# ---------------------------------------------------------------------------
# Results and assertions

it_ok() {
    IT_PASSED=$((IT_PASSED + 1))
    echo "ok - $1"
}

# Report a failed check: NAME, REASON, then optional diagnostic text that is
# printed with a "#" prefix, followed by the tail of the registry log.
it_not_ok() {
    local name=$1 reason=$2 detail=${3:-}

    IT_FAILED=$((IT_FAILED + 1))
    echo "not ok - $name: $reason"
    if [ -n "$detail" ]; then
        printf '%s\n' "$detail" | tail -n 30 | sed 's/^/#   /'
    fi
    it_registry_log_tail
}

# Run a command, which passes the check when it exits 0. Its output is kept
# in IT_OUT for later checks.
it_check() {
    local name=$1 rc
    shift

    IT_OUT=$("$@" 2>&1)
    rc=$?
    if [ "$rc" -eq 0 ]; then
        it_ok "$name"
        return 0
    fi
    it_not_ok "$name" "expected exit 0 from '$*', got $rc" "$IT_OUT"
    return 1
}

# Like it_check, but keep the command's standard output byte for byte in
# FILE (command substitution would drop trailing newlines) and its standard
# error in IT_OUT.
it_check_stdout() {
    local name=$1 file=$2 rc
    shift 2

    "$@" >"$file" 2>"$file.stderr"
    rc=$?
    IT_OUT=$(cat "$file.stderr")
    if [ "$rc" -eq 0 ]; then
        it_ok "$name"
        return 0
    fi
    it_not_ok "$name" "expected exit 0 from '$*', got $rc" "$IT_OUT"
    return 1
}

# Run a command, which passes the check when it exits non-zero.
it_check_fails() {
    local name=$1 rc
    shift

    IT_OUT=$("$@" 2>&1)
    rc=$?
    if [ "$rc" -ne 0 ]; then
        it_ok "$name"
        return 0
    fi
    it_not_ok "$name" "expected '$*' to fail, but it exited 0" "$IT_OUT"
    return 1
}

# Pass when ACTUAL equals EXPECTED. DETAIL, such as a response body, is
# printed on failure.
it_assert_eq() {
    local name=$1 expected=$2 actual=$3 detail=${4:-}

    if [ "$expected" = "$actual" ]; then
        it_ok "$name"
        return 0
    fi
    it_not_ok "$name" "expected '$expected', got '$actual'" "$detail"
    return 1
}

# Pass when ACTUAL matches the extended regular expression PATTERN.
it_assert_match() {
    local name=$1 pattern=$2 actual=$3

    if printf '%s' "$actual" | grep -Eq -- "$pattern"; then
        it_ok "$name"
        return 0
    fi
    it_not_ok "$name" "expected a match for /$pattern/" "got: $actual"
    return 1
}

it_assert_no_match() {
    local name=$1 pattern=$2 actual=$3

    if ! printf '%s' "$actual" | grep -Eq -- "$pattern"; then
        it_ok "$name"
        return 0
    fi
    it_not_ok "$name" "expected no match for /$pattern/" "got: $actual"
    return 1
}

# Print the summary line and exit: 0 when no check failed.
it_done() {
    echo "# $(basename "$0"): $IT_PASSED passed, $IT_FAILED failed"
    if [ "$IT_FAILED" -gt 0 ]; then
        exit 1
    fi
    exit 0
}

# Stop the test at once, for a failed step that later checks depend on.
it_bail() {
    echo "Bail out! $1"
    it_registry_log_tail
    IT_FAILED=$((IT_FAILED + 1))
    exit 1
}

# Set IT_PT_LOCALE_ENV to the environment (NAME=VALUE words for env) that
# gives a program the pt_PT.UTF-8 locale.  When the system lacks it, the
# locale is built in DIR and LOCPATH points at it.  glibc 2.36 keeps the
# parsed LOCPATH list until the process exits, and LeakSanitizer would report
# it under check-asan, so that one entry is suppressed.  Returns 1 when
# localedef fails.
it_pt_locale_env() {
    local dir=$1

    IT_PT_LOCALE_ENV=()
    if locale -a 2>/dev/null | grep -qix 'pt_PT\.utf-\?8'; then
        return 0
    fi
    mkdir -p "$dir/locale"
    localedef -i pt_PT -f UTF-8 "$dir/locale/pt_PT.UTF-8" >"$dir/localedef.log" 2>&1 ||
        return 1
    printf 'leak:argz_add_sep\n' >"$dir/lsan.supp"
    IT_PT_LOCALE_ENV=(LOCPATH="$dir/locale"
        LSAN_OPTIONS="suppressions=$dir/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}")
}

# ---------------------------------------------------------------------------
# Name resolution and trust

# Add "127.0.0.1 ecr.test.local" to /etc/hosts, tagged with a comment naming
# this test's PID so that removal touches only our line. Other tests may add
# their own line for the same name at the same time.
it_hosts_add() {
    if [ -n "$IT_HOSTS_MARKER" ]; then
        return 0
    fi
    IT_HOSTS_MARKER="edgecr-it-$$"
    printf '127.0.0.1 %s # %s\n' "$IT_HOSTNAME" "$IT_HOSTS_MARKER" >>/etc/hosts
}

# Remove our /etc/hosts line. /etc/hosts is rewritten in place rather than
# replaced, because it is a bind mount in some containers.
it_hosts_remove() {
    local kept

    if [ -z "$IT_HOSTS_MARKER" ]; then
        return 0
    fi
    kept=$(grep -v -F "# $IT_HOSTS_MARKER" /etc/hosts)
    printf '%s\n' "$kept" >/etc/hosts
    IT_HOSTS_MARKER=
}

# Make a CA and a server certificate in DIR: ca.key, ca.crt, server.key,
# server.crt (SAN DNS:ecr.test.local, IP:127.0.0.1; EKU serverAuth), and
# DIR/ca-only/ca.crt for the clients' --cert-dir options, which also load any
# client certificate and key they find in the folder.
it_make_certs() {
    local dir=$1

    mkdir -p "$dir/ca-only" || return 1
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
        -keyout "$dir/ca.key" -out "$dir/ca.crt" \
        -subj "/CN=edgecr integration test CA" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        >"$dir/openssl.log" 2>&1 || return 1
    openssl req -new -newkey rsa:2048 -nodes \
        -keyout "$dir/server.key" -out "$dir/server.csr" \
        -subj "/CN=$IT_HOSTNAME" >>"$dir/openssl.log" 2>&1 || return 1
    cat >"$dir/server.ext" <<EOF
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:$IT_HOSTNAME, IP:127.0.0.1
EOF
    openssl x509 -req -days 2 -in "$dir/server.csr" \
        -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
        -extfile "$dir/server.ext" -out "$dir/server.crt" \
        >>"$dir/openssl.log" 2>&1 || return 1
    cp "$dir/ca.crt" "$dir/ca-only/ca.crt"
}

# Trust the test CA in dockerd for HOST:PORT through /etc/docker/certs.d.
it_docker_trust() {
    local hostport=$1 dir=/etc/docker/certs.d/$1

    if [ -e "$dir" ]; then
        it_bail "$dir already exists; another test may be using port ${hostport##*:}"
    fi
    if [ ! -d /etc/docker/certs.d ]; then
        mkdir -p /etc/docker/certs.d || return 1
        IT_CERTSD_DIRS+=(/etc/docker/certs.d)
    fi
    mkdir "$dir" || return 1
    IT_CERTSD_DIRS+=("$dir")
    cp "$REG_CA_DIR/ca.crt" "$dir/ca.crt" || return 1
}

# ---------------------------------------------------------------------------
# Registry under test

# Start the registry chosen by EDGECR_IMPL with TLS and Basic auth on a free
# port of 127.0.0.1, wait until GET /v2/ responds, and export:
#   REG_HOST    name that resolves to 127.0.0.1 and matches the certificate
#   REG_PORT    port
#   REG         REG_HOST:REG_PORT, the registry part of image references
#   REG_URL     https://REG
#   REG_USER, REG_PASS   the accepted credentials
#   REG_PID     PID of the registry process
#   REG_CA_DIR  folder that contains only ca.crt
#   REG_LOG     file that receives the registry's log
# Also adds the /etc/hosts line for REG_HOST.
it_registry_start() {
    local impl=${EDGECR_IMPL:-edgecr} dir="$IT_DIR/registry"

    mkdir -p "$dir/storage" || return 1
    it_make_certs "$dir/tls" || it_bail "certificate generation failed: $(tail -n 5 "$dir/tls/openssl.log")"
    it_hosts_add

    REG_HOST=$IT_HOSTNAME
    REG_PORT=$(it_free_port) || exit 2
    REG=$REG_HOST:$REG_PORT
    REG_URL=https://$REG
    REG_USER=ituser
    REG_PASS="it-pass-$RANDOM$RANDOM"
    REG_CA_DIR=$dir/tls/ca-only
    REG_LOG=$dir/registry.log
    export REG_HOST REG_PORT REG REG_URL REG_USER REG_PASS REG_CA_DIR REG_LOG

    case $impl in
    edgecr) it_registry_start_edgecr "$dir" ;;
    reference) it_registry_start_reference "$dir" ;;
    *) it_bail "unknown EDGECR_IMPL '$impl' (use edgecr or reference)" ;;
    esac
    it_registry_wait
}

# Stop the registry with SIGTERM and start it again on the same port, storage
# and credentials, for checks that data survives a restart.
it_registry_restart() {
    local impl=${EDGECR_IMPL:-edgecr} dir="$IT_DIR/registry"

    it_stop_pid "$REG_PID" registry
    echo "--- restart" >>"$REG_LOG"
    case $impl in
    edgecr) it_registry_launch_edgecr "$dir" ;;
    reference) it_registry_launch_reference "$dir" ;;
    esac
    it_registry_wait
}

# Wait until GET /v2/ on the registry returns 200 or 401, for at most 20s.
it_registry_wait() {
    local impl=${EDGECR_IMPL:-edgecr} code i

    export REG_PID
    for ((i = 0; i < 200; i++)); do
        if ! kill -0 "$REG_PID" 2>/dev/null; then
            it_bail "registry ($impl) exited during start-up"
        fi
        code=$(it_curl -o /dev/null -w '%{http_code}' "$REG_URL/v2/" 2>/dev/null)
        if [ "$code" = 200 ] || [ "$code" = 401 ]; then
            echo "# registry $impl pid $REG_PID on $REG (GET /v2/ without credentials: $code)"
            return 0
        fi
        sleep 0.1
    done
    it_bail "registry ($impl) did not answer GET /v2/ on $REG within 20s"
}

it_registry_start_edgecr() {
    local dir=$1 bin=${EDGECR_REGISTRY:-build/edgecr-registry}

    case $bin in
    /*) ;;
    *) bin=$IT_REPO_ROOT/$bin ;;
    esac
    if [ ! -x "$bin" ]; then
        it_bail "edgecr registry binary not found at $bin (build it, set EDGECR_REGISTRY, or use EDGECR_IMPL=reference)"
    fi

    printf '%s' "$REG_PASS" | "$bin" passwd "$REG_USER" --auth-file "$dir/auth" \
        >"$dir/passwd.log" 2>&1 ||
        it_bail "'edgecr-registry passwd' failed: $(tail -n 5 "$dir/passwd.log")"
    it_registry_launch_edgecr "$dir"
}

it_registry_launch_edgecr() {
    local dir=$1 bin=${EDGECR_REGISTRY:-build/edgecr-registry}

    case $bin in
    /*) ;;
    *) bin=$IT_REPO_ROOT/$bin ;;
    esac
    # IT_REG_CONFIG names a configuration file for keys that have no
    # option, such as storage_limit; the options still win.
    "$bin" ${IT_REG_CONFIG:+--config "$IT_REG_CONFIG"} \
        --listen "127.0.0.1:$REG_PORT" --root "$dir/storage" \
        --tls-cert "$dir/tls/server.crt" --tls-key "$dir/tls/server.key" \
        --auth-file "$dir/auth" >>"$REG_LOG" 2>&1 &
    REG_PID=$!
    it_track_pid "$REG_PID" edgecr-registry
}

it_registry_start_reference() {
    local dir=$1

    htpasswd -Bbn "$REG_USER" "$REG_PASS" >"$dir/htpasswd" ||
        it_bail "htpasswd failed"
    cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: ${IT_REG_LOGLEVEL:-info}
  formatter: text
storage:
  filesystem:
    rootdirectory: $dir/storage
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$REG_PORT
  tls:
    certificate: $dir/tls/server.crt
    key: $dir/tls/server.key
auth:
  htpasswd:
    realm: edgecr-it
    path: $dir/htpasswd
health:
  storagedriver:
    enabled: false
EOF
    it_registry_launch_reference "$dir"
}

it_registry_launch_reference() {
    docker-registry serve "$1/config.yml" >>"$REG_LOG" 2>&1 &
    REG_PID=$!
    it_track_pid "$REG_PID" docker-registry
}

# Print the last lines of the registry log, once per failed check.
it_registry_log_tail() {
    if [ -n "${REG_LOG:-}" ] && [ -s "$REG_LOG" ]; then
        echo "#   registry log (last 10 lines):"
        tail -n 10 "$REG_LOG" | cut -c1-300 | sed 's/^/#   | /'
    fi
}

# curl against the registry: HTTP/1.1 as real clients use, the test CA, and
# REG_HOST resolved to 127.0.0.1 without /etc/hosts.
it_curl() {
    curl --http1.1 -sS --cacert "$REG_CA_DIR/ca.crt" \
        --resolve "$REG_HOST:$REG_PORT:127.0.0.1" "$@"
}

# curl with the registry's credentials.
it_curl_auth() {
    it_curl -u "$REG_USER:$REG_PASS" "$@"
}

# Print the value of header NAME (case-insensitive) from the response to a
# HEAD request for the manifest REPO:REF sent with the Accept value ACCEPT.
it_manifest_header() {
    local repo=$1 ref=$2 accept=$3 name=$4

    it_curl_auth -I -H "Accept: $accept" "$REG_URL/v2/$repo/manifests/$ref" |
        tr -d '\r' |
        awk -v n="$(echo "$name:" | tr '[:upper:]' '[:lower:]')" 'tolower($1) == n { print $2 }'
}

# Print the Docker-Content-Digest of REPO:REF from a HEAD request sent with
# the Accept value ACCEPT (default: the Docker image manifest v2).
it_manifest_digest() {
    local repo=$1 ref=$2
    local accept=${3:-application/vnd.docker.distribution.manifest.v2+json}

    it_curl_auth -I -H "Accept: $accept" "$REG_URL/v2/$repo/manifests/$ref" |
        tr -d '\r' |
        awk 'tolower($1) == "docker-content-digest:" { print $2 }'
}

# ---------------------------------------------------------------------------
# Offline images

# Build a busybox root file system in DIR and pack it into DIR.tar. An
# optional LABEL is written to /etc/it-label so that images differ by content.
it_build_rootfs() {
    local dir=$1 label=${2:-} applet

    mkdir -p "$dir/bin" "$dir/etc" "$dir/tmp" || return 1
    cp /bin/busybox "$dir/bin/busybox" || return 1
    for applet in sh echo cat ls true false sleep uname; do
        ln -sf busybox "$dir/bin/$applet"
    done
    if [ -n "$label" ]; then
        printf '%s\n' "$label" >"$dir/etc/it-label"
    fi
    tar --numeric-owner --owner=0 --group=0 -C "$dir" -cf "$dir.tar" .
}

# Import a busybox image into dockerd as IMAGE (name:tag). LABEL makes its
# content differ from other images (default: IMAGE).
it_docker_import_busybox() {
    local image=$1 label=${2:-$1} work

    work=$(mktemp -d "$IT_DIR/rootfs-XXXXXX") || return 1
    it_build_rootfs "$work/rootfs" "$label" || return 1
    docker import --change 'CMD ["/bin/sh"]' "$work/rootfs.tar" "$image" >"$work.log" 2>&1 || {
        cat "$work.log" >&2
        return 1
    }
    rm -rf "$work" "$work.log"
}

# Import a busybox image into podman's storage as IMAGE with the
# architecture ARCH in its config (default amd64). The binary stays the
# amd64 busybox, so images of other architectures are only pushed and pulled,
# never run.
it_podman_import_busybox() {
    local image=$1 arch=${2:-amd64} work

    work=$(mktemp -d "$IT_DIR/rootfs-XXXXXX") || return 1
    it_build_rootfs "$work/rootfs" "$image $arch" || return 1
    podman import --arch "$arch" --change 'CMD ["/bin/sh"]' "$work/rootfs.tar" "$image" \
        >"$work.log" 2>&1 || {
        cat "$work.log" >&2
        return 1
    }
    rm -rf "$work" "$work.log"
}

# Import the pair NAME:amd64 and NAME:arm64 into podman's storage, for
# multi-architecture manifest lists.
it_podman_build_multiarch() {
    it_podman_import_busybox "$1:amd64" amd64 && it_podman_import_busybox "$1:arm64" arm64
}

# Write an incompressible file of SIZE_MIB mebibytes.
it_random_file() {
    head -c "$(($2 * 1024 * 1024))" /dev/urandom >"$1"
}

# Build an OCI image layout DIR with the tag TAG holding several layers:
# the busybox root file system, a small text file, and (when RANDOM_MIB > 0)
# an incompressible file of RANDOM_MIB MiB. ARCH sets the config's
# architecture (default amd64).
it_build_oci_layout() {
    local layout=$1 tag=$2 random_mib=${3:-0} arch=${4:-amd64}
    local work="$IT_DIR/oci-src-$tag-$arch"

    it_build_rootfs "$work/rootfs" "$tag $arch" || return 1
    mkdir -p "$work/notes" "$work/random" || return 1
    printf 'edgecr integration layer for %s %s\n' "$tag" "$arch" >"$work/notes/README"
    if [ ! -d "$layout" ]; then
        umoci init --layout "$layout" || return 1
    fi
    umoci new --image "$layout:$tag" || return 1
    umoci insert --image "$layout:$tag" "$work/rootfs" / || return 1
    umoci insert --image "$layout:$tag" "$work/notes" /notes || return 1
    if [ "$random_mib" -gt 0 ]; then
        it_random_file "$work/random/blob.bin" "$random_mib" || return 1
        umoci insert --image "$layout:$tag" "$work/random" /random || return 1
    fi
    umoci config --image "$layout:$tag" --os linux --architecture "$arch" \
        --config.cmd /bin/sh || return 1
    rm -rf "$work"
}

# Print the manifest digest that TAG names in the OCI layout's index.json.
it_oci_layout_digest() {
    jq -r --arg t "$2" \
        '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' \
        "$1/index.json"
}

# Print the sha256 digest ("sha256:HEX") of a file.
it_sha256() {
    echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"
}

# Add an OCI image index to the layout LAYOUT under tag INDEX_TAG that lists
# the images tagged AMD64_TAG and ARM64_TAG with their platforms. umoci makes
# only single images, so the index blob is written here.
it_oci_layout_add_index() {
    local layout=$1 index_tag=$2 amd64_tag=$3 arm64_tag=$4
    local amd64_digest arm64_digest amd64_size arm64_size index_file digest

    amd64_digest=$(it_oci_layout_digest "$layout" "$amd64_tag")
    arm64_digest=$(it_oci_layout_digest "$layout" "$arm64_tag")
    amd64_size=$(stat -c %s "$layout/blobs/sha256/${amd64_digest#sha256:}") || return 1
    arm64_size=$(stat -c %s "$layout/blobs/sha256/${arm64_digest#sha256:}") || return 1
    index_file="$IT_DIR/index-$index_tag.json"
    jq -cn \
        --arg d1 "$amd64_digest" --argjson s1 "$amd64_size" \
        --arg d2 "$arm64_digest" --argjson s2 "$arm64_size" \
        '{schemaVersion: 2,
          mediaType: "application/vnd.oci.image.index.v1+json",
          manifests: [
            {mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $d1, size: $s1,
             platform: {architecture: "amd64", os: "linux"}},
            {mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $d2, size: $s2,
             platform: {architecture: "arm64", os: "linux"}}]}' \
        | tr -d '\n' >"$index_file" || return 1
    digest=$(it_sha256 "$index_file")
    cp "$index_file" "$layout/blobs/sha256/${digest#sha256:}" || return 1
    jq --arg d "$digest" --argjson s "$(stat -c %s "$index_file")" --arg t "$index_tag" \
        '.manifests += [{mediaType: "application/vnd.oci.image.index.v1+json",
                         digest: $d, size: $s,
                         annotations: {"org.opencontainers.image.ref.name": $t}}]' \
        "$layout/index.json" >"$layout/index.json.new" &&
        mv "$layout/index.json.new" "$layout/index.json"
}

# ---------------------------------------------------------------------------
# docker

# Start a private dockerd (vfs storage, no networking set-up) and export
# DOCKER_HOST and DOCKER_CONFIG so that the docker CLI uses it and keeps its
# login data in the test's directory.
it_dockerd_start() {
    local dir="$IT_DIR/docker" exec_root="$IT_DIR/dx" sock="$IT_DIR/docker.sock"

    mkdir -p "$dir/data" "$dir/config" "$exec_root" || return 1
    # dockerd 20.10 writes its trust key to /etc/docker/key.json unless
    # deprecated-key-path names another file.
    printf '{"deprecated-key-path": "%s"}\n' "$dir/key.json" >"$dir/daemon.json"
    dockerd --config-file "$dir/daemon.json" \
        --iptables=false --ip6tables=false --bridge=none --ip-masq=false \
        --storage-driver=vfs --data-root="$dir/data" --exec-root="$exec_root" \
        --pidfile="$dir/dockerd.pid" -H "unix://$sock" \
        >"$dir/dockerd.log" 2>&1 &
    IT_DOCKERD_PID=$!
    it_track_pid "$IT_DOCKERD_PID" dockerd
    export DOCKER_HOST="unix://$sock" DOCKER_CONFIG="$dir/config"
    # For tests that print the daemon's log when a check fails.
    IT_DOCKERD_LOG="$dir/dockerd.log"

    if ! it_wait_socket "$sock" "$IT_DOCKERD_PID" 60; then
        it_bail "dockerd did not start: $(tail -n 5 "$dir/dockerd.log")"
    fi
    local i
    for ((i = 0; i < 300; i++)); do
        if docker version >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.2
    done
    it_bail "dockerd does not answer: $(tail -n 5 "$dir/dockerd.log")"
}

# ---------------------------------------------------------------------------
# podman

# Point podman at private storage, configuration and auth file.
it_podman_env() {
    local dir="$IT_DIR/podman"

    mkdir -p "$dir/root" "$dir/run" "$dir/tmp" || return 1
    cat >"$dir/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$dir/root"
runroot = "$dir/run"
EOF
    # default_ulimits: without them "podman run" fails with "error setting
    # rlimit", because this machine's root lacks CAP_SYS_RESOURCE.
    cat >"$dir/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]

[engine]
events_logger = "file"
events_logfile_path = "$dir/events.log"
cgroup_manager = "cgroupfs"
tmp_dir = "$dir/tmp"
volume_path = "$dir/volumes"
static_dir = "$dir/root/libpod"
EOF
    echo '{"auths":{}}' >"$dir/auth.json"
    export CONTAINERS_STORAGE_CONF="$dir/storage.conf"
    export CONTAINERS_CONF="$dir/containers.conf"
    export REGISTRY_AUTH_FILE="$dir/auth.json"
    export TMPDIR="$dir/tmp"
}

# ---------------------------------------------------------------------------
# containerd

# Start a private containerd with its own root, state and socket, and set
# IT_CTR to the ctr command that talks to it in namespace edgecr-it.
it_containerd_start() {
    local dir="$IT_DIR/containerd" sock="$IT_DIR/containerd.sock"

    mkdir -p "$dir/root" "$dir/state" || return 1
    cat >"$dir/config.toml" <<EOF
version = 2
root = "$dir/root"
state = "$dir/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = "$sock"

[ttrpc]
  address = "$IT_DIR/containerd-ttrpc.sock"

[debug]
  address = ""
  level = "info"

[metrics]
  address = ""
EOF
    containerd --config "$dir/config.toml" >"$dir/containerd.log" 2>&1 &
    IT_CONTAINERD_PID=$!
    it_track_pid "$IT_CONTAINERD_PID" containerd
    # For tests that print the daemon's log when a check fails.
    IT_CONTAINERD_LOG="$dir/containerd.log"
    IT_CTR=(ctr -a "$sock" -n edgecr-it)

    if ! it_wait_socket "$sock" "$IT_CONTAINERD_PID" 30; then
        it_bail "containerd did not start: $(tail -n 5 "$dir/containerd.log")"
    fi
    local i
    for ((i = 0; i < 100; i++)); do
        if "${IT_CTR[@]}" version >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.2
    done
    it_bail "containerd does not answer: $(tail -n 5 "$dir/containerd.log")"
}

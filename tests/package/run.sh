#!/bin/bash
#
# Package tests of edgecr (make check-package, as root).
#
#   tests/package/run.sh NEW.deb OLD.deb
#
# Checks NEW.deb with lintian, then works in a throwaway Debian 12 root made
# with debootstrap.  It installs OLD.deb, starts edgecr-agent there directly
# (not through systemd), enables the registry with the cmdlets and pushes an
# image over HTTPS.  It upgrades to NEW.deb and checks that the credentials,
# certificates, image and sqlite schema versions survived.  Then it removes
# the package (the state directory must stay), installs it again, and purges
# it (the state directory must go).  systemd-analyze verify runs on the
# installed unit inside the root.
#
# The root shares this machine's network: the registry listens on
# 127.0.0.1 at a port from 20000-20999, and only debootstrap and apt-get
# reach Debian's archive (the first .../debian URI in /etc/apt/sources.list*).
#
# Environment:
#   EDGECR_TEST_CACHE   folder that keeps the debootstrap root (a tarball)
#                       and downloaded .debs between runs; used only when it
#                       exists (default /var/cache/edgecr-test)
#   EDGECR_TEST_MIRROR  Debian archive URI (default: from sources.list*)
#   EDGECR_TEST_KEEP=1  keep the work folder (the root) after the run
#
# Each check prints "ok - NAME" or "not ok - NAME: REASON"; the last line is
# "package: N passed, N failed".

set -u

CACHE=${EDGECR_TEST_CACHE:-/var/cache/edgecr-test}
SUITE=bookworm
PORT_MIN=20000
PORT_MAX=20999
# Seconds for the agent to create its socket, and to exit after SIGTERM
# (it gives the registry 10 s).
AGENT_START_TIMEOUT=60
AGENT_STOP_TIMEOUT=30

work=
root=
cache_dir=
agent_pid=
port=
passed=0
failed=0
mounts=()

ok() {
	echo "ok - $1"
	passed=$((passed + 1))
}

not_ok() {
	echo "not ok - $1: $2"
	failed=$((failed + 1))
}

# Runs "$@" in this shell and records check NAME.  The output is shown only
# on failure.
check() {
	local name=$1
	shift

	if "$@" >"$work/check.out" 2>&1; then
		ok "$name"
	else
		not_ok "$name" "command failed: $*"
		tail -n 20 "$work/check.out" | sed 's/^/# /'
		return 1
	fi
}

# Compares two strings as check NAME.
check_equal() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1" "expected '$3', got '$2'"
		return 1
	fi
}

die() {
	echo "run.sh: $*" >&2
	exit 1
}

in_root() {
	chroot "$root" "$@"
}

# ---------------------------------------------------------------------------
# Set-up and clean-up of the root

# Prints the Debian archive URI that apt on this machine uses.
archive_uri() {
	if [ -n "${EDGECR_TEST_MIRROR:-}" ]; then
		echo "$EDGECR_TEST_MIRROR"
		return
	fi
	cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
		/etc/apt/sources.list.d/*.sources 2>/dev/null |
		grep -oE 'https?://[^ ]+/debian/?( |$)' | head -n 1 | tr -d ' '
}

# Unpacks the cached minimal root, or makes it with debootstrap first.
make_root() {
	local tarball uri

	tarball=$cache_dir/$SUITE-minbase-$(dpkg --print-architecture).tar.gz

	if [ ! -s "$tarball" ]; then
		uri=$(archive_uri)
		[ -n "$uri" ] || die "no Debian archive in /etc/apt/sources.list*; set EDGECR_TEST_MIRROR"
		echo "# debootstrap $SUITE from $uri (cached in $tarball)"
		mkdir -p "$cache_dir/debootstrap" "$work/base"
		debootstrap --variant=minbase --cache-dir="$cache_dir/debootstrap" \
			"$SUITE" "$work/base" "$uri" >"$work/debootstrap.log" 2>&1 ||
			die "debootstrap failed; see $work/debootstrap.log"
		# debootstrap's own .debs are in its cache folder already.
		rm -f "$work/base/var/cache/apt/archives/"*.deb
		tar -C "$work/base" -czf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball" ||
			die "failed to write $tarball"
		rm -rf "$work/base"
	fi
	mkdir -p "$root"
	tar -C "$root" -xzf "$tarball" || die "failed to unpack $tarball"
}

# Prepares the root for package installs: no service starts, name
# resolution for apt, the .deb cache, and proc, sys and dev mounted.
enter_root() {
	local fs

	printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
	chmod 0755 "$root/usr/sbin/policy-rc.d"
	cp -L /etc/resolv.conf "$root/etc/resolv.conf"
	mkdir -p "$cache_dir/archives"
	cp "$cache_dir/archives/"*.deb "$root/var/cache/apt/archives/" 2>/dev/null

	mount -t proc proc "$root/proc" || die "failed to mount proc in $root"
	mounts+=("$root/proc")
	mount -t sysfs sysfs "$root/sys" || die "failed to mount sysfs in $root"
	mounts+=("$root/sys")
	mount --bind /dev "$root/dev" || die "failed to bind-mount /dev in $root"
	mounts+=("$root/dev")
	for fs in "${mounts[@]}"; do
		mountpoint -q "$fs" || die "$fs is not mounted"
	done
}

# Stops the agent, unmounts what enter_root mounted and removes the work
# folder, but never while anything is still mounted below it.
cleanup() {
	local i

	stop_agent >/dev/null 2>&1
	if [ -n "$root" ] && [ -d "$root/var/cache/apt/archives" ] && [ -d "$cache_dir/archives" ]; then
		cp -n "$root/var/cache/apt/archives/"*.deb "$cache_dir/archives/" 2>/dev/null
	fi
	for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
		umount "${mounts[i]}" 2>/dev/null || umount -l "${mounts[i]}" 2>/dev/null ||
			echo "run.sh: failed to unmount ${mounts[i]}" >&2
	done
	mounts=()
	[ -n "$work" ] && [ -d "$work" ] || return 0
	if grep -qF " $work/" /proc/mounts; then
		echo "run.sh: mounts remain under $work; not removing it" >&2
	elif [ "${EDGECR_TEST_KEEP:-}" = 1 ]; then
		echo "# kept $work"
	else
		rm -rf "$work"
	fi
}

# ---------------------------------------------------------------------------
# The agent inside the root

# Picks a free port in PORT_MIN..PORT_MAX on 127.0.0.1.
pick_port() {
	local candidate i

	for ((i = 0; i < 50; i++)); do
		candidate=$((PORT_MIN + RANDOM % (PORT_MAX - PORT_MIN + 1)))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then
			port=$candidate
			return 0
		fi
	done
	die "no free port in $PORT_MIN-$PORT_MAX"
}

# Writes the agent configuration of the test into the root.
write_agent_config() {
	cat >"$root/root/edgecr-pkgtest.conf" <<EOF
device_name = pkgtest
dns_domain = local
registry_ip = 127.0.0.1
registry_port = $port
log_level = info
node_trust = true
EOF
	# The runtimes' folders, so that node trust writes into both.
	mkdir -p "$root/etc/containerd" "$root/etc/docker"
}

# Runs the installed unit's ExecStartPre=+ commands in the root, as systemd
# would before the agent starts.  They contain no "$" expansions of systemd.
run_exec_start_pre() {
	local unit=$root/lib/systemd/system/edgecr-agent.service line

	while read -r line; do
		eval "chroot \"\$root\" $line" || return 1
	done < <(sed -n 's/^ExecStartPre=+//p' "$unit")
}

# Succeeds when the unit's ExecStartPre= made certs.d in both runtime folders.
certs_dirs_created() {
	rm -rf "$root/etc/containerd/certs.d" "$root/etc/docker/certs.d"
	run_exec_start_pre &&
		test -d "$root/etc/containerd/certs.d" && test -d "$root/etc/docker/certs.d"
}

# Succeeds when the root has the node trust files of the endpoint.
node_trust_present() {
	local endpoint=ecr.pkgtest.local:$port

	test -s "$root/etc/containerd/certs.d/$endpoint/ca.crt" &&
		test -s "$root/etc/containerd/certs.d/$endpoint/hosts.toml" &&
		test -s "$root/etc/docker/certs.d/$endpoint/ca.crt" &&
		grep -qx "127.0.0.1 ecr.pkgtest.local # edgecr" "$root/etc/hosts"
}

# Succeeds when no node trust file of the endpoint is left in the root.
node_trust_absent() {
	local endpoint=ecr.pkgtest.local:$port

	test ! -e "$root/etc/containerd/certs.d/$endpoint" &&
		test ! -e "$root/etc/docker/certs.d/$endpoint" &&
		! grep -q "# edgecr" "$root/etc/hosts"
}

# Prints the setpriv --bounding-set argument for the installed unit's
# CapabilityBoundingSet=, in name order, such as "-all,+chown,+kill".
unit_bounding_set() {
	local unit=$root/lib/systemd/system/edgecr-agent.service caps

	caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit" | tr 'A-Z ' 'a-z\n' | sort)
	[ -n "$caps" ] || return 1
	printf -- '-all'
	for cap in $caps; do
		printf ',+%s' "${cap#cap_}"
	done
}

# Prints the running agent's capability bounding set in the form of
# unit_bounding_set.
agent_bounding_set() {
	local mask names

	mask=$(sed -n 's/^CapBnd:[[:space:]]*//p' "/proc/$agent_pid/status")
	names=$(capsh --decode="$mask" | sed 's/^[^=]*=//' | tr ',' '\n' | sort)
	printf -- '-all'
	for cap in $names; do
		printf ',+%s' "${cap#cap_}"
	done
}

# Starts edgecr-agent in the root and waits for its API socket.  Without
# systemd, the agent gets the unit's capability bounding set, umask and
# NoNewPrivileges= through setpriv and umask.
start_agent() {
	local i log=$work/agent.log bounding_set

	bounding_set=$(unit_bounding_set) || {
		echo "# no CapabilityBoundingSet= in the installed unit"
		return 1
	}
	rm -f "$root/run/edgecr/agent.sock"
	echo "=== start $(in_root edgecr-agent --version 2>&1), bounding set $bounding_set" >>"$log"
	(umask 0077 && exec chroot "$root" setpriv --bounding-set="$bounding_set" --no-new-privs \
		env EDGECR_LOG=stderr /usr/sbin/edgecr-agent \
		--config /root/edgecr-pkgtest.conf) >>"$log" 2>&1 &
	agent_pid=$!
	for ((i = 0; i < AGENT_START_TIMEOUT * 10; i++)); do
		[ -S "$root/run/edgecr/agent.sock" ] && return 0
		if ! kill -0 "$agent_pid" 2>/dev/null; then
			agent_pid=
			echo "# edgecr-agent exited during start-up; last lines of $log:"
			tail -n 15 "$log" | sed 's/^/# /'
			return 1
		fi
		sleep 0.1
	done
	echo "# edgecr-agent did not create its socket within ${AGENT_START_TIMEOUT}s"
	return 1
}

# Stops the agent by its PID: SIGTERM, then SIGKILL after the timeout.
stop_agent() {
	local i

	[ -n "$agent_pid" ] || return 0
	kill -TERM "$agent_pid" 2>/dev/null
	for ((i = 0; i < AGENT_STOP_TIMEOUT * 10; i++)); do
		kill -0 "$agent_pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$agent_pid" 2>/dev/null; then
		echo "# edgecr-agent did not stop within ${AGENT_STOP_TIMEOUT}s; sending SIGKILL"
		kill -KILL "$agent_pid" 2>/dev/null
	fi
	wait "$agent_pid" 2>/dev/null
	agent_pid=
}

# ---------------------------------------------------------------------------
# Registry client (curl on this machine, TLS with the device CA)

registry_user=
registry_password=
endpoint_host=

# Reads the credentials with Get- -Json inside the root.
read_registry_info() {
	local info

	info=$(in_root Get-HcsKubernetesContainerRegistryInfo -Json) || return 1
	registry_user=$(jq -r .Username <<<"$info")
	registry_password=$(jq -r .Password <<<"$info")
	endpoint_host=$(jq -r .Endpoint <<<"$info")
	endpoint_host=${endpoint_host%:*}
	[ -n "$registry_user" ] && [ -n "$registry_password" ]
}

# curl against the registry; "$@" are curl arguments after the URL path.
registry_curl() {
	local path=$1
	shift
	curl -sS --fail --http1.1 --max-time 30 --noproxy '*' \
		--cacert "$root/var/lib/edgecr/registry/ca.crt" \
		--resolve "$endpoint_host:$port:127.0.0.1" \
		-u "$registry_user:$registry_password" "$@" \
		"https://$endpoint_host:$port$path"
}

# Uploads FILE as a blob of repository pkgtest/app in one POST and PUT.
push_blob() {
	local file=$1 digest location

	digest=sha256:$(sha256sum "$file" | cut -d' ' -f1)
	location=$(registry_curl /v2/pkgtest/app/blobs/uploads/ -X POST -o /dev/null \
		-D - | tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
	[ -n "$location" ] || return 1
	case $location in
	http*) location=/${location#*://*/} ;;
	esac
	case $location in
	*\?*) location="$location&digest=$digest" ;;
	*) location="$location?digest=$digest" ;;
	esac
	registry_curl "$location" -X PUT -H 'Content-Type: application/octet-stream' \
		--data-binary "@$file" -o /dev/null
}

# Pushes a small OCI image as pkgtest/app:v1 and prints its manifest digest.
push_image() {
	local dir=$work/image config_digest layer_digest

	mkdir -p "$dir"
	printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}' \
		>"$dir/config.json"
	head -c 65536 /dev/urandom >"$dir/layer.bin"
	push_blob "$dir/config.json" || return 1
	push_blob "$dir/layer.bin" || return 1
	config_digest=sha256:$(sha256sum "$dir/config.json" | cut -d' ' -f1)
	layer_digest=sha256:$(sha256sum "$dir/layer.bin" | cut -d' ' -f1)
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",%s,%s}' \
		"\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"$config_digest\",\"size\":$(stat -c %s "$dir/config.json")}" \
		"\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"$layer_digest\",\"size\":65536}]" \
		>"$dir/manifest.json"
	registry_curl /v2/pkgtest/app/manifests/v1 -X PUT \
		-H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
		--data-binary "@$dir/manifest.json" -o /dev/null || return 1
	echo "sha256:$(sha256sum "$dir/manifest.json" | cut -d' ' -f1)"
}

# Prints the digest of the manifest pkgtest/app:v1 as the registry serves
# it, or the error.
image_digest() {
	local body

	body=$(registry_curl /v2/pkgtest/app/manifests/v1 \
		-H 'Accept: application/vnd.oci.image.manifest.v1+json' 2>&1) || {
		echo "request failed: $body"
		return 1
	}
	echo "sha256:$(printf '%s' "$body" | sha256sum | cut -d' ' -f1)"
}

# Waits until the registry accepts the credentials on /v2/, because the
# agent starts it only after its own API socket is up.
wait_registry() {
	local i

	for ((i = 0; i < AGENT_START_TIMEOUT * 10; i++)); do
		registry_curl /v2/ -o /dev/null 2>/dev/null && return 0
		sleep 0.1
	done
	echo "the registry did not answer within ${AGENT_START_TIMEOUT}s"
	return 1
}

# Prints checksums of the credentials, keys and certificates in the state.
state_fingerprint() {
	(cd "$root/var/lib/edgecr" && sha256sum ca/ca.crt ca/ca.key registry/credentials \
		registry/password registry/server.crt registry/server.key 2>&1)
}

# Prints "agent=N registry=N", the schema versions of the two databases.
schema_versions() {
	local state=$root/var/lib/edgecr

	echo "agent=$(sqlite3 "$state/agent.db" 'PRAGMA user_version' 2>&1)" \
		"registry=$(sqlite3 "$state/storage/metadata.db" 'SELECT version FROM schema_version' 2>&1)"
}

# ---------------------------------------------------------------------------
# Test stages

test_lintian() {
	local out status

	# lintian warns on every run as root, and the package tests need root.
	out=$(lintian --fail-on error "$new_deb" 2>&1)
	status=$?
	out=$(grep -v 'running with root privileges is not recommended' <<<"$out")
	if [ "$status" -eq 0 ]; then
		ok "lintian reports no errors"
	else
		not_ok "lintian reports no errors" "lintian failed"
	fi
	[ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/# /'
}

# Checks what the first install set up: accounts, directories, unit, pages.
test_installed_files() {
	local mode

	check "sysusers created user edgecr" in_root getent passwd edgecr
	check "sysusers created group edgecr-admin" in_root getent group edgecr-admin
	mode=$(stat -c '%a %U' "$root/var/lib/edgecr" 2>&1)
	check_equal "tmpfiles made /var/lib/edgecr 0711 root" "$mode" "711 root"
	check "systemd-analyze verify edgecr-agent.service" \
		in_root systemd-analyze verify --man=no /lib/systemd/system/edgecr-agent.service
	check "man pages of every program installed" man_pages_installed
	check "agent.conf lists every key of agent.md" config_lists_every_key
	check "pt_PT catalog installed" test -s "$root/usr/share/locale/pt_PT/LC_MESSAGES/edgecr.mo"
	check "PowerShell module installed" \
		test -s "$root/usr/share/powershell/Modules/EdgeCR/EdgeCR.psd1"
}

# Succeeds when the installed agent.conf names every key of the settings
# table in the installed agent.md.
config_lists_every_key() {
	local doc=$root/usr/share/doc/edgecr/agent.md.gz keys key missing=

	[ -f "$doc" ] || doc=${doc%.gz}
	keys=$(zcat -f "$doc" | grep -oE '^\| `[a-z_]+`(, `[a-z_]+`)*' | grep -oE '[a-z_]+')
	[ -n "$keys" ] || { echo "no settings table in $doc"; return 1; }
	for key in $keys; do
		grep -qE "^#?$key =" "$root/etc/edgecr/agent.conf" || missing="$missing $key"
	done
	[ -z "$missing" ] || { echo "keys missing from agent.conf:$missing"; return 1; }
}

man_pages_installed() {
	local name section

	for name in edgecr-agent.8 edgecr-registry.8 edgecr-cmdlet.1 \
		Set-HcsKubernetesContainerRegistry.1 Get-HcsKubernetesContainerRegistryInfo.1 \
		Remove-HcsKubernetesContainerRegistry.1; do
		section=${name##*.}
		[ -s "$root/usr/share/man/man$section/$name.gz" ] || {
			echo "missing /usr/share/man/man$section/$name.gz"
			return 1
		}
	done
}

# Installs OLD.deb, enables the registry and pushes an image.
test_old_package() {
	local out

	cp "$old_deb" "$root/tmp/old.deb"
	if ! out=$(in_root apt-get install -y -q --no-install-recommends /tmp/old.deb 2>&1); then
		in_root apt-get update -q >/dev/null 2>&1
		out=$(in_root apt-get install -y -q --no-install-recommends /tmp/old.deb 2>&1)
	fi
	check_equal "old package installs" "$(in_root dpkg-query -W -f '${Status}' edgecr 2>&1)" \
		"install ok installed" || { printf '%s\n' "$out" | tail -n 20 | sed 's/^/# /'; return 1; }
	test_installed_files

	write_agent_config
	check "ExecStartPre= creates the certs.d folders" certs_dirs_created
	check "agent starts in the root" start_agent || return 1
	check_equal "agent has the unit's bounding set" "$(agent_bounding_set)" "$(unit_bounding_set)"
	check "Set-HcsKubernetesContainerRegistry" in_root Set-HcsKubernetesContainerRegistry || return 1
	check "Get-HcsKubernetesContainerRegistryInfo -Json" read_registry_info || return 1
	check "Set- writes the node trust files" node_trust_present
	test_cmdlet_access
	image=$(push_image)
	check "image pushed over HTTPS" test -n "$image" || return 1
	check_equal "image served" "$(image_digest)" "$image"
	fingerprint=$(state_fingerprint)
	schemas=$(schema_versions)
	echo "# schema versions before the upgrade: $schemas"
	echo "# local change" >>"$root/etc/edgecr/agent.conf"
	stop_agent
}

# Checks who may use the agent, and the Portuguese messages.
test_cmdlet_access() {
	local out

	in_root useradd --no-create-home --groups edgecr-admin pkgadmin >/dev/null 2>&1
	check "member of edgecr-admin may use Get-" \
		in_root setpriv --reuid=pkgadmin --regid=pkgadmin --init-groups \
		Get-HcsKubernetesContainerRegistryInfo
	out=$(in_root setpriv --reuid=nobody --regid=nogroup --clear-groups \
		Get-HcsKubernetesContainerRegistryInfo 2>&1)
	check_equal "nobody is denied (exit status 1)" "$?" 1
	out=$(in_root env LANGUAGE=pt_PT LC_ALL=C.UTF-8 Set-HcsKubernetesContainerRegistry 2>&1)
	case $out in
	*Opera*) ok "Set- prints the pt_PT message" ;;
	*) not_ok "Set- prints the pt_PT message" "got: $out" ;;
	esac
}

# Upgrades to NEW.deb and checks that the state survived.
test_upgrade() {
	local version

	cp "$new_deb" "$root/tmp/new.deb"
	check "upgrade with dpkg -i installs the new package" \
		in_root dpkg -i /tmp/new.deb </dev/null || return 1
	version=$(in_root dpkg-query -W -f '${Version}' edgecr)
	check_equal "installed version is the new one" "$version" "$new_version"
	check "locally changed agent.conf kept" grep -qx '# local change' "$root/etc/edgecr/agent.conf"

	check "agent starts after the upgrade" start_agent || return 1
	check "Get- after the upgrade" read_registry_info
	check "registry answers after the upgrade" wait_registry
	check_equal "credentials and certificates kept" "$(state_fingerprint)" "$fingerprint"
	check_equal "image kept" "$(image_digest)" "$image"
	check "Set- after the upgrade" in_root Set-HcsKubernetesContainerRegistry
	check_equal "credentials unchanged by Set-" "$(state_fingerprint)" "$fingerprint"
	new_schemas=$(schema_versions)
	echo "# schema versions after the upgrade: $new_schemas"
	check "databases at a schema version again" schemas_not_older "$schemas" "$new_schemas"
	stop_agent
}

# Succeeds when every version in $2 is a number at least as high as in $1.
schemas_not_older() {
	local before after i

	read -ra before <<<"$1"
	read -ra after <<<"$2"

	for i in "${!before[@]}"; do
		[[ ${after[i]#*=} =~ ^[0-9]+$ ]] || return 1
		[ "${after[i]#*=}" -ge "${before[i]#*=}" ] 2>/dev/null || return 1
	done
}

# Removes the package.  The state must stay and serve again after a
# reinstall.
test_remove() {
	local out

	out=$(in_root dpkg --remove edgecr 2>&1)
	check_equal "dpkg --remove succeeds" "$?" 0 || return 1
	printf '%s\n' "$out" | grep '^edgecr:' | sed 's/^/# /'
	check "remove deletes the programs" test ! -e "$root/usr/sbin/edgecr-agent"
	check "remove keeps the state directory" test -d "$root/var/lib/edgecr/storage"
	check "remove keeps the credentials" test -s "$root/var/lib/edgecr/registry/credentials"
	check "remove keeps the configuration" test -s "$root/etc/edgecr/agent.conf"

	check "reinstall after remove" in_root dpkg -i /tmp/new.deb </dev/null || return 1
	check "agent starts after the reinstall" start_agent || return 1
	check "Get- after the reinstall" read_registry_info
	check "registry answers after the reinstall" wait_registry
	check_equal "image served after remove and reinstall" "$(image_digest)" "$image"
	check "Remove-HcsKubernetesContainerRegistry" in_root Remove-HcsKubernetesContainerRegistry
	check "Remove- keeps the stored images" test -s "$root/var/lib/edgecr/storage/metadata.db"
	check "Remove- deletes the node trust files" node_trust_absent
	# Enabled again, so that purge finds node trust files to delete.
	check "Set- after Remove-" in_root Set-HcsKubernetesContainerRegistry
	check "Set- writes the node trust files again" node_trust_present
	stop_agent
}

test_purge() {
	local out

	out=$(in_root dpkg --purge edgecr 2>&1)
	check_equal "dpkg --purge succeeds" "$?" 0 || return 1
	printf '%s\n' "$out" | grep '^edgecr:' | sed 's/^/# /'
	check "purge deletes the state directory" test ! -e "$root/var/lib/edgecr"
	check "purge deletes /etc/edgecr" test ! -e "$root/etc/edgecr"
	check "purge deletes the node trust files" node_trust_absent
}

main() {
	new_deb=$(realpath "${1:-}") old_deb=$(realpath "${2:-}")
	[ -f "$new_deb" ] && [ -f "$old_deb" ] || die "usage: run.sh NEW.deb OLD.deb"
	[ "$(id -u)" -eq 0 ] || die "run as root: debootstrap, chroot and mount need it"
	for tool in debootstrap lintian jq curl sqlite3 setpriv capsh; do
		command -v "$tool" >/dev/null || die "$tool is missing; install it with make deps"
	done
	new_version=$(dpkg-deb -f "$new_deb" Version)

	work=$(mktemp -d /tmp/edgecr-pkgtest.XXXXXX) || die "failed to create a work folder in /tmp"
	root=$work/root
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	cache_dir=$CACHE
	[ -d "$cache_dir" ] || cache_dir=$work/cache
	pick_port

	test_lintian
	make_root
	enter_root
	test_old_package && test_upgrade && test_remove && test_purge

	echo "package: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

main "$@"

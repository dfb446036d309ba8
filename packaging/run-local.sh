#!/bin/bash
#
# Runs the device flow on this machine from a build tree (`make run`, as root).
#
# Starts build/edgecr-agent on its embedded defaults, except that its state
# and API socket live under build/run/, enables the registry with
# Set-HcsKubernetesContainerRegistry, prints Get-HcsKubernetesContainerRegistryInfo,
# saves the registry's CA certificate to build/run/ca.crt and shows how to log
# in with docker.  The agent then keeps running until Ctrl-C, and is stopped
# by its PID.  Its log is build/run/agent.log.
#
# Environment:
#   EDGECR_BUILD         another build folder (default: build)
#   EDGECR_AGENT_CONFIG  a configuration file for the agent, whose state_dir and
#                        socket are still overridden (default: none)

set -u

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${EDGECR_BUILD:-$repo/build}
case $build in
/*) ;;
*) build=$repo/$build ;;
esac
run_dir=$build/run
state_dir=$run_dir/state
socket=$run_dir/agent.sock
agent_log=$run_dir/agent.log
agent_pid=
tail_pid=

# Seconds the agent gets to stop on SIGTERM: it stops the registry first.
STOP_TIMEOUT=30

die() {
	echo "run-local.sh: $*" >&2
	exit 1
}

# Stops the agent (and so the registry) and the log viewer, by their PIDs.
stop_agent() {
	local i

	trap - EXIT INT TERM
	if [ -n "$agent_pid" ] && kill -0 "$agent_pid" 2>/dev/null; then
		echo "Stopping edgecr-agent (pid $agent_pid)..."
		kill -TERM "$agent_pid" 2>/dev/null
		for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
			kill -0 "$agent_pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$agent_pid" 2>/dev/null; then
			echo "edgecr-agent did not stop within ${STOP_TIMEOUT}s; sending SIGKILL" >&2
			kill -KILL "$agent_pid" 2>/dev/null
		fi
		wait "$agent_pid" 2>/dev/null
	fi
	if [ -n "$tail_pid" ]; then
		kill -TERM "$tail_pid" 2>/dev/null
		wait "$tail_pid" 2>/dev/null
	fi
}

# Starts the agent in the background and waits until its socket exists.
start_agent() {
	local i config=()

	mkdir -p "$state_dir" || die "cannot create $state_dir"
	rm -f "$socket"
	if [ -n "${EDGECR_AGENT_CONFIG:-}" ]; then
		config=(--config "$EDGECR_AGENT_CONFIG")
	fi
	EDGECR_LOG=stderr "$build/edgecr-agent" "${config[@]}" --state-dir "$state_dir" \
		--socket "$socket" >>"$agent_log" 2>&1 &
	agent_pid=$!
	for ((i = 0; i < 300; i++)); do
		[ -S "$socket" ] && return 0
		kill -0 "$agent_pid" 2>/dev/null ||
			die "edgecr-agent exited during start-up; last lines of $agent_log:
$(tail -n 15 "$agent_log")"
		sleep 0.1
	done
	die "edgecr-agent did not create $socket within 30s; see $agent_log"
}

# Prints the docker login hint for the registry that Get- -Json describes.
print_hint() {
	local info endpoint host ip user

	info=$("$build/Get-HcsKubernetesContainerRegistryInfo" -Json) || return 1
	endpoint=$(printf '%s' "$info" | jq -r .Endpoint)
	ip=$(printf '%s' "$info" | jq -r .IPAddress)
	user=$(printf '%s' "$info" | jq -r .Username)
	host=${endpoint%:*}

	cat <<HINT
CA certificate of the registry: $run_dir/ca.crt
To push and pull from this machine:
  echo '$ip $host' >> /etc/hosts
  mkdir -p /etc/docker/certs.d/$endpoint && cp $run_dir/ca.crt /etc/docker/certs.d/$endpoint/
  docker login $endpoint -u $user   # password: see the table above
dockerd does not check certificates of registries on 127.0.0.0/8; to see the
CA trusted, use skopeo --cert-dir or curl --cacert $run_dir/ca.crt.
The device commands, from another shell:
  EDGECR_AGENT_SOCKET=$socket $build/Get-HcsKubernetesContainerRegistryInfo
HINT
}

main() {
	[ "$(id -u)" -eq 0 ] || die "run as root: the agent manages users, files and the registry process (sudo make run)"
	for program in edgecr-agent edgecr-registry Set-HcsKubernetesContainerRegistry; do
		[ -x "$build/$program" ] || die "$build/$program not found: build it with make"
	done
	command -v jq >/dev/null || die "jq is missing; install it with make deps"

	export EDGECR_AGENT_SOCKET=$socket EDGECR_LOCALEDIR=$build/locale
	trap stop_agent EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	start_agent
	echo "edgecr-agent is running (pid $agent_pid, state $state_dir, log $agent_log)."

	"$build/Set-HcsKubernetesContainerRegistry" || exit 1
	"$build/Get-HcsKubernetesContainerRegistryInfo" || exit 1
	curl -sS --fail --unix-socket "$socket" -o "$run_dir/ca.crt" http://localhost/v1/registry/ca.crt ||
		die "cannot fetch the CA certificate from the agent"
	print_hint

	echo "Press Ctrl-C to stop the agent and the registry. Agent log follows."
	tail -n 0 -f --pid="$agent_pid" "$agent_log" &
	tail_pid=$!
	# Ctrl-C reaches the agent too, because it shares the terminal's process
	# group: it stops the registry and exits 0.  The EXIT trap covers the
	# case where only this script was signalled.
	wait "$agent_pid"
	status=$?
	agent_pid=
	if [ "$status" -ne 0 ]; then
		echo "edgecr-agent exited with status $status; see $agent_log" >&2
		exit 1
	fi
	echo "edgecr-agent stopped."
}

main "$@"

#!/bin/bash
# Runs a test suite on the programs and unit tests of a sanitizer build.  It
# fails when any process wrote an AddressSanitizer, LeakSanitizer or UBSan
# report, even one that no test noticed, because the tests do not read every
# daemon's log.
#
#   tests/fuzz/run-asan.sh BUILD_DIR SUITE UNIT_TEST...
#
# SUITE is tests/run-all.sh (unit and integration tests) or tests/run-unit.sh.
# The integration tests find the sanitized programs through EDGECR_REGISTRY,
# EDGECR_AGENT and EDGECR_CMDLET_DIR.  Reports go to the files
# BUILD_DIR/sanitizer-logs/report.PID (log_path), one per process, and are
# printed at the end.
set -u
if [ "$#" -lt 2 ]; then
	echo "usage: $0 BUILD_DIR SUITE UNIT_TEST..." >&2
	exit 2
fi
cd "$(dirname "$0")/../.." || exit 2
build=$(cd "$1" && pwd) || exit 2
suite=$2
shift 2

logs=$build/sanitizer-logs
rm -rf "$logs"
mkdir -p "$logs"
# The tests run programs as other users (nobody, the admin group), so anyone
# must be able to create a report file here.
chmod 1777 "$logs"

# halt_on_error and abort_on_error make the first report end the process, so
# a broken request cannot go on to corrupt state.  detect_leaks reports leaks
# at exit.  UBSan stops at its first report because the build passes
# -fno-sanitize-recover=all.
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:log_path=$logs/report${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$logs/report${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export EDGECR_REGISTRY=$build/edgecr-registry
export EDGECR_AGENT=$build/edgecr-agent
export EDGECR_CMDLET_DIR=$build

start=$SECONDS
"$suite" "$@"
status=$?
echo "check-asan: the suite took $((SECONDS - start)) s"

reports=$(find "$logs" -type f | sort)
if [ -n "$reports" ]; then
	for report in $reports; do
		echo "--- $report"
		cat "$report"
	done
	echo "check-asan: $(printf '%s\n' "$reports" | wc -l) sanitizer reports; failing"
	exit 1
fi
exit "$status"

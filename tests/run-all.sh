#!/bin/bash
# Runs the unit tests (binaries given as arguments), then the integration tests,
# and prints one closing line, "N passed, N failed", over every check of both:
# unit-test functions and the "ok - " / "not ok - " lines of the scripts.
# IT_SCRIPTS, a space-separated list of script names such as "t_api.sh
# t_gc.sh", runs only those integration scripts.
set -u
cd "$(dirname "$0")/.."

unit_out=$(mktemp)
integration_out=$(mktemp)
trap 'rm -f "$unit_out" "$integration_out"' EXIT

tests/run-unit.sh "$@" | tee "$unit_out"
# shellcheck disable=SC2086 # IT_SCRIPTS is a list of words.
tests/integration/run.sh ${IT_SCRIPTS:-} | tee "$integration_out"
integration_status=${PIPESTATUS[0]}

read -r unit_passed unit_failed < <(sed -nE 's/^unit: ([0-9]+) passed, ([0-9]+) failed$/\1 \2/p' "$unit_out")
checks_passed=$(grep -c '^ok - ' "$integration_out")
checks_failed=$(grep -c '^not ok - ' "$integration_out")

# A script that dies before it prints "not ok" still fails the run.
if [ "$integration_status" -ne 0 ] && [ "$checks_failed" -eq 0 ]; then
	echo "not ok - integration runner exited with status $integration_status"
	checks_failed=1
fi

echo "$((${unit_passed:-0} + checks_passed)) passed, $((${unit_failed:-1} + checks_failed)) failed"
[ "${unit_failed:-1}" -eq 0 ] && [ "$checks_failed" -eq 0 ] && [ "$checks_passed" -gt 0 ]

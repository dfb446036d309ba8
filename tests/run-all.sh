#!/bin/bash
# Runs the unit tests (binaries given as arguments), then the integration tests,
# and prints one closing line, "N passed, N failed", over both.
set -u
cd "$(dirname "$0")/.."

unit_out=$(mktemp)
trap 'rm -f "$unit_out"' EXIT

tests/run-unit.sh "$@" | tee "$unit_out"
tests/integration/run.sh | tee -a "$unit_out"

# Each runner ends with "[label:] N passed, N failed"; add them up.
total_passed=0
total_failed=0
while read -r passed failed; do
	total_passed=$((total_passed + passed))
	total_failed=$((total_failed + failed))
done < <(sed -nE 's/^([a-z]+: )?([0-9]+) passed, ([0-9]+) failed.*$/\2 \3/p' "$unit_out")

echo "$total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ] && [ "$total_passed" -gt 0 ]

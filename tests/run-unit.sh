#!/bin/bash
# Runs the unit-test binaries given as arguments and prints one closing line,
# "N passed, N failed", counting test functions.  Exits non-zero on any failure.
set -u
passed=0
failed=0
for test in "$@"; do
	output=$("$test" 2>&1)
	status=$?
	printf '%s\n' "$output" | grep -v -e '^ok - ' -e '^# [0-9]* passed, [0-9]* failed$' || true
	passed=$((passed + $(printf '%s\n' "$output" | grep -c '^ok - ')))
	failed=$((failed + $(printf '%s\n' "$output" | grep -c '^not ok - ')))
	if [ "$status" -ne 0 ] && ! printf '%s\n' "$output" | grep -q '^not ok - '; then
		echo "not ok - $test exited with status $status"
		failed=$((failed + 1))
	fi
done
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

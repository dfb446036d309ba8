#!/bin/bash
# Runs each libFuzzer program given after BUILD_DIR and SECONDS for SECONDS
# seconds, starting from its seed corpus tests/fuzz/corpus/NAME/ (NAME is the
# program's name without "fuzz_") and with the dictionary tests/fuzz/dict/NAME.dict
# when there is one.  New inputs go to BUILD_DIR/corpus/NAME,
# crashing inputs to BUILD_DIR/crashes/NAME/.  Prints "ok - NAME" or
# "not ok - NAME" per target and the closing line "fuzz: N passed, N failed";
# exits non-zero when a target crashed or could not run.
#
#   tests/fuzz/run-fuzz.sh BUILD_DIR SECONDS FUZZER...
set -u
if [ "$#" -lt 3 ]; then
	echo "usage: $0 BUILD_DIR SECONDS FUZZER..." >&2
	exit 2
fi
cd "$(dirname "$0")/../.." || exit 2
build=$1
seconds=$2
shift 2

export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

passed=0
failed=0
for fuzzer in "$@"; do
	name=$(basename "$fuzzer")
	name=${name#fuzz_}
	seeds=tests/fuzz/corpus/$name
	corpus=$build/corpus/$name
	crashes=$build/crashes/$name
	log=$build/logs/$name.log
	mkdir -p "$corpus" "$crashes" "$(dirname "$log")"
	if [ ! -d "$seeds" ]; then
		echo "not ok - $name: no seed corpus $seeds"
		failed=$((failed + 1))
		continue
	fi
	dict=()
	if [ -f "tests/fuzz/dict/$name.dict" ]; then
		dict=(-dict="tests/fuzz/dict/$name.dict")
	fi
	# Standard input is /dev/null: a kubeconfig may name /dev/stdin as a file.
	if "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$crashes/" "${dict[@]}" "$corpus" "$seeds" </dev/null >"$log" 2>&1; then
		echo "ok - $name: $(grep -Eo 'Done [0-9]+ runs in [0-9]+ second' "$log" | tail -n 1)s"
		passed=$((passed + 1))
	else
		echo "not ok - $name: see $log; inputs in $crashes/"
		grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" | head -n 5 | sed 's/^/  /'
		failed=$((failed + 1))
	fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

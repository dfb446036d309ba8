#!/bin/bash
#
# Run the integration test scripts and summarize them.
#
#   tests/integration/run.sh                  every t_*.sh here, sorted by name
#   tests/integration/run.sh t_docker.sh ...  only the named scripts
#
# Each script's output is shown as it runs. The last line is
# "N passed, N failed", counting scripts. The exit status is 0 only when every
# script passed. IT_SCRIPT_TIMEOUT (seconds, default 900) stops a script that
# hangs; its EXIT trap still cleans up.

cd "$(dirname "$0")" || exit 2

scripts=()
if [ "$#" -gt 0 ]; then
    for arg in "$@"; do
        arg=$(basename "$arg")
        if [ ! -f "$arg" ]; then
            echo "run.sh: test script not found: tests/integration/$arg" >&2
            exit 2
        fi
        scripts+=("$arg")
    done
else
    while IFS= read -r script; do
        scripts+=("$script")
    done < <(LC_ALL=C ls t_*.sh 2>/dev/null | sort)
fi

if [ "${#scripts[@]}" -eq 0 ]; then
    echo "run.sh: no t_*.sh scripts in tests/integration" >&2
    exit 2
fi

passed=0
failed=0
failed_names=()
start_all=$SECONDS

for script in "${scripts[@]}"; do
    echo "# --- $script (EDGECR_IMPL=${EDGECR_IMPL:-edgecr})"
    start=$SECONDS
    timeout --kill-after=30 "${IT_SCRIPT_TIMEOUT:-900}" bash "./$script"
    rc=$?
    elapsed=$((SECONDS - start))
    if [ "$rc" -eq 0 ]; then
        passed=$((passed + 1))
        echo "# PASS $script (${elapsed}s)"
    else
        failed=$((failed + 1))
        failed_names+=("$script")
        if [ "$rc" -eq 124 ]; then
            echo "# FAIL $script: timed out after ${IT_SCRIPT_TIMEOUT:-900}s"
        else
            echo "# FAIL $script: exit status $rc (${elapsed}s)"
        fi
    fi
done

echo "# total time $((SECONDS - start_all))s${failed_names[*]:+; failed: ${failed_names[*]}}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/bin/bash
# make fuzz: runs each libFuzzer harness for SECONDS from its seeds in
# t/fuzz/corpus/NAME/, with the input size bound its source declares
# ("fuzz-max-len: N").  New inputs go to WORKDIR/NAME/corpus, a crash to
# WORKDIR/NAME/crash-*; the run fails when any harness fails.
#
#   tools/fuzz.sh SECONDS WORKDIR BIN...
set -uo pipefail

secs=$1 work=$2
shift 2
top=$(cd "$(dirname "$0")/.." && pwd)
failed=()

for bin in "$@"; do
    name=$(basename "$bin")
    src="$top/t/fuzz/$name.c"
    seeds="$top/t/fuzz/corpus/$name"
    dir="$work/$name"
    maxlen=$(sed -n 's/.*fuzz-max-len: *\([0-9]*\).*/\1/p' "$src" | head -1)
    mkdir -p "$dir/corpus" "$seeds"

    echo "fuzz: $name for ${secs}s (max_len ${maxlen:-default})"
    "$bin" -max_total_time="$secs" ${maxlen:+-max_len=$maxlen} \
        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$dir/" "$dir/corpus" "$seeds" \
        > "$dir/log" 2>&1
    rc=$?
    grep -E '^stat::(number_of_executed_units|new_units_added)' "$dir/log" \
        | sed 's/^/    /'
    if [ $rc -ne 0 ]; then
        echo "fuzz: $name FAILED (exit $rc); log $dir/log:"
        grep -E -A30 'ERROR:|runtime error|deadly signal' "$dir/log" \
            | head -60
        ls "$dir"/crash-* "$dir"/leak-* "$dir"/timeout-* "$dir"/oom-* \
            2>/dev/null | sed 's/^/    input: /'
        failed+=("$name")
    fi
done

if [ ${#failed[@]} -ne 0 ]; then
    echo "fuzz: failed: ${failed[*]}"
    exit 1
fi
echo "fuzz: all ${#@} harnesses ran ${secs}s without a finding"

#!/usr/bin/env bash
# Run every libFuzzer target for SECONDS each, growing fuzz/corpus/<target>.
#   scripts/fuzz.sh BUILD_DIR [SECONDS]      (make fuzz FUZZ_SECONDS=600)
# Findings land in fuzz/artifacts/ and make the script exit non-zero.
set -euo pipefail
build=${1:?build dir}
secs=${2:-60}
mkdir -p fuzz/artifacts
rc=0
for bin in "$build"/fuzzer/fuzz_*; do
    name=$(basename "$bin"); target=${name#fuzz_}
    corpus=fuzz/corpus/$target
    mkdir -p "$corpus"
    echo "== fuzz $target for ${secs}s (corpus $(ls "$corpus" | wc -l) files)"
    if ! "$bin" "$corpus" -max_total_time="$secs" -max_len=${FUZZ_MAX_LEN:-262144} -timeout=10 \
            -rss_limit_mb=4096 -artifact_prefix=fuzz/artifacts/"$target"- -print_final_stats=1 \
            2> >(tail -n 12 >&2); then
        echo "fuzz: $target found a failure (see fuzz/artifacts/)" >&2
        rc=1
    fi
done
exit $rc

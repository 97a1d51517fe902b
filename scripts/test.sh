#!/usr/bin/env bash
# make test: every test phase, timed.  Called by .ci/run.
#
# Phases: deps, release build (-Werror), static checks, unit tests
# (release, ACCTDB_TEST_SCALE, default 1), the independent Python oracle's
# own tests (tests/oracle/test_oracle.sh), fuzz corpus replay, install
# smoke test, the ASan+UBSan build with its tests at scale 0.1 and its
# replays, then the ThreadSanitizer build running the concurrency group.  The closing line sums every phase: "N passed, N failed".
#
# Knobs: ACCTDB_TEST_SCALE (release scale, default 1),
#        ACCTDB_SAN_SCALE (sanitizer scale, default 0.1), JOBS (make -j).
set -uo pipefail
cd "$(dirname "$0")/.."

JOBS=${JOBS:-$(nproc)}
SCALE=${ACCTDB_TEST_SCALE:-1}
SAN_SCALE=${ACCTDB_SAN_SCALE:-0.1}
passed=0; failed=0; t_all=$(date +%s)
declare -a summary

phase() { # phase NAME CMD...   runs CMD, counts it as one check
    local name=$1; shift
    local t0=$(date +%s)
    echo "=== $name"
    if "$@"; then passed=$((passed+1)); st=ok; else failed=$((failed+1)); st=FAILED; fi
    local dt=$(( $(date +%s) - t0 ))
    summary+=("$(printf '%-28s %-6s %4ds' "$name" "$st" "$dt")")
    echo "=== $name: $st (${dt}s)"
}

unit() { # unit NAME BUILD SCALE [FILTER]   runs the cmocka runner, adds its counts
    local name=$1 build=$2 scale=$3 filter=${4:-}
    local t0=$(date +%s) log
    echo "=== $name"
    log=$(mktemp)
    ACCTDB_TEST_SCALE=$scale ACCTDB_TEST_FILTER=$filter "$build/acctdb-tests" 2>&1 | tee "$log"
    local rc=${PIPESTATUS[0]}
    local line p f
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -1)
    p=$(echo "$line" | awk '{print $1}'); f=$(echo "$line" | awk '{print $3}')
    [ -z "$p" ] && { p=0; f=1; }            # the runner died before its summary
    [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
    passed=$((passed+p)); failed=$((failed+f))
    rm -f "$log"
    local dt=$(( $(date +%s) - t0 ))
    summary+=("$(printf '%-28s %-6s %4ds  (%s passed, %s failed)' "$name" \
        "$([ "$f" -eq 0 ] && echo ok || echo FAILED)" "$dt" "$p" "$f")")
}

replay() { # replay BUILD
    local build=$1 rc=0
    for bin in "$build"/replay/fuzz_*; do
        local t=$(basename "$bin"); t=${t#fuzz_}
        printf '%-14s ' "$t"; "$bin" "fuzz/corpus/$t" || rc=1
    done
    return $rc
}

install_smoke() {
    local d; d=$(mktemp -d)
    make -s MODE=release install PREFIX=/usr DESTDIR="$d" >/dev/null || return 1
    [ -x "$d/usr/bin/acctdb" ] && [ -f "$d/usr/include/acctdb.h" ] &&
        [ -f "$d/usr/lib/libacctdb.a" ] && [ -f "$d/usr/lib/pkgconfig/acctdb.pc" ] || return 1
    # A program built against the installed copy through pkg-config.
    cat > "$d/t.c" <<'C'
#include <acctdb.h>
#include <stdio.h>
int main(void) {
    uint8_t out[32]; char b58[ACCTDB_BASE58_32_SZ];
    acctdb_blake3("abc", 3, out, 32);
    printf("%s %s\n", acctdb_version(), acctdb_base58_encode_32(out, b58));
    return 0;
}
C
    # Shared: what pkg-config gives. (Not --static: that expands libcurl's
    # own private dependencies, whose -dev packages a host need not have.)
    PKG_CONFIG_SYSROOT_DIR="$d" PKG_CONFIG_PATH="$d/usr/lib/pkgconfig" \
        cc -o "$d/t" "$d/t.c" $(PKG_CONFIG_SYSROOT_DIR="$d" PKG_CONFIG_PATH="$d/usr/lib/pkgconfig" \
        pkg-config --cflags --libs acctdb) || return 1
    LD_LIBRARY_PATH="$d/usr/lib" "$d/t" || return 1
    # Static: the archive and the .pc file's Libs.private.
    cc -o "$d/t2" "$d/t.c" -I"$d/usr/include" "$d/usr/lib/libacctdb.a" \
        $(sed -n 's/^Libs.private: //p' "$d/usr/lib/pkgconfig/acctdb.pc") || return 1
    "$d/t2" && rm -rf "$d"
}

phase "deps"                 scripts/deps.sh
phase "build release"        make -j"$JOBS" MODE=release all
phase "layer/symbol checks"  make -s MODE=release check
phase "format check"         scripts/check_format.sh
# The ASan+UBSan build runs beside the release tests (niced, one job): the
# tests leave a core idle much of the time (kill delays, child processes).
asan_log=$(mktemp); t_asan=$(date +%s)
nice -n 10 make -j1 MODE=asan tests tools replay >"$asan_log" 2>&1 &
asan_pid=$!
unit  "unit tests (release)" build/release "$SCALE"
phase "oracle (python)"      sh tests/oracle/test_oracle.sh
phase "kit (node)"           sh tests/kit/run.sh build/release/acctdb
phase "fuzz replay (release)" replay build/release
phase "install + pkg-config" install_smoke
asan_build() { # waits for the background build; finishes it at full width
    wait "$asan_pid"
    cat "$asan_log"
    echo "(started beside the release tests $(( $(date +%s) - t_asan ))s ago)"
    rm -f "$asan_log"
    make -j"$JOBS" MODE=asan tests tools replay
}
phase "build asan+ubsan"     asan_build
unit  "unit tests (asan)"    build/asan "$SAN_SCALE"
phase "fuzz replay (asan)"   replay build/asan
phase "build tsan"           make -j"$JOBS" MODE=tsan tests
unit  "concurrency (tsan)"   build/tsan "$SAN_SCALE" concurrency

echo
echo "=== summary"
printf '  %s\n' "${summary[@]}"
echo "  total $(( $(date +%s) - t_all ))s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

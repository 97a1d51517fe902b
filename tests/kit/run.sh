#!/bin/sh
# tests/kit/run.sh - make test's kit phase: acctdb's JSON-RPC server checked
# through @solana/kit (pinned by package-lock.json), see test.mjs.
#   sh tests/kit/run.sh [ACCTDB_BINARY]     (default build/release/acctdb)
# Needs node >= 20.18 and npm (the npm registry reachable for `npm ci`),
# and the zstd command (base64+zstd answers are decompressed with it).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../../build/release/acctdb}
case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "kit: node and npm are needed (node >= 20.18 for @solana/kit)" >&2
    exit 1
fi
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number);
              process.exit(a > 20 || (a === 20 && b >= 18) ? 0 : 1)'; then
    echo "kit: node $(node --version) is too old: @solana/kit needs >= 20.18" >&2
    exit 1
fi
command -v zstd >/dev/null 2>&1 || { echo "kit: the zstd command is needed" >&2; exit 1; }
[ -x "$bin" ] || { echo "kit: no acctdb binary at $bin (make first)" >&2; exit 1; }
cd "$here"
npm ci --no-audit --no-fund --loglevel=error
exec node test.mjs "$bin"

#!/usr/bin/env bash
# Every global symbol defined in libacctdb.a is acctdb_* (public) or adb_*
# (internal); the shared library exports only acctdb_*.
set -euo pipefail
lib=${1:-build/release/libacctdb.a}
so=${lib%.a}.so
bad=$(nm -g --defined-only "$lib" | awk 'NF==3 && $2 ~ /[A-Z]/ {print $3}' |
      grep -vE '^(acctdb_|adb_)' || true)
if [ -n "$bad" ]; then echo "symbols without acctdb_/adb_ prefix:"; echo "$bad"; exit 1; fi
if [ -e "$so" ]; then
  leaked=$(nm -D --defined-only "$so" | awk '$2 ~ /[TDBR]/ {print $3}' | grep -v '^acctdb_' || true)
  if [ -n "$leaked" ]; then echo "shared library exports non-public symbols:"; echo "$leaked"; exit 1; fi
fi
echo "symbols: ok ($(nm -g --defined-only "$lib" | awk 'NF==3 && $2 ~ /[A-Z]/' | wc -l) globals)"

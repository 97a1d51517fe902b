#!/usr/bin/env bash
# Layering check over #include lines (STYLE.md, docs/ARCHITECTURE.md):
#   util <- hash <- {store, index, state} <- db <- bank <- snapshot <- api
#        <- sim <- net <- tools
# store and index never include each other; tools include only the public
# headers (acctdb.h, acctdb_sim.h).  And: no raw file I/O in src/db (below).
set -euo pipefail
cd "$(dirname "$0")/.."
declare -A allowed=(
  [util]="util"
  [hash]="util hash"
  [store]="util hash store"
  [index]="util hash index"
  [state]="util hash state"
  [db]="util hash store index state db"
  [bank]="util hash store index state db bank"
  [snapshot]="util hash store index state db bank snapshot"
  [api]="util hash store index state db snapshot bank api"
  [sim]="util hash store index state db snapshot bank api sim"
  [net]="util hash store index state db snapshot bank api sim net"
)
bad=0
for mod in "${!allowed[@]}"; do
  for f in $(ls src/$mod/*.[ch] 2>/dev/null); do
    while IFS= read -r inc; do
      dep=${inc%%/*}
      [ -d "src/$dep" ] || continue
      if ! [[ " ${allowed[$mod]} " == *" $dep "* ]]; then
        echo "layer violation: $f includes \"$inc\" ($mod may use: ${allowed[$mod]})"; bad=1
      fi
    done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
    # Only the simulation module may use the simulation header.
    if [ "$mod" != sim ] && grep -q '#[[:space:]]*include[[:space:]]*"acctdb_sim.h"' "$f"; then
      echo "layer violation: $f includes acctdb_sim.h (only src/sim may)"; bad=1
    fi
  done
done
for f in tools/acctdb/*.[ch] tools/examples/*.c; do
  [ -f "$f" ] || continue
  while IFS= read -r inc; do
    case "$inc" in acctdb.h|acctdb_sim.h|cmd.h|*/acctdb.h) ;; *) echo "tool $f includes \"$inc\" (only acctdb.h, acctdb_sim.h)"; bad=1;; esac
  done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]\([^>"]*\)[>"].*/\1/p' "$f" | grep -E '^(util|hash|store|index|state|db|snapshot|bank|api|sim|net)/|^acctdb|^cmd' || true)
done
# Every file operation on database state goes through the database's I/O
# table (src/util/io.h: adb_io_*(db->io, ...)), so a test can fail or record
# each one per handle.  A raw call in src/db needs a reason on its line:
# "/* raw-io: why */" (flock and madvise are not table operations).
raw_re='(^|[^A-Za-z0-9_>.])(pread|pwrite|mmap|fstat|openat|open|fsync|fdatasync|unlinkat|renameat)\('
for f in src/db/*.c; do
  while IFS= read -r hit; do
    case "$hit" in *"raw-io:"*) continue;; esac
    echo "raw I/O in $f:${hit%%:*} (use the I/O table, adb_io_*(db->io, ...), or justify with /* raw-io: why */):"
    echo "    ${hit#*:}"; bad=1
  done < <(grep -nE "$raw_re" "$f" || true)
done
[ $bad -eq 0 ] && echo "layers: ok"
exit $bad

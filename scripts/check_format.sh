#!/usr/bin/env bash
# Fails if any C file differs from .clang-format (run `make format` to fix).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "format: clang-format not installed, skipped"; exit 0; }
bad=0
for f in $(git ls-files '*.c' '*.h' 2>/dev/null || find include src tools tests bench fuzz -name '*.[ch]'); do
  if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then echo "format: $f"; bad=1; fi
done
[ $bad -eq 0 ] && echo "format: ok"
exit $bad

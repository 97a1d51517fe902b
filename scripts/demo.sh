#!/usr/bin/env bash
# make demo: the project's main job on the bundled real data.
# Today: the account lattice hashes of the Agave 4.2 test snapshot,
# recomputed from its decoded fields and checked against Sig's oracle.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
echo "== acctdb demo: account lattice hashes of the bundled Agave 4.2 snapshot"
"$build"/lthash-from-json tests/data/test-snapshot-v4.2.0-beta.1.json

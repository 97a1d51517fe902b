#!/usr/bin/env bash
# make demo: the project's main job, end to end, on the bundled real data.
#   1. the account lattice hashes of the Agave 4.2 fixture, recomputed from
#      its decoded fields and checked against its oracle;
#   2. load and verify the real archives of both eras (3.x lattice pair,
#      1.17 merkle pair), from a directory of archives;
#   3. list the accounts of one;
#   4. generate a 100,000-account snapshot with an incremental, verify it,
#      and check it with the independent Python reader (tests/oracle).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
A="$build/acctdb"
work=$(mktemp -d "${TMPDIR:-/tmp}/acctdb-demo-XXXXXX")
trap 'rm -rf "$work"' EXIT

step() { printf '\n==== %s\n' "$*"; }

step "1. lattice hashes of the Agave 4.2 fixture's accounts vs its JSON oracle"
"$build"/lthash-from-json tests/data/test-snapshot-v4.2.0-beta.1.json

step "2a. acctdb snapshot verify: Agave 3.x full + incremental (lattice era)"
"$A" snapshot verify --quiet tests/data/snapshot-1-5pgMpQj4MZYWauD1VnoNfmGAdUQCe6VVCSCQMNbDoxf7.tar.zst \
    tests/data/incremental-snapshot-1-4-43FT6mnmRW9XbxpCzqH3ogYexHXboG7d8vmf3gBLvLrR.tar.zst

step "2b. acctdb snapshot verify --dir tests/data: picks the newest full (1.17-era, merkle) and its incremental"
"$A" snapshot verify --quiet --dir tests/data

step "3. acctdb snapshot ls: the 4.2 fixture's live accounts (data cut to 40 characters here)"
"$A" snapshot ls --quiet tests/data/test-snapshot-v4.2.0-beta.1.tar.zst | sed -E 's/("data":"[^"]{40})[^"]*"/\1..."/'

step "4a. acctdb snapshot gen: 100,000 accounts and an incremental of 2,000 changes"
mkdir -p "$work/gen"
"$A" snapshot gen --quiet --accounts 100000 --incremental 2000 --seed 1 --out "$work/gen"

step "4b. acctdb snapshot verify --dir on the generated pair"
"$A" snapshot verify --quiet --dir "$work/gen"

step "4c. the independent reader (tests/oracle, Python + zstd + b3sum) on the same pair"
python3 tests/oracle/oracle.py "$work"/gen/snapshot-*.tar.zst "$work"/gen/incremental-snapshot-*.tar.zst | tail -n 12

printf '\ndemo: every step matched\n'

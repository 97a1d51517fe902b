#!/usr/bin/env bash
# make demo: the project's main job, end to end, on the bundled real data.
#   1. the account lattice hashes of the Agave 4.2 fixture, recomputed from
#      its decoded fields and checked against its oracle;
#   2. load and verify the real archives of both eras (3.x lattice pair,
#      1.17 merkle pair), from a directory of archives;
#   3. list the accounts of one;
#   4. generate a 100,000-account snapshot with an incremental, verify it,
#      and check it with the independent Python reader (tests/oracle);
#   5. a live database: created from the 3.x pair, 3,000 slots of validator
#      load with forks, a full snapshot, 500 more slots, an incremental; both
#      verified (acctdb snapshot verify, tests/oracle), and each archive's
#      name hash must be the root lattice checksum `acctdb db info` reports;
#      the loader checks (bank fields, epoch stakes, stakes cache, sysvars)
#      on the pair the database wrote;
#   6. a cluster from genesis: `acctdb genesis make` (4 validators, 64-slot
#      epochs), a database created from it, 300 slots crossing 4 epoch
#      boundaries (stakes warming up and cooling down), a full snapshot
#      checked with --genesis (every loader check, the genesis fields too);
#   7. the network: `acctdb serve` on that database with a running workload
#      (snapshots every 40 slots), Solana JSON-RPC calls with curl, a second
#      directory bootstrapped from it over loopback, `acctdb follow` on its
#      change stream, and both at the same slot and lattice hash.
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

full3=tests/data/snapshot-1-5pgMpQj4MZYWauD1VnoNfmGAdUQCe6VVCSCQMNbDoxf7.tar.zst
inc3=tests/data/incremental-snapshot-1-4-43FT6mnmRW9XbxpCzqH3ogYexHXboG7d8vmf3gBLvLrR.tar.zst
db="$work/db"
# name_matches ARCHIVE: the hash in its name must be the root lattice
# checksum `acctdb db info` reports.
name_matches() {
    local h lt
    h=$(basename "$1"); h=${h##*-}; h=${h%%.tar.*}
    lt=$("$A" db info "$db" | sed -n 's/^lattice checksum: *//p')
    if [ "$h" != "$lt" ]; then
        echo "MISMATCH: $(basename "$1") names $h, but db info reports the root's lattice checksum $lt"
        exit 1
    fi
    echo "name check: ok: $(basename "$1"): $h == db info's root lattice checksum"
}

step "5a. acctdb db create: a live database from the Agave 3.x pair"
"$A" db create --quiet "$db" --from "$full3" "$inc3"

step "5b. acctdb db workload: 3,000 slots of validator load (200-500 stores each, up to 3 forks, roots 32 banks behind)"
"$A" db workload --quiet "$db" --slots 3000 --forks 3 --stores-min 200 --stores-max 500 \
    --loads-per-store 1 --seed 1

step "5c. acctdb db snapshot: a full snapshot of the root"
"$A" db snapshot "$db" --out "$work/archives"
full=$(ls "$work"/archives/snapshot-*.tar.zst)
name_matches "$full"

step "5d. 500 more slots, then acctdb db snapshot --incremental"
"$A" db workload --quiet "$db" --slots 500 --forks 3 --stores-min 200 --stores-max 500 --seed 2 |
    grep -E '^(slots|stores|root):'
"$A" db snapshot "$db" --out "$work/archives" --incremental
inc=$(ls "$work"/archives/incremental-snapshot-*.tar.zst)
name_matches "$inc"

step "5e. acctdb db info and db verify: the root the incremental holds, recomputed from the account files"
"$A" db info "$db"
"$A" db verify "$db" | tail -n 3

step "5f. acctdb snapshot verify on the pair the database wrote"
"$A" snapshot verify --quiet "$full" "$inc" | grep -E 'check:|^verified'

step "5g. the independent reader (tests/oracle) on the same pair"
python3 tests/oracle/oracle.py "$full" "$inc" | tail -n 4

step "6a. acctdb genesis make: a cluster of 4 validators, 64-slot epochs, stakes warming up and cooling down"
"$A" genesis make "$work/genesis.bin" --validators 4 --slots-per-epoch 64

step "6b. acctdb db create --genesis, then 300 slots of load (epoch boundaries at 64, 128, 192, 256)"
gdb="$work/gdb"
"$A" db create --quiet "$gdb" --genesis "$work/genesis.bin" | grep -E '^(root slot|capitalization):'
"$A" db workload --quiet "$gdb" --slots 300 --stores-min 50 --stores-max 200 --seed 3 |
    grep -E '^(slots|root):'
"$A" db snapshot "$gdb" --out "$work/garchives" | grep -E '^(archive|slot):' || true

step "6c. acctdb snapshot verify --genesis: every loader check on the archive the genesis database wrote"
"$A" snapshot verify --quiet --genesis "$work/genesis.bin" "$work"/garchives/snapshot-*.tar.zst |
    grep -E '^(epoch|slot):|check:|^verified'

step "7a. acctdb serve: the genesis database, a workload of 400 slots (25 ms each), a snapshot every 40"
srv_out="$work/serve.out"
"$A" serve "$gdb" --rpc-addr 127.0.0.1:0 --snapshots "$work/served" --workload-slots 400 --slot-ms 25 \
    --stores-min 50 --stores-max 200 --snapshot-every-slots 40 --quiet >"$srv_out" 2>"$work/serve.err" &
srv_pid=$!
trap 'kill $srv_pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do grep -q '^listening:' "$srv_out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^listening: //p' "$srv_out")
echo "serving at $url"
rpc() { curl -s -X POST -H 'content-type: application/json' -d "$1" "$url"; echo; }
sleep 2

step "7b. JSON-RPC with curl: getSlot (finalized), getBalance and getAccountInfo of the Clock sysvar (base64)"
rpc '{"jsonrpc":"2.0","id":1,"method":"getSlot"}'
rpc '{"jsonrpc":"2.0","id":"two","method":"getBalance","params":["SysvarC1ock11111111111111111111111111111111"]}'
rpc '{"jsonrpc":"2.0","id":3,"method":"getAccountInfo","params":["SysvarC1ock11111111111111111111111111111111",{"encoding":"base64"}]}'
echo "HEAD /snapshot.tar.bz2:"
curl -sI "$url/snapshot.tar.bz2" | grep -iE '^(HTTP|location|content-length)' | tr -d '\r'

step "7c. acctdb bootstrap: a second directory from the server, over loopback"
"$A" bootstrap --quiet --peer "$url" --dir "$work/follower" | tail -n 4

step "7d. acctdb follow: the change stream, slot by slot, until the server's workload is done"
"$A" follow --peer "$url" --dir "$work/follower" --seconds 12
sleep 1
"$A" follow --peer "$url" --dir "$work/follower" --seconds 2 | grep -E '^(last slot|lattice)' || true
kill -INT $srv_pid; wait $srv_pid || true

step "7e. both databases: the same root, the same lattice hash"
s1=$("$A" db info "$gdb" | grep -E '^(root slot|lattice checksum):')
s2=$("$A" db info "$work/follower" | grep -E '^(root slot|lattice checksum):')
echo "server:   " $s1
echo "follower: " $s2
[ "$s1" = "$s2" ] || { echo "MISMATCH: the follower is not at the server's root"; exit 1; }

printf '\ndemo: every step matched\n'

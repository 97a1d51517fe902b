#!/bin/sh
# Acceptance tests for tests/oracle/oracle.py against the bundled real
# snapshots in tests/data, plus corrupted and malformed copies.
# Exit status: 0 if every test passes, 1 otherwise.
set -u

here=$(cd "$(dirname "$0")" && pwd)
data=$(cd "$here/../data" && pwd)
oracle="$here/oracle.py"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/oracle-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

V42="$data/test-snapshot-v4.2.0-beta.1.tar.zst"
V42_JSON="$data/test-snapshot-v4.2.0-beta.1.json"
F1="$data/snapshot-1-5pgMpQj4MZYWauD1VnoNfmGAdUQCe6VVCSCQMNbDoxf7.tar.zst"
I1="$data/incremental-snapshot-1-4-43FT6mnmRW9XbxpCzqH3ogYexHXboG7d8vmf3gBLvLrR.tar.zst"
F10="$data/snapshot-10-6ExseAZAVJsAZjhimxHTR7N8p6VGXiDNdsajYh1ipjAD.tar.zst"
I10="$data/incremental-snapshot-10-25-GXgKvm3NMAPgGdv2verVaNXmKTHQgfy2TAxLVEfAvdCS.tar.zst"

failed=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1"; failed=1; }

# run NAME EXPECTED_RC ARGS...: runs the oracle, keeps stdout/stderr in $tmp/out, $tmp/err
run() {
    name=$1; want=$2; shift 2
    python3 "$oracle" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if grep -q Traceback "$tmp/err"; then
        fail "$name: Python traceback"; cat "$tmp/err"; return 1
    fi
    if [ "$rc" -ne "$want" ]; then
        fail "$name: exit $rc, expected $want"; cat "$tmp/err"; return 1
    fi
    return 0
}

# expect NAME PYTHON_BOOLEAN_EXPR: evaluated with r = first JSON line of $tmp/out
expect() {
    name=$1; expr=$2
    if python3 -c '
import json, sys
sys.path.insert(0, sys.argv[3])
import oracle as o
lines = open(sys.argv[1]).read().splitlines()
r = json.loads(lines[0])
accounts = [json.loads(l) for l in lines[1:]]
sys.exit(0 if eval(sys.argv[2]) else 1)
' "$tmp/out" "$expr" "$here"; then
        pass "$name"
    else
        fail "$name: $expr"
        head -c 2000 "$tmp/out"; echo
    fi
}

# stderr_has NAME TEXT
stderr_has() {
    if grep -q -- "$2" "$tmp/err"; then pass "$1"; else fail "$1: stderr lacks '$2'"; cat "$tmp/err"; fi
}

# ---------------------------------------------------------------- real data
echo "== 4.2 test snapshot"
if run v42 0 --json --list "$V42"; then
    expect "v42 summary" 'r["slot"] == 100 and r["live_count"] == 8 and r["capitalization"] == 92065762 and r["lt_checksum"] == "7G3gw9TmwzT24jhJQyrPnH2QaKUZ7MHWGG9KW8XaPbDb" and r["era"] == "lattice" and r["lt_formula"] == "current" and r["ok"]'
    expect "v42 checks" 'r["checks"]["name"] is None and r["checks"]["bank_hash"] is True and r["checks"]["lt_hash"] is True and r["checks"]["capitalization"] is True and r["checks"]["accounts_data_len"] is True'
    expect "v42 --list lines sorted by pubkey bytes" 'len(accounts) == 8 and [a["pubkey"] for a in accounts] == sorted((a["pubkey"] for a in accounts), key=o.b58decode)'
    # Compare the live accounts with the fixture's own JSON oracle (written by
    # a different program): same pubkey/lamports/owner/rent_epoch/data.
    if python3 -c '
import json, sys, base64
fx = json.load(open(sys.argv[1]))["accounts"]
want = sorted((e["pubkey"], e["lamports"], e["owner"], e["executable"], e["rent_epoch"], e["slot"], e["data_hex"])
              for i, e in enumerate(fx["entries"]) if i in fx["live_indices"])
lines = open(sys.argv[2]).read().splitlines()[1:]
got = sorted((a["pubkey"], a["lamports"], a["owner"], a["executable"], a["rent_epoch"], a["slot"],
              base64.b64decode(a["data"]).hex()) for a in map(json.loads, lines))
sys.exit(0 if want == got else 1)
' "$V42_JSON" "$tmp/out"; then pass "v42 live set equals the fixture JSON"; else fail "v42 live set differs from the fixture JSON"; fi
fi
if run v42-human 0 "$V42"; then
    if grep -q "name .*skipped" "$tmp/out" && grep -q "RESULT: OK" "$tmp/out"; then pass "v42 human summary"; else fail "v42 human summary"; cat "$tmp/out"; fi
fi

echo "== v1 lattice-era full"
if run v1-full 0 --json "$F1"; then
    expect "v1 full" 'r["live_count"] == 21 and r["era"] == "lattice" and r["lt_checksum"] == r["name_hash"] == "5pgMpQj4MZYWauD1VnoNfmGAdUQCe6VVCSCQMNbDoxf7" and all(v is True for v in r["checks"].values()) and r["ok"]'
fi

echo "== v1 lattice-era full + incremental"
if run v1-incr 0 --json --list "$F1" "$I1"; then
    expect "v1 incremental" 'r["slot"] == 4 and r["base_slot"] == 1 and r["live_count"] == 21 and r["era"] == "lattice" and r["lt_checksum"] == r["name_hash"] == "43FT6mnmRW9XbxpCzqH3ogYexHXboG7d8vmf3gBLvLrR" and all(v is True for v in r["checks"].values()) and r["ok"]'
    expect "v1 incremental's full" 'r["full"]["lt_checksum"] == "5pgMpQj4MZYWauD1VnoNfmGAdUQCe6VVCSCQMNbDoxf7" and r["full"]["checks"]["bank_hash"] is True'
    expect "v1 incremental --list" 'len(accounts) == 21 and sum(a["lamports"] for a in accounts) == r["capitalization"] and max(a["slot"] for a in accounts) == 4'
fi

echo "== merkle-era full"
if run m-full 0 --json "$F10"; then
    expect "merkle full" 'r["era"] == "merkle" and r["live_count"] == 211 and r["merkle_hash"] == r["name_hash"] == "6ExseAZAVJsAZjhimxHTR7N8p6VGXiDNdsajYh1ipjAD" and r["checks"]["name"] is True and r["checks"]["lt_hash"] is None and r["ok"]'
fi

echo "== merkle-era full + incremental"
if run m-incr 0 --json "$F10" "$I10"; then
    expect "merkle incremental" 'r["era"] == "merkle" and r["merkle_hash"] == r["name_hash"] == "GXgKvm3NMAPgGdv2verVaNXmKTHQgfy2TAxLVEfAvdCS" and r["details"]["name"].endswith("over 6 accounts") and r["checks"]["base_slot"] is True and r["checks"]["persistence"] is True and r["ok"]'
    expect "merkle incremental's full" 'r["full"]["merkle_hash"] == "6ExseAZAVJsAZjhimxHTR7N8p6VGXiDNdsajYh1ipjAD" and r["full"]["details"]["name"].endswith("over 211 accounts")'
fi

echo "== wrong base slot"
if run base-mismatch 1 --json "$F10" "$I1"; then
    expect "base slot mismatch is reported" 'r["checks"]["base_slot"] is False and not r["ok"]'
fi

# ---------------------------------------------------------------- corrupted copies
# patch_tar SRC.tar.zst DST.tar.zst MODE: decompress, change one byte of the
# first record of the last account file, recompress.
patch_tar() {
    zstd -dcq "$1" >"$tmp/plain.tar" || return 1
    python3 - "$tmp/plain.tar" "$3" <<'EOF' || return 1
import sys, tarfile, struct
path, mode = sys.argv[1], sys.argv[2]
with tarfile.open(path) as tf:
    member = [m for m in tf.getmembers() if m.name.startswith("accounts/") and m.isfile()][-1]
with open(path, "r+b") as fh:
    base = member.offset_data                       # first record of that file
    if mode == "lamports":
        fh.seek(base + 0x30)
        lamports = struct.unpack("<Q", fh.read(8))[0]
        new = lamports ^ (1 << 20)
        assert new != 0
        fh.seek(base + 0x30)
        fh.write(struct.pack("<Q", new))
    elif mode == "executable":
        fh.seek(base + 0x60)
        fh.write(b"\x02")
print(member.name, file=sys.stderr)
EOF
    zstd -q -f "$tmp/plain.tar" -o "$2"
}

echo "== corrupted lamports (lattice era, named)"
mkdir -p "$tmp/bad"
if patch_tar "$F1" "$tmp/bad/$(basename "$F1")" lamports 2>/dev/null; then
    if run corrupt-lamports 1 "$tmp/bad/$(basename "$F1")"; then
        stderr_has "corrupt: capitalization named" "check failed: capitalization"
        stderr_has "corrupt: lt_hash named" "check failed: lt_hash"
        stderr_has "corrupt: name named" "check failed: name"
        grep -q "RESULT: FAILED" "$tmp/out" && pass "corrupt: RESULT FAILED" || fail "corrupt: RESULT FAILED"
    fi
else
    fail "could not build the corrupted copy"
fi

echo "== corrupted lamports (4.2 fixture, JSON)"
if patch_tar "$V42" "$tmp/bad/test-snapshot-v4.2.0-beta.1.tar.zst" lamports 2>/dev/null; then
    if run corrupt-json 1 --json "$tmp/bad/test-snapshot-v4.2.0-beta.1.tar.zst"; then
        expect "corrupt json" 'not r["ok"] and r["checks"]["capitalization"] is False and r["checks"]["lt_hash"] is False and r["checks"]["bank_hash"] is True'
    fi
fi

echo "== invalid executable byte"
if patch_tar "$V42" "$tmp/bad/exec.tar.zst" executable 2>/dev/null; then
    if run bad-exec 2 "$tmp/bad/exec.tar.zst"; then stderr_has "bad executable rejected" "executable byte is 2"; fi
fi

# ---------------------------------------------------------------- malformed input
echo "== malformed input"
printf 'this is not an archive at all, no no no' >"$tmp/garbage.tar.zst"
run garbage 2 "$tmp/garbage.tar.zst" && stderr_has "garbage rejected" "oracle: error"

head -c 3000 "$F1" >"$tmp/bad/truncated.tar.zst"
run truncated 2 "$tmp/bad/truncated.tar.zst" && stderr_has "truncated rejected" "oracle: error"

run missing 2 "$tmp/does-not-exist.tar.zst" && stderr_has "missing file rejected" "cannot open"

run swapped 2 "$I1" && stderr_has "incremental as first argument rejected" "must be a full snapshot"

# an extra tar entry
mkdir -p "$tmp/x" && (cd "$tmp/x" && zstd -dcq "$V42" | tar xf - && echo hi >extra.txt \
    && tar cf - version snapshots accounts extra.txt | zstd -q -o "$tmp/bad/extra.tar.zst")
run extra-entry 2 "$tmp/bad/extra.tar.zst" && stderr_has "extra entry rejected" "extra entry found"

# wrong version string
(cd "$tmp/x" && printf '1.3.0' >version && tar cf - version snapshots accounts | zstd -q -o "$tmp/bad/version.tar.zst")
run bad-version 2 "$tmp/bad/version.tar.zst" && stderr_has "bad version rejected" "unsupported snapshot version"

# truncated manifest
(cd "$tmp/x" && printf '1.2.0' >version && head -c 1000 snapshots/100/100 >m && mv m snapshots/100/100 \
    && tar cf - version snapshots accounts | zstd -q -o "$tmp/bad/manifest.tar.zst")
run bad-manifest 2 --json "$tmp/bad/manifest.tar.zst" && stderr_has "truncated manifest rejected" "manifest: truncated" \
    && expect "error JSON" 'r["ok"] is False and "manifest" in r["error"]'

# ---------------------------------------------------------------- speed
echo "== unit checks and speed (1,000 lattice hashes)"
start=$(date +%s)
python3 - "$here" <<'EOF' || fail "unit checks failed"
import sys
sys.path.insert(0, sys.argv[1])
import oracle
msgs = [bytes([i % 256]) * (i % 300) for i in range(1000)]
assert len(oracle.blake3_many(msgs, 2048)) == 1000
# Agave's test vector (§5.1 / §5.4): "hello"
lt = oracle.blake3_many([b"hello"], 2048)[0]
assert lt[0:2] == bytes.fromhex("ea8f") and lt[-2:] == bytes.fromhex("2499"), lt[:4].hex()
assert oracle.blake3_256(lt).hex() == "4f9c1ab89ccd5ed0b6eb21936f99e598cf854b6db6c6773d0b51294618576455"
# base58 round trips
for raw in (bytes(32), b"\0\0\1" + bytes(29), bytes(range(32))):
    assert oracle.b58decode(oracle.b58encode(raw)) == raw
assert oracle.b58encode(bytes(32)) == "11111111111111111111111111111111"

# §2 account-file walk on synthetic files
import struct
def record(pubkey, lamports, data=b"", owner=bytes(32), executable=0, rent_epoch=0, pad=b"\0" * 7):
    hdr = struct.pack("<QQ", 0, len(data)) + pubkey + struct.pack("<QQ", lamports, rent_epoch) + owner \
        + bytes([executable]) + pad + bytes(32)
    body = hdr + data
    return body + bytes(oracle.align8(len(body)) - len(body))
a, b = b"\1" * 32, b"\2" * 32
blob = record(a, 5, b"abc", pad=b"garbage") + record(b, 7) + record(a, 0)   # a: tombstone last
recs, note = oracle.parse_account_file(9, 0, blob, len(blob))
assert [r.lamports for r in recs] == [5, 7, 0] and recs[0].data == b"abc" and note is None
live = oracle.live_set({9: {"records": recs}})
assert list(live) == [b] , "last occurrence wins, zero lamports is absent"
# unaligned valid length (last record's padding missing) is fine
recs, _ = oracle.parse_account_file(9, 0, blob[:136 + 3], 136 + 3)
assert len(recs) == 1
# a valid length cutting through a record is an incorrect layout
for bad_len in (136 + 2, len(blob) - 8):
    try:
        oracle.parse_account_file(9, 0, blob, bad_len)
        raise SystemExit(f"valid length {bad_len} should be rejected")
    except oracle.OracleError:
        pass
# zero-filled tail after the last record: stop there and accept
recs, note = oracle.parse_account_file(9, 0, blob + bytes(4096), len(blob) + 4096)
assert len(recs) == 3 and note
# ... but not when something non-zero follows the zero record
try:
    oracle.parse_account_file(9, 0, blob + bytes(200) + b"\1" + bytes(7), len(blob) + 208)
    raise SystemExit("non-zero tail should be rejected")
except oracle.OracleError:
    pass
# zero lamports with data is not a default account
try:
    oracle.parse_account_file(9, 0, record(a, 0, b"x"), 144)
    raise SystemExit("zero-lamport record with data should be rejected")
except oracle.OracleError:
    pass
# §6 merkle root shape: 1 leaf is hashed once, 17 leaves take two levels, empty is SHA-256("")
import hashlib
h = lambda x: hashlib.sha256(x).digest()
assert oracle.merkle_root([a]) == h(a)
assert oracle.merkle_root([a] * 17) == h(h(a * 16) + h(a))
assert oracle.merkle_root([]) == h(b"")
# Sig's merkle-leaf vector (§6): lamports 10, rent_epoch 20, data 01 02 03
leaf = oracle.blake3_256(struct.pack("<QQ", 10, 20) + bytes([1, 2, 3]) + bytes(1 + 32 + 32))
assert leaf.hex().startswith("aa4b5749") and leaf.hex().endswith("59e81c"), leaf.hex()
EOF
elapsed=$(( $(date +%s) - start ))
if [ "$elapsed" -le 5 ]; then pass "1,000 hashes + vectors in ${elapsed}s"; else fail "1,000 hashes took ${elapsed}s"; fi

echo
if [ "$failed" -eq 0 ]; then echo "ALL ORACLE TESTS PASSED"; else echo "SOME ORACLE TESTS FAILED"; fi
exit "$failed"

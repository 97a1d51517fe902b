#!/usr/bin/env python3
"""Independent reference reader for Solana/Agave snapshot archives.

This is the oracle the acctdb C implementation is judged against.  It is
written from /work/shared/FORMAT.md only (section numbers are cited as "§N"),
uses nothing but the Python standard library plus the external programs
`zstd`, `lz4` (optional, for .tar.lz4) and `b3sum` (BLAKE3 is not in the Python
standard library), and shares no code with the C implementation.

Usage:
    oracle.py [--json] [--list] [--genesis GENESIS_BIN] FULL_ARCHIVE [INCREMENTAL_ARCHIVE]

Exit status: 0 every applicable check passed, 1 a check failed,
2 malformed input or bad usage, 3 internal error (a bug in this script).

Deliberately simple and slow: everything is kept in memory, and correctness
is preferred over speed everywhere.
"""

import argparse
import base64
import hashlib
import json
import math
import os
import re
import struct
import subprocess
import sys
import tarfile
import tempfile

U64_MAX = (1 << 64) - 1
ZERO32 = bytes(32)


class OracleError(Exception):
    """Malformed input: reported as a clear one-line message, never a traceback."""


# ---------------------------------------------------------------------------
# Base58 (Bitcoin alphabet, FORMAT.md preamble).  Our own encoder/decoder.
# ---------------------------------------------------------------------------

B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58encode(raw):
    n = int.from_bytes(raw, "big")
    digits = ""
    while n > 0:
        n, rem = divmod(n, 58)
        digits = B58_ALPHABET[rem] + digits
    leading_zero_bytes = len(raw) - len(raw.lstrip(b"\0"))
    return "1" * leading_zero_bytes + digits


def b58decode(text):
    n = 0
    for ch in text:
        idx = B58_ALPHABET.find(ch)
        if idx < 0:
            raise OracleError(f"invalid base58 character {ch!r} in {text!r}")
        n = n * 58 + idx
    leading_ones = len(text) - len(text.lstrip("1"))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n > 0 else b""
    return b"\0" * leading_ones + body


# ---------------------------------------------------------------------------
# BLAKE3 through the `b3sum` program (batched: one temp file per message).
# ---------------------------------------------------------------------------

B3SUM_FILES_PER_CALL = 1000


def blake3_many(messages, out_len):
    """BLAKE3 (unkeyed, default mode) of each message, out_len output bytes each.

    out_len 32 is the ordinary BLAKE3-256 hash; out_len 2048 is the XOF output
    used by the lattice hash (§5.1)."""
    if not messages:
        return []
    results = []
    with tempfile.TemporaryDirectory(prefix="oracle-b3-") as tmp:
        names = []
        for i, msg in enumerate(messages):
            name = f"m{i}"
            with open(os.path.join(tmp, name), "wb") as fh:
                fh.write(msg)
            names.append(name)
        for start in range(0, len(names), B3SUM_FILES_PER_CALL):
            chunk = names[start:start + B3SUM_FILES_PER_CALL]
            cmd = ["b3sum", "--no-names", "--num-threads", "1",
                   "--length", str(out_len), "--"] + chunk
            try:
                proc = subprocess.run(cmd, cwd=tmp, capture_output=True)
            except OSError as exc:
                raise OracleError(f"cannot run b3sum: {exc}") from exc
            if proc.returncode != 0:
                raise OracleError("b3sum failed: " + proc.stderr.decode(errors="replace").strip())
            lines = proc.stdout.decode().split()
            if len(lines) != len(chunk):
                raise OracleError(f"b3sum printed {len(lines)} hashes for {len(chunk)} files")
            for line in lines:
                digest = bytes.fromhex(line)
                if len(digest) != out_len:
                    raise OracleError("b3sum printed a hash of the wrong length")
                results.append(digest)
    return results


def blake3_256(message):
    return blake3_many([message], 32)[0]


def sha256(data):
    return hashlib.sha256(data).digest()


# ---------------------------------------------------------------------------
# §1.3 Archive file names.
# ---------------------------------------------------------------------------

FULL_NAME_RE = re.compile(
    r"snapshot-(?P<slot>[0-9]+)-(?P<hash>[A-Za-z0-9]+)\.(?P<ext>tar\.zst|tar\.lz4)")
INCR_NAME_RE = re.compile(
    r"incremental-snapshot-(?P<base>[0-9]+)-(?P<slot>[0-9]+)-(?P<hash>[A-Za-z0-9]+)"
    r"\.(?P<ext>tar\.zst|tar\.lz4)")


class ArchiveName:
    """What the file name says.  kind is 'full', 'incremental' or None (the name
    follows neither pattern, e.g. the 4.2 test fixture: nothing to check)."""

    def __init__(self, path):
        self.basename = os.path.basename(path)
        self.kind = None
        self.slot = None
        self.base_slot = None
        self.hash = None        # 32 raw bytes
        self.hash_text = None   # as written in the name
        self.ext = None
        m = INCR_NAME_RE.fullmatch(self.basename)
        if m:
            self.kind = "incremental"
            self.base_slot = parse_u64(m.group("base"), "base slot in archive name")
        else:
            m = FULL_NAME_RE.fullmatch(self.basename)
            if m:
                self.kind = "full"
        if m:
            self.slot = parse_u64(m.group("slot"), "slot in archive name")
            self.ext = m.group("ext")
            self.hash_text = m.group("hash")
            self.hash = b58decode(self.hash_text)
            if len(self.hash) != 32:
                raise OracleError(
                    f"{self.basename}: name hash {self.hash_text} decodes to "
                    f"{len(self.hash)} bytes, not 32 (§1.3)")


def parse_u64(text, what):
    value = int(text, 10)
    if value > U64_MAX:
        raise OracleError(f"{what} {text} does not fit in a u64")
    return value


# ---------------------------------------------------------------------------
# §1.1 Compression container and §1.2 tar entries.
# ---------------------------------------------------------------------------

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
LZ4_MAGIC = b"\x04\x22\x4d\x18"

MAX_ENTRIES = 5_000_000
MAX_APPARENT_SIZE = 64 << 40          # 64 TiB
MAX_ACCOUNT_FILE_SIZE = 16 << 30      # 16 GiB (§2.3 rule 1)
MAX_DATA_FILE_SIZE = 32 << 30         # manifest and status cache limit (§1.2)
MAX_VERSION_FILE_SIZE = 8

DIGITS_RE = re.compile(r"[0-9]+")
STORAGE_NAME_RE = re.compile(r"(?P<slot>[0-9]+)\.(?P<id>[0-9]+)")

# Regular file types Agave accepts: '0', NUL (old-style regular) and GNU sparse.
REGULAR_TYPES = (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.GNUTYPE_SPARSE)


def decompressor_command(path, name):
    """Pick the decompressor from the file's magic bytes (and check it agrees
    with the extension when the name follows §1.3)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(512)
    except OSError as exc:
        raise OracleError(f"cannot open {path}: {exc}") from exc
    if head.startswith(ZSTD_MAGIC):
        kind, cmd = "tar.zst", ["zstd", "-dc", "-q", "--", path]
    elif head.startswith(LZ4_MAGIC):
        kind, cmd = "tar.lz4", ["lz4", "-dc", "-q", "--", path]
    elif len(head) == 512 and head[257:262] == b"ustar":
        kind, cmd = "tar", ["cat", "--", path]
    else:
        raise OracleError(f"{path}: neither zstd, lz4 nor tar data (§1.1)")
    if name.ext is not None and name.ext != kind:
        raise OracleError(f"{path}: name says .{name.ext} but the content is {kind}")
    return cmd


class RawArchive:
    """The entries of one archive, as read from the tar stream (§1.2)."""

    def __init__(self):
        self.version = None
        self.manifest = None          # bytes
        self.manifest_path = None     # (dir slot, file slot)
        self.status_cache = None      # bytes
        self.account_files = {}       # slot -> (id, bytes)


def classify_entry(member):
    """Return the §1.2 role of a tar entry, or raise 'extra entry'."""
    name = member.name
    if name.startswith("/"):
        raise OracleError(f"absolute path in archive: {name!r} (§1.2)")
    # Path components must be plain names or '.'; empty components come from
    # '//' or a trailing '/' and carry no meaning.
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise OracleError(f"'..' in archive path {name!r} (§1.2)")
    is_reg = member.type in REGULAR_TYPES
    is_dir = member.type == tarfile.DIRTYPE
    if parts == ["version"] and is_reg:
        return ("version",)
    if parts in (["accounts"], ["snapshots"]) and is_dir:
        return ("dir",)
    if len(parts) == 2 and parts[0] == "accounts" and is_reg:
        m = STORAGE_NAME_RE.fullmatch(parts[1])
        if m:
            return ("account_file", parse_u64(m.group("slot"), f"slot in {name!r}"),
                    parse_u64(m.group("id"), f"id in {name!r}"))
    if parts == ["snapshots", "status_cache"] and is_reg:
        return ("status_cache",)
    if len(parts) == 2 and parts[0] == "snapshots" and DIGITS_RE.fullmatch(parts[1]) and is_dir:
        return ("dir",)
    if (len(parts) == 3 and parts[0] == "snapshots" and DIGITS_RE.fullmatch(parts[1])
            and DIGITS_RE.fullmatch(parts[2]) and is_reg):
        return ("manifest", parse_u64(parts[1], "manifest dir"), parse_u64(parts[2], "manifest file"))
    raise OracleError(f"extra entry found in archive: {name!r} (tar type {member.type!r}) (§1.2)")


def read_raw_archive(path, name):
    """Stream the decompressed tar and collect every accepted entry (§1.2).

    Entry order is not assumed (manifest and status cache in either order,
    account files anywhere)."""
    raw = RawArchive()
    cmd = decompressor_command(path, name)
    with tempfile.TemporaryFile() as errfile:
        try:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errfile)
        except OSError as exc:
            raise OracleError(f"cannot run {cmd[0]}: {exc}") from exc
        tar_error = None
        try:
            read_tar_entries(proc.stdout, raw)
        except (tarfile.TarError, EOFError) as exc:
            tar_error = exc
        finally:
            # Drain whatever follows the end-of-archive marker, then reap.
            while proc.stdout.read(1 << 16):
                pass
            proc.stdout.close()
            rc = proc.wait()
        if rc != 0:
            errfile.seek(0)
            msg = errfile.read().decode(errors="replace").strip()
            raise OracleError(f"{path}: {cmd[0]} failed (exit {rc}): {msg}")
        if tar_error is not None:
            raise OracleError(f"{path}: bad tar stream: {tar_error}")

    if raw.version is None:
        raise OracleError(f"{path}: no 'version' entry (§1.2)")
    if raw.manifest is None:
        raise OracleError(f"{path}: no manifest entry snapshots/<S>/<S> (§1.2)")
    if raw.status_cache is None:
        raise OracleError(f"{path}: no snapshots/status_cache entry (§1.2)")
    return raw


def read_tar_entries(stream, raw):
    entries = 0
    apparent = 0
    seen_storages = set()
    with tarfile.open(fileobj=stream, mode="r|") as tf:
        for member in tf:
            entries += 1
            apparent += max(member.size, 0)
            if entries > MAX_ENTRIES:
                raise OracleError(f"more than {MAX_ENTRIES} tar entries (§1.2)")
            if apparent > MAX_APPARENT_SIZE:
                raise OracleError("total apparent size above 64 TiB (§1.2)")
            role = classify_entry(member)
            kind = role[0]
            if kind == "dir":
                continue

            if kind == "version":
                limit = MAX_VERSION_FILE_SIZE
            elif kind == "account_file":
                limit = MAX_ACCOUNT_FILE_SIZE
            else:
                limit = MAX_DATA_FILE_SIZE
            if member.size > limit:
                raise OracleError(f"entry {member.name!r} is {member.size} bytes, above the limit {limit}")
            content = tf.extractfile(member).read()
            if len(content) != member.size:
                raise OracleError(f"entry {member.name!r} is truncated")

            if kind == "version":
                if raw.version is not None:
                    raise OracleError("duplicate 'version' entry")
                text = content.decode("ascii", errors="replace").strip()
                if text != "1.2.0":
                    raise OracleError(f"unsupported snapshot version {text!r} (must be 1.2.0, §1.2)")
                raw.version = text
            elif kind == "manifest":
                if raw.manifest is not None:
                    raise OracleError(f"more than one manifest entry ({member.name!r})")
                _, dir_slot, file_slot = role
                if dir_slot != file_slot:
                    raise OracleError(f"manifest path {member.name!r}: directory and file name differ (§1.2)")
                raw.manifest = content
                raw.manifest_path = (dir_slot, file_slot)
            elif kind == "status_cache":
                if raw.status_cache is not None:
                    raise OracleError("duplicate snapshots/status_cache entry")
                raw.status_cache = content
            elif kind == "account_file":
                _, slot, file_id = role
                if (slot, file_id) in seen_storages:
                    # Agave's admission check would let it through and the
                    # later one would overwrite the earlier: we call it ambiguous.
                    raise OracleError(f"duplicate account file accounts/{slot}.{file_id}")
                seen_storages.add((slot, file_id))
                if slot in raw.account_files:
                    other = raw.account_files[slot][0]
                    raise OracleError(
                        f"two account files for slot {slot} (ids {other} and {file_id}); "
                        f"a slot has exactly one storage (§2.2, §7)")
                raw.account_files[slot] = (file_id, content)


# ---------------------------------------------------------------------------
# §3.1 bincode reader.
# ---------------------------------------------------------------------------

class Bincode:
    """Little-endian fixint bincode (§3.1)."""

    def __init__(self, buf, what):
        self.buf = buf
        self.pos = 0
        self.what = what

    def remaining(self):
        return len(self.buf) - self.pos

    def at_eof(self):
        return self.pos == len(self.buf)

    def take(self, n):
        if n > self.remaining():
            raise OracleError(
                f"{self.what}: truncated at byte {self.pos} (needs {n} bytes, {self.remaining()} left)")
        out = self.buf[self.pos:self.pos + n]
        self.pos += n
        return out

    def _unpack(self, fmt, size):
        return struct.unpack("<" + fmt, self.take(size))[0]

    def u8(self):
        return self._unpack("B", 1)

    def u32(self):
        return self._unpack("I", 4)

    def u64(self):
        return self._unpack("Q", 8)

    def i64(self):
        return self._unpack("q", 8)

    def u128(self):
        lo, hi = struct.unpack("<QQ", self.take(16))
        return lo | (hi << 64)

    def f64(self):
        return self._unpack("d", 8)

    def boolean(self):
        at = self.pos
        v = self.u8()
        if v > 1:
            raise OracleError(f"{self.what}: bool at byte {at} is {v}, not 0 or 1 (§3.1)")
        return v == 1

    def hash32(self):
        return self.take(32)

    def option(self, read_value):
        at = self.pos
        tag = self.u8()
        if tag == 0:
            return None
        if tag == 1:
            return read_value()
        raise OracleError(f"{self.what}: Option tag at byte {at} is {tag}, not 0 or 1 (§3.1)")

    def seq(self, read_elem):
        """Vec / HashSet / HashMap: u64 count then elements (a map's element is
        a (key, value) pair).  Every element takes at least one byte, so a
        count larger than the bytes left is corrupt."""
        at = self.pos
        count = self.u64()
        if count > self.remaining():
            raise OracleError(
                f"{self.what}: length {count} at byte {at} exceeds the {self.remaining()} bytes left")
        return [read_elem() for _ in range(count)]

    def byte_vec(self):
        at = self.pos
        n = self.u64()
        if n > self.remaining():
            raise OracleError(f"{self.what}: byte vector of {n} bytes at byte {at} exceeds the input")
        return self.take(n)

    def default_on_eof(self, read_value, default):
        """§3.1: EOF exactly at the field boundary means 'absent'; EOF inside
        the field is corruption (take() raises)."""
        if self.at_eof():
            return default
        return read_value()


# ---------------------------------------------------------------------------
# §3.3 / §3.4 BankFields.
# ---------------------------------------------------------------------------

def read_blockhash_queue(r):
    # §3.4.1
    q = {}
    q["last_hash_index"] = r.u64()
    q["last_hash"] = r.option(r.hash32)

    def age():
        return (r.hash32(), {"lamports_per_signature": r.u64(), "hash_index": r.u64(),
                             "timestamp": r.u64()})
    q["ages"] = r.seq(age)
    q["max_age"] = r.u64()
    return q


def read_fee_rate_governor(r):
    # §3.4.2, 33 bytes
    return {"target_lamports_per_signature": r.u64(), "target_signatures_per_slot": r.u64(),
            "min_lamports_per_signature": r.u64(), "max_lamports_per_signature": r.u64(),
            "burn_percent": r.u8()}


def read_epoch_schedule(r):
    # §3.4.2, 33 bytes
    return {"slots_per_epoch": r.u64(), "leader_schedule_slot_offset": r.u64(),
            "warmup": r.boolean(), "first_normal_epoch": r.u64(), "first_normal_slot": r.u64()}


def read_rent(r):
    # §3.4.2, 17 bytes
    return {"lamports_per_byte_year": r.u64(), "exemption_threshold": r.f64(), "burn_percent": r.u8()}


def read_rent_collector(r):
    # §3.4.3, 66 bytes
    return {"epoch": r.u64(), "epoch_schedule": read_epoch_schedule(r),
            "slots_per_year": r.f64(), "rent": read_rent(r)}


def read_inflation(r):
    # §3.4.2, 6 x f64
    return [r.f64() for _ in range(6)]


def read_account(r):
    # §3.4.4 serde form of an Account: lamports, data, owner, executable, rent_epoch
    return {"lamports": r.u64(), "data": r.byte_vec(), "owner": r.hash32(),
            "executable": r.boolean(), "rent_epoch": r.u64()}


def read_delegation(r):
    # §3.4.4, 64 bytes
    return {"voter_pubkey": r.hash32(), "stake": r.u64(), "activation_epoch": r.u64(),
            "deactivation_epoch": r.u64(), "warmup_cooldown_rate": r.f64()}


def read_stake(r):
    # §3.6: Stake = Delegation + credits_observed
    d = read_delegation(r)
    d["credits_observed"] = r.u64()
    return d


def read_stakes(r, read_delegation_value):
    # §3.4.4 Stakes<Delegation> (bank) or Stakes<Stake> (versioned epoch stakes, §3.6)
    return {
        "vote_accounts": r.seq(lambda: (r.hash32(), (r.u64(), read_account(r)))),
        "stake_delegations": r.seq(lambda: (r.hash32(), read_delegation_value(r))),
        "unused": r.u64(),
        "epoch": r.u64(),
        "stake_history": r.seq(lambda: (r.u64(), (r.u64(), r.u64(), r.u64()))),
    }


def read_node_vote_accounts(r):
    return {"vote_accounts": r.seq(r.hash32), "total_stake": r.u64()}


def read_epoch_stakes_body(r, read_delegation_value):
    # §3.4.5 (legacy) and §3.6 (versioned, after its u32 variant)
    return {
        "stakes": read_stakes(r, read_delegation_value),
        "total_stake": r.u64(),
        "node_id_to_vote_accounts": r.seq(lambda: (r.hash32(), read_node_vote_accounts(r))),
        "epoch_authorized_voters": r.seq(lambda: (r.hash32(), r.hash32())),
    }


def read_bank_fields(r):
    """§3.3: every BankFields field, in order."""
    b = {}
    b["blockhash_queue"] = read_blockhash_queue(r)                 # 1
    b["ancestors"] = r.seq(lambda: (r.u64(), r.u64()))             # 2
    b["hash"] = r.hash32()                                         # 3
    b["parent_hash"] = r.hash32()                                  # 4
    b["parent_slot"] = r.u64()                                     # 5
    b["hard_forks"] = r.seq(lambda: (r.u64(), r.u64()))            # 6
    b["transaction_count"] = r.u64()                               # 7
    b["tick_height"] = r.u64()                                     # 8
    b["signature_count"] = r.u64()                                 # 9
    b["capitalization"] = r.u64()                                  # 10
    b["max_tick_height"] = r.u64()                                 # 11
    b["hashes_per_tick"] = r.option(r.u64)                         # 12
    b["ticks_per_slot"] = r.u64()                                  # 13
    b["ns_per_slot"] = r.u128()                                    # 14
    b["genesis_creation_time"] = r.i64()                           # 15
    b["slots_per_year"] = r.f64()                                  # 16
    b["accounts_data_len"] = r.u64()                               # 17
    b["slot"] = r.u64()                                            # 18
    b["epoch"] = r.u64()                                           # 19
    b["block_height"] = r.u64()                                    # 20
    b["leader_id"] = r.hash32()                                    # 21
    b["collector_fees"] = r.u64()                                  # 22
    b["fee_calculator"] = r.u64()                                  # 23
    b["fee_rate_governor"] = read_fee_rate_governor(r)             # 24
    b["collected_rent"] = r.u64()                                  # 25
    b["rent_collector"] = read_rent_collector(r)                   # 26
    b["epoch_schedule"] = read_epoch_schedule(r)                   # 27
    b["inflation"] = read_inflation(r)                             # 28
    b["stakes"] = read_stakes(r, read_delegation)                  # 29
    b["unused_accounts"] = (r.seq(r.hash32), r.seq(r.hash32),      # 30
                            r.seq(lambda: (r.hash32(), r.u64())))
    b["epoch_stakes"] = r.seq(                                     # 31 (legacy, §3.4.5)
        lambda: (r.u64(), read_epoch_stakes_body(r, read_delegation)))
    b["is_delta"] = r.boolean()                                    # 32
    return b


# ---------------------------------------------------------------------------
# §3.5 AccountsDbFields.
# ---------------------------------------------------------------------------

def read_accounts_db_fields(r):
    a = {}

    def storage_entry():
        at = r.pos
        slot = r.u64()
        entries = r.seq(lambda: (r.u64(), r.u64()))   # {id, accounts_current_len}
        if len(entries) != 1:
            raise OracleError(
                f"manifest: storages entry for slot {slot} (byte {at}) has {len(entries)} "
                f"storages, must be exactly 1 (§3.5)")
        return slot, entries[0]

    storages = {}
    for slot, (file_id, current_len) in r.seq(storage_entry):
        if slot in storages:
            raise OracleError(f"manifest: slot {slot} listed twice in the storages map (§3.5)")
        storages[slot] = (file_id, current_len)
    a["storages"] = storages
    a["write_version"] = r.u64()
    a["slot"] = r.u64()
    a["bank_hash_info"] = {
        "accounts_delta_hash": r.hash32(), "accounts_hash": r.hash32(),
        "stats": [r.u64() for _ in range(5)],
    }
    a["historical_roots"] = r.default_on_eof(lambda: r.seq(r.u64), [])
    a["historical_roots_with_hash"] = r.default_on_eof(
        lambda: r.seq(lambda: (r.u64(), r.hash32())), [])
    return a


# ---------------------------------------------------------------------------
# §3.6 ExtraFields (every field default_on_eof).
# ---------------------------------------------------------------------------

def read_versioned_epoch_stakes(r):
    at = r.pos
    variant = r.u32()
    if variant != 0:
        raise OracleError(f"manifest: VersionedEpochStakes variant {variant} at byte {at} (only 0 exists, §3.6)")
    return read_epoch_stakes_body(r, read_stake)


def read_extra_fields(r):
    e = {}
    e["lamports_per_signature"] = r.default_on_eof(r.u64, 0)
    e["incremental_snapshot_persistence"] = r.default_on_eof(lambda: r.option(lambda: {
        "full_slot": r.u64(), "full_hash": r.hash32(), "full_capitalization": r.u64(),
        "incremental_hash": r.hash32(), "incremental_capitalization": r.u64()}), None)
    e["epoch_accounts_hash"] = r.default_on_eof(lambda: r.option(r.hash32), None)
    e["versioned_epoch_stakes"] = r.default_on_eof(
        lambda: r.seq(lambda: (r.u64(), read_versioned_epoch_stakes(r))), [])
    e["accounts_lt_hash"] = r.default_on_eof(lambda: r.option(lambda: r.take(2048)), None)
    # Whether the block_id field is on the wire at all (even as None): the
    # mark of an Agave 4.1+ writer, which also zeroes the unused bank fields.
    e["block_id_field"] = not r.at_eof()
    e["block_id"] = r.default_on_eof(lambda: r.option(r.hash32), None)
    return e


def parse_manifest(data):
    """§3.2: BankFields ‖ AccountsDbFields ‖ ExtraFields, trailing bytes allowed."""
    r = Bincode(data, "manifest")
    m = {}
    m["bank"] = read_bank_fields(r)
    m["accounts_db"] = read_accounts_db_fields(r)
    m["extra"] = read_extra_fields(r)
    m["trailing_bytes"] = r.remaining()
    m["size"] = len(data)
    return m


# ---------------------------------------------------------------------------
# §4 Status cache.
# ---------------------------------------------------------------------------

MAX_CACHE_ENTRIES = 300


def read_instruction_error(r):
    at = r.pos
    idx = r.u32()
    if idx == 25:          # Custom(u32)
        r.u32()
    elif idx == 44:        # BorshIoError(String)
        r.byte_vec()
    elif idx > 53:
        raise OracleError(f"status cache: unknown InstructionError {idx} at byte {at} (§4)")


def read_transaction_error(r):
    at = r.pos
    idx = r.u32()
    if idx == 8:                     # InstructionError(u8, InstructionError)
        r.u8()
        read_instruction_error(r)
    elif idx in (30, 31, 35):        # payload: one u8
        r.u8()
    elif idx > 38:
        raise OracleError(f"status cache: unknown TransactionError {idx} at byte {at} (§4)")


def read_status_result(r):
    at = r.pos
    tag = r.u32()
    if tag == 1:
        read_transaction_error(r)
    elif tag != 0:
        raise OracleError(f"status cache: Result tag {tag} at byte {at} (§4)")


def parse_status_cache(data):
    """Returns a list of (slot, is_root, number of blockhashes)."""
    r = Bincode(data, "status cache")

    def status_entry():
        r.hash32()                                   # blockhash
        r.u64()                                      # key_index
        r.seq(lambda: (r.take(20), read_status_result(r)))

    def slot_delta():
        slot = r.u64()
        is_root = r.boolean()
        statuses = r.seq(status_entry)
        return slot, is_root, len(statuses)

    deltas = r.seq(slot_delta)
    return deltas, r.remaining()


def check_status_cache(deltas, bank_slot):
    """The simple parts of Agave's verify_slot_deltas (§4); the SlotHistory
    cross-check is not done here."""
    if len(deltas) > MAX_CACHE_ENTRIES:
        return f"{len(deltas)} entries, more than {MAX_CACHE_ENTRIES}"
    seen = set()
    for slot, is_root, _ in deltas:
        if not is_root:
            return f"slot {slot} is not a root"
        if slot > bank_slot:
            return f"slot {slot} is above the bank slot {bank_slot}"
        if slot in seen:
            return f"slot {slot} appears twice"
        seen.add(slot)
    return None


# ---------------------------------------------------------------------------
# §2 Account storage files.
# ---------------------------------------------------------------------------

HEADER_SIZE = 136
MAX_DATA_LEN = 10 * 1024 * 1024


def align8(n):
    return (n + 7) & ~7


class Record:
    __slots__ = ("slot", "offset", "pubkey", "lamports", "rent_epoch", "owner",
                 "executable", "data")

    def __init__(self, slot, offset, pubkey, lamports, rent_epoch, owner, executable, data):
        self.slot = slot
        self.offset = offset
        self.pubkey = pubkey
        self.lamports = lamports
        self.rent_epoch = rent_epoch
        self.owner = owner
        self.executable = executable
        self.data = data


def parse_account_file(slot, file_id, blob, valid_len):
    """§2.1 record layout, §2.3 sanitization.  Returns (records in offset order,
    note or None).  Raises OracleError if the file is rejected."""
    where = f"accounts/{slot}.{file_id}"
    size = len(blob)
    if size == 0:
        raise OracleError(f"{where}: empty account file (FileSizeTooSmall, §2.3)")
    if size > MAX_ACCOUNT_FILE_SIZE:
        raise OracleError(f"{where}: larger than 16 GiB (FileSizeTooLarge, §2.3)")
    if valid_len > size:
        raise OracleError(f"{where}: valid length {valid_len} > file size {size} (§2.3)")

    records = []
    offset = 0
    end_of_last = 0
    stopped_at_zero_record = False
    while True:
        if offset + HEADER_SIZE > valid_len:
            break
        (_write_version, data_len) = struct.unpack_from("<QQ", blob, offset)
        pubkey = blob[offset + 0x10:offset + 0x30]
        lamports, rent_epoch = struct.unpack_from("<QQ", blob, offset + 0x30)
        owner = blob[offset + 0x40:offset + 0x60]
        executable = blob[offset + 0x60]
        # 0x61..0x67 padding (garbage allowed) and 0x68..0x87 obsolete hash: ignored.
        if offset + HEADER_SIZE + data_len > valid_len:
            break
        if lamports == 0 and pubkey == ZERO32:
            stopped_at_zero_record = True    # "passed the last useful account"
            break
        if executable & 0xFE:
            raise OracleError(f"{where}: record at {offset}: executable byte is {executable} (§2.3)")
        if lamports == 0 and not (data_len == 0 and executable == 0 and rent_epoch == 0
                                  and owner == ZERO32):
            raise OracleError(
                f"{where}: record at {offset}: zero lamports but not a default account "
                f"(IncorrectLayout, §2.3)")
        if data_len > MAX_DATA_LEN:
            raise OracleError(f"{where}: record at {offset}: data_len {data_len} above 10 MiB (§2.3)")
        data = blob[offset + HEADER_SIZE:offset + HEADER_SIZE + data_len]
        records.append(Record(slot, offset, pubkey, lamports, rent_epoch, owner, executable, data))
        end_of_last = offset + align8(HEADER_SIZE + data_len)
        offset = end_of_last

    note = None
    if stopped_at_zero_record:
        # Our policy (see README): the zero-lamport/zero-pubkey stop is only
        # accepted when everything from there to the valid length is zero
        # (zero-filled space beyond the real end).
        if any(blob[offset:valid_len]):
            raise OracleError(
                f"{where}: zero record at {offset} followed by non-zero bytes before "
                f"the valid length {valid_len} (§2.3)")
        if offset != align8(valid_len):
            note = f"{where}: zero-filled tail from {offset} to {valid_len} ignored (§2.3 rule 2)"
    elif end_of_last != align8(valid_len):
        raise OracleError(
            f"{where}: records end at {end_of_last} but the valid length is {valid_len} "
            f"(aligned {align8(valid_len)}): incorrect layout (§2.3 rule 4)")
    return records, note


def valid_length(slot, file_id, tar_size, storages, warnings):
    """§2.2: min(manifest current_len, tar size) when the map lists the file,
    else the tar size."""
    entry = storages.get(slot)
    if entry is None:
        if storages:
            warnings.append(f"accounts/{slot}.{file_id} is not in the manifest storages map; using the tar size")
        return tar_size
    listed_id, current_len = entry
    if listed_id != file_id:
        warnings.append(f"accounts/{slot}.{file_id}: the manifest lists id {listed_id} for slot "
                        f"{slot}; using the tar size")
        return tar_size
    if current_len > tar_size:
        warnings.append(f"accounts/{slot}.{file_id}: manifest current_len {current_len} > tar size "
                        f"{tar_size} (Agave would reject it); using the tar size")
        return tar_size
    if align8(current_len) < tar_size:
        warnings.append(f"accounts/{slot}.{file_id}: {tar_size - current_len} bytes past current_len ignored")
    return current_len


# ---------------------------------------------------------------------------
# One archive, read and parsed.
# ---------------------------------------------------------------------------

class Archive:
    def __init__(self, path):
        self.path = path
        self.name = ArchiveName(path)
        raw = read_raw_archive(path, self.name)
        self.manifest = parse_manifest(raw.manifest)
        self.manifest_path_slot = raw.manifest_path[0]
        self.status_cache_raw = raw.status_cache
        self.slot = self.manifest["bank"]["slot"]
        self.warnings = []
        if self.manifest["trailing_bytes"]:
            self.warnings.append(f"manifest: {self.manifest['trailing_bytes']} trailing bytes ignored (§3.1)")
        storages = self.manifest["accounts_db"]["storages"]
        # slot -> {"id", "size", "valid_len", "records"}
        self.files = {}
        for slot in sorted(raw.account_files):
            file_id, blob = raw.account_files[slot]
            vlen = valid_length(slot, file_id, len(blob), storages, self.warnings)
            records, note = parse_account_file(slot, file_id, blob, vlen)
            if note:
                self.warnings.append(note)
            self.files[slot] = {"id": file_id, "size": len(blob), "valid_len": vlen, "records": records}


# ---------------------------------------------------------------------------
# §7 Live set.
# ---------------------------------------------------------------------------

def latest_versions(files):
    """For each pubkey the record from the highest slot, and within that file
    the last occurrence (§7 rules 1-2).  Zero-lamport winners included."""
    latest = {}
    for slot in sorted(files):
        for rec in files[slot]["records"]:     # offset order: later overrides
            latest[rec.pubkey] = rec
    return latest


def live_set(files):
    """§7 rule 3: a zero-lamport winner means the account does not exist."""
    return {pk: rec for pk, rec in latest_versions(files).items() if rec.lamports != 0}


# ---------------------------------------------------------------------------
# §5 Lattice hash and §6 merkle hash.
# ---------------------------------------------------------------------------

def lt_message_current(rec):
    # §5.1: lamports ‖ data ‖ executable ‖ owner ‖ pubkey (no rent_epoch)
    return struct.pack("<Q", rec.lamports) + rec.data + bytes([rec.executable]) + rec.owner + rec.pubkey


def lt_message_legacy(rec):
    # §1.3 transitional archives: lamports ‖ rent_epoch ‖ data ‖ executable ‖ owner ‖ pubkey
    return (struct.pack("<QQ", rec.lamports, rec.rent_epoch) + rec.data + bytes([rec.executable])
            + rec.owner + rec.pubkey)


def merkle_leaf_message(rec):
    # §6 leaf: the same byte sequence as the legacy lt message, hashed to 32 bytes
    return lt_message_legacy(rec)


class HashCache:
    """Per-record hashes, computed in batches and memoised by (slot, offset)."""

    def __init__(self):
        self.cache = {}

    def get(self, records, kind):
        builders = {"lt_current": (lt_message_current, 2048),
                    "lt_legacy": (lt_message_legacy, 2048),
                    "merkle_leaf": (merkle_leaf_message, 32)}
        build, out_len = builders[kind]
        missing = [rec for rec in records if (kind, rec.slot, rec.offset) not in self.cache]
        digests = blake3_many([build(rec) for rec in missing], out_len)
        for rec, digest in zip(missing, digests):
            self.cache[(kind, rec.slot, rec.offset)] = digest
        return [self.cache[(kind, rec.slot, rec.offset)] for rec in records]


# One cache for the whole run.  (slot, offset) identifies a record: a slot has
# one storage, and the incremental's files used are all above the full slot.
HASHES = HashCache()


def lt_sum(live_records, formula):
    """§5.3: element-wise sum mod 2^16 of the per-account LtHashes of the live
    (non-zero lamport) accounts.  Returns the 2048 bytes."""
    total = [0] * 1024
    for digest in HASHES.get(live_records, "lt_" + formula):
        elems = struct.unpack("<1024H", digest)
        total = [(a + b) & 0xFFFF for a, b in zip(total, elems)]
    return struct.pack("<1024H", *total)


def lt_checksum(lt_bytes):
    # §5.4: base58(BLAKE3-256(2048 bytes))
    return b58encode(blake3_256(lt_bytes))


def merkle_root(leaves):
    """§6 steps 5-6: fanout 16, SHA-256; a single leaf is still hashed; empty
    input gives SHA-256 of nothing."""
    if not leaves:
        return sha256(b"")
    level = leaves
    while True:
        level = [sha256(b"".join(level[i:i + 16])) for i in range(0, len(level), 16)]
        if len(level) == 1:
            return level[0]


def merkle_full_hash(files):
    """§6 AccountsHash: latest versions, zero-lamport dropped, sorted by pubkey.
    Returns (root, number of leaves)."""
    live = sorted(live_set(files).values(), key=lambda rec: rec.pubkey)
    return merkle_root(HASHES.get(live, "merkle_leaf")), len(live)


def merkle_incremental_hash(incremental_files):
    """§6 IncrementalAccountsHash over the storages with base < slot <= S2:
    zero-lamport accounts kept, with leaf BLAKE3-256(pubkey)."""
    latest = sorted(latest_versions(incremental_files).values(), key=lambda rec: rec.pubkey)
    nonzero = [rec for rec in latest if rec.lamports != 0]
    nonzero_leaves = dict(zip((rec.pubkey for rec in nonzero), HASHES.get(nonzero, "merkle_leaf")))
    zero_pubkeys = [rec.pubkey for rec in latest if rec.lamports == 0]
    zero_leaves = dict(zip(zero_pubkeys, blake3_many(zero_pubkeys, 32)))
    leaves = [nonzero_leaves[rec.pubkey] if rec.lamports != 0 else zero_leaves[rec.pubkey]
              for rec in latest]
    return merkle_root(leaves), len(leaves)


# ---------------------------------------------------------------------------
# §9 Bank hash (lattice era).
# ---------------------------------------------------------------------------

def bank_hash(bank, lt_bytes):
    last_blockhash = bank["blockhash_queue"]["last_hash"] or ZERO32
    h = sha256(bank["parent_hash"] + struct.pack("<Q", bank["signature_count"]) + last_blockhash)
    h = sha256(h + lt_bytes)
    n = sum(count for fork_slot, count in bank["hard_forks"]
            if bank["parent_slot"] < fork_slot <= bank["slot"])
    if n > 0:
        h = sha256(h + struct.pack("<Q", n & U64_MAX))
    return h


# ---------------------------------------------------------------------------
# Bank checks: what real loaders demand of a snapshot's bank fields, epoch
# stakes, stakes cache and sysvar accounts.  Rules restated from the notes on
# Agave (new_from_snapshot, verify_epoch_stakes, the stakes cache load), Sig
# (BankFields.validate, its stakes check) and Firedancer (manifest parser and
# validation, sysvar restore) in /tmp/facts (bank_lifecycle.md "BL",
# stakes.md "ST", loader_checks.md "LC"), and FORMAT.md §3 and §8.  Each check
# is one named line: True (pass), False (fail) or None (skipped, with why).
# ---------------------------------------------------------------------------

VOTE_PROGRAM = b58decode("Vote111111111111111111111111111111111111111")
STAKE_PROGRAM = b58decode("Stake11111111111111111111111111111111111111")
FEATURE_PROGRAM = b58decode("Feature111111111111111111111111111111111111")
SYSVAR_OWNER = b58decode("Sysvar1111111111111111111111111111111111111")
SYSVAR_CLOCK = b58decode("SysvarC1ock11111111111111111111111111111111")
SYSVAR_EPOCH_SCHEDULE = b58decode("SysvarEpochSchedu1e111111111111111111111111")
SYSVAR_RENT = b58decode("SysvarRent111111111111111111111111111111111")
SYSVAR_SLOT_HASHES = b58decode("SysvarS1otHashes111111111111111111111111111")
SYSVAR_SLOT_HISTORY = b58decode("SysvarS1otHistory11111111111111111111111111")
SYSVAR_STAKE_HISTORY = b58decode("SysvarStakeHistory1111111111111111111111111")
SYSVAR_RECENT_BLOCKHASHES = b58decode("SysvarRecentB1ockHashes11111111111111111111")
# Feature reduce_stake_warmup_cooldown: from its activation epoch on, the
# warm-up/cool-down rate is 0.09 instead of 0.25 (ST §7).
FEATURE_REDUCE_WARMUP = b58decode("GwtDQBghCTBgmX2cpEGNPxTEBUTQRaDMGTr5qychdGMj")

BANK_CHECK_NAMES = (
    "max tick height", "tick height", "epoch schedule", "epoch",
    "genesis creation time", "ticks per slot", "ns per slot", "slots per year",
    "epoch schedule vs genesis", "rent collector", "ancestors", "legacy epoch stakes",
    "epoch stakes", "epoch stakes contents", "stakes cache", "blockhash queue", "block id",
    "Clock sysvar", "SlotHashes sysvar", "SlotHistory sysvar", "EpochSchedule sysvar",
    "Rent sysvar", "StakeHistory sysvar", "RecentBlockhashes sysvar",
)

MAX_ANCESTORS = 8192                     # Firedancer's parser bound (LC §3.1)
MAX_EPOCH_STAKES_ENTRIES = 6             # Firedancer (LC §3.1)
MAX_BLOCKHASH_QUEUE = 301                # max_age 300 + 1 (BL §4, LC §5)
RECENT_BLOCKHASHES_MAX = 150             # BL §2
SLOT_HASHES_MAX = 512
STAKE_HISTORY_MAX = 512
SLOT_HISTORY_BITS = 1 << 20
# Fixed account sizes of the list sysvars (BL §2: max(size_of, serialized)).
SLOT_HASHES_SIZE = 8 + SLOT_HASHES_MAX * 40
STAKE_HISTORY_SIZE = 8 + STAKE_HISTORY_MAX * 32
RECENT_BLOCKHASHES_SIZE = 8 + RECENT_BLOCKHASHES_MAX * 40
SLOT_HISTORY_SIZE = 1 + 8 + SLOT_HISTORY_BITS // 8 + 8 + 8


# -- genesis.bin (FORMAT.md §8) ---------------------------------------------

def parse_genesis(data):
    """The GenesisConfig fields the bank checks compare with."""
    r = Bincode(data, "genesis")
    g = {"creation_time": r.i64()}
    r.seq(lambda: (r.hash32(), read_account(r)))                  # accounts
    r.seq(lambda: (r.byte_vec(), r.hash32()))                      # native instruction processors
    r.seq(lambda: (r.hash32(), read_account(r)))                  # rewards pools
    g["ticks_per_slot"] = r.u64()
    r.u64()                                                        # unused
    secs, nanos = r.u64(), r.u32()                                 # poh_config.target_tick_duration
    g["tick_ns"] = secs * 1_000_000_000 + nanos
    r.option(r.u64)                                                # target_tick_count
    g["hashes_per_tick"] = r.option(r.u64)
    r.u64()                                                        # backwards compat
    read_fee_rate_governor(r)
    g["rent"] = read_rent(r)
    read_inflation(r)
    g["epoch_schedule"] = read_epoch_schedule(r)
    g["cluster_type"] = r.u32()
    if r.remaining():
        raise OracleError(f"genesis: {r.remaining()} bytes after cluster_type")
    return g


def load_genesis(path):
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise OracleError(f"cannot open genesis {path}: {exc}") from exc
    return parse_genesis(data)


# -- EpochSchedule math (BL §3b) --------------------------------------------

MIN_SLOTS_PER_EPOCH = 32


def next_power_of_two(n):
    """u64::next_power_of_two: the smallest power of two >= n (1 for 0)."""
    return 1 if n <= 1 else 1 << (n - 1).bit_length()


def trailing_zeros(n):
    return (n & -n).bit_length() - 1 if n else 64


def epoch_schedule_custom(slots_per_epoch, offset, warmup):
    """EpochSchedule::custom(spe, offset, warmup), spe >= 32."""
    if warmup:
        p = next_power_of_two(slots_per_epoch)
        first_normal_epoch = max(trailing_zeros(p) - trailing_zeros(MIN_SLOTS_PER_EPOCH), 0)
        first_normal_slot = ((1 << first_normal_epoch) - 1) * MIN_SLOTS_PER_EPOCH
    else:
        first_normal_epoch = first_normal_slot = 0
    return {"slots_per_epoch": slots_per_epoch, "leader_schedule_slot_offset": offset,
            "warmup": bool(warmup), "first_normal_epoch": first_normal_epoch,
            "first_normal_slot": first_normal_slot}


def epoch_and_slot_index(es, slot):
    """get_epoch_and_slot_index on the schedule as given (not re-derived)."""
    if slot < es["first_normal_slot"]:
        epoch = trailing_zeros(next_power_of_two(slot + MIN_SLOTS_PER_EPOCH + 1)) \
            - trailing_zeros(MIN_SLOTS_PER_EPOCH) - 1
        epoch_len = 1 << (epoch + trailing_zeros(MIN_SLOTS_PER_EPOCH))
        return epoch, slot - (epoch_len - MIN_SLOTS_PER_EPOCH)
    since = slot - es["first_normal_slot"]
    spe = es["slots_per_epoch"]
    if spe == 0:
        return es["first_normal_epoch"], 0
    return es["first_normal_epoch"] + since // spe, since % spe


def epoch_of(es, slot):
    return epoch_and_slot_index(es, slot)[0]


def leader_schedule_epoch(es, slot):
    if slot < es["first_normal_slot"]:
        return epoch_of(es, slot) + 1
    spe = es["slots_per_epoch"]
    shifted = slot - es["first_normal_slot"] + es["leader_schedule_slot_offset"]
    return es["first_normal_epoch"] + (shifted // spe if spe else 0)


# -- f64 helpers with Rust's semantics ---------------------------------------

def f64_div(a, b):
    """a / b as IEEE doubles (Python raises on division by zero)."""
    if b != 0.0:
        return a / b
    if a != a or a == 0.0:
        return float("nan")
    return math.copysign(math.inf, a) * math.copysign(1.0, b)


def f64_to_u64(x):
    """Rust `x as u64`: toward zero, saturating, NaN to 0."""
    if x != x or x <= 0.0:
        return 0
    if x >= 18446744073709551616.0:
        return U64_MAX
    return int(x)


def f64_bits(x):
    return struct.pack("<d", x)


SECONDS_PER_YEAR = 365.242_199 * 24.0 * 60.0 * 60.0


def years_as_slots(years, tick_ns, ticks_per_slot):
    """solana_time_utils::years_as_slots, in its evaluation order (BL §6)."""
    return f64_div((years * SECONDS_PER_YEAR) * f64_div(1_000_000_000.0, float(tick_ns)),
                   float(ticks_per_slot))


# -- vote accounts (ST §6.1-§6.4) ---------------------------------------------

VOTE_STATE_V3_SIZE = 3762        # also V4's
VOTE_STATE_V1_14_11_SIZE = 3731
PRIOR_VOTERS_SIZE = 32 * 48 + 8 + 1
MAX_VOTE_LIST = 255              # the view keeps list lengths in a u8


def parse_vote_state(data):
    """VoteStateView::try_new: the version (1 V1_14_11, 2 V3, 3 V4), the node
    pubkey and the authorized voters [(epoch, voter)] in wire order, or None
    when the data does not parse as any accepted version."""
    r = Bincode(data, "vote state")
    try:
        version = r.u32()
        if version not in (1, 2, 3):
            return None
        node = r.hash32()
        r.hash32()                                       # authorized withdrawer
        if version == 3:
            r.take(32 + 32 + 2 + 2 + 8)                  # collectors, commissions, pending rewards
            bls = r.u8()
            if bls > 1:
                return None
            if bls:
                r.take(48)
            vote_size = 13
        else:
            r.u8()                                       # commission
            vote_size = 12 if version == 1 else 13       # Lockout / LandedVote

        def bounded_len():
            n = r.u64()
            if n > MAX_VOTE_LIST:
                raise OracleError("vote state: list too long")
            return n

        r.take(bounded_len() * vote_size)                # votes
        root = r.u8()
        if root > 1:
            return None
        if root:
            r.u64()
        voters = [(r.u64(), r.hash32()) for _ in range(bounded_len())]
        if version != 3:
            r.take(PRIOR_VOTERS_SIZE)
        r.take(bounded_len() * 24)                       # epoch credits
        r.take(16)                                       # last timestamp
    except OracleError:
        return None
    return {"version": version, "node": node, "authorized_voters": voters}


def authorized_voter(vote_state, epoch):
    """The voter whose entry has the largest epoch <= epoch, or None."""
    for entry_epoch, voter in reversed(vote_state["authorized_voters"]):
        if entry_epoch <= epoch:
            return voter
    return None


def vote_size_and_initialized(data):
    """VoteStateVersions::is_correct_size_and_initialized (ST §6.2)."""
    n = len(data)
    if n == VOTE_STATE_V3_SIZE and data[:4] == b"\3\0\0\0":
        return True
    if n == VOTE_STATE_V3_SIZE and any(data[4:118]):
        return True
    return n == VOTE_STATE_V1_14_11_SIZE and any(data[4:86])


def vote_account_decodes(owner, data):
    """VoteAccount::try_from: owned by the vote program and the view parses."""
    return owner == VOTE_PROGRAM and parse_vote_state(data) is not None


# -- stake accounts (ST §6.5) -------------------------------------------------

STAKE_TAG_STAKE = 2
STAKE_META_END = 4 + 120
STAKE_BINCODE_LEN = STAKE_META_END + 72 + 1       # Meta, Stake, StakeFlags


def stake_account_delegation(owner, data):
    """StakeAccount<Delegation>::try_from: the Delegation of a stake-program
    account in state Stake (tag 2), as {voter_pubkey, stake, activation_epoch,
    deactivation_epoch, reserved (the raw 8 bytes)}; None otherwise."""
    if owner != STAKE_PROGRAM or len(data) < 4:
        return None
    tag = struct.unpack_from("<I", data)[0]
    if tag != STAKE_TAG_STAKE or len(data) < STAKE_BINCODE_LEN:
        return None
    o = STAKE_META_END
    stake, act, deact = struct.unpack_from("<QQQ", data, o + 32)
    return {"voter_pubkey": data[o:o + 32], "stake": stake, "activation_epoch": act,
            "deactivation_epoch": deact, "reserved": data[o + 56:o + 64]}


def manifest_delegation(d):
    """A manifest Delegation in the same shape (the f64 as its raw bytes)."""
    return {"voter_pubkey": d["voter_pubkey"], "stake": d["stake"],
            "activation_epoch": d["activation_epoch"], "deactivation_epoch": d["deactivation_epoch"],
            "reserved": f64_bits(d["warmup_cooldown_rate"])}


# -- stake activation, legacy f64 algorithm (ST §1.2) -------------------------

def warmup_cooldown_rate(epoch, new_rate_activation_epoch):
    limit = U64_MAX if new_rate_activation_epoch is None else new_rate_activation_epoch
    return 0.25 if epoch < limit else 0.09


def _effective_and_activating(d, target, history, nrae):
    total = d["stake"]
    act, deact = d["activation_epoch"], d["deactivation_epoch"]
    if act == U64_MAX:                       # bootstrap stake: always effective
        return total, 0
    if act == deact:                         # activated and deactivated at once
        return 0, 0
    if target == act:
        return 0, total
    if target < act:
        return 0, 0
    prev = history.get(act)
    if prev is None:                         # fell out of the history: fully effective
        return total, 0
    prev_epoch, effective = act, 0
    while True:
        cur = prev_epoch + 1
        if prev[1] == 0:                     # nothing was activating
            break
        weight = float(total - effective) / float(prev[1])
        newly = f64_to_u64(weight * (float(prev[0]) * warmup_cooldown_rate(cur, nrae)))
        effective += max(1, newly)
        if effective >= total:
            effective = total
            break
        if cur >= target or cur >= deact:
            break
        nxt = history.get(cur)
        if nxt is None:
            break
        prev_epoch, prev = cur, nxt
    return effective, total - effective


def stake_status(d, target, history, nrae=None):
    """Delegation::stake_activating_and_deactivating: (effective, activating,
    deactivating) at epoch `target`.  history: epoch -> (effective,
    activating, deactivating); looked up by exact epoch (the same as Agave's
    index lookup for the contiguous histories banks keep).  nrae: the epoch
    the 9% warm-up/cool-down rate starts (None: 25% forever)."""
    effective, activating = _effective_and_activating(d, target, history, nrae)
    deact = d["deactivation_epoch"]
    if target < deact:
        return effective, activating, 0
    if target == deact:
        return effective, 0, effective
    prev = history.get(deact)
    if prev is None:
        return 0, 0, 0
    prev_epoch, current = deact, effective
    while True:
        cur = prev_epoch + 1
        if prev[2] == 0:
            break
        weight = float(current) / float(prev[2])
        gone = f64_to_u64(weight * (float(prev[0]) * warmup_cooldown_rate(cur, nrae)))
        current = max(current - max(1, gone), 0)
        if current == 0 or cur >= target:
            break
        nxt = history.get(cur)
        if nxt is None:
            break
        prev_epoch, prev = cur, nxt
    return current, 0, current


def effective_stake(d, target, history, nrae=None):
    return stake_status(d, target, history, nrae)[0]


# -- sysvar decoders (BL §2) ---------------------------------------------------

def decode_clock(data):
    if len(data) < 40:
        raise OracleError(f"Clock: {len(data)} bytes, needs 40")
    slot, epoch_start, epoch, lse, unix = struct.unpack_from("<QqQQq", data)
    return {"slot": slot, "epoch_start_timestamp": epoch_start, "epoch": epoch,
            "leader_schedule_epoch": lse, "unix_timestamp": unix}


def decode_epoch_schedule(data):
    return read_epoch_schedule(Bincode(data, "EpochSchedule sysvar"))


def decode_rent(data):
    r = Bincode(data, "Rent sysvar")
    return {"lamports_per_byte_year": r.u64(), "threshold_bits": r.take(8), "burn_percent": r.u8()}


def decode_list(data, what, item_size, max_items):
    r = Bincode(data, what)
    n = r.u64()
    if n > max_items:
        raise OracleError(f"{what}: {n} entries, more than {max_items}")
    return [r.take(item_size) for _ in range(n)]


def decode_slot_history(data):
    r = Bincode(data, "SlotHistory sysvar")
    words = r.option(lambda: r.seq(r.u64))
    bits = r.u64()
    next_slot = r.u64()
    words = words or []
    if bits > len(words) * 64:
        raise OracleError(f"SlotHistory sysvar: {bits} bits in {len(words)} words")
    return {"words": words, "bits": bits, "next_slot": next_slot}


def slot_history_has(sh, slot):
    """Found: inside [next_slot - bits, next_slot - 1] with its bit set."""
    newest = sh["next_slot"] - 1
    if sh["bits"] == 0 or slot > newest or slot < max(sh["next_slot"] - sh["bits"], 0):
        return False
    i = slot % sh["bits"]
    return (sh["words"][i // 64] >> (i % 64)) & 1 == 1


# -- the checks ----------------------------------------------------------------

def short(pubkey):
    return b58encode(pubkey)


def schedule_fields(es):
    return (es["slots_per_epoch"], es["leader_schedule_slot_offset"], bool(es["warmup"]),
            es["first_normal_epoch"], es["first_normal_slot"])


def rent_fields(rent):
    return (rent["lamports_per_byte_year"], f64_bits(rent["exemption_threshold"]),
            rent["burn_percent"])


class BankCheck:
    """One bank (manifest) over its live accounts."""

    def __init__(self, manifest, live, genesis, checks, warnings):
        self.bank = manifest["bank"]
        self.extra = manifest["extra"]
        self.live = live                        # pubkey -> Record, lamports > 0
        self.genesis = genesis
        self.checks = checks
        self.warnings = warnings
        self.es = self.bank["epoch_schedule"]
        self.slot = self.bank["slot"]
        self.epoch = epoch_of(self.es, self.slot)
        self.lse = leader_schedule_epoch(self.es, self.slot)
        # Agave 4.1+ (the block_id field on the wire) writes epoch 0, a zeroed
        # rent collector and no ancestors (FORMAT §3.3, LC §1.2).
        self.v41 = self.extra["block_id_field"]
        # The merkle era (no lattice hash) kept epoch stakes in the legacy map.
        self.merkle_era = self.extra["accounts_lt_hash"] is None

    def add(self, name, ok, detail):
        self.checks.add(name, ok, detail)

    def run(self):
        self.heights()
        self.schedule()
        self.epoch_field()
        self.genesis_fields()
        self.rent_collector()
        self.ancestors()
        self.epoch_stakes()
        self.stakes_cache()
        self.blockhash_queue()
        self.block_id()
        self.sysvars()

    # max tick height, tick height (LC §1.3, BL §6)
    def heights(self):
        b = self.bank
        want = (self.slot + 1) * b["ticks_per_slot"]
        if self.slot + 1 > U64_MAX or want > U64_MAX:
            self.add("max tick height", False, f"(slot {self.slot} + 1) * ticks_per_slot overflows a u64")
        else:
            self.add("max tick height", b["max_tick_height"] == want,
                     f"max_tick_height {b['max_tick_height']}, (slot {self.slot} + 1) * "
                     f"{b['ticks_per_slot']} ticks = {want}")
        self.add("tick height", b["tick_height"] == b["max_tick_height"],
                 f"tick_height {b['tick_height']}, max_tick_height {b['max_tick_height']} "
                 f"(a snapshot bank is complete)")

    # epoch schedule: EpochSchedule::custom of its own first three fields (Firedancer)
    def schedule(self):
        es = self.es
        if es["slots_per_epoch"] < MIN_SLOTS_PER_EPOCH:
            self.add("epoch schedule", False, f"slots_per_epoch {es['slots_per_epoch']} < 32")
            return
        derived = epoch_schedule_custom(es["slots_per_epoch"], es["leader_schedule_slot_offset"],
                                        es["warmup"])
        self.add("epoch schedule", schedule_fields(es) == schedule_fields(derived),
                 f"first normal epoch/slot {es['first_normal_epoch']}/{es['first_normal_slot']}; "
                 f"custom({es['slots_per_epoch']}, {es['leader_schedule_slot_offset']}, "
                 f"warmup {es['warmup']}) gives {derived['first_normal_epoch']}/"
                 f"{derived['first_normal_slot']}")

    # epoch == get_epoch(slot) (Agave <= 3.x asserts it; 4.1+ writes 0)
    def epoch_field(self):
        got = self.bank["epoch"]
        if got == self.epoch:
            self.add("epoch", True, f"epoch {got}, slot {self.slot} is in epoch {self.epoch}")
        elif self.v41 and got == 0:
            self.add("epoch", None, f"0, as Agave 4.1+ writes it (the block_id field is present); "
                                    f"slot {self.slot} is in epoch {self.epoch}")
        else:
            self.add("epoch", False, f"epoch {got}, but slot {self.slot} is in epoch {self.epoch}")

    # bank fields against genesis.bin (Agave new_from_snapshot, Sig BankFields.validate)
    def genesis_fields(self):
        names = ("genesis creation time", "ticks per slot", "ns per slot", "slots per year",
                 "epoch schedule vs genesis")
        g, b = self.genesis, self.bank
        if g is None:
            for n in names:
                self.add(n, None, "no genesis given (--genesis FILE)")
            return
        self.add("genesis creation time", b["genesis_creation_time"] == g["creation_time"],
                 f"bank {b['genesis_creation_time']}, genesis {g['creation_time']}")
        self.add("ticks per slot", b["ticks_per_slot"] == g["ticks_per_slot"],
                 f"bank {b['ticks_per_slot']}, genesis {g['ticks_per_slot']}")
        ns = g["tick_ns"] * g["ticks_per_slot"]
        self.add("ns per slot", b["ns_per_slot"] == ns,
                 f"bank {b['ns_per_slot']}, genesis {g['tick_ns']} ns x {g['ticks_per_slot']} = {ns}")
        want = years_as_slots(1.0, g["tick_ns"], b["ticks_per_slot"])
        self.add("slots per year", f64_bits(b["slots_per_year"]) == f64_bits(want),
                 f"bank {b['slots_per_year']!r}, years_as_slots(1, {g['tick_ns']} ns, "
                 f"{b['ticks_per_slot']}) = {want!r} (compared bit for bit)")
        self.add("epoch schedule vs genesis",
                 schedule_fields(self.es) == schedule_fields(g["epoch_schedule"]),
                 f"bank {schedule_fields(self.es)}, genesis {schedule_fields(g['epoch_schedule'])}")

    # rent collector: what Agave 3.x builds the bank's rent from
    def rent_collector(self):
        rc = self.bank["rent_collector"]
        zeroed = (rc["epoch"] == 0 and not any(schedule_fields(rc["epoch_schedule"]))
                  and f64_bits(rc["slots_per_year"]) == bytes(8) and rent_fields(rc["rent"]) == (0, bytes(8), 0))
        if self.v41 and zeroed:
            self.add("rent collector", None, "zeroed, as Agave 4.1+ writes it (the Rent sysvar rules)")
            return
        bad = []
        if rc["epoch"] != self.epoch:
            bad.append(f"epoch {rc['epoch']} != {self.epoch}")
        if schedule_fields(rc["epoch_schedule"]) != schedule_fields(self.es):
            bad.append("its epoch schedule differs from the bank's")
        if f64_bits(rc["slots_per_year"]) != f64_bits(self.bank["slots_per_year"]):
            bad.append(f"slots_per_year {rc['slots_per_year']!r} != {self.bank['slots_per_year']!r}")
        rec = self.live.get(SYSVAR_RENT)
        if rec is not None:
            try:
                rent = decode_rent(rec.data)
                if (rent["lamports_per_byte_year"], rent["threshold_bits"], rent["burn_percent"]) \
                        != rent_fields(rc["rent"]):
                    bad.append("its rent differs from the Rent sysvar")
            except OracleError:
                pass                # the Rent sysvar check reports it
        self.add("rent collector", not bad, "; ".join(bad) or
                 "epoch, epoch schedule, slots_per_year and rent agree with the bank")

    # ancestors: <= 8192 (Firedancer), hold the bank's slot (Agave 3.x reads through them)
    def ancestors(self):
        anc = self.bank["ancestors"]
        slots = {s for s, _ in anc}
        if len(anc) > MAX_ANCESTORS:
            self.add("ancestors", False, f"{len(anc)} entries, more than {MAX_ANCESTORS}")
        elif self.slot in slots:
            self.add("ancestors", True, f"{len(anc)} entries, including slot {self.slot}")
        elif not anc and self.v41:
            self.add("ancestors", None, "empty, as Agave 4.1+ writes it (ignored since 4.0)")
        else:
            self.add("ancestors", False, f"{len(anc)} entries, without the bank's slot {self.slot}")

    def epoch_stakes_entries(self):
        entries = list(self.extra["versioned_epoch_stakes"])
        if self.merkle_era:
            entries += list(self.bank["epoch_stakes"])
        return entries

    # legacy map empty, required epochs present, none past lse, <= 6, contiguous;
    # then each entry's totals, node map and authorized voters
    def epoch_stakes(self):
        legacy = self.bank["epoch_stakes"]
        if self.merkle_era:
            self.add("legacy epoch stakes", None,
                     f"merkle era: the legacy map holds the epoch stakes ({len(legacy)} entries)")
        else:
            self.add("legacy epoch stakes", not legacy,
                     f"{len(legacy)} entries (Agave 3.x+ and Firedancer require none)")
        entries = self.epoch_stakes_entries()
        keys = [k for k, _ in entries]
        why = None
        if not keys:
            why = "no epoch stakes at all"
        elif max(keys) > self.lse:
            why = f"epoch {max(keys)} is past the leader schedule epoch {self.lse}"
        elif len(keys) > MAX_EPOCH_STAKES_ENTRIES:
            why = f"{len(keys)} entries, more than {MAX_EPOCH_STAKES_ENTRIES}"
        else:
            missing = [e for e in range(self.epoch, self.lse + 1) if e not in keys]
            gaps = [e for e in range(min(keys), max(keys) + 1) if e not in keys]
            if missing:
                why = f"epoch {missing[0]} missing; {self.epoch} .. {self.lse} are required"
            elif gaps:
                why = f"epochs {min(keys)} .. {max(keys)} are not contiguous (no {gaps[0]})"
        self.add("epoch stakes", why is None,
                 why or f"epochs {sorted(keys)}, required {self.epoch} .. {self.lse}")
        self.epoch_stakes_contents(entries)

    def epoch_stakes_contents(self, entries):
        problems = []
        for key, es in sorted(entries, key=lambda kv: kv[0]):
            votes = es["stakes"]["vote_accounts"]
            total = sum(stake for _, (stake, _) in votes)
            if total != es["total_stake"]:
                problems.append(f"epoch {key}: total_stake {es['total_stake']}, its vote accounts sum to {total}")
            if key == self.lse:
                unstaked = [pk for pk, (stake, _) in votes if stake == 0]
                if unstaked:
                    problems.append(f"epoch {key}: vote account {short(unstaked[0])} has no stake "
                                    f"(Firedancer refuses that in the leader schedule epoch)")
            # What EpochStakes::new derives: staked vote accounts whose state
            # names an authorized voter for the entry's epoch (ST §4.1).
            nodes, voters = {}, {}
            for pk, (stake, acc) in votes:
                if stake == 0 or acc["owner"] != VOTE_PROGRAM:
                    continue
                vs = parse_vote_state(acc["data"])
                if vs is None:
                    continue
                voter = authorized_voter(vs, key)
                if voter is None:
                    continue
                node = nodes.setdefault(vs["node"], [[], 0])
                node[0].append(pk)
                node[1] += stake
                voters[pk] = voter
            want_nodes = {n: (sorted(v), t) for n, (v, t) in nodes.items()}
            got_nodes = {}
            for n, nva in es["node_id_to_vote_accounts"]:
                got_nodes[n] = (sorted(nva["vote_accounts"]), nva["total_stake"])
            got_voters = dict(es["epoch_authorized_voters"])
            if got_nodes != want_nodes or len(es["node_id_to_vote_accounts"]) != len(got_nodes):
                problems.append(f"epoch {key}: the node map differs from the vote states "
                                f"({len(got_nodes)} nodes, {len(want_nodes)} expected)")
            if got_voters != voters or len(es["epoch_authorized_voters"]) != len(got_voters):
                problems.append(f"epoch {key}: the authorized voters differ from the vote states "
                                f"({len(got_voters)}, {len(voters)} expected)")
        self.add("epoch stakes contents", not problems,
                 "; ".join(problems) or f"{len(entries)} entries agree with their vote accounts")

    # stakes cache vs the accounts (Agave Stakes::load_from_deserialized_delegations)
    def stakes_cache(self):
        st = self.bank["stakes"]
        problems = []
        cached = {}
        for pk, (stake, acc) in st["vote_accounts"]:
            if not vote_account_decodes(acc["owner"], acc["data"]):
                # The loader drops what does not deserialize as a vote account.
                self.warnings.append(f"stakes cache: vote account {short(pk)} does not decode; a loader drops it")
                continue
            cached[pk] = stake
            rec = self.live.get(pk)
            if rec is None:
                problems.append(f"vote account {short(pk)} is not in the accounts (VoteAccountNotFound)")
            elif (rec.lamports, rec.data, rec.owner, bool(rec.executable), rec.rent_epoch) != \
                    (acc["lamports"], acc["data"], acc["owner"], acc["executable"], acc["rent_epoch"]):
                problems.append(f"vote account {short(pk)} differs from its account (VoteAccountMismatch)")
        for pk, d in st["stake_delegations"]:
            rec = self.live.get(pk)
            if rec is None:
                problems.append(f"stake account {short(pk)} is not in the accounts (StakeAccountNotFound)")
                continue
            got = stake_account_delegation(rec.owner, rec.data)
            if got is None:
                problems.append(f"stake account {short(pk)} holds no delegation")
                continue
            if got != manifest_delegation(d):
                problems.append(f"stake account {short(pk)}: its delegation differs (InvalidDelegation)")
                continue
            voter = got["voter_pubkey"]
            if voter not in cached:
                vrec = self.live.get(voter)
                if vrec is not None and vote_size_and_initialized(vrec.data) \
                        and vote_account_decodes(vrec.owner, vrec.data):
                    problems.append(f"stake account {short(pk)} delegates to {short(voter)}, a valid "
                                    f"vote account missing from the cache (VoteAccountNotCached)")
        self.add("stakes cache", not problems, "; ".join(problems[:3]) or
                 f"{len(cached)} vote accounts and {len(st['stake_delegations'])} delegations "
                 f"equal their accounts")
        self.recheck_vote_stakes(st, cached)

    def recheck_vote_stakes(self, st, cached):
        """Not a loader rule (a warning only): each cached vote account's stake
        against its delegations' effective stake at the cache's epoch (ST §3.1)."""
        nrae = None
        feat = self.live.get(FEATURE_REDUCE_WARMUP)
        if feat is not None and feat.owner == FEATURE_PROGRAM and feat.data[:1] == b"\1" \
                and len(feat.data) >= 9:
            nrae = epoch_of(self.es, struct.unpack_from("<Q", feat.data, 1)[0])
        history = {e: entry for e, entry in st["stake_history"]}
        sums = {}
        for _, d in st["stake_delegations"]:
            v = d["voter_pubkey"]
            sums[v] = sums.get(v, 0) + effective_stake(d, st["epoch"], history, nrae)
        for pk, stake in cached.items():
            if sums.get(pk, 0) != stake:
                self.warnings.append(
                    f"stakes cache: vote account {short(pk)} has stake {stake}; its delegations' "
                    f"effective stake at epoch {st['epoch']} is {sums.get(pk, 0)}")

    # blockhash queue structure (Firedancer; Agave's bank hash uses last_hash)
    def blockhash_queue(self):
        q = self.bank["blockhash_queue"]
        ages = q["ages"]
        why = None
        indices = sorted(info["hash_index"] for _, info in ages)
        if q["last_hash"] is None:
            why = "no last_hash"
        elif not 1 <= len(ages) <= MAX_BLOCKHASH_QUEUE:
            why = f"{len(ages)} entries, not 1 .. {MAX_BLOCKHASH_QUEUE}"
        elif indices != list(range(indices[0], indices[0] + len(indices))):
            why = "hash indices are not unique and gapless"
        elif indices[-1] != q["last_hash_index"]:
            why = f"newest hash index {indices[-1]}, last_hash_index {q['last_hash_index']}"
        elif max(ages, key=lambda a: a[1]["hash_index"])[0] != q["last_hash"]:
            why = "last_hash is not the newest entry's hash"
        elif len({h for h, _ in ages}) != len(ages):
            why = "a blockhash appears twice"
        self.add("blockhash queue", why is None,
                 why or f"{len(ages)} hashes, indices {indices[0]} .. {indices[-1]}, last_hash the newest")

    def block_id(self):
        bid = self.extra["block_id"]
        if bid is None:
            self.add("block id", None, "absent (written since Agave 4.1)")
        else:
            self.add("block id", bid != ZERO32, f"block_id {b58encode(bid)}")

    # sysvar accounts
    def sysvar_account(self, name, pubkey, size, required):
        """The account, or None after reporting skip (absent) or fail."""
        rec = self.live.get(pubkey)
        if rec is None:
            self.add(name, False if required else None,
                     "absent" + (" (loaders require it)" if required else ""))
            return None
        if rec.owner != SYSVAR_OWNER:
            self.add(name, False, f"owner {short(rec.owner)}, not the sysvar owner")
            return None
        if size is not None and len(rec.data) != size:
            self.add(name, False, f"{len(rec.data)} bytes, not {size}")
            return None
        return rec

    def sysvars(self):
        for check in (self.clock_sysvar, self.slot_hashes_sysvar, self.slot_history_sysvar,
                      self.epoch_schedule_sysvar, self.rent_sysvar, self.stake_history_sysvar,
                      self.recent_blockhashes_sysvar):
            check()

    def clock_sysvar(self):
        rec = self.sysvar_account("Clock sysvar", SYSVAR_CLOCK, None, False)
        if rec is None:
            return
        try:
            c = decode_clock(rec.data)
        except OracleError as exc:
            self.add("Clock sysvar", False, str(exc))
            return
        want = (self.slot, self.epoch, self.lse)
        got = (c["slot"], c["epoch"], c["leader_schedule_epoch"])
        if got != want:
            self.add("Clock sysvar", False, f"slot/epoch/leader schedule epoch {got}, the bank's {want}")
        elif c["unix_timestamp"] < c["epoch_start_timestamp"]:
            self.add("Clock sysvar", False, f"unix_timestamp {c['unix_timestamp']} before "
                                            f"epoch_start_timestamp {c['epoch_start_timestamp']}")
        else:
            self.add("Clock sysvar", True, f"slot/epoch/leader schedule epoch {got}")

    def slot_hashes_sysvar(self):
        rec = self.sysvar_account("SlotHashes sysvar", SYSVAR_SLOT_HASHES, SLOT_HASHES_SIZE, False)
        if rec is None:
            return
        try:
            items = decode_list(rec.data, "SlotHashes", 40, SLOT_HASHES_MAX)
        except OracleError as exc:
            self.add("SlotHashes sysvar", False, str(exc))
            return
        entries = [(struct.unpack_from("<Q", it)[0], it[8:]) for it in items]
        slots = [s for s, _ in entries]
        parent = (self.bank["parent_slot"], self.bank["parent_hash"])
        if any(a <= b for a, b in zip(slots, slots[1:])):
            self.add("SlotHashes sysvar", False, "slots are not strictly newest first")
        elif self.slot != self.bank["parent_slot"] and (not entries or entries[0] != parent):
            newest = f"({entries[0][0]}, {short(entries[0][1])})" if entries else "none"
            self.add("SlotHashes sysvar", False, f"newest entry {newest}, the parent is "
                                                 f"({parent[0]}, {short(parent[1])})")
        else:
            self.add("SlotHashes sysvar", True, f"{len(entries)} entries, newest first, the newest the parent")

    def slot_history_sysvar(self):
        rec = self.sysvar_account("SlotHistory sysvar", SYSVAR_SLOT_HISTORY, SLOT_HISTORY_SIZE, True)
        if rec is None:
            return
        try:
            sh = decode_slot_history(rec.data)
        except OracleError as exc:
            self.add("SlotHistory sysvar", False, str(exc))
            return
        newest = sh["next_slot"] - 1
        if sh["bits"] != SLOT_HISTORY_BITS:
            self.add("SlotHistory sysvar", False, f"{sh['bits']} bits, not 2^20")
        elif newest != self.slot:
            self.add("SlotHistory sysvar", False, f"newest slot {newest}, the bank's {self.slot}")
        elif not slot_history_has(sh, self.slot):
            self.add("SlotHistory sysvar", False, f"the bank's slot {self.slot} is not recorded")
        else:
            recorded = sum(1 for s, _ in self.bank["ancestors"] if s != self.slot and slot_history_has(sh, s))
            self.add("SlotHistory sysvar", True,
                     f"2^20 bits, newest {newest} recorded; {recorded} other ancestors recorded")

    def epoch_schedule_sysvar(self):
        rec = self.sysvar_account("EpochSchedule sysvar", SYSVAR_EPOCH_SCHEDULE, None, False)
        if rec is None:
            return
        try:
            es = decode_epoch_schedule(rec.data)
        except OracleError as exc:
            self.add("EpochSchedule sysvar", False, str(exc))
            return
        self.add("EpochSchedule sysvar", schedule_fields(es) == schedule_fields(self.es),
                 f"sysvar {schedule_fields(es)}, bank {schedule_fields(self.es)}")

    def rent_sysvar(self):
        rec = self.sysvar_account("Rent sysvar", SYSVAR_RENT, None, True)
        if rec is None:
            return
        try:
            rent = decode_rent(rec.data)
        except OracleError as exc:
            self.add("Rent sysvar", False, str(exc))
            return
        threshold = struct.unpack("<d", rent["threshold_bits"])[0]
        rc = self.bank["rent_collector"]
        rc_rent = rent_fields(rc["rent"])
        got = (rent["lamports_per_byte_year"], rent["threshold_bits"], rent["burn_percent"])
        if not math.isfinite(threshold) or threshold < 0 or rent["burn_percent"] > 100:
            self.add("Rent sysvar", False, f"threshold {threshold!r}, burn {rent['burn_percent']}%: out of range")
        elif rc_rent != (0, bytes(8), 0) and got != rc_rent:
            self.add("Rent sysvar", False,
                     f"{rent['lamports_per_byte_year']} lamports/byte-year, threshold {threshold!r}, burn "
                     f"{rent['burn_percent']}%; the rent collector's: {rc['rent']['lamports_per_byte_year']}, "
                     f"{rc['rent']['exemption_threshold']!r}, {rc['rent']['burn_percent']}%")
        else:
            self.add("Rent sysvar", True, f"{rent['lamports_per_byte_year']} lamports/byte-year, "
                                          f"threshold {threshold!r}, burn {rent['burn_percent']}%")

    def stake_history_sysvar(self):
        rec = self.sysvar_account("StakeHistory sysvar", SYSVAR_STAKE_HISTORY, STAKE_HISTORY_SIZE, False)
        if rec is None:
            return
        try:
            items = decode_list(rec.data, "StakeHistory", 32, STAKE_HISTORY_MAX)
        except OracleError as exc:
            self.add("StakeHistory sysvar", False, str(exc))
            return
        got = [struct.unpack("<QQQQ", it) for it in items]
        want = [(e, eff, act, deact) for e, (eff, act, deact) in self.bank["stakes"]["stake_history"]]
        want = want[:STAKE_HISTORY_MAX]
        self.add("StakeHistory sysvar", got == want,
                 f"{len(got)} entries, the bank's stake history {len(want)}" +
                 ("" if got == want else ": they differ"))

    def recent_blockhashes_sysvar(self):
        rec = self.sysvar_account("RecentBlockhashes sysvar", SYSVAR_RECENT_BLOCKHASHES,
                                  RECENT_BLOCKHASHES_SIZE, False)
        if rec is None:
            return
        try:
            items = decode_list(rec.data, "RecentBlockhashes", 40, RECENT_BLOCKHASHES_MAX)
        except OracleError as exc:
            self.add("RecentBlockhashes sysvar", False, str(exc))
            return
        got = [(it[:32], struct.unpack_from("<Q", it, 32)[0]) for it in items]
        # Agave pops the queue's (hash_index, hash, fee) triples from a max-heap.
        triples = sorted(((info["hash_index"], h, info["lamports_per_signature"])
                          for h, info in self.bank["blockhash_queue"]["ages"]), reverse=True)
        want = [(h, fee) for _, h, fee in triples[:RECENT_BLOCKHASHES_MAX]]
        self.add("RecentBlockhashes sysvar", got == want,
                 f"{len(got)} entries, the queue's newest {len(want)}" +
                 ("" if got == want else ": they differ"))


def bank_checks(manifest, live, genesis, checks, warnings):
    BankCheck(manifest, live, genesis, checks, warnings).run()


# ---------------------------------------------------------------------------
# Verification of one bank state (a full alone, or full + incremental).
# ---------------------------------------------------------------------------

class Checks:
    def __init__(self):
        self.results = {}       # name -> True / False / None (skipped)
        self.details = {}       # name -> text

    def add(self, name, ok, detail):
        self.results[name] = ok
        self.details[name] = detail


def evaluate(archive, files, incremental_files=None, full=None, genesis=None):
    """Recompute everything for the bank state described by `archive`'s
    manifest over the account files `files` (slot -> parsed file).  For an
    incremental, `full` is the full archive and `incremental_files` are the
    incremental's files with slot > full slot.  genesis: the parsed
    genesis.bin, or None to skip the checks that need it."""
    manifest = archive.manifest
    bank = manifest["bank"]
    adb = manifest["accounts_db"]
    extra = manifest["extra"]
    name = archive.name
    checks = Checks()

    live = live_set(files)
    live_records = sorted(live.values(), key=lambda rec: rec.pubkey)
    capitalization = sum(rec.lamports for rec in live_records)
    data_len = sum(len(rec.data) for rec in live_records)

    # -- slot consistency (§1.2 manifest path, §1.3 name, §3.5 accounts-db slot and storages)
    problems = []
    if adb["slot"] != bank["slot"]:
        problems.append(f"accounts-db slot {adb['slot']} != bank slot {bank['slot']}")
    if archive.manifest_path_slot != bank["slot"]:
        problems.append(f"manifest path snapshots/{archive.manifest_path_slot}/.. != bank slot {bank['slot']}")
    if name.slot is not None and name.slot != bank["slot"]:
        problems.append(f"archive name slot {name.slot} != bank slot {bank['slot']}")
    too_new = [s for s in list(adb["storages"]) + list(archive.files) if s > bank["slot"]]
    if too_new:
        problems.append(f"storage slot {max(too_new)} above the snapshot slot {bank['slot']}")
    checks.add("slot", not problems, "; ".join(problems) or f"slot {bank['slot']}")

    # -- incremental base slot (§1.4)
    if full is not None:
        if name.base_slot is None:
            checks.add("base_slot", None, "incremental name carries no base slot")
        else:
            checks.add("base_slot", name.base_slot == full.slot,
                       f"incremental base slot {name.base_slot}, full slot {full.slot}")

    # -- capitalization and accounts_data_len (§3.3 fields 10 and 17, §7)
    checks.add("capitalization", bank["capitalization"] == capitalization,
               f"manifest {bank['capitalization']}, recomputed {capitalization}")
    checks.add("accounts_data_len", bank["accounts_data_len"] == data_len,
               f"manifest {bank['accounts_data_len']}, recomputed {data_len}")

    # -- lattice hash (§5) and era (§1.3)
    manifest_lt = extra["accounts_lt_hash"]
    lt_current = lt_sum(live_records, "current")
    checksum = lt_checksum(lt_current)
    lt_legacy = None
    lt_formula = None
    if manifest_lt is not None:
        if lt_current == manifest_lt:
            lt_formula = "current"
        else:
            lt_legacy = lt_sum(live_records, "legacy")
            if lt_legacy == manifest_lt:
                lt_formula = "legacy"

    def merkle_expected():
        """What a merkle-era name holds: the (incremental) accounts hash, mixed
        with the epoch accounts hash when one was serialized (§1.3, §6)."""
        if incremental_files is not None:
            h, leaves = merkle_incremental_hash(incremental_files)
        else:
            h, leaves = merkle_full_hash(files)
        eah = extra["epoch_accounts_hash"]
        return h, (sha256(h + eah) if eah is not None else h), leaves

    merkle_hash = None
    if manifest_lt is None:
        era = "merkle"
    elif name.hash is None or name.hash == blake3_256(manifest_lt):
        era = "lattice"
    else:
        # The name is not the lattice checksum: a transitional archive names
        # itself by the merkle hash (§1.3).
        merkle_hash, expected, merkle_leaves = merkle_expected()
        era = "merkle" if name.hash == expected else "lattice"
    if era == "merkle" and merkle_hash is None:
        merkle_hash, expected, merkle_leaves = merkle_expected()

    manifest_checksum = lt_checksum(manifest_lt) if manifest_lt is not None else None
    if manifest_lt is None:
        checks.add("lt_hash", None, "manifest has no accounts_lt_hash")
    elif era == "lattice":
        if lt_formula == "current":
            checks.add("lt_hash", True, f"accounts_lt_hash checksum {checksum}")
        else:
            extra_note = " (it matches only the legacy formula with rent_epoch)" if lt_formula == "legacy" else ""
            checks.add("lt_hash", False,
                       f"manifest accounts_lt_hash (checksum {manifest_checksum}) != recomputed "
                       f"(checksum {checksum}){extra_note}")
    else:
        if lt_formula is not None:
            checks.add("lt_hash", True, f"manifest accounts_lt_hash matches the {lt_formula} formula")
        else:
            checks.add("lt_hash", False,
                       f"manifest accounts_lt_hash (checksum {manifest_checksum}) matches neither the "
                       f"current (checksum {checksum}) nor the legacy formula "
                       f"(checksum {lt_checksum(lt_legacy)})")

    # -- archive name hash (§1.3)
    if name.hash is None:
        checks.add("name", None, "archive name carries no hash")
    elif era == "lattice":
        checks.add("name", name.hash == blake3_256(lt_current),
                   f"name {name.hash_text}, recomputed lattice checksum {checksum}")
    else:
        what = "incremental merkle hash" if incremental_files is not None else "merkle hash"
        if extra["epoch_accounts_hash"] is not None:
            what += " mixed with the epoch accounts hash"
        checks.add("name", name.hash == expected,
                   f"name {name.hash_text}, recomputed {what} {b58encode(expected)} "
                   f"over {merkle_leaves} accounts")

    # -- bank hash (§9, lattice era only)
    if era == "lattice" and manifest_lt is not None:
        recomputed = bank_hash(bank, manifest_lt)
        checks.add("bank_hash", recomputed == bank["hash"],
                   f"manifest {b58encode(bank['hash'])}, recomputed {b58encode(recomputed)}")
    else:
        checks.add("bank_hash", None, "merkle-era bank hash formula is not specified")

    # -- incremental_snapshot_persistence (§3.6 ExtraFields 2, merkle era):
    #    full slot/hash/capitalization and the incremental hash/capitalization
    #    (the lamport sum of the latest versions in the incremental's storages).
    persistence = extra["incremental_snapshot_persistence"]
    if full is not None and persistence is not None:
        inc_latest = latest_versions(incremental_files).values()
        expect = {
            "full_slot": full.slot,
            "full_hash": merkle_full_hash(full.files)[0],
            "full_capitalization": sum(rec.lamports for rec in live_set(full.files).values()),
            "incremental_hash": merkle_incremental_hash(incremental_files)[0],
            "incremental_capitalization": sum(rec.lamports for rec in inc_latest),
        }
        wrong = [k for k in expect if persistence[k] != expect[k]]
        checks.add("persistence", not wrong,
                   "incremental_snapshot_persistence " +
                   (("mismatch in " + ", ".join(wrong)) if wrong else "matches"))

    # -- status cache (§4)
    try:
        deltas, trailing = parse_status_cache(archive.status_cache_raw)
        problem = check_status_cache(deltas, bank["slot"])
        if trailing:
            archive.warnings.append(f"status cache: {trailing} trailing bytes")
        checks.add("status_cache", problem is None, problem or f"{len(deltas)} slot deltas")
    except OracleError as exc:
        checks.add("status_cache", False, str(exc))

    # -- the bank checks loaders apply (see "Bank checks" above)
    bank_checks(manifest, live, genesis, checks, archive.warnings)

    return {
        "path": archive.path,
        "slot": bank["slot"],
        "base_slot": full.slot if full is not None else None,
        "era": era,
        "live_count": len(live_records),
        "capitalization": capitalization,
        "accounts_data_len": data_len,
        "lt_checksum": checksum,
        "lt_formula": lt_formula,
        "merkle_hash": b58encode(merkle_hash) if merkle_hash is not None else None,
        "name_hash": name.hash_text,
        "manifest": {
            "capitalization": bank["capitalization"],
            "accounts_data_len": bank["accounts_data_len"],
            "lt_checksum": manifest_checksum,
            "bank_hash": b58encode(bank["hash"]),
            "storages": len(adb["storages"]),
        },
        "checks": checks.results,
        "details": checks.details,
        "_live": live_records,
    }


def failures(report):
    return [f"{name}: {report['details'][name]}" for name, ok in report["checks"].items() if ok is False]


def warn_unlisted_storages(archive, belongs_here):
    """Storages the manifest lists (and that this archive should carry) but
    whose account file is absent.  Only a warning: §2.2 lets the tar decide."""
    for slot in sorted(archive.manifest["accounts_db"]["storages"]):
        if belongs_here(slot) and slot not in archive.files:
            file_id = archive.manifest["accounts_db"]["storages"][slot][0]
            archive.warnings.append(f"manifest lists storage {slot}.{file_id} but the archive has no such file")


def verify(full_path, incr_path=None, genesis=None):
    full = Archive(full_path)
    if full.name.kind == "incremental":
        raise OracleError(f"{full_path}: first argument must be a full snapshot, this name is an incremental one")
    warn_unlisted_storages(full, lambda slot: True)
    full_report = evaluate(full, full.files, genesis=genesis)
    full_report["warnings"] = full.warnings
    if incr_path is None:
        report = full_report
    else:
        inc = Archive(incr_path)
        if inc.name.kind == "full":
            raise OracleError(f"{incr_path}: second argument must be an incremental snapshot")
        # §7: the full's files plus the incremental's files with slot > full slot.
        inc_files = {}
        for slot, f in inc.files.items():
            if slot > full.slot:
                inc_files[slot] = f
            else:
                inc.warnings.append(f"accounts/{slot}.{f['id']} of the incremental is at or below "
                                    f"the full slot {full.slot}: ignored (§7)")
        warn_unlisted_storages(inc, lambda slot: slot > full.slot)
        combined = dict(full.files)
        combined.update(inc_files)
        report = evaluate(inc, combined, incremental_files=inc_files, full=full, genesis=genesis)
        report["warnings"] = inc.warnings
        report["full"] = full_report
    all_failures = failures(report)
    if "full" in report:
        all_failures += ["full snapshot " + f for f in failures(report["full"])]
    report["ok"] = not all_failures
    report["failures"] = all_failures
    return report


# ---------------------------------------------------------------------------
# Output.
# ---------------------------------------------------------------------------

def public(report):
    """The JSON view of a report (live records removed)."""
    out = {k: v for k, v in report.items() if not k.startswith("_")}
    if "full" in out:
        out["full"] = public(out["full"])
    return out


def account_line(rec):
    return {"pubkey": b58encode(rec.pubkey), "lamports": rec.lamports, "owner": b58encode(rec.owner),
            "executable": bool(rec.executable), "rent_epoch": rec.rent_epoch, "data_len": len(rec.data),
            "slot": rec.slot, "data": base64.b64encode(rec.data).decode()}


def print_human(report, indent=""):
    label = {True: "ok", False: "FAIL", None: "skipped"}
    print(f"{indent}archive:           {os.path.basename(report['path'])}")
    slot_text = f"{report['slot']}" + (f" (base {report['base_slot']})" if report["base_slot"] is not None else "")
    print(f"{indent}slot:              {slot_text}")
    print(f"{indent}era:               {report['era']}")
    print(f"{indent}live accounts:     {report['live_count']}")
    print(f"{indent}capitalization:    {report['capitalization']}")
    print(f"{indent}accounts_data_len: {report['accounts_data_len']}")
    print(f"{indent}lt checksum:       {report['lt_checksum']} (formula matching the manifest: {report['lt_formula']})")
    if report["merkle_hash"] is not None:
        print(f"{indent}merkle hash:       {report['merkle_hash']}")
    print(f"{indent}name hash:         {report['name_hash']}")
    print(f"{indent}checks:")
    for name, ok in report["checks"].items():
        print(f"{indent}  {name:<26} {label[ok]:<8} {report['details'][name]}")
    for w in report.get("warnings", []):
        print(f"{indent}warning: {w}")


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Independent reference reader for Agave snapshot archives (see tests/oracle/README.md).")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a summary")
    parser.add_argument("--list", action="store_true",
                        help="also print one JSON line per live account, sorted by pubkey bytes")
    parser.add_argument("--genesis", metavar="FILE",
                        help="the cluster's genesis.bin: enables the bank checks against genesis")
    parser.add_argument("full", metavar="FULL_ARCHIVE")
    parser.add_argument("incremental", metavar="INCREMENTAL_ARCHIVE", nargs="?")
    args = parser.parse_args(argv)

    try:
        genesis = load_genesis(args.genesis) if args.genesis else None
        report = verify(args.full, args.incremental, genesis)
    except OracleError as exc:
        print(f"oracle: error: {exc}", file=sys.stderr)
        if args.json:
            print(json.dumps({"ok": False, "error": str(exc)}))
        return 2
    except Exception as exc:   # a bug here, not bad input: still no traceback
        print(f"oracle: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        if os.environ.get("ORACLE_DEBUG"):
            raise
        if args.json:
            print(json.dumps({"ok": False, "error": f"internal error: {exc}"}))
        return 3

    if args.json:
        print(json.dumps(public(report)))
    else:
        if "full" in report:
            print("full snapshot:")
            print_human(report["full"], indent="  ")
            print("full + incremental:")
            print_human(report, indent="  ")
        else:
            print_human(report)
        print("RESULT: " + ("OK" if report["ok"] else "FAILED"))
    if args.list:
        for rec in report["_live"]:
            print(json.dumps(account_line(rec)))
    for f in report["failures"]:
        print(f"oracle: check failed: {f}", file=sys.stderr)
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

// tests/kit/test.mjs - acctdb's JSON-RPC server through @solana/kit's
// createSolanaRpc, the client most new Solana code uses.
//
//   node test.mjs [ACCTDB_BINARY]     (tests/kit/run.sh: npm ci, then this)
//
// Databases are created from the bundled archives with `acctdb db create`
// (the 4.2 fixture; the 3.x pair, whose accounts carry u64::MAX rent epochs;
// the 3.x pair plus a seeded `acctdb db workload`, for SPL token accounts),
// each served by `acctdb serve DIR --rpc-addr 127.0.0.1:0`.  Answers are
// checked against the fixture's own JSON, against `acctdb snapshot ls` on
// the archives, and against `acctdb db scan` run before serving.  Kit parses
// integers as BigInt, so every u64 is compared exactly.

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, copyFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 18)) {
    console.error(`kit: node ${process.versions.node} is too old: @solana/kit needs >= 20.18`);
    process.exit(1);
}

const { createSolanaRpc, address, getBase58Encoder, isSolanaError } = await import('@solana/kit');

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const data = join(root, 'tests', 'data');
const bin = resolve(process.argv[2] || join(root, 'build', 'release', 'acctdb'));
const V42 = join(data, 'test-snapshot-v4.2.0-beta.1.tar.zst');
const V42_JSON = join(data, 'test-snapshot-v4.2.0-beta.1.json');
const V3_FULL = 'snapshot-1-5pgMpQj4MZYWauD1VnoNfmGAdUQCe6VVCSCQMNbDoxf7.tar.zst';
const V3_INC = 'incremental-snapshot-1-4-43FT6mnmRW9XbxpCzqH3ogYexHXboG7d8vmf3gBLvLrR.tar.zst';
const SYSTEM = '11111111111111111111111111111111';
const VOTE = 'Vote111111111111111111111111111111111111111';
const SYSVAR = 'Sysvar1111111111111111111111111111111111111';
const TOKEN = 'TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA';
const U64_MAX = 2n ** 64n - 1n;

// ---- helpers -----------------------------------------------------------------

const b58 = getBase58Encoder(); // base58 text -> bytes
const fromB58 = (s) => Buffer.from(b58.encode(s));
const fromB64 = (s) => Buffer.from(s, 'base64');
const fromZstd = (s) => execFileSync('zstd', ['-d', '-c', '-q'], { input: fromB64(s) });

// JSON lines with integers kept exact (numbers of 16+ digits become BigInt).
function parseExact(line) {
    const quoted = line.replace(/([:\[,])\s*(\d{16,})(?=[,\]}])/g, '$1"__big$2"');
    return JSON.parse(quoted, (k, v) =>
        typeof v === 'string' && v.startsWith('__big') ? BigInt(v.slice(5)) : v,
    );
}
const big = (v) => (typeof v === 'bigint' ? v : BigInt(v));

// The bytes of an account's data in whatever encoding it came back in.
function decoded(d) {
    if (typeof d === 'string') return fromB58(d); // legacy binary
    const [text, enc] = d;
    if (enc === 'base58') return fromB58(text);
    if (enc === 'base64') return fromB64(text);
    if (enc === 'base64+zstd') return fromZstd(text);
    throw new Error(`unexpected encoding ${enc}`);
}

// loose: the answer went through JSON.parse (Kit parses with BigInt only
// for the methods it knows), so integers past 2^53 are compared as doubles.
function checkAccount(got, want, what, loose = false) {
    assert.equal(got.lamports, big(want.lamports), `${what}: lamports`);
    assert.equal(got.owner, want.owner, `${what}: owner`);
    assert.equal(got.executable, want.executable, `${what}: executable`);
    if (loose) assert.equal(Number(got.rentEpoch), Number(want.rent_epoch), `${what}: rentEpoch`);
    else assert.equal(got.rentEpoch, big(want.rent_epoch), `${what}: rentEpoch`);
    assert.equal(got.space, big(want.data_len), `${what}: space`);
    assert.ok(decoded(got.data).equals(want.bytes), `${what}: data`);
}

async function rpcError(promise) {
    try {
        await promise;
    } catch (e) {
        if (isSolanaError(e)) return e;
        throw e;
    }
    assert.fail('expected an RPC error');
}

let passed = 0;
let failed = 0;
async function check(name, fn) {
    const t0 = Date.now();
    try {
        await fn();
        passed++;
        console.log(`ok     ${name} (${Date.now() - t0} ms)`);
    } catch (e) {
        failed++;
        console.log(`FAILED ${name}: ${e && e.stack ? e.stack : e}`);
    }
}

function run(args, opts = {}) {
    return execFileSync(bin, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
}

const servers = [];
function serve(dir, extra = []) {
    return new Promise((resolveUrl, reject) => {
        const p = spawn(bin, ['serve', dir, '--rpc-addr', '127.0.0.1:0', ...extra], {
            stdio: ['ignore', 'pipe', 'pipe'],
        });
        servers.push(p);
        let out = '';
        let err = '';
        const timer = setTimeout(() => reject(new Error(`serve ${dir}: no address in 30 s: ${out}${err}`)), 30000);
        p.stdout.on('data', (b) => {
            out += b;
            const m = out.match(/listening: (http:\/\/[0-9.]+:\d+)/);
            if (m) {
                clearTimeout(timer);
                resolveUrl(m[1]);
            }
        });
        p.stderr.on('data', (b) => (err += b));
        p.on('exit', (code) => {
            clearTimeout(timer);
            reject(new Error(`serve ${dir} exited with ${code}: ${out}${err}`));
        });
    });
}

// ---- the databases ---------------------------------------------------------------

const tmp = mkdtempSync(join(tmpdir(), 'acctdb-kit-'));
let exitCode = 1;
try {
    const dbV42 = join(tmp, 'v42');
    const dbV3 = join(tmp, 'v3');
    const dbWork = join(tmp, 'work');
    const snaps = join(tmp, 'snaps');
    run(['db', 'create', '--quiet', dbV42, '--from', V42]);
    run(['db', 'create', '--quiet', dbV3, '--from', join(data, V3_FULL), join(data, V3_INC)]);
    run(['db', 'create', '--quiet', dbWork, '--from', join(data, V3_FULL), join(data, V3_INC)]);
    run(['db', 'workload', dbWork, '--quiet', '--slots', '12', '--stores-min', '60', '--stores-max', '90',
        '--new-frac', '0.8', '--root-lag', '1', '--seed', '7']);
    mkdirSync(snaps);
    copyFileSync(join(data, V3_FULL), join(snaps, V3_FULL));
    copyFileSync(join(data, V3_INC), join(snaps, V3_INC));

    // References, read before serving (a served database is locked).
    const fixture = JSON.parse(readFileSync(V42_JSON, 'utf8'));
    const v42Accounts = fixture.accounts.live_indices.map((i) => {
        const e = fixture.accounts.entries[i];
        return { ...e, bytes: Buffer.from(e.data_hex, 'hex') };
    });
    const lsLines = run(['snapshot', 'ls', '--quiet', join(data, V3_FULL), join(data, V3_INC)])
        .split('\n')
        .filter(Boolean)
        .map(parseExact);
    const v3Accounts = lsLines
        .map((a) => ({ ...a, bytes: fromB64(a.data) }))
        .sort((a, b) => Buffer.compare(fromB58(a.pubkey), fromB58(b.pubkey)));
    const tokenLines = run(['db', 'scan', dbWork, '--owner', TOKEN, '--data-size', '165'])
        .split('\n')
        .filter(Boolean)
        .map(parseExact)
        .filter((a) => a.pubkey);
    assert.ok(tokenLines.length > 10, 'the workload made token accounts');
    // A wallet with at least two token accounts.
    const byWallet = new Map();
    for (const a of tokenLines) {
        const bytes = fromB64(a.data);
        if (bytes[108] !== 1 && bytes[108] !== 2) continue;
        const w = b58Text(bytes.subarray(32, 64));
        byWallet.set(w, [...(byWallet.get(w) || []), { ...a, bytes }]);
    }
    const [wallet, walletAccounts] = [...byWallet.entries()].sort((a, b) => b[1].length - a[1].length)[0];

    const [urlV42, urlV3, urlWork] = await Promise.all([
        serve(dbV42),
        serve(dbV3, ['--snapshots', snaps]),
        serve(dbWork),
    ]);
    const rpc42 = createSolanaRpc(urlV42);
    const rpc3 = createSolanaRpc(urlV3);
    const rpcWork = createSolanaRpc(urlWork);

    // ---- the checks ------------------------------------------------------------------

    await check('getHealth, getVersion', async () => {
        assert.equal(await rpc42.getHealth().send(), 'ok');
        const v = await rpc42.getVersion().send();
        assert.equal(typeof v['solana-core'], 'string');
    });

    await check('getSlot under each commitment', async () => {
        for (const commitment of [undefined, 'processed', 'confirmed', 'finalized']) {
            assert.equal(await rpc42.getSlot(commitment ? { commitment } : {}).send(), 100n);
            assert.equal(await rpc3.getSlot(commitment ? { commitment } : {}).send(), 4n);
        }
    });

    await check('getHighestSnapshotSlot', async () => {
        assert.deepEqual(await rpc3.getHighestSnapshotSlot().send(), { full: 1n, incremental: 4n });
        const e = await rpcError(rpc42.getHighestSnapshotSlot().send());
        assert.equal(e.context.__code, -32008);
    });

    await check('getAccountInfo: the 4.2 fixture in every encoding', async () => {
        for (const want of v42Accounts) {
            for (const encoding of [undefined, 'base58', 'base64', 'base64+zstd', 'jsonParsed']) {
                const call = rpc42.getAccountInfo(address(want.pubkey), encoding ? { encoding } : {}).send();
                if ((encoding === undefined || encoding === 'base58') && want.data_len > 128) {
                    const e = await rpcError(call);
                    assert.equal(e.context.__code, -32600);
                    continue;
                }
                const { context, value } = await call;
                assert.equal(context.slot, 100n);
                checkAccount(value, want, `${want.pubkey} ${encoding}`);
                if (encoding === undefined) assert.equal(typeof value.data, 'string');
                else assert.equal(value.data[1], encoding === 'jsonParsed' ? 'base64' : encoding);
            }
            // dataSlice applies before encoding.
            const { value } = await rpc42
                .getAccountInfo(address(want.pubkey), { encoding: 'base64', dataSlice: { offset: 2n, length: 5n } })
                .send();
            assert.ok(fromB64(value.data[0]).equals(want.bytes.subarray(2, 7)));
        }
        const { value } = await rpc42.getAccountInfo(address('11111111111111111111111111111112')).send();
        assert.equal(value, null);
    });

    await check('getAccountInfo and getBalance: the 3.x pair, u64::MAX rent epochs', async () => {
        let maxEpochs = 0;
        for (const want of v3Accounts) {
            const { context, value } = await rpc3
                .getAccountInfo(address(want.pubkey), { encoding: 'base64+zstd', commitment: 'finalized' })
                .send();
            assert.equal(context.slot, 4n);
            checkAccount(value, want, want.pubkey);
            if (value.rentEpoch === U64_MAX) maxEpochs++;
            const bal = await rpc3.getBalance(address(want.pubkey)).send();
            assert.equal(bal.value, big(want.lamports));
        }
        assert.ok(maxEpochs >= 6, `u64::MAX rent epochs seen: ${maxEpochs}`);
    });

    await check('getMultipleAccounts: order kept, null for missing', async () => {
        const keys = [...v3Accounts.map((a) => a.pubkey).reverse(), '11111111111111111111111111111112'];
        const { value } = await rpc3.getMultipleAccounts(keys.map(address), { encoding: 'base64' }).send();
        assert.equal(value.length, keys.length);
        v3Accounts
            .slice()
            .reverse()
            .forEach((want, i) => checkAccount(value[i], want, want.pubkey));
        assert.equal(value[keys.length - 1], null);
        const e = await rpcError(
            rpc3.getMultipleAccounts(Array(101).fill(address(SYSTEM)), { encoding: 'base64' }).send(),
        );
        assert.equal(e.context.__code, -32602);
    });

    await check('getProgramAccounts: with and without filters, dataSlice, withContext', async () => {
        const votes = v42Accounts
            .filter((a) => a.owner === VOTE)
            .sort((a, b) => Buffer.compare(fromB58(a.pubkey), fromB58(b.pubkey)));
        const all = await rpc42.getProgramAccounts(address(VOTE), { encoding: 'base64' }).send();
        assert.deepEqual(all.map((e) => e.pubkey), votes.map((a) => a.pubkey));
        all.forEach((e, i) => checkAccount(e.account, votes[i], e.pubkey));
        // memcmp (base58 and base64) and dataSize pick the second one.
        for (const memcmp of [
            { offset: 4n, bytes: 'Bxc', encoding: 'base58' },
            { offset: 4n, bytes: 'kAE=', encoding: 'base64' },
        ]) {
            const one = await rpc42
                .getProgramAccounts(address(VOTE), {
                    encoding: 'base64+zstd',
                    filters: [{ dataSize: 274n }, { memcmp }],
                })
                .send();
            assert.deepEqual(one.map((e) => e.pubkey), ['Fe3xYB5NoFZftJ3zXZsXR16B32YPrtHcZBCgzeTUZhNc']);
            checkAccount(one[0].account, votes[1], 'memcmp');
        }
        const none = await rpc42
            .getProgramAccounts(address(VOTE), { encoding: 'base64', filters: [{ dataSize: 275n }] })
            .send();
        assert.equal(none.length, 0);
        const ctx = await rpc42
            .getProgramAccounts(address(VOTE), {
                encoding: 'base58',
                withContext: true,
                dataSlice: { offset: 0n, length: 8n },
            })
            .send();
        assert.equal(ctx.context.slot, 100n);
        ctx.value.forEach((e, i) => assert.ok(fromB58(e.account.data[0]).equals(votes[i].bytes.subarray(0, 8))));
        // Every encoding over the 3.x pair's system accounts.
        const sys = v3Accounts.filter((a) => a.owner === SYSTEM);
        for (const encoding of [undefined, 'base58', 'base64', 'base64+zstd', 'jsonParsed']) {
            const got = await rpc3.getProgramAccounts(address(SYSTEM), encoding ? { encoding } : {}).send();
            assert.deepEqual(got.map((e) => e.pubkey), sys.map((a) => a.pubkey));
            got.forEach((e, i) => checkAccount(e.account, sys[i], `${e.pubkey} ${encoding}`));
        }
        // A response over the base58 limit is refused with Agave's code.
        const e = await rpcError(rpc3.getProgramAccounts(address(SYSVAR)).send());
        assert.equal(e.context.__code, -32600);
    });

    await check('getProgramAccounts: limit and paginationKey until null', async () => {
        const sys = v3Accounts.filter((a) => a.owner === SYSTEM);
        for (const method of ['getProgramAccounts', 'getProgramAccountsV2']) {
            const seen = [];
            let paginationKey;
            for (let page = 0; page < 32; page++) {
                // (limit is not in Kit's types: a plain number, as a client would send it)
                const r = await rpc3[method](address(SYSTEM), {
                    encoding: 'base64',
                    limit: 2,
                    ...(paginationKey ? { paginationKey } : {}),
                }).send();
                assert.ok(r.accounts.length <= 2);
                for (const e of r.accounts) {
                    checkAccount(e.account, sys[seen.length], e.pubkey, method !== 'getProgramAccounts');
                    seen.push(e.pubkey);
                }
                paginationKey = r.paginationKey;
                if (paginationKey === null) break;
            }
            assert.equal(paginationKey, null);
            assert.deepEqual(seen, sys.map((a) => a.pubkey));
        }
    });

    await check('getTokenAccountsByOwner', async () => {
        const want = walletAccounts.sort((a, b) => Buffer.compare(fromB58(a.pubkey), fromB58(b.pubkey)));
        for (const encoding of ['base64', 'base64+zstd']) {
            const { context, value } = await rpcWork
                .getTokenAccountsByOwner(address(wallet), { programId: address(TOKEN) }, { encoding })
                .send();
            assert.ok(context.slot > 4n);
            assert.deepEqual(value.map((e) => e.pubkey), want.map((a) => a.pubkey));
            value.forEach((e, i) => checkAccount(e.account, want[i], e.pubkey));
        }
        // By mint: the accounts of the first one's mint.
        const mint = b58Text(want[0].bytes.subarray(0, 32));
        // (the workload's mints are keys without accounts: Agave's answer)
        const e = await rpcError(
            rpcWork.getTokenAccountsByOwner(address(wallet), { mint: address(mint) }, { encoding: 'base64' }).send(),
        );
        assert.equal(e.context.__code, -32602);
        // jsonParsed leaves out accounts whose mint cannot be read.
        const parsed = await rpcWork
            .getTokenAccountsByOwner(address(wallet), { programId: address(TOKEN) }, { encoding: 'jsonParsed' })
            .send();
        assert.equal(parsed.value.length, 0);
        // A lone getAccountInfo falls back to base64 of the whole data.
        const one = await rpcWork.getAccountInfo(address(want[0].pubkey), { encoding: 'jsonParsed' }).send();
        checkAccount(one.value, want[0], 'jsonParsed fallback');
        assert.equal(one.value.data[1], 'base64');
    });

    await check('getMinimumBalanceForRentExemption', async () => {
        assert.equal(await rpc3.getMinimumBalanceForRentExemption(165n).send(), 2039280n);
        assert.equal(await rpc3.getMinimumBalanceForRentExemption(0n).send(), 890880n);
    });

    await check('minContextSlot: -32016', async () => {
        // (Kit refuses integers past 2^53 in requests; its own test sends
        // 2^63 - 1 with that check off.)
        const e = await rpcError(
            rpc3.getAccountInfo(address(SYSTEM), { minContextSlot: BigInt(Number.MAX_SAFE_INTEGER) }).send(),
        );
        assert.equal(e.context.__code, -32016);
        const e2 = await rpcError(rpc3.getSlot({ minContextSlot: 5n }).send());
        assert.equal(e2.context.__code, -32016);
        assert.equal(await rpc3.getSlot({ minContextSlot: 4n }).send(), 4n);
    });

    console.log(`${passed} passed, ${failed} failed`);
    exitCode = failed ? 1 : 0;
} catch (e) {
    console.log(`FAILED setup: ${e && e.stack ? e.stack : e}`);
    console.log(`${passed} passed, ${failed + 1} failed`);
} finally {
    for (const p of servers) if (p.exitCode === null) p.kill('SIGTERM');
    await Promise.all(
        servers.map((p) => (p.exitCode === null ? new Promise((r) => p.once('exit', r)) : null)),
    );
    rmSync(tmp, { recursive: true, force: true });
}
process.exit(exitCode);

// base58 text of bytes (for keys found in account data).
function b58Text(bytes) {
    const A = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
    let n = BigInt('0x' + (Buffer.from(bytes).toString('hex') || '0'));
    let s = '';
    while (n > 0n) {
        s = A[Number(n % 58n)] + s;
        n /= 58n;
    }
    for (const b of bytes) {
        if (b !== 0) break;
        s = '1' + s;
    }
    return s;
}

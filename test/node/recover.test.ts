/**
 * Recovery from the original cldcb programs' archive (test/fixtures/cldcb, see its README):
 * the CLI on a copy of the original server directory (whose recognition_codes lost client
 * 1's code, so the archive-probe fallback finds it), row-identical to the database the
 * research notes rebuilt; the same decision as shared/cldcb/archiveDecode.ts; tampering.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../cli/main';
import { capturedIo } from './helpers/cli';
import { originalServerDir } from './helpers/recovery';
import { hexToBytes } from '../../shared/bytes';
import { encodeArchive, readArchive, type ArchEvent } from '../../shared/cldcb/arch';
import { decodeArchive } from '../unit/helpers/decode';
import {
  formatRecognitionCodesFile,
  signRecognitionCode,
  verifyRecognitionAsClient,
} from '../../shared/cldcb/recognition';
import { formatClientId, parseClientId, parseClientKeyFile } from '../../shared/cldcb/ids';
import { parsePluginWrapper } from '../../shared/cldcb/wrapper';
import { sealIncrement, sealReupload } from '../../shared/cldcb/plaintexts';
import { nativeBoxCrypto } from '../../shared/node/nativeSeal';
import { compareDatabases } from '../../shared/node/recovery/compare';
import { recover, searchEntries } from '../../shared/node/recovery/engine';
import { scanArchive } from '../../shared/node/recovery/archiveScan';
import { planReplay } from '../../shared/cldcb/chain';
import type { RecoveryVerdict } from '../../shared/node/recovery/types';
import { CldcbError } from '../../shared/errors';
import { ensureServerBuilt } from './helpers/server-harness';

const FIX = path.resolve('test/fixtures/cldcb');
const CID1 = 'c2f8853660663e584024d4efbd84c77b61de13941cffeb0e8a41fb06ce46373637';
const ARCH = path.join(FIX, `${CID1}.arch`);
const EXPECTED = path.join(FIX, 'recovered_from_archive_dv9.sqlite3');
const NODE_KEY_FILE = path.join(FIX, 'node.key');
const NPK = hexToBytes('1ff8408eee5b9d9d65ca6d3698067b551f93aef9b548f05520369ed435383673');
const NID = '026e373091ec9644ae7bd820233fc2225bb9f7f12fd2c74dabfdc2ff261988c935';
const SID = '53a4684420eed17f05508233500cf0c03fad14d62fc8fd7b3d62f54f9a2ef14bad';

let tmp: string;
beforeAll(async () => {
  await ensureServerBuilt(); // node scripts/build.mjs (the worker bundle too), once, under a lock
  tmp = mkdtempSync(path.join(os.tmpdir(), 'cldcb-recover-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let n = 0;
const fresh = (name: string): string => {
  const d = path.join(tmp, `${name}-${n++}`);
  mkdirSync(d);
  return d;
};

/** A copy of the original server directory with client 1's archive (as the server had it). */
const serverDirCopy = (archive = ARCH): string => originalServerDir(fresh('server'), archive);


describe('recover --from a copy of the original server directory', () => {
  it('finds client 1 by opening its archive and rebuilds the database row-identical', async () => {
    const sd = serverDirCopy();
    const ld = fresh('ld');
    const t = capturedIo();
    const code = await runCli(
      ['recover', `--lightning-dir=${ld}`, `--from=${sd}`, `--node-key-file=${NODE_KEY_FILE}`, '--json'],
      t,
    );
    expect(t.stderr).toBe('');
    expect(code).toBe(0);
    const v = JSON.parse(t.stdout);
    expect(v).toMatchObject({
      ok: true,
      stale: false,
      client_id: CID1,
      node_id: NID,
      data_version: 9,
      increments: 5,
      integrity: 'ok',
      found_by: 'archive',
      chain: 'v0',
      time_basis: 'mtime',
    });
    expect(v.warnings.map((w: { kind: string }) => w.kind)).toEqual(
      expect.arrayContaining(['found_by_archive', 'no_chain', 'mtime_time', 'missing_bump']),
    );
    const db = path.join(ld, 'lightningd.sqlite3');
    const cmp = compareDatabases(db, EXPECTED);
    expect(cmp.differences).toEqual([]);
    expect(cmp.identical).toBe(true);
    expect(cmp.dataVersionA).toBe(9);
    expect(statSync(db).mode & 0o777).toBe(0o600);
    // No --shost: the directory names the server (sid) but not where it runs, so no wrapper;
    // the backup's client key for installplugin, and the command in the next steps.
    expect(v.wrapper).toBeNull();
    const keyFile = path.join(ld, 'cldcb-client.key');
    expect(v.client_key_file).toBe(keyFile);
    expect(statSync(keyFile).mode & 0o777).toBe(0o400);
    const key = parseClientKeyFile(readFileSync(keyFile, 'utf8'));
    expect(formatClientId(key.clientId)).toBe(CID1);
    expect(v.next_steps[0]).toContain(`cldcb-client installplugin --lightning-dir=${ld} --client-privkey=${keyFile} --server=${SID}@SERVER_HOST:PORT`);
    expect(readdirSync(ld).sort()).toEqual(['cldcb-client.key', 'cldcb-plugin.state', 'lightningd.sqlite3']);
    expect(statSync(path.join(ld, 'cldcb-plugin.state')).mode & 0o777).toBe(0o600);
    expect(v.plugin_state).toEqual({ path: path.join(ld, 'cldcb-plugin.state'), data_version: 9 });
  });

  it('prints progress on stderr and a text report without --json, and writes --report', async () => {
    const sd = serverDirCopy();
    const ld = fresh('ld');
    const t = capturedIo();
    const report = path.join(fresh('report'), 'r.html');
    expect(
      await runCli(
        [
          'recover',
          `--lightning-dir=${ld}`,
          `--from=${sd}`,
          `--node-key-file=${NODE_KEY_FILE}`,
          `--report=${report}`,
          '--shost=backup.example:29735',
        ],
        t,
      ),
    ).toBe(0);
    expect(t.stderr).toMatch(/recognition…/);
    expect(t.stderr).toMatch(/ours ✓ c2f885/);
    expect(t.stdout).toMatch(/Verdict: rebuilt and verified/);
    const html = readFileSync(report, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script|src=|href=/i);
    // The fresh wrapper: same backup (cid/cpk), nid/nsig for our node, sid from the directory, shost as given.
    const wrapperFile = path.join(ld, 'cldcb-plugin-wrapper');
    expect(statSync(wrapperFile).mode & 0o777).toBe(0o700);
    const text = readFileSync(wrapperFile, 'utf8');
    expect(text).toContain('# shost = backup.example:29735');
    expect(text).toContain(`# sid = ${SID}`);
    const w = parsePluginWrapper(text);
    expect(formatClientId(w.clientId)).toBe(CID1);
    expect(Buffer.from(w.nodeId).toString('hex')).toBe(NID);
    expect(verifyRecognitionAsClient(w.clientPrivateKey, w.nodeId, w.nodeSignature)).toBe(true);
    expect(readdirSync(ld).sort()).toEqual(['cldcb-plugin-wrapper', 'cldcb-plugin.state', 'lightningd.sqlite3']);
    expect(t.stdout).toMatch(/Next steps\n {2}1\. Turn the backup on: important-plugin=/);
    expect(html).toMatch(/<h2>Next steps<\/h2>/);
  });

  it('refuses when lightningd.sqlite3 exists: exit 1, one line, nothing touched', async () => {
    const sd = serverDirCopy();
    const ld = fresh('ld');
    const db = path.join(ld, 'lightningd.sqlite3');
    writeFileSync(db, 'precious');
    const t = capturedIo();
    expect(
      await runCli(
        ['recover', `--lightning-dir=${ld}`, `--from=${sd}`, `--node-key-file=${NODE_KEY_FILE}`],
        t,
      ),
    ).toBe(1);
    expect(t.stderr.trim().split('\n')).toHaveLength(1);
    expect(t.stderr).toMatch(/already exists\. Nothing was overwritten/);
    expect(readFileSync(db, 'utf8')).toBe('precious');
    expect(readdirSync(ld)).toEqual(['lightningd.sqlite3']);
  });

  it('needs the hsm_secret in the lightning directory and says so', async () => {
    const t = capturedIo();
    expect(await runCli(['recover', `--lightning-dir=${fresh('ld')}`, `--from=${serverDirCopy()}`], t)).toBe(
      1,
    );
    expect(t.stderr).toMatch(/hsm_secret: no such file/);
  });

  it('usage errors exit 2', async () => {
    const t = capturedIo();
    expect(await runCli(['recover', `--lightning-dir=${fresh('ld')}`], t)).toBe(2);
    expect(t.stderr).toMatch(/--from=SERVERDIR/);
  });

  it('a single .arch file works too (client from the file name, key checked by opening it)', async () => {
    const ld = fresh('ld');
    const a = path.join(fresh('a'), `${CID1}.arch`);
    copyFileSync(ARCH, a);
    const t = capturedIo();
    expect(
      await runCli(
        ['recover', `--lightning-dir=${ld}`, `--from=${a}`, `--node-key-file=${NODE_KEY_FILE}`, '--json'],
        t,
      ),
    ).toBe(0);
    expect(compareDatabases(path.join(ld, 'lightningd.sqlite3'), EXPECTED).identical).toBe(true);
    // no server_id next to a lone archive: no wrapper, and a warning says so
    expect(JSON.parse(t.stdout).warnings.some((w: { kind: string }) => w.kind === 'wrapper')).toBe(true);
  });
});

describe('the engine (file scan) agrees with the in-memory decode of the same codec (test/unit/helpers/decode.ts)', () => {
  it('same snapshot, same increments replayed, same final data_version', () => {
    const dec = decodeArchive(readFileSync(ARCH), NPK, parseClientId(CID1), { crypto: nativeBoxCrypto() });
    const scan = scanArchive(ARCH, { nodePriv: NPK, clientKey: parseClientId(CID1) });
    const plan = planReplay(scan.snapshot, scan.increments);
    expect(plan.replay).toEqual(dec.replay.map((d) => d.index));
    expect(plan.finalDataVersion).toBe(dec.finalDataVersion);
    expect(scan.snapshot.reuploadDataVersion).toBe(dec.reuploadDataVersion);
    expect(scan.snapshot.size).toBe(dec.snapshotSize);
    expect(scan.increments.map((i) => i.statements)).toEqual(dec.increments.map((d) => d.statements.length));
  });
});

// ---------------------------------------------------------------------------------------------
// Tampering: every change is refused or flagged, never a wrong database presented as good

const REFUSALS = [
  'not_authentic',
  'truncated',
  'archive_lost_writes',
  'integrity_failed',
  'not_found',
  'unsupported',
  'bad_input',
];
const DAMAGE_FLAGS = ['footer_damaged', 'dv_mismatch', 'torn_tail'];

async function tryRecover(
  sd: string,
  extra: Partial<Parameters<typeof recover>[0]> = {},
): Promise<{ v?: RecoveryVerdict; err?: CldcbError; ld: string }> {
  const ld = fresh('ld');
  try {
    const v = await recover({
      nodePrivateKey: NPK,
      sources: [{ kind: 'serverDir', dir: sd }],
      lightningDir: ld,
      inline: true,
      ...extra,
    });
    return { v, ld };
  } catch (e) {
    if (!(e instanceof CldcbError)) throw e;
    return { err: e, ld };
  }
}

function expectNoDatabase(ld: string): void {
  expect(readdirSync(ld)).toEqual([]);
}

describe('tampering with the archive', () => {
  const archive = readFileSync(ARCH);
  const events = readArchive(archive);
  // Structural positions: every length field, data_version, terminator and footer byte.
  const structural: number[] = [0, 1];
  for (const e of events) {
    if (e.offset === undefined) continue;
    if (e.type === 'reuploadChunk' || e.type === 'incrementChunk')
      structural.push(e.offset, e.offset + 1, e.offset + 2, e.offset + 40);
    if (e.type === 'reuploadEnd') structural.push(e.offset, e.offset + 1);
    if (e.type === 'incrementStart') structural.push(e.offset, e.offset + 3);
    if (e.type === 'incrementEnd')
      for (const k of [0, 7, 8, 11, 12, 13, 14, 30, 45]) structural.push(e.offset + k);
  }
  let seed = 7;
  const rand = (m: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % m);
  const positions = [
    ...new Set([...structural, ...Array.from({ length: 30 }, () => rand(archive.length))]),
  ].sort((a, b) => a - b);

  for (const pipeline of [true, false])
    it(`a flipped byte anywhere (${positions.length} positions) is refused or flagged (${pipeline ? 'pipelined' : 'two-pass'} rebuild)`, async () => {
      const outcomes: Record<string, number> = {};
      for (const pos of positions) {
        const bad = Buffer.from(archive);
        bad[pos]! ^= 0x5a;
        const a = path.join(tmp, `flip-${pos}.arch`);
        writeFileSync(a, bad);
        const sd = serverDirCopy(a);
        const r = await tryRecover(sd, { pipeline });
        if (r.err) {
          expect(REFUSALS, `flip at ${pos}: ${r.err.code} ${r.err.message}`).toContain(r.err.code);
          expectNoDatabase(r.ld);
          outcomes[r.err.code] = (outcomes[r.err.code] ?? 0) + 1;
          continue;
        }
        const kinds = r.v!.warnings.map((w) => w.kind);
        const flagged = kinds.filter((k) => DAMAGE_FLAGS.includes(k));
        expect(flagged.length, `flip at ${pos} accepted without a damage warning`).toBeGreaterThan(0);
        if (!kinds.includes('torn_tail'))
          expect(compareDatabases(r.v!.database.path, EXPECTED).identical, `flip at ${pos}`).toBe(true);
        outcomes[`flagged:${flagged.join('+')}`] = (outcomes[`flagged:${flagged.join('+')}`] ?? 0) + 1;
      }
      expect(outcomes['not_authentic']).toBeGreaterThan(10);
    }, 240_000);

  it('truncation inside the re-upload is refused', async () => {
    const a = path.join(tmp, 'trunc-reupload.arch');
    writeFileSync(a, archive.subarray(0, 70_000));
    const r = await tryRecover(serverDirCopy(a));
    expect(r.err?.code).toBe('truncated');
    expectNoDatabase(r.ld);
  });

  it('a torn last increment is dropped and flagged with what is known (never a claim that it was not acknowledged)', async () => {
    const a = path.join(tmp, 'trunc-tail.arch');
    writeFileSync(a, archive.subarray(0, archive.length - 10));
    const r = await tryRecover(serverDirCopy(a));
    expect(r.v?.dataVersion).toBe(8);
    const message = r.v?.warnings.find((w) => w.kind === 'torn_tail')?.message;
    expect(message).toMatch(/ends inside an increment: the last complete one is data_version 8; .* but so does an incomplete copy/);
    expect(message).not.toMatch(/lightningd did not commit/);
  });

  it('a dropped tail at an increment boundary: flagged as undetectable, stale against the last known data_version', async () => {
    const last = events.filter((e) => e.type === 'incrementStart').pop()!.offset!;
    const a = path.join(tmp, 'trunc-boundary.arch');
    writeFileSync(a, archive.subarray(0, last));
    const r = await tryRecover(serverDirCopy(a), { lastKnownDataVersion: 9 });
    expect(r.v?.dataVersion).toBe(8);
    expect(r.v?.warnings.map((w) => w.kind)).toContain('no_chain');
    expect(r.v?.stale).toBe(true);
    expect(r.v?.ok).toBe(false);
    expect(r.v?.staleAdvice).toBe(
      'Running lightningd on a stale database can lose funds: the old channel states can be punished. Use the SCB path (cldcb-client scb) instead.',
    );
  });

  it('reordered re-upload chunks are refused', async () => {
    const ev = readArchive(archive);
    const idx = ev.map((e, i) => (e.type === 'reuploadChunk' ? i : -1)).filter((i) => i >= 0);
    const [i1, i2] = [idx[1]!, idx[2]!];
    const swapped = ev.slice();
    [swapped[i1], swapped[i2]] = [swapped[i2]!, swapped[i1]!];
    const a = path.join(tmp, 'reorder-chunks.arch');
    writeFileSync(a, encodeArchive(swapped));
    const r = await tryRecover(serverDirCopy(a));
    expect(r.err?.code).toBe('not_authentic');
    expect(r.err?.message).toMatch(/authentication tag does not verify/);
  });

  it('reordered increments are refused as lost writes', async () => {
    const ev = readArchive(archive);
    const groups: ArchEvent[][] = [];
    const head: ArchEvent[] = [];
    for (const e of ev) {
      if (e.type === 'incrementStart') groups.push([e]);
      else if (groups.length === 0) head.push(e);
      else groups[groups.length - 1]!.push(e);
    }
    [groups[1], groups[2]] = [groups[2]!, groups[1]!];
    const a = path.join(tmp, 'reorder-incs.arch');
    writeFileSync(a, encodeArchive([...head, ...groups.flat()]));
    const r = await tryRecover(serverDirCopy(a));
    expect(r.err?.code).toBe('archive_lost_writes');
    expectNoDatabase(r.ld);
  });

  it("two clients' archives swapped are refused (wrong signer)", async () => {
    // A second backup of the same node (another client key), made like the original plugin.
    const c2priv = new Uint8Array(randomBytes(32));
    const crypto = nativeBoxCrypto();
    const c2 = crypto.secp.publicKey(c2priv);
    const nodeId = hexToBytes(NID);
    const dbBytes = readFileSync(path.join(FIX, 'lightningd.sqlite3.initial_dv4'));
    const evs: ArchEvent[] = [
      ...sealReupload(c2priv, nodeId, 5, dbBytes, { crypto }).map((chunk) => ({
        type: 'reuploadChunk' as const,
        chunk,
      })),
      { type: 'reuploadEnd' },
      { type: 'incrementStart', dataVersion: 5 },
      ...sealIncrement(c2priv, nodeId, 5, ["INSERT INTO notes(txt) VALUES('other client')"], { crypto }).map(
        (chunk) => ({ type: 'incrementChunk' as const, chunk }),
      ),
      { type: 'incrementEnd' },
    ];
    const sd = serverDirCopy();
    const c2file = path.join(sd, `${formatClientId(c2)}.arch`);
    writeFileSync(c2file, encodeArchive(evs));
    // Sanity: both are ours and recoverable before the swap.
    const s = await searchEntries({
      nodePrivateKey: NPK,
      sources: [{ kind: 'serverDir', dir: sd }],
      inline: true,
    });
    expect(s.candidates.map((c) => c.clientId).sort()).toEqual([CID1, formatClientId(c2)].sort());
    const c1file = path.join(sd, `${CID1}.arch`);
    const b1 = readFileSync(c1file);
    writeFileSync(c1file, readFileSync(c2file));
    writeFileSync(c2file, b1);
    const r = await tryRecover(sd);
    expect(r.err?.code).toBe('not_authentic');
    expect(r.err?.message).toMatch(/swapped or renamed/);
    expectNoDatabase(r.ld);
  });

  it('a replaced recognition code does not hide our archive (probe), and is reported', async () => {
    const sd = serverDirCopy();
    const otherNode = new Uint8Array(randomBytes(32));
    const cid1 = parseClientId(CID1);
    writeFileSync(
      path.join(sd, 'recognition_codes'),
      formatRecognitionCodesFile([{ clientKey: cid1, code: signRecognitionCode(otherNode, cid1) }]),
    );
    const r = await tryRecover(sd);
    expect(r.v?.clientId).toBe(CID1);
    expect(r.v?.warnings.find((w) => w.kind === 'code_not_ours')?.message).toMatch(/altered or damaged/);
    // Without probing, the replaced code hides the entry: a clear "not found".
    const r2 = await tryRecover(sd, { probe: 'none' });
    expect(r2.err?.code).toBe('not_found');
    expect(r2.err?.message).toMatch(/No usable backup of node 026e37/);
  });

  it('our own code, when present, is recognised by the code (no probe needed)', async () => {
    const sd = serverDirCopy();
    const cid1 = parseClientId(CID1);
    writeFileSync(
      path.join(sd, 'recognition_codes'),
      formatRecognitionCodesFile([{ clientKey: cid1, code: signRecognitionCode(NPK, cid1) }]) +
        'garbage line\n',
    );
    const r = await tryRecover(sd, { probe: 'none' });
    expect(r.v?.via).toBe('code');
    expect(r.v?.clientId).toBe(CID1);
  });

  it('an older archive is flagged stale against the last known data_version, and against another source', async () => {
    const old = path.join(FIX, 'snapshots', `${CID1}.after_dv8_append.arch`);
    const oldDir = serverDirCopy(old);
    const r = await tryRecover(oldDir, { lastKnownDataVersion: 9 });
    expect(r.v?.dataVersion).toBe(8);
    expect(r.v?.stale).toBe(true);
    expect(r.v?.staleReasons.join(' ')).toMatch(
      /last known data_version is 9, but this backup ends at 8 \(1 behind\)/,
    );

    const newDir = serverDirCopy();
    const ld = fresh('ld');
    const v = await recover(
      {
        nodePrivateKey: NPK,
        sources: [
          { kind: 'serverDir', dir: oldDir, label: 'old server' },
          { kind: 'serverDir', dir: newDir, label: 'new server' },
        ],
        lightningDir: ld,
        inline: true,
      },
      {},
    );
    expect(v.dataVersion).toBe(9);
    expect(v.source.label).toBe('new server');
    expect(v.warnings.find((w) => w.kind === 'source_served_less')?.message).toMatch(
      /old server served c2f885\S* only up to data_version 8, while new server has 9/,
    );
    expect(compareDatabases(v.database.path, EXPECTED).identical).toBe(true);

    // Choosing the older one explicitly is possible, and stale.
    const ld2 = fresh('ld');
    const v2 = await recover(
      {
        nodePrivateKey: NPK,
        sources: [{ kind: 'serverDir', dir: oldDir }],
        lightningDir: ld2,
        inline: true,
        lastKnownTime: Math.floor(Date.now() / 1000) + 3600,
      },
      {},
    );
    expect(v2.stale).toBe(true);
    expect(v2.staleReasons.join(' ')).toMatch(/file time/);
  });

  it('a node key that owns nothing gets a clear not_found', async () => {
    const r = await recover({
      nodePrivateKey: new Uint8Array(32).fill(7),
      sources: [{ kind: 'serverDir', dir: serverDirCopy() }],
      lightningDir: fresh('ld'),
      inline: true,
    }).catch((e) => e);
    expect(r).toBeInstanceOf(CldcbError);
    expect(r.code).toBe('not_found');
    expect(r.message).toMatch(/1 recognition code\(s\) and 1 archive\(s\) checked/);
  });

  it('online sources need online mode', async () => {
    const r = await recover({
      nodePrivateKey: NPK,
      sources: [{ kind: 'server', address: `${SID}@127.0.0.1:1` }],
      lightningDir: fresh('ld'),
      inline: true,
    }).catch((e) => e);
    expect(r.code).toBe('offline');
  });
});

/**
 * The recognition search: the batch checker gives the same answers as fastRecognition.ts
 * and the pure-JS reference, classifies malformed records as invalid, returns the v1 read
 * token, and runs in worker threads with streaming progress.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { bytesToHex } from '../../shared/bytes';
import { CURVE_N } from '../../shared/cldcb/curve';
import { checkRecognition, signRecognitionCode } from '../../shared/cldcb/recognition';
import { makeFastRecognitionChecker } from '../../shared/node/fastRecognition';
import { loadNativeSecp256k1 } from '../../shared/node/nativeSeal';
import { readToken } from '../../shared/node/cldcbClient';
import { makeBatchRecognizer, STATUS, type RecognizeNote, type RecognizeSliceOutput } from '../../shared/node/recovery/recognize';
import { readRecognitionCodesFile } from '../../shared/node/recovery/sources';
import { searchEntries } from '../../shared/node/recovery/engine';
import { runJobParallel } from '../../shared/node/workerPool';
import { randomKey } from './helpers/recovery';
import { ensureServerBuilt } from './helpers/server-harness';

const native = loadNativeSecp256k1();

let tmp: string;
beforeAll(async () => {
  await ensureServerBuilt(); // node scripts/build.mjs (also the worker bundle), once, under a lock
  tmp = mkdtempSync(path.join(os.tmpdir(), 'cldcb-recog-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Records of every kind, with the expected status. */
function mixedRecords(node: Uint8Array, n: number): { records: Uint8Array; expected: number[] } {
  const other = randomKey();
  const records = new Uint8Array(n * 97);
  const expected: number[] = [];
  for (let i = 0; i < n; i++) {
    const cid = native.publicKeyCreate(randomKey(), true);
    let code: Uint8Array;
    let st: number = STATUS.notOurs;
    switch (i % 10) {
      case 0:
        code = signRecognitionCode(node, cid);
        st = STATUS.ours;
        break;
      case 1: {
        // ours, but high-S (the original normalises before verifying: still ours)
        code = signRecognitionCode(node, cid);
        let s = 0n;
        for (let j = 32; j < 64; j++) s = (s << 8n) | BigInt(code[j]!);
        s = CURVE_N - s;
        for (let j = 63; j >= 32; j--) {
          code[j] = Number(s & 0xffn);
          s >>= 8n;
        }
        st = STATUS.ours;
        break;
      }
      case 2:
        code = signRecognitionCode(other, cid); // valid, for another node
        break;
      case 3:
        code = new Uint8Array(randomBytes(64)); // garbage that parses
        code[0] = 0x10;
        code[32] = 0x10;
        break;
      case 4:
        code = new Uint8Array(64).fill(0xff); // r, s ≥ n: does not parse
        st = STATUS.invalid;
        break;
      case 5:
        code = signRecognitionCode(node, cid);
        code.fill(0, 32, 64); // s = 0
        st = STATUS.invalid;
        break;
      case 6:
        code = signRecognitionCode(node, cid);
        cid[0] = 0x04; // not 02/03
        st = STATUS.invalid;
        break;
      case 7:
        code = signRecognitionCode(node, cid);
        cid.fill(0xff, 1); // x ≥ p: not on the curve
        st = STATUS.invalid;
        break;
      default:
        code = signRecognitionCode(other, cid);
    }
    records.set(cid, i * 97);
    records.set(code, i * 97 + 33);
    expected.push(st);
  }
  return { records, expected };
}

describe('batch recognition (recognize.ts)', () => {
  it('agrees with fastRecognition.ts and the pure-JS reference on every kind of record', () => {
    const node = randomKey();
    const { records, expected } = mixedRecords(node, 600);
    const st = new Uint8Array(600);
    const tokens = new Map<number, string>();
    const r = makeBatchRecognizer(node);
    r.check(records, 0, 600, st, (m) => tokens.set(m.index, bytesToHex(m.readToken)));
    r.dispose();
    expect([...st]).toEqual(expected);
    const fast = makeFastRecognitionChecker(node);
    for (let i = 0; i < 600; i++) {
      const cid = records.subarray(i * 97, i * 97 + 33);
      const code = records.subarray(i * 97 + 33, i * 97 + 97);
      expect(fast(cid, code), `record ${i}`).toBe(st[i] === STATUS.ours);
      if (i < 60) expect(checkRecognition(node, cid, code), `record ${i}`).toBe(st[i] === STATUS.ours);
      if (st[i] === STATUS.ours) expect(tokens.get(i)).toBe(bytesToHex(readToken(native.ecdh(cid, node))));
    }
  });

  it('runs in worker threads on both cores, with streaming progress notes', async () => {
    const node = randomKey();
    const { records, expected } = mixedRecords(node, 2000);
    const notes: RecognizeNote[] = [];
    const half = 1000 * 97;
    const out = await runJobParallel<RecognizeSliceOutput>(
      'recovery.recognize',
      [
        { nodePriv: node.slice(), records: records.subarray(0, half), first: 0 },
        { nodePriv: node.slice(), records: records.subarray(half), first: 1000 },
      ],
      { onProgress: (_d, _t, note) => note && notes.push(JSON.parse(note)) },
    );
    expect([...out[0]!.statuses, ...out[1]!.statuses]).toEqual(expected);
    expect(out.flatMap((o) => o.matches.map((m) => m.index))).toEqual(expected.flatMap((s, i) => (s === STATUS.ours ? [i] : [])));
    expect(notes.length).toBeGreaterThanOrEqual(2);
    expect(notes.some((n) => n.first === 1000 && n.checked === 1000 && n.ours.length === 200)).toBe(true);
  });

  it('the engine streams statuses: checking counts, ours, invalid; and keeps per-entry statuses', async () => {
    const node = randomKey();
    const { records, expected } = mixedRecords(node, 300);
    const lines: string[] = [];
    for (let i = 0; i < 300; i++) lines.push(`${bytesToHex(records.subarray(i * 97, i * 97 + 33))} ${bytesToHex(records.subarray(i * 97 + 33, i * 97 + 97))}`);
    // records with a non-02/03 key cannot even be written as a line: they become malformed lines
    const dir = mkdtempSync(path.join(tmp, 'dir-'));
    writeFileSync(path.join(dir, 'recognition_codes'), lines.join('\n') + '\nnot a record\n');
    const events: string[] = [];
    const s = await searchEntries(
      { nodePrivateKey: node, sources: [{ kind: 'serverDir', dir }], threads: 2 },
      { onEvent: (e) => events.push(e.type === 'entry' ? `entry:${e.status}` : e.type) },
    );
    const src = s.sources[0]!;
    expect(src.malformedLines).toBe(31); // 30 non-02/03 keys + "not a record"
    const kept = expected.filter((_, i) => i % 10 !== 6);
    expect([...src.statuses]).toEqual(kept);
    expect(events.filter((e) => e === 'entry:ours')).toHaveLength(60);
    expect(events).toContain('recognition');
    expect(events.filter((e) => e === 'entry:invalid').length).toBeGreaterThan(0);
    // codes without archives: ours, but unusable — named as such
    expect(s.candidates).toHaveLength(60);
    expect(s.candidates[0]!.error?.message).toMatch(/archive .* is not there/);
  });
});

describe('recognition_codes parsing', () => {
  it('keeps good lines around damaged ones and names the damaged lines', () => {
    const f = path.join(tmp, 'codes');
    const good = `02${'a'.repeat(64)} ${'b'.repeat(128)}`;
    writeFileSync(f, `${good}\r\n\n04${'a'.repeat(64)} ${'b'.repeat(128)}\n${good} extra\n03${'c'.repeat(64)}   ${'D'.repeat(128)}`);
    const r = readRecognitionCodesFile(f);
    expect(r.count).toBe(2);
    expect([...r.lines!]).toEqual([1, 5]);
    expect(r.malformed).toEqual([
      { line: 3, reason: 'the client key is not 66 hex digits starting 02 or 03' },
      { line: 4, reason: 'expected "<client key> <code>", got 3 field(s)' },
    ]);
  });
});

/**
 * Typo repair on real threads: shared/node/{fastNodeId,typoRepair}.ts
 * and the worker job typoRepairSlice (built into build/electron/worker.mjs).
 * The one full pair search (≈ 453,600 node-id derivations) runs once.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import vectors from '../vectors/cln/known-answers.json';
import { fastNodeId, fastNodePrivateKey, mnemonicNodeIdMatcher, nodeIdMatcher } from '../../shared/node/fastNodeId';
import {
  lineCheckFilter,
  repairHexCopy,
  repairWordCopy,
  STAGE_DOUBLE,
  STAGE_LOOKALIKE_PAIRS,
  STAGE_SINGLE,
} from '../../shared/node/typoRepair';
import { nodeIdFromSecret, nodePrivateKey } from '../../shared/secrets/nodeKey';
import { buildPaperSheet, lineCheck } from '../../shared/paper/sheet';
import { bytesToHex, hexToBytes } from '../../shared/bytes';
import { ENGLISH_WORDS } from '../../shared/secrets/words';

const FFEE = 'ffeeddccbbaa99887766554433221100'.repeat(2);
const FFEE_ID = '033d329abba85f6496778496d4af55e175931cb3fb8227ac6132394ee6ed30db01';
const ABANDON = vectors.hsm_secret_cases.find((c) => c.name.startsWith('abandon'))!;
const RITUAL = vectors.hsm_secret_cases.find((c) => c.format === 'mnemonic_with_pass')!;
const MODERN_L1 = vectors.hsm_secret_cases.find((c) => c.name === 'pyln-testing modern l1')!;
const set = (hex: string, i: number, c: string) => hex.slice(0, i) + c + hex.slice(i + 1);

beforeAll(() => {
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
});

describe('fastNodeId (node:crypto HMAC + native libsecp256k1)', () => {
  it('equals shared/secrets/nodeKey.ts on the CLN known answers', () => {
    for (const c of vectors.hsm_secret_cases) {
      const secret = hexToBytes(c.secret_data_hex);
      expect(bytesToHex(fastNodeId(secret))).toBe(c.node_id);
      expect(bytesToHex(fastNodePrivateKey(secret))).toBe(c.node_privkey);
    }
    expect(bytesToHex(fastNodeId(new Uint8Array(32).fill(1)))).toBe('026f61d7ee82f937f9697f4f3e44bfaaa25849cc4f526b3a57326130eba6346002');
  });
  it('equals nodeKey.ts on random secrets', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (s) => {
        expect(bytesToHex(fastNodeId(s))).toBe(bytesToHex(nodeIdFromSecret(s)));
        expect(bytesToHex(fastNodePrivateKey(s))).toBe(bytesToHex(nodePrivateKey(s)));
      }),
      { numRuns: 200 },
    );
  });
  it('matcher compares all 33 bytes; wrong sizes are refused', () => {
    const m = nodeIdMatcher(hexToBytes(FFEE_ID));
    expect(m(hexToBytes(FFEE))).toBe(true);
    expect(m(hexToBytes(set(FFEE, 0, '0')))).toBe(false);
    expect(() => nodeIdMatcher(new Uint8Array(32))).toThrow(/33 bytes/);
    expect(() => fastNodeId(new Uint8Array(31))).toThrow(/32 or 64 bytes/);
  });
  it('mnemonic matcher: BIP39 checksum first, raw-bytes seed, passphrase', () => {
    const words = (m: string) => m.split(' ');
    expect(mnemonicNodeIdMatcher(hexToBytes(ABANDON.node_id), ENGLISH_WORDS)(words(ABANDON.mnemonic!))).toBe(true);
    expect(mnemonicNodeIdMatcher(hexToBytes(MODERN_L1.node_id), ENGLISH_WORDS)(words(MODERN_L1.mnemonic!))).toBe(true);
    expect(mnemonicNodeIdMatcher(hexToBytes(RITUAL.node_id), ENGLISH_WORDS, 'test_passphrase')(words(RITUAL.mnemonic!))).toBe(true);
    expect(mnemonicNodeIdMatcher(hexToBytes(RITUAL.node_id), ENGLISH_WORDS)(words(RITUAL.mnemonic!))).toBe(false);
    const bad = words(ABANDON.mnemonic!);
    bad[11] = 'abandon'; // checksum fails
    expect(mnemonicNodeIdMatcher(hexToBytes(ABANDON.node_id), ENGLISH_WORDS)(bad)).toBe(false);
    // a 24-word mnemonic (8 checksum bits): "abandon ×23 art" is valid
    const w24 = [...new Array<string>(23).fill('abandon'), 'art'];
    const any24 = mnemonicNodeIdMatcher(new Uint8Array(33), ENGLISH_WORDS);
    expect(any24(w24)).toBe(false); // valid checksum, wrong node id: reaches the seed without error
  });
  it('the fast line check equals sheet.ts lineCheck', () => {
    const sheet = buildPaperSheet({ secretData: hexToBytes(FFEE) });
    const typed = sheet.hex.map((l) => `${l.groups.join(' ')} check ${l.check}`).join('\n');
    const f = lineCheckFilter(typed)!;
    expect(f(hexToBytes(FFEE))).toBe(true);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (s) => {
        const hex = bytesToHex(s);
        const checks = [0, 1, 2, 3].map((i) => lineCheck(i, hex.slice(16 * i, 16 * i + 16)));
        const t = [0, 1, 2, 3].map((i) => `${hex.slice(16 * i, 16 * i + 16)} ${checks[i]}`).join('\n');
        expect(lineCheckFilter(t)!(s)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });
});

describe('repairHexCopy (worker threads)', () => {
  it('a right copy is reported as exact', async () => {
    const r = await repairHexCopy(FFEE, FFEE_ID);
    expect(r).toMatchObject({ exact: true, candidates: [], searched: 1 });
  });

  it('one wrong digit: repaired without searching the pairs, with progress', async () => {
    const typed = set(FFEE, 26, '3'); // the secret has 'a' there
    const stages = new Set<string>();
    const r = await repairHexCopy(typed.match(/.{4}/g)!.join(' '), FFEE_ID, { onProgress: (_d, _t, note) => stages.add(note ?? '') });
    expect(r.exact).toBe(false);
    expect(r.candidates).toEqual([{ hex: FFEE, changes: [{ position: 26, from: '3', to: FFEE[26] }], kind: 'single' }]);
    expect(r.searched).toBeLessThan(20_000);
    expect([...stages]).toEqual([STAGE_SINGLE]);
  });

  it('a transposition and a look-alike are found as such', async () => {
    const swapped = FFEE.slice(0, 13) + FFEE[14] + FFEE[13] + FFEE.slice(15); // digits 14 and 15 swapped
    expect(swapped).not.toBe(FFEE);
    const t = await repairHexCopy(swapped, FFEE_ID);
    expect(t.candidates).toHaveLength(1);
    expect(t.candidates[0]!.kind).toBe('transposition');
    expect(t.candidates[0]!.hex).toBe(FFEE);
    // "bb" read as "66" on line 1 and "o" typed for a 0: look-alikes, several at once
    const look = set(set(FFEE, 8, '6'), 31, 'o');
    const l = await repairHexCopy(look, FFEE_ID);
    expect(l.candidates).toEqual([
      {
        hex: FFEE,
        changes: [
          { position: 8, from: '6', to: 'b' },
          { position: 31, from: 'o', to: '0' },
        ],
        kind: 'lookalike',
      },
    ]);
    // two independent look-alike slips (d read as 0, c read as e): stage 2, no full pair search
    const stages = new Set<string>();
    const two = set(set(FFEE, 4, '0'), 7, 'e');
    const p = await repairHexCopy(two, FFEE_ID, { onProgress: (_d, _t, n) => stages.add(n ?? '') });
    expect(p.candidates).toHaveLength(1);
    expect(p.candidates[0]).toMatchObject({ hex: FFEE, kind: 'lookalike' });
    expect(p.candidates[0]!.changes.map((c) => c.position)).toEqual([4, 7]);
    expect([...stages]).toEqual([STAGE_SINGLE, STAGE_LOOKALIKE_PAIRS]);
  });

  it('two wrong digits in one line are found fast with the typed line checks', async () => {
    const sheet = buildPaperSheet({ secretData: hexToBytes(FFEE) });
    const lines = sheet.hex.map((l) => `${l.groups.join(' ')}  check ${l.check}`);
    lines[2] = set(set(lines[2]!, 1, '3'), 11, '2'); // digits 34 and 44 (not look-alikes of f / a)
    const r = await repairHexCopy(lines.join('\n'), FFEE_ID);
    expect(r.usedLineChecks).toBe(true);
    expect(r.candidates).toHaveLength(1);
    expect(r.candidates[0]).toMatchObject({ hex: FFEE, kind: 'double' });
    expect(r.candidates[0]!.changes.map((c) => c.position)).toEqual([33, 41]);
  });

  it('two wrong digits without checks: the full pair search on every core (run once)', async () => {
    const typed = set(set(FFEE, 5, '3'), 50, '9'); // 'e'→'3' and '3'→'9' are not look-alikes
    const progress: [number, number, string][] = [];
    const r = await repairHexCopy(typed, FFEE_ID, { onProgress: (d, t, n) => progress.push([d, t, n ?? '']) });
    expect(r.candidates).toEqual([
      {
        hex: FFEE,
        changes: [
          { position: 5, from: '3', to: FFEE[5] },
          { position: 50, from: '9', to: FFEE[50] },
        ],
        kind: 'double',
      },
    ]);
    expect(r.searched).toBeGreaterThan(400_000);
    const doubles = progress.filter((p) => p[2] === STAGE_DOUBLE);
    expect(doubles.length).toBeGreaterThan(2);
    expect(doubles.at(-1)![0]).toBe(doubles.at(-1)![1]);
    // how fast: printed for the record (not asserted: the machine is shared)
    console.log(`pair search: ${r.searched} candidates in ${(r.ms / 1000).toFixed(2)} s (${Math.round(r.searched / (r.ms / 1000))}/s)`);
  });

  it('cancel stops the search', async () => {
    const hopeless = set(set(set(FFEE, 1, '0'), 20, '0'), 40, '0'); // three wrong digits: never found
    const ac = new AbortController();
    const p = repairHexCopy(hopeless, FFEE_ID, {
      signal: ac.signal,
      onProgress: (_d, _t, note) => {
        if (note === STAGE_DOUBLE) ac.abort();
      },
    });
    await expect(p).rejects.toMatchObject({ code: 'cancelled' });
  });

  it('refuses an unreadable copy or node id before starting threads', async () => {
    await expect(repairHexCopy(FFEE.slice(2), FFEE_ID)).rejects.toMatchObject({ code: 'bad_length' });
    await expect(repairHexCopy(FFEE, FFEE_ID.slice(2))).rejects.toMatchObject({ code: 'bad_length' });
  });
});

describe('repairWordCopy (worker threads)', () => {
  it('a wrong word that breaks the checksum, and a misspelt word, are repaired', async () => {
    const w = MODERN_L1.mnemonic!.split(' ');
    const typed = [...w];
    typed[6] = 'orphan'; // "original" → another word (edit distance > 2: found by the full search)
    const r = await repairWordCopy(typed.join(' '), MODERN_L1.node_id);
    expect(r.candidates).toEqual([{ words: w, changes: [{ position: 6, from: 'orphan', to: 'original' }], kind: expect.any(String) }]);
    const misspelt = [...w];
    misspelt[2] = 'suer';
    const m = await repairWordCopy(misspelt.join(' '), MODERN_L1.node_id);
    expect(m.candidates[0]).toMatchObject({ words: w, kind: 'nearby' });
  });
  it('uses the passphrase; words as typed may already be right', async () => {
    const r = await repairWordCopy(RITUAL.mnemonic!, RITUAL.node_id, { passphrase: 'test_passphrase' });
    expect(r.exact).toBe(true);
    await expect(repairWordCopy('abandon about', ABANDON.node_id)).rejects.toMatchObject({ code: 'bad_length' });
  });
});

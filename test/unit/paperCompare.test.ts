/**
 * shared/paper/compare.ts: per-group / per-word / per-character diffs of a
 * typed paper copy against the secret or a node id; no secret in messages.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import vectors from '../vectors/cln/known-answers.json';
import {
  compareCodex32Copy,
  compareCopy,
  compareCopyWithNodeId,
  compareHexCopy,
  compareWordCopy,
  detectCopyKind,
} from '../../shared/paper/compare';
import { buildPaperSheet } from '../../shared/paper/sheet';
import { bytesToHex, hexToBytes } from '../../shared/bytes';
import { nodeIdFromSecret } from '../../shared/secrets/nodeKey';

const FFEE = 'ffeeddccbbaa99887766554433221100'.repeat(2);
const FFEE_ID = '033d329abba85f6496778496d4af55e175931cb3fb8227ac6132394ee6ed30db01';
const FFEE_LEET = 'cl10leetsllhdmn9m42vcsamx24zrxgs3qrl7ahwvhw4fnzrhve25gvezzyqqjdsjnzedu43ns';
const ABANDON = vectors.hsm_secret_cases.find((c) => c.name.startsWith('abandon'))!;
const RITUAL = vectors.hsm_secret_cases.find((c) => c.format === 'mnemonic_with_pass')!;
const grouped = (hex: string) => hex.match(/.{4}/g)!.join(' ');
const setDigit = (hex: string, i: number, c: string) => hex.slice(0, i) + c + hex.slice(i + 1);
const otherDigit = (c: string) => (c === '0' ? '1' : '0');

/** No message may contain the secret: no group of 4 of its digits holding a digit 0-9, nor 8 digits in a row. */
function expectNoSecret(messages: readonly string[], secretHex: string): void {
  const text = messages.join('\n');
  expect(text).not.toMatch(/[0-9a-f]{8}/);
  for (const g of secretHex.match(/.{4}/g)!) if (/[0-9]/.test(g) && /[a-f]/.test(g)) expect(text).not.toContain(g);
}

describe('compareHexCopy', () => {
  const secret = hexToBytes(FFEE);

  it('a right copy matches', () => {
    const c = compareHexCopy(grouped(FFEE), secret);
    expect(c.matches).toBe(true);
    expect(c.differingDigits).toEqual([]);
    expect(c.groups.every((g) => g.ok)).toBe(true);
    expect(c.messages[0]).toMatch(/matches/);
  });

  it('names the sheet line, group and digit that differ: "line 2, group 3 (digits 25–28)"', () => {
    const typed = setDigit(FFEE, 26, otherDigit(FFEE[26]!));
    const c = compareHexCopy(grouped(typed), secret);
    expect(c.matches).toBe(false);
    expect(c.differingDigits).toEqual([26]);
    expect(c.groups.filter((g) => !g.ok).map((g) => g.index)).toEqual([6]);
    expect(c.groups[6]!.typed).toBe(typed.slice(24, 28));
    expect(c.lines.map((l) => l.ok)).toEqual([true, false, true, true]);
    expect(c.messages.join('\n')).toMatch(/Line 2, group 3 \(digits 25–28\) differs: digit 27 \(position 3 in the group\)/);
    expectNoSecret(c.messages, FFEE);
  });

  it('flags look-alike letters typed for digits', () => {
    const typed = setDigit(FFEE, 30, 'o'); // the secret has 0 there
    expect(FFEE[30]).toBe('0');
    const c = compareHexCopy(typed, secret);
    expect(c.differingDigits).toEqual([]);
    expect(c.lookalikes).toEqual([30]);
    expect(c.matches).toBe(false);
    expect(c.messages.join(' ')).toMatch(/digit \(31\) was typed as a letter/);
  });

  it('uses typed line checks: pinpoints the bad line, and tells a wrong check code from wrong digits', () => {
    const s = buildPaperSheet({ secretData: secret });
    const lines = s.hex.map((l) => `${l.groups.join(' ')}  check ${l.check}`);
    const badDigit = [...lines];
    badDigit[1] = setDigit(badDigit[1]!, 2, otherDigit(badDigit[1]![2]!));
    const c = compareHexCopy(badDigit.join('\n'), secret);
    expect(c.lines.map((l) => l.checkOk)).toEqual([true, false, true, true]);
    expect(c.messages.join('\n')).toMatch(/check code of line 2 \(groups 5–8, digits 17–32\) does not match/);
    const badCheck = [...lines];
    badCheck[3] = badCheck[3]!.slice(0, -2) + (s.hex[3]!.check === '00' ? '01' : '00');
    const d = compareHexCopy(badCheck.join('\n'), secret);
    expect(d.differingDigits).toEqual([]);
    expect(d.lines[3]).toMatchObject({ ok: true, checkTyped: true, checkOk: false });
    expect(d.messages.join('\n')).toMatch(/digits of line 4 are right, so its check code was copied wrongly/);
  });

  it('never puts the secret in messages (random secrets, random damage)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uniqueArray(fc.nat(63), { maxLength: 6 }), (sec, where) => {
        const hex = bytesToHex(sec);
        let typed = hex;
        for (const i of where) typed = setDigit(typed, i, otherDigit(typed[i]!));
        const c = compareHexCopy(typed, sec);
        expect(c.differingDigits).toEqual([...where].sort((a, b) => a - b));
        expectNoSecret(c.messages, hex);
      }),
      { numRuns: 100 },
    );
  });

  it('refuses an unreadable copy, naming the place', () => {
    expect(() => compareHexCopy(FFEE.slice(0, 60), secret)).toThrow(/found 60 digits/);
    expect(() => compareHexCopy(setDigit(FFEE, 5, '#'), secret)).toThrow(/digit 6 \(line 1, group 2, position 2 of 4\)/);
  });
});

describe('compareWordCopy', () => {
  const seed = hexToBytes(ABANDON.secret_data_hex);
  const words = ABANDON.mnemonic!.split(' ');

  it('per word against a mnemonic secret', () => {
    const ok = compareWordCopy(ABANDON.mnemonic!.toUpperCase(), { secretData: seed, mnemonic: ABANDON.mnemonic! });
    expect(ok.matches).toBe(true);
    expect(ok.perWord).toBe(true);
    const typed = [...words];
    typed[4] = 'ability';
    const c = compareWordCopy(typed.join(' '), { secretData: seed, mnemonic: ABANDON.mnemonic! });
    expect(c.matches).toBe(false);
    expect(c.words.filter((w) => !w.ok).map((w) => w.index)).toEqual([4]);
    expect(c.checksumOk).toBe(false);
    expect(c.messages.join(' ')).toMatch(/Word 5 differs/);
    expect(c.messages.join(' ')).not.toMatch(/abandon/);
  });

  it('accepts unique 4-letter abbreviations and names unknown words', () => {
    const abbrev = words.map((w) => w.slice(0, 4)).join(' ');
    expect(compareWordCopy(abbrev, { secretData: seed, mnemonic: ABANDON.mnemonic! }).matches).toBe(true);
    const typed = [...words];
    typed[11] = 'abuot';
    const c = compareWordCopy(typed.join(' '), { secretData: seed, mnemonic: ABANDON.mnemonic! });
    expect(c.words[11]).toMatchObject({ ok: false, known: false });
    expect(c.messages.join(' ')).toMatch(/Word 12 is not in the BIP39 English list/);
  });

  it('against a 32-byte secret (old generatehsm): match or not, with the passphrase', () => {
    const ritualSeed = hexToBytes(RITUAL.secret_data_hex);
    const plain = ritualSeed.slice(0, 32);
    expect(compareWordCopy(RITUAL.mnemonic!, { secretData: plain }, 'test_passphrase')).toMatchObject({ matches: true, perWord: false });
    const wrong = compareWordCopy(RITUAL.mnemonic!, { secretData: plain }, 'other');
    expect(wrong.matches).toBe(false);
    expect(wrong.messages.join(' ')).toMatch(/cannot be named/);
    expect(wrong.messages.join(' ')).not.toMatch(/test_passphrase|other|ritual/);
  });
});

describe('compareCodex32Copy', () => {
  const secret = hexToBytes(FFEE);
  it('a right copy matches (spaces and upper case allowed)', () => {
    expect(compareCodex32Copy(FFEE_LEET.toUpperCase().match(/.{1,4}/g)!.join(' '), secret).matches).toBe(true);
  });
  it('names the characters that differ', () => {
    const typed = FFEE_LEET.slice(0, 20) + (FFEE_LEET[20] === 'q' ? 'p' : 'q') + FFEE_LEET.slice(21);
    const c = compareCodex32Copy(typed, secret);
    expect(c.matches).toBe(false);
    expect(c.checksumOk).toBe(false);
    expect(c.differing).toEqual([20]);
    expect(c.groups.filter((g) => !g.ok).map((g) => g.index)).toEqual([5]);
    expect(c.messages.join(' ')).toMatch(/1 character differs .* position 21/);
    expect(c.messages.join(' ')).not.toContain(FFEE_LEET.slice(9, 20));
  });
  it('compares with the typed identifier: another id is a valid copy with a different label', () => {
    const s = buildPaperSheet({ secretData: secret, codex32Id: 'cln2' });
    expect(compareCodex32Copy(s.codex32!.text, secret).matches).toBe(true);
    const c = compareCodex32Copy(s.codex32!.text, hexToBytes(setDigit(FFEE, 40, '0')));
    expect(c.matches).toBe(false);
  });
  it('flags characters that cannot be in codex32', () => {
    const typed = FFEE_LEET.slice(0, 30) + 'b' + FFEE_LEET.slice(31);
    const c = compareCodex32Copy(typed, secret);
    expect(c.badChars).toEqual([30]);
    expect(c.messages.join(' ')).toMatch(/Character 31 cannot appear/);
  });
});

describe('compareCopy / detectCopyKind', () => {
  it('chooses by the kind of copy', () => {
    expect(detectCopyKind(grouped(FFEE))).toBe('hex');
    expect(detectCopyKind(FFEE_LEET)).toBe('codex32');
    expect(detectCopyKind(ABANDON.mnemonic!)).toBe('words');
    expect(() => detectCopyKind('hello?')).toThrow(/not recognised/);
    expect(compareCopy(FFEE_LEET, { secretData: hexToBytes(FFEE) }).kind).toBe('codex32');
    const s = buildPaperSheet({ secretData: hexToBytes(FFEE) });
    expect(compareCopy(s.hex.map((l) => `${l.groups.join(' ')}  check ${l.check}`).join('\n'), { secretData: hexToBytes(FFEE) }).matches).toBe(true);
  });
});

describe('compareCopyWithNodeId', () => {
  it('derives the node id from each kind of copy', () => {
    expect(compareCopyWithNodeId(grouped(FFEE), FFEE_ID)).toMatchObject({ kind: 'hex', matches: true, derivedNodeId: FFEE_ID, canRepair: false });
    expect(compareCopyWithNodeId(FFEE_LEET, FFEE_ID.toUpperCase())).toMatchObject({ kind: 'codex32', matches: true });
    expect(compareCopyWithNodeId(ABANDON.mnemonic!, ABANDON.node_id)).toMatchObject({ kind: 'words', matches: true });
    expect(compareCopyWithNodeId(RITUAL.mnemonic!, RITUAL.node_id, { passphrase: 'test_passphrase' }).matches).toBe(true);
    expect(compareCopyWithNodeId(RITUAL.mnemonic!, RITUAL.node_id).matches).toBe(false);
  });

  it('a wrong digit: no match, a typo search can help; the message names no digit of the copy', () => {
    const c = compareCopyWithNodeId(setDigit(FFEE, 9, '0'), FFEE_ID);
    expect(c.matches).toBe(false);
    expect(c.canRepair).toBe(true);
    expect(c.derivedNodeId).toBe(bytesToHex(nodeIdFromSecret(hexToBytes(setDigit(FFEE, 9, '0')))));
    expectNoSecret(c.messages, FFEE);
  });

  it('pinpoints the bad line with the typed line checks', () => {
    const s = buildPaperSheet({ secretData: hexToBytes(FFEE) });
    const lines = s.hex.map((l) => `${l.groups.join(' ')} / ${l.check}`);
    lines[2] = setDigit(lines[2]!, 0, otherDigit(lines[2]![0]!));
    const c = compareCopyWithNodeId(lines.join('\n'), FFEE_ID);
    expect(c.lines!.map((l) => l.checkOk)).toEqual([true, true, false, true]);
    expect(c.messages.join('\n')).toMatch(/line 3 \(groups 9–12, digits 33–48\)/);
  });

  it('tells a typo in the typed node id from a wrong copy', () => {
    const typedId = FFEE_ID.slice(0, 40) + (FFEE_ID[40] === 'a' ? 'b' : 'a') + FFEE_ID.slice(41);
    const c = compareCopyWithNodeId(FFEE, typedId);
    expect(c).toMatchObject({ matches: false, nodeIdTypo: true, nodeIdDiffers: [40], canRepair: false });
    expect(c.messages[0]).toMatch(/node id you typed probably has a typo/);
  });

  it('words with a bad checksum can be repaired; too few words cannot', () => {
    const w = ABANDON.mnemonic!.split(' ');
    w[3] = 'ability';
    expect(compareCopyWithNodeId(w.join(' '), ABANDON.node_id)).toMatchObject({ matches: false, derivedNodeId: null, canRepair: true });
    expect(compareCopyWithNodeId(w.slice(1).join(' '), ABANDON.node_id)).toMatchObject({ canRepair: false });
  });

  it('refuses a node id that is not 66 hex digits starting 02/03', () => {
    expect(() => compareCopyWithNodeId(FFEE, FFEE_ID.slice(2))).toThrow(/66 hex digits/);
    expect(() => compareCopyWithNodeId(FFEE, '04' + FFEE_ID.slice(2))).toThrow(/02 or 03/);
  });
});

/**
 * shared/paper/sheet.ts: layout, line checks, codex32 identifier, renderings.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import vectors from '../vectors/cln/known-answers.json';
import {
  buildPaperSheet,
  codex32IdFromAlias,
  defaultCodex32Id,
  lineCheck,
  lineChecks,
  renderSheetHtml,
  renderSheetText,
} from '../../shared/paper/sheet';
import { parseTypedHexCopy } from '../../shared/paper/copyText';
import { compareHexCopy } from '../../shared/paper/compare';
import { bytesToHex, hexToBytes } from '../../shared/bytes';
import { decodeCodex32 } from '../../shared/codex32';

const FFEE = 'ffeeddccbbaa99887766554433221100'.repeat(2);
const FFEE_ID = '033d329abba85f6496778496d4af55e175931cb3fb8227ac6132394ee6ed30db01';
const MODERN_L1 = vectors.hsm_secret_cases.find((c) => c.name === 'pyln-testing modern l1')!;
const RITUAL = vectors.hsm_secret_cases.find((c) => c.format === 'mnemonic_with_pass')!;
const secretArb = fc.uint8Array({ minLength: 32, maxLength: 32 });

describe('line checks', () => {
  it('are the first 2 hex digits of SHA-256("<n>:<16 digits>") (values from `printf … | sha256sum`)', () => {
    // printf '1:ffeeddccbbaa9988' | sha256sum → d2…; printf '2:7766554433221100' | sha256sum → 65…
    expect(lineCheck(0, 'ffeeddccbbaa9988')).toBe('d2');
    expect(lineCheck(1, '7766554433221100')).toBe('65');
    expect(lineCheck(0, 'FFEEDDCCBBAA9988')).toBe('d2');
    expect(lineChecks(FFEE)).toEqual(['d2', '65', '15', 'd6']);
  });
  it('depend on the line number (two equal lines get different checks)', () => {
    expect(lineCheck(0, FFEE.slice(0, 16))).not.toBe(lineCheck(2, FFEE.slice(0, 16)));
  });
  it('refuse a wrong line index or length', () => {
    expect(() => lineCheck(4, FFEE.slice(0, 16))).toThrow(RangeError);
    expect(() => lineCheck(0, FFEE.slice(0, 15))).toThrow(RangeError);
  });
});

describe('codex32 identifier', () => {
  it("follows exposesecret's alias rule (lower-case, bech32 characters only, padded with x)", () => {
    expect(codex32IdFromAlias('JUNIORBEAM')).toBe('junr'); // cln-facts §4
    expect(codex32IdFromAlias('Bob')).toBe('xxxx');
    expect(codex32IdFromAlias('a1-é9')).toBe('a9xx');
    expect(codex32IdFromAlias('')).toBe('xxxx');
  });
  it('defaults to the alias, else to the node id', () => {
    expect(defaultCodex32Id({ alias: 'leet' })).toBe('leet');
    const id = defaultCodex32Id({ nodeId: hexToBytes(FFEE_ID) });
    expect(id).toMatch(/^[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{4}$/);
    expect(defaultCodex32Id({})).toBe('xxxx');
  });
});

describe('buildPaperSheet', () => {
  it('lays out a plain secret: 4 lines × 4 groups × 4 digits with checks, codex32, node id in groups', () => {
    const s = buildPaperSheet({ secretData: hexToBytes(FFEE), codex32Id: 'leet', label: 'my node', date: '2026-11-23' });
    expect(s.secretKind).toBe('plain');
    expect(s.hex).toHaveLength(4);
    for (const l of s.hex) {
      expect(l.groups).toHaveLength(4);
      for (const g of l.groups) expect(g).toMatch(/^[0-9a-f]{4}$/);
    }
    expect(s.hex.flatMap((l) => l.groups).join('')).toBe(FFEE);
    expect(s.hex.map((l) => l.check)).toEqual(['d2', '65', '15', 'd6']);
    expect(s.codex32!.text).toBe('cl10leetsllhdmn9m42vcsamx24zrxgs3qrl7ahwvhw4fnzrhve25gvezzyqqjdsjnzedu43ns'); // cln-facts §4
    expect(s.codex32!.groups.join('')).toBe(s.codex32!.text);
    expect(s.codex32!.lines.flat().join('')).toBe(s.codex32!.text);
    expect(s.nodeId.hex).toBe(FFEE_ID);
    expect(s.nodeId.prefix + s.nodeId.groups.join('')).toBe(FFEE_ID);
    expect(s.nodeId.lines).toHaveLength(2);
    expect(s.handwrittenNodeId.flat().reduce((a, b) => a + b, 0)).toBe(66);
    expect(s.words).toBeNull();
    expect(s.label).toBe('my node');
  });

  it('for a mnemonic node prints the words and the first 32 bytes of the seed, and warns about the wallet', () => {
    const s = buildPaperSheet({ secretData: hexToBytes(MODERN_L1.secret_data_hex), mnemonic: MODERN_L1.mnemonic!, codex32Id: 'cln2' });
    expect(s.secretKind).toBe('mnemonic');
    expect(s.words!.words.join(' ')).toBe(MODERN_L1.mnemonic);
    expect(s.codex32!.text).toBe('cl10cln2smms5axpgnml3svm0urkrvv2cuvxmz0xyd3dlfhaljvcy5wuu2gtse0ls5gdqx00px'); // cln-facts §4
    expect(s.hex.flatMap((l) => l.groups).join('')).toBe(MODERN_L1.secret_data_hex.slice(0, 64));
    expect(s.nodeId.hex).toBe(MODERN_L1.node_id);
    expect(s.notes.join(' ')).toMatch(/NOT the on-chain wallet/);
  });

  it('for a mnemonic node with a passphrase prints only the words (the digits would bypass the passphrase)', () => {
    const p = buildPaperSheet({ secretData: hexToBytes(RITUAL.secret_data_hex), mnemonic: RITUAL.mnemonic!, passphraseUsed: true });
    expect(p.words!.passphraseUsed).toBe(true);
    expect(p.hex).toEqual([]);
    expect(p.codex32).toBeNull();
    expect(p.notes.join(' ')).toMatch(/passphrase, which is NOT on this sheet/);
    expect(p.nodeId.hex).toBe(RITUAL.node_id);
    for (const text of [renderSheetText(p), renderSheetHtml(p)]) {
      expect(text).not.toContain('test_passphrase');
      expect(text).not.toContain(RITUAL.secret_data_hex.slice(0, 4) + ' ' + RITUAL.secret_data_hex.slice(4, 8));
      expect(text).not.toMatch(/cl10/);
      expect(text).toContain('wedding');
    }
  });

  it('refuses wrong inputs', () => {
    expect(() => buildPaperSheet({ secretData: new Uint8Array(31) })).toThrow(/32 bytes/);
    expect(() => buildPaperSheet({ secretData: hexToBytes(FFEE), mnemonic: 'abandon about' })).toThrow(/64-byte seed/);
    expect(() => buildPaperSheet({ secretData: hexToBytes(FFEE), codex32Id: 'b0b!' })).toThrow(/Invalid id/);
  });

  it('any secret: the printed lines typed back (with their checks) read as the same secret and compare equal', () => {
    fc.assert(
      fc.property(secretArb, (secret) => {
        const s = buildPaperSheet({ secretData: secret });
        const typed = s.hex.map((l) => `${l.groups.join(' ')}  check ${l.check}`).join('\n');
        const t = parseTypedHexCopy(typed);
        expect(t.hex).toBe(bytesToHex(secret));
        expect(t.lineChecks).toEqual(s.hex.map((l) => l.check));
        const c = compareHexCopy(typed, secret);
        expect(c.matches).toBe(true);
        expect(c.lines.every((l) => l.checkOk === true)).toBe(true);
        expect(decodeCodex32(s.codex32!.text, 'cl').payload).toEqual(secret);
      }),
      { numRuns: 25 },
    );
  });
});

describe('renderings', () => {
  const s = buildPaperSheet({ secretData: hexToBytes(FFEE), codex32Id: 'leet', label: '<b>"x"</b> & co', date: '2026-11-23' });

  it('HTML is self-contained: inline CSS, a CSP forbidding loads, no scripts, no external URLs', () => {
    const html = renderSheetHtml(s);
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain("default-src 'none'");
    expect(html).not.toMatch(/<script|javascript:|https?:\/\/|src=|<link|@import|url\(/i);
    for (const l of s.hex) {
      for (const g of l.groups) expect(html).toContain(`>${g}<`);
      expect(html).toContain(`>${l.check}<`);
    }
    for (const g of s.codex32!.groups) expect(html).toContain(`>${g}<`);
    expect(html).toContain('&lt;b&gt;&quot;x&quot;&lt;/b&gt; &amp; co');
    expect(html).not.toContain('<b>"x"</b>');
  });

  it('plain text has the lines with their checks, the codex32 groups and the node id', () => {
    const text = renderSheetText(s);
    expect(text).toContain('line 1:  ffee ddcc bbaa 9988   check d2');
    expect(text).toContain('cl10 leet sllh dmn9 m42v');
    expect(text).toContain('03 3d32 9abb a85f 6496 7784 96d4 af55 e175');
    // the text lines, typed back as they are printed, read as the secret
    const hexLines = text.split('\n').filter((l) => /^ {2}line \d:/.test(l)).map((l) => l.replace(/^ {2}line \d:/, ''));
    expect(parseTypedHexCopy(hexLines.join('\n')).hex).toBe(FFEE);
  });
});

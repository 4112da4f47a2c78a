import { describe, expect, it } from 'vitest';
import vectors from '../vectors/cln/known-answers.json';
import {
  classifySecretFile,
  decodeHsmSecretFile,
  decodeSecretFileContent,
  detectHsmSecretFormat,
  detectSecretTextKind,
  encodeHsmSecretFile,
  getsecretText,
  exposesecretCodex32,
  hsmSecretNeedsPassphrase,
  nodeIdHex,
  normaliseHexCopy,
  parseSecretText,
  secretFilePassphraseNeed,
  forgetSecret,
  type HsmSecretFormat,
  type LoadedSecret,
} from '../../shared/secrets/hsmSecret';
import { UnknownWordError, mnemonicToSeedRaw } from '../../shared/secrets/words';
import { groupHexCopy, hexDigitPlace } from '../../shared/secrets/hexCopy';
import {
  decryptLegacyHsmSecret,
  deriveLegacyEncryptionKey,
  encryptLegacyHsmSecret,
} from '../../shared/secrets/legacyEncryption';
import { CldcbError } from '../../shared/errors';
import { bytesToHex, concatBytes, hexToBytes, utf8 } from '../../shared/bytes';
import { sha256 } from '../../shared/crypto/hash';

const FORMAT: Record<string, HsmSecretFormat> = {
  plain32: 'plain',
  mnemonic_no_pass: 'mnemonic',
  mnemonic_with_pass: 'mnemonic-passphrase',
};
const FFEE = 'ffeeddccbbaa99887766554433221100'.repeat(2);
const FFEE_ID = '033d329abba85f6496778496d4af55e175931cb3fb8227ac6132394ee6ed30db01';
const ABANDON = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';
const ABANDON_ID = '03653e90c1ce4660fd8505dd6d643356e93cfe202af109d382787639dd5890e87d';
const RITUAL = 'ritual idle hat sunny universe pluck key alpha wing cake have wedding';
const HOCKEY = 'hockey enroll sure trip track rescue original plate abandon abandon abandon account';
const enc = vectors.encrypted_legacy;

/** Every secret-looking value the tests use: no error message may contain one. */
const SECRETS: string[] = [FFEE, enc.plaintext_hex, enc.password, 'test_passphrase', ...Object.keys(vectors.codex32_cl), ...Object.values(vectors.codex32_cl)];
for (const c of vectors.hsm_secret_cases) SECRETS.push(c.secret_data_hex, c.secret_data_hex.slice(0, 64), c.codex32_cl_id_leet_first32);
// Adjacent word pairs of the test mnemonics, and the words the typo tests damage.
const MNEMONIC_PAIRS = [ABANDON, RITUAL, HOCKEY].flatMap((m) => m.split(' ').slice(1).map((w, i) => `${m.split(' ')[i]} ${w}`));
const TYPO_WORDS = ['abandon', 'about', 'sunny', 'ritual', 'wedding', 'hockey'];
const messages: string[] = [];

async function rejects(p: Promise<unknown> | (() => unknown)): Promise<CldcbError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    if (e instanceof CldcbError) {
      messages.push(e.message);
      return e;
    }
    throw e;
  }
  throw new Error('expected a CldcbError');
}

describe('known answers: every hsm_secret case, file → secret_data → node id (cln-facts §1, §2)', () => {
  for (const c of vectors.hsm_secret_cases) {
    it(c.name, async () => {
      const file = hexToBytes(c.hsm_secret_file_hex);
      const format = FORMAT[c.format]!;
      expect(detectHsmSecretFormat(file)).toBe(format);
      expect(hsmSecretNeedsPassphrase(format)).toBe(c.passphrase !== null);
      const s = await decodeHsmSecretFile(file, c.passphrase ?? undefined);
      expect(s.format).toBe(format);
      expect(s.source).toBe('file');
      expect(bytesToHex(s.secretData)).toBe(c.secret_data_hex);
      expect(s.mnemonic ?? null).toBe(c.mnemonic);
      expect(nodeIdHex(s)).toBe(c.node_id);
      // Writing it back in its own format gives the same file.
      const back = await encodeHsmSecretFile(s, format as 'plain' | 'mnemonic' | 'mnemonic-passphrase', c.passphrase ?? undefined);
      expect(bytesToHex(back)).toBe(c.hsm_secret_file_hex);
      // getsecret: codex32 for plain files, the words for mnemonic files (cln-facts §4/§5).
      if (format === 'plain') expect(getsecretText(s, 'leet')).toBe(c.codex32_cl_id_leet_first32);
      else expect(getsecretText(s, 'leet')).toBe(c.mnemonic);
    });
  }

  it('the same words as text give the same secret and node id; legacy meaning gives the codex32 of seed[0..32]', async () => {
    for (const c of vectors.hsm_secret_cases.filter((x) => x.mnemonic)) {
      const modern = await parseSecretText(c.mnemonic!, { passphrase: c.passphrase ?? undefined });
      expect(modern.format).toBe(FORMAT[c.format]);
      expect(modern.source).toBe('words');
      expect(bytesToHex(modern.secretData)).toBe(c.secret_data_hex);
      const legacy = await parseSecretText(c.mnemonic!, { passphrase: c.passphrase ?? undefined, mnemonicMeaning: 'legacy-generatehsm' });
      expect(legacy.format).toBe('plain');
      expect(bytesToHex(legacy.secretData)).toBe(c.secret_data_hex.slice(0, 64));
      expect(getsecretText(legacy, 'leet')).toBe(c.codex32_cl_id_leet_first32);
    }
  });
});

describe('legacy encrypted hsm_secret (cln-facts §1b)', () => {
  const file = hexToBytes(enc.file_hex);

  it('Argon2id MODERATE key of the known password', async () => {
    expect(bytesToHex(await deriveLegacyEncryptionKey(enc.password))).toBe(enc.argon2id_key);
  });

  it('opens with its password → plaintext and node id', async () => {
    expect(detectHsmSecretFormat(file)).toBe('encrypted');
    const s = await decodeHsmSecretFile(file, enc.password);
    expect(s.format).toBe('encrypted');
    expect(bytesToHex(s.secretData)).toBe(enc.plaintext_hex);
    expect(nodeIdHex(s)).toBe(enc.node_id);
    // getsecret: we print the codex32 of the decrypted secret (hsmtool refuses; documented).
    expect(getsecretText(s, 'leet')).toMatch(/^cl10leets[02-9ac-hj-np-z]{65}$/);
    expect((await parseSecretText(getsecretText(s, 'leet'))).secretData).toEqual(s.secretData);
    // And it can be exported as a plain file.
    expect(bytesToHex(await encodeHsmSecretFile(s, 'plain'))).toBe(enc.plaintext_hex);
  });

  it('a wrong password → wrong_passphrase; none → passphrase_required', async () => {
    expect((await rejects(decodeHsmSecretFile(file, 'not the password'))).code).toBe('wrong_passphrase');
    expect((await rejects(decodeHsmSecretFile(file))).code).toBe('passphrase_required');
  });

  it('encrypt → decrypt round trip; a flipped bit fails the MAC', async () => {
    const key = await deriveLegacyEncryptionKey(enc.password);
    const secret = hexToBytes(FFEE);
    const f = await encryptLegacyHsmSecret(secret, key);
    expect(f).toHaveLength(73);
    expect(await decryptLegacyHsmSecret(f, key)).toEqual(secret);
    f[40] = f[40]! ^ 1;
    expect(await decryptLegacyHsmSecret(f, key)).toBeNull();
  });
});

describe('mnemonic with passphrase', () => {
  const c = vectors.hsm_secret_cases.find((x) => x.format === 'mnemonic_with_pass')!;
  const file = hexToBytes(c.hsm_secret_file_hex);

  it('stored hash is SHA256(seed) (cln-facts §1c)', () => {
    expect(bytesToHex(file.subarray(0, 32))).toBe('61ce9e277eb9894701400a422e43ba27c7d9d10b72bad52c16a411d2dbaf82f1');
    expect(bytesToHex(sha256(hexToBytes(c.secret_data_hex)))).toBe(bytesToHex(file.subarray(0, 32)));
  });
  it('wrong / missing passphrase', async () => {
    expect((await rejects(decodeHsmSecretFile(file, 'test_passphrasE'))).code).toBe('wrong_passphrase');
    expect((await rejects(decodeHsmSecretFile(file, ''))).code).toBe('wrong_passphrase');
    expect((await rejects(decodeHsmSecretFile(file))).code).toBe('passphrase_required');
  });
  it('a passphrase for an unprotected file → passphrase_not_needed ("" counts as none)', async () => {
    const plain = hexToBytes(FFEE);
    expect((await rejects(decodeHsmSecretFile(plain, 'x'))).code).toBe('passphrase_not_needed');
    expect((await decodeHsmSecretFile(plain, '')).format).toBe('plain');
    const abandonFile = concatBytes(new Uint8Array(32), utf8(ABANDON));
    expect((await rejects(decodeHsmSecretFile(abandonFile, 'x'))).code).toBe('passphrase_not_needed');
  });
  it('a non-ASCII passphrase set in another Unicode spelling still opens the file (only the real bytes verify)', async () => {
    const nfd = 'cafe\u0301';
    const seed = mnemonicToSeedRaw(ABANDON, nfd);
    const f = concatBytes(sha256(seed), utf8(ABANDON));
    const s = await decodeHsmSecretFile(f, 'caf\u00e9'); // typed precomposed
    expect(s.secretData).toEqual(seed);
    expect(s.format).toBe('mnemonic-passphrase');
    // and it can be written back with the typed spelling: same bytes as before
    expect(await encodeHsmSecretFile(s, 'mnemonic-passphrase', 'caf\u00e9')).toEqual(f);
  });
});

describe('two meanings of words (cln-facts §3)', () => {
  it('same node id, different secretData', async () => {
    const modern = await parseSecretText(HOCKEY);
    const legacy = await parseSecretText(HOCKEY, { mnemonicMeaning: 'legacy-generatehsm' });
    expect(modern.secretData).toHaveLength(64);
    expect(legacy.secretData).toHaveLength(32);
    expect(modern.secretData).not.toEqual(legacy.secretData);
    expect(nodeIdHex(modern)).toBe(nodeIdHex(legacy));
    expect(nodeIdHex(modern)).toBe('038194b5f32bdf0aa59812c86c4ef7ad2f294104fa027d1ace9b469bb6f88cf37b'); // cln-facts §11 modern l1
    expect(legacy.mnemonic).toBe(HOCKEY);
  });
  it('checkhsm vectors: old generatehsm = seed[0..32] (tests/test_wallet.py)', async () => {
    const words = 'blame expire peanut sell door zoo bundle motor truth outside artist siren';
    const a = await parseSecretText(words, { mnemonicMeaning: 'legacy-generatehsm' });
    expect(bytesToHex(a.secretData)).toBe('31bb58d1180831868fd5f562bb74659dca1e9673d034af635df53d677b9e5f03');
    const b = await parseSecretText(words, { mnemonicMeaning: 'legacy-generatehsm', passphrase: 'passphrase' });
    expect(bytesToHex(b.secretData)).toBe('161d740bcfd3c5e2a1769159bee86868ab35e7544e83e825042a43b929ad950c');
  });
  it('pyln modern node ids from words (cln-facts §11)', async () => {
    const table: [string, string][] = [
      ['original play abandon abandon abandon achieve', '033845802d25b4e074ccfd7cd8b339a41dc75bf9978a034800444b51d42b07799a'],
      ['original plate credit abandon abandon account', '03bc58fe7d4266a770de2f5a6cc3d3576e8dd21ac15badeaecfe111dd97be7a486'],
    ];
    for (const [tail, id] of table) expect(nodeIdHex(await parseSecretText(`hockey enroll sure trip track rescue ${tail}`))).toBe(id);
  });
  it('an empty passphrase is no passphrase for words', async () => {
    expect((await parseSecretText(ABANDON, { passphrase: '' })).format).toBe('mnemonic');
  });
});

describe('text input', () => {
  it('hex with separators, groups, line breaks, upper case and 0x', async () => {
    const grouped = groupHexCopy(FFEE).toUpperCase();
    expect(grouped.split('\n')).toHaveLength(4);
    for (const t of [FFEE, grouped, `0x${FFEE}`, FFEE.replace(/(.{4})/g, '$1-'), `  ${FFEE.slice(0, 30)}\r\n${FFEE.slice(30)}\n`]) {
      const s = await parseSecretText(t);
      expect(s.source).toBe('hex');
      expect(s.format).toBe('plain');
      expect(bytesToHex(s.secretData)).toBe(FFEE);
      expect(nodeIdHex(s)).toBe(FFEE_ID);
    }
  });
  it('64 hex with one non-hex character: position and group are named, not the digits', async () => {
    const bad = FFEE.slice(0, 21) + 'g' + FFEE.slice(22);
    const e = await rejects(() => normaliseHexCopy(bad));
    expect(e.code).toBe('bad_hex');
    expect(e.message).toContain('character 22');
    expect(e.message).toContain('digit 22: line 2, group 2, position 2 of 4');
    // with separators, the text position and the digit position differ
    const e2 = await rejects(() => normaliseHexCopy(groupHexCopy(FFEE).replace(/^(\S{4} \S{2})\S/, '$1O')));
    expect(e2.message).toContain('character 8 of the text');
    expect(e2.message).toContain('digit 7: line 1, group 2, position 3 of 4');
    expect(e2.message).toContain('perhaps the digit 0');
    expect(hexDigitPlace(63)).toEqual({ digit: 64, group: 16, line: 4, groupInLine: 4, inGroup: 4 });
    // through parseSecretText too
    expect((await rejects(parseSecretText(bad))).code).toBe('bad_hex');
  });
  it('wrong length says how many digits were found', async () => {
    const e = await rejects(parseSecretText(FFEE.slice(0, 62)));
    expect(e.code).toBe('bad_length');
    expect(e.message).toContain('found 62 hex digits');
    expect((await rejects(parseSecretText(FFEE + 'ab'))).message).toContain('found 66 hex digits');
  });
  it('codex32 strings from cln-facts §4 → the secret', async () => {
    const l1 = '6c696768746e696e672d31000000000000000000000000000000000000000000';
    const modernL1 = bytesToHex(mnemonicToSeedRaw(HOCKEY).subarray(0, 32));
    const table: [string, string][] = [
      ...(Object.entries(vectors.codex32_cl) as [string, string][]),
      ['cl10leetsd35kw6r5de5kueedxyqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqx40rwlh8cnywa', l1],
      ['cl10junxsd35kw6r5de5kueedxyqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq6mdtn5lql6p8m', l1],
      ['cl10cln2sd35kw6r5de5kueedxyqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq2v3y60yxxn4mq', l1],
      ['cl10strasmms5axpgnml3svm0urkrvv2cuvxmz0xyd3dlfhaljvcy5wuu2gts07pad39rz85w6', modernL1],
      ['cl10junxsmms5axpgnml3svm0urkrvv2cuvxmz0xyd3dlfhaljvcy5wuu2gtsfcrlankxlxmaa', modernL1],
      ['cl10cln2smms5axpgnml3svm0urkrvv2cuvxmz0xyd3dlfhaljvcy5wuu2gtse0ls5gdqx00px', modernL1],
    ];
    for (const [str, hex] of table) {
      expect(detectSecretTextKind(str)).toBe('codex32');
      const s = await parseSecretText(str);
      expect(s).toMatchObject({ format: 'plain', source: 'codex32' });
      expect(bytesToHex(s.secretData)).toBe(hex);
      // and getsecret with the same id prints the same string
      expect(getsecretText(s, str.slice(4, 8))).toBe(str);
    }
    // upper case is fine (hsmtool / BIP-93), as are surrounding spaces and line breaks
    const upper = await parseSecretText(`  ${Object.keys(vectors.codex32_cl)[0]!.toUpperCase()}\n`);
    expect(bytesToHex(upper.secretData)).toBe(FFEE);
  });
  it('bad codex32: mixed case, checksum, bad hrp, ms1, passphrase given', async () => {
    const good = Object.keys(vectors.codex32_cl)[0]!;
    const mixed = good.slice(0, 10) + good.slice(10).toUpperCase();
    expect((await rejects(parseSecretText(mixed))).code).toBe('bad_input');
    expect((await rejects(parseSecretText(mixed))).message).toMatch(/upper-case and lower-case/);
    // test_recover's bad string (truncated, upper case)
    expect((await rejects(parseSecretText('CL10LEETSLLHDMN9M42VCSAMX24ZRXGS3QQAT3LTDVAKMT73'))).code).toMatch(/bad_checksum|bad_length/);
    const typo = good.slice(0, 20) + (good[20] === 'q' ? 'p' : 'q') + good.slice(21);
    expect((await rejects(parseSecretText(typo))).code).toBe('bad_checksum');
    expect((await rejects(parseSecretText('ms10testsxxxxxxxxxxxxxxxxxxxxxxxxxx4nzvca9cmczlw'))).code).toBe('unsupported');
    expect((await rejects(parseSecretText(good, { passphrase: 'x' }))).code).toBe('passphrase_not_needed');
    // a 16-byte "cl" secret (BIP-93 TV1 re-encoded with hrp cl, cln-facts §4) is not a CLN secret
    expect((await rejects(parseSecretText('cl10testsxxxxxxxxxxxxxxxxxxxxxxxxxyuprcuufa2mu5h'))).code).toBe('bad_length');
    // a share of a 2-of-n split is not accepted either
    expect((await rejects(parseSecretText('cl12names6xqguzttxkeqnjsjzv4jv3nz55cy0u5qmexe88h'))).code).toMatch(/unsupported|bad_length/);
  });
  it('words: bad checksum names positions; unknown word suggests without leaking', async () => {
    const e = await rejects(parseSecretText('abandon '.repeat(12)));
    expect(e.code).toBe('bad_checksum');
    expect(e.message).toContain('check words 1–12');
    const u = await rejects(parseSecretText(RITUAL.replace('sunny', 'sunnny')));
    expect(u).toBeInstanceOf(UnknownWordError);
    expect((u as UnknownWordError).position).toBe(4);
    expect((u as UnknownWordError).suggestions).toContain('sunny');
  });
  it('detectSecretTextKind', () => {
    expect(detectSecretTextKind(FFEE)).toBe('hex');
    expect(detectSecretTextKind(groupHexCopy('ffeeddccbbaaffeeddccbbaaffeeddccbbaaffeeddccbbaaffeeddccbbaaabcd'))).toBe('hex');
    expect(detectSecretTextKind(FFEE.slice(0, 20) + 'x' + FFEE.slice(21))).toBe('hex');
    expect(detectSecretTextKind(ABANDON)).toBe('words');
    expect(detectSecretTextKind('abandn aboot')).toBe('words');
    expect(detectSecretTextKind('CL10LEET…')).toBe('codex32');
    expect(detectSecretTextKind('')).toBe('unknown');
    expect(detectSecretTextKind('hello, world!')).toBe('unknown');
    expect(detectSecretTextKind('☃☃☃')).toBe('unknown');
  });
  it('a hex copy typed with O for 0 and l/I for 1 is hex, with the precise hex error (not "word 1 is not in the BIP39 list")', async () => {
    // every 0 typed as the letter O and every 1 as l: most groups are then all letters
    const typed = groupHexCopy('ffeeddccbbaa00110011001100110011001100110011001100110011abcd0011').replace(/0/g, 'O').replace(/1/g, 'l');
    expect(detectSecretTextKind(typed)).toBe('hex');
    const e = await rejects(parseSecretText(typed));
    expect(e.code).toBe('bad_hex');
    expect(e.message).toMatch(/"O", is not a hex digit .*perhaps the digit 0/);
    // real words made only of hex letters and look-alikes stay words
    expect(detectSecretTextKind('oil boil dose')).toBe('words');
  });
  it('unrecognised text → bad_input', async () => {
    expect((await rejects(parseSecretText('!!!'))).code).toBe('bad_input');
  });
});

describe('bad files', () => {
  it('empty, 31 bytes → truncated', async () => {
    expect((await rejects(() => detectHsmSecretFormat(new Uint8Array(0)))).code).toBe('truncated');
    const e = await rejects(decodeHsmSecretFile(hexToBytes(FFEE).subarray(0, 31)));
    expect(e.code).toBe('truncated');
    expect(e.message).toContain('only 31 bytes');
  });
  it('72 bytes (an encrypted file missing its last byte) → truncated', async () => {
    const e = await rejects(() => detectHsmSecretFormat(hexToBytes(enc.file_hex).subarray(0, 72)));
    expect(e.code).toBe('truncated');
    expect(e.message).toContain('missing its last 1 bytes');
  });
  it('random bytes of another size → not_hsm_secret; a text file → not_hsm_secret with a hint', async () => {
    const junk = new Uint8Array(100).map((_, i) => (i * 37 + 1) & 255);
    expect((await rejects(() => detectHsmSecretFormat(junk))).code).toBe('not_hsm_secret');
    const text = await rejects(() => detectHsmSecretFormat(utf8(FFEE + '\n')));
    expect(text.code).toBe('not_hsm_secret');
    expect(text.message).toMatch(/text file/);
    // zeros followed by binary junk (also when shorter than 73 bytes: not an encrypted file)
    expect((await rejects(() => detectHsmSecretFormat(concatBytes(new Uint8Array(32), new Uint8Array(60).fill(1))))).code).toBe('not_hsm_secret');
    const z = await rejects(() => detectHsmSecretFormat(concatBytes(new Uint8Array(32), new Uint8Array(20).fill(1))));
    expect(z.code).toBe('not_hsm_secret');
    expect(z.message).toMatch(/starts with 32 zero bytes/);
  });
  it('mnemonic file: bad checksum, unknown word, trailing newline (lightningd would refuse)', async () => {
    const mk = (t: string) => concatBytes(new Uint8Array(32), utf8(t));
    expect((await rejects(decodeHsmSecretFile(mk('abandon '.repeat(11) + 'abandon')))).code).toBe('bad_checksum');
    const u = await rejects(decodeHsmSecretFile(mk(ABANDON.replace('about', 'abuot'))));
    expect(u.code).toBe('unknown_word');
    expect((u as UnknownWordError).position).toBe(12);
    const nl = await rejects(decodeHsmSecretFile(mk(ABANDON + '\n')));
    expect(nl.code).toBe('bad_input');
    expect(nl.message).toMatch(/not even a line break/);
    const upper = await rejects(decodeHsmSecretFile(mk(ABANDON.toUpperCase())));
    expect(upper.code).toBe('bad_input');
    expect(upper.message).toMatch(/lower-case English words/);
  });
});

describe('encodeHsmSecretFile refusals (would change the wallet)', () => {
  it('refuses a 64-byte seed as plain, and a 32-byte legacy secret as mnemonic', async () => {
    const modern = await parseSecretText(ABANDON);
    const e = await rejects(encodeHsmSecretFile(modern, 'plain'));
    expect(e.code).toBe('unsupported');
    expect(e.message).toMatch(/different on-chain wallet/);
    const legacy = await parseSecretText(ABANDON, { mnemonicMeaning: 'legacy-generatehsm' });
    expect((await rejects(encodeHsmSecretFile(legacy, 'mnemonic'))).code).toBe('unsupported');
    expect(bytesToHex(await encodeHsmSecretFile(legacy, 'plain'))).toBe(vectors.codex32_cl['cl10peevst6cqh0wu7p5ssjyf4z4ez42ks9jlt3zneju9uuypr2hddak6tlqsjhsks4laxts8q']);
  });
  it('needs the words and the same passphrase', async () => {
    const plain = await parseSecretText(FFEE);
    expect((await rejects(encodeHsmSecretFile(plain, 'mnemonic'))).code).toBe('unsupported');
    const withPass = await parseSecretText(RITUAL, { passphrase: 'test_passphrase' });
    expect((await rejects(encodeHsmSecretFile(withPass, 'mnemonic'))).code).toBe('unsupported');
    expect((await rejects(encodeHsmSecretFile(withPass, 'mnemonic-passphrase'))).code).toBe('passphrase_required');
    expect((await rejects(encodeHsmSecretFile(withPass, 'mnemonic-passphrase', 'other'))).code).toBe('wrong_passphrase');
    const c = vectors.hsm_secret_cases.find((x) => x.format === 'mnemonic_with_pass')!;
    expect(bytesToHex(await encodeHsmSecretFile(withPass, 'mnemonic-passphrase', 'test_passphrase'))).toBe(c.hsm_secret_file_hex);
    expect((await rejects(encodeHsmSecretFile(plain, 'plain', 'x'))).code).toBe('passphrase_not_needed');
    const noPass = await parseSecretText(ABANDON);
    expect((await rejects(encodeHsmSecretFile(noPass, 'mnemonic', 'x'))).code).toBe('passphrase_not_needed');
  });
});

describe('getsecretText ids (CLN codex32_secret_encode rules)', () => {
  it('requires a valid 4-character id for a 32-byte secret', async () => {
    const s = await parseSecretText(FFEE);
    expect((await rejects(() => getsecretText(s))).message).toMatch(/Must set an id/);
    expect((await rejects(() => getsecretText(s, 'lee'))).message).toMatch(/must be 4 characters/);
    expect((await rejects(() => getsecretText(s, 'leeb'))).message).toMatch(/valid bech32/);
    expect((await rejects(() => getsecretText(s, 'LEET'))).message).toMatch(/lower-case/);
    expect((await rejects(() => getsecretText(s, 'le\u00e9t'))).message).toMatch(/ASCII/);
    expect(getsecretText(s, 'leet')).toBe(Object.keys(vectors.codex32_cl)[0]);
  });
  it('ignores the id for mnemonic secrets and never prints the passphrase', async () => {
    const s = await parseSecretText(RITUAL, { passphrase: 'test_passphrase' });
    expect(getsecretText(s)).toBe(RITUAL);
    expect(getsecretText(s, 'junk')).toBe(RITUAL);
  });
});

describe('exposesecretCodex32 (the exposesecret plugin: secretData[0..32] for any format, cln-facts §4)', () => {
  it('modern l1 and abandon give the strings CLN prints', async () => {
    const hockey = await parseSecretText(HOCKEY);
    expect(exposesecretCodex32(hockey, 'stra')).toBe('cl10strasmms5axpgnml3svm0urkrvv2cuvxmz0xyd3dlfhaljvcy5wuu2gts07pad39rz85w6');
    expect(exposesecretCodex32(hockey, 'junx')).toBe('cl10junxsmms5axpgnml3svm0urkrvv2cuvxmz0xyd3dlfhaljvcy5wuu2gtsfcrlankxlxmaa');
    const abandon = await parseSecretText(ABANDON);
    expect(exposesecretCodex32(abandon, 'peev')).toBe('cl10peevst6cqh0wu7p5ssjyf4z4ez42ks9jlt3zneju9uuypr2hddak6tlqsjhsks4laxts8q');
    expect((await rejects(() => exposesecretCodex32(abandon, 'x'))).code).toBe('bad_input');
  });
});

describe('files of unknown kind (binary or text copies)', () => {
  it('classifies binary formats and text kinds', async () => {
    expect(classifySecretFile(hexToBytes(FFEE))).toEqual({ kind: 'binary', format: 'plain' });
    expect(classifySecretFile(hexToBytes(enc.file_hex))).toEqual({ kind: 'binary', format: 'encrypted' });
    expect(classifySecretFile(concatBytes(new Uint8Array(32), utf8(ABANDON)))).toEqual({ kind: 'binary', format: 'mnemonic' });
    expect(classifySecretFile(utf8(`${FFEE}\n`))).toEqual({ kind: 'text', textKind: 'hex' });
    expect(classifySecretFile(utf8(`\ufeff${ABANDON}\r\n`))).toEqual({ kind: 'text', textKind: 'words' });
    expect(classifySecretFile(utf8(Object.keys(vectors.codex32_cl)[0]!))).toEqual({ kind: 'text', textKind: 'codex32' });
    // a 73-byte text file is text, not an encrypted file
    const w73 = 'abandon '.repeat(11).trim() + ' about';
    const t73 = (w73 + ' '.repeat(73)).slice(0, 73);
    expect(classifySecretFile(utf8(t73))).toEqual({ kind: 'text', textKind: 'words' });
    expect((await rejects(() => classifySecretFile(utf8('hello, world!\n'), 'notes.txt'))).message).toMatch(/^notes\.txt is a text file/);
    expect(secretFilePassphraseNeed({ kind: 'text', textKind: 'words' })).toBe('optional');
    expect(secretFilePassphraseNeed({ kind: 'text', textKind: 'hex' })).toBe('none');
    expect(secretFilePassphraseNeed({ kind: 'binary', format: 'encrypted' })).toBe('required');
  });
  it('decodes text copies and names the file in errors', async () => {
    const s = await decodeSecretFileContent(utf8(`${groupHexCopy(FFEE)}\n`), { what: 'paper.txt' });
    expect(s.source).toBe('hex');
    expect(nodeIdHex(s)).toBe(FFEE_ID);
    const w = await decodeSecretFileContent(utf8(`${ABANDON}\n`));
    expect(nodeIdHex(w)).toBe(ABANDON_ID);
    const e = await rejects(decodeSecretFileContent(utf8(RITUAL.replace('hat', 'hta') + '\n'), { what: 'words.txt' }));
    expect(e).toBeInstanceOf(UnknownWordError);
    expect(e.message).toMatch(/^words\.txt: Word 3 of 12/);
    expect((await rejects(decodeSecretFileContent(hexToBytes(FFEE).subarray(0, 31), { what: 'hsm_secret' }))).message).toMatch(/^hsm_secret: /);
  });
});

describe('hygiene', () => {
  it('forgetSecret zeroizes', async () => {
    const s: LoadedSecret = await parseSecretText(FFEE);
    forgetSecret(s);
    expect(s.secretData.every((b) => b === 0)).toBe(true);
  });
  it('no error message above contains secret material', () => {
    expect(messages.length).toBeGreaterThan(40);
    for (const m of messages) {
      const lower = m.toLowerCase();
      for (const s of SECRETS) expect(lower).not.toContain(s.toLowerCase());
      for (const p of MNEMONIC_PAIRS) expect(lower).not.toContain(p);
      for (const w of lower.match(/[a-z]+/g) ?? []) expect(TYPO_WORDS.includes(w), `"${w}" in: ${m}`).toBe(false);
    }
  });
});

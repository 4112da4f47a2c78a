import { describe, expect, it } from 'vitest';
import vectors from '../vectors/cln/known-answers.json';
import { bytesToHex, hexToBytes, utf8 } from '../../shared/bytes';
import { CldcbError } from '../../shared/errors';
import {
  derivedSecretBase,
  describeScbKeyBase,
  makeSecret,
  SCB_SECRET_LABEL,
  scbKey,
  scbKeyCandidates,
} from '../../shared/scb/secrets';

describe('derived secrets / makesecret (cln-facts §9)', () => {
  for (const c of vectors.hsm_secret_cases) {
    it(`${c.name}: derived_secret_base and every makesecret label`, () => {
      const sd = hexToBytes(c.secret_data_hex);
      expect(bytesToHex(derivedSecretBase(sd))).toBe(c.derived_secret_base);
      for (const [label, want] of Object.entries(c.makesecret)) expect(bytesToHex(makeSecret(sd, label)), label).toBe(want);
      expect(bytesToHex(scbKey(sd))).toBe(c.makesecret['scb secret']);
    });
  }

  it('scb key of legacy l1 equals the top-level known answer', () => {
    expect(bytesToHex(scbKey(hexToBytes(vectors.hsm_secret_cases[0]!.secret_data_hex)))).toBe(vectors['scb_key_lightning-1_legacy']);
  });

  it('makesecret takes the label as bytes too (the RPC hex form 73636220736563726574)', () => {
    const sd = hexToBytes(vectors.hsm_secret_cases[0]!.secret_data_hex);
    expect(bytesToHex(makeSecret(sd, hexToBytes('73636220736563726574')))).toBe(bytesToHex(makeSecret(sd, SCB_SECRET_LABEL)));
    expect(bytesToHex(makeSecret(sd, utf8('commando')))).toBe(vectors.hsm_secret_cases[0]!.makesecret.commando);
  });

  it('mnemonic nodes use all 64 bytes: the key differs from the first-32-bytes key', () => {
    const modern = vectors.hsm_secret_cases.find((c) => c.name === 'pyln-testing modern l5')!;
    const sd = hexToBytes(modern.secret_data_hex);
    expect(sd.length).toBe(64);
    expect(bytesToHex(scbKey(sd))).toBe('80eebdbc5ec75ba007e26deea7a0392d0e413b38a0eedb99b4e3ec7d6d181038');
    expect(bytesToHex(scbKey(sd.subarray(0, 32)))).not.toBe(bytesToHex(scbKey(sd)));
  });

  it('scbKeyCandidates: one key for 32 bytes, two (whole seed first) for 64', () => {
    const legacy = hexToBytes(vectors.hsm_secret_cases[0]!.secret_data_hex);
    const one = scbKeyCandidates(legacy);
    expect(one.map((c) => c.base)).toEqual(['secret_data']);
    const seed = hexToBytes(vectors.hsm_secret_cases.find((c) => c.format === 'mnemonic_no_pass')!.secret_data_hex);
    const two = scbKeyCandidates(seed);
    expect(two.map((c) => c.base)).toEqual(['secret_data', 'secret_data_first_32']);
    expect(bytesToHex(two[0]!.key)).toBe(bytesToHex(scbKey(seed)));
    expect(bytesToHex(two[1]!.key)).toBe(bytesToHex(scbKey(seed.subarray(0, 32))));
  });

  it('rejects secrets that are not 32 or 64 bytes, with CldcbError bad_length', () => {
    for (const n of [0, 31, 33, 63, 65]) {
      try {
        derivedSecretBase(new Uint8Array(n));
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(CldcbError);
        expect((e as CldcbError).code).toBe('bad_length');
      }
    }
    expect(() => scbKey('x' as unknown as Uint8Array)).toThrow(CldcbError);
  });

  it('describes which key opened a file', () => {
    expect(describeScbKeyBase('secret_data', 64)).toMatch(/whole 64-byte/);
    expect(describeScbKeyBase('secret_data', 32)).toMatch(/32-byte hsm_secret/);
    expect(describeScbKeyBase('secret_data_first_32', 64)).toMatch(/codex32/);
  });
});

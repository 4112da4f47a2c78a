import { describe, expect, it } from 'vitest';
import vectors from '../vectors/cln/known-answers.json';
import { nodeIdFromSecret, nodePrivateKey } from '../../shared/secrets/nodeKey';
import { bytesToHex, hexToBytes } from '../../shared/bytes';

describe('node key (cln-facts §2)', () => {
  for (const c of vectors.hsm_secret_cases) {
    it(`${c.name}`, () => {
      const secret = hexToBytes(c.secret_data_hex);
      expect(bytesToHex(nodePrivateKey(secret))).toBe(c.node_privkey);
      expect(bytesToHex(nodeIdFromSecret(secret))).toBe(c.node_id);
    });
  }
  it('rejects a secret of the wrong length', () => {
    expect(() => nodePrivateKey(new Uint8Array(31))).toThrow(/expected 32 or 64 bytes/);
  });
});

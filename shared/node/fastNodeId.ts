/**
 * The fastest correct node-id derivation available here, for searches that
 * derive hundreds of thousands of node ids (typo repair of a paper copy).
 * Same result as shared/secrets/nodeKey.ts (cln-facts.md §2; hsmd/libhsmd.c
 * node_key()), cross-checked in test/node/typoRepair.test.ts:
 *
 *   priv = HKDF-SHA256(ikm = secret[0..32], salt = LE32(0), info = "nodeid", L = 32)
 *        = HMAC(PRK, "nodeid" ‖ 0x01) with PRK = HMAC(LE32(0), ikm)   (RFC 5869 §2.2–2.3, one block)
 *   (salt 1, 2, … only if priv is not a valid secp256k1 key — never seen in practice)
 *   node id = compressed pubkey (33 bytes)
 *
 * Speed (measured on this machine, one core): node:crypto HMAC pair ≈ 4 µs,
 * native libsecp256k1 `publicKeyCreate` ≈ 20 µs, so ≈ 40,000 candidates/s per
 * core. The pubkey dominates; precomputing the HMAC pads with createHash().copy()
 * was measured slower (5 µs) than two createHmac calls, so we do not.
 *
 * Secrets: the PRK and private-key buffers are zeroized after each candidate.
 * OpenSSL's internal HMAC state is freed by Node and cannot be wiped from here.
 */
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import secp256k1 from 'secp256k1';
import { CldcbError } from '../errors';
import { cStringBytes } from '../secrets/words';

const INFO_BLOCK1 = Buffer.from('nodeid\x01', 'latin1'); // info ‖ counter 0x01 (RFC 5869 T(1))

function salt(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0, 0);
  return b;
}
const SALT0 = salt(0);

/**
 * The node private key of a 32-byte secret (only the first 32 bytes of a
 * 64-byte seed are used, as CLN does). Zeroize the result after use.
 * @throws CldcbError bad_length when the secret is not 32 or 64 bytes.
 */
export function fastNodePrivateKey(secret: Uint8Array): Buffer {
  if (secret.length !== 32 && secret.length !== 64)
    throw new CldcbError('bad_length', `secret: expected 32 or 64 bytes, got ${secret.length}.`);
  const ikm = secret.length === 32 ? secret : secret.subarray(0, 32);
  for (let n = 0; ; n++) {
    const prk = createHmac('sha256', n === 0 ? SALT0 : salt(n)).update(ikm).digest();
    const priv = createHmac('sha256', prk).update(INFO_BLOCK1).digest();
    prk.fill(0);
    if (secp256k1.privateKeyVerify(priv)) return priv;
    priv.fill(0);
  }
}

/**
 * The 33-byte compressed node id of a secret, written into `out` when given.
 * @throws CldcbError bad_length when the secret is not 32 or 64 bytes.
 * @example bytesToHex(fastNodeId(new Uint8Array(32).fill(1))) // 026f61d7…6002 (cln-facts §2)
 */
export function fastNodeId(secret: Uint8Array, out: Uint8Array = new Uint8Array(33)): Uint8Array {
  const priv = fastNodePrivateKey(secret);
  try {
    return secp256k1.publicKeyCreate(priv, true, out);
  } finally {
    priv.fill(0);
  }
}

/**
 * A test for searches: true when `candidate32` derives `targetNodeId` (33
 * bytes). Reuses one output buffer; compares all 33 bytes.
 * @throws CldcbError bad_length when the target is not 33 bytes.
 */
export function nodeIdMatcher(targetNodeId: Uint8Array): (candidate32: Uint8Array) => boolean {
  if (targetNodeId.length !== 33) throw new CldcbError('bad_length', `node id: expected 33 bytes, got ${targetNodeId.length}.`);
  const target = Uint8Array.from(targetNodeId);
  const out = new Uint8Array(33);
  return (candidate32) => {
    fastNodeId(candidate32, out);
    let d = 0;
    for (let i = 0; i < 33; i++) d |= out[i]! ^ target[i]!;
    return d === 0;
  };
}

/**
 * A test for word searches: true when `words` (BIP39 English words) have a
 * valid BIP39 checksum and, with `passphrase`, give `targetNodeId`.
 * The checksum is checked first (node:crypto SHA-256, ≈ 1 µs) so only 1 in 16
 * (12 words) to 1 in 256 (24 words) candidates pay for the seed
 * (PBKDF2-HMAC-SHA512, 2048 rounds, ≈ 1 ms). The seed is computed over the raw
 * bytes, as libwally/CLN (no NFKD; words.ts `mnemonicToSeedRaw`), and zeroized.
 * @param wordlist the English list (words.ts ENGLISH_WORDS).
 */
export function mnemonicNodeIdMatcher(
  targetNodeId: Uint8Array,
  wordlist: readonly string[],
  passphrase?: string,
): (words: readonly string[]) => boolean {
  const match = nodeIdMatcher(targetNodeId);
  const index = new Map(wordlist.map((w, i) => [w, i] as const));
  const p = passphrase === undefined ? Buffer.alloc(0) : Buffer.from(cStringBytes(passphrase));
  const salt = Buffer.concat([Buffer.from('mnemonic', 'latin1'), p]);
  p.fill(0);
  const entropy = Buffer.alloc(33);
  return (words) => {
    const n = words.length;
    if (n < 12 || n > 24 || n % 3 !== 0) return false;
    const entBits = (n * 32) / 3;
    const entBytes = entBits / 8;
    const csBits = n / 3;
    entropy.fill(0);
    let bit = 0;
    for (const w of words) {
      const v = index.get(w);
      if (v === undefined) {
        entropy.fill(0);
        return false;
      }
      for (let b = 10; b >= 0; b--, bit++) if ((v >> b) & 1) entropy[bit >> 3]! |= 0x80 >> (bit & 7);
    }
    const h = createHash('sha256').update(entropy.subarray(0, entBytes)).digest();
    const want = h[0]! >> (8 - csBits);
    const have = csBits === 8 ? entropy[entBytes]! : entropy[entBytes]! >> (8 - csBits);
    h.fill(0);
    entropy.fill(0);
    if (want !== have) return false;
    const mnemonic = Buffer.from(words.join(' '), 'latin1');
    const seed = pbkdf2Sync(mnemonic, salt, 2048, 64, 'sha512');
    mnemonic.fill(0);
    try {
      return match(seed.subarray(0, 32));
    } finally {
      seed.fill(0);
    }
  };
}

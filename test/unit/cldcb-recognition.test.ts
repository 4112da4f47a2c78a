import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes, utf8 } from '../../shared/bytes';
import { sha256 } from '../../shared/crypto/hash';
import { CldcbError } from '../../shared/errors';
import { CURVE_N, nobleSecp, normalizeSignature } from '../../shared/cldcb/curve';
import { parseClientId, parseNodeId } from '../../shared/cldcb/ids';
import {
  checkRecognition,
  decodeRecognitionRecord,
  encodeRecognitionRecord,
  findOwnRecords,
  formatRecognitionCodesFile,
  makeRecognitionChecker,
  parseRecognitionCodesFile,
  recognitionMessage,
  recognitionMessageForClient,
  signedMessageHash,
  signRecognitionCode,
  verifyRecognitionAsClient,
} from '../../shared/cldcb/recognition';

// Throw-away sample keys (test/fixtures/cldcb/README.md).
const NPK = hexToBytes('1ff8408eee5b9d9d65ca6d3698067b551f93aef9b548f05520369ed435383673');
const NID = parseNodeId('026e373091ec9644ae7bd820233fc2225bb9f7f12fd2c74dabfdc2ff261988c935');
const CPK = hexToBytes('257f11cd46fb5c79fce3f13a24b9be2d90dde2348575d58657667e6bc035ff3f');
const CID = parseClientId('c2f8853660663e584024d4efbd84c77b61de13941cffeb0e8a41fb06ce46373637');
const NSIG = hexToBytes(
  '04193b32a9d9234e8ecbb1c787d2b5d2686019a639a8d93ebe181a901a22693b534dceaea0b1818d0578347ba0ca8f95128a81b6583a5fbc8e7bc30071a64e77',
);

function highS(sig: Uint8Array): Uint8Array {
  let s = 0n;
  for (const b of sig.subarray(32)) s = (s << 8n) | BigInt(b);
  const out = sig.slice();
  let t = CURVE_N - s;
  for (let i = 63; i >= 32; i--) {
    out[i] = Number(t & 0xffn);
    t >>= 8n;
  }
  return out;
}

describe('recognition codes (cldcb-protocol §4)', () => {
  it('builds the message of §4 (the example ECDH of the sample keys)', () => {
    const m = recognitionMessageForClient(CPK, NID);
    expect(m).toBe('DO NOT SIGN THIS UNLESS YOU WANT YOUR FUNDS TO BE STOLEN 296ca281811efdabe9fb1363382fa65e5d1fa266980debaf9a11d3538449eb0f');
    // Both sides of the ECDH agree.
    expect(bytesToHex(nobleSecp.ecdhHash(NPK, CID))).toBe(m.slice(-64));
    expect(() => recognitionMessage(new Uint8Array(31))).toThrow(/32 bytes/);
  });

  it('hashes like lightningd signmessage: SHA256(SHA256("Lightning Signed Message:" ‖ msg))', () => {
    expect(bytesToHex(signedMessageHash('abc'))).toBe(bytesToHex(sha256(sha256(utf8('Lightning Signed Message:abc')))));
  });

  it('the sample nsig verifies for (node, client) and not for other keys', () => {
    expect(checkRecognition(NPK, CID, NSIG)).toBe(true);
    expect(verifyRecognitionAsClient(CPK, NID, NSIG)).toBe(true);
    const otherNode = sha256(utf8('another node'));
    expect(checkRecognition(otherNode, CID, NSIG)).toBe(false);
    const otherClient = nobleSecp.publicKey(sha256(utf8('another client')));
    expect(checkRecognition(NPK, otherClient, NSIG)).toBe(false);
    const flipped = NSIG.slice();
    flipped[10]! ^= 1;
    expect(checkRecognition(NPK, CID, flipped)).toBe(false);
  });

  it('accepts the high-S form, as the original normalises before verifying', () => {
    const h = highS(NSIG);
    expect(bytesToHex(h)).not.toBe(bytesToHex(NSIG));
    expect(checkRecognition(NPK, CID, h)).toBe(true);
    expect(bytesToHex(normalizeSignature(h))).toBe(bytesToHex(NSIG));
  });

  it('signs deterministic low-S codes that verify', () => {
    const code = signRecognitionCode(NPK, CID);
    expect(bytesToHex(code)).toBe(bytesToHex(signRecognitionCode(NPK, CID)));
    expect(checkRecognition(NPK, CID, code)).toBe(true);
    expect(verifyRecognitionAsClient(CPK, NID, code)).toBe(true);
    expect(bytesToHex(normalizeSignature(code))).toBe(bytesToHex(code));
  });

  it('never throws on hostile records; throws CldcbError for a bad node key', () => {
    const check = makeRecognitionChecker(NPK);
    expect(check(new Uint8Array(33), NSIG)).toBe(false);
    expect(check(new Uint8Array([4, ...CID.subarray(1)]), NSIG)).toBe(false);
    expect(check(CID, new Uint8Array(64))).toBe(false);
    expect(check(CID, new Uint8Array(64).fill(0xff))).toBe(false);
    expect(check(CID, NSIG.subarray(0, 63))).toBe(false);
    expect(() => checkRecognition(new Uint8Array(32), CID, NSIG)).toThrow(CldcbError);
  });

  it('encodes and decodes 97-byte records', () => {
    const rec = encodeRecognitionRecord({ clientKey: CID, code: NSIG });
    expect(rec.length).toBe(97);
    const back = decodeRecognitionRecord(rec, true);
    expect(bytesToHex(back.clientKey)).toBe(bytesToHex(CID));
    expect(bytesToHex(back.code)).toBe(bytesToHex(NSIG));
    expect(() => decodeRecognitionRecord(rec.subarray(1))).toThrow(/97 bytes/);
    const bad = rec.slice();
    bad[0] = 4;
    expect(() => decodeRecognitionRecord(bad)).toThrow(/02 or 03/);
  });

  it('parses and writes the recognition_codes file format', () => {
    const line = `${bytesToHex(CID)} ${bytesToHex(NSIG)}\n`;
    expect(formatRecognitionCodesFile([{ clientKey: CID, code: NSIG }])).toBe(line);
    const recs = parseRecognitionCodesFile(`\n${line.toUpperCase().replace('\n', '\r\n')}\n`);
    expect(recs.length).toBe(1);
    expect(bytesToHex(recs[0]!.code)).toBe(bytesToHex(NSIG));
    expect(() => parseRecognitionCodesFile(`${line}c${line.slice(1)}`)).toThrow(/line 2: client key: must start with "0"/);
    expect(() => parseRecognitionCodesFile(`${bytesToHex(CID)}\n`)).toThrow(/line 1: expected "<client key> <code>"/);
    expect(() => parseRecognitionCodesFile(`${bytesToHex(CID)} abcd\n`)).toThrow(/line 1: code: expected 64 bytes/);
  });

  it('finds the node’s own records among others', () => {
    const others = [1, 2, 3].map((i) => {
      const k = sha256(utf8(`client ${i}`));
      return { clientKey: nobleSecp.publicKey(k), code: signRecognitionCode(sha256(utf8('node x')), nobleSecp.publicKey(k)) };
    });
    const mine = { clientKey: CID, code: NSIG };
    const found = findOwnRecords(NPK, [others[0]!, mine, others[1]!, others[2]!]);
    expect(found).toEqual([mine]);
  });
});

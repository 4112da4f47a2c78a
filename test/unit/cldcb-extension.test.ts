/**
 * Extension v1 (shared/cldcb/extension.ts, docs/PROTOCOL.md §3): the advertising ping, the
 * read token and verifier, and the 240–243 messages — the one definition the server, the
 * plugin's client and the recovery use.
 */
import { describe, expect, it } from 'vitest';
import { bytesToHex, concatBytes, hexToBytes, utf8 } from '../../shared/bytes';
import { sha256 } from '../../shared/crypto/hash';
import {
  advertisedVersion,
  advertisingPing,
  decodeProveRead,
  decodeSetReadVerifier,
  proveRead,
  readGranted,
  readToken,
  readVerifier,
  readVerifierStored,
  setReadVerifier,
} from '../../shared/cldcb/extension';
import { decodeMessage, parseMessage, MSG, ping } from '../../shared/cldcb/messages';

const C1 = hexToBytes('02f8853660663e584024d4efbd84c77b61de13941cffeb0e8a41fb06ce46373637');

describe('extension v1', () => {
  it('advertises itself in a ping an original client echoes (TLV 0 = 42 zeros, TLV 1 = u16 version)', () => {
    expect(bytesToHex(advertisingPing())).toBe('0008' + '00002a' + '00'.repeat(42) + '010002' + '0001' + 'ff0000');
    const m = decodeMessage(advertisingPing());
    expect(m.type).toBe('ping');
    if (m.type === 'ping') expect(advertisedVersion(m.tlvs)).toBe(1);
    const original = decodeMessage(ping());
    if (original.type === 'ping') expect(advertisedVersion(original.tlvs)).toBeUndefined();
  });

  it('T = SHA256("cldcb read token" ‖ S), V = SHA256(T)', () => {
    const s = sha256(utf8('an ECDH value'));
    const t = readToken(s);
    expect(bytesToHex(t)).toBe(bytesToHex(sha256(concatBytes(utf8('cldcb read token'), s))));
    expect(bytesToHex(readVerifier(t))).toBe(bytesToHex(sha256(t)));
    expect(() => readToken(new Uint8Array(31))).toThrow(expect.objectContaining({ code: 'bad_length' }));
    expect(() => readVerifier(new Uint8Array(33))).toThrow(expect.objectContaining({ code: 'bad_length' }));
  });

  it('240–243 round-trip, and malformed requests are protocol errors', () => {
    const v = sha256(utf8('v'));
    expect(bytesToHex(decodeSetReadVerifier(parseMessage(setReadVerifier(v))))).toBe(bytesToHex(v));
    const p = decodeProveRead(parseMessage(proveRead(C1, v)));
    expect([bytesToHex(p.clientKey), bytesToHex(p.token)]).toEqual([bytesToHex(C1), bytesToHex(v)]);
    expect(parseMessage(readVerifierStored()).id).toBe(MSG.readVerifierStored);
    expect(parseMessage(readGranted()).id).toBe(MSG.readGranted);
    expect(() => decodeSetReadVerifier(parseMessage(setReadVerifier(new Uint8Array(31))))).toThrow(expect.objectContaining({ code: 'protocol_error' }));
    expect(() => decodeProveRead(parseMessage(proveRead(Uint8Array.from({ length: 33 }, (_, i) => (i === 0 ? 2 : 0xff)), v)))).toThrow(expect.objectContaining({ code: 'protocol_error' }));
    expect(() => decodeProveRead(parseMessage(proveRead(C1, new Uint8Array(3))))).toThrow(expect.objectContaining({ code: 'protocol_error' }));
  });
});

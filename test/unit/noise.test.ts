/**
 * Noise_XK (BOLT 8) known answers: test/vectors/bolt8/transport.json, copied
 * from BOLT 8 Appendix A (see its _source). Every vector runs through both
 * AEAD implementations: the pure-JS default and the node:crypto one from
 * shared/node/nativeAead.ts (they must give identical bytes; the native
 * one is imported here, rather than in test/node, so one table covers both), and
 * the handshake vectors also with libsecp256k1's ECDH and public keys, as
 * shared/node/noiseSocket.ts runs them.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import vectors from '../vectors/bolt8/transport.json';
import { bytesToHex, hexToBytes, utf8 } from '../../shared/bytes';
import { CldcbError } from '../../shared/errors';
import { type Aead, nobleAead, noiseNonce } from '../../shared/noise/aead';
import { CipherState, HEADER_SIZE, MAX_FRAME, MAX_PAYLOAD, NoiseTransport } from '../../shared/noise/cipher';
import { ACT1_SIZE, NoiseInitiator, NoiseResponder, PROTOCOL_NAME } from '../../shared/noise/handshake';
import { hkdf2, isCompressedPubkey, nobleEcdh, publicKeyOf } from '../../shared/noise/primitives';
import { nativeAead } from '../../shared/node/nativeAead';
import { noiseHandshakeCrypto } from '../../shared/node/noiseSocket';

const h = (s: string): Uint8Array => hexToBytes(s);
const hex = bytesToHex;

interface Step {
  input?: string;
  output?: string;
}
interface Case {
  name: string;
  rs_pub?: string;
  ls_priv: string;
  ls_pub: string;
  e_priv: string;
  e_pub: string;
  steps: Step[];
  sk?: string;
  rk?: string;
  error?: string;
}
const initiatorCases = vectors.initiator as Case[];
const responderCases = vectors.responder as Case[];
const okInitiator = initiatorCases.find((c) => !c.error)!;
const okResponder = responderCases.find((c) => !c.error)!;

/** What each BOLT 8 failure must look like as a CldcbError. */
const EXPECTED_ERRORS: Record<string, { code: string; message: RegExp }> = {
  ACT1_READ_FAILED: { code: 'truncated', message: /act 1: expected 50 bytes, got 49/ },
  ACT2_READ_FAILED: { code: 'truncated', message: /act 2: expected 50 bytes, got 49/ },
  ACT3_READ_FAILED: { code: 'truncated', message: /act 3: expected 66 bytes, got 65/ },
  ACT1_BAD_VERSION: { code: 'protocol_error', message: /act 1: unsupported version byte 1/ },
  ACT2_BAD_VERSION: { code: 'protocol_error', message: /act 2: unsupported version byte 1/ },
  ACT3_BAD_VERSION: { code: 'protocol_error', message: /act 3: unsupported version byte 1/ },
  ACT1_BAD_PUBKEY: { code: 'protocol_error', message: /act 1: .*invalid ephemeral public key/ },
  ACT2_BAD_PUBKEY: { code: 'protocol_error', message: /act 2: .*invalid ephemeral public key/ },
  ACT3_BAD_PUBKEY: { code: 'protocol_error', message: /act 3: .*invalid static public key/ },
  ACT1_BAD_TAG: { code: 'protocol_error', message: /act 1: .*bad MAC.*wrong server id/ },
  ACT2_BAD_TAG: { code: 'protocol_error', message: /act 2: .*bad MAC/ },
  ACT3_BAD_CIPHERTEXT: { code: 'protocol_error', message: /act 3: .*static key did not authenticate \(bad MAC\)/ },
  ACT3_BAD_TAG: { code: 'protocol_error', message: /act 3: .*final tag did not authenticate \(bad MAC\)/ },
};

function expectCldcbError(fn: () => unknown, code: string, message?: RegExp): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(CldcbError);
  expect((thrown as CldcbError).code).toBe(code);
  if (message) expect((thrown as CldcbError).message).toMatch(message);
}

const AEADS: Aead[] = [nobleAead, nativeAead];

describe('BOLT 8 primitives', () => {
  it('vectors are the BOLT 8 appendix, with provenance', () => {
    expect(vectors._source.repo).toBe('lightning/bolts');
    expect(vectors._source.path).toBe('08-transport.md');
    expect(vectors._source.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(vectors.protocol_name).toBe(PROTOCOL_NAME);
    expect(initiatorCases).toHaveLength(5);
    expect(responderCases).toHaveLength(10);
  });

  it.each(vectors.hkdf_steps)('HKDF(ck=$salt_ck…) → ck, temp_k', (s) => {
    const [ck, k] = hkdf2(h(s.salt_ck), h(s.ikm));
    expect(hex(ck)).toBe(s.ck);
    expect(hex(k)).toBe(s.k);
  });

  it('nonce = 4 zero bytes ‖ u64 little-endian (BOLT 8 act 3 uses n = 1)', () => {
    expect(hex(noiseNonce(0))).toBe('000000000000000000000000');
    expect(hex(noiseNonce(1))).toBe('000000000100000000000000');
    expect(hex(noiseNonce(999))).toBe('00000000e703000000000000');
    expect(hex(noiseNonce(2 ** 32 + 2))).toBe('000000000200000001000000');
    expectCldcbError(() => noiseNonce(-1), 'internal');
  });

  it('static and ephemeral public keys of the vectors', () => {
    expect(hex(publicKeyOf(h(okInitiator.ls_priv), 'k'))).toBe(okInitiator.ls_pub);
    expect(hex(publicKeyOf(h(okInitiator.e_priv), 'k'))).toBe(okInitiator.e_pub);
    expect(hex(publicKeyOf(h(okResponder.ls_priv), 'k'))).toBe(okResponder.ls_pub);
    expect(hex(publicKeyOf(h(okResponder.e_priv), 'k'))).toBe(okResponder.e_pub);
  });

  it('ECDH = SHA256(compressed point): act 1 ss from both sides', () => {
    const ss1 = nobleEcdh(h(okInitiator.e_priv), h(okInitiator.rs_pub!));
    const ss2 = nobleEcdh(h(okResponder.ls_priv), h(okInitiator.e_pub));
    expect(hex(ss1)).toBe(vectors.hkdf_steps[0]!.ikm);
    expect(hex(ss2)).toBe(hex(ss1));
  });

  it('isCompressedPubkey accepts 02/03 points only', () => {
    expect(isCompressedPubkey(h(okInitiator.ls_pub))).toBe(true);
    expect(isCompressedPubkey(h('04' + okInitiator.ls_pub.slice(2)))).toBe(false);
    expect(isCompressedPubkey(h(okInitiator.ls_pub).subarray(0, 32))).toBe(false);
    expect(isCompressedPubkey(h('02' + 'ff'.repeat(32)))).toBe(false); // x ≥ p
    expect(isCompressedPubkey(h('02' + '00'.repeat(31) + '05'))).toBe(false); // x³+7 not a square
  });
});

const CURVES = [
  { name: 'noble', crypto: {} },
  { name: 'libsecp256k1', crypto: noiseHandshakeCrypto() },
];

it('libsecp256k1 is there for the socket layer (else the second handshake table would test noble twice)', () => {
  expect(noiseHandshakeCrypto().ecdh).toBeTypeOf('function');
  expect(noiseHandshakeCrypto().publicKey).toBeTypeOf('function');
  expect(noiseHandshakeCrypto().isPoint).toBeTypeOf('function');
});

for (const aead of AEADS) for (const curve of CURVES) {
  const opts = (c: Case) => ({ prologue: vectors.prologue, ephemeralKey: h(c.e_priv), aead, ...curve.crypto });
  const initiator = (c: Case) => new NoiseInitiator(h(c.ls_priv), h(c.rs_pub!), opts(c));
  const responder = (c: Case) => new NoiseResponder(h(c.ls_priv), opts(c));

  describe(`BOLT 8 handshake vectors (${aead.name} AEAD, ${curve.name} curve)`, () => {
    it('initiator: act 1, act 2, act 3 bytes, handshake hashes and final keys', () => {
      const c = okInitiator;
      const hs = initiator(c);
      const act1 = hs.writeAct1();
      expect(act1).toHaveLength(ACT1_SIZE);
      expect(hex(act1)).toBe(c.steps[0]!.output);
      expect(hex(hs.handshakeHash)).toBe(vectors.initiator_handshake_hashes[1]);
      hs.readAct2(h(c.steps[1]!.input!));
      expect(hex(hs.handshakeHash)).toBe(vectors.initiator_handshake_hashes[3]);
      const { act3, transport } = hs.writeAct3();
      expect(hex(act3)).toBe(c.steps[2]!.output);
      expect(hex(transport.handshakeHash)).toBe(vectors.initiator_handshake_hashes[4]);
      expect(hex(transport.remoteStatic)).toBe(c.rs_pub);
      const send = transport.send.exportState();
      const recv = transport.receive.exportState();
      expect(hex(send.key)).toBe(c.sk);
      expect(hex(recv.key)).toBe(c.rk);
      expect(hex(send.chainingKey)).toBe(vectors.messages.ck);
      expect(hex(recv.chainingKey)).toBe(vectors.messages.ck);
      expect([send.nonce, recv.nonce]).toEqual([0, 0]);
    });

    it('responder: act 1 in, act 2 bytes, act 3 in, learns the initiator key, final keys', () => {
      const c = okResponder;
      const hs = responder(c);
      hs.readAct1(h(c.steps[0]!.input!));
      expect(hex(hs.handshakeHash)).toBe(vectors.initiator_handshake_hashes[1]);
      expect(hex(hs.writeAct2())).toBe(c.steps[1]!.output);
      const transport = hs.readAct3(h(c.steps[2]!.input!));
      expect(hex(transport.remoteStatic)).toBe(okInitiator.ls_pub);
      expect(hex(transport.handshakeHash)).toBe(vectors.initiator_handshake_hashes[4]);
      expect(hex(transport.send.exportState().key)).toBe(c.sk);
      expect(hex(transport.receive.exportState().key)).toBe(c.rk);
      expect(hex(transport.send.exportState().chainingKey)).toBe(vectors.messages.ck);
    });

    for (const c of initiatorCases.filter((x) => x.error)) {
      it(`initiator failure: ${c.name} → ${c.error}`, () => {
        const want = EXPECTED_ERRORS[c.error!]!;
        const hs = initiator(c);
        expect(hex(hs.writeAct1())).toBe(c.steps[0]!.output);
        expectCldcbError(() => hs.readAct2(h(c.steps[1]!.input!)), want.code, want.message);
        // The handshake is dead and its secrets are wiped: no act 3.
        expectCldcbError(() => hs.writeAct3(), 'internal', /state failed/);
      });
    }

    for (const c of responderCases.filter((x) => x.error)) {
      it(`responder failure: ${c.name} → ${c.error}`, () => {
        const want = EXPECTED_ERRORS[c.error!]!;
        const hs = responder(c);
        const [act1, act2, act3] = c.steps;
        if (!act2) {
          expectCldcbError(() => hs.readAct1(h(act1!.input!)), want.code, want.message);
          expectCldcbError(() => hs.writeAct2(), 'internal');
          return;
        }
        hs.readAct1(h(act1!.input!));
        expect(hex(hs.writeAct2())).toBe(act2.output);
        expectCldcbError(() => hs.readAct3(h(act3!.input!)), want.code, want.message);
        expectCldcbError(() => hs.readAct3(h(okResponder.steps[2]!.input!)), 'internal');
      });
    }
  });

  describe(`BOLT 8 transport message vectors (${aead.name} AEAD, ${curve.name} curve)`, () => {
    const m = vectors.messages;
    const payload = h(m.payload_hex);
    const wanted = new Map(Object.entries(m.outputs).map(([k, v]) => [Number(k), v]));
    const last = Math.max(...wanted.keys());

    it('messages 0, 1, 500, 501, 1000, 1001 with two key rotations', () => {
      const send = new CipherState(h(m.sk), h(m.ck), aead);
      const tx = new NoiseTransport(send, new CipherState(h(m.rk), h(m.ck), aead), h(okInitiator.rs_pub!), new Uint8Array(32));
      for (let i = 0; i <= last; i++) {
        if (i === 500 || i === 1000) {
          const r = m.rotations[i / 500 - 1]!;
          const st = send.exportState();
          expect([hex(st.chainingKey), hex(st.key), st.nonce]).toEqual([r.ck_out, r.k_out, 0]);
        }
        const frame = tx.encryptMessage(payload);
        expect(frame).toHaveLength(HEADER_SIZE + payload.length + 16);
        const want = wanted.get(i);
        if (want !== undefined) expect(hex(frame)).toBe(want);
      }
    });

    it('the responder decrypts all 1002 frames (its receive key rotates in step)', () => {
      const a = new NoiseTransport(new CipherState(h(m.sk), h(m.ck), aead), new CipherState(h(m.rk), h(m.ck), aead), new Uint8Array(33), new Uint8Array(32));
      const b = new NoiseTransport(new CipherState(h(m.rk), h(m.ck), aead), new CipherState(h(m.sk), h(m.ck), aead), new Uint8Array(33), new Uint8Array(32));
      for (let i = 0; i <= last; i++) {
        const frame = a.encryptMessage(payload);
        const bodyLen = b.decryptHeader(frame.subarray(0, HEADER_SIZE));
        expect(bodyLen).toBe(payload.length + 16);
        expect(hex(b.decryptBody(frame.subarray(HEADER_SIZE)))).toBe(m.payload_hex);
      }
    });

    it('the handshake transports talk both ways and match the message vectors', () => {
      const ini = initiator(okInitiator);
      const res = responder(okResponder);
      res.readAct1(ini.writeAct1());
      ini.readAct2(res.writeAct2());
      const { act3, transport: ti } = ini.writeAct3();
      const tr = res.readAct3(act3);
      const f0 = ti.encryptMessage(payload);
      expect(hex(f0)).toBe(m.outputs['0']);
      tr.decryptHeader(f0.subarray(0, HEADER_SIZE));
      expect(hex(tr.decryptBody(f0.subarray(HEADER_SIZE)))).toBe(m.payload_hex);
      const back = tr.encryptMessage(utf8('world'));
      ti.decryptHeader(back.subarray(0, HEADER_SIZE));
      expect(ti.decryptBody(back.subarray(HEADER_SIZE))).toEqual(utf8('world'));
    });
  });
}

/** A full handshake between fresh random keys. */
function pair(prologue?: string, aead: Aead = nobleAead) {
  const clientKey = h('11'.repeat(32));
  const serverKey = h('21'.repeat(32));
  const serverPub = publicKeyOf(serverKey, 'server');
  const ini = new NoiseInitiator(clientKey, serverPub, { prologue, aead });
  const res = new NoiseResponder(serverKey, { prologue, aead });
  res.readAct1(ini.writeAct1());
  ini.readAct2(res.writeAct2());
  const { act3, transport: client } = ini.writeAct3();
  const server = res.readAct3(act3);
  return { client, server, clientPub: publicKeyOf(clientKey, 'client') };
}

describe('handshake with the cldcb prologue and random ephemeral keys', () => {
  it('default prologue is "CLDCB"; both sides agree', () => {
    const { client, server, clientPub } = pair();
    expect(server.remoteStatic).toEqual(clientPub);
    expect(client.handshakeHash).toEqual(server.handshakeHash);
    expect(client.send.exportState().key).toEqual(server.receive.exportState().key);
    // A "lightning" handshake between the same keys gives a different transcript.
    expect(pair('lightning').client.handshakeHash).not.toEqual(client.handshakeHash);
  });

  it('a prologue mismatch fails at act 1 (bad MAC)', () => {
    const serverKey = h('21'.repeat(32));
    const ini = new NoiseInitiator(h('11'.repeat(32)), publicKeyOf(serverKey, 's'), { prologue: 'lightning' });
    const res = new NoiseResponder(serverKey);
    expectCldcbError(() => res.readAct1(ini.writeAct1()), 'protocol_error', /act 1: .*bad MAC/);
  });

  it('an initiator expecting the wrong server key fails at act 1 on the server', () => {
    const ini = new NoiseInitiator(h('11'.repeat(32)), publicKeyOf(h('22'.repeat(32)), 'x'));
    const res = new NoiseResponder(h('21'.repeat(32)));
    expectCldcbError(() => res.readAct1(ini.writeAct1()), 'protocol_error', /wrong server id/);
  });

  it('two handshakes never reuse an ephemeral key', () => {
    const serverPub = publicKeyOf(h('21'.repeat(32)), 's');
    const a = new NoiseInitiator(h('11'.repeat(32)), serverPub).writeAct1();
    const b = new NoiseInitiator(h('11'.repeat(32)), serverPub).writeAct1();
    expect(a.subarray(1, 34)).not.toEqual(b.subarray(1, 34));
  });

  it('keys given by the caller are copied, not wiped or kept', () => {
    const ls = h('11'.repeat(32));
    const e = h('12'.repeat(32));
    const ini = new NoiseInitiator(ls, publicKeyOf(h('21'.repeat(32)), 's'), { ephemeralKey: e });
    ini.writeAct1();
    ini.abort();
    expect(hex(ls)).toBe('11'.repeat(32));
    expect(hex(e)).toBe('12'.repeat(32));
    expectCldcbError(() => ini.readAct2(new Uint8Array(50)), 'internal');
  });
});

describe('handshake properties', () => {
  const privKey = fc.uint8Array({ minLength: 32, maxLength: 32 }).filter((k) => {
    try {
      publicKeyOf(k, 'k');
      return true;
    } catch {
      return false;
    }
  });
  it('any keys and prologue: both sides agree and messages round-trip', () => {
    fc.assert(
      fc.property(privKey, privKey, fc.uint8Array({ maxLength: 16 }), fc.uint8Array({ maxLength: 300 }), (ck, sk, prologue, msg) => {
        const ini = new NoiseInitiator(ck, publicKeyOf(sk, 's'), { prologue });
        const res = new NoiseResponder(sk, { prologue, aead: nativeAead });
        res.readAct1(ini.writeAct1());
        ini.readAct2(res.writeAct2());
        const { act3, transport: a } = ini.writeAct3();
        const b = res.readAct3(act3);
        expect(b.remoteStatic).toEqual(publicKeyOf(ck, 'c'));
        const f = a.encryptMessage(msg);
        expect(b.decryptHeader(f.subarray(0, HEADER_SIZE))).toBe(msg.length + 16);
        expect(b.decryptBody(f.subarray(HEADER_SIZE))).toEqual(msg);
      }),
      { numRuns: 15 },
    );
  });

  it('the injected ECDH is the one used (three per side)', () => {
    let calls = 0;
    const ecdh = (priv: Uint8Array, pub: Uint8Array): Uint8Array => {
      calls++;
      return nobleEcdh(priv, pub);
    };
    const sk = h('21'.repeat(32));
    const ini = new NoiseInitiator(h('11'.repeat(32)), publicKeyOf(sk, 's'), { ecdh });
    const res = new NoiseResponder(sk, { ecdh });
    res.readAct1(ini.writeAct1());
    ini.readAct2(res.writeAct2());
    res.readAct3(ini.writeAct3().act3);
    expect(calls).toBe(6);
  });
});

describe('handshake input validation', () => {
  const good = h('11'.repeat(32));
  const pub = publicKeyOf(h('21'.repeat(32)), 's');
  const badPrivs: [string, unknown][] = [
    ['zero key', new Uint8Array(32)],
    ['key ≥ n', h('ff'.repeat(32))],
    ['31 bytes', new Uint8Array(31).fill(1)],
    ['33 bytes', new Uint8Array(33).fill(1)],
    ['a string', '11'.repeat(32)],
    ['undefined', undefined],
  ];
  it.each(badPrivs)('rejects a local static key: %s', (_n, k) => {
    expectCldcbError(() => new NoiseInitiator(k as Uint8Array, pub), 'bad_input', /local static key/);
    expectCldcbError(() => new NoiseResponder(k as Uint8Array), 'bad_input', /local static key/);
  });
  it.each(badPrivs.filter(([, k]) => k !== undefined))('rejects an ephemeral key: %s', (_n, k) => {
    expectCldcbError(() => new NoiseResponder(good, { ephemeralKey: k as Uint8Array }), 'bad_input', /ephemeral key/);
  });
  const badPubs: [string, unknown][] = [
    ['uncompressed prefix', h('04' + bytesToHex(pub).slice(2))],
    ['32 bytes', pub.subarray(1)],
    ['x not on the curve', h('02' + '00'.repeat(31) + '05')],
    ['65-byte key', new Uint8Array(65)],
    ['a hex string', bytesToHex(pub)],
    ['null', null],
  ];
  it.each(badPubs)('rejects a remote static key: %s', (_n, k) => {
    expectCldcbError(() => new NoiseInitiator(good, k as Uint8Array), 'bad_input', /remote static key/);
  });
  it('acts out of order are bugs (internal)', () => {
    const ini = new NoiseInitiator(good, pub);
    expectCldcbError(() => ini.readAct2(new Uint8Array(50)), 'internal', /readAct2 called in state act1/);
    const res = new NoiseResponder(h('21'.repeat(32)));
    expectCldcbError(() => res.writeAct2(), 'internal');
    expectCldcbError(() => res.readAct3(new Uint8Array(66)), 'internal');
  });
  it('a non-byte act is bad_input', () => {
    const res = new NoiseResponder(h('21'.repeat(32)));
    expectCldcbError(() => res.readAct1('00' as unknown as Uint8Array), 'bad_input');
  });
});

describe('transport framing', () => {
  it('a 65535-byte payload is one maximal frame; 65536 is refused', () => {
    const { client, server } = pair();
    const big = new Uint8Array(MAX_PAYLOAD).fill(7);
    const frame = client.encryptMessage(big);
    expect(frame).toHaveLength(MAX_FRAME);
    expect(server.decryptHeader(frame.subarray(0, HEADER_SIZE))).toBe(MAX_PAYLOAD + 16);
    expect(server.decryptBody(frame.subarray(HEADER_SIZE))).toEqual(big);
    expectCldcbError(() => client.encryptMessage(new Uint8Array(MAX_PAYLOAD + 1)), 'bad_length', /exceeds the maximum of 65535/);
    // The refused payload consumed no nonce: the next frame still decrypts.
    const next = client.encryptMessage(utf8('ok'));
    server.decryptHeader(next.subarray(0, HEADER_SIZE));
    expect(server.decryptBody(next.subarray(HEADER_SIZE))).toEqual(utf8('ok'));
  });

  it('an empty payload is a valid 34-byte frame', () => {
    const { client, server } = pair();
    const f = client.encryptMessage(new Uint8Array(0));
    expect(f).toHaveLength(34);
    expect(server.decryptHeader(f.subarray(0, HEADER_SIZE))).toBe(16);
    expect(server.decryptBody(f.subarray(HEADER_SIZE))).toHaveLength(0);
  });

  it('a flipped bit in the header or the body is a protocol error', () => {
    const { client, server } = pair();
    const f = client.encryptMessage(utf8('hello'));
    const badHeader = f.slice(0, HEADER_SIZE);
    badHeader[3]! ^= 1;
    expectCldcbError(() => server.decryptHeader(badHeader), 'protocol_error', /length header did not authenticate/);
    server.decryptHeader(f.subarray(0, HEADER_SIZE));
    const badBody = f.slice(HEADER_SIZE);
    badBody[badBody.length - 1]! ^= 0x80;
    expectCldcbError(() => server.decryptBody(badBody), 'protocol_error', /frame body did not authenticate/);
  });

  it('a replayed or reordered frame fails (nonces only move forward)', () => {
    const { client, server } = pair();
    const f1 = client.encryptMessage(utf8('one'));
    const f2 = client.encryptMessage(utf8('two'));
    expectCldcbError(() => server.decryptHeader(f2.subarray(0, HEADER_SIZE)), 'protocol_error');
    server.decryptHeader(f1.subarray(0, HEADER_SIZE));
    server.decryptBody(f1.subarray(HEADER_SIZE));
    expectCldcbError(() => server.decryptHeader(f1.subarray(0, HEADER_SIZE)), 'protocol_error');
  });

  it('misuse: body before header, wrong sizes, use after destroy', () => {
    const { client, server } = pair();
    const f = client.encryptMessage(utf8('x'));
    expectCldcbError(() => server.decryptBody(f.subarray(HEADER_SIZE)), 'internal');
    expectCldcbError(() => server.decryptHeader(f.subarray(0, 17)), 'bad_length');
    server.decryptHeader(f.subarray(0, HEADER_SIZE));
    expectCldcbError(() => server.decryptBody(f.subarray(HEADER_SIZE + 1)), 'bad_length', /expected 17 bytes, got 16/);
    expectCldcbError(() => server.decryptHeader(f.subarray(0, HEADER_SIZE)), 'internal');
    client.destroy();
    expectCldcbError(() => client.encryptMessage(utf8('x')), 'internal', /destroyed/);
    expectCldcbError(() => client.send.exportState(), 'internal');
  });

  it('CipherState rejects bad keys and nonces', () => {
    expectCldcbError(() => new CipherState(new Uint8Array(31), new Uint8Array(32)), 'bad_length');
    expectCldcbError(() => new CipherState(new Uint8Array(32), new Uint8Array(33)), 'bad_length');
    expectCldcbError(() => new CipherState(new Uint8Array(32), new Uint8Array(32), nobleAead, 1000), 'bad_length');
  });

  it('rotation happens independently per direction', () => {
    const { client, server } = pair();
    for (let i = 0; i < 500; i++) {
      const f = client.encryptMessage(new Uint8Array([i & 255]));
      server.decryptHeader(f.subarray(0, HEADER_SIZE));
      server.decryptBody(f.subarray(HEADER_SIZE));
    }
    expect(client.send.nonce).toBe(0);
    expect(client.send.exportState().key).not.toEqual(client.receive.exportState().key);
    expect(client.send.exportState()).toEqual(server.receive.exportState());
    expect(server.send.exportState().chainingKey).toEqual(client.receive.exportState().chainingKey);
    expect(server.send.nonce).toBe(0);
  });
});

describe('AEAD: noble and node:crypto give identical bytes', () => {
  it('random key, nonce, AD and plaintext (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 12, maxLength: 12 }),
        fc.uint8Array({ maxLength: 64 }),
        fc.uint8Array({ maxLength: 600 }),
        (key, nonce, ad, pt) => {
          const a = nobleAead.seal(key, nonce, ad, pt);
          const b = nativeAead.seal(key, nonce, ad, pt);
          expect(hex(b)).toBe(hex(a));
          expect(nativeAead.open(key, nonce, ad, a)).toEqual(pt);
          expect(nobleAead.open(key, nonce, ad, b)).toEqual(pt);
          if (a.length > 0) {
            const bad = a.slice();
            bad[bad.length - 1]! ^= 1;
            expect(nobleAead.open(key, nonce, ad, bad)).toBeNull();
            expect(nativeAead.open(key, nonce, ad, bad)).toBeNull();
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('wrong AD fails on both; RFC 8439-sized inputs checked', () => {
    for (const aead of AEADS) {
      const key = new Uint8Array(32).fill(9);
      const sealed = aead.seal(key, noiseNonce(5), utf8('ad'), utf8('text'));
      expect(aead.open(key, noiseNonce(5), utf8('AD'), sealed)).toBeNull();
      expect(aead.open(key, noiseNonce(6), utf8('ad'), sealed)).toBeNull();
      expectCldcbError(() => aead.seal(new Uint8Array(16), noiseNonce(0), new Uint8Array(0), new Uint8Array(0)), 'bad_length');
      expectCldcbError(() => aead.open(key, new Uint8Array(8), new Uint8Array(0), sealed), 'bad_length');
      expectCldcbError(() => aead.open(key, noiseNonce(0), new Uint8Array(0), new Uint8Array(15)), 'bad_length');
    }
  });
});

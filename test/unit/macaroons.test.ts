import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createRequire } from 'node:module';
import ref from '../vectors/lnd/reference-macaroons.json';
import gen from '../vectors/lnd/pymacaroons-lnd.json';
import { CldcbError } from '../../shared/errors';
import { bytesToHex, hexToBytes, utf8 } from '../../shared/bytes';
import {
  addFirstPartyCaveatsUnchecked,
  attenuateMacaroon,
  bakeLndMacaroon,
  caveatsFromOptions,
  checkLndCaveat,
  computeMacaroonSignature,
  customCaveat,
  decodeMacaroon,
  decodeMacaroonBinary,
  describeMacaroon,
  encodeMacaroon,
  formatGoRfc3339,
  ipAddrCaveat,
  ipRangeCaveat,
  macaroonToText,
  newMacaroon,
  parseGoRfc3339,
  parseLndIdentifier,
  parseRootKey,
  timeBeforeCaveat,
  verifyMacaroon,
  type Macaroon,
} from '../../shared/credentials/macaroons';
import { cidrContains, formatCidr, formatIp, parseCidr, parseIp } from '../../shared/credentials/ip';
import { inspectMacaroon } from '../../shared/credentials';

/** The go-macaroon JS port (npm `macaroon` 3.0.4), used only as an independent oracle. */
interface JsMacaroon {
  readonly location: string;
  readonly identifier: Uint8Array;
  readonly signature: Uint8Array;
  readonly caveats: { identifier: Uint8Array; location?: string; vid?: Uint8Array }[];
  addFirstPartyCaveat(c: Uint8Array | string): void;
  exportBinary(): Uint8Array;
  verify(rootKey: Uint8Array, check: (c: string) => string | null): void;
}
const jsMacaroon = createRequire(import.meta.url)('macaroon') as {
  newMacaroon(o: {
    identifier: Uint8Array;
    location: string;
    rootKey: Uint8Array;
    version: number;
  }): JsMacaroon;
  importMacaroon(b: Uint8Array): JsMacaroon;
};

function cldcbError(fn: () => unknown): CldcbError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CldcbError);
    return e as CldcbError;
  }
  throw new Error('expected a CldcbError, nothing was thrown');
}

const ROOT = hexToBytes(gen.root_key_hex);

describe('reference known answers', () => {
  it('libmacaroons README: signatures after each first-party caveat', () => {
    const r = ref.libmacaroons_readme;
    let m = newMacaroon(utf8(r.root_key_utf8), utf8(r.identifier_utf8), r.location);
    for (const s of r.steps) {
      if (s.caveat) m = addFirstPartyCaveatsUnchecked(m, [utf8(s.caveat)]);
      expect(bytesToHex(m.signature)).toBe(s.signature_hex);
    }
    expect(bytesToHex(computeMacaroonSignature(utf8(r.root_key_utf8), m.identifier, m.caveats))).toBe(
      r.steps[3]!.signature_hex,
    );
  });
  it('go-macaroon V2 binary with a third-party caveat: decode, chain, re-encode', () => {
    const g = ref.go_macaroon_v2_binary;
    const m = decodeMacaroon(hexToBytes(g.macaroon_hex));
    expect(m.location).toBe(g.location);
    expect(new TextDecoder().decode(m.identifier)).toBe(g.identifier_utf8);
    expect(m.caveats.map((c) => new TextDecoder().decode(c.id))).toEqual(g.caveats.map((c) => c.id_utf8));
    expect(m.caveats[1]!.location).toBe('http://auth.mybank/');
    expect(Buffer.from(m.caveats[1]!.verificationId!).toString('base64url')).toBe(
      g.caveats[1]!.vid_base64url,
    );
    expect(bytesToHex(m.signature)).toBe(g.signature_hex);
    expect(bytesToHex(computeMacaroonSignature(utf8(g.root_key_utf8), m.identifier, m.caveats))).toBe(
      g.signature_hex,
    );
    expect(bytesToHex(encodeMacaroon(m))).toBe(g.macaroon_hex);
    const d = describeMacaroon(m);
    expect(d.lncli).toBeNull();
    expect(d.caveats[1]).toMatchObject({ kind: 'third-party', location: 'http://auth.mybank/' });
  });
  it('lnd macaroon_jar_test dummy macaroon', () => {
    const j = ref.lnd_macaroon_jar_dummy;
    const m = decodeMacaroon(j.macaroon_hex);
    expect(m.location).toBe(j.location);
    expect(bytesToHex(m.identifier)).toBe(j.identifier_hex);
    expect(bytesToHex(m.signature)).toBe(j.signature_hex);
    expect(describeMacaroon(m).lnd).toBeNull();
  });
});

describe('LND macaroons made by pymacaroons (test/vectors/lnd/pymacaroons-lnd.json)', () => {
  for (const c of gen.cases) {
    it(c.name, () => {
      const m = decodeMacaroon(c.macaroon_hex);
      expect(bytesToHex(m.identifier)).toBe(c.identifier_hex);
      expect(describeMacaroon(m).lncli).toEqual(c.printmacaroon);
      expect(bytesToHex(computeMacaroonSignature(ROOT, m.identifier, m.caveats))).toBe(c.signature_hex);
      expect(bytesToHex(encodeMacaroon(m))).toBe(c.macaroon_hex);
      // Our own bake gives the same bytes from the same inputs.
      const baked = bakeLndMacaroon(ROOT, c.printmacaroon.permissions, {
        nonce: hexToBytes(gen.nonce_hex),
        rootKeyId: c.printmacaroon.root_key_id,
      });
      expect(bytesToHex(encodeMacaroon(attenuateMacaroon(baked, c.printmacaroon.caveats)))).toBe(
        c.macaroon_hex,
      );
      // Every text form decodes to the same macaroon.
      for (const f of ['hex', 'base64', 'base64url'] as const)
        expect(decodeMacaroon(macaroonToText(m, f))).toEqual(m);
      expect(decodeMacaroon(` ${c.macaroon_hex.toUpperCase()}\n`)).toEqual(m);
      expect(decodeMacaroon(utf8(macaroonToText(m, 'base64') + '\n'))).toEqual(m);
      expect(decodeMacaroon(encodeMacaroon(m))).toEqual(m);
    });
  }
  it('verifies: valid, expired, IP allowed / not allowed / unknown, wrong key', () => {
    const admin = decodeMacaroon(gen.cases[0]!.macaroon_hex);
    expect(verifyMacaroon(admin, ROOT)).toEqual({
      signatureValid: true,
      verdict: 'valid',
      reasons: [],
      caveats: [],
    });
    const wrong = verifyMacaroon(admin, new Uint8Array(32));
    expect(wrong.signatureValid).toBe(false);
    expect(wrong.verdict).toBe('invalid');
    expect(wrong.reasons[0]).toMatch(/^invalid signature/);

    const ro = decodeMacaroon(gen.cases[1]!.macaroon_hex);
    const before = new Date('2026-11-30T23:59:59.999Z');
    const ok = verifyMacaroon(ro, ROOT, { now: before, ip: '10.1.2.3' });
    // ipaddr 192.168.1.50 fails for 10.1.2.3 even though the iprange allows it.
    expect(ok.verdict).toBe('invalid');
    expect(ok.caveats.map((c) => c.status)).toEqual(['satisfied', 'failed', 'satisfied', 'depends']);
    expect(ok.caveats[1]!.reason).toBe('IP 10.1.2.3 not allowed (only 192.168.1.50)');
    const fromIp = verifyMacaroon(ro, ROOT, { now: before, ip: '192.168.1.50' });
    expect(fromIp.caveats.map((c) => c.status)).toEqual(['satisfied', 'satisfied', 'failed', 'depends']);
    expect(fromIp.caveats[2]!.reason).toBe('IP 192.168.1.50 not allowed (only 10.0.0.0/8)');
    const late = verifyMacaroon(ro, ROOT, { now: new Date('2026-12-01T00:00:00Z') });
    expect(late.caveats[0]).toMatchObject({ status: 'failed', reason: 'expired at 2026-12-01T00:00:00Z' });
    expect(late.caveats[1]!.status).toBe('depends');
    const sub = decodeMacaroon(gen.cases[2]!.macaroon_hex);
    expect(verifyMacaroon(sub, ROOT, { now: new Date('2030-01-02T03:04:05.123Z') }).verdict).toBe('valid');
    expect(verifyMacaroon(sub, ROOT, { now: new Date('2030-01-02T03:04:05.124Z') }).reasons).toEqual([
      'caveat 1: expired at 2030-01-02T03:04:05.123456789Z',
    ]);
  });
  it('conditional when only the client address is unknown; custom caveats depend on lnd', () => {
    const m = attenuateMacaroon(bakeLndMacaroon(ROOT, ['info:read']), [ipAddrCaveat('::ffff:1.2.3.4')]);
    const v = verifyMacaroon(m, ROOT);
    expect(v.verdict).toBe('conditional');
    expect(v.reasons).toEqual(['caveat 1: only from IP address 1.2.3.4 (client address not given)']);
    expect(verifyMacaroon(m, ROOT, { ip: '1.2.3.4' }).verdict).toBe('valid');
    expect(verifyMacaroon(m, ROOT, { ip: '::ffff:1.2.3.4' }).verdict).toBe('valid');
    expect(verifyMacaroon(m, ROOT, { ip: '1.2.3.5' }).reasons).toEqual([
      'caveat 1: IP 1.2.3.5 not allowed (only 1.2.3.4)',
    ]);
  });
  it('describes in plain words', () => {
    const d = describeMacaroon(decodeMacaroon(gen.cases[1]!.macaroon_hex));
    expect(d.expiresAt).toBe('2026-12-01T00:00:00Z');
    expect(d.lnd?.rootKeyId).toBe('0');
    expect(d.lnd?.nonceHex).toBe(gen.nonce_hex);
    expect(d.summary).toEqual([
      'permissions: address: read; info: read; invoices: read; macaroon: read; message: read; offchain: read; onchain: read; peers: read; signer: read',
      'root key id "0"',
      'expires at 2026-12-01T00:00:00Z',
      'only from IP address 192.168.1.50',
      'only from IP addresses in 10.0.0.0/8',
      'custom caveat "my-mw" with condition "some-condition": only accepted if lnd has an RPC middleware for it',
    ]);
    expect(describeMacaroon(decodeMacaroon(gen.cases[2]!.macaroon_hex)).summary[0]).toBe(
      'may call only these RPCs: /lnrpc.Lightning/GetInfo, /verrpc.Versioner/GetVersion',
    );
  });
});

describe('caveats', () => {
  it('are written as LND writes them', () => {
    expect(timeBeforeCaveat('2026-12-01T01:00:00+01:00')).toBe('time-before 2026-12-01T00:00:00Z');
    expect(timeBeforeCaveat(new Date('2026-12-01T00:00:00.500Z'))).toBe('time-before 2026-12-01T00:00:00.5Z');
    expect(timeBeforeCaveat('2026-12-01T00:00:00.120000000Z')).toBe('time-before 2026-12-01T00:00:00.12Z');
    expect(ipAddrCaveat('192.168.001.1'.replace('001', '1'))).toBe('ipaddr 192.168.1.1');
    expect(ipAddrCaveat('2001:DB8:0:0:0:0:0:1')).toBe('ipaddr 2001:db8::1');
    expect(ipRangeCaveat('10.1.2.3/8')).toBe('iprange 10.0.0.0/8');
    expect(ipRangeCaveat('2001:db8::1/32')).toBe('iprange 2001:db8::/32');
    expect(customCaveat('mw')).toBe('lnd-custom mw');
    expect(customCaveat('mw', 'x=1')).toBe('lnd-custom mw x=1');
    const now = new Date('2026-01-01T00:00:00Z');
    expect(
      caveatsFromOptions({
        timeoutSeconds: 60,
        now,
        ip: '1.2.3.4',
        ipRange: '1.2.3.0/24',
        custom: { name: 'a', condition: 'b' },
        raw: ['declared user alice'],
      }),
    ).toEqual([
      'time-before 2026-01-01T00:01:00Z',
      'ipaddr 1.2.3.4',
      'iprange 1.2.3.0/24',
      'lnd-custom a b',
      'declared user alice',
    ]);
  });
  it('refuses what LND would reject', () => {
    for (const bad of [
      'foo bar',
      'test = caveat',
      'time-before tomorrow',
      'time-before 2026-13-01T00:00:00Z',
      'time-before 2026-02-29T00:00:00Z',
      'ipaddr 1.2.3',
      'ipaddr 01.2.3.4',
      'ipaddr 1.2.3.4%eth0',
      'iprange 1.2.3.4',
      'iprange 1.2.3.4/33',
      'lnd-custom',
      'lnd-custom  x',
      'declared x',
      'error nope',
      ' time-before 2026-12-01T00:00:00Z',
      '',
    ])
      cldcbError(() => checkLndCaveat(bad));
    for (const o of [
      { timeoutSeconds: 0 },
      { timeoutSeconds: 1.5 },
      { expires: 'x' },
      { ip: 'x' },
      { ipRange: '1.2.3.4' },
      { custom: { name: 'a b' } },
      { custom: { name: 'a', condition: '' } },
      { expires: '2026-01-01T00:00:00Z', timeoutSeconds: 5 },
    ])
      cldcbError(() => caveatsFromOptions(o));
  });
  it('Go RFC 3339 parse / format', () => {
    expect(parseGoRfc3339('2026-12-01T00:00:00Z')).toBe(1796083200n * 1_000_000_000n);
    expect(parseGoRfc3339('2026-12-01T00:00:00,5-01:00')).toBe(
      (1796083200n + 3600n) * 1_000_000_000n + 500_000_000n,
    );
    expect(parseGoRfc3339('0001-01-01T00:00:00Z')).toBe(-62135596800n * 1_000_000_000n);
    expect(parseGoRfc3339('2026-12-01 00:00:00Z')).toBeUndefined();
    expect(parseGoRfc3339('2026-12-01T24:00:00Z')).toBeUndefined();
    expect(formatGoRfc3339(1796083200n * 1_000_000_000n + 1n)).toBe('2026-12-01T00:00:00.000000001Z');
  });
  it('IP addresses and ranges as Go', () => {
    const ip = (s: string) => formatIp(parseIp(s)!.bytes);
    expect(ip('::')).toBe('::');
    expect(ip('::1')).toBe('::1');
    expect(ip('1:0:0:1:0:0:0:1')).toBe('1:0:0:1::1');
    expect(ip('1:0:0:1:0:0:1:1')).toBe('1::1:0:0:1:1');
    expect(ip('1:0:1:1:1:1:1:1')).toBe('1:0:1:1:1:1:1:1');
    expect(ip('::ffff:c000:0280')).toBe('192.0.2.128');
    expect(ip('::1.2.3.4')).toBe('::102:304');
    for (const bad of [
      '',
      '1.2.3.4.5',
      '256.1.1.1',
      '1::2::3',
      '12345::',
      'fe80::1%1',
      'localhost',
      ':::',
      '1:2:3:4:5:6:7:8:9',
    ])
      expect(parseIp(bad)).toBeUndefined();
    const net = parseCidr('192.168.0.0/16')!;
    expect(cidrContains(net, parseIp('192.168.3.4')!)).toBe(true);
    expect(cidrContains(net, parseIp('::ffff:192.168.3.4')!)).toBe(true);
    expect(cidrContains(net, parseIp('192.169.0.1')!)).toBe(false);
    expect(cidrContains(parseCidr('::/0')!, parseIp('1.2.3.4')!)).toBe(false);
    expect(cidrContains(parseCidr('0.0.0.0/0')!, parseIp('::1')!)).toBe(false);
    expect(formatCidr(parseCidr('::ffff:10.0.0.0/104')!)).toBe('10.0.0.0/8');
  });
});

describe('root keys and hostile input', () => {
  it('root keys: 64 hex digits or 32 bytes, nothing else', () => {
    expect(parseRootKey(gen.root_key_hex + '\n')).toEqual(ROOT);
    expect(parseRootKey(utf8(gen.root_key_hex.toUpperCase()))).toEqual(ROOT);
    expect(parseRootKey(ROOT)).toEqual(ROOT);
    expect(cldcbError(() => parseRootKey('00'.repeat(31))).message).toMatch(/62 hex digits/);
    expect(cldcbError(() => parseRootKey('zz'.repeat(32))).code).toBe('bad_hex');
    expect(cldcbError(() => parseRootKey(new Uint8Array([0xff, 0xfe]))).code).toBe('bad_length');
    const m = decodeMacaroon(gen.cases[0]!.macaroon_hex);
    for (const k of [new Uint8Array(16), new Uint8Array(33), new Uint8Array(0)])
      expect(cldcbError(() => verifyMacaroon(m, k)).message).toMatch(/32 bytes/);
    cldcbError(() => verifyMacaroon(m, ROOT, { ip: 'nope' }));
    cldcbError(() => bakeLndMacaroon(new Uint8Array(31), ['info:read']));
    cldcbError(() => bakeLndMacaroon(ROOT, []));
    cldcbError(() => bakeLndMacaroon(ROOT, ['info']));
  });
  it('clear errors for cut, foreign and malformed data', () => {
    const good = hexToBytes(gen.cases[1]!.macaroon_hex);
    const cases: [Uint8Array | string, RegExp][] = [
      [good.subarray(0, good.length - 1), /cut off/],
      [good.subarray(0, 40), /cut off/],
      [good.subarray(0, 1), /cut off/],
      [new Uint8Array([...good, 0]), /1 unexpected byte after the signature/],
      [new Uint8Array([3, ...good.subarray(1)]), /neither a binary macaroon/],
      ['', /empty/],
      ['zz', /not a version 2 macaroon/],
      ['z', /cannot be whole/],
      ['0201', /cut off/],
      ['020', /odd number of hex digits/],
      ['{"i":"x"}', /JSON/],
      [
        'MDAxY2xvY2F0aW9uIGh0dHA6Ly9teWJhbmsvCjAwMjZpZGVudGlmaWVyIHdlIHVzZWQgb3VyIHNlY3JldCBrZXkKMDAyZnNpZ25hdHVyZSDj2eApCFJsTAA5rhURQRXZf91ovyujebNCqvD2F9BVLwo',
        /version 1/,
      ],
      ['AgEDbG5k!', /character 9/],
      [new Uint8Array([0xff, 0xfe, 0x00]), /neither a binary macaroon/],
      [new Uint8Array([2, 2, 1, 0x61, 1, 1, 0x62, 0]), /out of order/],
      [
        new Uint8Array([2, 2, 0, 0, 1, 1, 0x78, 2, 1, 0x61, 0, 0, 6, 32, ...new Uint8Array(32)]),
        /location but no verification id/,
      ],
      [new Uint8Array([2, 2, 0, 0, 0, 6, 31, ...new Uint8Array(31)]), /31 bytes, not 32/],
      [new Uint8Array([2, 2, 0, 0, 0, 2, 0]), /expected the signature/],
      [new Uint8Array([2, 0xff, 0xff, 0xff, 0xff, 0x0f]), /out of range/],
      [new Uint8Array([2, 2, 0xff, 0xff, 0xff, 0xff]), /cut off/],
      [new Uint8Array([2, 0]), /invalid header/],
    ];
    for (const [input, re] of cases) expect(cldcbError(() => decodeMacaroon(input)).message).toMatch(re);
    for (const w of [undefined, null, 5, {}, [], true] as unknown[]) {
      cldcbError(() => decodeMacaroon(w as string));
      cldcbError(() => decodeMacaroonBinary(w as Uint8Array));
      if (!Array.isArray(w)) cldcbError(() => attenuateMacaroon(decodeMacaroon(good), w as string[]));
      cldcbError(() => checkLndCaveat(w as string));
      cldcbError(() => parseRootKey(w as string));
    }
  });
  it('an empty first-party caveat location is accepted, as go-macaroon does', () => {
    const m = decodeMacaroonBinary(
      new Uint8Array([2, 2, 1, 0x61, 0, 1, 0, 2, 1, 0x62, 0, 0, 6, 32, ...new Uint8Array(32)]),
    );
    expect(m.caveats).toEqual([{ id: utf8('b') }]);
  });
  it('fuzz: any bytes or text decode or give CldcbError; decoded ones describe and re-encode', () => {
    const good = hexToBytes(gen.cases[1]!.macaroon_hex);
    const check = (input: Uint8Array | string) => {
      let m: Macaroon;
      try {
        m = decodeMacaroon(input);
      } catch (e) {
        expect(e).toBeInstanceOf(CldcbError);
        return;
      }
      describeMacaroon(m);
      verifyMacaroon(m, ROOT, { ip: '1.2.3.4' });
      expect(decodeMacaroon(encodeMacaroon(m))).toEqual(m);
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => check(new Uint8Array([2, ...b]))));
    fc.assert(fc.property(fc.string(), check));
    // Single-byte corruptions of a real macaroon.
    fc.assert(
      fc.property(fc.nat(good.length - 1), fc.integer({ min: 1, max: 255 }), (i, x) => {
        const b = good.slice();
        b[i] = b[i]! ^ x;
        check(b);
      }),
    );
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 100 }),
        (b) => void parseLndIdentifier(new Uint8Array([3, ...b])),
      ),
    );
  });
});

describe('against the go-macaroon JS port (npm macaroon 3.0.4)', () => {
  const bytes = fc.uint8Array({ maxLength: 40 });
  const text = fc.string({ maxLength: 30 });
  it('decodes what it encodes and attenuates to the same bytes and signature', () => {
    fc.assert(
      // Caveats are text: the JS port's verify() decodes them with sjcl, which throws on invalid UTF-8.
      // At most 3 caveats: its ByteBuffer._grow compares with an undefined _capacity and doubles the
      // buffer on every append, so exportBinary() of a macaroon with 4+ caveats tries to allocate gigabytes.
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 40 }),
        bytes,
        text,
        fc.array(text, { maxLength: 2 }),
        fc.array(text, { maxLength: 1 }),
        (key, id, loc, texts, more) => {
          const cavs = texts.map(utf8);
          const js = jsMacaroon.newMacaroon({ identifier: id, location: loc, rootKey: key, version: 2 });
          for (const c of cavs) js.addFirstPartyCaveat(c);
          const ours = decodeMacaroon(js.exportBinary());
          expect(ours.location).toBe(loc);
          expect(ours.identifier).toEqual(id);
          expect(ours.caveats.map((c) => c.id)).toEqual(cavs);
          expect(ours.signature).toEqual(js.signature);
          expect(computeMacaroonSignature(key, ours.identifier, ours.caveats)).toEqual(js.signature);
          expect(encodeMacaroon(ours)).toEqual(js.exportBinary());
          const attenuated = addFirstPartyCaveatsUnchecked(ours, more.map(utf8));
          for (const c of more) js.addFirstPartyCaveat(utf8(c)); // (its string path breaks on "": a JS-port bug)
          expect(encodeMacaroon(attenuated)).toEqual(js.exportBinary());
          const back = jsMacaroon.importMacaroon(encodeMacaroon(attenuated));
          expect(() => back.verify(key, () => null)).not.toThrow();
        },
      ),
      { numRuns: 200 },
    );
    // The oracle (sjcl inside the JS port) is slow: ~5 s quiet, ~27 s on a loaded 2-core machine.
  }, 120_000);
  it('our LND caveats verify in the JS port with our root key, and a changed byte does not', () => {
    const m = attenuateMacaroon(
      bakeLndMacaroon(ROOT, ['info:read', 'offchain:read']),
      caveatsFromOptions({ expires: '2030-01-01T00:00:00Z', ip: '1.2.3.4' }),
    );
    const seen: string[] = [];
    jsMacaroon.importMacaroon(encodeMacaroon(m)).verify(ROOT, (c) => {
      seen.push(c);
      return null;
    });
    expect(seen).toEqual(['time-before 2030-01-01T00:00:00Z', 'ipaddr 1.2.3.4']);
    const bad = encodeMacaroon(m);
    bad[bad.length - 1] = bad[bad.length - 1]! ^ 1;
    expect(() => jsMacaroon.importMacaroon(bad).verify(ROOT, () => null)).toThrow();
    expect(verifyMacaroon(decodeMacaroon(bad), ROOT).signatureValid).toBe(false);
  });
});

describe('inspectMacaroon (shared/credentials/index.ts, for the UI)', () => {
  it('describes, verifies when given the root key, and is plain JSON', () => {
    const hex = gen.cases[1]!.macaroon_hex;
    const d = inspectMacaroon(hex);
    expect(d.verification).toBeUndefined();
    expect(d.lncli).toEqual(gen.cases[1]!.printmacaroon);
    const v = inspectMacaroon(hexToBytes(hex), ROOT, {
      now: new Date('2026-01-01T00:00:00Z'),
      ip: '192.168.1.50',
    });
    expect(v.verification?.caveats.map((c) => c.status)).toEqual([
      'satisfied',
      'satisfied',
      'failed',
      'depends',
    ]);
    expect(JSON.parse(JSON.stringify(v))).toEqual(v);
    expect(cldcbError(() => inspectMacaroon(hex, new Uint8Array(31))).code).toBe('bad_length');
    cldcbError(() => inspectMacaroon(hex, 'ab' as unknown as Uint8Array));
    cldcbError(() => inspectMacaroon('0201'));
  });
});

import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { mnemonicToSeedSync } from '@scure/bip39';
import fc from 'fast-check';
import { ByteReader, bytesToHex, hexToBytes, utf8 } from '../../shared/bytes';
import { CldcbError } from '../../shared/errors';
import { encodeWireAddr, formatWireAddr, parseWireAddrText, readWireAddr, type WireAddr } from '../../shared/scb/wireaddr';
import { channelTypeFromBits, describeChannelType, featureBits, featureName } from '../../shared/scb/channelType';
import {
  decodeModernScbChanHex,
  encodeBigSize,
  encodeModernScbChan,
  modernScbChanHex,
  readBigSize,
  type ModernScbChan,
} from '../../shared/scb/scbChan';
import { parseStaticBackup } from '../../shared/scb/staticbackup';
import { deriveChannelId, normaliseScbChannels, txidToDisplay } from '../../shared/scb/channels';

const CN = 'test/fixtures/lightningd/channel-node';
const DOC = 'test/fixtures/lightningd/cln-doc-examples/staticbackup.json';
const rd = (hex: string) => new ByteReader(hexToBytes(hex), 'test');

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof CldcbError) return e.code;
    throw e;
  }
  return 'no error';
}

describe('wireaddr (BOLT 7 / common/wireaddr.c)', () => {
  const cases: [string, WireAddr, string][] = [
    ['ipv4', { type: 'ipv4', addr: new Uint8Array([127, 0, 0, 1]), port: 37824 }, '127.0.0.1:37824'],
    ['ipv6', { type: 'ipv6', addr: hexToBytes('20010db8000000000000000000000001'), port: 9735 }, '[2001:db8::1]:9735'],
    ['ipv6 loopback', { type: 'ipv6', addr: hexToBytes('00000000000000000000000000000001'), port: 1 }, '[::1]:1'],
    ['ipv6 no run', { type: 'ipv6', addr: hexToBytes('20010db8000100020003000400050006'), port: 2 }, '[2001:db8:1:2:3:4:5:6]:2'],
    ['ipv6 v4-mapped', { type: 'ipv6', addr: hexToBytes('00000000000000000000ffffc0000201'), port: 3 }, '[::ffff:192.0.2.1]:3'],
    ['ipv6 two runs', { type: 'ipv6', addr: hexToBytes('20010000000000010000000000000001'), port: 4 }, '[2001:0:0:1::1]:4'],
    ['torv2', { type: 'torv2', addr: hexToBytes('00112233445566778899'), port: 9735 }, 'aaisem2ekvthpcez.onion:9735'],
    [
      'torv3',
      { type: 'torv3', addr: hexToBytes('d1b38b83a83b3ed918c5bb69dd444ad56bc8d5835a914de73447474e5f02591bddd903'), port: 9735 },
      '2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion:9735',
    ],
    ['dns', { type: 'dns', addr: utf8('node.example.com'), port: 9735 }, 'node.example.com:9735'],
  ];
  for (const [name, a, text] of cases)
    it(`${name}: encode → read round trip, printable form, parse back`, () => {
      const bytes = encodeWireAddr(a);
      const r = new ByteReader(bytes, 'test');
      expect(readWireAddr(r, 'addr')).toEqual(a);
      expect(r.remaining).toBe(0);
      const printed = formatWireAddr(a);
      expect(printed).toBe(text);
      expect(parseWireAddrText(printed)).toEqual(a);
    });

  it('wire bytes for each type code', () => {
    expect(bytesToHex(encodeWireAddr(cases[0]![1]))).toBe('017f00000193c0');
    expect(bytesToHex(encodeWireAddr(cases.find((c) => c[0] === 'dns')![1]))).toBe('0510' + bytesToHex(utf8('node.example.com')) + '2607');
    expect(bytesToHex(encodeWireAddr(cases.find((c) => c[0] === 'torv2')![1])).slice(0, 2)).toBe('03');
    expect(bytesToHex(encodeWireAddr(cases.find((c) => c[0] === 'torv3')![1])).slice(0, 2)).toBe('04');
  });
  it('an unknown type cannot be skipped: unsupported', () => {
    expect(code(() => readWireAddr(rd('06000000'), 'addr'))).toBe('unsupported');
  });
  it('truncated addresses: truncated', () => {
    for (const h of ['', '01', '017f0000', '017f000001', '017f00000193', '05', '0505616263']) expect(code(() => readWireAddr(rd(h), 'addr')), h).toBe('truncated');
  });
  it('hostile hostnames print escaped', () => {
    expect(formatWireAddr({ type: 'dns', addr: new Uint8Array([0x61, 0x0a, 0x5c, 0x62]), port: 1 })).toBe('a\\x0a\\x5cb:1');
  });
  it('parseWireAddrText refuses what is not host:port', () => {
    for (const t of ['/tmp/socket', '1.2.3.4', '1.2.3.4:99999', '[zz::1]:1', '[1::2::3]:1', ':9735']) expect(parseWireAddrText(t), t).toBeNull();
    expect(parseWireAddrText('300.1.1.1:1')).toEqual({ type: 'dns', addr: utf8('300.1.1.1'), port: 1 });
  });
  it('encode checks lengths and ports', () => {
    expect(code(() => encodeWireAddr({ type: 'ipv4', addr: new Uint8Array(5), port: 1 }))).toBe('bad_length');
    expect(code(() => encodeWireAddr({ type: 'ipv4', addr: new Uint8Array(4), port: 70000 }))).toBe('bad_input');
    expect(code(() => encodeWireAddr({ type: 'dns', addr: new Uint8Array(256), port: 1 }))).toBe('bad_length');
  });
});

describe('channel_type (BOLT 9 bitfield, CLN names)', () => {
  it('0x401000 = static_remotekey + anchors', () => {
    const t = describeChannelType(hexToBytes('401000'));
    expect(t).toEqual({ hex: '401000', bits: [12, 22], names: ['static_remotekey', 'anchors'], staticRemotekey: true, anchors: true });
  });
  it('0x1000 = static_remotekey; empty = none; 0x101000 = obsolete anchor_outputs', () => {
    expect(describeChannelType(hexToBytes('1000'))).toMatchObject({ names: ['static_remotekey'], anchors: false, staticRemotekey: true });
    expect(describeChannelType(new Uint8Array(0))).toMatchObject({ hex: '', names: [], anchors: false, staticRemotekey: false });
    expect(describeChannelType(hexToBytes('101000'))).toMatchObject({ names: ['static_remotekey', 'anchor_outputs'], anchors: true });
  });
  it('scid_alias, zeroconf, odd and unknown bits', () => {
    expect(describeChannelType(channelTypeFromBits([12, 22, 46, 50])).names).toEqual(['static_remotekey', 'anchors', 'scid_alias', 'zeroconf']);
    expect(featureName(13)).toBe('static_remotekey/odd');
    expect(featureName(64)).toBe('unknown_64');
    expect(featureName(32)).toBe('unknown_32');
  });
  it('bits ↔ bytes', () => {
    expect(bytesToHex(channelTypeFromBits([12, 22]))).toBe('401000');
    expect(bytesToHex(channelTypeFromBits([]))).toBe('');
    expect(featureBits(hexToBytes('00401000'))).toEqual([12, 22]);
    expect(code(() => channelTypeFromBits([-1]))).toBe('bad_input');
  });
});

describe('BigSize (BOLT 1)', () => {
  const cases: [bigint, string][] = [
    [0n, '00'],
    [252n, 'fc'],
    [253n, 'fd00fd'],
    [65535n, 'fdffff'],
    [65536n, 'fe00010000'],
    [4294967295n, 'feffffffff'],
    [4294967296n, 'ff0000000100000000'],
    [18446744073709551615n, 'ffffffffffffffffff'],
  ];
  for (const [v, h] of cases)
    it(`${v} ↔ ${h}`, () => {
      expect(bytesToHex(encodeBigSize(v))).toBe(h);
      expect(readBigSize(rd(h), 'x')).toBe(v);
    });
  it('non-minimal encodings are refused (BOLT 1 test vectors)', () => {
    for (const h of ['fd00fc', 'fe0000ffff', 'ff00000000ffffffff']) expect(code(() => readBigSize(rd(h), 'x')), h).toBe('bad_input');
    for (const h of ['fd00', 'feffff', 'ffffffffff', '']) expect(code(() => readBigSize(rd(h), 'x')), h).toBe('truncated');
  });
});

describe('modern_scb_chan entries', () => {
  const sb = JSON.parse(readFileSync(`${CN}/staticbackup.json`, 'utf8')).scb as string[];
  const doc = JSON.parse(readFileSync(DOC, 'utf8')).scb as string[];

  it("CLN's six doc examples decode and re-encode byte for byte", () => {
    for (const [i, h] of doc.entries()) {
      const c = decodeModernScbChanHex(h, `doc scb[${i}]`);
      expect(modernScbChanHex(c)).toBe(h);
    }
    const first = decodeModernScbChanHex(doc[0]!, 'doc');
    expect(first.id).toBe(6n);
    expect(bytesToHex(first.nodeId)).toBe('022d223620a359a47ff7f7ac447c85c46c923da53389221a0054c11c1e3ca31d59');
    expect(formatWireAddr(first.addr!)).toBe('127.0.0.1:43356');
    expect(first.fundingSats).toBe(1_000_000n);
    expect(bytesToHex(first.channelType)).toBe('401000');
    expect(first.tlvs.remoteToSelfDelay).toBe(0xa5f8);
    // an entry whose shachain is empty (min_index 2^48, no entries) and that we opened
    const withEmpty = doc.map((h) => decodeModernScbChanHex(h, 'doc')).find((c) => c.tlvs.shachain?.known.length === 0);
    expect(withEmpty?.tlvs.shachain?.minIndex).toBe(1n << 48n);
    expect(doc.map((h) => decodeModernScbChanHex(h, 'doc').tlvs.opener)).toContain('local');
  });

  it('the real staticbackup.json entries', () => {
    const [c1, c2] = sb.map((h, i) => decodeModernScbChanHex(h, `scb[${i}]`));
    expect(txidToDisplay(c1!.fundingTxid)).toBe('1a2e2afc36013938bf5a4432a25d92930a81b93c5a9f7e7ba1ad4085b889d6b9');
    expect(bytesToHex(deriveChannelId(c1!.fundingTxid, c1!.fundingOutnum))).toBe(bytesToHex(c1!.cid));
    expect(bytesToHex(deriveChannelId(c2!.fundingTxid, 0))).toBe('65587c513ce55b8bde38220695726a96a5190d2e4bd575f294768a521400cb99');
    expect(bytesToHex(deriveChannelId(new Uint8Array(32), 0x0102)).slice(-4)).toBe('0102');
  });

  it('unknown odd TLVs are kept (round trip); unknown even TLVs are refused', () => {
    const c = decodeModernScbChanHex(sb[1]!, 'x');
    const withOdd: ModernScbChan = { ...c, tlvs: { ...c.tlvs, unknown: [{ type: 9n, value: hexToBytes('beef') }, { type: 301n, value: new Uint8Array(0) }] } };
    const h = modernScbChanHex(withOdd);
    expect(decodeModernScbChanHex(h, 'x').tlvs.unknown).toEqual(withOdd.tlvs.unknown);
    expect(modernScbChanHex(decodeModernScbChanHex(h, 'x'))).toBe(h);
    const withEven: ModernScbChan = { ...c, tlvs: { ...c.tlvs, unknown: [{ type: 8n, value: new Uint8Array(1) }] } };
    expect(code(() => decodeModernScbChanHex(modernScbChanHex(withEven), 'x'))).toBe('unsupported');
  });

  /** Replace the TLV stream of entry 2 with raw bytes. */
  function withTlvs(tlvHex: string): string {
    const c = decodeModernScbChanHex(sb[1]!, 'x');
    const full = encodeModernScbChan({ ...c, tlvs: {} });
    const base = bytesToHex(full).slice(0, -8); // drop len_tlv = 0
    return base + (tlvHex.length / 2).toString(16).padStart(8, '0') + tlvHex;
  }

  it('TLV stream errors name the problem', () => {
    expect(() => decodeModernScbChanHex(withTlvs('05010107020006' + '050100'), 'x')).toThrow(/not in ascending order/);
    expect(() => decodeModernScbChanHex(withTlvs('0701010203'), 'x')).toThrow(/unexpected extra bytes|ended early/);
    expect(() => decodeModernScbChanHex(withTlvs('050102'), 'x')).toThrow(/opener is 2/);
    expect(code(() => decodeModernScbChanHex(withTlvs('0705'), 'x'))).toBe('truncated');
    expect(code(() => decodeModernScbChanHex(withTlvs('0702000600'), 'x'))).toBe('bad_input');
    // shachain claiming 50 entries
    expect(() => decodeModernScbChanHex(withTlvs('010c' + '0001000000000000' + '00000032'), 'x')).toThrow(/at most 49/);
    // basepoints that are not points
    expect(() => decodeModernScbChanHex(withTlvs('0384' + '05'.repeat(132)), 'x')).toThrow(/not a valid compressed secp256k1 point/);
  });

  it('extra bytes after one entry and bad hex are refused', () => {
    expect(() => decodeModernScbChanHex(sb[0]! + '00', 'x')).toThrow(/1 extra bytes/);
    expect(code(() => decodeModernScbChanHex(sb[0]!.slice(0, -1), 'x'))).toBe('bad_length');
    expect(code(() => decodeModernScbChanHex('zz', 'x'))).toBe('bad_hex');
    for (let n = 0; n < sb[0]!.length; n += 2) expect(code(() => decodeModernScbChanHex(sb[0]!.slice(0, n), 'x')), `cut at ${n / 2}`).toBe('truncated');
  });

  it('encoding refuses wrong sizes and entries without an address', () => {
    const c = decodeModernScbChanHex(sb[1]!, 'x');
    expect(code(() => encodeModernScbChan({ ...c, cid: new Uint8Array(31) }))).toBe('bad_length');
    expect(code(() => encodeModernScbChan({ ...c, addr: null }))).toBe('unsupported');
  });
});

describe('staticbackup JSON (zod, validated as unknown)', () => {
  const text = readFileSync(`${CN}/staticbackup.json`, 'utf8');
  const seed = mnemonicToSeedSync(readFileSync(`${CN}/hsm_secret`).subarray(32).toString('utf8'));

  it('the real file: both channels match listpeerchannels and expected-to-remote.json', () => {
    const chans = normaliseScbChannels(parseStaticBackup(text), seed, 'regtest', 'staticbackup');
    const lpc = JSON.parse(readFileSync(`${CN}/listpeerchannels.json`, 'utf8')).channels as Record<string, unknown>[];
    const exp = JSON.parse(readFileSync(`${CN}/expected-to-remote.json`, 'utf8')).channels as Record<string, unknown>[];
    expect(chans.map((c) => [c.peer_id, c.channel_id, c.funding_txid, c.funding_outnum, c.funding_sat * 1000, c.channel_type.bits])).toEqual(
      lpc.map((n) => [n.peer_id, n.channel_id, n.funding_txid, n.funding_outnum, n.total_msat, (n.channel_type as { bits: number[] }).bits]),
    );
    expect(chans.map((c) => [c.dbid, c.channel_type.names, c.to_remote.script_hex, c.to_remote.address])).toEqual(
      exp.map((e) => [e.dbid, e.channel_type, e.to_remote_script, e.to_remote_address]),
    );
  });
  it('takes parsed JSON too, and tolerates extra fields', () => {
    const parsed = { ...JSON.parse(text), extra: 1 };
    expect(parseStaticBackup(parsed).length).toBe(2);
  });
  it('clear errors for what is not a staticbackup output', () => {
    expect(() => parseStaticBackup('{')).toThrow(/not valid JSON/);
    expect(() => parseStaticBackup('{}')).toThrow(/scb/);
    expect(() => parseStaticBackup({ scb: ['xyz'] })).toThrow(/scb\.0: not a hex string/);
    expect(() => parseStaticBackup({ scb: [JSON.parse(text).scb[0].slice(0, 100)] }, 'sb.json')).toThrow(/sb\.json scb\[0\]: ended early/);
    for (const bad of [null, 1, 'null', [], { scb: 'x' }, { scb: [1] }, { scb: null }]) expect(code(() => parseStaticBackup(bad))).toBe('bad_input');
  });
});

describe('hostile input only ever raises CldcbError (properties)', () => {
  const onlyCldcb = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      if (!(e instanceof CldcbError)) throw e;
    }
  };
  const sb = JSON.parse(readFileSync(`${CN}/staticbackup.json`, 'utf8')).scb as string[];
  it('random and mutated entry hex', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (b) => onlyCldcb(() => decodeModernScbChanHex(bytesToHex(b), 'x'))), { numRuns: 2000 });
    const good = hexToBytes(sb[0]!);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: good.length - 1 }), fc.integer({ min: 0, max: 255 }), (pos, v) => {
        const m = good.slice();
        m[pos] = v;
        onlyCldcb(() => decodeModernScbChanHex(bytesToHex(m), 'x'));
      }),
      { numRuns: 3000 },
    );
  });
  it('any JSON value or text as a staticbackup', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => onlyCldcb(() => parseStaticBackup(v))), { numRuns: 1000 });
    fc.assert(fc.property(fc.string(), (v) => onlyCldcb(() => parseStaticBackup(v))), { numRuns: 1000 });
    fc.assert(fc.property(fc.anything(), (v) => onlyCldcb(() => parseStaticBackup(v))), { numRuns: 500 });
  });
  it('random printable text as an address', () => {
    fc.assert(fc.property(fc.string(), (t) => onlyCldcb(() => parseWireAddrText(t))), { numRuns: 2000 });
  });
});

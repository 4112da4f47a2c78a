import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { mnemonicToSeedSync } from '@scure/bip39';
import { bech32 } from '@scure/base';
import { bytesToHex, hexToBytes, utf8 } from '../../shared/bytes';
import { CldcbError } from '../../shared/errors';
import {
  backupChannels,
  decodeStaticChanBackup,
  decryptEmergencyRecover,
  emergencyRecoverBytes,
  encodeStaticChanBackup,
  openEmergencyRecover,
  sealEmergencyRecover,
  type StaticChanBackup,
} from '../../shared/scb/emergencyRecover';
import { normaliseScbChannels, type ScbChannel } from '../../shared/scb/channels';
import { scbKey } from '../../shared/scb/secrets';
import type { LegacyScbChan } from '../../shared/scb/scbChan';

const CN = 'test/fixtures/lightningd/channel-node';
const SN = 'test/fixtures/lightningd/single-node';
const seedOf = (dir: string) => mnemonicToSeedSync(readFileSync(`${dir}/hsm_secret`).subarray(32).toString('utf8'));
const fileOf = (dir: string) => new Uint8Array(readFileSync(`${dir}/emergency.recover`));
const json = (p: string) => JSON.parse(readFileSync(p, 'utf8'));

/** Every channel must match lightningd's own listpeerchannels and the independently checked to_remote. */
function expectMatchesNode(chans: ScbChannel[]): void {
  const lpc = json(`${CN}/listpeerchannels.json`).channels as {
    peer_id: string; channel_id: string; funding_txid: string; funding_outnum: number; total_msat: number; opener: string;
    our_to_self_delay: number; channel_type: { bits: number[]; names: string[] };
  }[];
  const exp = json(`${CN}/expected-to-remote.json`).channels as { dbid: number; channel_type: string[]; to_remote_address: string; to_remote_script: string }[];
  expect(chans.length).toBe(lpc.length);
  for (const n of lpc) {
    const c = chans.find((x) => x.channel_id === n.channel_id);
    expect(c, n.channel_id).toBeDefined();
    expect(c!.peer_id).toBe(n.peer_id);
    expect(c!.funding_txid).toBe(n.funding_txid);
    expect(c!.funding_outnum).toBe(n.funding_outnum);
    expect(c!.funding_sat * 1000).toBe(n.total_msat);
    expect(c!.channel_type.bits).toEqual(n.channel_type.bits);
    expect(c!.channel_type.names).toEqual(n.channel_type.names.map((s) => s.replace(/\/even$/, '')));
    expect(c!.opener).toBe(n.opener);
    expect(c!.to_self_delay).toBe(n.our_to_self_delay);
    const e = exp.find((x) => x.dbid === c!.dbid)!;
    expect(c!.channel_type.names).toEqual(e.channel_type);
    expect(c!.to_remote.address).toBe(e.to_remote_address);
    expect(c!.to_remote.script_hex).toBe(e.to_remote_script);
  }
}

describe('real emergency.recover files (lightningd v26.06, regtest)', () => {
  it('channel-node: decrypts with the whole-seed key and decodes both channels exactly', async () => {
    const seed = seedOf(CN);
    const o = await openEmergencyRecover(fileOf(CN), seed);
    expect(o.keyBase).toBe('secret_data');
    expect(o.keyNote).toMatch(/whole 64-byte/);
    const b = o.backup;
    expect(b.format).toBe('modern');
    expect(b.version).toBe(1n);
    expect(b.timestamp).toBe(0x6b04926a);
    expect(b.trailingBytes).toBe(0);
    expect(b.channels.length).toBe(2);
    const [c1, c2] = backupChannels(b);
    expect(c1!.id).toBe(1n);
    expect(c1!.addr).toEqual({ type: 'ipv4', addr: new Uint8Array([127, 0, 0, 1]), port: 37824 });
    expect(bytesToHex(c1!.channelType)).toBe('401000');
    expect(c1!.tlvs.shachain!.minIndex).toBe(0xfffffffffff2n);
    expect(c1!.tlvs.shachain!.known.length).toBe(4);
    expect(bytesToHex(c1!.tlvs.basepoints!.revocation)).toBe('03e9b4599a744b0d0c1bcc3493225011510ea201d44726dd9c6d98590f6fda566c');
    expect(bytesToHex(c1!.tlvs.basepoints!.payment)).toBe('03a58f71afa0be0567014ab4ded0844419aa3a0c50927bb576e4a4224508331ad9');
    expect(c1!.tlvs.opener).toBe('remote');
    expect(c1!.tlvs.remoteToSelfDelay).toBe(6);
    expect(c2!.id).toBe(2n);
    expect(bytesToHex(c2!.channelType)).toBe('1000');
    expect(c2!.tlvs.shachain!.known.length).toBe(3);
    const chans = normaliseScbChannels(backupChannels(b), seed, 'regtest', 'emergency.recover');
    expectMatchesNode(chans);
    expect(chans.every((c) => c.has_penalty_info && c.source === 'emergency.recover' && !c.legacy_format)).toBe(true);
    expect(chans.map((c) => c.peer_address)).toEqual(['127.0.0.1:37824', '127.0.0.1:37824']);
  });

  it('channel-node: the plaintext re-encodes byte for byte, and its entries equal staticbackup.json', async () => {
    const { plaintext } = await decryptEmergencyRecover(fileOf(CN), seedOf(CN));
    const copy = plaintext.slice();
    const b = decodeStaticChanBackup(copy);
    expect(bytesToHex(encodeStaticChanBackup(b as StaticChanBackup & { format: 'modern' }))).toBe(bytesToHex(plaintext));
    const sb = json(`${CN}/staticbackup.json`).scb as string[];
    const { modernScbChanHex } = await import('../../shared/scb/scbChan');
    expect(backupChannels(b).map(modernScbChanHex)).toEqual(sb);
  });

  it('single-node (no channels): an empty modern backup', async () => {
    const o = await openEmergencyRecover(fileOf(SN), seedOf(SN));
    expect(o.backup.format).toBe('modern');
    expect(o.backup.channels).toEqual([]);
    expect(o.backup.version).toBe(1n);
  });

  it("one node's hsm_secret does not open the other's file: not_authentic with the required wording", async () => {
    await expect(openEmergencyRecover(fileOf(CN), seedOf(SN))).rejects.toMatchObject({
      code: 'not_authentic',
      message: expect.stringMatching(/not authentic, or not made with this hsm_secret/),
    });
    await expect(openEmergencyRecover(fileOf(SN), seedOf(CN))).rejects.toMatchObject({ code: 'not_authentic' });
  });
});

describe('tampering and truncation', () => {
  it('flipping any single byte (header, tag, ciphertext, MAC) gives not_authentic', async () => {
    const seed = seedOf(CN);
    const file = fileOf(CN);
    for (let i = 0; i < file.length; i++) {
      const bad = file.slice();
      bad[i] = bad[i]! ^ 0x01;
      const err = await openEmergencyRecover(bad, seed).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err, `byte ${i}`).toBeInstanceOf(CldcbError);
      expect((err as CldcbError).code, `byte ${i}`).toBe('not_authentic');
    }
  });

  it('every truncation is refused: shorter than header+MAC → truncated, otherwise not_authentic', async () => {
    const seed = seedOf(CN);
    const file = fileOf(CN);
    for (let n = 0; n < file.length; n++) {
      const err = await openEmergencyRecover(file.subarray(0, n), seed).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err, `length ${n}`).toBeInstanceOf(CldcbError);
      expect((err as CldcbError).code, `length ${n}`).toBe(n < 41 ? 'truncated' : 'not_authentic');
    }
    await expect(openEmergencyRecover(file.subarray(0, 10), seed)).rejects.toThrow(/truncated or not an emergency.recover/);
    // an appended byte breaks the MAC too
    const longer = new Uint8Array(file.length + 1);
    longer.set(file);
    await expect(openEmergencyRecover(longer, seed)).rejects.toMatchObject({ code: 'not_authentic' });
  });
});

describe('the other key base: a file written by a node restored as legacy from codex32', () => {
  it('opens with the key from the first 32 seed bytes, and says so', async () => {
    const seed = seedOf(CN);
    const { plaintext } = await decryptEmergencyRecover(fileOf(CN), seed);
    const legacyKey = scbKey(seed.subarray(0, 32));
    const file = await sealEmergencyRecover(legacyKey, plaintext);
    const o = await openEmergencyRecover(file, seed);
    expect(o.keyBase).toBe('secret_data_first_32');
    expect(o.keyNote).toMatch(/codex32/);
    expect(o.backup.channels.length).toBe(2);
    // with only the 32-byte secret (the legacy node's own hsm_secret) it opens with the ordinary key
    expect((await openEmergencyRecover(file, seed.slice(0, 32))).keyBase).toBe('secret_data');
  });

  it('a 32-byte secret tries one key only', async () => {
    const seed = seedOf(CN);
    await expect(openEmergencyRecover(fileOf(CN), seed.slice(0, 32))).rejects.toThrow(/tried its scb key/);
    await expect(openEmergencyRecover(fileOf(CN), seedOf(SN))).rejects.toThrow(/whole seed and from its first 32 bytes/);
  });
});

describe('legacy (6135) format', () => {
  it('decodes, converts like CLN (empty TLVs, no penalty info) and round-trips', async () => {
    const seed = seedOf(CN);
    const { plaintext } = await decryptEmergencyRecover(fileOf(CN), seed);
    const modern = decodeStaticChanBackup(plaintext);
    const legacyChans: LegacyScbChan[] = backupChannels(modern).map((c) => ({ ...c, unused: 0 }));
    const legacyBytes = encodeStaticChanBackup({ format: 'legacy', timestamp: modern.timestamp, channels: legacyChans });
    expect(bytesToHex(legacyBytes.subarray(0, 2))).toBe('17f7');
    const file = await sealEmergencyRecover(scbKey(seed), legacyBytes);
    const o = await openEmergencyRecover(file, seed);
    expect(o.backup.format).toBe('legacy');
    expect(bytesToHex(encodeStaticChanBackup(o.backup))).toBe(bytesToHex(legacyBytes));
    const chans = normaliseScbChannels(backupChannels(o.backup), seed, 'regtest', 'emergency.recover', true);
    expect(chans.map((c) => [c.has_penalty_info, c.opener, c.to_self_delay, c.legacy_format])).toEqual([
      [false, null, null, true],
      [false, null, null, true],
    ]);
    // the to_remote addresses do not depend on the TLVs
    const exp = json(`${CN}/expected-to-remote.json`).channels as { to_remote_address: string }[];
    expect(chans.map((c) => c.to_remote.address)).toEqual(exp.map((e) => e.to_remote_address));
  });

  it('the unused byte (an old wireaddr_internal type) is kept and ignored', () => {
    const hex = '17f7' + '0000000000000001' + '00000000' + '0001' + '0000000000000009' + '11'.repeat(32) + '02' + '22'.repeat(32) + '05' + '010a0000012607' + '33'.repeat(32) + '00000001' + '0000000000002710' + '00021000';
    const b = decodeStaticChanBackup(hexToBytes(hex));
    expect(b.format).toBe('legacy');
    expect((b.channels[0] as LegacyScbChan).unused).toBe(5);
    expect(bytesToHex(encodeStaticChanBackup(b))).toBe(hex);
  });
});

describe('message checks', () => {
  it('the empty-backup example from cln-facts §6', () => {
    const b = decodeStaticChanBackup(hexToBytes('17f900000000000000016553f1000000'));
    expect(b).toMatchObject({ format: 'modern', version: 1n, timestamp: 0x6553f100, channels: [], trailingBytes: 0 });
  });
  it('version check as CLN: (v & 0x5555…) must equal 1', () => {
    expect(decodeStaticChanBackup(hexToBytes('17f900000000000000036553f1000000')).version).toBe(3n); // bit 1 is masked out
    expect(() => decodeStaticChanBackup(hexToBytes('17f900000000000000046553f1000000'))).toThrow(/incompatible emergency.recover version 4/);
  });
  it('an unknown message type is not a backup', () => {
    expect(() => decodeStaticChanBackup(hexToBytes('17f800000000000000016553f1000000'))).toThrow(/message type is 6136/);
  });
  it('a channel count larger than the data is truncated, naming the channel', () => {
    expect(() => decodeStaticChanBackup(hexToBytes('17f900000000000000016553f1000001'))).toThrow(/ended early while reading channel 1 of 1 id/);
  });
  it('trailing bytes are counted, not fatal (CLN ignores them too)', () => {
    expect(decodeStaticChanBackup(hexToBytes('17f900000000000000016553f1000000abcd')).trailingBytes).toBe(2);
  });

  it('hostile plaintexts only ever raise CldcbError (property)', async () => {
    const { plaintext } = await decryptEmergencyRecover(fileOf(CN), seedOf(CN));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        try {
          decodeStaticChanBackup(bytes);
        } catch (e) {
          if (!(e instanceof CldcbError)) throw e;
        }
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: plaintext.length - 1 }), fc.integer({ min: 0, max: 255 }), fc.nat({ max: plaintext.length }), (pos, val, cut) => {
        const m = plaintext.slice(0, Math.max(cut, pos + 1));
        m[pos] = val;
        try {
          decodeStaticChanBackup(m);
        } catch (e) {
          if (!(e instanceof CldcbError)) throw e;
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('other forms of the same file', () => {
  it('the clnemerg1… bech32 text of hsmtool getemergencyrecover', async () => {
    const file = fileOf(CN);
    const text = bech32.encode('clnemerg', bech32.toWords(file), false);
    expect(bytesToHex(emergencyRecoverBytes(utf8(`${text}\n`)))).toBe(bytesToHex(file));
    const o = await openEmergencyRecover(emergencyRecoverBytes(utf8(text)), seedOf(CN));
    expect(o.backup.channels.length).toBe(2);
    const broken = text.slice(0, -1) + (text.endsWith('q') ? 'p' : 'q');
    expect(() => emergencyRecoverBytes(utf8(broken))).toThrow(/checksum/);
  });
  it("getemergencyrecoverdata's JSON", () => {
    const file = fileOf(CN);
    const j = JSON.stringify({ filedata: bytesToHex(file), can_create_penalty: true, backed_up_channel_ids: [] });
    expect(bytesToHex(emergencyRecoverBytes(utf8(j)))).toBe(bytesToHex(file));
    expect(() => emergencyRecoverBytes(utf8('{"x":1}'))).toThrow(/filedata/);
  });
  it('binary files pass through unchanged', () => {
    const file = fileOf(CN);
    expect(emergencyRecoverBytes(file)).toBe(file);
  });
});

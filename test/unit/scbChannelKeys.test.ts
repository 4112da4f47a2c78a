import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { mnemonicToSeedSync } from '@scure/bip39';
import * as secp from '@noble/secp256k1';
import vectors from '../vectors/cln/known-answers.json';
import { bytesToHex, hexToBytes } from '../../shared/bytes';
import {
  anchorsToRemoteWitnessScript,
  basepointsOf,
  channelBase,
  channelBasepoints,
  channelSecrets,
  channelSeed,
  deriveSimplePrivkey,
  deriveSimplePubkey,
  perCommitmentPoint,
  perCommitmentSecret,
  scriptToAddress,
  shachainFromSeed,
  toRemote,
  toRemoteForChannel,
  zeroizeChannelKeys,
} from '../../shared/scb/channelKeys';
import { channelTypeFromBits } from '../../shared/scb/channelType';
import { CldcbError } from '../../shared/errors';

const FIX = 'test/fixtures/lightningd/channel-node';

describe('channel keys (cln-facts §7) against the known answers', () => {
  for (const v of vectors.channel_derivation) {
    describe(`legacy l1 secret, peer ${v.peer_id.slice(0, 8)}…, dbid ${v.dbid}`, () => {
      const sd = hexToBytes(v.hsm_secret);
      const peer = hexToBytes(v.peer_id);
      const dbid = BigInt(v.dbid);

      it('channel_base and channel_seed (41-byte salt, dbid little-endian)', () => {
        expect(bytesToHex(channelBase(sd))).toBe(v.channel_base);
        expect(bytesToHex(channelSeed(sd, peer, dbid))).toBe(v.channel_seed);
      });

      it('the 192-byte keys in the order f, r, h, p, d, shaseed, and their points', () => {
        const k = channelSecrets(sd, peer, dbid);
        expect(bytesToHex(k.funding)).toBe(v.funding_secret);
        expect(bytesToHex(k.revocation)).toBe(v.revocation_secret);
        expect(bytesToHex(k.htlc)).toBe(v.htlc_secret);
        expect(bytesToHex(k.payment)).toBe(v.payment_secret);
        expect(bytesToHex(k.delayedPayment)).toBe(v.delayed_payment_secret);
        expect(bytesToHex(k.shaseed)).toBe(v.shaseed);
        const b = basepointsOf(k);
        expect(bytesToHex(b.funding)).toBe(v.funding_basepoint);
        expect(bytesToHex(b.revocation)).toBe(v.revocation_basepoint);
        expect(bytesToHex(b.htlc)).toBe(v.htlc_basepoint);
        expect(bytesToHex(b.payment)).toBe(v.payment_basepoint);
        expect(bytesToHex(b.delayedPayment)).toBe(v.delayed_payment_basepoint);
        zeroizeChannelKeys(k);
        expect(k.payment.every((x) => x === 0)).toBe(true);
        expect(bytesToHex(channelBasepoints(sd, peer, dbid).payment)).toBe(v.payment_basepoint);
      });

      it('per-commitment secrets and points (shachain, 2^48-1-n)', () => {
        const shaseed = hexToBytes(v.shaseed);
        for (const pc of v.per_commit) {
          expect(bytesToHex(perCommitmentSecret(shaseed, BigInt(pc.n)))).toBe(pc.secret);
          expect(bytesToHex(perCommitmentPoint(shaseed, BigInt(pc.n)))).toBe(pc.point);
        }
      });

      it('to_remote: static_remotekey P2WPKH and anchors P2WSH, on bitcoin and regtest', () => {
        const pb = hexToBytes(v.payment_basepoint);
        const stat = toRemote(pb, channelTypeFromBits([12]), 'regtest');
        expect(stat.kind).toBe('p2wpkh');
        expect(stat.address).toBe(v.to_remote_static_p2wpkh.bcrt);
        expect(toRemote(pb, channelTypeFromBits([12]), 'bitcoin').address).toBe(v.to_remote_static_p2wpkh.bc);
        expect(stat.csv).toBe(0);
        const anc = toRemote(pb, channelTypeFromBits([12, 22]), 'regtest');
        expect(anc.kind).toBe('p2wsh-anchors');
        expect(anc.witness_script_hex).toBe(v.to_remote_anchors_witness_script);
        expect(bytesToHex(anchorsToRemoteWitnessScript(pb))).toBe(v.to_remote_anchors_witness_script);
        expect(anc.address).toBe(v.to_remote_anchors_p2wsh.bcrt);
        expect(toRemote(pb, channelTypeFromBits([12, 22]), 'bitcoin').address).toBe(v.to_remote_anchors_p2wsh.bc);
        expect(anc.csv).toBe(1);
        // the obsolete anchor_outputs type (bit 20) has the same to_remote
        expect(toRemote(pb, channelTypeFromBits([12, 20]), 'regtest').address).toBe(v.to_remote_anchors_p2wsh.bcrt);
        expect(scriptToAddress(hexToBytes(anc.script_hex!), 'regtest')).toBe(anc.address);
        expect(scriptToAddress(hexToBytes(stat.script_hex!), 'bitcoin')).toBe(v.to_remote_static_p2wpkh.bc);
        expect(toRemoteForChannel(sd, peer, dbid, channelTypeFromBits([12]), 'regtest').address).toBe(v.to_remote_static_p2wpkh.bcrt);
      });

      it('old non-static channels: derive_simple_privkey with the commitment point (hsmtool derivetoremote)', () => {
        const k = channelSecrets(sd, peer, dbid);
        const point = hexToBytes(v.legacy_non_static_remotekey_privkey_with_point.commitment_point);
        const priv = deriveSimplePrivkey(k.payment, point);
        expect(bytesToHex(priv)).toBe(v.legacy_non_static_remotekey_privkey_with_point.privkey);
        expect(bytesToHex(deriveSimplePubkey(hexToBytes(v.payment_basepoint), point))).toBe(bytesToHex(secp.getPublicKey(priv, true)));
        const t = toRemote(hexToBytes(v.payment_basepoint), new Uint8Array(0), 'bitcoin');
        expect(t).toMatchObject({ kind: 'non-static', address: null, script_hex: null, payment_basepoint: v.payment_basepoint });
      });
    });
  }
});

describe('BOLT 3 Appendix D shachain generation vectors', () => {
  const cases: [string, bigint, string][] = [
    ['00'.repeat(32), 281474976710655n, '02a40c85b6f28da08dfdbe0926c53fab2de6d28c10301f8f7c4073d5e42e3148'],
    ['ff'.repeat(32), 281474976710655n, '7cc854b54e3e0dcdb010d7a3fee464a9687be6e8db3be6854c475621e007a5dc'],
    ['ff'.repeat(32), 0xaaaaaaaaaaan, '56f4008fb007ca9acf0e15b054d5c9fd12ee06cea347914ddbaed70d1c13a528'],
    ['ff'.repeat(32), 0x555555555555n, '9015daaeb06dba4ccc05b91b2f73bd54405f2be9f217fbacd3c5ac2e62327d31'],
    ['01'.repeat(32), 1n, '915c75942a26bb3a433a8ce2cb0427c29ec6c1775cfc78328b57f6ba7bfeaa9c'],
  ];
  for (const [seed, i, want] of cases)
    it(`seed ${seed.slice(0, 4)}… I=${i}`, () => expect(bytesToHex(shachainFromSeed(hexToBytes(seed), i))).toBe(want));
  it('rejects indexes beyond 48 bits', () => {
    expect(() => shachainFromSeed(new Uint8Array(32), 1n << 48n)).toThrow(CldcbError);
    expect(() => perCommitmentSecret(new Uint8Array(32), -1n)).toThrow(CldcbError);
  });
});

describe('the real channel-node: our to_remote equals expected-to-remote.json', () => {
  const hsm = readFileSync(`${FIX}/hsm_secret`);
  const seed = mnemonicToSeedSync(hsm.subarray(32).toString('utf8'));
  const expected = JSON.parse(readFileSync(`${FIX}/expected-to-remote.json`, 'utf8')) as {
    channels: { dbid: number; channel_type: string[]; payment_basepoint: string; to_remote_script: string; to_remote_address: string }[];
  };
  const peer = hexToBytes('02c890198769c73aa261cfb3019e49292e28c347093073d4bf1f30b25739623ac8');
  for (const c of expected.channels) {
    it(`dbid ${c.dbid} (${c.channel_type.join('+')})`, () => {
      const bits = c.channel_type.includes('anchors') ? [12, 22] : [12];
      const t = toRemoteForChannel(seed, peer, BigInt(c.dbid), channelTypeFromBits(bits), 'regtest');
      expect(t.payment_basepoint).toBe(c.payment_basepoint);
      expect(t.script_hex).toBe(c.to_remote_script);
      expect(t.address).toBe(c.to_remote_address);
    });
  }
  it('only the first 32 seed bytes feed channel keys (a legacy restore has the same to_remote)', () => {
    const a = toRemoteForChannel(seed, peer, 1n, channelTypeFromBits([12]), 'regtest');
    const b = toRemoteForChannel(seed.subarray(0, 32), peer, 1n, channelTypeFromBits([12]), 'regtest');
    expect(a).toEqual(b);
  });
});

describe('argument checks', () => {
  it('wrong-typed or wrong-sized inputs raise CldcbError', () => {
    const sd = new Uint8Array(32).fill(1);
    const peer = new Uint8Array(33).fill(2);
    expect(() => channelSeed(sd, new Uint8Array(32), 1n)).toThrow(CldcbError);
    expect(() => channelSeed(sd, peer, -1n)).toThrow(CldcbError);
    expect(() => channelSeed(sd, peer, 1 as unknown as bigint)).toThrow(CldcbError);
    expect(() => channelSeed(new Uint8Array(40), peer, 1n)).toThrow(CldcbError);
    expect(() => toRemote(new Uint8Array(32), new Uint8Array(0), 'bitcoin')).toThrow(CldcbError);
    expect(() => deriveSimplePrivkey(new Uint8Array(32), new Uint8Array(33))).toThrow(CldcbError);
    expect(() => deriveSimplePubkey(new Uint8Array(33), new Uint8Array(33))).toThrow(CldcbError);
  });
  it('networks: testnet and signet use tb, regtest bcrt, bitcoin bc', () => {
    const pb = hexToBytes(vectors.channel_derivation[0]!.payment_basepoint);
    expect(toRemote(pb, channelTypeFromBits([12]), 'testnet').address).toMatch(/^tb1q/);
    expect(toRemote(pb, channelTypeFromBits([12]), 'signet').address).toMatch(/^tb1q/);
    expect(toRemote(pb, channelTypeFromBits([12]), 'regtest').address).toMatch(/^bcrt1q/);
    expect(toRemote(pb, channelTypeFromBits([12]), 'bitcoin').address).toMatch(/^bc1q/);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { mnemonicToSeedSync } from '@scure/bip39';
import { bytesToHex } from '../../shared/bytes';
import { CldcbError } from '../../shared/errors';
import { modernScbChanHex } from '../../shared/scb/scbChan';
import { readScbDatabase, readScbEntriesFromDatabase } from '../../shared/node/scbDatabase';

const CN = 'test/fixtures/lightningd/channel-node';
const DB = `${CN}/lightningd.sqlite3`;
const seed = mnemonicToSeedSync(readFileSync(`${CN}/hsm_secret`).subarray(32).toString('utf8'));
const json = (p: string) => JSON.parse(readFileSync(p, 'utf8'));
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'cldcb-scbdb-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A writable copy of the fixture to alter. */
function copy(name: string): string {
  const p = path.join(dir, name);
  copyFileSync(DB, p);
  return p;
}

describe('channels of the real lightningd.sqlite3', () => {
  it('every channel matches listpeerchannels.json and expected-to-remote.json', () => {
    const before = sha(DB);
    const { channels, states, entries } = readScbDatabase(DB, seed, 'regtest');
    expect(sha(DB)).toBe(before); // opened read-only: not a byte changed
    expect(states).toEqual(['CHANNELD_NORMAL', 'ONCHAIN']);
    expect(entries.length).toBe(2);
    const lpc = json(`${CN}/listpeerchannels.json`).channels as Record<string, unknown>[];
    const exp = json(`${CN}/expected-to-remote.json`).channels as Record<string, unknown>[];
    expect(channels.map((c) => [c.peer_id, c.channel_id, c.funding_txid, c.funding_outnum, c.funding_sat * 1000, c.channel_type.bits, c.opener, c.to_self_delay])).toEqual(
      lpc.map((n) => [n.peer_id, n.channel_id, n.funding_txid, n.funding_outnum, n.total_msat, (n.channel_type as { bits: number[] }).bits, n.opener, n.our_to_self_delay]),
    );
    expect(channels.map((c) => [c.dbid, c.channel_type.names, c.to_remote.script_hex, c.to_remote.address])).toEqual(
      exp.map((e) => [e.dbid, e.channel_type, e.to_remote_script, e.to_remote_address]),
    );
    expect(channels.every((c) => c.source === 'database' && c.has_penalty_info && c.peer_address === '127.0.0.1:37824')).toBe(true);
  });

  it('the entries are byte for byte what `staticbackup` printed (shachain, basepoints, opener, delay included)', () => {
    const sb = json(`${CN}/staticbackup.json`).scb as string[];
    expect(readScbEntriesFromDatabase(DB).map((e) => modernScbChanHex(e.entry))).toEqual(sb);
  });
});

describe('older and odd databases', () => {
  it('NULL channel_type is rebuilt like migrate_fill_in_channel_type', () => {
    const p = copy('nulltype.sqlite3');
    const db = new Database(p);
    db.exec('UPDATE channels SET channel_type = NULL');
    db.exec('UPDATE channels SET option_anchor_outputs = 1, local_static_remotekey_start = 0 WHERE id = 1');
    db.exec('UPDATE channels SET option_anchor_outputs = 0, local_static_remotekey_start = 0 WHERE id = 2');
    db.close();
    const e = readScbEntriesFromDatabase(p);
    expect(bytesToHex(e[0]!.entry.channelType)).toBe('101000'); // obsolete anchor_outputs + static_remotekey
    expect(bytesToHex(e[1]!.entry.channelType)).toBe('1000');
    const db2 = new Database(p);
    db2.exec('UPDATE channels SET local_static_remotekey_start = 9223372036854775807 WHERE id = 2');
    db2.close();
    const { channels } = readScbDatabase(p, seed, 'regtest');
    expect(channels[1]!.channel_type.names).toEqual([]);
    expect(channels[1]!.to_remote.kind).toBe('non-static');
    expect(channels[0]!.to_remote.kind).toBe('p2wsh-anchors');
    expect(channels[0]!.to_remote.address).toBe('bcrt1qmeekgpg98fllqwk4v5fnk4z5wjpx5umhkr7kyjecj4hendzlukdswh9gad');
  });

  it('last_known_address wins over the text address; a unix-socket peer has no address', () => {
    const p = copy('addr.sqlite3');
    const db = new Database(p);
    db.prepare('UPDATE peers SET last_known_address = ?').run(Buffer.from('02000000000000000000000000000000012607', 'hex'));
    db.close();
    expect(readScbDatabase(p, seed, 'regtest').channels[0]!.peer_address).toBe('[::1]:9735');
    const db2 = new Database(p);
    db2.exec("UPDATE peers SET last_known_address = NULL, address = '/tmp/lightning-rpc'");
    db2.close();
    const r = readScbDatabase(p, seed, 'regtest');
    expect(r.channels[0]!.peer_address).toBeNull();
    expect(r.entries[0]!.addr).toBeNull();
  });

  it('CLOSED and DUALOPEND_OPEN_INIT channels are left out (as staticbackup), CLOSED listed on request', () => {
    const p = copy('closed.sqlite3');
    const db = new Database(p);
    db.exec('UPDATE channels SET state = 10 WHERE id = 2');
    db.close();
    expect(readScbEntriesFromDatabase(p).map((e) => e.entry.id)).toEqual([1n]);
    expect(readScbEntriesFromDatabase(p, { includeClosed: true }).map((e) => e.state)).toEqual(['CHANNELD_NORMAL', 'CLOSED']);
    const db2 = new Database(p);
    db2.exec('UPDATE channels SET state = 1 WHERE id = 1');
    db2.close();
    expect(readScbEntriesFromDatabase(p, { includeClosed: true }).map((e) => e.entry.id)).toEqual([2n]);
  });

  it('no shachain or basepoints: no penalty info', () => {
    const p = copy('nopenalty.sqlite3');
    const db = new Database(p);
    db.exec('UPDATE channels SET shachain_remote_id = NULL, payment_basepoint_remote = NULL');
    db.close();
    const r = readScbDatabase(p, seed, 'regtest');
    expect(r.channels.map((c) => c.has_penalty_info)).toEqual([false, false]);
    expect(r.entries[0]!.tlvs.shachain).toBeUndefined();
    expect(r.entries[0]!.tlvs.basepoints).toBeUndefined();
    expect(r.entries[0]!.tlvs.opener).toBe('remote');
  });

  it('damaged rows give bad_input naming the channel', () => {
    const p = copy('damaged.sqlite3');
    const db = new Database(p);
    db.prepare('UPDATE channels SET funding_tx_id = ? WHERE id = 2').run(Buffer.alloc(31));
    db.close();
    expect(() => readScbEntriesFromDatabase(p)).toThrow(/channel 2: funding_tx_id is not 32 bytes/);
  });
});

describe('errors', () => {
  const codeOf = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(CldcbError);
      return (e as CldcbError).code;
    }
    return 'none';
  };
  it('missing file: file_not_found (and nothing is created)', () => {
    const p = path.join(dir, 'missing.sqlite3');
    expect(codeOf(() => readScbEntriesFromDatabase(p))).toBe('file_not_found');
    expect(() => readFileSync(p)).toThrow();
  });
  it('not a database / not a lightningd database: bad_input', () => {
    const junk = path.join(dir, 'junk.sqlite3');
    writeFileSync(junk, 'this is not sqlite'.repeat(100));
    expect(codeOf(() => readScbEntriesFromDatabase(junk))).toBe('bad_input');
    const other = path.join(dir, 'other.sqlite3');
    const db = new Database(other);
    db.exec('CREATE TABLE t (x)');
    db.close();
    expect(() => readScbEntriesFromDatabase(other)).toThrow(/not a lightningd database/);
  });
  it('a wrong-sized secret: bad_length', () => {
    expect(codeOf(() => readScbDatabase(DB, new Uint8Array(16), 'regtest'))).toBe('bad_length');
  });
});

/**
 * Our cldcb-server with data made by the ORIGINAL cldcb server (test/fixtures/cldcb, see
 * its README): the original's server directory works with ours, our download equals what
 * the original served (recovery/recovery_messages.json), and replaying the original run's
 * uploads into our server gives the original's archive bytes (up to the footer-count drift
 * the original had, bug 3).
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../../shared/bytes';
import { encodeArchive, readArchive, type ArchEvent } from '../../shared/cldcb/arch';
import { formatClientId, parseClientKeyFile, parseNodeId } from '../../shared/cldcb/ids';
import { parsePluginWrapper } from '../../shared/cldcb/wrapper';
import { ensureServerBuilt, startServer, type ServerProcess } from './helpers/server-harness';
import { newClientKey, TestClient } from './helpers/server-client';

const FIX = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../fixtures/cldcb');
const CID1 = 'c2f8853660663e584024d4efbd84c77b61de13941cffeb0e8a41fb06ce46373637';
const ARCH = `${CID1}.arch`;
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(path.join(FIX, name)));

interface JsonMessage {
  mid: number;
  tlvs: Record<string, string>;
}

const tmpDirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'cldcb-server-fixture-'));
  tmpDirs.push(d);
  return d;
}

/** The original's server directory: secret, server_id, clients, recognition_codes, <cid>.arch. */
function originalServerDir(): string {
  const dir = tempDir();
  copyFileSync(path.join(FIX, 'secret'), path.join(dir, 'secret'));
  copyFileSync(path.join(FIX, 'server_id'), path.join(dir, 'server_id'));
  copyFileSync(path.join(FIX, 'server_dir/clients'), path.join(dir, 'clients'));
  copyFileSync(path.join(FIX, 'server_dir/recognition_codes'), path.join(dir, 'recognition_codes'));
  copyFileSync(path.join(FIX, ARCH), path.join(dir, ARCH));
  return dir;
}

beforeAll(async () => {
  await ensureServerBuilt();
});
afterAll(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

describe('the original server directory with our server', () => {
  let dir: string;
  let srv: ServerProcess;
  beforeAll(async () => {
    dir = originalServerDir();
    srv = await startServer(dir);
  });
  afterAll(async () => {
    await srv?.stop();
  });

  it('keeps the original server identity (secret → same server_id)', () => {
    expect(readFileSync(path.join(dir, 'server_id'), 'utf8')).toBe(readFileSync(path.join(FIX, 'server_id'), 'utf8'));
    expect(srv.log()).toMatch(/loaded clients: 2 allowed clients/);
    expect(srv.log()).toMatch(/loaded 1 recognition codes, 0 read verifiers, 1 archives/); // the original loaded 0 (bug 2)
  });

  it('serves the original archive exactly as the original server did (recovery_messages.json)', async () => {
    const expected = (JSON.parse(readFileSync(path.join(FIX, 'recovery/recovery_messages.json'), 'utf8')) as JsonMessage[]).filter((m) => m.mid >= 112);
    const c = await TestClient.connect({ port: srv.port, serverPub: srv.serverPub, key: newClientKey() }); // any key may read
    const { messages } = await c.download(parseNodeId('0' + CID1.slice(1)));
    c.close();
    expect(messages).toHaveLength(expected.length);
    const payloadOf = (m: (typeof messages)[number]): Uint8Array | undefined => {
      switch (m.type) {
        case 'response_backedup_reupload_chunk':
        case 'response_backedup_incremental_chunk':
          return m.chunk;
        case 'response_backedup_incremental_new':
          return hexToBytes(m.dataVersion.toString(16).padStart(8, '0'));
        default:
          return undefined;
      }
    };
    const ids: Record<string, number> = {
      response_backedup_reupload_chunk: 114,
      response_backedup_reupload_end: 116,
      response_backedup_incremental_new: 118,
      response_backedup_incremental_chunk: 120,
      response_backedup_incremental_endall: 122,
    };
    messages.forEach((m, i) => {
      const want = expected[i]!;
      expect(ids[m.type], `message ${i}`).toBe(want.mid);
      const got = payloadOf(m);
      const w = want.tlvs['0'];
      if (w === undefined) expect(got, `message ${i}`).toBeUndefined();
      else if (/^\d+ bytes$/.test(w)) expect(got!.length, `message ${i}`).toBe(Number(w.split(' ')[0]));
      else expect(bytesToHex(got!), `message ${i}`).toBe(w);
    });
    // The abbreviated chunks too: every chunk equals the archive's.
    const chunks = readArchive(fixture(ARCH)).flatMap((e) => (e.type === 'reuploadChunk' || e.type === 'incrementChunk' ? [bytesToHex(e.chunk)] : []));
    expect(messages.flatMap((m) => (m.type.endsWith('_chunk') ? [bytesToHex(payloadOf(m)!)] : []))).toEqual(chunks);
  });

  it('lists the loaded code, and stores client 1\'s code from its wrapper next to it (file rewritten, nothing lost)', async () => {
    const wrapper = parsePluginWrapper(readFileSync(path.join(FIX, 'cldcb-plugin-wrapper'), 'utf8'));
    const c1 = await TestClient.connect({ port: srv.port, serverPub: srv.serverPub, key: { priv: wrapper.clientPrivateKey, pub: wrapper.clientId } });
    expect(bytesToHex(srv.serverPub)).toBe(bytesToHex(wrapper.serverId));
    await c1.giveCode(wrapper.nodeSignature);
    await srv.waitForLog(new RegExp(`${CID1}: recognition code stored`));
    const s = await TestClient.connect({ port: srv.port, serverPub: srv.serverPub, key: newClientKey() });
    const { records } = await s.listCodes();
    const original = readFileSync(path.join(FIX, 'server_dir/recognition_codes'), 'utf8').trim().split(' ');
    const record1 = readFileSync(path.join(FIX, 'recognition_record_c1.hex'), 'utf8').trim(); // as the original sent it in message 4
    expect(records.map(bytesToHex)).toEqual([original.join(''), record1]);
    expect(readFileSync(path.join(dir, 'recognition_codes'), 'utf8')).toBe(
      readFileSync(path.join(FIX, 'server_dir/recognition_codes'), 'utf8') + `${'0' + CID1.slice(1)} ${bytesToHex(wrapper.nodeSignature)}\n`,
    );
    // Client 1 continues its original archive: dv 10 follows dv 9 (count = true number, 5).
    expect(await c1.backup(10, [hexToBytes('aa'.repeat(100))])).toBe('appended');
    const ends = readArchive(new Uint8Array(readFileSync(path.join(dir, ARCH)))).filter((e) => e.type === 'incrementEnd');
    expect(ends.map((e) => (e.type === 'incrementEnd' ? e.footer!.count : -1))).toEqual([0, 1, 3, 4, 5, 5]);
    c1.close();
    s.close();
  });
});

describe('replaying the original run into our server', () => {
  it('gives the original archive bytes (identical through dv 6; afterwards only the drifted footer counts differ)', async () => {
    const dir = tempDir();
    const key = parseClientKeyFile(readFileSync(path.join(FIX, 'c1.key'), 'utf8'));
    expect(formatClientId(key.clientId)).toBe(CID1);
    writeFileSync(path.join(dir, 'clients'), `${CID1}\n`);
    const srv = await startServer(dir);
    try {
      const original = fixture(ARCH);
      const events = readArchive(original);
      const snapshot = events.flatMap((e) => (e.type === 'reuploadChunk' ? [e.chunk] : []));
      const increments: { dv: number; chunks: Uint8Array[] }[] = [];
      for (const e of events) {
        if (e.type === 'incrementStart') increments.push({ dv: e.dataVersion, chunks: [] });
        if (e.type === 'incrementChunk') increments.at(-1)!.chunks.push(e.chunk);
      }
      expect(increments.map((i) => i.dv)).toEqual([5, 6, 7, 8, 9]);
      const c = await TestClient.connect({ port: srv.port, serverPub: srv.serverPub, key: { priv: key.privateKey, pub: key.clientId } });
      const ours = (): Uint8Array => new Uint8Array(readFileSync(path.join(dir, ARCH)));
      expect(await c.backup(5, increments[0]!.chunks, snapshot)).toBe('reuploaded');
      expect(bytesToHex(ours())).toBe(bytesToHex(fixture(`snapshots/${CID1}.after_dv5_reupload.arch`)));
      expect(await c.backup(6, increments[1]!.chunks)).toBe('appended');
      expect(bytesToHex(ours())).toBe(bytesToHex(fixture(`snapshots/${CID1}.after_dv6_append_big.arch`)));
      for (const inc of increments.slice(2)) expect(await c.backup(inc.dv, inc.chunks)).toBe('appended');
      c.close();
      // Same bytes as the original's final archive with true counts 0..4 instead of 0, 1, 3, 4, 5.
      const footerless: ArchEvent[] = events.map((e) => (e.type === 'incrementEnd' ? { type: 'incrementEnd' } : e));
      expect(bytesToHex(ours())).toBe(bytesToHex(encodeArchive(footerless)));
      expect(ours().length).toBe(original.length);
    } finally {
      await srv.stop();
    }
  });
});

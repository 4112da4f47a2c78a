/**
 * cldcb-plugin against OUR cldcb-server (the built program, `daemon --foreground`), with the
 * real lightningd traces (test/fixtures/lightningd, see its README); recovery side through
 * the client library (shared/node/cldcbClient.ts): list the recognition codes, find
 * ours with the node key, prove read access, download, unseal and replay — row-identical to
 * the fixture's database. Also the server's `.arch` file on disk.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { bytesToHex } from '../../shared/bytes';
import { CldcbError } from '../../shared/errors';
import { formatClientId } from '../../shared/cldcb/ids';
import { readArchive } from '../../shared/cldcb/arch';
import { findOwnRecords } from '../../shared/cldcb/recognition';
import { nobleSecp } from '../../shared/cldcb/curve';
import { CldcbClient, readToken } from '../../shared/node/cldcbClient';
import { compareDatabases, decodeBackup, replayToFile } from './helpers/replay';
import { buildPlugin } from './helpers/plugin-build';
import { loadNode, playCalls, playTrace, setupClient, startDriver, type ClientSetup, type NodeFixture } from './helpers/plugin-fixtures';
import { publicKeyOf } from '../../shared/noise/primitives';
import { ensureServerBuilt, startServer, type ServerProcess } from './helpers/server-harness';

let work: string;
let single: NodeFixture;
let channel: NodeFixture;

beforeAll(async () => {
  await Promise.all([buildPlugin(), ensureServerBuilt()]);
  work = mkdtempSync(path.join(tmpdir(), 'cldcb-plugin-srv-'));
  single = await loadNode('single-node');
  channel = await loadNode('channel-node');
}, 240_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

let n = 0;
/** Our server on a fresh directory that allows `clientKeys`. */
async function ourServer(clientKeys: Uint8Array[], args: string[] = []): Promise<ServerProcess> {
  const dir = path.join(work, `srv${n++}`);
  mkdirSync(dir, { mode: 0o700 });
  writeFileSync(path.join(dir, 'clients'), clientKeys.map((k) => `${formatClientId(k)}\n`).join(''));
  return startServer(dir, { args, logLevel: 'info' });
}

/** A client key, our server allowing it, and a wrapper pointed at the server. */
async function setupFor(node: NodeFixture, args: string[] = []): Promise<{ s: ClientSetup; srv: ServerProcess }> {
  const clientPriv = new Uint8Array(randomBytes(32));
  const srv = await ourServer([publicKeyOf(clientPriv, 'client')], args);
  return { s: setupClient(work, node, { port: srv.port, serverKey: srv.serverPub }, clientPriv), srv };
}

/** The recovering side: find our client by recognition code, prove read access, download. */
async function recoverOnline(srv: ServerProcess, node: NodeFixture, clientKey: Uint8Array) {
  const c = await CldcbClient.connect({ host: '127.0.0.1', port: srv.port, serverKey: srv.serverPub, clientPrivateKey: new Uint8Array(randomBytes(32)) });
  try {
    expect(c.supportsExtension).toBe(true);
    const records = await c.listRecognitionCodes();
    const mine = findOwnRecords(node.nodePriv, records);
    expect(mine.map((r) => bytesToHex(r.clientKey))).toEqual([bytesToHex(clientKey)]);
    const token = readToken(nobleSecp.ecdhHash(node.nodePriv, clientKey));
    await c.proveRead(clientKey, token);
    return await c.downloadBackup(clientKey);
  } finally {
    c.close();
  }
}

describe('plugin → our cldcb-server', () => {
  it('single-node trace: online recovery (codes, read proof, download) and the .arch file both replay to the fixture database', async () => {
    const { s, srv } = await setupFor(single);
    try {
      const d = startDriver(s);
      await playTrace(d, single.trace);
      await d.stop();
      expect(d.logs.filter((l) => l.level === 'error' || l.level === 'warn')).toEqual([]);
      expect(d.logs.some((l) => /extension v1/.test(l.message))).toBe(true);

      // Without the read proof the download is refused (read protection was set by the plugin).
      const stranger = await CldcbClient.connect({ host: '127.0.0.1', port: srv.port, serverKey: srv.serverPub, clientPrivateKey: new Uint8Array(randomBytes(32)) });
      const refused = await stranger.downloadBackup(s.clientKey).catch((e: unknown) => e);
      stranger.close();
      expect(refused).toBeInstanceOf(CldcbError);
      expect((refused as CldcbError).code).toBe('not_found');

      const events = await recoverOnline(srv, single, s.clientKey);
      const plan = replayToFile(decodeBackup(events, single.nodePriv, s.clientKey), path.join(s.dir, 'online.sqlite3'));
      expect(plan.errors).toEqual([]);
      expect(compareDatabases(path.join(s.dir, 'online.sqlite3'), single.db)).toEqual([]);

      const arch = readFileSync(path.join(srv.dir, `${formatClientId(s.clientKey)}.arch`));
      const plan2 = replayToFile(decodeBackup(readArchive(new Uint8Array(arch)), single.nodePriv, s.clientKey), path.join(s.dir, 'offline.sqlite3'));
      expect(plan2.errors).toEqual([]);
      expect(compareDatabases(path.join(s.dir, 'offline.sqlite3'), single.db)).toEqual([]);
    } finally {
      await srv.stop();
    }
  });

  it('channel-node trace with the server asking re-uploads as the increments outgrow the snapshot', async () => {
    const { s, srv } = await setupFor(channel, ['--min-log-bytes=200000']);
    try {
      const d = startDriver(s, { cacheSize: 4 });
      await playTrace(d, channel.trace);
      await d.stop();
      const asked = d.logs.filter((l) => /asked for a re-upload/.test(l.message)).length;
      expect(asked).toBeGreaterThan(0);
      expect(d.logs.filter((l) => l.level === 'error')).toEqual([]);
      const events = await recoverOnline(srv, channel, s.clientKey);
      const b = decodeBackup(events, channel.nodePriv, s.clientKey);
      expect(b.headerDv).toBeGreaterThan(1); // the last re-upload happened mid-trace
      const plan = replayToFile(b, path.join(s.dir, 'recovered.sqlite3'));
      expect(plan.errors).toEqual([]);
      expect(compareDatabases(path.join(s.dir, 'recovered.sqlite3'), channel.db)).toEqual([]);
    } finally {
      await srv.stop();
    }
  });

  it('the state file is lost between runs (a node moved without it): the plugin asks for a re-upload, and the backup replays to the database', async () => {
    const { s, srv } = await setupFor(channel);
    try {
      const half = Math.floor(channel.trace.length / 2);
      // Cut where a transaction ends (a PRAGMA-only call repeats the data_version before it).
      const cut = channel.trace.findIndex((c, i) => i >= half && c.writes.some((w) => /data_version/.test(w)));
      const d = startDriver(s);
      await playTrace(d, channel.trace.slice(0, cut + 1));
      await d.stop();
      rmSync(path.join(s.dir, 'cldcb-plugin.state'));
      const d2 = startDriver(s);
      expect((await d2.getmanifest()).result).toBeDefined();
      await d2.init();
      await playCalls(d2, channel.trace.slice(cut + 1));
      await d2.stop();
      expect(d2.logs.filter((l) => l.level === 'error' || l.level === 'warn')).toEqual([]);
      expect(d2.logs.some((l) => /re-uploaded the database/.test(l.message))).toBe(true);
      const b = decodeBackup(await recoverOnline(srv, channel, s.clientKey), channel.nodePriv, s.clientKey);
      expect(b.headerDv).toBe(channel.trace[cut + 1]!.data_version);
      const plan = replayToFile(b, path.join(s.dir, 'after-lost-state.sqlite3'));
      expect(plan.errors).toEqual([]);
      expect(compareDatabases(path.join(s.dir, 'after-lost-state.sqlite3'), channel.db)).toEqual([]);
    } finally {
      await srv.stop();
    }
  });

  it('a PRAGMA call that fails is not staged: after the crash the next transaction still chains to what the server stored', async () => {
    const { s, srv } = await setupFor(channel);
    let srv2: ServerProcess | undefined;
    try {
      // Calls 0–2: dv 1 (schema), PRAGMA OFF at dv 1, dv 2. Call 3 is PRAGMA ON at dv 2: it fails.
      const d = startDriver(s);
      await d.getmanifest();
      await playCalls(d, channel.trace.slice(0, 3));
      await srv.kill();
      const r = await d.dbWrite(channel.trace[3]!);
      expect(r.ok).toBe(false); // lightningd stops; the PRAGMA's increment was never stored
      await d.kill();
      srv2 = await startServer(srv.dir, { args: [`--port=${srv.port}`], logLevel: 'info' });
      const d2 = startDriver(s);
      await d2.getmanifest();
      await playCalls(d2, channel.trace.slice(3)); // lightningd starts again: the PRAGMA, then the rest
      await d2.init();
      await d2.stop();
      const b = decodeBackup(await recoverOnline(srv2, channel, s.clientKey), channel.nodePriv, s.clientKey);
      const plan = replayToFile(b, path.join(s.dir, 'after-pragma-failure.sqlite3'));
      expect(plan.errors).toEqual([]);
      expect(compareDatabases(path.join(s.dir, 'after-pragma-failure.sqlite3'), channel.db)).toEqual([]);
    } finally {
      await srv.stop();
      await srv2?.stop();
    }
  });

  it('server SIGKILLed mid-run and restarted on the same port: the plugin reconnects and nothing is lost', async () => {
    const { s, srv } = await setupFor(single);
    let srv2: ServerProcess | undefined;
    try {
      const d = startDriver(s);
      await d.getmanifest();
      await d.init();
      await playCalls(d, single.trace.slice(0, 50));
      await srv.kill();
      const restarted = startServer(srv.dir, { args: [`--port=${srv.port}`], logLevel: 'info' });
      await playCalls(d, single.trace.slice(50)); // the first of these waits for the restart
      srv2 = await restarted;
      await d.stop();
      expect(d.logs.filter((l) => /Connected to the cldcb server/.test(l.message)).length).toBe(2);
      const events = await recoverOnline(srv2, single, s.clientKey);
      const plan = replayToFile(decodeBackup(events, single.nodePriv, s.clientKey), path.join(s.dir, 'recovered.sqlite3'));
      expect(plan.errors).toEqual([]);
      expect(compareDatabases(path.join(s.dir, 'recovered.sqlite3'), single.db)).toEqual([]);
    } finally {
      await srv.stop();
      await srv2?.stop();
    }
  });
});

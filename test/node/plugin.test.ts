/**
 * cldcb-plugin end to end with real lightningd data (test/fixtures/lightningd, see its
 * README): a fixture trace is played by a lightningd stand-in (helpers/lightningdDriver.ts)
 * through the built plugin into a cldcb server; the server's archive is unsealed with the
 * node key from that folder's hsm_secret and replayed (helpers/replay.ts); the result must be
 * row-identical to the fixture's own lightningd.sqlite3.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { readSecretFile } from '../../electron/services/secretFiles';
import { nodePrivateKey } from '../../shared/secrets/nodeKey';
import { forgetSecret } from '../../shared/secrets/hsmSecret';
import { signRecognitionCode } from '../../shared/cldcb/recognition';
import { parseNodeId } from '../../shared/cldcb/ids';
import { publicKeyOf } from '../../shared/noise/primitives';
import { bytesToHex } from '../../shared/bytes';
import { LightningdDriver, type TraceCall } from './helpers/lightningdDriver';
import { TestCldcbServer, archiveEvents } from './helpers/plugin-server';
import { compareDatabases, decodeBackup, replayToFile, replayTrace } from './helpers/replay';
import { buildPlugin, ROOT, writeWrapper } from './helpers/plugin-build';

const FIX = path.join(ROOT, 'test/fixtures/lightningd');

interface NodeFixture {
  name: string;
  trace: TraceCall[];
  db: string;
  nodePriv: Uint8Array;
  nodeId: Uint8Array;
}

async function loadNode(name: string, traceFile: string): Promise<NodeFixture> {
  const dir = path.join(FIX, name);
  const trace = readFileSync(path.join(dir, traceFile), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as TraceCall);
  const secret = await readSecretFile(path.join(dir, 'hsm_secret'));
  const nodePriv = nodePrivateKey(secret.secretData);
  forgetSecret(secret);
  const nodeId = parseNodeId((JSON.parse(readFileSync(path.join(dir, 'getinfo.json'), 'utf8')) as { id: string }).id);
  expect(bytesToHex(publicKeyOf(nodePriv, 'node'))).toBe(bytesToHex(nodeId));
  return { name, trace, db: path.join(dir, 'lightningd.sqlite3'), nodePriv, nodeId };
}

let work: string;
let single: NodeFixture;
let channel: NodeFixture;

beforeAll(async () => {
  await buildPlugin();
  work = mkdtempSync(path.join(tmpdir(), 'cldcb-plugin-'));
  single = await loadNode('single-node', 'trace-1.jsonl');
  channel = await loadNode('channel-node', 'trace-B.jsonl');
}, 120_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

interface Setup {
  dir: string;
  wrapper: string;
  clientPriv: Uint8Array;
  clientKey: Uint8Array;
  server: TestCldcbServer;
}

let counter = 0;
async function setup(node: NodeFixture, mode: 'ours' | 'original', server?: TestCldcbServer): Promise<Setup> {
  const dir = path.join(work, `n${counter++}`);
  mkdirSync(dir, { recursive: true });
  const clientPriv = new Uint8Array(randomBytes(32));
  const clientKey = publicKeyOf(clientPriv, 'client');
  const srv = server ?? (await TestCldcbServer.start({ mode, clients: [clientKey] }));
  const wrapper = writeWrapper(path.join(dir, 'cldcb-plugin-wrapper'), {
    clientPrivateKey: clientPriv,
    nodeId: node.nodeId,
    nodeSignature: signRecognitionCode(node.nodePriv, clientKey),
    serverId: srv.publicKey,
    host: '127.0.0.1',
    port: srv.port,
  });
  return { dir, wrapper, clientPriv, clientKey, server: srv };
}

function startDriver(s: Setup, extra: Partial<ConstructorParameters<typeof LightningdDriver>[0]> = {}): LightningdDriver {
  return new LightningdDriver({ command: [s.wrapper], cwd: s.dir, env: { ...process.env, CLDCB_PLUGIN_DEADLINE_MS: '4000' }, ...extra });
}

/** getmanifest, the first `beforeInit` calls, init, the rest. */
async function playTrace(d: LightningdDriver, trace: TraceCall[], beforeInit = 4): Promise<void> {
  const m = await d.getmanifest();
  expect(m.result).toEqual({ options: [], rpcmethods: [], hooks: [{ name: 'db_write' }], dynamic: false });
  for (const call of trace.slice(0, beforeInit)) {
    const r = await d.dbWrite(call);
    expect(r, JSON.stringify(d.logs.slice(-3))).toMatchObject({ ok: true });
  }
  expect(await d.init()).toMatchObject({ result: {} });
  for (const call of trace.slice(beforeInit)) {
    const r = await d.dbWrite(call);
    expect(r, JSON.stringify(d.logs.slice(-3))).toMatchObject({ ok: true });
  }
}

function replayArchive(s: Setup, node: NodeFixture, out: string): ReturnType<typeof replayToFile> {
  const a = s.server.archives.get(bytesToHex(s.clientKey));
  expect(a, 'the server has an archive for this client').toBeDefined();
  const backup = decodeBackup(archiveEvents(a!), node.nodePriv, s.clientKey);
  return replayToFile(backup, out);
}

describe('lightningd stand-in', () => {
  it('replaying a fixture trace like lightningd gives the fixture database (driver sanity)', () => {
    const out = path.join(work, 'trace-replay.sqlite3');
    replayTrace(single.trace, out);
    expect(compareDatabases(out, single.db)).toEqual([]);
  });
});

describe('plugin → our server (extension v1)', () => {
  it('single-node trace, db_write before init: the archive replays to the fixture database', async () => {
    const s = await setup(single, 'ours');
    const d = startDriver(s);
    try {
      await playTrace(d, single.trace);
      expect(await d.stop()).toEqual({ code: 0, signal: null });
      expect(compareDatabases(path.join(s.dir, 'lightningd.sqlite3'), single.db)).toEqual([]);
      const plan = replayArchive(s, single, path.join(s.dir, 'recovered.sqlite3'));
      expect(plan.errors).toEqual([]);
      expect(compareDatabases(path.join(s.dir, 'recovered.sqlite3'), single.db)).toEqual([]);
      // One re-upload (first run), every call its own increment (repeats appended).
      expect(s.server.reuploads).toBe(1);
      expect(s.server.archives.get(bytesToHex(s.clientKey))!.increments.length).toBe(single.trace.length);
      expect(s.server.verifiers.has(bytesToHex(s.clientKey))).toBe(true);
      expect(d.logs.filter((l) => l.level === 'error')).toEqual([]);
      expect(existsSync(path.join(s.dir, 'cldcb-plugin.state'))).toBe(true);
      expect(readdirSync(s.dir).filter((f) => f.startsWith('.cldcb-snapshot-'))).toEqual([]);
    } finally {
      await s.server.stop();
    }
  });
});

describe('plugin → original-behaviour server (replace on repeated data_version)', () => {
  it('channel-node trace: nothing is lost although the server replaces repeated data_versions', async () => {
    const s = await setup(channel, 'original');
    const d = startDriver(s);
    try {
      await playTrace(d, channel.trace);
      await d.stop();
      const plan = replayArchive(s, channel, path.join(s.dir, 'recovered.sqlite3'));
      expect(plan.errors).toEqual([]);
      expect(compareDatabases(path.join(s.dir, 'recovered.sqlite3'), channel.db)).toEqual([]);
      // The two PRAGMA calls were merged into the increments they follow.
      expect(s.server.archives.get(bytesToHex(s.clientKey))!.increments.length).toBe(channel.trace.length - 2);
      expect(s.server.verifiers.size).toBe(0);
      expect(s.server.seen.some((t) => t.startsWith('id'))).toBe(false);
    } finally {
      await s.server.stop();
    }
  });
});

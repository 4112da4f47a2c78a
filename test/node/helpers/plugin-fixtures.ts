/**
 * Shared set-up for the plugin tests: the real lightningd fixtures (test/fixtures/lightningd,
 * see its README), a client key with its recognition code signed by the fixture's node key,
 * a wrapper that runs the built plugin, and the archive check.
 */
import { expect } from 'vitest';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { readSecretFile } from '../../../shared/node/secretFiles';
import { nodePrivateKey } from '../../../shared/secrets/nodeKey';
import { forgetSecret } from '../../../shared/secrets/hsmSecret';
import { signRecognitionCode } from '../../../shared/cldcb/recognition';
import { parseNodeId } from '../../../shared/cldcb/ids';
import { isPragmaOnlyCall } from '../../../shared/cldcb/statements';
import type Database from 'better-sqlite3';
import { publicKeyOf } from '../../../shared/noise/primitives';
import { bytesToHex } from '../../../shared/bytes';
import { LightningdDriver, type DriverOptions, type TraceCall } from './lightningdDriver';
import { TestCldcbServer, archiveEvents } from './plugin-server';
import { decodeBackup, replayToFile, type DecodedBackup, type ReplayPlan } from './replay';
import { ROOT, writeWrapper } from './plugin-build';

export const FIX = path.join(ROOT, 'test/fixtures/lightningd');

export interface NodeFixture {
  readonly name: string;
  readonly trace: TraceCall[];
  /** The fixture's final lightningd.sqlite3. */
  readonly db: string;
  readonly nodePriv: Uint8Array;
  readonly nodeId: Uint8Array;
}

export function readTrace(file: string): TraceCall[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as TraceCall);
}

export async function loadNode(name: 'single-node' | 'channel-node'): Promise<NodeFixture> {
  const dir = path.join(FIX, name);
  const trace = readTrace(path.join(dir, name === 'single-node' ? 'trace-1.jsonl' : 'trace-B.jsonl'));
  const secret = await readSecretFile(path.join(dir, 'hsm_secret'));
  const nodePriv = nodePrivateKey(secret.secretData);
  forgetSecret(secret);
  const nodeId = parseNodeId((JSON.parse(readFileSync(path.join(dir, 'getinfo.json'), 'utf8')) as { id: string }).id);
  expect(bytesToHex(publicKeyOf(nodePriv, 'node'))).toBe(bytesToHex(nodeId));
  return { name, trace, db: path.join(dir, 'lightningd.sqlite3'), nodePriv, nodeId };
}

export interface Setup {
  readonly dir: string;
  readonly wrapper: string;
  readonly clientPriv: Uint8Array;
  readonly clientKey: Uint8Array;
  readonly server: TestCldcbServer;
}


let counter = 0;

export interface ClientSetup {
  readonly dir: string;
  readonly wrapper: string;
  readonly clientPriv: Uint8Array;
  readonly clientKey: Uint8Array;
}

/** A fresh network directory with a wrapper for a client key (new unless given) pointed at port/serverKey. */
export function setupClient(
  work: string,
  node: NodeFixture,
  target: { port: number; serverKey: Uint8Array; proxy?: { host: string; port: number } },
  clientPriv: Uint8Array = new Uint8Array(randomBytes(32)),
): ClientSetup {
  const dir = path.join(work, `n${process.pid}-${counter++}`);
  mkdirSync(dir, { recursive: true });
  const clientKey = publicKeyOf(clientPriv, 'client');
  const wrapper = writeWrapper(path.join(dir, 'cldcb-plugin-wrapper'), {
    clientPrivateKey: clientPriv,
    nodeId: node.nodeId,
    nodeSignature: signRecognitionCode(node.nodePriv, clientKey),
    serverId: target.serverKey,
    host: '127.0.0.1',
    port: target.port,
    ...(target.proxy ? { proxy: target.proxy } : {}),
  });
  return { dir, wrapper, clientPriv, clientKey };
}

/** setupClient plus an in-test server that allows the client (started unless given). */
export async function setupPlugin(
  work: string,
  node: NodeFixture,
  mode: 'ours' | 'original',
  opts: { server?: TestCldcbServer; port?: number; serverKey?: Uint8Array; proxy?: { host: string; port: number } } = {},
): Promise<Setup> {
  const clientPriv = new Uint8Array(randomBytes(32));
  const clientKey = publicKeyOf(clientPriv, 'client');
  const server = opts.server ?? (await TestCldcbServer.start({ mode, clients: [clientKey] }));
  const c = setupClient(work, node, { port: opts.port ?? server.port, serverKey: opts.serverKey ?? server.publicKey, ...(opts.proxy ? { proxy: opts.proxy } : {}) }, clientPriv);
  return { ...c, server };
}

export const TEST_DEADLINE_MS = '4000';

export function startDriver(s: Pick<Setup, 'dir' | 'wrapper'>, extra: Partial<DriverOptions> = {}): LightningdDriver {
  return new LightningdDriver({ command: [s.wrapper], cwd: s.dir, env: { ...process.env, CLDCB_PLUGIN_DEADLINE_MS: TEST_DEADLINE_MS }, ...extra });
}

export const MANIFEST = { options: [], rpcmethods: [], hooks: [{ name: 'db_write' }], dynamic: false };

/** Every call must be acknowledged. */
export async function playCalls(d: LightningdDriver, calls: readonly TraceCall[]): Promise<void> {
  for (const call of calls) {
    const r = await d.dbWrite(call);
    expect(r, `dv ${call.data_version}: ${JSON.stringify(r)} ${JSON.stringify(d.logs.slice(-3))}`).toMatchObject({ ok: true });
  }
}

/** getmanifest, the first `beforeInit` calls (migrations come before init), init, the rest. */
export async function playTrace(d: LightningdDriver, trace: readonly TraceCall[], beforeInit = 4): Promise<void> {
  const m = await d.getmanifest();
  expect(m.result).toEqual(MANIFEST);
  await playCalls(d, trace.slice(0, beforeInit));
  expect(await d.init()).toMatchObject({ result: {} });
  await playCalls(d, trace.slice(beforeInit));
}

export function decodeServerArchive(s: Setup, node: NodeFixture): DecodedBackup {
  const a = s.server.archives.get(bytesToHex(s.clientKey));
  expect(a, 'the server has an archive for this client').toBeDefined();
  return decodeBackup(archiveEvents(a!), node.nodePriv, s.clientKey);
}

/** Unseal the server's archive with the node key and replay it to `out`. */
export function replayServerArchive(s: Setup, node: NodeFixture, out: string): ReplayPlan {
  return replayToFile(decodeServerArchive(s, node), out);
}

/** A transactional call at `dv` (with lightningd's data_version bump). */
export function callAt(dv: number, statements: string[]): TraceCall {
  return { data_version: dv, writes: [...statements, `UPDATE vars SET intval = intval + 1 WHERE name = 'data_version' AND intval = ${dv - 1}`] };
}

export { LightningdDriver, TestCldcbServer };

/** What lightningd does once no db_write plugin is alive: commit without any hook (v26.06 plugin_hook.c:479-489). */
export function commitUnhooked(db: Database.Database, call: { readonly writes: readonly string[] }): void {
  const pragmaOnly = isPragmaOnlyCall(call.writes);
  if (!pragmaOnly) db.exec('BEGIN');
  for (const w of call.writes) db.exec(w);
  if (!pragmaOnly) db.exec('COMMIT');
}

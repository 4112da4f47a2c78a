/**
 * End to end with real lightningd traces (test/fixtures/lightningd): each trace is played
 * like lightningd (shared/node/lightningdPlayer.ts) through the built cldcb-plugin
 * into one cldcb-server holding several clients (two nodes, and a reinstall of one of them
 * that stopped early); then `cldcb-client recover --from` a copy of the server directory and
 * `--server` online both give databases row-identical to the nodes' real ones, picking the
 * freshest of a node's backups.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../cli/main';
import { capturedIo } from './helpers/cli';
import { formatClientId } from '../../shared/cldcb/ids';
import { encodeArchive, readArchive } from '../../shared/cldcb/arch';
import { signRecognitionCode } from '../../shared/cldcb/recognition';
import { forgetSecret } from '../../shared/secrets/hsmSecret';
import { nodePrivateKey } from '../../shared/secrets/nodeKey';
import { nativeBoxCrypto } from '../../shared/node/nativeSeal';
import { readSecretFile } from '../../shared/node/secretFiles';
import { LightningdDriver, type TraceCall } from '../../shared/node/lightningdPlayer';
import { compareDatabases } from '../../shared/node/recovery/compare';
import { ensureServerBuilt, runServerCommand, startServer, type ServerProcess } from './helpers/server-harness';
import { writeWrapper } from './helpers/plugin-build';

const FIX = path.resolve('test/fixtures/lightningd');
const crypto = nativeBoxCrypto();

interface Node {
  name: string;
  dir: string;
  trace: TraceCall[];
  priv: Uint8Array;
  nodeId: Uint8Array;
}

async function loadNode(name: string, trace: string): Promise<Node> {
  const s = await readSecretFile(path.join(FIX, name, 'hsm_secret'));
  const priv = nodePrivateKey(s.secretData);
  forgetSecret(s);
  return {
    name,
    dir: path.join(FIX, name),
    trace: readFileSync(path.join(FIX, name, trace), 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as TraceCall),
    priv,
    nodeId: crypto.secp.publicKey(priv),
  };
}


let tmp: string;
let server: ServerProcess;
let single: Node;
let channel: Node;
const clients: Record<string, string> = {};
const played: Record<string, string> = {};

/** A client for `node` (fresh key, allow-listed), its wrapper, and the trace played up to `upTo`. */
async function install(label: string, node: Node, upTo = node.trace.length): Promise<void> {
  let cpk = new Uint8Array(randomBytes(32));
  for (;;) {
    try {
      crypto.secp.publicKey(cpk);
      break;
    } catch {
      cpk = new Uint8Array(randomBytes(32));
    }
  }
  const cid = crypto.secp.publicKey(cpk);
  clients[label] = formatClientId(cid);
  const add = await runServerCommand(['add', `--server-dir=${server.dir}`, formatClientId(cid)]);
  expect(add.code).toBe(0);
  await server.waitForLog(/reload|clients/i, 5000).catch(() => undefined);
  const dir = path.join(tmp, `node-${label}`);
  mkdirSync(dir);
  const wrapper = writeWrapper(path.join(dir, 'cldcb-plugin-wrapper'), {
    clientPrivateKey: cpk,
    nodeId: node.nodeId,
    nodeSignature: signRecognitionCode(node.priv, cid),
    serverId: server.serverPub,
    host: '127.0.0.1',
    port: server.port,
  });
  const d = new LightningdDriver({ command: [wrapper], cwd: dir, env: { ...process.env }, replyTimeoutMs: 60_000 });
  await d.getmanifest();
  for (let i = 0; i < upTo; i++) {
    if (i === 4) await d.init();
    const r = await d.dbWrite(node.trace[i]!);
    expect(r.ok, `${label}: dv ${node.trace[i]!.data_version}`).toBe(true);
  }
  await d.stop();
  played[label] = path.join(dir, 'lightningd.sqlite3');
}

beforeAll(async () => {
  await ensureServerBuilt();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'cldcb-e2e-'));
  [single, channel] = await Promise.all([loadNode('single-node', 'trace-1.jsonl'), loadNode('channel-node', 'trace-B.jsonl')]);
  const sd = path.join(tmp, 'server');
  mkdirSync(sd);
  server = await startServer(sd, { logLevel: 'info' });
  await install('single', single);
  await install('channel', channel);
  await install('single-old', single, 60); // an earlier installation of the same node, stopped early
}, 240_000);

afterAll(async () => {
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

function lightningDir(node: Node): string {
  const d = mkdtempSync(path.join(tmp, `ld-${node.name}-`));
  copyFileSync(path.join(node.dir, 'hsm_secret'), path.join(d, 'hsm_secret'));
  return d;
}

describe('recover real lightningd traces from a server with several clients', () => {
  it('the played nodes match the fixtures (the stand-in is faithful)', () => {
    expect(compareDatabases(played.single!, path.join(single.dir, 'lightningd.sqlite3')).identical).toBe(true);
    expect(compareDatabases(played.channel!, path.join(channel.dir, 'lightningd.sqlite3')).identical).toBe(true);
  });

  it('offline --from a copy of the server directory: row-identical, the freshest of two installations', async () => {
    const copy = path.join(tmp, 'server-copy');
    mkdirSync(copy);
    for (const f of readdirSync(server.dir)) if (f === 'recognition_codes' || f === 'clients' || f === 'server_id' || f.endsWith('.arch')) copyFileSync(path.join(server.dir, f), path.join(copy, f));
    for (const [node, label] of [
      [single, 'single'],
      [channel, 'channel'],
    ] as const) {
      const ld = lightningDir(node);
      const t = capturedIo();
      const code = await runCli(['recover', `--lightning-dir=${ld}`, `--from=${copy}`, '--json', '--shost=backup.example'], t);
      expect(code, t.stderr).toBe(0);
      const v = JSON.parse(t.stdout);
      expect(v.client_id).toBe(clients[label]);
      expect(v).toMatchObject({ integrity: 'ok', chain: 'v1', time_basis: 'v1', found_by: 'recognition_code', stale: false });
      expect(v.data_version).toBe(node.trace[node.trace.length - 1]!.data_version);
      const cmp = compareDatabases(path.join(ld, 'lightningd.sqlite3'), path.join(node.dir, 'lightningd.sqlite3'));
      expect(cmp.differences).toEqual([]);
      expect(cmp.identical).toBe(true);
      if (label === 'single') {
        expect(v.candidates.map((c: { client_id: string }) => c.client_id).sort()).toEqual([clients.single, clients['single-old']].sort());
        expect(v.warnings.some((w: { kind: string; message: string }) => w.kind === 'other_entries' && w.message.includes(clients['single-old']!))).toBe(true);
      }
      // The fresh wrapper continues the same backup.
      expect(readFileSync(path.join(ld, 'cldcb-plugin-wrapper'), 'utf8')).toContain(`# cid = ${clients[label]}`);
    }
  }, 120_000);

  it('online --server: row-identical, with the read proof of extension v1', async () => {
    const ld = lightningDir(channel);
    const t = capturedIo();
    const code = await runCli(['recover', `--lightning-dir=${ld}`, `--server=${server.serverId}@127.0.0.1:${server.port}`], t);
    expect(code, t.stderr).toBe(0);
    expect(t.stderr).toMatch(/server speaks extension v1/);
    expect(t.stdout).toMatch(/Verdict: rebuilt and verified/);
    expect(compareDatabases(path.join(ld, 'lightningd.sqlite3'), path.join(channel.dir, 'lightningd.sqlite3')).identical).toBe(true);
    const w = readFileSync(path.join(ld, 'cldcb-plugin-wrapper'), 'utf8');
    expect(w).toContain(`# shost = 127.0.0.1:${server.port}`);
    expect(w).toContain(`# sid = ${server.serverId}`);
    expect(w).toMatch(/^exec ".*" ".*plugin\/cldcb-plugin\.mjs" -- "\$0"$/m);
  }, 120_000);

  it('two sources, one behind: the freshest wins and the one that served less is named', async () => {
    // A second server whose copy of the same backup stops 20 increments earlier.
    const old = path.join(tmp, 'server-behind');
    mkdirSync(old);
    copyFileSync(path.join(server.dir, 'server_id'), path.join(old, 'server_id'));
    const events = readArchive(readFileSync(path.join(server.dir, `${clients.single}.arch`)));
    const ends = events.map((e, i) => (e.type === 'incrementEnd' ? i : -1)).filter((i) => i >= 0);
    writeFileSync(path.join(old, `${clients.single}.arch`), encodeArchive(events.slice(0, ends[ends.length - 21]! + 1)));
    const ld = lightningDir(single);
    const t = capturedIo();
    const code = await runCli(['recover', `--lightning-dir=${ld}`, `--from=${old}`, `--server=${server.serverId}@127.0.0.1:${server.port}`, '--json'], t);
    expect(code, t.stderr).toBe(0);
    const v = JSON.parse(t.stdout);
    expect(v.client_id).toBe(clients.single);
    expect(v.source.kind).toBe('server');
    expect(v.warnings.find((w: { kind: string }) => w.kind === 'source_served_less').message).toMatch(new RegExp(`${old}.* served ${clients.single} only up to data_version \\d+, while .* has ${v.data_version}`));
    expect(compareDatabases(path.join(ld, 'lightningd.sqlite3'), path.join(single.dir, 'lightningd.sqlite3')).identical).toBe(true);
  }, 120_000);
});

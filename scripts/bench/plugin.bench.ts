/**
 * cldcb-plugin benchmarks (run by `npm run bench -- plugin`):
 *
 * 1. Overhead per db_write: the real fixture traces (test/fixtures/lightningd) are played by
 *    the lightningd stand-in through the built plugin into our cldcb-server over loopback;
 *    the hook round trip (seal, send, server append + fsync, acknowledgement) is timed per
 *    call, p50/p99. Reference in the same run: applying the same writes to SQLite directly
 *    (BEGIN; statements; COMMIT per call, lightningd's own cost). The original measured
 *    p50 45 ms, 21× SQLite (cldcb-protocol §9), mostly a Nagle stall.
 * 3. (after 1) the same with three of our servers and quorum 2, against one server in the same
 *    run: every write goes to all three and is answered when two stored it.
 * 2. Sealed-box throughput (64,984-byte pieces, the re-upload size): seal and unseal MB/s
 *    with the native AEAD (node:crypto) against node:crypto's raw chacha20-poly1305 on the
 *    same pieces (the ceiling), and the pure-JS box for comparison.
 */
import { createCipheriv } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { percentile, report, type Row } from './lib';
import { readSecretFile } from '../../shared/node/secretFiles';
import { nativeBoxCrypto } from '../../shared/node/nativeSeal';
import { forgetSecret } from '../../shared/secrets/hsmSecret';
import { nodePrivateKey } from '../../shared/secrets/nodeKey';
import { formatClientId, parseNodeId } from '../../shared/cldcb/ids';
import { signRecognitionCode } from '../../shared/cldcb/recognition';
import { nobleBoxCrypto, Sealer, Unsealer, type BoxCrypto } from '../../shared/cldcb/seal';
import { publicKeyOf } from '../../shared/noise/primitives';
import { LightningdDriver, type TraceCall } from '../../test/node/helpers/lightningdDriver';
import { applyIncrement } from '../../test/node/helpers/replay';
import { spawn } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { parseServerId } from '../../shared/cldcb/ids';
import { formatPluginWrapper } from '../../shared/cldcb/wrapper';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FIX = path.join(ROOT, 'test/fixtures/lightningd');
const NODES = [
  { name: 'single-node', trace: 'trace-1.jsonl' },
  { name: 'channel-node', trace: 'trace-B.jsonl' },
];

function readTrace(file: string): TraceCall[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as TraceCall);
}

/** Our server, built by scripts/build.mjs (bench.mjs runs it first), in the foreground on a free port. */
async function startServer(dir: string): Promise<{ port: number; serverPub: Uint8Array; stop: () => Promise<void> }> {
  const proc = spawn(process.execPath, [path.join(ROOT, 'server/cldcb-server.mjs'), 'daemon', `--server-dir=${dir}`, '--bind=127.0.0.1', '--port=0', '--foreground', '--log-level=info'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const port = await new Promise<number>((resolve, reject) => {
    const on = (d: Buffer): void => {
      text += d.toString('utf8');
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(text);
      if (m) resolve(Number(m[1]));
    };
    proc.stderr!.on('data', on);
    proc.stdout!.on('data', on);
    proc.once('exit', () => reject(new Error(`cldcb-server exited: ${text}`)));
  });
  const sid = /^# sid = (5[23][0-9a-f]{64})\n$/.exec(readFileSync(path.join(dir, 'server_id'), 'utf8'))![1]!;
  return {
    port,
    serverPub: parseServerId(sid),
    stop: () =>
      new Promise<void>((r) => {
        proc.once('exit', () => r());
        proc.kill('SIGINT');
      }),
  };
}

const work = mkdtempSync(path.join(tmpdir(), 'cldcb-plugin-bench-'));
const rows: Row[] = [];

try {
  // ---------------------------------------------------------------------------------------
  // 1. Per-write overhead (one server), and 3. with three servers, quorum 2 (issue 11)
  const direct: number[] = [];
  /** Play both fixture traces through the plugin into `servers` of our servers; @returns hook times (ms). */
  const hookTimes = async (servers: number, measureDirect: boolean): Promise<number[]> => {
    const out: number[] = [];
    for (const n of NODES) {
      const trace = readTrace(path.join(FIX, n.name, n.trace));
      const secret = await readSecretFile(path.join(FIX, n.name, 'hsm_secret'));
      const nodePriv = nodePrivateKey(secret.secretData);
      forgetSecret(secret);
      const nodeId = parseNodeId((JSON.parse(readFileSync(path.join(FIX, n.name, 'getinfo.json'), 'utf8')) as { id: string }).id);
      const srvs: Awaited<ReturnType<typeof startServer>>[] = [];
      const entries = [];
      for (let i = 0; i < servers; i++) {
        const clientPriv = new Uint8Array(randomBytes(32));
        const clientKey = publicKeyOf(clientPriv, 'client');
        const srvDir = path.join(work, `srv-${n.name}-${servers}-${i}`);
        mkdirSync(srvDir, { mode: 0o700 });
        writeFileSync(path.join(srvDir, 'clients'), `${formatClientId(clientKey)}\n`);
        const srv = await startServer(srvDir);
        srvs.push(srv);
        entries.push({ clientPrivateKey: clientPriv, nodeSignature: signRecognitionCode(nodePriv, clientKey), serverId: srv.serverPub, server: { host: '127.0.0.1', port: srv.port } });
      }
      const dir = path.join(work, `${n.name}-${servers}`);
      mkdirSync(dir);
      const wrapper = path.join(dir, 'cldcb-plugin-wrapper');
      const [first, ...more] = entries;
      writeFileSync(
        wrapper,
        formatPluginWrapper({ ...first!, nodeId, ...(more.length > 0 ? { moreServers: more, quorum: Math.floor(servers / 2) + 1 } : {}) }, { command: [process.execPath, path.join(ROOT, 'plugin/cldcb-plugin.mjs')] }),
        { mode: 0o700 },
      );
      chmodSync(wrapper, 0o700);
      const d = new LightningdDriver({ command: [wrapper], cwd: dir });
      await d.getmanifest();
      await d.init();
      for (let i = 0; i < trace.length; i++) {
        const r = await d.dbWrite(trace[i]!);
        if (!r.ok) throw new Error(`db_write ${i} failed: ${JSON.stringify(r.reply)}`);
        if (i > 0) out.push(r.hookMs); // call 0 includes the first re-upload and connection
      }
      await d.stop();
      for (const srv of srvs) await srv.stop();

      if (!measureDirect) continue;
      // Reference: the same writes straight into SQLite, same run, same disk.
      const refPath = path.join(work, `${n.name}-direct.sqlite3`);
      const db = new Database(refPath);
      for (let i = 0; i < trace.length; i++) {
        const t0 = performance.now();
        applyIncrement(db, trace[i]!.writes);
        if (i > 0) direct.push(performance.now() - t0);
      }
      db.close();
    }
    return out;
  };
  const hook = await hookTimes(1, true);
  const hook3 = await hookTimes(3, false);
  hook.sort((a, b) => a - b);
  direct.sort((a, b) => a - b);
  const h50 = percentile(hook, 50);
  const h99 = percentile(hook, 99);
  const d50 = percentile(direct, 50);
  const d99 = percentile(direct, 99);
  rows.push(
    { name: `db_write hook round trip p50 (${hook.length} calls, loopback, server fsync)`, value: h50, unit: 'ms', reference: { name: 'SQLite apply p50', value: d50 }, goal: '< 10 ms (original: 45 ms)', pass: h50 < 10 },
    { name: 'db_write hook round trip p99', value: h99, unit: 'ms', reference: { name: 'SQLite apply p99', value: d99 } },
    { name: 'hook p50 / SQLite apply p50', value: h50 / d50, unit: '×', goal: '< 21× (original)', pass: h50 / d50 < 21 },
  );
  // 3. Three servers, quorum 2: every write goes to all three, answered once two stored it.
  hook3.sort((a, b) => a - b);
  const q50 = percentile(hook3, 50);
  const q99 = percentile(hook3, 99);
  rows.push(
    { name: `3 servers, quorum 2: hook p50 (${hook3.length} calls)`, value: q50, unit: 'ms', reference: { name: '1 server p50', value: h50 } },
    { name: '3 servers, quorum 2: hook p99', value: q99, unit: 'ms', reference: { name: '1 server p99', value: h99 } },
    { name: 'hook p50, 3 servers / 1 server', value: q50 / h50, unit: '×', goal: '≤ 1.3×', pass: q50 / h50 <= 1.3 },
    { name: 'hook p99, 3 servers / 1 server', value: q99 / h99, unit: '×', goal: '≤ 1.5×', pass: q99 / h99 <= 1.5 },
  );

  // ---------------------------------------------------------------------------------------
  // 2. Sealed-box throughput
  const PIECE = 64_984;
  const pieces = Array.from({ length: 256 }, () => new Uint8Array(randomBytes(PIECE))); // 16.6 MB
  const mb = (pieces.length * PIECE) / 1e6;
  const clientPriv = new Uint8Array(randomBytes(32));
  const nodePriv = new Uint8Array(randomBytes(32));
  const nodePub = publicKeyOf(nodePriv, 'node');
  const clientPub = publicKeyOf(clientPriv, 'client');
  const best = (fn: () => void, reps = 3): number => {
    let t = Infinity;
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      fn();
      t = Math.min(t, performance.now() - t0);
    }
    return t;
  };
  const sealAll = (crypto: BoxCrypto): Uint8Array[] => {
    const s = new Sealer(clientPriv, nodePub, { crypto });
    const out = pieces.map((p) => s.seal(p));
    s.dispose();
    return out;
  };
  const native = nativeBoxCrypto();
  const sealed = sealAll(native);
  const sealMs = best(() => sealAll(native));
  const unsealMs = best(() => {
    const u = new Unsealer(nodePriv, { sender: clientPub, crypto: native });
    for (const c of sealed) u.unseal(c);
    u.dispose();
  });
  const key = new Uint8Array(randomBytes(32));
  const ad = Buffer.from('CLDCB 00');
  const rawMs = best(() => {
    const nonce = Buffer.alloc(12);
    for (let i = 0; i < pieces.length; i++) {
      nonce.writeUInt32LE(i, 0);
      const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
      c.setAAD(ad, { plaintextLength: PIECE });
      c.update(pieces[i]!);
      c.final();
      c.getAuthTag();
    }
  });
  const nobleMs = best(() => sealAll(nobleBoxCrypto), 1);
  const rate = (ms: number): number => mb / (ms / 1000);
  rows.push(
    // Goal: sealing never limits a re-upload (a 1 GB database seals in under 10 s).
    { name: 'seal, native AEAD (64,984-byte pieces)', value: rate(sealMs), unit: 'MB/s', reference: { name: 'raw node:crypto chacha20-poly1305', value: rate(rawMs) }, goal: '≥ 100 MB/s', pass: rate(sealMs) >= 100 },
    { name: 'unseal, native AEAD (incl. signature check)', value: rate(unsealMs), unit: 'MB/s', reference: { name: 'raw node:crypto chacha20-poly1305', value: rate(rawMs) }, goal: '≥ 100 MB/s', pass: rate(unsealMs) >= 100 },
    { name: 'seal / raw AEAD', value: sealMs > 0 ? rawMs / sealMs : NaN, unit: '×' },
    { name: 'seal, pure-JS box (noble), for comparison', value: rate(nobleMs), unit: 'MB/s', reference: { name: 'seal, native AEAD', value: rate(sealMs) } },
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}

report('plugin', rows);
for (const r of rows) process.stdout.write(`${r.name}: ${r.value.toFixed(3)} ${r.unit}${r.reference ? ` (ref ${r.reference.name} ${r.reference.value.toFixed(3)})` : ''}\n`);

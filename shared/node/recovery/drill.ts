/**
 * The disaster-recovery drill (design "Who uses it": the quarterly drill that proves the
 * backup restores). Two forms:
 *
 *  - live: recover the node's backup (offline from a server directory copy, or online)
 *    into a scratch directory — never the node's own lightning directory — verify it, and
 *    compare it row by row with the live database when given (copied first with SQLite's
 *    backup API, so a running lightningd is not disturbed). The live database may be ahead:
 *    the report says by how many data_versions.
 *  - demo: the whole chain on the bundled real lightningd trace (assets/demo, see its
 *    README): secret in → a cldcb-server and the cldcb-plugin on loopback → the trace played
 *    towards the plugin like lightningd (lightningdPlayer.ts) → entries → recovery online and
 *    offline → row comparison with the fixture database and with the played node's database.
 *
 * Every step is timed; the report ends with pass/fail and the date the next drill is due
 * (90 days later). Pure data out (DrillReport), rendered by drillText / drillHtml / drillJson.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { CldcbError, toErrorData } from '../../errors';
import { zeroize } from '../../bytes';
import { isValidPrivateKey } from '../../cldcb/curve';
import { formatClientId, formatNodeId, parseServerId } from '../../cldcb/ids';
import { formatPluginWrapper } from '../../cldcb/wrapper';
import { signRecognitionCode } from '../../cldcb/recognition';
import { forgetSecret } from '../../secrets/hsmSecret';
import { nodePrivateKey } from '../../secrets/nodeKey';
import { makeNativeSecp } from '../nativeSeal';
import { readSecretFile } from '../secretFiles';
import { LightningdDriver, type TraceCall } from '../lightningdPlayer';
import { compareDatabases, type TableDiff } from './compare';
import { recover } from './engine';
import { escapeHtml, htmlPage, iso, rowsHtml, verdictJson, verdictSectionsHtml, verdictText } from './report';
import type { ProgressOptions, RecoverySource, RecoveryVerdict } from './types';

export const DRILL_INTERVAL_DAYS = 90;

export interface DrillStep {
  readonly name: string;
  readonly ok: boolean;
  readonly ms: number;
  readonly detail?: string;
}

export interface DrillComparison {
  readonly name: string;
  /** What the recovered database was compared with. */
  readonly against: string;
  readonly identical: boolean;
  readonly tables: number;
  readonly rows: number;
  readonly differences: TableDiff[];
  readonly onlyInRecovered: string[];
  readonly onlyInOther: string[];
  readonly dataVersionRecovered: number | null;
  readonly dataVersionOther: number | null;
  /** How many data_versions the other database is ahead (negative: behind). */
  readonly aheadBy: number | null;
  /** The comparison's own verdict: identical, or the other is (only) ahead. */
  readonly ok: boolean;
}

export interface DrillReport {
  readonly kind: 'demo' | 'live';
  readonly pass: boolean;
  readonly startedAt: number;
  readonly finishedAt: number;
  /** unix seconds: startedAt + 90 days. */
  readonly nextDueAt: number;
  readonly nodeId?: string;
  readonly steps: DrillStep[];
  readonly verdict?: RecoveryVerdict;
  /** The demo's second (offline) recovery. */
  readonly otherVerdicts: RecoveryVerdict[];
  readonly comparisons: DrillComparison[];
  readonly failure?: { readonly code: string; readonly message: string };
  readonly notes: string[];
  /** Kept only with keepScratch. */
  readonly scratchDir?: string;
}

export type DrillEvent = { readonly type: 'drill-step'; readonly name: string; readonly state: 'started' | 'done' | 'failed'; readonly ms?: number; readonly detail?: string };

export interface DrillOptions extends Omit<ProgressOptions, 'onEvent'> {
  readonly onEvent?: (e: DrillEvent | Parameters<NonNullable<ProgressOptions['onEvent']>>[0]) => void;
}

class Steps {
  readonly list: DrillStep[] = [];
  constructor(private readonly emit: (e: DrillEvent) => void) {}
  async run<T>(name: string, fn: () => Promise<T> | T, detail?: (r: T) => string): Promise<T> {
    this.emit({ type: 'drill-step', name, state: 'started' });
    const t0 = performance.now();
    try {
      const r = await fn();
      const ms = performance.now() - t0;
      const d = detail?.(r);
      this.list.push({ name, ok: true, ms, ...(d ? { detail: d } : {}) });
      this.emit({ type: 'drill-step', name, state: 'done', ms, ...(d ? { detail: d } : {}) });
      return r;
    } catch (e) {
      const ms = performance.now() - t0;
      const { message } = toErrorData(e);
      this.list.push({ name, ok: false, ms, detail: message });
      this.emit({ type: 'drill-step', name, state: 'failed', ms, detail: message });
      throw e;
    }
  }
}

/** Compare a recovered database with another; the other may be ahead (live node). */
export function compareForDrill(name: string, recovered: string, other: string, againstLabel: string, allowAhead: boolean): DrillComparison {
  const c = compareDatabases(recovered, other);
  const aheadBy = c.dataVersionA !== null && c.dataVersionB !== null ? c.dataVersionB - c.dataVersionA : null;
  const ok = c.identical || (allowAhead && aheadBy !== null && aheadBy > 0);
  return {
    name,
    against: againstLabel,
    identical: c.identical,
    tables: c.tables,
    rows: c.rows,
    differences: c.differences,
    onlyInRecovered: c.onlyInA,
    onlyInOther: c.onlyInB,
    dataVersionRecovered: c.dataVersionA,
    dataVersionOther: c.dataVersionB,
    aheadBy,
    ok,
  };
}

function finish(kind: DrillReport['kind'], startedAt: number, parts: Omit<DrillReport, 'kind' | 'startedAt' | 'finishedAt' | 'nextDueAt' | 'pass'> & { pass: boolean }): DrillReport {
  return { kind, startedAt, finishedAt: Math.floor(Date.now() / 1000), nextDueAt: startedAt + DRILL_INTERVAL_DAYS * 86_400, ...parts };
}

// ---------------------------------------------------------------------------------------------
// Live drill

export interface LiveDrillInput {
  readonly nodePrivateKey: Uint8Array;
  readonly sources: readonly RecoverySource[];
  readonly online?: boolean;
  /** The live lightningd.sqlite3 to compare with (read through SQLite's backup API). */
  readonly compareLive?: string;
  /** Parent of the scratch directory (default: the OS temp dir). */
  readonly scratchParent?: string;
  readonly keepScratch?: boolean;
  readonly lastKnownDataVersion?: number;
  readonly lastKnownTime?: number;
  readonly inline?: boolean;
}

/** Run a drill against the node's real backup. Never touches the node's lightning directory. */
export async function runLiveDrill(input: LiveDrillInput, opts: DrillOptions = {}): Promise<DrillReport> {
  const startedAt = Math.floor(Date.now() / 1000);
  const steps = new Steps((e) => opts.onEvent?.(e));
  const scratch = mkdtempSync(path.join(input.scratchParent ?? os.tmpdir(), 'cldcb-drill-'));
  const notes: string[] = [];
  const comparisons: DrillComparison[] = [];
  let verdict: RecoveryVerdict | undefined;
  let failure: { code: string; message: string } | undefined;
  const nodeId = formatNodeId(makeNativeSecp().publicKey(input.nodePrivateKey));
  try {
    const target = path.join(scratch, 'recovered');
    mkdirSync(target);
    verdict = await steps.run(
      'recover into a scratch directory',
      () =>
        recover(
          {
            nodePrivateKey: input.nodePrivateKey,
            sources: input.sources,
            online: Boolean(input.online),
            lightningDir: target,
            writeWrapper: false,
            scratchDir: scratch,
            ...(input.lastKnownDataVersion !== undefined ? { lastKnownDataVersion: input.lastKnownDataVersion } : {}),
            ...(input.lastKnownTime !== undefined ? { lastKnownTime: input.lastKnownTime } : {}),
            ...(input.inline ? { inline: true } : {}),
          },
          { ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.onEvent ? { onEvent: opts.onEvent } : {}) },
        ),
      (v) => `data_version ${v.dataVersion}, ${v.increments} increments, integrity ${v.integrity.join('; ')}`,
    );
    if (input.compareLive) {
      const copy = path.join(scratch, 'live-copy.sqlite3');
      await steps.run('copy the live database (SQLite backup API)', async () => {
        if (!existsSync(input.compareLive!)) throw new CldcbError('file_not_found', `${input.compareLive}: no such database.`);
        const live = new Database(input.compareLive!, { readonly: true, fileMustExist: true });
        try {
          await live.backup(copy);
        } finally {
          live.close();
        }
      });
      const cmp = await steps.run(
        'compare with the live database, row by row',
        () => compareForDrill('live', verdict!.database.path, copy, input.compareLive!, true),
        (c) => describeComparison(c),
      );
      comparisons.push(cmp);
      if (cmp.aheadBy !== null && cmp.aheadBy > 0)
        notes.push(`The live database is ${cmp.aheadBy} data_version(s) ahead of the backup (it kept working after the backup's last increment reached the server, or the server is behind): rows differ as expected; the backup itself verified.`);
      if (cmp.aheadBy !== null && cmp.aheadBy < 0) notes.push(`The live database is ${-cmp.aheadBy} data_version(s) BEHIND the backup: is it the right file, or an old copy?`);
    } else notes.push('No live database given (--compare-live): the backup was rebuilt and verified on its own.');
  } catch (e) {
    failure = { code: toErrorData(e).code, message: toErrorData(e).message };
  } finally {
    if (!input.keepScratch) rmSync(scratch, { recursive: true, force: true });
  }
  const pass = !failure && verdict !== undefined && !verdict.stale && comparisons.every((c) => c.ok);
  if (verdict?.stale) notes.push('The backup is STALE (see the recovery report): the drill fails.');
  return finish('live', startedAt, {
    pass,
    nodeId,
    steps: steps.list,
    ...(verdict ? { verdict } : {}),
    otherVerdicts: [],
    comparisons,
    ...(failure ? { failure } : {}),
    notes,
    ...(input.keepScratch ? { scratchDir: scratch } : {}),
  });
}

function describeComparison(c: DrillComparison): string {
  if (c.identical) return `identical: ${c.tables} tables, ${c.rows} rows`;
  const d = c.differences.map((x) => `${x.table} (${x.schemaDiffers ? 'schema differs' : `${x.onlyInA} row(s) only in the backup, ${x.onlyInB} only in the other`})`).join(', ');
  return `differs${c.aheadBy !== null ? ` (the other is ${c.aheadBy >= 0 ? `${c.aheadBy} data_version(s) ahead` : `${-c.aheadBy} behind`})` : ''}: ${d}${c.onlyInOther.length ? `; tables only in the other: ${c.onlyInOther.join(', ')}` : ''}${c.onlyInRecovered.length ? `; tables only in the backup: ${c.onlyInRecovered.join(', ')}` : ''}`;
}

// ---------------------------------------------------------------------------------------------
// Demo drill

export interface DemoDrillInput {
  /** The installation root holding assets/demo, server/cldcb-server.mjs, plugin/cldcb-plugin.mjs. */
  readonly root: string;
  readonly scratchParent?: string;
  readonly keepScratch?: boolean;
  /** Node.js binary to run the server and the plugin (default: this process's). */
  readonly node?: string;
  /** Calls played before `init` (lightningd's migrations come before it). Default 4. */
  readonly beforeInit?: number;
}

/** Locate the installation root: the directory above `from` holding assets/demo/trace-1.jsonl. */
export function findDemoRoot(from: string): string {
  let dir = from;
  for (;;) {
    if (existsSync(path.join(dir, 'assets', 'demo', 'trace-1.jsonl')) && existsSync(path.join(dir, 'server', 'cldcb-server.mjs'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new CldcbError('file_not_found', `Cannot find assets/demo/trace-1.jsonl above ${from}: run cldcb-client from its installation.`);
    dir = up;
  }
}

interface RunningServer {
  readonly port: number;
  readonly serverId: string;
  stop(): Promise<void>;
  log(): string;
}

async function startDemoServer(node: string, root: string, dir: string, signal?: AbortSignal): Promise<RunningServer> {
  const child: ChildProcess = spawn(
    node,
    [path.join(root, 'server', 'cldcb-server.mjs'), 'daemon', `--server-dir=${dir}`, '--bind=127.0.0.1', '--port=0', '--foreground', '--log-level=info'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr!.on('data', (d: Buffer) => {
    log = (log + d.toString('utf8')).slice(-20_000);
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
  };
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (signal?.aborted) throw new CldcbError('cancelled', 'Cancelled.');
      const m = /listening on 127\.0\.0\.1:(\d+) as server (5[23][0-9a-f]{64})/.exec(log);
      if (m) return { port: Number(m[1]), serverId: m[2]!, stop, log: () => log };
      if (child.exitCode !== null) throw new CldcbError('server_unreachable', `The demo cldcb-server exited before listening: ${log.trim().split('\n').pop() ?? ''}`);
      if (Date.now() > deadline) throw new CldcbError('timeout', 'The demo cldcb-server did not start within 30 s.');
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (e) {
    await stop();
    throw e;
  }
}

async function runNode(node: string, args: string[]): Promise<{ code: number | null; out: string }> {
  const child = spawn(node, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  return { code, out };
}

function readTrace(file: string): TraceCall[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l, i) => {
      const c = JSON.parse(l) as TraceCall;
      if (!Number.isInteger(c.data_version) || !Array.isArray(c.writes)) throw new CldcbError('bad_input', `${file} line ${i + 1}: not a db_write call.`);
      return c;
    });
}

/** The whole chain on the bundled real trace (see the module comment). */
export async function runDemoDrill(input: DemoDrillInput, opts: DrillOptions = {}): Promise<DrillReport> {
  const startedAt = Math.floor(Date.now() / 1000);
  const steps = new Steps((e) => opts.onEvent?.(e));
  const node = input.node ?? process.execPath;
  const demo = path.join(input.root, 'assets', 'demo');
  const scratch = mkdtempSync(path.join(input.scratchParent ?? os.tmpdir(), 'cldcb-drill-demo-'));
  const notes: string[] = [];
  const comparisons: DrillComparison[] = [];
  const otherVerdicts: RecoveryVerdict[] = [];
  let verdict: RecoveryVerdict | undefined;
  let failure: { code: string; message: string } | undefined;
  let nodeKey: Uint8Array | undefined;
  let nodeId: string | undefined;
  let server: RunningServer | undefined;
  let driver: LightningdDriver | undefined;
  const signal = opts.signal;
  try {
    // 1. Secret in
    nodeKey = await steps.run(
      'secret in: hsm_secret → node key',
      async () => {
        const secret = await readSecretFile(path.join(demo, 'hsm_secret'));
        try {
          const k = nodePrivateKey(secret.secretData);
          nodeId = formatNodeId(makeNativeSecp().publicKey(k));
          const want = (JSON.parse(readFileSync(path.join(demo, 'getinfo.json'), 'utf8')) as { id: string }).id;
          if (nodeId !== want) throw new CldcbError('bad_input', `The demo hsm_secret gives node ${nodeId}, but getinfo.json says ${want}.`);
          return k;
        } finally {
          forgetSecret(secret);
        }
      },
      () => `node id ${nodeId} (= getinfo.json)`,
    );

    // 2. Server + client key + plugin wrapper
    const serverDir = path.join(scratch, 'server');
    mkdirSync(serverDir, { mode: 0o700 });
    let cpk = new Uint8Array(randomBytes(32));
    while (!isValidPrivateKey(cpk)) cpk = new Uint8Array(randomBytes(32));
    const secp = makeNativeSecp();
    const clientKey = secp.publicKey(cpk);
    const cid = formatClientId(clientKey);
    await steps.run('server: allow the new client', async () => {
      const r = await runNode(node, [path.join(input.root, 'server', 'cldcb-server.mjs'), 'add', `--server-dir=${serverDir}`, cid]);
      if (r.code !== 0) throw new CldcbError('io_error', `cldcb-server add failed: ${r.out.trim()}`);
    }, () => cid);
    server = await steps.run('server: start on 127.0.0.1 (free port)', () => startDemoServer(node, input.root, serverDir, signal), (s) => `${s.serverId}@127.0.0.1:${s.port}`);
    const nodeDir = path.join(scratch, 'node');
    mkdirSync(nodeDir);
    const wrapper = path.join(nodeDir, 'cldcb-plugin-wrapper');
    await steps.run('plugin: write a wrapper', () => {
      const text = formatPluginWrapper(
        {
          clientPrivateKey: cpk,
          nodeId: secp.publicKey(nodeKey!),
          nodeSignature: signRecognitionCode(nodeKey!, clientKey, secp),
          serverId: parseServerId(server!.serverId),
          server: { host: '127.0.0.1', port: server!.port },
        },
        { command: [node, path.join(input.root, 'plugin', 'cldcb-plugin.mjs')] },
      );
      writeFileSync(wrapper, text, { mode: 0o700 });
      chmodSync(wrapper, 0o700);
    });
    zeroize(cpk);

    // 3. Play the trace like lightningd
    const trace = readTrace(path.join(demo, 'trace-1.jsonl'));
    const beforeInit = input.beforeInit ?? 4;
    await steps.run(
      'lightningd: play the real db_write trace through the plugin',
      async () => {
        driver = new LightningdDriver({ command: [wrapper], cwd: nodeDir, env: { ...process.env }, replyTimeoutMs: 60_000 });
        await driver.getmanifest();
        for (let i = 0; i < trace.length; i++) {
          if (signal?.aborted) throw new CldcbError('cancelled', 'Cancelled.');
          if (i === beforeInit) await driver.init();
          const r = await driver.dbWrite(trace[i]!);
          if (!r.ok) throw new CldcbError('protocol_error', `The plugin did not acknowledge data_version ${trace[i]!.data_version} (${JSON.stringify(r.reply).slice(0, 200)}); lightningd would stop here.`);
        }
        if (trace.length <= beforeInit) await driver.init();
        await driver.stop();
        driver = undefined;
      },
      () => `${trace.length} calls, data_version ${trace[0]?.data_version}…${trace[trace.length - 1]?.data_version}, every one acknowledged before commit`,
    );
    const liveDb = path.join(nodeDir, 'lightningd.sqlite3');

    // 4. Recovery online (the server is still running) and offline (a copy of its directory)
    const online = path.join(scratch, 'recovered-online');
    mkdirSync(online);
    verdict = await steps.run(
      'recover online (Noise_XK: recognition codes, read proof, download)',
      () =>
        recover(
          { nodePrivateKey: nodeKey!, sources: [{ kind: 'server', address: `${server!.serverId}@127.0.0.1:${server!.port}`, label: 'demo server (online)' }], online: true, lightningDir: online, writeWrapper: false, scratchDir: scratch },
          { ...(signal ? { signal } : {}), ...(opts.onEvent ? { onEvent: opts.onEvent } : {}) },
        ),
      (v) => `data_version ${v.dataVersion}, ${v.increments} increments, ${v.statements} statements, integrity ${v.integrity.join('; ')}`,
    );
    await server.stop();
    const copy = path.join(scratch, 'server-copy');
    mkdirSync(copy);
    for (const f of readdirSync(serverDir)) if (f === 'recognition_codes' || f === 'clients' || f === 'server_id' || f.endsWith('.arch')) copyFileSync(path.join(serverDir, f), path.join(copy, f));
    const offline = path.join(scratch, 'recovered-offline');
    mkdirSync(offline);
    otherVerdicts.push(
      await steps.run(
        'recover offline (a copy of the server directory)',
        () =>
          recover(
            { nodePrivateKey: nodeKey!, sources: [{ kind: 'serverDir', dir: copy, label: 'server directory copy' }], lightningDir: offline, writeWrapper: false },
            { ...(signal ? { signal } : {}), ...(opts.onEvent ? { onEvent: opts.onEvent } : {}) },
          ),
        (v) => `data_version ${v.dataVersion}, ${v.increments} increments`,
      ),
    );

    // 5. Verification
    const fixture = path.join(demo, 'lightningd.sqlite3');
    for (const [name, db] of [
      ['online', verdict.database.path],
      ['offline', otherVerdicts[0]!.database.path],
    ] as const) {
      comparisons.push(await steps.run(`verify: ${name} recovery = the real node's database (assets/demo)`, () => compareForDrill(`${name} vs fixture`, db, fixture, 'assets/demo/lightningd.sqlite3', false), describeComparison));
      comparisons.push(await steps.run(`verify: ${name} recovery = the played node's database`, () => compareForDrill(`${name} vs played node`, db, liveDb, 'the database the played lightningd wrote', false), describeComparison));
    }
    if (comparisons.some((c) => !c.ok)) throw new CldcbError('integrity_failed', 'A recovered database differs from the node\'s: see the comparisons.');
  } catch (e) {
    failure = { code: toErrorData(e).code, message: toErrorData(e).message };
  } finally {
    if (driver) await (driver as LightningdDriver).kill().catch(() => {});
    if (server) await server.stop().catch(() => {});
    zeroize(nodeKey);
    if (!input.keepScratch) rmSync(scratch, { recursive: true, force: true });
  }
  const pass = !failure && verdict !== undefined && comparisons.length === 4 && comparisons.every((c) => c.ok);
  return finish('demo', startedAt, {
    pass,
    ...(nodeId ? { nodeId } : {}),
    steps: steps.list,
    ...(verdict ? { verdict } : {}),
    otherVerdicts,
    comparisons,
    ...(failure ? { failure } : {}),
    notes,
    ...(input.keepScratch ? { scratchDir: scratch } : {}),
  });
}

// ---------------------------------------------------------------------------------------------
// Rendering

const date = (unix: number): string => iso(unix).slice(0, 10);

export function drillJson(r: DrillReport): Record<string, unknown> {
  return {
    kind: r.kind,
    pass: r.pass,
    started_at: iso(r.startedAt),
    finished_at: iso(r.finishedAt),
    next_drill_due: date(r.nextDueAt),
    node_id: r.nodeId ?? null,
    steps: r.steps.map((s) => ({ name: s.name, ok: s.ok, ms: Math.round(s.ms * 10) / 10, ...(s.detail ? { detail: s.detail } : {}) })),
    comparisons: r.comparisons.map((c) => ({
      name: c.name,
      against: c.against,
      ok: c.ok,
      identical: c.identical,
      tables: c.tables,
      rows: c.rows,
      data_version_recovered: c.dataVersionRecovered,
      data_version_other: c.dataVersionOther,
      ahead_by: c.aheadBy,
      differences: c.differences,
      only_in_recovered: c.onlyInRecovered,
      only_in_other: c.onlyInOther,
    })),
    recovery: r.verdict ? verdictJson(r.verdict) : null,
    other_recoveries: r.otherVerdicts.map(verdictJson),
    failure: r.failure ?? null,
    notes: r.notes,
    ...(r.scratchDir ? { scratch_dir: r.scratchDir } : {}),
  };
}

export function drillText(r: DrillReport): string {
  const L: string[] = [];
  L.push(`CLDCB disaster-recovery drill${r.kind === 'demo' ? ' (demo: bundled real lightningd trace)' : ''}`, '='.repeat(60), '');
  if (r.nodeId) L.push(`Node id  ${r.nodeId}`);
  L.push(`Started  ${iso(r.startedAt)}`, '', 'Steps');
  for (const s of r.steps) L.push(`  ${s.ok ? '✓' : '✗'} ${s.name} (${(s.ms / 1000).toFixed(2)} s)${s.detail ? `\n      ${s.detail}` : ''}`);
  if (r.comparisons.length) {
    L.push('', 'Comparisons');
    for (const c of r.comparisons) L.push(`  ${c.ok ? '✓' : '✗'} ${c.name}: ${describeComparison(c)}`);
  }
  if (r.notes.length) L.push('', 'Notes', ...r.notes.map((n) => `  · ${n}`));
  if (r.failure) L.push('', `Failure: ${r.failure.message}`);
  if (r.verdict) L.push('', verdictText(r.verdict).trimEnd());
  L.push('', `RESULT: ${r.pass ? 'PASS' : 'FAIL'}`, `Next drill due: ${date(r.nextDueAt)} (${DRILL_INTERVAL_DAYS} days)`, '');
  return L.join('\n');
}

export function drillHtml(r: DrillReport): string {
  const steps = rowsHtml(r.steps.map((s) => [`${s.ok ? '✓' : '✗'} ${s.name}`, `${(s.ms / 1000).toFixed(2)} s${s.detail ? ` — ${escapeHtml(s.detail)}` : ''}`] as const));
  const comps = r.comparisons.length ? rowsHtml(r.comparisons.map((c) => [`${c.ok ? '✓' : '✗'} ${c.name}`, escapeHtml(describeComparison(c))] as const)) : '<p>None.</p>';
  const body = `<h1>CLDCB disaster-recovery drill${r.kind === 'demo' ? ' (demo)' : ''}</h1>
<div class="${r.pass ? 'ok' : 'stale'}">RESULT: ${r.pass ? 'PASS' : 'FAIL'} — next drill due ${escapeHtml(date(r.nextDueAt))}</div>
${rowsHtml([
  ['Node id', `<code>${escapeHtml(r.nodeId ?? 'unknown')}</code>`],
  ['Started', escapeHtml(iso(r.startedAt))],
  ['Finished', escapeHtml(iso(r.finishedAt))],
])}
<h2>Steps</h2>
${steps}
<h2>Comparisons</h2>
${comps}
${r.notes.length ? `<h2>Notes</h2><ul>${r.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>` : ''}
${r.failure ? `<h2>Failure</h2><p class="error">${escapeHtml(r.failure.message)}</p>` : ''}
${r.verdict ? `<h2>Recovery</h2>${verdictSectionsHtml(r.verdict)}` : ''}`;
  return htmlPage('CLDCB drill report', body);
}


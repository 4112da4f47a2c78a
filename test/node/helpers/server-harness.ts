/**
 * Test harness for the built cldcb-server: build it once (under a lock, only when a
 * source is newer than the bundle), spawn it on a temp server directory, read its log.
 * Shared by test/node/server*.test.ts and scripts/bench/server.bench.ts; no vitest import.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseServerId } from '../../../shared/cldcb/ids';

/** The repository root: the nearest parent with server/cldcb-server.mjs (works from the source and from a bundle in build/). */
function findRoot(): string {
  let d = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(d, 'server/cldcb-server.mjs')) && existsSync(path.join(d, 'package.json'))) return d;
    const up = path.dirname(d);
    if (up === d) throw new Error('cannot find the repository root above ' + fileURLToPath(import.meta.url));
    d = up;
  }
}
export const ROOT = findRoot();
export const SERVER_BIN = path.join(ROOT, 'server/cldcb-server.mjs');
const BUNDLE = path.join(ROOT, 'build/cldcb-server.mjs');

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** The programs scripts/build.mjs bundles (entry → output), for those whose entry exists. */
const PROGRAMS: [string, string][] = [
  ['server/bin.ts', 'build/cldcb-server.mjs'],
  ['cli/bin.ts', 'build/cldcb-client.mjs'],
  ['plugin/bin.ts', 'build/cldcb-plugin.mjs'],
  ['electron/worker/worker.ts', 'build/electron/worker.mjs'],
];

/** Every program bundle is newer than every source it may include (other tests rely on this too). */
function bundleIsFresh(): boolean {
  try {
    const outs = PROGRAMS.filter(([entry]) => existsSync(path.join(ROOT, entry))).map(([, out]) => statSync(path.join(ROOT, out)).mtimeMs);
    const src = Math.max(...['server', 'shared', 'electron', 'cli', 'plugin'].map((d) => (existsSync(path.join(ROOT, d)) ? newestSource(path.join(ROOT, d)) : 0)));
    return Math.min(...outs) > src;
  } catch {
    return false;
  }
}

/** The server bundle alone is newer than its sources. */
function serverBundleIsFresh(): boolean {
  try {
    const src = Math.max(...['server', 'shared'].map((d) => newestSource(path.join(ROOT, d))));
    return statSync(BUNDLE).mtimeMs > src;
  } catch {
    return false;
  }
}

const sleepSync = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Build the programs with `node scripts/build.mjs` unless every program bundle is newer
 * than every source. Test files run in parallel: a lock directory keeps them
 * from building at the same time. If the full build fails because of someone else's
 * program, the server bundle alone is built with the same esbuild options.
 */
export async function ensureServerBuilt(): Promise<void> {
  if (bundleIsFresh()) return;
  const lock = path.join(ROOT, 'build/.server-test-build.lock');
  mkdirSync(path.dirname(lock), { recursive: true });
  const t0 = Date.now();
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      try {
        if (Date.now() - statSync(lock).mtimeMs > 120_000) rmdirSync(lock); // a crashed builder
      } catch {
        /* gone meanwhile */
      }
      if (Date.now() - t0 > 180_000) throw new Error('timed out waiting for another test file to build the server');
      sleepSync(100);
    }
  }
  try {
    if (bundleIsFresh()) return;
    const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs')], { cwd: ROOT, encoding: 'utf8' });
    if (r.status === 0 || serverBundleIsFresh()) return;
    const { build } = await import('esbuild');
    await build({
      entryPoints: [path.join(ROOT, 'server/bin.ts')],
      outfile: BUNDLE,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      external: ['better-sqlite3', 'secp256k1', 'libsodium-wrappers-sumo', 'electron'],
      banner: { js: "import { createRequire as __cldcbCreateRequire } from 'node:module'; const require = __cldcbCreateRequire(import.meta.url);" },
      sourcemap: 'linked',
      logLevel: 'error',
    });
  } finally {
    rmdirSync(lock);
  }
}

export interface StartOptions {
  /** Extra daemon options. */
  args?: string[];
  /** Run under `prlimit` with these options (e.g. ['--fsize=300000']). */
  prlimit?: string[];
  /** Log level (default debug). */
  logLevel?: string;
  /** Options for node itself (e.g. ['--expose-gc']). */
  nodeArgs?: string[];
}

export interface ServerProcess {
  readonly dir: string;
  readonly port: number;
  readonly serverId: string;
  /** 33-byte compressed server key (from DIR/server_id). */
  readonly serverPub: Uint8Array;
  readonly proc: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything the server logged so far. */
  log(): string;
  /** Current length of the log (pass to waitForLog to look only at later lines). */
  mark(): number;
  /** Wait for a log line matching `re`, searching from offset `from` (default: the start). */
  waitForLog(re: RegExp, timeoutMs?: number, from?: number): Promise<RegExpMatchArray>;
  /** SIGINT and wait for the exit. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL and wait for the exit. */
  kill(): Promise<void>;
}

/** Spawn `cldcb-server daemon --server-dir=DIR --bind=127.0.0.1 --port=0 --foreground` and wait until it listens. */
export async function startServer(dir: string, opts: StartOptions = {}): Promise<ServerProcess> {
  const args = [
    ...(opts.nodeArgs ?? []),
    SERVER_BIN,
    'daemon',
    `--server-dir=${dir}`,
    '--bind=127.0.0.1',
    '--port=0',
    '--foreground',
    `--log-level=${opts.logLevel ?? 'debug'}`,
    ...(opts.args ?? []),
  ];
  rmSync(path.join(dir, 'port'), { force: true }); // left by a killed server
  const proc = opts.prlimit
    ? spawn('prlimit', [...opts.prlimit, process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const listeners = new Set<() => void>();
  const onText = (d: Buffer): void => {
    text += d.toString('utf8');
    for (const l of listeners) l();
  };
  proc.stderr!.on('data', onText);
  proc.stdout!.on('data', onText);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => {
      resolve({ code, signal });
      for (const l of listeners) l();
    }),
  );
  let dead = false;
  void exited.then(() => {
    dead = true;
    // Debugging aid: CLDCB_SERVER_TEST_LOG=/tmp/x.log keeps every server's log.
    if (process.env.CLDCB_SERVER_TEST_LOG) appendFileSync(process.env.CLDCB_SERVER_TEST_LOG, `==== ${dir}\n${text}`);
  });
  const waitForLog = (re: RegExp, timeoutMs = 10_000, from = 0): Promise<RegExpMatchArray> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const m = text.slice(from).match(re);
        if (m) {
          done();
          resolve(m);
        } else if (dead) {
          done();
          reject(new Error(`server exited before logging ${re}; log:\n${text}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no log line ${re} within ${timeoutMs} ms; log:\n${text}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });
  // Listening ⇒ DIR/port is written (after server_id and the pidfile). A stale one was removed above.
  const t0 = Date.now();
  let port: number | undefined;
  while (port === undefined) {
    try {
      const text = readFileSync(path.join(dir, 'port'), 'utf8');
      if (/^\d+\n$/.test(text)) port = Number(text.trim());
    } catch {
      /* not yet */
    }
    if (port !== undefined) break;
    if (dead) throw new Error(`server exited before listening; log:\n${text}`);
    if (Date.now() - t0 > 10_000) throw new Error(`server not listening after 10 s; log:\n${text}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  const sid = /^# sid = (5[23][0-9a-f]{64})\n$/.exec(readFileSync(path.join(dir, 'server_id'), 'utf8'))![1]!;
  return {
    dir,
    port,
    serverId: sid,
    serverPub: parseServerId(sid),
    proc,
    exited,
    log: () => text,
    mark: () => text.length,
    waitForLog,
    async stop() {
      if (!dead) proc.kill('SIGINT');
      return exited;
    },
    async kill() {
      if (!dead) proc.kill('SIGKILL');
      await exited;
    },
  };
}

/** Run the server CLI (add/remove/stop/daemon) to completion. */
export function runServerCommand(args: string[], timeoutMs = 20_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [SERVER_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

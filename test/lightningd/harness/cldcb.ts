/**
 * The project's own programs, run as an operator runs them (README "The command line"):
 * `cldcb-server daemon` in the foreground on its own port, `cldcb-client newclient`,
 * `cldcb-server add`, `cldcb-client installplugin`, `cldcb-client recover`. Each is the
 * package.json "bin" script (which runs its bundle in build/), started asynchronously: the
 * fake chain lives in this process and must keep answering lightningd's backend meanwhile.
 */
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { CLIENT_BIN, ROOT, SERVER_BIN } from './paths';
import { forgetGroup, groupAlive, killGroup, spawnGroup, waitGroupGone } from './procs';

export interface ProgramRun {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run `node <bin> …args` to completion (killed after `timeoutMs`). */
export function runProgram(
  bin: string,
  args: readonly string[],
  opts: { cwd?: string; timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<ProgramRun> {
  return new Promise((resolve, reject) => {
    const p = spawnGroup(
      process.execPath,
      [bin, ...args],
      { cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } },
      `${path.basename(bin)} ${args[0] ?? ''}`,
    );
    p.stdin!.end();
    let stdout = '';
    let stderr = '';
    p.stdout!.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    p.stderr!.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => {
      if (p.pid) killGroup(p.pid);
      reject(
        new Error(
          `${path.basename(bin)} ${args.join(' ')}: no exit within ${opts.timeoutMs ?? 120_000} ms\nstderr: ${stderr}`,
        ),
      );
    }, opts.timeoutMs ?? 120_000);
    p.once('error', reject);
    p.once('close', (status, signal) => {
      clearTimeout(timer);
      if (p.pid) forgetGroup(p.pid);
      resolve({ status, signal, stdout, stderr });
    });
  });
}

export const cldcbClient = (
  args: readonly string[],
  opts?: Parameters<typeof runProgram>[2],
): Promise<ProgramRun> => runProgram(CLIENT_BIN, args, opts);
export const cldcbServerCli = (
  args: readonly string[],
  opts?: Parameters<typeof runProgram>[2],
): Promise<ProgramRun> => runProgram(SERVER_BIN, args, opts);

/** Throw with the program's output unless it exited 0. */
export function expectOk(r: ProgramRun, what: string): ProgramRun {
  if (r.status !== 0)
    throw new Error(`${what} exited ${r.status ?? r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

/**
 * `cldcb-server daemon --server-dir=DIR --bind=127.0.0.1 --port=PORT --foreground`: the first
 * start takes any free port (--port=0, written to DIR/port), later starts reuse it, so the
 * address in the plugin wrapper stays valid across restarts and kills.
 */
export class CldcbServer {
  port = 0;
  serverId = '';
  private pgid?: number;
  private exit?: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private alive = false;
  private text = '';
  readonly logFile: string;

  constructor(
    readonly dir: string,
    /** --log-level (debug for tests; the benchmark uses info, the server's default). */
    readonly logLevel = 'debug',
  ) {
    this.logFile = `${dir}.log`;
  }

  /** SID@127.0.0.1:PORT, as installplugin and recover --server take it. */
  get address(): string {
    return `${this.serverId}@127.0.0.1:${this.port}`;
  }
  get running(): boolean {
    return this.alive;
  }

  async start(): Promise<void> {
    if (this.alive) throw new Error('cldcb-server already running');
    mkdirSync(path.dirname(this.dir), { recursive: true });
    rmSync(path.join(this.dir, 'port'), { force: true }); // left by a killed server
    const args = [
      'daemon',
      `--server-dir=${this.dir}`,
      '--bind=127.0.0.1',
      `--port=${this.port}`,
      '--foreground',
      `--log-level=${this.logLevel}`,
    ];
    const p = spawnGroup(
      process.execPath,
      [SERVER_BIN, ...args],
      { stdio: ['ignore', 'pipe', 'pipe'] },
      `cldcb-server ${this.dir}`,
    );
    this.pgid = p.pid;
    this.alive = true;
    const onText = (d: Buffer): void => {
      this.text += d.toString('utf8');
      appendFileSync(this.logFile, d);
    };
    p.stdout!.on('data', onText);
    p.stderr!.on('data', onText);
    this.exit = new Promise((resolve) =>
      p.once('exit', (code, signal) => {
        this.alive = false;
        resolve({ code, signal });
      }),
    );
    const t0 = Date.now();
    for (;;) {
      const portFile = path.join(this.dir, 'port');
      if (existsSync(portFile) && /^\d+\n$/.test(readFileSync(portFile, 'utf8'))) break;
      if (!this.alive) throw new Error(`cldcb-server exited before listening:\n${this.text}`);
      if (Date.now() - t0 > 20_000) throw new Error(`cldcb-server not listening after 20 s:\n${this.text}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    this.port = Number(readFileSync(path.join(this.dir, 'port'), 'utf8').trim());
    const m = /^# sid = (5[23][0-9a-f]{64})\n$/.exec(readFileSync(path.join(this.dir, 'server_id'), 'utf8'));
    if (!m) throw new Error(`${this.dir}/server_id: unexpected content`);
    this.serverId = m[1]!;
  }

  /** Ctrl-C (SIGINT), as an operator stops a foreground daemon; waits for the exit. */
  async stop(): Promise<void> {
    if (!this.alive || this.pgid === undefined) return;
    process.kill(this.pgid, 'SIGINT');
    await Promise.race([this.exit, new Promise((r) => setTimeout(r, 15_000))]);
    await this.reap();
  }

  /** kill -9 of the server process. */
  async kill(): Promise<void> {
    if (this.pgid === undefined) return;
    killGroup(this.pgid);
    await this.exit;
    await this.reap();
  }

  /**
   * kill -9 while the server is storing for `clientId`: once its archive has grown since
   * `sizeBefore` (or after 10 s), then at a random moment within 60 ms.
   */
  async killWhileStoring(clientId: string, sizeBefore: number): Promise<void> {
    const t0 = Date.now();
    while (this.archiveBytes(clientId) === sizeBefore && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 60)));
    await this.kill();
  }

  /** SIGSTOP: the server keeps its connections but answers nothing (a hung host). */
  freeze(): void {
    if (this.pgid !== undefined) killGroup(this.pgid, 'SIGSTOP');
  }
  /** SIGCONT after freeze(). */
  thaw(): void {
    if (this.pgid !== undefined) killGroup(this.pgid, 'SIGCONT');
  }

  /** Size of this client's archive (0 when there is none): grows with every stored increment. */
  archiveBytes(clientId: string): number {
    try {
      return statSync(path.join(this.dir, `${clientId}.arch`)).size;
    } catch {
      return 0;
    }
  }

  private async reap(): Promise<void> {
    if (this.pgid === undefined) return;
    if (groupAlive(this.pgid)) killGroup(this.pgid);
    await waitGroupGone(this.pgid, 5000);
    forgetGroup(this.pgid);
  }

  log(): string {
    return this.text;
  }

  /** `cldcb-server add --server-dir=DIR CID` (the README's step; the running daemon reloads its list). */
  async add(clientId: string): Promise<void> {
    expectOk(await cldcbServerCli(['add', `--server-dir=${this.dir}`, clientId]), 'cldcb-server add');
  }
}

export interface Recovery {
  readonly run: ProgramRun;
  /** recover --json's verdict (undefined when stdout held no JSON). */
  readonly verdict?: Record<string, unknown>;
  /** The recovered network dir (holds hsm_secret, the database, the wrapper). */
  readonly networkDir: string;
  /** The base dir to give lightningd. */
  readonly baseDir: string;
}

/**
 * The worst day: a fresh lightning directory holding only the node's hsm_secret, then
 * `cldcb-client recover --lightning-dir=<base>/regtest (--from=COPY | --server=ADDR) --json`.
 */
export async function recoverInto(
  baseDir: string,
  hsmSecret: string,
  source: { from: string | readonly string[] } | { server: string },
  extra: readonly string[] = [],
): Promise<Recovery> {
  const networkDir = path.join(baseDir, 'regtest');
  mkdirSync(networkDir, { recursive: true, mode: 0o700 });
  copyFileSync(hsmSecret, path.join(networkDir, 'hsm_secret'));
  // Several --from (issue 11): one run reads every copy and judges their freshness.
  const src =
    'from' in source ? [source.from].flat().map((d) => `--from=${d}`) : [`--server=${source.server}`];
  const run = await cldcbClient(['recover', `--lightning-dir=${networkDir}`, ...src, '--json', ...extra], {
    cwd: baseDir,
    timeoutMs: 120_000,
  });
  let verdict: Record<string, unknown> | undefined;
  try {
    verdict = JSON.parse(run.stdout) as Record<string, unknown>;
  } catch {
    verdict = undefined;
  }
  return { run, ...(verdict ? { verdict } : {}), networkDir, baseDir };
}

/** One line about a recovery run, for assertion messages. */
export function describeRecovery(r: Recovery): string {
  const v = r.verdict;
  return `recover exit ${r.run.status}; verdict ${v ? JSON.stringify({ ok: v.ok, stale: v.stale, stale_reasons: v.stale_reasons, data_version: v.data_version, warnings: v.warnings }) : '(no JSON on stdout)'}\nstderr: ${r.run.stderr.slice(-2000)}`;
}

/**
 * How the README tells the operator to enable the plugin: the config line it shows after
 * installplugin ("then add plugin=…/cldcb-plugin-wrapper to lightningd's config", or
 * important-plugin=…). The tier enables it exactly that way, so a README change is a tier change.
 * @throws when the README no longer shows such a line.
 */
export function readmePluginOption(): 'plugin' | 'important-plugin' {
  const text = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const m = /\badd (important-plugin|plugin)=\S*cldcb-plugin-wrapper\b[^\n]*config/.exec(text);
  if (!m)
    throw new Error(
      'README.md no longer says which lightningd config line enables the plugin (expected "add plugin=…cldcb-plugin-wrapper to lightningd\'s config" or important-plugin=…)',
    );
  return m[1] as 'plugin' | 'important-plugin';
}

export const WRAPPER = 'cldcb-plugin-wrapper';

export interface Install {
  readonly clientKeyFile: string;
  readonly clientId: string;
  /** Several servers: one client key per server, in the wrapper's order (clientId = the first). */
  readonly clientKeyFiles: readonly string[];
  readonly clientIds: readonly string[];
  readonly wrapper: string;
  /** The config line written into <network dir>/config. */
  readonly configLine: string;
  /** installplugin's stdout. */
  readonly output: string;
}

/**
 * The README's install steps for an existing node (it must have run once: installplugin
 * needs its hsm_secret): `cldcb-client newclient KEY`, `cldcb-server add --server-dir=DIR CID`,
 * `cldcb-client installplugin --lightning-dir=<base>/regtest --client-privkey=KEY --server=SID@HOST:PORT`,
 * then the README's config line in lightningd's config (<base>/regtest/config).
 * Several servers (issue 11): one newclient and one `add` per server, and installplugin with
 * `--client-privkey` and `--server` repeated in the same order, and `--quorum=K` when given.
 * `option` overrides the README's choice (scenarios that compare plugin= and important-plugin=);
 * `installArgs` are further installplugin options (e.g. --deadline=SECONDS).
 */
export async function installBackup(
  node: { name: string; networkDir: string },
  server: CldcbServer | readonly CldcbServer[],
  keyDir: string,
  opts: { option?: 'plugin' | 'important-plugin'; installArgs?: readonly string[]; quorum?: number } = {},
): Promise<Install> {
  const servers = Array.isArray(server) ? (server as readonly CldcbServer[]) : [server as CldcbServer];
  const clientKeyFiles: string[] = [];
  const clientIds: string[] = [];
  for (const [i, s] of servers.entries()) {
    const clientKeyFile = path.join(
      keyDir,
      servers.length === 1 ? `${node.name}-client.key` : `${node.name}-client-${i + 1}.key`,
    );
    const nc = expectOk(await cldcbClient(['newclient', clientKeyFile]), 'cldcb-client newclient');
    const clientId = nc.stdout.trim();
    if (!/^c[23][0-9a-f]{64}$/.test(clientId))
      throw new Error(`newclient printed ${JSON.stringify(nc.stdout)}, not a client id`);
    await s.add(clientId);
    clientKeyFiles.push(clientKeyFile);
    clientIds.push(clientId);
  }
  const inst = expectOk(
    await cldcbClient([
      'installplugin',
      `--lightning-dir=${node.networkDir}`,
      ...clientKeyFiles.map((f) => `--client-privkey=${f}`),
      ...servers.map((s) => `--server=${s.address}`),
      ...(opts.quorum !== undefined ? [`--quorum=${opts.quorum}`] : []),
      ...(opts.installArgs ?? []),
    ]),
    'cldcb-client installplugin',
  );
  const wrapper = path.join(node.networkDir, WRAPPER);
  const configLine = enablePlugin(node.networkDir, opts.option ?? readmePluginOption());
  return {
    clientKeyFile: clientKeyFiles[0]!,
    clientId: clientIds[0]!,
    clientKeyFiles,
    clientIds,
    wrapper,
    configLine,
    output: inst.stdout,
  };
}

/** Write `<option>=<networkDir>/cldcb-plugin-wrapper` as lightningd's config (<networkDir>/config). */
export function enablePlugin(
  networkDir: string,
  option: 'plugin' | 'important-plugin' = readmePluginOption(),
): string {
  const line = `${option}=${path.join(networkDir, WRAPPER)}`;
  writeFileSync(path.join(networkDir, 'config'), `${line}\n`);
  return line;
}

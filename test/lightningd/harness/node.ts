/**
 * One lightningd node (lightningd-rig.md §2): started in the foreground in its own process
 * group (plugins and subdaemons with it), ready when `getinfo` answers over the unix socket
 * while the PID is watched, stopped with `stop`, killed with SIGKILL. Its log file and stderr
 * are kept beside its directory; every failure message carries their tails.
 */
import type { ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { requireCln } from './cln';
import { BACKEND_PLUGIN } from './paths';
import {
  childPids,
  forgetGroup,
  groupAlive,
  killGroup,
  processesMentioning,
  spawnGroup,
  waitGroupGone,
} from './procs';
import { LightningRpc, RpcError } from './rpc';

/**
 * Built-in plugins the tier turns off: none of them takes part in what the tier checks
 * (funding, channels, pay, the db_write hook, shutdown), and each is one process fewer on a
 * 2-core machine (bookkeeper works on every chain and channel event). Measured: no start-time
 * gain within the noise (1.3-3.0 s to a synced node either way under load). Kept on: pay,
 * topology, askrene (routes), xpay, spenderp (fundchannel), txprepare, keysend, offers,
 * funder, chanbackup (it writes the `chanbackup/peers` datastore entry at shutdown — part of
 * defect 2), bwatch, commando, exposesecret, recover, autoclean.
 * `bcli` is replaced by the tier's own backend (rig §2).
 */
export const DISABLED_BUILTINS = ['bcli', 'bookkeeper', 'cln-renepay', 'sql', 'recklessrpc'];

export interface NodeOptions {
  /** Short name used in logs and messages ("a", "b"). */
  readonly name: string;
  /** lightningd's --lightning-dir (the base; the network dir is <base>/regtest). */
  readonly baseDir: string;
  readonly port: number;
  readonly chainUrl: string;
}

export interface StartOptions {
  /** --plugin=… (absolute paths). */
  readonly plugins?: readonly string[];
  /** --important-plugin=… (absolute paths). */
  readonly importantPlugins?: readonly string[];
  /** Extra environment (plugins inherit lightningd's). */
  readonly env?: Record<string, string>;
  readonly extraArgs?: readonly string[];
  /** lightningd's --log-level (default debug; the benchmark uses info, lightningd's default). */
  readonly logLevel?: string;
  /** How long to wait for `getinfo` (default 60 s: a db_write hook may be retrying). */
  readonly readyTimeoutMs?: number;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export class LightningNode {
  readonly networkDir: string;
  readonly socketPath: string;
  readonly logFile: string;
  readonly stderrFile: string;
  /** The last start's options (restart() repeats them). */
  lastStart: StartOptions = {};
  private proc?: ChildProcess;
  private exitPromise?: Promise<Exit>;
  private lastExit?: Exit;
  private stderrText = '';
  private rpcClient?: LightningRpc;

  constructor(readonly opts: NodeOptions) {
    this.networkDir = path.join(opts.baseDir, 'regtest');
    this.socketPath = path.join(this.networkDir, 'lightning-rpc');
    this.logFile = path.join(opts.baseDir, 'log');
    this.stderrFile = path.join(opts.baseDir, 'stderr.log');
    if (Buffer.byteLength(this.socketPath) > 107)
      throw new Error(
        `${this.socketPath}: a unix socket path must be at most 107 bytes; use a shorter base dir`,
      );
  }

  get name(): string {
    return this.opts.name;
  }
  get pid(): number | undefined {
    return this.proc?.pid;
  }
  get running(): boolean {
    return this.proc !== undefined && this.lastExit === undefined;
  }
  get dbPath(): string {
    return path.join(this.networkDir, 'lightningd.sqlite3');
  }

  get rpc(): LightningRpc {
    if (!this.rpcClient) throw new Error(`node ${this.name} is not running`);
    return this.rpcClient;
  }

  call<T = Record<string, unknown>>(
    method: string,
    params: Record<string, unknown> | unknown[] = {},
    timeoutMs?: number,
  ): Promise<T> {
    return this.rpc.call<T>(method, params, timeoutMs);
  }

  args(o: StartOptions): string[] {
    const cln = requireCln();
    return [
      `--lightning-dir=${this.opts.baseDir}`,
      '--network=regtest',
      '--developer',
      '--dev-bitcoind-poll=1',
      '--dev-fast-gossip',
      `--bind-addr=127.0.0.1:${this.opts.port}`,
      `--log-file=${this.logFile}`,
      `--log-level=${o.logLevel ?? 'debug'}`,
      `--alias=tier-${this.name}`,
      ...DISABLED_BUILTINS.filter((p) => existsSync(path.join(cln.pluginsDir, p))).map(
        (p) => `--disable-plugin=${p}`,
      ),
      `--plugin=${BACKEND_PLUGIN}`,
      `--fakechain-url=${this.opts.chainUrl}`,
      ...(o.plugins ?? []).map((p) => `--plugin=${p}`),
      ...(o.importantPlugins ?? []).map((p) => `--important-plugin=${p}`),
      ...(o.extraArgs ?? []),
    ];
  }

  /** Spawn lightningd and wait until `getinfo` answers. Throws (after killing the group) with the exit code or a stall, and the log tails. */
  async start(o: StartOptions = {}): Promise<void> {
    if (this.running) throw new Error(`node ${this.name} is already running`);
    this.lastStart = o;
    const cln = requireCln();
    mkdirSync(this.opts.baseDir, { recursive: true });
    appendFileSync(this.stderrFile, `\n--- start ${new Date().toISOString()}\n`);
    this.stderrText = '';
    this.lastExit = undefined;
    const proc = spawnGroup(
      cln.lightningd,
      this.args(o),
      { cwd: this.opts.baseDir, env: { ...process.env, ...o.env }, stdio: ['ignore', 'pipe', 'pipe'] },
      `lightningd ${this.name} ${this.opts.baseDir}`,
    );
    this.proc = proc;
    const onOut = (d: Buffer): void => {
      this.stderrText += d.toString('utf8');
      appendFileSync(this.stderrFile, d);
    };
    proc.stdout!.on('data', onOut);
    proc.stderr!.on('data', onOut);
    this.exitPromise = new Promise<Exit>((resolve) => {
      proc.once('error', (e) => {
        this.lastExit = { code: -1, signal: null };
        this.stderrText += `spawn failed: ${e.message}\n`;
        resolve(this.lastExit);
      });
      proc.once('exit', (code, signal) => {
        this.lastExit = { code, signal };
        resolve(this.lastExit);
      });
    });
    this.rpcClient = new LightningRpc(this.socketPath);
    try {
      await this.waitReady(o.readyTimeoutMs ?? 60_000);
    } catch (e) {
      await this.killAll();
      throw e;
    }
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const t0 = Date.now();
    for (;;) {
      if (this.lastExit)
        throw new Error(
          `lightningd ${this.name} exited during startup (${describeExit(this.lastExit)}).\n${this.diagnostics()}`,
        );
      try {
        await this.rpc.call('getinfo', {}, 2000);
        return;
      } catch (e) {
        if (e instanceof RpcError) throw e;
      }
      if (Date.now() - t0 > timeoutMs)
        throw new Error(
          `lightningd ${this.name} is alive but gave no getinfo within ${timeoutMs} ms (a db_write hook stalled before the RPC socket exists?).\n${this.diagnostics()}`,
        );
      await Promise.race([new Promise((r) => setTimeout(r, 50)), this.exitPromise]);
    }
  }

  /** Resolves when lightningd exits (immediately if it already has). */
  waitExit(timeoutMs = 60_000): Promise<Exit> {
    if (!this.exitPromise) return Promise.reject(new Error(`node ${this.name} was never started`));
    return Promise.race([
      this.exitPromise,
      new Promise<Exit>((_, reject) =>
        setTimeout(
          () =>
            reject(
              new Error(
                `lightningd ${this.name} still running after ${timeoutMs} ms.\n${this.diagnostics()}`,
              ),
            ),
          timeoutMs,
        ).unref(),
      ),
    ]);
  }

  /**
   * `stop` over RPC, then wait for lightningd and for every plugin of its group to exit
   * (plugins only see stdin EOF and may still be flushing, rig §2).
   * @returns ms from the `stop` call until lightningd exited.
   */
  async stop(timeoutMs = 60_000): Promise<number> {
    if (!this.running) throw new Error(`node ${this.name} is not running`);
    const t0 = performance.now();
    const reply = await this.rpc
      .call<string | { result?: string }>('stop', {}, timeoutMs)
      .catch((e: Error) => e);
    if (reply instanceof Error && !/closed the RPC connection/.test(reply.message)) {
      await this.killAll();
      throw new Error(`lightningd ${this.name}: stop failed: ${reply.message}\n${this.diagnostics()}`);
    }
    const exit = await this.waitExit(timeoutMs);
    const ms = performance.now() - t0;
    await this.finishGroup(35_000);
    if (exit.code !== 0)
      throw new Error(
        `lightningd ${this.name} exited with ${describeExit(exit)} after stop.\n${this.diagnostics()}`,
      );
    return ms;
  }

  /** Stop, then start again with the same options. @returns the stop's ms. */
  async restart(): Promise<number> {
    const ms = await this.stop();
    await this.start(this.lastStart);
    return ms;
  }

  /**
   * Wait for the rest of the group (plugins) to go, then for any process that still names
   * this node's directory (a plugin's detached after-stop helper finishing its upload); kill
   * what lingers past `timeoutMs`.
   */
  private async finishGroup(timeoutMs: number): Promise<void> {
    const pgid = this.proc?.pid;
    this.rpcClient?.close();
    if (pgid === undefined) return;
    const t0 = Date.now();
    if (!(await waitGroupGone(pgid, timeoutMs))) killGroup(pgid);
    await waitGroupGone(pgid, 5000);
    forgetGroup(pgid);
    while (processesMentioning(this.networkDir).length > 0) {
      if (Date.now() - t0 > timeoutMs) {
        for (const p of processesMentioning(this.networkDir)) {
          try {
            process.kill(p.pid, 'SIGKILL');
          } catch {
            /* gone */
          }
        }
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** SIGKILL lightningd alone (a crash; its plugins see EOF), then wait for the group. */
  async kill(): Promise<Exit> {
    if (!this.proc?.pid) throw new Error(`node ${this.name} was never started`);
    try {
      process.kill(this.proc.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
    const exit = await this.waitExit(10_000);
    await this.finishGroup(10_000);
    return exit;
  }

  /** SIGKILL the whole group (cleanup after a failure). Safe to call at any time. */
  async killAll(): Promise<void> {
    const pgid = this.proc?.pid;
    this.rpcClient?.close();
    if (pgid === undefined) return;
    if (groupAlive(pgid)) killGroup(pgid);
    if (this.exitPromise) await Promise.race([this.exitPromise, new Promise((r) => setTimeout(r, 5000))]);
    await waitGroupGone(pgid, 5000);
    forgetGroup(pgid);
  }

  /** Processes lightningd started whose command line matches `re` (e.g. a plugin). */
  children(re: RegExp): { pid: number; cmdline: string }[] {
    return this.proc?.pid ? childPids(this.proc.pid).filter((c) => re.test(c.cmdline)) : [];
  }

  /** The whole log file (all runs of this node). */
  log(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
  }

  /** Current length of the log (pass to logSince). */
  logMark(): number {
    return this.log().length;
  }
  logSince(mark: number): string {
    return this.log().slice(mark);
  }

  /** Tails of the log and stderr, for failure messages. */
  diagnostics(lines = 40): string {
    const tail = (s: string): string => s.split('\n').slice(-lines).join('\n');
    return `--- ${this.name} stderr (tail):\n${tail(this.stderrText)}\n--- ${this.name} log ${this.logFile} (tail):\n${tail(this.log())}`;
  }

  /** Write a marker into the log file (to find a test step in it later). */
  note(text: string): void {
    if (existsSync(this.opts.baseDir)) appendFileSync(this.logFile, `#### tier: ${text}\n`);
  }
}

export function describeExit(e: Exit): string {
  return e.signal ? `signal ${e.signal}` : `exit code ${e.code}`;
}

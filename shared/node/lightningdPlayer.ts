/**
 * Plays lightningd towards a db_write plugin (cln-facts §8; Core Lightning v26.06
 * lightningd/plugin.c, plugin_hook.c, db/exec.c):
 *  - spawns the plugin (normally the wrapper script) with cwd = the "network directory",
 *    stdin/stdout JSON-RPC, objects separated by "\n\n" as lightningd writes them;
 *  - `getmanifest`, then db_writes (which may come before `init`, as migrations do), `init`;
 *  - each db_write is applied to `lightningd.sqlite3` in that directory like lightningd:
 *    BEGIN; the statements; the hook; COMMIT only when the plugin answered
 *    {"result":"continue"} — calls holding only PRAGMAs run outside a transaction (as
 *    prepare_table_manip / complete_table_manip do) — and on any other answer lightningd
 *    would fatal() without committing: the driver rolls back and marks itself dead.
 *  - `log` notifications are collected.
 *
 * Shipped (not only a test helper): `cldcb-client drill --demo` plays the bundled real trace
 * with it (shared/node/recovery/drill.ts). Written by the plugin's author as
 * test/node/helpers/lightningdDriver.ts, which now re-exports this module.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { isPragmaOnlyCall } from '../cldcb/statements';

export interface TraceCall {
  readonly data_version: number;
  readonly writes: string[];
}

export interface LogLine {
  readonly level: string;
  readonly message: string;
}

export interface DriverOptions {
  /** Command and arguments (e.g. [wrapperPath]). */
  readonly command: string[];
  /** The network directory: the plugin's cwd, holding lightningd.sqlite3. */
  readonly cwd: string;
  readonly env?: NodeJS.ProcessEnv;
  /** SQLite page cache size for the "lightningd" connection; small values force spills of uncommitted pages. */
  readonly cacheSize?: number;
  /** Per-call timeout for the plugin's answer (ms). */
  readonly replyTimeoutMs?: number;
}

/** `ms`: the whole call (statements, hook, commit); `hookMs`: the hook round trip alone. */
export type HookResult =
  | { readonly ok: true; readonly ms: number; readonly hookMs: number }
  | { readonly ok: false; readonly reply: unknown; readonly ms: number; readonly hookMs: number };

export class LightningdDriver {
  readonly logs: LogLine[] = [];
  readonly stderr: string[] = [];
  /** Every response received, in order. */
  readonly replies: Record<string, unknown>[] = [];
  private readonly child: ChildProcess;
  private buf = '';
  private nextId = 1;
  private readonly pending = new Map<string, (reply: Record<string, unknown>) => void>();
  private readonly db: Database.Database;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Set when a hook failed: lightningd would have died. */
  dead = false;

  constructor(readonly opts: DriverOptions) {
    this.db = new Database(path.join(opts.cwd, 'lightningd.sqlite3'));
    if (opts.cacheSize !== undefined) this.db.pragma(`cache_size = ${opts.cacheSize}`);
    // We are not lightningd and we live on after the plugin: its after-stop helper, which waits
    // for lightningd to exit, must not start unless a test asks for it (shared/node/pluginShutdown.ts).
    const env = { CLDCB_AFTER_STOP: 'off', ...(opts.env ?? process.env) };
    this.child = spawn(opts.command[0]!, opts.command.slice(1), { cwd: opts.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (t: string) => this.onData(t));
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (t: string) => this.stderr.push(t));
    this.child.stdin!.on('error', () => {});
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        for (const r of this.pending.values()) r({ error: { message: 'plugin exited' } });
        this.pending.clear();
        resolve({ code, signal });
      }),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  get exit(): { code: number | null; signal: NodeJS.Signals | null } | undefined {
    return this.exitInfo;
  }

  private onData(t: string): void {
    this.buf += t;
    // The plugin writes one object per line.
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl).trim();
      this.buf = this.buf.slice(nl + 1);
      if (!line) continue;
      const msg = JSON.parse(line) as Record<string, unknown>;
      if (msg.method === 'log') {
        const p = msg.params as { level: string; message: string };
        this.logs.push({ level: p.level, message: p.message });
        continue;
      }
      this.replies.push(msg);
      const id = JSON.stringify(msg.id);
      const r = this.pending.get(id);
      if (r) {
        this.pending.delete(id);
        r(msg);
      }
    }
  }

  /** Send a request like lightningd (string ids "cln:<method>#<n>") and wait for the reply. */
  request(method: string, params: unknown, timeoutMs = this.opts.replyTimeoutMs ?? 120_000): Promise<Record<string, unknown>> {
    const id = `cln:${method}#${this.nextId++}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(JSON.stringify(id));
        reject(new Error(`plugin did not answer ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(JSON.stringify(id), (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      this.child.stdin!.write(JSON.stringify({ jsonrpc: '2.0', id, method, params }) + '\n\n');
    });
  }

  /** Write raw text to the plugin's stdin (for framing tests). */
  writeRaw(text: string): void {
    this.child.stdin!.write(text);
  }

  getmanifest(): Promise<Record<string, unknown>> {
    return this.request('getmanifest', { 'allow-deprecated-apis': false });
  }

  init(): Promise<Record<string, unknown>> {
    return this.request('init', {
      options: {},
      configuration: { 'lightning-dir': this.opts.cwd, 'rpc-file': 'lightning-rpc', startup: true, network: 'regtest' },
    });
  }

  /**
   * One db_write as lightningd does it (see module comment).
   * @returns ok, or the failing reply (the driver is then dead, like lightningd after fatal()).
   */
  async dbWrite(call: TraceCall, opts: { crashBeforeCommit?: boolean } = {}): Promise<HookResult> {
    if (this.dead) throw new Error('lightningd already died (an earlier hook failed)');
    const pragmaOnly = isPragmaOnlyCall(call.writes);
    const t0 = performance.now();
    if (pragmaOnly) {
      for (const w of call.writes) this.db.exec(w);
    } else {
      this.db.exec('BEGIN');
      for (const w of call.writes) this.db.exec(w);
    }
    let reply: Record<string, unknown>;
    const h0 = performance.now();
    try {
      reply = await this.request('db_write', { data_version: call.data_version, writes: call.writes });
    } catch (e) {
      reply = { error: { message: (e as Error).message } };
    }
    const hookMs = performance.now() - h0;
    const result = reply.result as { result?: unknown } | undefined;
    const ok = result !== undefined && result !== null && typeof result === 'object' && result.result === 'continue';
    if (!pragmaOnly) this.db.exec(ok && !opts.crashBeforeCommit ? 'COMMIT' : 'ROLLBACK');
    if (opts.crashBeforeCommit) this.dead = true; // lightningd died between the hook and COMMIT
    const ms = performance.now() - t0;
    if (!ok) {
      this.dead = true;
      return { ok: false, reply, ms, hookMs };
    }
    return { ok: true, ms, hookMs };
  }

  /** Close stdin (lightningd stopping) and wait for the plugin to exit. */
  async stop(timeoutMs = 10_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
      this.closeDb();
    }
  }

  /** Kill the plugin (lightningd crashing). */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
    this.closeDb();
  }

  waitExit(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.exited;
  }

  closeDb(): void {
    if (this.db.open) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      this.db.close();
    }
  }

  /** CPU time (user + system, ms) the plugin process has used, from /proc. */
  cpuMs(): number {
    const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / 100; // CLK_TCK is 100 on Linux
  }
}

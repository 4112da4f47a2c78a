/**
 * Runs test/node/helpers/flood-attacker.ts in its own process (bundled with esbuild into
 * build/test/, then forked), and raises this process's open-file limit for it. No vitest import.
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { bundleNodeProgram } from './plugin-build';
import type { FloodConfig, FloodStats } from './flood-attacker';

export type { FloodConfig, FloodStats };

/** Soft and hard RLIMIT_NOFILE of this process (Linux /proc). */
export function openFileLimits(): { soft: number; hard: number } {
  const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(
    readFileSync('/proc/self/limits', 'utf8'),
  );
  const n = (s: string | undefined): number =>
    s === undefined || s === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(s);
  return { soft: n(m?.[1]), hard: n(m?.[2]) };
}

/**
 * Make the soft open-file limit at least `want` (up to the hard limit) for this process and
 * the children it starts from now on (`prlimit --pid`; Node has no setrlimit).
 * @returns the soft limit now in force.
 */
export function raiseOpenFileLimit(want: number): number {
  const { soft, hard } = openFileLimits();
  if (soft >= want) return soft;
  const target = Math.min(want, hard);
  spawnSync('prlimit', ['--pid', String(process.pid), `--nofile=${target}:`], { stdio: 'ignore' });
  return openFileLimits().soft;
}

let bundled: Promise<string> | undefined;
const bundleAttacker = (): Promise<string> => (bundled ??= bundleNodeProgram('test/node/helpers/flood-attacker.ts', 'build/test/flood-attacker.mjs'));

export class Flood {
  private constructor(private readonly child: ChildProcess) {}

  static async start(cfg: FloodConfig): Promise<Flood> {
    const file = await bundleAttacker();
    // At the lowest CPU priority: on a real server the attacker's own work runs on its
    // machines, not the server's; here it shares the cores and must not take the server's.
    const nice = spawnSync('nice', ['--version'], { stdio: 'ignore' }).status === 0;
    const child = nice
      ? spawn('nice', ['-n', '19', process.execPath, file, JSON.stringify(cfg)], {
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        })
      : fork(file, [JSON.stringify(cfg)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return new Flood(child);
  }

  get pid(): number {
    return this.child.pid!;
  }

  stats(): Promise<FloodStats> {
    return new Promise((resolve, reject) => {
      const on = (m: { stats?: FloodStats }): void => {
        if (!m.stats) return;
        this.child.off('message', on);
        resolve(m.stats);
      };
      this.child.on('message', on);
      this.child.once('exit', () => reject(new Error('the flood process exited')));
      this.child.send({ cmd: 'stats' });
    });
  }

  /** Wait until every connection was attempted once, then `settleMs` more (evictions and reopening go on). */
  async ramped(timeoutMs = 120_000, settleMs = 2000): Promise<FloodStats> {
    const t0 = Date.now();
    while (!(await this.stats()).ramped) {
      if (Date.now() - t0 > timeoutMs)
        throw new Error(
          `the flood did not open its connections within ${timeoutMs} ms: ${JSON.stringify(await this.stats())}`,
        );
      await new Promise((r) => setTimeout(r, 200));
    }
    await new Promise((r) => setTimeout(r, settleMs));
    return this.stats();
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.send({ cmd: 'stop' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

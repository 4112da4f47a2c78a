/**
 * Every process the tier starts (lightningd with its plugins and subdaemons, cldcb-server)
 * runs in its own process group, recorded here, so that nothing is left behind: the group is
 * killed on stop/failure by the harness, at worker exit (process 'exit'), and by the tier's
 * global teardown for groups recorded in the run directory (a worker that died or hung).
 * Only groups this run recorded are ever signalled.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Set by the tier's global setup for its workers; the harness falls back to a per-process directory. */
export const PIDS_DIR_ENV = 'CLDCB_TIER_PIDS_DIR';

const live = new Set<number>();
let exitHookInstalled = false;

function pidsDir(): string | undefined {
  return process.env[PIDS_DIR_ENV];
}

/** Is any process of group `pgid` alive? */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function killGroup(pgid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    /* already gone */
  }
}

/** Wait until every process of the group has exited; false on timeout. */
export async function waitGroupGone(pgid: number, timeoutMs: number): Promise<boolean> {
  const t0 = Date.now();
  while (groupAlive(pgid)) {
    if (Date.now() - t0 > timeoutMs) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/** Spawn `cmd` as the leader of a new process group and record the group. */
export function spawnGroup(
  cmd: string,
  args: readonly string[],
  opts: SpawnOptions,
  label: string,
): ChildProcess {
  const child = spawn(cmd, args, { ...opts, detached: true });
  const pgid = child.pid;
  if (pgid === undefined) return child; // spawn failed; 'error' follows
  live.add(pgid);
  const dir = pidsDir();
  if (dir) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, String(pgid)), `${label}\n`);
  }
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const g of live) killGroup(g);
    });
  }
  return child;
}

/** The group is finished (exited and waited for): forget it. */
export function forgetGroup(pgid: number): void {
  live.delete(pgid);
  const dir = pidsDir();
  if (dir) rmSync(path.join(dir, String(pgid)), { force: true });
}

/** Record a run directory: the global teardown also kills processes whose command line mentions it (detached helpers). */
export function recordRunDir(runDir: string): void {
  const dir = pidsDir();
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `dir-${path.basename(runDir)}`), `${runDir}\n`);
}

/** Kill every group recorded in `dir` (global teardown). @returns the labels of groups that were still alive. */
export function killRecordedGroups(dir: string): string[] {
  const alive: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return alive;
  }
  for (const name of names) {
    if (name.startsWith('dir-')) {
      const runDir = readFileSync(path.join(dir, name), 'utf8').trim();
      for (const p of processesMentioning(runDir)) {
        alive.push(`${p.cmdline} (pid ${p.pid})`);
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      rmSync(path.join(dir, name), { force: true });
      continue;
    }
    const pgid = Number(name);
    if (!Number.isInteger(pgid) || pgid <= 1) continue;
    if (groupAlive(pgid)) {
      alive.push(`${readFileSync(path.join(dir, name), 'utf8').trim()} (process group ${pgid})`);
      killGroup(pgid);
    }
    rmSync(path.join(dir, name), { force: true });
  }
  return alive;
}

/**
 * Processes whose command line mentions `text` (e.g. a node's directory): what a plugin may
 * leave running after lightningd exits, outside lightningd's process group (a detached helper).
 */
export function processesMentioning(text: string): { pid: number; cmdline: string }[] {
  const out: { pid: number; cmdline: string }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ').trim();
      if (cmdline.includes(text)) out.push({ pid: Number(name), cmdline });
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

/** Direct children of `pid` (from /proc), e.g. a plugin process of lightningd. */
export function childPids(pid: number): { pid: number; cmdline: string }[] {
  const out: { pid: number; cmdline: string }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== pid) continue;
      out.push({
        pid: Number(name),
        cmdline: readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ').trim(),
      });
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

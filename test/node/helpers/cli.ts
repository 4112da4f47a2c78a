/**
 * Running cldcb-client in tests: the built program as a child process (`runClient`), or the
 * command table in this process with captured output (`capturedIo`, `runCliCaptured`).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../../cli/main';
import type { CliIo } from '../../../cli/io';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runClient(
  args: readonly string[],
  opts: { cwd: string; input?: string | Uint8Array; timeoutMs?: number },
): CliRun {
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'cli/cldcb-client.mjs'), ...args], {
    cwd: opts.cwd,
    input: opts.input ?? '',
    env: { ...process.env, CLDCB_DEBUG: '' },
    timeout: opts.timeoutMs ?? 60_000,
  });
  return { status: r.status, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
}

/** A CliIo that keeps what was printed and has no terminal (a prompt fails). */
export function capturedIo(): CliIo & { stdout: string; stderr: string } {
  const o = {
    stdout: '',
    stderr: '',
    interactive: false,
    out: (t: string) => void (o.stdout += t),
    err: (t: string) => void (o.stderr += t),
    askSecret: () => Promise.reject(new Error('no terminal')),
    askLine: () => Promise.reject(new Error('no terminal')),
  };
  return o;
}

/** `cldcb-client ARGS` in this process: the exit code and what it printed. */
export async function runCliCaptured(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const t = capturedIo();
  const code = await runCli(args, t);
  return { code, stdout: t.stdout, stderr: t.stderr };
}

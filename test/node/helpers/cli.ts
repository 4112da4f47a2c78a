/** Run the built `cldcb-client` as a child process with stdin a pipe (never a terminal). */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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

#!/usr/bin/env node
// The connection-flood test (test/node/server-flood.test.ts) at any size, with its figures:
//   node scripts/flood.mjs [--plain=N] [--noise=N] [--writes=N] [--reopen=N]
// Defaults are the test's (2000 plain TCP, 2000 Noise sessions, 300 db_writes per phase,
// 100 reopens/s). Not part of npm test at other sizes; it kills everything it starts.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write('usage: node scripts/flood.mjs [--plain=N] [--noise=N] [--writes=N] [--reopen=N]\n');
  process.exit(0);
}
const opt = (name) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const env = { ...process.env };
for (const [flag, name] of [
  ['plain', 'CLDCB_FLOOD_PLAIN'],
  ['noise', 'CLDCB_FLOOD_NOISE'],
  ['writes', 'CLDCB_FLOOD_WRITES'],
  ['reopen', 'CLDCB_FLOOD_REOPEN'],
]) {
  const v = opt(flag);
  if (v !== undefined) {
    if (!/^\d+$/.test(v)) {
      process.stderr.write(`--${flag}: expected a whole number, got "${v}"\n`);
      process.exit(2);
    }
    env[name] = v;
  }
}
const dir = mkdtempSync(path.join(tmpdir(), 'cldcb-flood-report-'));
env.CLDCB_FLOOD_REPORT = path.join(dir, 'figures.json');
const t0 = Date.now();
const r = spawnSync(
  path.join(root, 'node_modules/.bin/vitest'),
  ['run', '--project', 'node', 'test/node/server-flood.test.ts'],
  { cwd: root, env, stdio: 'inherit' },
);
try {
  process.stdout.write(
    `\nfigures (${((Date.now() - t0) / 1000).toFixed(0)} s):\n${readFileSync(env.CLDCB_FLOOD_REPORT, 'utf8')}\n`,
  );
} catch {
  process.stdout.write('\nno figures: the test did not get that far (see above).\n');
}
rmSync(dir, { recursive: true, force: true });
process.exit(r.status ?? 1);

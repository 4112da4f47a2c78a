#!/usr/bin/env node
// `npm run bench`: bundles each scripts/bench/*.bench.ts with esbuild, runs them one
// after another (never in parallel: they measure), and prints one table. Each
// suite measures its own reference in the same run, so figures are ratios.
//   npm run bench                 all suites
//   npm run bench -- recognition  suites whose name contains "recognition"
//   npm run bench -- lightningd   payment time on live lightningd nodes, plugin vs none
//                                 (needs CLDCB_CLN_DIR, test/lightningd/README.md; without it
//                                 the suite reports itself skipped with the reason)
import { build } from 'esbuild';
import { readdirSync, mkdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const filter = process.argv[2];
const dir = path.join(root, 'scripts', 'bench');
const outDir = path.join(root, 'build', 'bench');
mkdirSync(outDir, { recursive: true });
spawnSync(process.execPath, [path.join(root, 'scripts/build.mjs')], { stdio: 'inherit' });

const suites = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts') && (!filter || f.includes(filter)))
  .sort();
const results = [];
for (const f of suites) {
  const out = path.join(outDir, f.replace(/\.ts$/, '.mjs'));
  await build({
    entryPoints: [path.join(dir, f)],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['better-sqlite3', 'secp256k1', 'libsodium-wrappers-sumo'],
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    logLevel: 'warning',
  });
  process.stdout.write(`\n--- ${f}\n`);
  const r = spawnSync(process.execPath, ['--expose-gc', out], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  process.stderr.write(r.stderr);
  for (const line of r.stdout.split('\n')) {
    if (line.startsWith('BENCH ')) results.push(JSON.parse(line.slice(6)));
    else if (line.trim()) process.stdout.write(`  ${line}\n`);
  }
  if (r.status !== 0) results.push({ suite: f, rows: [{ name: 'suite failed', value: NaN, unit: '', pass: false }] });
}

const fmt = (v) => (Number.isFinite(v) ? (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3)) : String(v));
process.stdout.write('\n');
for (const s of results) {
  process.stdout.write(`${s.suite}\n`);
  for (const r of s.rows) {
    const ref = r.reference ? `  (reference ${r.reference.name}: ${fmt(r.reference.value)})` : '';
    const goal = r.goal ? `  goal ${r.goal}: ${r.pass ? 'met' : 'NOT met'}` : '';
    process.stdout.write(`  ${r.name.padEnd(58)} ${fmt(r.value).padStart(10)} ${r.unit}${ref}${goal}\n`);
  }
}
writeFileSync(path.join(root, 'build', 'bench', 'results.json'), JSON.stringify({ date: new Date().toISOString(), results }, null, 2));

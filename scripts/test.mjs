#!/usr/bin/env node
// `npm test`: type-check + lint + build + unit + node + lightningd + e2e, then every
// skipped test with its reason, then one plain closing line "N passed, N failed, N skipped"
// (each check step counts as one passed or failed).
// Options: --no-e2e, --only=unit|node|lightningd|e2e (for quick local runs).
// The lightningd tier needs CLDCB_CLN_DIR (test/lightningd/README.md); without it its
// tests are counted and listed as skipped, with the reason.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);
const only = args.find((a) => a.startsWith('--only='))?.slice(7);
const noE2e = args.includes('--no-e2e');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const reportDir = path.join(root, 'test-results');
mkdirSync(reportDir, { recursive: true });

let passed = 0;
let failed = 0;
const failures = [];
/** Every skipped test: "project › name — reason". A skip never vanishes from the summary. */
const skipped = [];

function step(name, cmd, cmdArgs, env = {}) {
  const t0 = Date.now();
  process.stdout.write(`\n=== ${name}\n`);
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  const ok = r.status === 0;
  process.stdout.write(`=== ${name}: ${ok ? 'ok' : 'FAILED'} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
  return ok;
}

function check(name, cmd, cmdArgs) {
  if (step(name, cmd, cmdArgs)) passed++;
  else {
    failed++;
    failures.push(name);
  }
}

function vitest(project) {
  const out = path.join(reportDir, `vitest-${project}.json`);
  rmSync(out, { force: true });
  const ok = step(`${project} tests`, bin('vitest'), [
    'run',
    '--project',
    project,
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${out}`,
  ]);
  if (!existsSync(out)) {
    failed++;
    failures.push(`${project} tests (no report)`);
    return;
  }
  const r = JSON.parse(readFileSync(out, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  // Skipped, pending and todo tests; the reason is the test's meta.skipReason (test/lightningd/tier.ts).
  for (const f of r.testResults)
    for (const t of f.assertionResults)
      if (t.status === 'skipped' || t.status === 'pending' || t.status === 'todo')
        skipped.push(
          `${project} › ${path.relative(root, f.name)} › ${t.fullName} — ${t.meta?.skipReason ?? (t.status === 'todo' ? 'todo' : 'no reason recorded')}`,
        );
  // A file that fails to load counts as a failure even though it has no tests.
  const brokenFiles = r.testResults.filter(
    (f) => f.status === 'failed' && f.assertionResults.length === 0,
  ).length;
  failed += brokenFiles;
  if (!ok || r.numFailedTests || brokenFiles) failures.push(`${project} tests`);
}

function e2e() {
  const out = path.join(reportDir, 'playwright.json');
  rmSync(out, { force: true });
  const ok = step('e2e tests (Chromium)', bin('playwright'), ['test'], { PW_JSON: out, E2E_SKIP_BUILD: '1' });
  if (!existsSync(out)) {
    failed++;
    failures.push('e2e tests (no report)');
    return;
  }
  const report = JSON.parse(readFileSync(out, 'utf8'));
  const s = report.stats;
  passed += s.expected + s.flaky;
  failed += s.unexpected;
  // Playwright keeps a skip's reason as the test's "skip" annotation.
  const walk = (suite, file) => {
    for (const spec of suite.specs ?? [])
      for (const t of spec.tests ?? [])
        if (t.status === 'skipped') {
          const why = (t.annotations ?? []).find((a) => a.type === 'skip' || a.type === 'fixme')?.description;
          skipped.push(`e2e › ${file ?? suite.file ?? ''} › ${spec.title} — ${why ?? 'no reason recorded'}`);
        }
    for (const sub of suite.suites ?? []) walk(sub, file ?? suite.file);
  };
  for (const suite of report.suites ?? []) walk(suite);
  if (!ok || s.unexpected) failures.push('e2e tests');
}

if (!only) {
  check('type-check (Node side)', bin('tsc'), ['-p', 'tsconfig.json']);
  check('type-check (shared/: no Node, no DOM)', bin('tsc'), ['-p', 'tsconfig.shared.json']);
  check('type-check (renderer)', bin('tsc'), ['-p', 'tsconfig.renderer.json']);
  check('lint', bin('eslint'), ['.', '--max-warnings=0']);
}
if (!only || only === 'e2e' || only === 'node')
  check('build', process.execPath, ['scripts/build.mjs', '--all']);
else if (only === 'lightningd') check('build', process.execPath, ['scripts/build.mjs']);
if (!only || only === 'unit') vitest('unit');
if (!only || only === 'node') vitest('node');
if (!only || only === 'lightningd') vitest('lightningd');
if ((!only && !noE2e) || only === 'e2e') e2e();

if (skipped.length)
  process.stdout.write(`\nSkipped (${skipped.length}):\n${skipped.map((s) => `  ${s}\n`).join('')}`);
if (failures.length) process.stdout.write(`\nFailed: ${failures.join(', ')}\n`);
process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped.length} skipped\n`);
process.exit(failed === 0 ? 0 : 1);

#!/usr/bin/env node
// `npm test`: type-check + lint + build + unit + node + e2e, then one plain
// closing line "N passed, N failed" (each check step counts as one).
// Options: --no-e2e, --only=unit|node|e2e (for quick local runs).
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
  const ok = step(`${project} tests`, bin('vitest'), ['run', '--project', project, '--reporter=default', '--reporter=json', `--outputFile.json=${out}`]);
  if (!existsSync(out)) {
    failed++;
    failures.push(`${project} tests (no report)`);
    return;
  }
  const r = JSON.parse(readFileSync(out, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  // A file that fails to load counts as a failure even though it has no tests.
  const brokenFiles = r.testResults.filter((f) => f.status === 'failed' && f.assertionResults.length === 0).length;
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
  const s = JSON.parse(readFileSync(out, 'utf8')).stats;
  passed += s.expected + s.flaky;
  failed += s.unexpected;
  if (!ok || s.unexpected) failures.push('e2e tests');
}

if (!only) {
  check('type-check (Node side)', bin('tsc'), ['-p', 'tsconfig.json']);
  check('type-check (shared/: no Node, no DOM)', bin('tsc'), ['-p', 'tsconfig.shared.json']);
  check('type-check (renderer)', bin('tsc'), ['-p', 'tsconfig.renderer.json']);
  check('lint', bin('eslint'), ['.', '--max-warnings=0']);
}
if (!only || only === 'e2e' || only === 'node') check('build', process.execPath, ['scripts/build.mjs', '--all']);
if (!only || only === 'unit') vitest('unit');
if (!only || only === 'node') vitest('node');
if ((!only && !noE2e) || only === 'e2e') e2e();

if (failures.length) process.stdout.write(`\nFailed: ${failures.join(', ')}\n`);
process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
process.exit(failed === 0 ? 0 : 1);

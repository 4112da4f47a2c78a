#!/usr/bin/env node
// Builds what runs: the three Node programs (esbuild bundles, one file each),
// the Electron main/preload/worker bundles, and (with --renderer or --all) the
// React renderer through Vite.
//   node scripts/build.mjs            programs + electron bundles (what `prepare` runs)
//   node scripts/build.mjs --all      the above + renderer
//   node scripts/build.mjs --renderer renderer only
import { build } from 'esbuild';
import { existsSync, mkdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const args = new Set(process.argv.slice(2));
const wantPrograms = !args.has('--renderer') || args.has('--all');
const wantRenderer = args.has('--renderer') || args.has('--all');

// Native and WASM-heavy packages stay outside the bundles: native addons cannot
// be bundled, and libsodium's 1.7 MB WASM blob would be copied into every file.
const external = ['better-sqlite3', 'secp256k1', 'libsodium-wrappers-sumo', 'electron'];
// ESM bundles that contain CommonJS dependencies need a real `require`.
const esmBanner = "import { createRequire as __cldcbCreateRequire } from 'node:module'; const require = __cldcbCreateRequire(import.meta.url);";

const programs = [
  { entry: 'cli/bin.ts', out: 'build/cldcb-client.mjs' },
  { entry: 'server/bin.ts', out: 'build/cldcb-server.mjs' },
  { entry: 'plugin/bin.ts', out: 'build/cldcb-plugin.mjs' },
  { entry: 'electron/worker/worker.ts', out: 'build/electron/worker.mjs' },
  // The pipelined rebuild's feeder on its own: a smaller bundle boots faster (electron/worker/feeder.ts).
  { entry: 'electron/worker/feeder.ts', out: 'build/electron/feeder.mjs' },
];
const electronBundles = [
  { entry: 'electron/main/main.ts', out: 'build/electron/main.mjs', format: 'esm' },
  // Sandboxed preloads must be CommonJS.
  { entry: 'electron/preload/preload.ts', out: 'build/electron/preload.cjs', format: 'cjs' },
];

async function buildPrograms() {
  mkdirSync(path.join(root, 'build/electron'), { recursive: true });
  const jobs = [];
  for (const p of programs) {
    if (!existsSync(path.join(root, p.entry))) continue;
    jobs.push(
      build({
        entryPoints: [path.join(root, p.entry)],
        outfile: path.join(root, p.out),
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        external,
        banner: { js: esmBanner },
        sourcemap: 'linked',
        logLevel: 'warning',
      }),
    );
  }
  for (const b of electronBundles) {
    if (!existsSync(path.join(root, b.entry))) continue;
    jobs.push(
      build({
        entryPoints: [path.join(root, b.entry)],
        outfile: path.join(root, b.out),
        bundle: true,
        platform: 'node',
        format: b.format,
        target: 'node20',
        external,
        banner: b.format === 'esm' ? { js: esmBanner } : undefined,
        logLevel: 'warning',
      }),
    );
  }
  await Promise.all(jobs);
}

function buildRenderer() {
  const r = spawnSync(process.execPath, [path.join(root, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (r.status !== 0) throw new Error('renderer build failed');
}

try {
  if (wantPrograms) await buildPrograms();
  if (wantRenderer) buildRenderer();
} catch (e) {
  console.error(`build failed: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
}

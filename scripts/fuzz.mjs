#!/usr/bin/env node
// Fuzz every parser that takes untrusted input (issue 14): cldcb messages and TLVs, Noise
// acts and frames, .arch framing, sealed chunks, increment plaintexts, recognition codes,
// clients / read_verifiers / recognition_codes files, plugin wrappers and opt files, ids,
// hsm_secret files and secret texts, codex32, BIP39 words, paper copies, SCB
// (emergency.recover), runes, macaroons, IP/CIDR, lightningd's stdin, the IPC contract and
// the CLI's JSON inputs. Targets: scripts/fuzz/targets.ts; engine: scripts/fuzz/engine.ts.
//
//   node scripts/fuzz.mjs [--budget=1000000] [--seed=N] [--only=TEXT] [--hang-ms=N] [--report=FILE] [--list]
//
// Not part of npm test (a million inputs take minutes). Exit code 1 when anything crashed
// (a throw that is not a CldcbError) or hung. Bundles the TypeScript with esbuild into
// build/fuzz/ first.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const out = path.join(root, 'build/fuzz/fuzz.mjs');
mkdirSync(path.dirname(out), { recursive: true });
await build({
  entryPoints: [path.join(root, 'scripts/fuzz/main.ts')],
  outfile: out,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['better-sqlite3', 'secp256k1', 'libsodium-wrappers-sumo', 'electron'],
  banner: {
    js: "import { createRequire as __cldcbCreateRequire } from 'node:module'; const require = __cldcbCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
const r = spawnSync(process.execPath, [out, ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);

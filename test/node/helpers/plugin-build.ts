/**
 * Build the plugin bundle (plugin/bin.ts → build/cldcb-plugin.mjs, what plugin/cldcb-plugin.mjs
 * runs) with the same esbuild settings as scripts/build.mjs, without building the other
 * programs (whose sources may be in progress). Written to a temp file and renamed, so a
 * concurrent build never leaves a half-written bundle. Also helpers to write wrappers.
 */
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { bytesToHex } from '../../../shared/bytes';
import { formatPluginWrapper } from '../../../shared/cldcb/wrapper';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const PLUGIN_SHIM = path.join(ROOT, 'plugin/cldcb-plugin.mjs');

/**
 * Bundle a TypeScript entry of this repository (path from the root) into `outRel` with the
 * esbuild settings of scripts/build.mjs; written to a temp file and renamed, so a concurrent
 * build never leaves a half-written bundle. @returns the absolute output path.
 */
export async function bundleNodeProgram(entryRel: string, outRel: string): Promise<string> {
  const out = path.join(ROOT, outRel);
  mkdirSync(path.dirname(out), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp.mjs`;
  await build({
    entryPoints: [path.join(ROOT, entryRel)],
    outfile: tmp,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['better-sqlite3', 'secp256k1', 'libsodium-wrappers-sumo', 'electron'],
    banner: { js: "import { createRequire as __cldcbCreateRequire } from 'node:module'; const require = __cldcbCreateRequire(import.meta.url);" },
    logLevel: 'warning',
  });
  renameSync(tmp, out);
  return out;
}

let built: Promise<void> | undefined;

export function buildPlugin(): Promise<void> {
  built ??= bundleNodeProgram('plugin/bin.ts', 'build/cldcb-plugin.mjs').then(() => undefined);
  return built;
}

export interface WrapperKeys {
  clientPrivateKey: Uint8Array;
  nodeId: Uint8Array;
  nodeSignature: Uint8Array;
  serverId: Uint8Array;
  host: string;
  port: number;
  proxy?: { host: string; port: number };
}

/** Write an executable wrapper that runs our plugin by absolute path (like installplugin). */
export function writeWrapper(file: string, k: WrapperKeys): string {
  const text = formatPluginWrapper(
    {
      clientPrivateKey: k.clientPrivateKey,
      nodeId: k.nodeId,
      nodeSignature: k.nodeSignature,
      serverId: k.serverId,
      server: { host: k.host, port: k.port },
      ...(k.proxy ? { proxy: k.proxy } : {}),
    },
    { command: [process.execPath, PLUGIN_SHIM] },
  );
  writeFileSync(file, text, { mode: 0o700 });
  chmodSync(file, 0o700);
  return file;
}

export const hex = bytesToHex;

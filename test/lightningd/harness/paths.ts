/** Paths of the tier: the repository root (from the source or a bundle under build/), its plugins, short run dirs. */
import { existsSync, mkdtempSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let d = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(d, 'package.json')) && existsSync(path.join(d, 'test/lightningd/plugins')))
      return d;
    const up = path.dirname(d);
    if (up === d) throw new Error(`cannot find the repository root above ${fileURLToPath(import.meta.url)}`);
    d = up;
  }
}

export const ROOT = findRoot();
export const PLUGINS_DIR = path.join(ROOT, 'test/lightningd/plugins');
export const BACKEND_PLUGIN = path.join(PLUGINS_DIR, 'fakechain-backend.mjs');
export const SHUTDOWN_SAVER_PLUGIN = path.join(PLUGINS_DIR, 'shutdown-saver.mjs');
/** The programs as package.json "bin" names them (each runs its bundle in build/). */
export const CLIENT_BIN = path.join(ROOT, 'cli/cldcb-client.mjs');
export const SERVER_BIN = path.join(ROOT, 'server/cldcb-server.mjs');

/**
 * A fresh directory under /tmp with a short name: lightningd's RPC socket path
 * (<dir>/<node>/regtest/lightning-rpc) must stay under 107 bytes (rig §2).
 */
export function shortTempDir(): string {
  return mkdtempSync('/tmp/cl-');
}

/** A TCP port that was free a moment ago on 127.0.0.1 (kept for a node's or server's whole life, so restarts reuse it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

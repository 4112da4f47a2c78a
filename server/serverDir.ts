/**
 * The server directory (cldcb-protocol §1.4): key files, pidfile and port file.
 *
 *   secret     raw 32-byte server private key, mode 0400, created on first start (never replaced)
 *   server_id  `# sid = 5[23]<64 hex>\n`, rewritten at every start (before listening)
 *   port       the port actually listened on, `<n>\n` (ours: for `--port=0`), after listening
 *   cldcb-server.pid  `<pid>\n` (default `--pidfile`), removed at clean exit
 */
import { existsSync, mkdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { zeroize } from '../shared/bytes';
import { isValidPrivateKey, nobleSecp } from '../shared/cldcb/curve';
import { formatServerId } from '../shared/cldcb/ids';
import { randomPrivateKey } from '../shared/noise/primitives';
import { CldcbError } from '../shared/errors';
import { writeFileAtomic } from '../electron/services/atomicFile';

export const SECRET_FILE = 'secret';
export const SERVER_ID_FILE = 'server_id';
export const PORT_FILE = 'port';
export const DEFAULT_PIDFILE = 'cldcb-server.pid';
export const DEFAULT_LOGFILE = 'debug.log';

/**
 * Create the server directory (mode 0700, one level, as the original) if it is missing.
 * @throws CldcbError io_error naming the directory.
 */
export function ensureServerDir(dir: string): void {
  try {
    if (!existsSync(dir)) mkdirSync(dir, { mode: 0o700 });
    if (!statSync(dir).isDirectory()) throw new CldcbError('io_error', `${dir} is not a directory.`);
  } catch (e) {
    if (e instanceof CldcbError) throw e;
    throw new CldcbError('io_error', `Cannot create the server directory ${dir}: ${(e as NodeJS.ErrnoException).code ?? 'I/O error'}.`);
  }
}

export interface ServerKey {
  /** 32-byte private key; zeroize at exit. */
  readonly privateKey: Uint8Array;
  /** 33-byte compressed public key. */
  readonly publicKey: Uint8Array;
  /** `52…`/`53…`. */
  readonly serverId: string;
  readonly created: boolean;
}

/**
 * Load `secret`, or create it (32 random bytes, mode 0400) when it does not exist, then
 * rewrite `server_id` atomically. An existing `secret` is never replaced.
 * @throws CldcbError bad_length / bad_input for an unusable secret file, io_error.
 */
export function loadOrCreateServerKey(dir: string): ServerKey {
  const file = path.join(dir, SECRET_FILE);
  let priv: Uint8Array;
  let created = false;
  let raw: Buffer | undefined;
  try {
    raw = readFileSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new CldcbError('io_error', `Cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? 'I/O error'}.`);
  }
  if (raw === undefined) {
    priv = randomPrivateKey();
    writeFileAtomic(file, priv, { mode: 0o400 });
    created = true;
  } else {
    priv = new Uint8Array(raw);
    raw.fill(0);
    if (priv.length !== 32) {
      zeroize(priv);
      throw new CldcbError('bad_length', `${file}: expected the 32-byte raw server key, found ${raw.length} bytes. It was not changed; restore it from a backup or move it away to make a new server identity.`);
    }
    if (!isValidPrivateKey(priv)) {
      zeroize(priv);
      throw new CldcbError('bad_input', `${file}: not a valid secp256k1 private key. It was not changed; restore it from a backup or move it away to make a new server identity.`);
    }
  }
  const publicKey = nobleSecp.publicKey(priv);
  const serverId = formatServerId(publicKey);
  writeFileAtomic(path.join(dir, SERVER_ID_FILE), `# sid = ${serverId}\n`, { mode: 0o644, overwrite: true });
  return { privateKey: priv, publicKey, serverId, created };
}

/** The pid in a pidfile, or null when missing/unreadable. */
export function readPidfile(file: string): number | null {
  try {
    const m = /^\s*(\d+)\s*$/.exec(readFileSync(file, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Is `pid` a running process (that we may signal)? A zombie (exited, not yet reaped) is not. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S …" — the state follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

/** Does `pid` look like a cldcb-server (Linux /proc; elsewhere: assume yes)? */
export function looksLikeServer(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('cldcb-server');
  } catch {
    return process.platform !== 'linux';
  }
}

/**
 * Refuse to start when the pidfile names another live cldcb-server.
 * @throws CldcbError file_exists naming the pid and the pidfile.
 */
export function checkPidfile(file: string): void {
  const pid = readPidfile(file);
  if (pid === null || pid === process.pid) return;
  if (processAlive(pid) && looksLikeServer(pid))
    throw new CldcbError('file_exists', `A cldcb-server is already running with pid ${pid} (${file}). Stop it first (cldcb-server stop), or use another --server-dir/--pidfile.`);
}

export function writePidfile(file: string): void {
  writeFileAtomic(file, `${process.pid}\n`, { mode: 0o644, overwrite: true });
}

/** Remove the pidfile if it still names this process. */
export function removePidfile(file: string): void {
  if (readPidfile(file) === process.pid) {
    try {
      unlinkSync(file);
    } catch {
      /* gone */
    }
  }
}

export function writePortFile(dir: string, port: number): void {
  writeFileAtomic(path.join(dir, PORT_FILE), `${port}\n`, { mode: 0o644, overwrite: true });
}

export function removePortFile(dir: string, port: number): void {
  const file = path.join(dir, PORT_FILE);
  try {
    if (readFileSync(file, 'utf8').trim() === String(port)) unlinkSync(file);
  } catch {
    /* gone */
  }
}

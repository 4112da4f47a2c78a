/**
 * The server directory (cldcb-protocol §1.4): key files, pidfile and port file.
 *
 *   secret     raw 32-byte server private key, mode 0400, created on first start (never replaced)
 *   server_id  `# sid = 5[23]<64 hex>\n`, rewritten at every start (before listening)
 *   port       the port actually listened on, `<n>\n` (ours: for `--port=0`), after listening
 *   cldcb-server.pid  `<pid>\n` (default `--pidfile`), removed at clean exit
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, readlinkSync, realpathSync, statSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { zeroize } from '../shared/bytes';
import { isValidPrivateKey, nobleSecp } from '../shared/cldcb/curve';
import { formatServerId } from '../shared/cldcb/ids';
import { randomPrivateKey } from '../shared/noise/primitives';
import { CldcbError } from '../shared/errors';
import { writeFileAtomic } from '../shared/node/atomicFile';

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
  /** The mode `secret` had when others could read or write it (it is now 0400); undefined when it was private. */
  readonly fixedMode?: number;
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
  let fixedMode: number | undefined;
  try {
    fixedMode = restrictSecretMode(file);
    raw = readFileSync(file);
  } catch (e) {
    if (e instanceof CldcbError) throw e;
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
  return { privateKey: priv, publicKey, serverId, created, ...(fixedMode !== undefined ? { fixedMode } : {}) };
}

/**
 * `secret` must be readable by the server's user only (the original creates it 0400). A
 * copy or a careless `chmod` can leave it readable by group or others; the server then
 * makes it 0400 and says so (its caller logs a warning naming the old mode). Refusing to
 * start instead would stop every node backing up here (their hooks fail closed), for a
 * mode that one chmod fixes. A file it cannot fix (another owner) is refused.
 * @returns the old mode when it was changed, else undefined. @throws ENOENT when missing;
 *   CldcbError io_error when the mode cannot be fixed.
 */
function restrictSecretMode(file: string): number | undefined {
  const st = statSync(file);
  const mode = st.mode & 0o777;
  if ((mode & 0o077) === 0) return undefined;
  try {
    chmodSync(file, 0o400);
  } catch (e) {
    throw new CldcbError(
      'io_error',
      `${file} is readable by others (mode ${mode.toString(8).padStart(4, '0')}) and cannot be made private (${(e as NodeJS.ErrnoException).code ?? 'error'}). Run: chmod 0400 ${file} — as its owner — then start again.`,
    );
  }
  return mode;
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

/**
 * Is `pid` the cldcb-server of server directory `dir`? A pidfile outlives a crashed
 * (kill -9) server, and its pid may since belong to anything else; signalling that process
 * (SIGHUP kills most programs) must not happen. So, on Linux: the process's command line
 * names cldcb-server and its working directory is `dir` — the daemon (ours and the
 * original) chdir()s into its server directory, which no unrelated process with a reused
 * pid shares by chance. Without /proc (not Linux) only kill(0) can be checked.
 * @returns null when it is, else why not (for the operator).
 */
export function notOurServer(pid: number, dir: string): string | null {
  if (!processAlive(pid)) return `pid ${pid} is not running`;
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return process.platform === 'linux' ? `pid ${pid} cannot be inspected` : null;
  }
  if (!cmdline.includes('cldcb-server')) return `pid ${pid} is another program (${cmdline.split('\0')[0]?.slice(0, 60) || '?'})`;
  let cwd: string;
  try {
    cwd = readlinkSync(`/proc/${pid}/cwd`);
  } catch (e) {
    return `pid ${pid} cannot be inspected (${(e as NodeJS.ErrnoException).code ?? 'error'}): run this as the server's user`;
  }
  let want = dir;
  try {
    want = realpathSync(dir);
  } catch {
    /* compare as given */
  }
  if (cwd !== want) return `pid ${pid} is a cldcb-server of another directory (${cwd})`;
  return null;
}

/**
 * Refuse to start when the pidfile names the live cldcb-server of this directory.
 * @throws CldcbError file_exists naming the pid and the pidfile.
 */
export function checkPidfile(file: string, dir: string): void {
  const pid = readPidfile(file);
  if (pid === null || pid === process.pid) return;
  if (notOurServer(pid, dir) === null)
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

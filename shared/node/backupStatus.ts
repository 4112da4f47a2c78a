/**
 * Where each backup server of a node stands, from the files beside lightningd's database (issue
 * 11, "the CLI and app show per-server state"): read by `cldcb-client status` and by the app's
 * Backup status screen — one reader. Offline: it talks to no server and never writes in the
 * directory.
 *
 * Per server of the wrapper (server 1, then `.2` … `.9`): its id and address, the last
 * data_version it acknowledged and when — the plugin's chain head for that server
 * (`cldcb-plugin.state` / `cldcb-plugin.<id>.state`, pluginState.ts; the file's mtime is the
 * moment of the last acknowledgement, since the plugin rewrites it after each one) — and its lag
 * against lightningd's database (`vars.data_version`, read through a read-only SQLite
 * connection: SQLite's locks make that safe while lightningd runs, and it creates no file). Then
 * the quorum, and what the after-stop helper found at the last stop (`cldcb-plugin.last-stop`,
 * shared/node/pluginShutdown.ts, whose reader this uses: one definition).
 *
 * What it cannot know: whether a server still holds what it acknowledged (only a recovery reads
 * the archives back: a drill), and writes of a plugin that runs right now and has not rewritten
 * its state file yet (the lag is then a moment old).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { WRAPPER_NAME } from './installCeremony';
import { decodeStateFile, stateBinding, stateFileName } from './pluginState';
import { zeroize } from '../bytes';
import { CldcbError } from '../errors';
import { formatClientId, formatHostPort, formatServerId } from '../cldcb/ids';
import { parsePluginWrapper, wrapperQuorum, wrapperServers, type PluginConfig } from '../cldcb/wrapper';
import { LOCK_FILE, readLastStop, type LastStop } from './pluginShutdown';

export const DB_FILE = 'lightningd.sqlite3';
/** How long to wait for lightningd's lock on its database (it holds it while it commits). */
const DB_BUSY_MS = 3000;

/**
 * Where a server stands against the database:
 *  - current: it acknowledged the database's data_version (or the write lightningd is committing);
 *  - behind: it acknowledged an older one (`lag` data_versions behind);
 *  - ahead: the database is older than what the server acknowledged — lightningd runs on an old
 *    copy of its database (the plugin refuses to write on it: stale_state);
 *  - none: no state file (nothing stored from this directory yet: a server new in the wrapper);
 *  - unbound: a state file for another client key or server, or damaged (the next write re-uploads);
 *  - unknown: the database's data_version could not be read.
 */
export type ServerStanding = 'current' | 'behind' | 'ahead' | 'none' | 'unbound' | 'unknown';

export interface ServerStatus {
  readonly index: number;
  readonly serverId: string;
  readonly address: string;
  readonly proxy?: string;
  readonly clientId: string;
  readonly stateFile: string;
  /** The last data_version the server acknowledged (undefined: none known). */
  readonly dataVersion?: number;
  /** When (the state file's mtime). */
  readonly acknowledgedAt?: Date;
  /** Database data_version minus the server's (signed 32-bit distance). */
  readonly lag?: number;
  readonly standing: ServerStanding;
}

export interface BackupStatus {
  readonly lightningDir: string;
  readonly wrapper: string;
  readonly database: { readonly file: string; readonly dataVersion?: number; readonly error?: string };
  readonly quorum: number;
  readonly servers: readonly ServerStatus[];
  readonly lastStop?: LastStop;
  /** The after-stop helper (or a stopping plugin) holds cldcb-plugin.lock. */
  readonly afterStopRunning: boolean;
  /** Servers current with the database (undefined: the database's data_version is unknown). */
  readonly current?: number;
}

/** The wrapper's configuration. @throws CldcbError naming the file and what to do. */
function readWrapper(dir: string): { file: string; cfg: PluginConfig } {
  const file = path.join(dir, WRAPPER_NAME);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      const hint = ['bitcoin', 'testnet', 'testnet4', 'signet', 'regtest'].find((n) => existsSync(path.join(dir, n, WRAPPER_NAME)));
      throw new CldcbError(
        'file_not_found',
        `${file}: no such file.${hint ? ` Give the network directory: --lightning-dir=${path.join(dir, hint)}` : ' The backup is not installed in this directory (cldcb-client installplugin writes the wrapper), or --lightning-dir is not lightningd\'s network directory.'}`,
      );
    }
    throw new CldcbError('file_not_found', `${file}: cannot read it (${code ?? 'I/O error'}). It holds the client private key: run status as the user who runs lightningd.`);
  }
  return { file, cfg: parsePluginWrapper(text, file) };
}

/** vars.data_version of lightningd's database, read-only. @returns the number or why not. */
function databaseDataVersion(file: string): { dataVersion?: number; error?: string } {
  if (!existsSync(file))
    throw new CldcbError('file_not_found', `${file}: no such file. --lightning-dir must be lightningd's network directory, the one holding ${DB_FILE} beside the wrapper.`);
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true, timeout: DB_BUSY_MS });
    const hasVars = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'vars'").get();
    const row = hasVars ? (db.prepare("SELECT intval FROM vars WHERE name = 'data_version'").get() as { intval: number | bigint | null } | undefined) : undefined;
    if (!row || row.intval === null) return { error: `${DB_FILE} has no data_version (vars table): not a lightningd database, or one lightningd never wrote to.` };
    return { dataVersion: Number(row.intval) };
  } catch (e) {
    const code = (e as { code?: string }).code ?? '';
    if (code === 'SQLITE_BUSY') return { error: `lightningd held its database locked for ${DB_BUSY_MS / 1000} s (a write in progress); run status again.` };
    if (code.startsWith('SQLITE_READONLY') || existsSync(`${file}-journal`))
      return { error: `${DB_FILE} has a hot journal: lightningd stopped in the middle of a write, and its next start rolls it back; the lag is known after that.` };
    return { error: `cannot read ${DB_FILE} (${(e as Error).message.split('\n')[0]}).` };
  } finally {
    db?.close();
  }
}

/** The signed distance a − b of two u32 data_versions. */
function u32Distance(a: number, b: number): number {
  const d = (a - b + 0x100000000) % 0x100000000;
  return d >= 0x80000000 ? d - 0x100000000 : d;
}

/** Read everything status shows. @throws CldcbError for a missing or unreadable wrapper or database. */
export function readBackupStatus(lightningDir: string): BackupStatus {
  const dir = path.resolve(lightningDir);
  const { file: wrapper, cfg } = readWrapper(dir);
  const entries = wrapperServers(cfg);
  try {
    const dbFile = path.join(dir, DB_FILE);
    const database = { file: dbFile, ...databaseDataVersion(dbFile) };
    const servers = entries.map((s, i): ServerStatus => {
      const stateFile = stateFileName(i, s.serverId);
      const base = {
        index: i + 1,
        serverId: formatServerId(s.serverId),
        address: formatHostPort(s.server),
        ...(s.proxy ? { proxy: formatHostPort(s.proxy) } : {}),
        clientId: formatClientId(s.clientId),
        stateFile,
      };
      const full = path.join(dir, stateFile);
      let bytes: Uint8Array;
      let mtime: Date;
      try {
        bytes = readFileSync(full);
        mtime = statSync(full).mtime;
      } catch {
        return { ...base, standing: 'none' };
      }
      const state = decodeStateFile(bytes, stateBinding(s.clientId, s.serverId));
      if (!state) return { ...base, standing: 'unbound' };
      const dv = state.head.dataVersion;
      const acked = { dataVersion: dv, acknowledgedAt: mtime };
      if (database.dataVersion === undefined) return { ...base, ...acked, standing: 'unknown' };
      const lag = u32Distance(database.dataVersion, dv);
      // -1: the server holds the write lightningd is committing right now.
      return { ...base, ...acked, lag, standing: lag === 0 || lag === -1 ? 'current' : lag > 0 ? 'behind' : 'ahead' };
    });
    const lastStop = readLastStop(dir);
    return {
      lightningDir: dir,
      wrapper,
      database,
      quorum: wrapperQuorum(cfg),
      servers,
      ...(lastStop ? { lastStop } : {}),
      afterStopRunning: existsSync(path.join(dir, LOCK_FILE)),
      ...(database.dataVersion !== undefined ? { current: servers.filter((s) => s.standing === 'current').length } : {}),
    };
  } finally {
    for (const s of entries) zeroize(s.clientPrivateKey);
  }
}

/** Where one server stands, in a sentence (the CLI's status and the app's screen). */
export function standingText(s: ServerStatus): string {
  switch (s.standing) {
    case 'current':
      return 'current';
    case 'behind':
      return `BEHIND by ${s.lag} data_version${s.lag === 1 ? '' : 's'}`;
    case 'ahead':
      return `the database is ${-s.lag!} data_versions OLDER than this backup: lightningd runs on an old copy of its database (the plugin refuses to write on it)`;
    case 'none':
      return `no backup from this directory yet (no ${s.stateFile}); lightningd's next write sends it the whole database`;
    case 'unbound':
      return `${s.stateFile} belongs to another client key or server, or is damaged; lightningd's next write sends it the whole database`;
    default:
      return 'lag unknown (see the database line)';
  }
}

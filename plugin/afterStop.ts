/**
 * `cldcb-plugin --after-stop WRAPPER LIGHTNINGD_PID`: the helper the plugin starts as it leaves
 * at lightningd's shutdown (shared/node/pluginShutdown.ts explains why). It runs detached, with no stdio,
 * in lightningd's network directory, holding `cldcb-plugin.lock`:
 *
 *  1. wait until lightningd (LIGHTNINGD_PID, the plugin's parent) has exited — its database is
 *     closed then (lightningd.c:1572);
 *  2. read the data_version the database ended at, compare it with the chain head;
 *  3. equal: the backup holds the final database. Newer: lightningd committed writes after it
 *     released the plugin — re-upload the database as it is now (our server), so the backup
 *     holds it;
 *  4. write what it found to `cldcb-plugin.last-stop` (the next start logs it) and release the lock.
 *
 * It never changes lightningd's files and never blocks lightningd: it starts after the plugin
 * left, and a plugin started meanwhile waits for the lock before reading its chain head.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { CldcbError } from '../shared/errors';
import { parsePluginWrapper, wrapperPolicy, wrapperQuorum, wrapperServers, type PluginConfig } from '../shared/cldcb/wrapper';
import { zeroize } from '../shared/bytes';
import { BackupSession } from './backup';
import { formatServerId } from '../shared/cldcb/ids';
import { stateFileName } from '../shared/node/pluginState';
import { DB_FILE, readDataVersion } from './snapshot';
import { EXIT_WAIT_MS, releaseLock, waitForExit, writeLastStop, type LastStop } from '../shared/node/pluginShutdown';
import { readFileSync } from 'node:fs';

/** The data_version lightningd's database file ended at. @throws CldcbError when it cannot be read as a clean file. */
export function finalDataVersion(dir: string): number {
  const file = path.join(dir, DB_FILE);
  // A journal left behind means lightningd died inside a transaction: the file is not its final
  // state until SQLite rolls the journal back, which only lightningd's next start should do.
  if (existsSync(`${file}-journal`) || existsSync(`${file}-wal`))
    throw new CldcbError('integrity_failed', `${DB_FILE} has a journal beside it: lightningd did not close its database cleanly.`);
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return readDataVersion(db);
  } finally {
    db.close();
  }
}

export interface AfterStopOptions {
  readonly exitWaitMs?: number;
  readonly deadlineMs?: number;
  readonly now?: () => number;
}

/** Steps 1–4 above. @returns what it recorded. */
export async function afterStop(cfg: PluginConfig, dir: string, lightningdPid: number, opts: AfterStopOptions = {}): Promise<LastStop> {
  const now = opts.now ?? (() => Math.floor(Date.now() / 1000));
  const record = (s: Omit<LastStop, 'time'>): LastStop => {
    const full = { time: now(), ...s };
    writeLastStop(dir, full);
    return full;
  };
  const servers = wrapperServers(cfg);
  // Several servers: a re-upload starts the server's archive again, so it must carry the sealed
  // policy as the plugin's would, or a recovery from that server alone could not know it is one
  // of n and would call its state verified (found by the tier's three-server scenario).
  const policy = wrapperPolicy(cfg);
  const sessions = servers.map(
    (server, i) =>
      new BackupSession({ ...server, nodeId: cfg.nodeId }, dir, () => {}, {
        stateFile: stateFileName(i, server.serverId),
        ...(policy ? { policy } : {}),
        ...(opts.deadlineMs !== undefined ? { deadlineMs: opts.deadlineMs } : {}),
      }),
  );
  try {
    // First say, sealed, that the node is stopping: if what follows cannot finish (the server
    // away, this helper killed), a recovery knows that lightningd's last writes may be missing.
    await Promise.all(sessions.map((session) => session.storeStopMarker('stopping').catch(() => false)));
    if (!(await waitForExit(lightningdPid, opts.exitWaitMs ?? EXIT_WAIT_MS)))
      return record({ outcome: 'unconfirmed', reason: `lightningd (PID ${lightningdPid}) had not exited ${Math.round((opts.exitWaitMs ?? EXIT_WAIT_MS) / 1000)} s after it let the plugin go.` });
    let final: number;
    try {
      final = finalDataVersion(dir);
    } catch (e) {
      return record({ outcome: 'unconfirmed', reason: `cannot read ${DB_FILE}: ${e instanceof CldcbError ? e.message : (e as Error).message}` });
    }
    const results = await Promise.all(sessions.map((session) => checkServer(session, final)));
    if (servers.length === 1) return record({ lightningdDataVersion: final, ...results[0]! });
    // Several servers: what matters is whether k of them hold the final database.
    const k = wrapperQuorum(cfg);
    const holding = results.filter((r) => r.outcome !== 'unconfirmed').length;
    const perServer = results.map((r, i) => ({ server: formatServerId(servers[i]!.serverId), ...r }));
    const outcome: LastStop['outcome'] = holding < k ? 'unconfirmed' : results.some((r) => r.outcome === 'repaired') ? 'repaired' : 'complete';
    return record({
      lightningdDataVersion: final,
      outcome,
      reason: `${holding} of ${servers.length} servers hold it (${k} needed). ${perServer.map((r, i) => `server ${i + 1}: ${r.outcome}${r.outcome === 'complete' ? '' : ` (${r.reason})`}`).join('; ')}`,
      servers: perServer,
    });
  } finally {
    for (const session of sessions) session.close();
  }
}

/**
 * One server: its chain ends at `final` (mark the stop as confirmed), or re-upload the database
 * there (its increment says `stopped`).
 */
async function checkServer(session: BackupSession, final: number): Promise<Omit<LastStop, 'time' | 'lightningdDataVersion'>> {
  const head = session.chainHead;
  if (!head) return { outcome: 'unconfirmed', reason: 'the plugin has no chain head for this server (nothing stored there from this directory yet).' };
  const base = { backupDataVersion: head.dataVersion };
  if (final === head.dataVersion) {
    const marked = await session.storeStopMarker('stopped').catch(() => false);
    return { ...base, outcome: 'complete', reason: marked ? 'nothing was written after the plugin left; the backup says so.' : 'nothing was written after the plugin left.' };
  }
  const ahead = (final - head.dataVersion) >>> 0;
  if (ahead >= 0x80000000) return { ...base, outcome: 'unconfirmed', reason: 'the database is older than the backup, which lightningd never does on its own; left as it is.' };
  try {
    const r = await session.storeFinalDatabase(final);
    if (r === 'original_server')
      return { ...base, outcome: 'unconfirmed', reason: `lightningd committed ${ahead} transaction(s) after the plugin left, and an original cldcb server cannot be asked for a re-upload.` };
    return { ...base, outcome: 'repaired', reason: `lightningd committed ${ahead} transaction(s) after the plugin left.` };
  } catch (e) {
    return { ...base, outcome: 'unconfirmed', reason: `lightningd committed ${ahead} transaction(s) after the plugin left, and the re-upload failed: ${e instanceof CldcbError ? e.message : 'unexpected error'}` };
  }
}

/** The process entry for `--after-stop`. @returns the exit code. */
export async function runAfterStop(wrapper: string, lightningdPid: number, deadlineMs: number): Promise<number> {
  const dir = process.cwd();
  // A service manager stopping lightningd (systemd's default KillMode=control-group) signals
  // every process left in the group once `lightning-cli stop` returned: finish the check (it is
  // bounded by EXIT_WAIT_MS and the upload deadline) instead of leaving the backup unconfirmed.
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => {});
  try {
    let cfg: PluginConfig;
    try {
      cfg = parsePluginWrapper(readFileSync(wrapper, 'utf8'), wrapper);
    } catch (e) {
      writeLastStop(dir, { time: Math.floor(Date.now() / 1000), outcome: 'unconfirmed', reason: `cannot read the wrapper: ${(e as Error).message}` });
      return 1;
    }
    try {
      const r = await afterStop(cfg, dir, lightningdPid, { deadlineMs });
      return r.outcome === 'unconfirmed' ? 1 : 0;
    } finally {
      for (const server of wrapperServers(cfg)) zeroize(server.clientPrivateKey);
    }
  } finally {
    releaseLock(dir, process.pid);
  }
}

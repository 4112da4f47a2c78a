/**
 * The rebuild (docs/shared design "Recovery, as data flows" §3–4), as a worker job:
 *
 *   pass 1  scan the archive: unseal everything, write the snapshot to a temp file in the
 *           target directory as it arrives, summarise each increment (archiveScan.ts)
 *   plan    which increments to replay; refuse a broken archive (chain.ts)
 *   pass 2  replay increment by increment into the temp database (replay.ts)
 *   checks  PRAGMA integrity_check = ok, PRAGMA foreign_key_check (reported),
 *           vars.data_version = the last increment's data_version
 *   commit  close, fsync, mode 0600, link into place without ever replacing an existing
 *           database (atomicFile.ts commitTempFile), fsync the directory.
 *
 * The temp file (and SQLite's -journal/-wal/-shm beside it) is removed on any failure or
 * cancel; temps left by a killed earlier run are removed at the start. At no moment does
 * a partial database exist under the target name.
 *
 * Pure data in and out (structured-clone), so it runs in a worker thread (`recovery.rebuild`
 * in electron/worker/jobs.ts) or inline.
 */
import { diskError } from './diskErrors';
import { closeSync, existsSync, fsyncSync, openSync, readdirSync, statSync, unlinkSync, chmodSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { CldcbError } from '../../errors';
import { zeroize } from '../../bytes';
import { commitTempFile, tempPathFor } from '../atomicFile';
import { scanArchive, cancelledError, type ScanResult } from './archiveScan';
import { planReplay, type ReplayPlan, type SnapshotSummary } from '../../cldcb/chain';
import type { RecoveryWarning } from './chain';
import { safeSqliteMessage } from './executor';
import { replayArchive, type ReplayStats } from './replay';
import { pipelineAvailable, runPipeline, type FeederLink } from './pipeline';
import { ReplayFallback } from './replayPlan';

/** What a job reports through `progress(done, total, note)`: `note` is this, as JSON. */
export type RebuildProgressNote =
  | { phase: 'scan'; bytes: number; total: number }
  | { phase: 'replay'; increments: number; total: number; statements: number; bytes: number }
  | { phase: 'check'; check: 'integrity_check' | 'foreign_key_check' | 'data_version' }
  | { phase: 'commit' };

/** The job context (same shape as workerPool.ts JobContext). */
export interface RebuildContext {
  progress(done: number, total: number, note?: string): void;
  cancelled(): boolean;
}

export interface RebuildInput {
  readonly archivePath: string;
  /** Node private key. The job zeroizes it when done: pass a copy. */
  readonly nodePriv: Uint8Array;
  /** Expected client, 33-byte compressed key (02/03). */
  readonly clientKey: Uint8Array;
  /** Where the database goes (e.g. DIR/lightningd.sqlite3). Not needed for analyzeOnly. */
  readonly targetPath?: string;
  /**
   * Leave the checked, fsynced database in its temp file beside the target (`database.path`)
   * instead of linking it into place: the caller decides where it goes (engine.ts puts a
   * database that may be stale aside) and removes it; a killed caller's leftover is removed by
   * the next run's {@link removeStaleTemps}.
   */
  readonly leaveTemp?: boolean;
  /** Scan and plan only (no temp file, no database): for comparing candidates. */
  readonly analyzeOnly?: boolean;
  /** Return the re-upload's client private key (for a fresh plugin wrapper). */
  readonly returnClientKey?: boolean;
  /** Stream keys derived beforehand on other cores (keys.ts); zeroized by the job. */
  readonly streamKeys?: Uint8Array;
  /** One pass on two cores (pipeline.ts) when a worker bundle is there. Default true. */
  readonly pipeline?: boolean;
  /** A feeder the caller started with this job (pipeline.ts startFeeder), used by the pipelined path. */
  readonly feeder?: FeederLink;
}

export interface DatabaseChecks {
  /** `['ok']` when PRAGMA integrity_check is clean; otherwise its first lines. */
  readonly integrity: string[];
  readonly foreignKeyViolations: number;
  readonly foreignKeyTables: string[];
  /** vars.data_version after the replay (null: no vars row). */
  readonly dataVersionFound: number | null;
}

export interface Timing {
  readonly step: string;
  readonly ms: number;
}

export interface RebuildOutput {
  readonly archive: { readonly path: string; readonly size: number; readonly mtimeMs: number };
  readonly snapshot: SnapshotSummary;
  /**
   * Increments stored in the archive. A count, not their summaries: copying 20,000
   * summaries between threads twice cost ~70 ms at the end of every rebuild.
   */
  readonly incrementsStored: number;
  readonly plan: ReplayPlan;
  /** Scan warnings then plan warnings. */
  readonly warnings: RecoveryWarning[];
  readonly replay?: ReplayStats;
  readonly checks?: DatabaseChecks;
  readonly database?: { readonly path: string; readonly bytes: number };
  readonly timings: Timing[];
  readonly clientPrivateKey?: Uint8Array;
  /** analyzeOnly: each replayed increment's data_version and statements hash, to compare servers. */
  readonly contents?: { readonly dataVersion: number; readonly bodyHash: string }[];
}

const TEMP_SUFFIXES = ['', '-journal', '-wal', '-shm'];

function removeQuietly(p: string): void {
  try {
    unlinkSync(p);
  } catch {
    /* not there */
  }
}

/** Remove temp files a killed earlier rebuild left for this target (`.<name>.<12 hex>.tmp[-journal|-wal|-shm]`). */
export function removeStaleTemps(target: string): string[] {
  const dir = path.dirname(target);
  const base = path.basename(target).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`^\\.${base}\\.[0-9a-f]{12}\\.tmp(-journal|-wal|-shm)?$`);
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  for (const n of names)
    if (re.test(n)) {
      removeQuietly(path.join(dir, n));
      removed.push(n);
    }
  return removed;
}

function note(ctx: RebuildContext, done: number, total: number, n: RebuildProgressNote): void {
  ctx.progress(done, total, JSON.stringify(n));
}

/**
 * Run the rebuild (or, with analyzeOnly, the scan and plan).
 * @throws CldcbError file_exists (target exists), not_authentic, truncated,
 *   archive_lost_writes, integrity_failed, cancelled, io_error, unsupported.
 */
export async function rebuildJob(input: RebuildInput, ctx: RebuildContext): Promise<RebuildOutput> {
  const timings: Timing[] = [];
  const t = (): number => performance.now();
  const nodePriv = input.nodePriv;
  let temp: string | undefined;
  let fd: number | undefined;
  let db: Database.Database | undefined;
  let scan: ScanResult | undefined;
  let doneKey: Uint8Array | undefined;
  try {
    if (!input.analyzeOnly) {
      if (!input.targetPath) throw new CldcbError('internal', 'rebuild without a target path (a bug in CLDCB).');
      if (existsSync(input.targetPath))
        throw new CldcbError('file_exists', `${input.targetPath} already exists. Nothing was overwritten; recover into an empty lightning directory or move the existing database away first.`);
      removeStaleTemps(input.targetPath);
      temp = tempPathFor(input.targetPath);
      try {
        fd = openSync(temp, 'wx', 0o600);
      } catch (e) {
        throw new CldcbError('io_error', `Cannot create a temporary file in ${path.dirname(input.targetPath)} (${(e as NodeJS.ErrnoException).code ?? 'I/O error'}). Check the directory exists and is writable.`);
      }
    }

    // Open the temp database once the snapshot is in it.
    let journal = 'delete';
    const openDb = (): Database.Database => {
      // No fsync here: the finished database is fsynced once before it is linked into place.
      closeSync(fd!);
      fd = undefined;
      db = new Database(temp!);
      try {
        journal = String(db.pragma('journal_mode', { simple: true }));
      } catch (e) {
        throw new CldcbError('integrity_failed', `The snapshot in the archive is not a usable SQLite database (${safeSqliteMessage((e as Error).message)}).`);
      }
      // As lightningd's connection (db_sqlite3.c): its ON DELETE CASCADE / SET NULL must happen here too.
      db.pragma('foreign_keys = ON');
      db.pragma('journal_mode = MEMORY');
      db.pragma('synchronous = OFF');
      db.pragma('cache_size = -16384');
      return db;
    };

    let t0 = t();
    let done: { archive: RebuildOutput['archive']; snapshot: SnapshotSummary; incrementsStored: number; plan: ReplayPlan; warnings: RecoveryWarning[]; stats: ReplayStats; clientPrivateKey?: Uint8Array } | undefined;
    if (!input.analyzeOnly && input.pipeline !== false && pipelineAvailable()) {
      // One pass on two cores (pipeline.ts).
      try {
        const r = runPipeline({
          ...(input.feeder ? { feeder: input.feeder } : {}),
          archivePath: input.archivePath,
          nodePriv,
          clientKey: input.clientKey,
          returnClientKey: Boolean(input.returnClientKey),
          snapshotFd: fd!,
          openDb,
          cancelled: () => ctx.cancelled(),
          progress: (phase, d, _total, statements, bytes) =>
            phase === 'scan' ? note(ctx, d, 0, { phase: 'scan', bytes: d, total: 0 }) : note(ctx, d, 0, { phase: 'replay', increments: d, total: 0, statements, bytes }),
        });
        db = r.db;
        doneKey = r.clientPrivateKey;
        done = {
          archive: { path: input.archivePath, size: r.size, mtimeMs: r.mtimeMs },
          snapshot: r.snapshot,
          incrementsStored: r.incrementsStored,
          plan: r.plan,
          warnings: [...r.warnings, ...r.plan.warnings],
          stats: r.stats,
          ...(r.clientPrivateKey ? { clientPrivateKey: r.clientPrivateKey } : {}),
        };
        timings.push({ step: 'unseal, verify and replay (pipelined)', ms: t() - t0 });
      } catch (e) {
        if (!(e instanceof ReplayFallback)) throw e;
        // Start again with the two-pass path, from an empty temp file.
        db = undefined;
        if (fd !== undefined) closeSync(fd);
        removeQuietly(temp!);
        for (const sfx of TEMP_SUFFIXES.slice(1)) removeQuietly(temp! + sfx);
        fd = openSync(temp!, 'wx', 0o600);
        t0 = t();
      }
    }

    if (!done) {
      // Pass 1
      scan = scanArchive(input.archivePath, {
        nodePriv,
        clientKey: input.clientKey,
        ...(fd !== undefined ? { snapshotFd: fd } : {}),
        returnClientKey: Boolean(input.returnClientKey) && !input.analyzeOnly,
        ...(input.streamKeys ? { streamKeys: input.streamKeys } : {}),
        // Analysing (the search): each replayed increment's content, to compare servers.
        ...(input.analyzeOnly ? { contentHashes: true } : {}),
        cancelled: () => ctx.cancelled(),
        progress: (b, total) => note(ctx, b, total, { phase: 'scan', bytes: b, total }),
      });
      timings.push({ step: 'unseal and verify', ms: t() - t0 });
      const plan = planReplay(scan.snapshot, scan.increments);
      const warnings = [...scan.warnings, ...plan.warnings];
      const base = {
        archive: { path: input.archivePath, size: scan.size, mtimeMs: scan.mtimeMs },
        snapshot: scan.snapshot,
        incrementsStored: scan.increments.length,
        plan,
        warnings,
        timings,
      };
      if (input.analyzeOnly) {
        const byIndex = new Map(scan.increments.map((d) => [d.index, d]));
        const contents = plan.replay.map((i) => ({ dataVersion: byIndex.get(i)!.dataVersion, bodyHash: byIndex.get(i)!.bodyHash! }));
        return { ...base, contents };
      }
      if (plan.fatal) throw new CldcbError(plan.fatal.code, plan.fatal.message);

      // Pass 2
      t0 = t();
      openDb();
      const stats = replayArchive(db!, input.archivePath, scan.incrementsOffset, scan.increments, plan, {
        nodePriv,
        clientKey: input.clientKey,
        cancelled: () => ctx.cancelled(),
        progress: (d, total, statements, bytes) => note(ctx, d, total, { phase: 'replay', increments: d, total, statements, bytes }),
        streamKeys: scan.streamKeys,
      });
      timings.push({ step: 'replay', ms: t() - t0 });
      done = { ...base, stats, ...(scan.clientPrivateKey ? { clientPrivateKey: scan.clientPrivateKey } : {}) };
    }
    const plan = done.plan;
    const stats = done.stats;
    if (!db) throw new CldcbError('internal', 'no database after the replay (a bug in CLDCB).');

    // Checks
    t0 = t();
    note(ctx, 0, 3, { phase: 'check', check: 'integrity_check' });
    const integrity = (db.pragma('integrity_check') as { integrity_check: string }[]).slice(0, 20).map((r) => r.integrity_check);
    if (ctx.cancelled()) throw cancelledError();
    note(ctx, 1, 3, { phase: 'check', check: 'foreign_key_check' });
    const fk = db.pragma('foreign_key_check') as { table: string }[];
    note(ctx, 2, 3, { phase: 'check', check: 'data_version' });
    let dataVersionFound: number | null = null;
    try {
      const row = db.prepare("SELECT intval FROM vars WHERE name = 'data_version'").get() as { intval: number | bigint | null } | undefined;
      dataVersionFound = row && row.intval !== null ? Number(row.intval) : null;
    } catch {
      dataVersionFound = null;
    }
    const checks: DatabaseChecks = {
      integrity,
      foreignKeyViolations: fk.length,
      foreignKeyTables: [...new Set(fk.map((r) => r.table))].sort(),
      dataVersionFound,
    };
    timings.push({ step: 'checks', ms: t() - t0 });
    if (integrity.length !== 1 || integrity[0] !== 'ok')
      throw new CldcbError('integrity_failed', `The rebuilt database fails PRAGMA integrity_check (${integrity.slice(0, 3).join('; ')}). Nothing was written.`);
    if (dataVersionFound !== plan.finalDataVersion)
      throw new CldcbError(
        'integrity_failed',
        `The rebuilt database has data_version ${dataVersionFound ?? 'none'} but the last increment is ${plan.finalDataVersion}: the replay did not reproduce lightningd's state. Nothing was written.`,
      );

    // Commit
    t0 = t();
    note(ctx, 0, 1, { phase: 'commit' });
    if (journal !== 'memory') db.pragma(`journal_mode = ${journal === 'wal' ? 'WAL' : 'DELETE'}`);
    db.close();
    db = undefined;
    for (const s of TEMP_SUFFIXES.slice(1)) removeQuietly(temp! + s);
    const wfd = openSync(temp!, 'r+');
    try {
      fsyncSync(wfd);
    } finally {
      closeSync(wfd);
    }
    chmodSync(temp!, 0o600);
    if (ctx.cancelled()) throw cancelledError();
    let finished: string;
    if (input.leaveTemp) {
      finished = temp!; // the caller links it into place (or aside) and removes it
      temp = undefined;
    } else {
      commitTempFile(temp!, input.targetPath!); // removes the temp itself, also on failure
      temp = undefined;
      finished = input.targetPath!;
    }
    timings.push({ step: 'commit', ms: t() - t0 });
    return {
      archive: done.archive,
      snapshot: done.snapshot,
      incrementsStored: done.incrementsStored,
      plan,
      warnings: done.warnings,
      timings,
      replay: stats,
      checks,
      database: { path: finished, bytes: statSync(finished).size },
      ...(done.clientPrivateKey ? { clientPrivateKey: done.clientPrivateKey } : {}),
    };
  } catch (e) {
    zeroize(scan?.clientPrivateKey, doneKey);
    if (e instanceof CldcbError) throw e;
    const disk = diskError(e);
    if (disk) throw disk;
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_'))
      throw new CldcbError('integrity_failed', `SQLite failed while rebuilding (${safeSqliteMessage((e as Error).message)}). Nothing was written.`);
    if (typeof code === 'string') throw new CldcbError('io_error', `I/O error while rebuilding (${code}). Nothing was written.`);
    throw e;
  } finally {
    if (fd !== undefined) closeSync(fd);
    if (db !== undefined) {
      try {
        if (db.inTransaction) db.exec('ROLLBACK');
      } catch {
        /* closing anyway */
      }
      db.close();
    }
    if (temp !== undefined) for (const s of TEMP_SUFFIXES) removeQuietly(temp + s);
    zeroize(nodePriv, input.streamKeys, scan?.streamKeys);
  }
}

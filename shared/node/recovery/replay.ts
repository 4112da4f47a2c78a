/**
 * Pass 2 of the two-pass rebuild: read the archive again from its first increment and run
 * the replay plan (replayPlan.ts, with pass 1's chain plan: each replayed increment its own
 * transaction) through the statement-naming executor (executor.ts). Streaming: statements
 * live only until their batch ran, so memory stays flat.
 *
 * Every replayed increment is unsealed again and its plaintext hash must equal pass 1's: the
 * file cannot change between the passes unnoticed.
 */
import { closeSync, openSync } from 'node:fs';
import type BetterSqlite3 from 'better-sqlite3';
import { CldcbError } from '../../errors';
import { ArchReader, type ArchEvent } from '../../cldcb/arch';
import type { IncrementSummary, ReplayPlan } from '../../cldcb/chain';
import { formatClientId } from '../../cldcb/ids';
import { IncrementStreams, type BoxCrypto } from '../../cldcb/seal';
import { nativeBoxCrypto } from '../nativeSeal';
import { sha256Stream, walkArchiveFile } from './archiveScan';
import { Executor, type ReplayStats } from './executor';
import { ReplayPlanner } from './replayPlan';

export type { ReplayStats } from './executor';

export interface ReplayOptions {
  readonly nodePriv: Uint8Array;
  readonly clientKey: Uint8Array;
  readonly crypto?: BoxCrypto;
  readonly cancelled?: () => boolean;
  /** Called after each replayed increment. */
  readonly progress?: (done: number, total: number, statements: number, bytes: number) => void;
  readonly what?: string;
  readonly batchChars?: number;
  /** Pass 1's stream keys (32 bytes per increment); without, each stream is opened from scratch. */
  readonly streamKeys?: Uint8Array;
}

/**
 * Apply pass 1's chain plan (`replay`: archive positions, in order; `restarts`; `missingBumps`)
 * from `path` into `db`.
 * @param incrementsOffset byte offset of the first increment (from pass 1).
 * @param summaries pass 1's summaries, by archive position.
 * @throws CldcbError archive_lost_writes (a statement failed: names increment, dv, statement,
 *   SQLite's reason), not_authentic (the file changed since pass 1, or a box does not open),
 *   cancelled, io_error.
 */
export function replayArchive(
  db: BetterSqlite3.Database,
  path: string,
  incrementsOffset: number,
  summaries: readonly IncrementSummary[],
  chain: Pick<ReplayPlan, 'replay' | 'restarts' | 'missingBumps'>,
  opts: ReplayOptions,
): ReplayStats {
  const plan = chain.replay;
  const crypto = opts.crypto ?? nativeBoxCrypto();
  const what = opts.what ?? `archive ${formatClientId(opts.clientKey)}.arch`;
  const keyAt = (i: number): Uint8Array | undefined => {
    const k = opts.streamKeys?.subarray(i * 32, i * 32 + 32);
    return k && k.length === 32 && k.some((x) => x !== 0) ? k.slice() : undefined;
  };
  const lastIndex = plan.length > 0 ? plan[plan.length - 1]! : -1;
  const executor = new Executor(db, what, (_n, s) => opts.progress?.(s.increments, plan.length, s.statements, s.bytes));
  if (lastIndex < 0) return executor.stats;

  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new CldcbError('io_error', `${path}: cannot open the archive again (${(e as NodeJS.ErrnoException).code ?? 'I/O error'}).`);
  }
  const streams = new IncrementStreams(opts.nodePriv, opts.clientKey, crypto, keyAt);
  try {
    const reader = new ArchReader({ checkFooters: false, what, views: true });
    // The reader expects a re-upload section first: give it an empty one and start at the increments.
    reader.push(new Uint8Array(2));
    const planner = new ReplayPlanner(
      { emit: (c) => executor.run(c), handedOff: 0 },
      {
        what,
        streams,
        hash: sha256Stream,
        ...(opts.batchChars ? { batchChars: opts.batchChars } : {}),
        known: { plan: chain, summaries },
      },
    );
    let done = false;
    const onEvent = (e: ArchEvent): boolean => {
      if (e.type === 'incrementStart') planner.incrementStart(e.dataVersion, e.offset);
      else if (e.type === 'incrementChunk') planner.incrementChunk(e.chunk);
      else if (e.type === 'incrementEnd') done = planner.incrementEnd().index === lastIndex;
      return done;
    };
    try {
      walkArchiveFile(fd, reader, { from: incrementsOffset, ...(opts.cancelled ? { cancelled: opts.cancelled } : {}), onEvent });
    } catch (e) {
      if (db.inTransaction) db.exec('ROLLBACK');
      // A file cut before its first increment: shorter than pass 1 read it (said below).
      if (!(e instanceof CldcbError && e.code === 'truncated')) throw e;
    }
    if (executor.stats.increments !== plan.length)
      throw new CldcbError('not_authentic', `${what}: the archive became shorter while it was being read (${executor.stats.increments} of ${plan.length} increments replayed). Nothing was written; copy the archive again.`);
    return executor.stats;
  } finally {
    streams.dispose();
    closeSync(fd);
  }
}

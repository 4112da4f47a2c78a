/**
 * The pipelined rebuild: one pass over the archive, on two cores.
 *
 *   feeder thread (`recovery.feed` job)          SQLite thread (the rebuild job)
 *   ───────────────────────────────────          ───────────────────────────────
 *   read, frame, unseal (ECDH, signature, tags)  write the snapshot to the temp file
 *   hash the snapshot, decode the statements     run the commands (executor.ts):
 *   plan the chain and the replay as it goes     BEGIN / SAVEPOINT / exec() / COMMIT
 *   (replayPlan.ts, online)                      (nothing else: it only executes)
 *
 * Why: unsealing, hashing and planning cost about as much as SQLite's work; in one thread
 * the two add up, here they overlap. The feeder sends the plan's commands through a
 * MessageChannel (snapshot pieces transferred without copying; each message's statement
 * batches merged into one exec() and copied once, by coalesce()), at most 64 messages or
 * 8 MiB in flight (flat memory); the SQLite thread takes them synchronously (Atomics.wait +
 * receiveMessageOnPort).
 *
 * The rules of where each statement runs, and when the rebuild goes back to the two-pass path
 * (rebuild.ts starts again from an empty temp file), are the replay plan's (replayPlan.ts);
 * the SQLite side adds one: a merged batch that fails or is not UTF-8 (a good archive never
 * fails; the two-pass path names the statement).
 */
import { closeSync, fstatSync, openSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';
import { CldcbError, isErrorCode, toErrorData } from '../../errors';
import { bytesToHex, zeroize } from '../../bytes';
import type { ArchEvent } from '../../cldcb/arch';
import type { ReplayPlan, SnapshotSummary } from '../../cldcb/chain';
import { checkPubkey, formatClientId } from '../../cldcb/ids';
import { ReuploadOpener } from '../../cldcb/plaintexts';
import { IncrementStreams } from '../../cldcb/seal';
import { nativeBoxCrypto } from '../nativeSeal';
import { findFeederScript, findWorkerScript } from '../workerPool';
import { cancelledError, footerWarning, recoveryArchReader, sha256Stream, tornTailWarning, walkArchiveFile, writeAll } from './archiveScan';
import type { RecoveryWarning } from './chain';
import { Executor, safeSqliteMessage, type BatchCommand, type ReplayStats } from './executor';
import { ReplayFallback, ReplayPlanner, type PlanCommand } from './replayPlan';

/** Messages (each a batch of commands), and KiB of SQL and snapshot, in flight before the feeder waits. */
const MAX_IN_FLIGHT = 64;
const MAX_KIB_IN_FLIGHT = 8 * 1024;
/** A message goes out when it holds this many commands or KiB (one wake-up per batch, not per command). */
const FLUSH_COMMANDS = 256;
const FLUSH_KIB = 1024;
/** State slots (Int32Array over a SharedArrayBuffer). */
const SENT = 0;
const DONE = 1;
const CANCEL = 2;
const KIB_SENT = 3;
const KIB_DONE = 4;

/** KiB a command carries (for the flow control). */
function kib(c: Pending): number {
  if (c.t === 'snap') return c.b.length >> 10;
  if (c.t === 'out') return c.sql.length >> 10;
  if (c.t === 'xParts') return c.bytes >> 10;
  return 0;
}

/** What crosses to the SQLite thread: the plan's commands (statement batches merged: coalesce()) and the feeder's own. */
type Command =
  | Exclude<PlanCommand, { t: 'xParts' }>
  | BatchCommand
  | { t: 'snap'; b: Uint8Array }
  | { t: 'snapEnd' }
  | { t: 'end'; result: FeedResult }
  | { t: 'error'; code: string; message: string }
  | { t: 'fallback'; reason: string };

export interface FeedResult {
  readonly size: number;
  readonly mtimeMs: number;
  readonly snapshot: SnapshotSummary;
  /** Increments stored (their summaries stay in the feeder: see RebuildOutput.incrementsStored). */
  readonly incrementsStored: number;
  readonly warnings: RecoveryWarning[];
  readonly plan: ReplayPlan;
  readonly clientPrivateKey?: Uint8Array;
}

export interface FeedInput {
  readonly archivePath: string;
  /** Zeroized by the feeder: pass a copy. */
  readonly nodePriv: Uint8Array;
  readonly clientKey: Uint8Array;
  readonly returnClientKey: boolean;
  readonly port: MessagePort;
  readonly state: SharedArrayBuffer;
  readonly batchChars?: number;
}

// ---------------------------------------------------------------------------------------------
// Feeder (runs in its own worker thread)

/** The `recovery.feed` job. Everything, including errors, goes through `input.port`. */
export function feedJob(input: FeedInput): void {
  const state = new Int32Array(input.state);
  const port = input.port;
  let pending: Pending[] = [];
  let pendingKib = 0;
  let flushes = 0;
  const flush = (): void => {
    if (pending.length === 0) return;
    flushes++;
    while (
      Atomics.load(state, SENT) - Atomics.load(state, DONE) >= MAX_IN_FLIGHT ||
      Atomics.load(state, KIB_SENT) - Atomics.load(state, KIB_DONE) >= MAX_KIB_IN_FLIGHT
    ) {
      if (Atomics.load(state, CANCEL) !== 0) throw cancelledError();
      Atomics.wait(state, DONE, Atomics.load(state, DONE), 200);
    }
    const out = coalesce(pending);
    const message: Message = { kib: pendingKib, commands: out };
    port.postMessage(message, transfersOf(out));
    if (pendingKib > 0) Atomics.add(state, KIB_SENT, pendingKib);
    Atomics.add(state, SENT, 1);
    Atomics.notify(state, SENT);
    pending = [];
    pendingKib = 0;
  };
  const post = (c: Pending): void => {
    pending.push(c);
    pendingKib += kib(c);
    if (
      c.t === 'end' ||
      c.t === 'error' ||
      c.t === 'fallback' ||
      pending.length >= FLUSH_COMMANDS ||
      pendingKib >= FLUSH_KIB
    )
      flush();
  };
  try {
    feed(input, post, () => Atomics.load(state, CANCEL) !== 0, () => flushes);
  } catch (e) {
    const d = toErrorData(e);
    try {
      post({ t: 'error', code: d.code, message: d.message });
    } catch {
      /* cancelled meanwhile */
    }
  } finally {
    zeroize(input.nodePriv);
    port.close();
  }
}

type PartsCommand = Extract<PlanCommand, { t: 'xParts' }>;
/** What the feeder queues for the next message. */
type Pending = Command | PartsCommand;
/** One message to the SQLite thread; `kib` is what it counted against MAX_KIB_IN_FLIGHT. */
interface Message {
  kib: number;
  commands: Command[];
}
type EndCommand = Extract<Command, { t: 'incEnd' }>;

/**
 * Fewer, larger commands for a message: statement batches ('x') separated only by dropped
 * savepoints and increment ends become one batch (one exec() on the SQLite side instead of
 * one per small increment), and consecutive increment ends one total. The merged batch keeps
 * the first one's names; a failing batch sends the rebuild to the two-pass path, which names
 * the failing statement itself.
 */
export function coalesce(cmds: readonly Pending[]): Command[] {
  const out: Command[] = [];
  let xs: PartsCommand[] = [];
  let ends: EndCommand | undefined;
  const emit = (): void => {
    if (xs.length > 0) {
      let bytes = 0;
      for (const x of xs) bytes += x.bytes;
      // Statements of one plaintext lie 8 bytes apart (their u64 lengths between them): such
      // a run is copied with one set() and each gap becomes ";\n" and blanks (one call per
      // increment instead of one per statement; the SQL differs only in whitespace).
      const sql = new Uint8Array(bytes + 8 * countParts(xs));
      let o = 0;
      for (const x of xs) {
        const ps = x.parts;
        for (let k = 0; k < ps.length; ) {
          const first = ps[k]!;
          let end = first.byteOffset + first.length;
          let j = k + 1;
          while (j < ps.length && ps[j]!.buffer === first.buffer && ps[j]!.byteOffset === end + 8) {
            end = ps[j]!.byteOffset + ps[j]!.length;
            j++;
          }
          sql.set(new Uint8Array(first.buffer, first.byteOffset, end - first.byteOffset), o);
          // Gaps inside the run: overwrite each 8-byte length with ";\n" + 6 spaces.
          for (let m = k; m < j - 1; m++) {
            const g = o + (ps[m]!.byteOffset + ps[m]!.length - first.byteOffset);
            sql[g] = 0x3b;
            sql[g + 1] = 0x0a;
            sql[g + 2] = sql[g + 3] = sql[g + 4] = sql[g + 5] = sql[g + 6] = sql[g + 7] = 0x20; // no fill() call per statement
          }
          o += end - first.byteOffset;
          sql[o] = 0x3b; // ;
          sql[o + 1] = 0x0a; // \n
          o += 2;
          k = j;
        }
      }
      out.push({ t: 'x', i: xs[0]!.i, dv: xs[0]!.dv, sql: o === sql.length ? sql : sql.subarray(0, o) });
    }
    xs = [];
    if (ends) out.push(ends);
    ends = undefined;
  };
  for (const c of cmds) {
    if (c.t === 'xParts' && c.alone) {
      emit();
      xs.push(c);
      emit();
    } else if (c.t === 'xParts') xs.push(c);
    else if (c.t === 'sp' && c.skip) continue;
    else if (c.t === 'incEnd')
      ends = ends
        ? { ...ends, n: ends.n + c.n, statements: ends.statements + c.statements, outside: ends.outside + c.outside, bytes: ends.bytes + c.bytes }
        : c;
    else {
      emit();
      out.push(c);
    }
  }
  emit();
  return out;
}

/** Statements in these batches (an upper bound for the gaps a merged copy may keep). */
function countParts(xs: readonly PartsCommand[]): number {
  let n = 0;
  for (const x of xs) n += x.parts.length;
  return n;
}

/** The buffers a message moves instead of copying (each command owns its arrays). */
function transfersOf(cmds: readonly Command[]): ArrayBuffer[] {
  const t: ArrayBuffer[] = [];
  for (const c of cmds)
    if (c.t === 'x') t.push(c.sql.buffer as ArrayBuffer);
    else if (c.t === 'out') t.push(c.sql.buffer as ArrayBuffer, c.lens.buffer as ArrayBuffer);
    else if (c.t === 'snap') t.push(c.b.buffer as ArrayBuffer);
  return t;
}

function feed(input: FeedInput, post: (c: Pending) => void, cancelled: () => boolean, flushes: () => number): void {
  const clientKey = checkPubkey(input.clientKey, 'client key');
  const what = `archive ${formatClientId(clientKey)}.arch`;
  const crypto = nativeBoxCrypto();
  let fd: number;
  try {
    fd = openSync(input.archivePath, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CldcbError(code === 'ENOENT' ? 'file_not_found' : 'io_error', `${input.archivePath}: cannot open the archive (${code ?? 'I/O error'}).`);
  }
  let clientPriv: Uint8Array | undefined;
  const reupload = new ReuploadOpener(input.nodePriv, clientKey, { crypto, what, keepClientKey: input.returnClientKey });
  const streams = new IncrementStreams(input.nodePriv, clientKey, crypto);
  try {
    const st = fstatSync(fd);
    const reader = recoveryArchReader(what);
    const warnings: RecoveryWarning[] = [];
    const snapSha = createHash('sha256');
    let snapshot: SnapshotSummary | undefined;
    let snapshotSize = 0;
    const plan = new ReplayPlanner(
      {
        emit: post,
        get handedOff() {
          return flushes();
        },
      },
      { what, streams, hash: sha256Stream, ...(input.batchChars ? { batchChars: input.batchChars } : {}) },
    );
    const onEvent = (e: ArchEvent): void => {
      switch (e.type) {
        case 'reuploadChunk': {
          const pt = reupload.open(e.chunk);
          if (pt === undefined) break; // the header
          snapSha.update(pt);
          snapshotSize += pt.length;
          post({ t: 'snap', b: pt.byteOffset === 0 && pt.byteLength === pt.buffer.byteLength ? pt : pt.slice() });
          break;
        }
        case 'reuploadEnd':
          reupload.end();
          snapshot = { reuploadDataVersion: reupload.dataVersion, chainHash: bytesToHex(reupload.chainValue(new Uint8Array(snapSha.digest()))), size: snapshotSize };
          clientPriv = reupload.takeClientKey();
          plan.snapshot(snapshot);
          post({ t: 'snapEnd' });
          break;
        case 'incrementStart':
          plan.incrementStart(e.dataVersion, e.offset);
          break;
        case 'incrementChunk':
          plan.incrementChunk(e.chunk);
          break;
        case 'incrementEnd': {
          const d = plan.incrementEnd(e.footer);
          const fw = footerWarning(d.index, d.framingDv, e.footer!);
          if (fw) warnings.push(fw);
          break;
        }
      }
    };
    const torn = walkArchiveFile(fd, reader, { onEvent, cancelled });
    if (torn !== undefined) {
      plan.dropIncomplete();
      warnings.push(tornTailWarning(what, plan.summaries[plan.summaries.length - 1]!, torn));
    }
    if (!snapshot) throw new CldcbError('truncated', `${what}: no re-upload section.`);
    const chain = plan.finish()!;
    if (chain.fatal) throw new CldcbError(chain.fatal.code, chain.fatal.message);
    const result: FeedResult = {
      size: st.size,
      mtimeMs: st.mtimeMs,
      snapshot,
      incrementsStored: plan.count,
      warnings,
      plan: chain,
      ...(clientPriv ? { clientPrivateKey: clientPriv } : {}),
    };
    post({ t: 'end', result });
  } catch (e) {
    zeroize(clientPriv);
    if (e instanceof ReplayFallback) {
      post({ t: 'fallback', reason: e.message });
      return;
    }
    throw e;
  } finally {
    reupload.dispose();
    streams.dispose();
    closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------------------
// SQLite side (runs in the rebuild job's thread)

export interface PipelineOptions {
  readonly archivePath: string;
  readonly nodePriv: Uint8Array;
  readonly clientKey: Uint8Array;
  readonly returnClientKey: boolean;
  /** Temp file the snapshot goes to (created by the caller, fd open for writing). */
  readonly snapshotFd: number;
  /** Opens the database once the snapshot is written (after fsync and close of snapshotFd). */
  readonly openDb: () => BetterSqlite3.Database;
  readonly cancelled: () => boolean;
  readonly progress: (
    phase: 'scan' | 'replay',
    done: number,
    total: number,
    statements: number,
    bytes: number,
  ) => void;
  readonly batchChars?: number;
  /** A feeder started earlier (startFeeder) by whoever started this thread; otherwise one is started here. */
  readonly feeder?: FeederLink;
}

/** The SQLite side's end of a running feeder: transferable to the thread that runs runPipeline. */
export interface FeederLink {
  readonly port: MessagePort;
  /** The flow-control slots (SENT, DONE, CANCEL, KIB_*). */
  readonly state: SharedArrayBuffer;
  /** The feeder job's cancel flag (workerPool convention). */
  readonly cancel: SharedArrayBuffer;
}

export interface Feeder {
  /** Hand this to runPipeline (transfer `link.port`). */
  readonly link: FeederLink;
  /** Stop the feeder if it still runs (call when the rebuild ended, however it ended). */
  stop(): void;
}

/**
 * Start the feeder thread. The rebuild's own thread starts it otherwise, but a thread
 * takes ~50 ms to boot with the worker bundle: started by the caller together with the
 * rebuild's thread, the two boots overlap (measured in scripts/bench/recover.bench.ts).
 */
export function startFeeder(i: Pick<PipelineOptions, 'archivePath' | 'nodePriv' | 'clientKey' | 'returnClientKey' | 'batchChars'>): Feeder {
  const { port1, port2 } = new MessageChannel();
  const state = new SharedArrayBuffer(32);
  const cancel = new SharedArrayBuffer(4);
  const feedInput: FeedInput = {
    archivePath: i.archivePath,
    nodePriv: new Uint8Array(i.nodePriv),
    clientKey: i.clientKey,
    returnClientKey: i.returnClientKey,
    port: port2,
    state,
    ...(i.batchChars ? { batchChars: i.batchChars } : {}),
  };
  let worker: Worker | undefined;
  try {
    worker = new Worker(findFeederScript(), {
      workerData: { job: 'recovery.feed', input: feedInput, cancel },
      transferList: [port2],
      // A small young generation: the feeder allocates fast and briefly; this keeps RSS flat.
      resourceLimits: { maxYoungGenerationSizeMb: 8 },
    });
  } finally {
    zeroize(feedInput.nodePriv);
  }
  const w = worker;
  w.on('error', () => undefined); // its errors reach the rebuild through the port; never crash the caller
  return {
    link: { port: port1, state, cancel },
    stop: () => {
      // Never worker.terminate() here: the feeder may be inside a libsecp256k1 call, and
      // terminating a thread in that binding aborts the whole process ("terminate called
      // after throwing an instance of 'Napi::Error'"). The feeder checks these flags at
      // least every 200 ms (each block read, each flow-control wait) and ends its job; the
      // thread then exits by itself, and unref() keeps it from holding the process open.
      Atomics.store(new Int32Array(cancel), 0, 1);
      const st = new Int32Array(state);
      Atomics.store(st, CANCEL, 1);
      Atomics.notify(st, DONE);
      Atomics.notify(st, SENT);
      port1.close();
      w.unref();
    },
  };
}

export interface PipelineResult extends FeedResult {
  readonly db: BetterSqlite3.Database;
  readonly stats: ReplayStats;
}

/** Is the pipelined rebuild available here (a worker bundle to start the feeder from)? */
export function pipelineAvailable(): boolean {
  try {
    findWorkerScript();
    return true;
  } catch {
    return false;
  }
}

/**
 * Run the feeder thread and execute its commands.
 * @throws ReplayFallback when the two-pass path must be used; CldcbError otherwise.
 */
export function runPipeline(o: PipelineOptions): PipelineResult {
  const own = o.feeder ? undefined : startFeeder(o);
  const { port: port1, state: sab, cancel } = o.feeder ?? own!.link;
  const state = new Int32Array(sab);
  let db: BetterSqlite3.Database | undefined;
  let executor: Executor | undefined;
  let snapBytes = 0;
  let lastSent = 0;
  let idle = 0;
  try {
    for (;;) {
      if (o.cancelled()) throw cancelledError();
      const m = receiveMessageOnPort(port1);
      if (!m) {
        const sent = Atomics.load(state, SENT);
        if (sent === lastSent) {
          Atomics.wait(state, SENT, sent, 200);
          if (Atomics.load(state, SENT) === sent && ++idle > 600)
            throw new CldcbError('internal', 'The rebuild feeder stopped answering (a bug in CLDCB).');
        }
        lastSent = Atomics.load(state, SENT);
        continue;
      }
      idle = 0;
      const { kib: k, commands: batch } = m.message as Message;
      if (k > 0) Atomics.add(state, KIB_DONE, k);
      Atomics.add(state, DONE, 1);
      Atomics.notify(state, DONE);
      for (const c of batch) {
        switch (c.t) {
          case 'snap':
            writeAll(o.snapshotFd, c.b);
            snapBytes += c.b.length;
            o.progress('scan', snapBytes, 0, 0, 0);
            break;
          case 'snapEnd': {
            db = o.openDb();
            // Deferred constraints in the snapshot's schema: commit each increment on its own (two-pass path).
            let defers: boolean;
            try {
              defers = db.prepare("SELECT 1 FROM sqlite_master WHERE sql LIKE '%DEFERRED%' LIMIT 1").get() !== undefined;
            } catch (e) {
              throw new CldcbError('integrity_failed', `The snapshot in the archive is not a usable SQLite database (${safeSqliteMessage((e as Error).message)}).`);
            }
            if (defers) throw new ReplayFallback('the snapshot declares deferred constraints');
            // Progress every 256 increments (the worker throttles to 50 ms too): a report per
            // small increment cost as much as replaying it.
            executor = new Executor(db, `archive ${formatClientId(o.clientKey)}.arch`, (n, st) => {
              if ((st.increments & ~255) !== ((st.increments - n) & ~255)) o.progress('replay', st.increments, 0, st.statements, st.bytes);
            });
            break;
          }
          case 'end': {
            if (db?.inTransaction) throw new CldcbError('internal', 'the feeder ended inside a transaction (a bug in CLDCB).');
            const r = c.result;
            return { ...r, db: db!, stats: { ...(executor?.stats ?? { increments: 0, statements: 0, outsidePragmas: 0, synthesizedBumps: 0, bytes: 0 }), increments: r.plan.replay.length } };
          }
          case 'error':
            throw new CldcbError(isErrorCode(c.code) ? c.code : 'internal', c.message);
          case 'fallback':
            throw new ReplayFallback(c.reason);
          default:
            executor!.run(c);
        }
      }
    }
  } catch (e) {
    Atomics.store(new Int32Array(cancel), 0, 1);
    Atomics.store(state, CANCEL, 1);
    Atomics.notify(state, DONE);
    if (db) {
      try {
        if (db.inTransaction) db.exec('ROLLBACK');
      } catch {
        /* closing anyway */
      }
      db.close();
    }
    throw e;
  } finally {
    port1.close();
    own?.stop();
  }
}

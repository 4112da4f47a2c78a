/**
 * The pipelined rebuild: one pass over the archive, on two cores.
 *
 *   feeder thread (`recovery.feed` job)          SQLite thread (the rebuild job)
 *   ───────────────────────────────────          ───────────────────────────────
 *   read, frame, unseal (ECDH, signature, tags)  write the snapshot to the temp file
 *   hash the snapshot, decode the statements     BEGIN / SAVEPOINT / exec() / COMMIT
 *   plan the chain as it goes (ChainPlanner)     (nothing else: it only executes)
 *
 * Why: unsealing, hashing and planning cost about as much as SQLite's work; in one thread
 * the two add up, here they overlap. The feeder sends commands through a MessageChannel
 * (snapshot pieces transferred without copying; each message's statement batches merged into
 * one exec() and copied once, by coalesce()), at most 64 messages or 8 MiB in flight (flat
 * memory); the SQLite thread takes them synchronously (Atomics.wait + receiveMessageOnPort).
 *
 * Same decisions as the two-pass rebuild (chain.ts rules, one planner). A transaction spans
 * data_version runs and is committed at a run boundary every TX_INCREMENTS increments or
 * TX_KIB of SQL (a transaction and a savepoint per small increment each cost as much as its
 * statements; the bound keeps SQLite's in-memory journal small). Each increment gets a
 * savepoint unless the next increment's data_version shows no redo can cut it, so an
 * increment is applied as it arrives and a redo (a repeated data_version with the bump) rolls
 * back to the savepoint of the increment it replaces. Increments repeating a data_version are
 * held until their end (they may be redos). Foreign keys are ON, as on lightningd's
 * connection, and PRAGMA statements run where lightningd ran them, outside any transaction
 * (replay.ts): an increment's leading PRAGMAs before its BEGIN (committing the transaction
 * before), its trailing ones after COMMIT, a PRAGMA-only increment wholly outside; before a
 * redo (lightningd restarted) the transaction is committed and foreign keys set ON again.
 *
 * Anything unusual sends the rebuild back to the two-pass path (rebuild.ts starts again from
 * an empty temp file): a cut that would reach behind a committed point (impossible with
 * lightningd: a PRAGMA after a transaction means it committed) or needs a savepoint that was
 * left out (the unauthenticated framing named another data_version), and any batch that
 * fails or is not UTF-8 (a good archive never fails; the two-pass path names the statement).
 */
import { diskError } from './diskErrors';
import { closeSync, fstatSync, openSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';
import { CldcbError, isErrorCode, toErrorData } from '../../../shared/errors';
import { bytesToHex, zeroize } from '../../../shared/bytes';
import type { ArchEvent } from '../../../shared/cldcb/arch';
import { checkPubkey, formatClientId } from '../../../shared/cldcb/ids';
import { IncrementReader, ReuploadOpener } from '../../../shared/cldcb/plaintexts';
import { IncrementStreams } from '../../../shared/cldcb/seal';
import { nativeBoxCrypto } from '../nativeSeal';
import { findFeederScript, findWorkerScript } from '../workerPool';
import {
  cancelledError,
  footerWarning,
  recoveryArchReader,
  sha256Stream,
  tornTailWarning,
  walkArchiveFile,
  writeAll,
} from './archiveScan';
import { ChainPlanner, summarizeIncrement, type IncrementSummary, type ReplayPlan, type SnapshotSummary } from '../../../shared/cldcb/chain';
import type { RecoveryWarning } from './chain';
import { isPragmaBytes, StatementBytesFacts, statementWords } from '../../../shared/cldcb/statements';
import { BATCH_CHARS, safeSqliteMessage, type ReplayStats } from './replay';

/** Messages (each a batch of commands), and KiB of SQL and snapshot, in flight before the feeder waits. */
const MAX_IN_FLIGHT = 64;
const MAX_KIB_IN_FLIGHT = 8 * 1024;
/** A transaction ends at the first run boundary after this many increments or KiB of SQL (bounds the in-memory journal). */
const TX_INCREMENTS = 256;
const TX_KIB = 4096;
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

type Command =
  | { t: 'snap'; b: Uint8Array }
  | { t: 'snapEnd' }
  | { t: 'begin' }
  /** SAVEPOINT before increment i; `skip` once the feeder knows no redo can cut there. */
  | { t: 'sp'; i: number; skip?: boolean }
  /** Statements joined by ";\n" (of one or more increments: see coalesce()), run with one exec(). */
  | { t: 'x'; i: number; dv: number; sql: Uint8Array }
  | { t: 'out'; i: number; dv: number; first: number; total: number; sql: Uint8Array; lens: Int32Array }
  | { t: 'bump'; i: number; dv: number }
  | { t: 'rb'; i: number }
  | { t: 'commit' }
  | { t: 'fkOn' }
  /** `n` increments ended (coalesce() merges consecutive ones). */
  | { t: 'incEnd'; i: number; n: number; statements: number; outside: number; bytes: number }
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

class Fallback extends Error {}

/** A statement batch as the feeder collects it: views of the plaintext, copied once by coalesce(). */
interface PartsCommand {
  t: 'xParts';
  i: number;
  dv: number;
  /** One statement that must run alone (it holds a comment marker: see Inc.isolate). */
  alone?: boolean;
  parts: Uint8Array[];
  /** Their bytes with a ";\n" after each. */
  bytes: number;
}
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

function feed(
  input: FeedInput,
  post: (c: Pending) => void,
  cancelled: () => boolean,
  flushes: () => number,
): void {
  const clientKey = checkPubkey(input.clientKey, 'client key');
  const what = `archive ${formatClientId(clientKey)}.arch`;
  const crypto = nativeBoxCrypto();
  const batchChars = input.batchChars ?? BATCH_CHARS;
  let fd: number;
  try {
    fd = openSync(input.archivePath, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CldcbError(
      code === 'ENOENT' ? 'file_not_found' : 'io_error',
      `${input.archivePath}: cannot open the archive (${code ?? 'I/O error'}).`,
    );
  }
  let clientPriv: Uint8Array | undefined;
  let disposeStreams = (): void => undefined;
  let disposeReupload = (): void => undefined;
  try {
    const st = fstatSync(fd);
    const reader = recoveryArchReader(what);
    const warnings: RecoveryWarning[] = [];
    const increments: IncrementSummary[] = [];
    const snapSha = createHash('sha256');
    const reupload = new ReuploadOpener(input.nodePriv, clientKey, { crypto, what, keepClientKey: input.returnClientKey });
    disposeReupload = () => reupload.dispose();
    let snapshot: SnapshotSummary | undefined;
    let snapshotSize = 0;
    let planner: ChainPlanner | undefined;
    let inTx = false;
    /** Increments and KiB of SQL in the open transaction (it spans data_version runs, up to TX_*). */
    let txIncrements = 0;
    let txKib = 0;
    /**
     * The savepoint of the last increment, while it may still be dropped: a redo can only
     * cut increments of the current data_version run, so once the next increment shows
     * another data_version, that savepoint is not needed (each costs as much as replaying a
     * small increment). The next increment's data_version is read from the framing, which is
     * not authenticated: a cut that needs a dropped savepoint falls back to the two-pass path.
     */
    let lastSp: { cmd: { t: 'sp'; i: number; skip?: boolean }; dv: number; flushes: number } | undefined;
    /** Increments of the current run whose savepoint was dropped. */
    const spDropped = new Set<number>();
    /** Replay positions below this are committed (a redo may not cut there). */
    let barrier = 0;
    /** Last replayed data_version (to see whether an increment starts a new run). */
    let lastDv: number | undefined;

    interface Inc {
      index: number;
      framingDv: number;
      offset: number;
      chunks: number;
      what: string;
      reader: IncrementReader;
      facts: StatementBytesFacts;
      /**
       * Transaction statements not yet sent (held: repeats), as views of the plaintext
       * pieces (each piece is a fresh buffer from the AEAD, never reused): they are copied
       * once, when the message is assembled (coalesce()).
       */
      held: Uint8Array[];
      /** Their UTF-8 bytes joined by ";\n". */
      heldBytes: number;
      heldLens: number[];
      /** First statement number of `held` (0-based). */
      heldFirst: number;
      /** PRAGMAs before the first other statement (run before BEGIN). */
      lead: Uint8Array[];
      /** PRAGMAs after the last other statement so far (run after COMMIT unless another follows). */
      tail: Uint8Array[];
      tailFirst: number;
      /** A statement other than a PRAGMA came. */
      sawData: boolean;
      count: number;
      outside: number;
      bytes: number;
      /** Emitting as it goes (BEGIN/SAVEPOINT already sent). */
      streaming: boolean;
      /**
       * The plaintext holds "--" or "/*" (maybe inside a string, maybe in binary lengths):
       * its statements run one exec() each, as lightningd prepared each on its own — joined,
       * an unterminated "/*" would swallow the statements after it.
       */
      isolate: boolean;
      /** Last byte of the previous piece (a marker may straddle two pieces). */
      lastByte: number;
      /** Hold until the end: the increment repeats the last data_version. */
      hold: boolean | undefined;
      dv: number | undefined;
    }
    let inc: Inc | undefined;

    const sendBatch = (c: Inc): void => {
      if (c.heldLens.length === 0) return;
      if (c.isolate) for (const p of c.held) post({ t: 'xParts', i: c.index, dv: c.dv!, alone: true, parts: [p], bytes: p.length + 2 });
      else post({ t: 'xParts', i: c.index, dv: c.dv!, parts: c.held, bytes: c.heldBytes });
      c.heldFirst += c.heldLens.length;
      c.held = [];
      c.heldLens = [];
      c.heldBytes = 0;
    };
    /** PRAGMAs lightningd ran outside a transaction (the run before is committed first). */
    const sendOutside = (c: Inc, list: Uint8Array[], first: number): void => {
      if (list.length === 0) return;
      if (inTx) {
        post({ t: 'commit' });
        inTx = false;
      }
      let total = 0;
      for (const b of list) total += b.length + 2;
      const sql = new Uint8Array(total);
      const lens = new Int32Array(list.length);
      let o = 0;
      list.forEach((b, k) => {
        sql.set(b, o);
        sql[o + b.length] = 0x3b; // ;
        sql[o + b.length + 1] = 0x0a; // \n
        o += b.length + 2;
        lens[k] = b.length;
      });
      post({ t: 'out', i: c.index, dv: c.dv!, first, total: c.reader.headerInfo?.count ?? 0, sql, lens });
      c.outside += list.length;
    };
    const openRun = (c: Inc): void => {
      if (c.dv !== lastDv) spDropped.clear(); // a new run: earlier runs cannot be cut any more
      // Commit only between runs (a redo never cuts behind a commit), and only every
      // TX_INCREMENTS / TX_KIB: a transaction per small increment cost as much as its statements.
      if (!inTx || (c.dv !== lastDv && (txIncrements >= TX_INCREMENTS || txKib >= TX_KIB))) {
        if (inTx) {
          post({ t: 'commit' });
          barrier = planner!.length;
        }
        post({ t: 'begin' });
        inTx = true;
        txIncrements = 0;
        txKib = 0;
      }
      txIncrements++;
      const cmd: { t: 'sp'; i: number; skip?: boolean } = { t: 'sp', i: c.index };
      post(cmd);
      lastSp = { cmd, dv: c.dv!, flushes: flushes() };
    };
    /**
     * Start sending the increment's transaction: its leading PRAGMAs outside (then replay
     * positions up to and including `pos`, the increment's, count as committed), BEGIN/SAVEPOINT.
     */
    const startStreaming = (c: Inc, pos: number): void => {
      c.streaming = true;
      if (c.lead.length > 0) {
        sendOutside(c, c.lead, 0);
        c.lead = [];
        barrier = pos + 1;
      }
      openRun(c);
    };

    const hold = (c: Inc, bytes: Uint8Array, n: number): void => {
      if (c.heldLens.length === 0) c.heldFirst = n;
      c.held.push(bytes);
      c.heldBytes += bytes.length + 2;
      c.heldLens.push(bytes.length);
    };

    const sink = (c: Inc) => ({
      statement(bytes: Uint8Array): void {
        c.facts.statement(bytes);
        // Deferred constraints are checked at COMMIT: a transaction spanning several write
        // sets could let a later one mend what lightningd's own COMMIT refused. The two-pass
        // path commits each increment on its own.
        if (c.facts.defers) throw new Fallback(`increment ${c.index} mentions deferred constraints`);
        const n = c.count++;
        if (isPragmaBytes(bytes)) {
          if (!c.sawData) c.lead.push(bytes.slice());
          else {
            if (c.tail.length === 0) c.tailFirst = n;
            c.tail.push(bytes.slice());
          }
          return;
        }
        if (c.tail.length > 0) {
          // Not trailing after all: between two statements, inside the transaction (as replay.ts).
          c.tail.forEach((t, k) => hold(c, t, c.tailFirst + k));
          c.tail = [];
        }
        c.sawData = true;
        hold(c, bytes, n);
      },
    });

    const streams = new IncrementStreams(input.nodePriv, clientKey, crypto);
    disposeStreams = () => streams.dispose();
    const onEvent = (e: ArchEvent): void => {
      switch (e.type) {
        case 'reuploadChunk': {
          const pt = reupload.open(e.chunk);
          if (pt === undefined) break; // the header
          snapSha.update(pt);
          snapshotSize += pt.length;
          const own = pt.byteOffset === 0 && pt.byteLength === pt.buffer.byteLength ? pt : pt.slice();
          post({ t: 'snap', b: own });
          break;
        }
        case 'reuploadEnd':
          reupload.end();
          snapshot = {
            reuploadDataVersion: reupload.dataVersion,
            chainHash: bytesToHex(reupload.chainValue(new Uint8Array(snapSha.digest()))),
            size: snapshotSize,
          };
          clientPriv = reupload.takeClientKey();
          planner = new ChainPlanner(snapshot);
          post({ t: 'snapEnd' });
          break;
        case 'incrementStart': {
          const index = increments.length;
          if (lastSp && lastSp.dv !== e.dataVersion) {
            if (lastSp.flushes === flushes()) lastSp.cmd.skip = true; // not sent yet: drop it
            spDropped.add(lastSp.cmd.i);
            lastSp = undefined;
          }
          const w = `${what}: increment ${index} (data_version ${e.dataVersion})`;
          const facts = new StatementBytesFacts(w);
          const c: Inc = {
            index,
            framingDv: e.dataVersion,
            offset: e.offset!,
            chunks: 0,
            what: w,
            reader: undefined as unknown as IncrementReader,
            facts,
            held: [],
            heldBytes: 0,
            heldLens: [],
            heldFirst: 0,
            lead: [],
            tail: [],
            tailFirst: 0,
            sawData: false,
            count: 0,
            outside: 0,
            bytes: 0,
            streaming: false,
            isolate: false,
            lastByte: -1,
            hold: undefined,
            dv: undefined,
          };
          c.reader = new IncrementReader(sha256Stream(), w, sink(c));
          inc = c;
          break;
        }
        case 'incrementChunk': {
          const c = inc!;
          const pt = streams.open(c.index, c.chunks, e.chunk, c.what);
          if (!c.isolate && pt.length > 0) {
            c.isolate =
              indexOfBytes.call(pt, '--') >= 0 ||
              indexOfBytes.call(pt, '/*') >= 0 ||
              (c.lastByte === 0x2d && pt[0] === 0x2d) ||
              (c.lastByte === 0x2f && pt[0] === 0x2a);
            c.lastByte = pt[pt.length - 1]!;
          }
          c.chunks++;
          c.bytes += pt.length;
          c.reader.push(pt);
          if (c.dv === undefined && c.reader.headerInfo) {
            c.dv = c.reader.headerInfo.dataVersion;
            c.hold = lastDv !== undefined && c.dv === lastDv;
          }
          // Stream a new data_version's statements once one is not a PRAGMA.
          if (!c.hold && c.dv !== undefined && !c.streaming && c.sawData) startStreaming(c, planner!.length);
          if (c.streaming && c.heldBytes >= batchChars) sendBatch(c);
          break;
        }
        case 'incrementEnd': {
          const c = inc!;
          inc = undefined;
          if (c.chunks === 0)
            throw new CldcbError(
              'truncated',
              `${what}: increment ${c.index} (data_version ${c.framingDv}, byte ${c.offset}) has no sealed chunk.`,
            );
          const end = c.reader.finish();
          c.dv = end.dataVersion;
          const f = e.footer!;
          const fw = footerWarning(c.index, c.framingDv, f);
          if (fw) warnings.push(fw);
          const d = summarizeIncrement({ index: c.index, framingDv: c.framingDv, chunks: c.chunks, offset: c.offset, footerCount: f.count }, end, c.facts);
          increments.push(d);
          const step = planner!.push(d);
          if (step.fatal) {
            if (c.streaming) post({ t: 'rb', i: c.index });
            throw new CldcbError(step.fatal.code, step.fatal.message);
          }
          if (step.cutTo !== undefined) {
            if (c.streaming)
              throw new CldcbError('internal', 'a streamed increment was cut (a bug in CLDCB).');
            if (step.cutTo < barrier)
              throw new Fallback(`increment ${c.index} replaces increments already committed`);
            if (spDropped.has(step.dropped![0]!))
              throw new Fallback(`increment ${c.index} replaces increment ${step.dropped![0]!}, whose savepoint was left out (the archive's framing named another data_version)`);
            post({ t: 'rb', i: step.dropped![0]! });
          }
          const at = planner!.length - 1;
          if (step.restart) {
            // lightningd restarted before this redo: its new connection has foreign keys ON.
            if (inTx) {
              post({ t: 'commit' });
              inTx = false;
            }
            post({ t: 'fkOn' });
            barrier = at;
          }
          if (!c.streaming) {
            if (!c.sawData && c.lead.length > 0) {
              // PRAGMAs only: wholly outside a transaction.
              sendOutside(c, c.lead, 0);
              c.lead = [];
              barrier = planner!.length;
            } else {
              startStreaming(c, at);
              sendBatch(c);
            }
          } else sendBatch(c);
          // Advancing data_version without lightningd's bump (hand-made data): make the bump.
          const before = planner!.previousDataVersion;
          if ((before === undefined || before !== d.dataVersion) && !d.hasBump)
            post({ t: 'bump', i: c.index, dv: d.dataVersion });
          if (c.tail.length > 0) {
            // Trailing PRAGMAs: after COMMIT.
            sendOutside(c, c.tail, c.tailFirst);
            c.tail = [];
            barrier = planner!.length;
          }
          txKib += c.bytes >> 10;
          post({ t: 'incEnd', i: c.index, n: 1, statements: end.count, outside: c.outside, bytes: c.bytes });
          lastDv = d.dataVersion;
          break;
        }
      }
    };

    const torn = walkArchiveFile(fd, reader, { onEvent, cancelled });
    if (torn !== undefined) {
      if (inc?.streaming) post({ t: 'rb', i: inc.index });
      warnings.push(tornTailWarning(what, increments[increments.length - 1]!, torn));
    }
    if (!planner || !snapshot) throw new CldcbError('truncated', `${what}: no re-upload section.`);
    if (inTx) post({ t: 'commit' });
    const plan = planner.finish();
    if (plan.fatal) throw new CldcbError(plan.fatal.code, plan.fatal.message);
    const result: FeedResult = {
      size: st.size,
      mtimeMs: st.mtimeMs,
      snapshot,
      incrementsStored: increments.length,
      warnings,
      plan,
      ...(clientPriv ? { clientPrivateKey: clientPriv } : {}),
    };
    post({ t: 'end', result });
  } catch (e) {
    zeroize(clientPriv);
    if (e instanceof Fallback) {
      post({ t: 'fallback', reason: e.message });
      return;
    }
    throw e;
  } finally {
    disposeReupload();
    disposeStreams();
    closeSync(fd);
  }
}

const decoder = new TextDecoder('utf-8', { fatal: true });
/** Buffer's native search on a plain Uint8Array (no Buffer view per call). */
const indexOfBytes = Buffer.prototype.indexOf as (this: Uint8Array, value: string) => number;

// ---------------------------------------------------------------------------------------------
// SQLite side (runs in the rebuild job's thread)

export class PipelineFallback extends Error {}

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
 * @throws PipelineFallback when the two-pass path must be used; CldcbError otherwise.
 */
export function runPipeline(o: PipelineOptions): PipelineResult {
  const own = o.feeder ? undefined : startFeeder(o);
  const { port: port1, state: sab, cancel } = o.feeder ?? own!.link;
  const state = new Int32Array(sab);
  let db: BetterSqlite3.Database | undefined;
  let fdOpen = true;
  const stats = { increments: 0, statements: 0, outsidePragmas: 0, synthesizedBumps: 0, bytes: 0 };
  /** The increment whose statements ran last (names a failing COMMIT). */
  let lastInc: { i: number; dv: number } | undefined;
  let snapBytes = 0;
  let setDv: BetterSqlite3.Statement | undefined;
  const hasVarsRow = (): boolean => {
    try {
      return db!.prepare("SELECT 1 FROM vars WHERE name = 'data_version'").get() !== undefined;
    } catch {
      return false;
    }
  };
  const fail = (
    c: { i: number; dv: number },
    n: number,
    total: number | undefined,
    words: string,
    msg: string,
  ): never => {
    throw new CldcbError(
      'archive_lost_writes',
      `increment ${c.i} (data_version ${c.dv}) cannot be applied: statement ${n}${total !== undefined ? ` of ${total}` : ''} (${words}) fails: ${safeSqliteMessage(msg)}. The archive lacks writes this one depends on; refusing to present an incomplete database.`,
    );
  };
  /** The batch's statements, each decoded on its own (only on the failure paths). */
  const statementsOf = (c: { i: number; first: number; sql: Uint8Array; lens: Int32Array }): string[] => {
    const out: string[] = [];
    let o2 = 0;
    c.lens.forEach((l, k) => {
      try {
        out.push(decoder.decode(c.sql.subarray(o2, o2 + l)));
      } catch {
        throw new CldcbError('bad_input', `increment ${c.i}: statement ${c.first + k} is not valid UTF-8.`);
      }
      o2 += l + 2;
    });
    return out;
  };
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
            fdOpen = false;
            db = o.openDb();
            setDv = undefined;
            // Deferred constraints in the snapshot's schema: commit each increment on its own (two-pass path).
            let defers: boolean;
            try {
              defers = db.prepare("SELECT 1 FROM sqlite_master WHERE sql LIKE '%DEFERRED%' LIMIT 1").get() !== undefined;
            } catch (e) {
              throw new CldcbError('integrity_failed', `The snapshot in the archive is not a usable SQLite database (${safeSqliteMessage((e as Error).message)}).`);
            }
            if (defers) throw new PipelineFallback('the snapshot declares deferred constraints');
            break;
          }
          case 'begin':
            db!.exec('BEGIN');
            break;
          case 'sp':
            if (!c.skip) db!.exec(`SAVEPOINT inc${c.i}`);
            break;
          case 'rb':
            db!.exec(`ROLLBACK TO inc${c.i}`);
            break;
          case 'commit':
            try {
              db!.exec('COMMIT');
            } catch (e) {
              throw diskError(e) ?? new CldcbError(
                'archive_lost_writes',
                `increment ${lastInc?.i ?? '?'} (data_version ${lastInc?.dv ?? '?'}) cannot be committed: ${safeSqliteMessage((e as Error).message)}. The archive lacks writes this one depends on; refusing to present an incomplete database.`,
              );
            }
            break;
          case 'fkOn':
            if (db!.inTransaction)
              throw new CldcbError('internal', 'foreign keys set inside a transaction (a bug in CLDCB).');
            db!.exec('PRAGMA foreign_keys = ON');
            break;
          case 'x': {
            lastInc = { i: c.i, dv: c.dv };
            let sql: string;
            try {
              sql = decoder.decode(c.sql);
            } catch {
              throw new PipelineFallback(`increment ${c.i}: a statement is not valid UTF-8`);
            }
            try {
              db!.exec(sql);
            } catch (e) {
              const disk = diskError(e);
              if (disk) throw disk;
              // A good archive never gets here. Rather than a savepoint around every batch
              // (as costly as a small increment's statements), start again on the two-pass
              // path, which runs each batch in a savepoint, re-runs a failing one statement
              // by statement and names the statement that fails (or applies them one by one
              // when only the joined text failed).
              throw new PipelineFallback(`increment ${c.i}: a batch of statements failed`);
            }
            break;
          }
          case 'out':
            if (db!.inTransaction)
              throw new CldcbError('internal', 'PRAGMA increment inside a transaction (a bug in CLDCB).');
            statementsOf(c).forEach((s, k) => {
              try {
                db!.exec(s);
              } catch (e) {
                throw diskError(e) ?? fail(c, c.first + k + 1, c.total, statementWords(s), (e as Error).message);
              }
            });
            break;
          case 'bump':
            if (hasVarsRow()) {
              setDv ??= db!.prepare("UPDATE vars SET intval = ? WHERE name = 'data_version'");
              setDv.run(c.dv);
              stats.synthesizedBumps++;
            }
            break;
          case 'incEnd':
            stats.increments += c.n;
            stats.statements += c.statements;
            stats.outsidePragmas += c.outside;
            stats.bytes += c.bytes;
            // Every 256 increments (the worker throttles to 50 ms too): a report per small
            // increment cost as much as replaying it.
            if ((stats.increments & ~255) !== ((stats.increments - c.n) & ~255)) o.progress('replay', stats.increments, 0, stats.statements, stats.bytes);
            break;
          case 'end': {
            if (db?.inTransaction)
              throw new CldcbError('internal', 'the feeder ended inside a transaction (a bug in CLDCB).');
            const r = c.result;
            return { ...r, db: db!, stats: { ...stats, increments: r.plan.replay.length } };
          }
          case 'error':
            throw new CldcbError(isErrorCode(c.code) ? c.code : 'internal', c.message);
          case 'fallback':
            throw new PipelineFallback(c.reason);
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
    void fdOpen;
    throw e;
  } finally {
    port1.close();
    own?.stop();
  }
}

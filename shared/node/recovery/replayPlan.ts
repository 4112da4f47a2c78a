/**
 * The replay plan: how an archive's increments become SQLite work — one place for every rule
 * of where a statement runs (docs/PROTOCOL.md §2; the chain rule itself is
 * shared/cldcb/chain.ts). A method per archive event; out come commands, which an executor
 * runs: the pipelined one (pipeline.ts, on the SQLite thread, batches bare) or the
 * statement-naming one (executor.ts, inline: the two-pass path). Testable without threads.
 *
 * The rules:
 *  - Foreign keys are ON, as on lightningd's connection (db_sqlite3.c turns them on at open),
 *    so its ON DELETE CASCADE / SET NULL changes — not in the log — happen here too.
 *  - PRAGMAs run where lightningd ran them: outside any transaction (inside one SQLite ignores
 *    them). An increment's leading PRAGMAs before its BEGIN, its trailing ones after COMMIT, a
 *    PRAGMA-only increment wholly outside; a PRAGMA between two other statements (never made
 *    by lightningd) stays inside. That is lightningd's order for calls outside a transaction
 *    and for the plugin's merges of them (plugin/backup.ts).
 *  - Before a redo (a restart of lightningd: ChainPlanner `restart`) foreign keys are set ON
 *    again, as its new connection had them.
 *  - An increment that advances data_version without lightningd's bump statement (hand-made
 *    data) gets the bump lightningd's commit would have made.
 *  - A plaintext holding "--" or "/*" runs its statements one exec() each, as lightningd
 *    prepared each on its own: joined, an unterminated "/*" would swallow the ones after it.
 *
 * Two ways to know what to replay:
 *  - `online` (the pipeline: one pass): the chain is planned as increments arrive. A
 *    transaction spans data_version runs, committed at a run boundary every TX_INCREMENTS
 *    increments or TX_KIB of SQL (a transaction and a savepoint per small increment each cost
 *    as much as its statements). Each increment gets a savepoint unless the next increment's
 *    data_version shows no redo can cut it; increments repeating a data_version are held until
 *    their end (they may be redos); a redo rolls back to the savepoint of what it replaces.
 *    Anything unusual throws {@link ReplayFallback} (the two-pass path then runs): a cut
 *    behind a committed point or needing a dropped savepoint (the framing, unauthenticated,
 *    named another data_version), deferred constraints (checked only at COMMIT: a transaction
 *    spanning write sets could let a later one mend what lightningd's COMMIT refused).
 *  - `known` (the two-pass path's second pass): pass 1 planned the chain; unplanned
 *    increments are skipped, each planned one is its own transaction.
 */
import { CldcbError } from '../../errors';
import type { ArchFooter } from '../../cldcb/arch';
import { ChainPlanner, type IncrementSummary, type ReplayPlan, type SnapshotSummary } from '../../cldcb/chain';
import { ArchiveIncrements, type IncrementInProgress } from '../../cldcb/increments';
import type { IncrementalHash } from '../../cldcb/plaintexts';
import type { IncrementStreams } from '../../cldcb/seal';
import { isPragmaBytes } from '../../cldcb/statements';

/** Text executed per exec() call (toolchain.md §10: batches run at ~2× the sqlite3 CLI). */
export const BATCH_CHARS = 1 << 20;
/** A transaction ends at the first run boundary after this many increments or KiB of SQL (bounds the in-memory journal). */
const TX_INCREMENTS = 256;
const TX_KIB = 4096;

/** What the executors run. Statement numbers (`first`) are 0-based; `total` is the increment's count. */
export type PlanCommand =
  | { t: 'begin' }
  /** SAVEPOINT before increment i; `skip` once the plan knows no redo can cut there. */
  | { t: 'sp'; i: number; skip?: boolean }
  /** Statements of increment i as views of its plaintext, to run joined by ";\n" (`alone`: one statement, by itself). */
  | { t: 'xParts'; i: number; dv: number; first: number; total: number; alone?: boolean; parts: Uint8Array[]; bytes: number }
  /** PRAGMAs outside any transaction: `sql` holds them each followed by ";\n", `lens` their lengths. */
  | { t: 'out'; i: number; dv: number; first: number; total: number; sql: Uint8Array; lens: Int32Array }
  /** The bump lightningd's commit would have made (hand-made data). */
  | { t: 'bump'; i: number; dv: number }
  | { t: 'rb'; i: number }
  /** COMMIT; increment i (data_version dv) is the last whose statements ran in the transaction. */
  | { t: 'commit'; i: number; dv: number }
  | { t: 'fkOn' }
  /** `n` increments ended (the pipeline merges consecutive ones). */
  | { t: 'incEnd'; i: number; n: number; statements: number; outside: number; bytes: number };

/** The replay cannot go on this way: start again on the two-pass path (never a refusal by itself). */
export class ReplayFallback extends Error {}

/** Where commands go. `handedOff` counts the batches already out of reach (a command in one can no longer be changed). */
export interface CommandSink {
  emit(c: PlanCommand): void;
  readonly handedOff: number;
}

export interface ReplayPlanOptions {
  readonly what: string;
  /** Opens the chunks (the caller owns and disposes it); only for archive events. */
  readonly streams?: IncrementStreams;
  /** The plaintext hash for the chain (node:crypto's on Node). */
  readonly hash?: () => IncrementalHash;
  readonly batchChars?: number;
  /**
   * The two-pass path: pass 1's plan and summaries (positions in the archive). Without it the
   * chain is planned online from the re-upload's snapshot summary ({@link ReplayPlanner.snapshot}).
   */
  readonly known?: { readonly plan: Pick<ReplayPlan, 'replay' | 'restarts' | 'missingBumps'>; readonly summaries: readonly IncrementSummary[] };
}

/** Buffer's native search on a plain Uint8Array (no Buffer view per call). */
const indexOfBytes = Buffer.prototype.indexOf as (this: Uint8Array, value: string) => number;

/** One increment's statements on their way to the executor. */
interface Placing {
  /** Position in the archive. */
  readonly index: number;
  /** The increment's statement count (from its header). */
  readonly total: () => number;
  /** Statements not yet emitted (held: a repeat, or not started), views of the plaintext pieces (fresh AEAD buffers, never reused). */
  held: Uint8Array[];
  /** Their bytes with a ";\n" after each. */
  heldBytes: number;
  /** Number of the first held statement. */
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
  /** Emitting as it goes (BEGIN / SAVEPOINT already emitted). */
  streaming: boolean;
  /** The plaintext holds "--" or "/*": its statements run one exec() each. */
  isolate: boolean;
  /** Last byte of the previous piece (a marker may straddle two pieces). */
  lastByte: number;
  /** The plaintext's data_version, once its header arrived. */
  dv: number | undefined;
  /** Statements wait until the increment ends (online: a repeated data_version, maybe a redo). */
  hold: boolean | undefined;
  /** Not replayed (known plan). */
  skip: boolean;
}

export class ReplayPlanner {
  private readonly incs: ArchiveIncrements | undefined;
  private readonly batchChars: number;
  private planner: ChainPlanner | undefined;
  private readonly known: { readonly replay: Set<number>; readonly restarts: Set<number>; readonly advances: Set<number>; readonly summaries: readonly IncrementSummary[] } | undefined;
  private cur: Placing | undefined;
  /** Each increment its own transaction: the two-pass path, and write sets given as statements (as lightningd ran them). */
  private readonly txPerIncrement: boolean;
  private inTx = false;
  /** Increments and KiB of SQL in the open transaction (online: it spans data_version runs, up to TX_*). */
  private txIncrements = 0;
  private txKib = 0;
  /**
   * Online: the savepoint of the last increment, while it may still be dropped: a redo can only
   * cut increments of the current data_version run, so once the next increment shows another
   * data_version, that savepoint is not needed. The next increment's data_version is read from
   * the framing, which is not authenticated: a cut that needs a dropped savepoint falls back.
   */
  private lastSp: { cmd: { t: 'sp'; i: number; skip?: boolean }; dv: number; handedOff: number } | undefined;
  /** Increments of the current run whose savepoint was dropped. */
  private readonly spDropped = new Set<number>();
  /** Replay positions below this are committed (a redo may not cut there). */
  private barrier = 0;
  /** Last replayed data_version (to see whether an increment starts a new run). */
  private lastDv: number | undefined;
  /** The increment whose statements ran last (names a failing COMMIT). */
  private lastRan: { i: number; dv: number } = { i: -1, dv: 0 };
  /** Every increment stored, as summaries (online). */
  readonly summaries: IncrementSummary[] = [];

  constructor(
    private readonly sink: CommandSink,
    private readonly opts: ReplayPlanOptions,
  ) {
    this.batchChars = opts.batchChars ?? BATCH_CHARS;
    if (opts.known) {
      const { plan, summaries } = opts.known;
      this.known = { replay: new Set(plan.replay), restarts: new Set(plan.restarts), advances: new Set(plan.missingBumps), summaries };
    }
    this.txPerIncrement = opts.known !== undefined || opts.streams === undefined;
    this.incs = opts.streams
      ? new ArchiveIncrements(opts.streams, opts.what, { ...(opts.hash ? { hash: opts.hash } : {}), sink: (inc) => this.statementSink(inc) })
      : undefined;
  }

  /** Online: the re-upload section ended; the chain starts from this snapshot. */
  snapshot(s: SnapshotSummary): void {
    this.planner = new ChainPlanner(s);
  }

  /** Complete increments read so far. */
  get count(): number {
    return this.incs?.count ?? 0;
  }

  /** The key of the stream the last increment belongs to (for a later pass). */
  get streamKey(): Uint8Array | undefined {
    return this.incs?.streamKey;
  }

  private emit(c: PlanCommand): void {
    this.sink.emit(c);
  }

  // -------------------------------------------------------------------------------------------
  // Archive events

  /** An `incrementStart` event. */
  incrementStart(framingDv: number, offset?: number): void {
    if (this.lastSp && this.lastSp.dv !== framingDv) {
      if (this.lastSp.handedOff === this.sink.handedOff) this.lastSp.cmd.skip = true; // not handed off yet: drop it
      this.spDropped.add(this.lastSp.cmd.i);
      this.lastSp = undefined;
    }
    const inc = this.archive().start(framingDv, offset);
    const skip = this.known !== undefined && !this.known.replay.has(inc.index);
    this.cur = this.placing(inc.index, () => inc.reader.headerInfo?.count ?? 0, skip);
    if (this.known && !skip) {
      const d = this.known.summaries[inc.index]!;
      if (d.framingDv !== framingDv)
        throw new CldcbError('not_authentic', `${this.opts.what}: the archive changed while it was being read (increment ${inc.index}). Nothing was written; copy the archive again.`);
      // lightningd restarted before a redo: its new connection has foreign keys ON.
      if (this.known.restarts.has(inc.index)) this.emit({ t: 'fkOn' });
    }
  }

  private archive(): ArchiveIncrements {
    if (!this.incs) throw new CldcbError('internal', 'a replay plan without streams was given archive events (a bug in CLDCB).');
    return this.incs;
  }

  private placing(index: number, total: () => number, skip: boolean): Placing {
    return {
      index,
      total,
      held: [],
      heldBytes: 0,
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
      dv: undefined,
      hold: undefined,
      skip,
    };
  }

  /** An `incrementChunk` event. @throws CldcbError not_authentic / bad_input / unsupported / archive_lost_writes */
  incrementChunk(chunk: Uint8Array): void {
    const c = this.cur!;
    const { plaintext: pt } = this.archive().chunk(chunk);
    if (c.skip) return;
    if (!c.isolate && pt.length > 0) {
      c.isolate =
        indexOfBytes.call(pt, '--') >= 0 ||
        indexOfBytes.call(pt, '/*') >= 0 ||
        (c.lastByte === 0x2d && pt[0] === 0x2d) ||
        (c.lastByte === 0x2f && pt[0] === 0x2a);
      c.lastByte = pt[pt.length - 1]!;
    }
    c.bytes += pt.length;
    const header = this.archive().current?.reader.headerInfo;
    if (c.dv === undefined && header) {
      c.dv = header.dataVersion;
      c.hold = this.known === undefined && this.lastDv !== undefined && c.dv === this.lastDv;
    }
    // Stream a new data_version's statements once one is not a PRAGMA.
    if (!c.hold && c.dv !== undefined && !c.streaming && c.sawData) this.startStreaming(c, this.position());
    if (c.streaming && c.heldBytes >= this.batchChars) this.sendBatch(c);
  }

  /**
   * An `incrementEnd` event.
   * @returns its summary.
   * @throws CldcbError archive_lost_writes (the chain), truncated, not_authentic (changed since pass 1); ReplayFallback.
   */
  incrementEnd(footer?: ArchFooter): IncrementSummary {
    const c = this.cur!;
    this.cur = undefined;
    const { summary: d } = this.archive().end(footer);
    c.dv = d.dataVersion;
    if (this.known) {
      if (!c.skip) {
        if (d.hash !== this.known.summaries[d.index]!.hash)
          throw new CldcbError('not_authentic', `${this.opts.what}: increment ${d.index} differs from the first reading: the archive changed while it was being read. Nothing was written; copy the archive again.`);
        this.place(c, this.known.advances.has(d.index));
      }
      return d;
    }
    this.summaries.push(d);
    const planner = this.planner;
    if (!planner) throw new CldcbError('bad_input', `${this.opts.what}: an increment before the end of the re-upload section.`);
    const step = planner.push(d);
    if (step.fatal) {
      if (c.streaming) this.emit({ t: 'rb', i: c.index });
      throw new CldcbError(step.fatal.code, step.fatal.message);
    }
    if (step.cutTo !== undefined) {
      if (c.streaming) throw new CldcbError('internal', 'a streamed increment was cut (a bug in CLDCB).');
      if (step.cutTo < this.barrier) throw new ReplayFallback(`increment ${c.index} replaces increments already committed`);
      if (this.spDropped.has(step.dropped![0]!))
        throw new ReplayFallback(`increment ${c.index} replaces increment ${step.dropped![0]!}, whose savepoint was left out (the archive's framing named another data_version)`);
      this.emit({ t: 'rb', i: step.dropped![0]! });
    }
    if (step.restart) {
      // lightningd restarted before this redo: its new connection has foreign keys ON.
      this.commit();
      this.emit({ t: 'fkOn' });
      this.barrier = planner.length - 1;
    }
    const before = planner.previousDataVersion;
    this.place(c, (before === undefined || before !== d.dataVersion) && !d.hasBump);
    this.lastDv = d.dataVersion;
    return d;
  }

  /**
   * The input ended inside an increment (a torn tail, dropped): undo what it emitted.
   */
  dropIncomplete(): void {
    if (this.cur?.streaming) this.emit({ t: 'rb', i: this.cur.index });
    this.cur = undefined;
  }

  /**
   * The archive ended: commit what is open.
   * @returns the chain's verdict (online).
   */
  finish(): ReplayPlan | undefined {
    this.commit();
    return this.planner?.finish();
  }

  // -------------------------------------------------------------------------------------------
  // Placing statements

  /** The replay position the current increment takes (online). */
  private position(): number {
    return this.planner?.length ?? 0;
  }

  private statementSink(inc: IncrementInProgress) {
    return {
      statement: (bytes: Uint8Array): void => {
        const c = this.cur!;
        if (c.skip) return;
        // Deferred constraints are checked at COMMIT: a transaction spanning several write
        // sets could let a later one mend what lightningd's own COMMIT refused.
        if (this.known === undefined && inc.facts.defers) throw new ReplayFallback(`increment ${inc.index} mentions deferred constraints`);
        this.statement(c, bytes);
      },
    };
  }

  /** One more statement of the increment: a leading, trailing or in-between PRAGMA, or a statement of its transaction. */
  private statement(c: Placing, bytes: Uint8Array): void {
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
      // Not trailing after all: between two statements, inside the transaction.
      c.tail.forEach((t, k) => this.hold(c, t, c.tailFirst + k));
      c.tail = [];
    }
    c.sawData = true;
    this.hold(c, bytes, n);
  }

  /**
   * A write set given as statements, not archive events (known plan, no chain): the tests'
   * replay of lightningd's own db_write calls, placed by the same rules.
   * @param how `synthesizeBump`: it advances data_version without the bump statement;
   *   `restart`: a redo (lightningd restarted before it: foreign keys ON again).
   */
  writeSet(index: number, dataVersion: number, statements: readonly Uint8Array[], how: { readonly synthesizeBump?: boolean; readonly restart?: boolean } = {}): void {
    if (how.restart) this.emit({ t: 'fkOn' });
    const c = this.placing(index, () => statements.length, false);
    c.dv = dataVersion;
    for (const b of statements) {
      c.isolate ||= indexOfBytes.call(b, '--') >= 0 || indexOfBytes.call(b, '/*') >= 0;
      c.bytes += b.length;
      this.statement(c, b);
    }
    this.place(c, how.synthesizeBump ?? false);
  }

  private hold(c: Placing, bytes: Uint8Array, n: number): void {
    if (c.held.length === 0) c.heldFirst = n;
    c.held.push(bytes);
    c.heldBytes += bytes.length + 2;
  }

  /** An increment's end: whatever it still holds goes out, in the order lightningd ran it. */
  private place(c: Placing, synthesizeBump: boolean): void {
    if (!c.streaming) {
      if (!c.sawData && c.lead.length > 0) {
        // PRAGMAs only: wholly outside a transaction.
        this.sendOutside(c, c.lead, 0);
        c.lead = [];
        this.barrier = this.position();
      } else {
        this.startStreaming(c, this.position() - 1);
        this.sendBatch(c);
      }
    } else this.sendBatch(c);
    // Advancing data_version without lightningd's bump (hand-made data): make the bump.
    if (synthesizeBump) this.emit({ t: 'bump', i: c.index, dv: c.dv! });
    if (this.txPerIncrement) this.commit();
    if (c.tail.length > 0) {
      // Trailing PRAGMAs: after COMMIT.
      this.sendOutside(c, c.tail, c.tailFirst);
      c.tail = [];
      this.barrier = this.position();
    }
    this.txKib += c.bytes >> 10;
    this.emit({ t: 'incEnd', i: c.index, n: 1, statements: c.count, outside: c.outside, bytes: c.bytes });
  }

  private sendBatch(c: Placing): void {
    if (c.held.length === 0) return;
    const i = c.index;
    const dv = c.dv!;
    const total = c.total();
    if (c.isolate) c.held.forEach((p, k) => this.emit({ t: 'xParts', i, dv, first: c.heldFirst + k, total, alone: true, parts: [p], bytes: p.length + 2 }));
    else this.emit({ t: 'xParts', i, dv, first: c.heldFirst, total, parts: c.held, bytes: c.heldBytes });
    this.lastRan = { i, dv };
    c.held = [];
    c.heldBytes = 0;
  }

  private commit(): void {
    if (!this.inTx) return;
    this.emit({ t: 'commit', i: this.lastRan.i, dv: this.lastRan.dv });
    this.inTx = false;
  }

  /** PRAGMAs lightningd ran outside a transaction (the transaction before is committed first). */
  private sendOutside(c: Placing, list: Uint8Array[], first: number): void {
    if (list.length === 0) return;
    this.commit();
    let size = 0;
    for (const b of list) size += b.length + 2;
    const sql = new Uint8Array(size);
    const lens = new Int32Array(list.length);
    let o = 0;
    list.forEach((b, k) => {
      sql.set(b, o);
      sql[o + b.length] = 0x3b; // ;
      sql[o + b.length + 1] = 0x0a; // \n
      o += b.length + 2;
      lens[k] = b.length;
    });
    this.emit({ t: 'out', i: c.index, dv: c.dv!, first, total: c.total(), sql, lens });
    c.outside += list.length;
  }

  /**
   * Start emitting the increment's transaction: its leading PRAGMAs outside (then replay
   * positions up to and including `pos`, the increment's, count as committed), BEGIN / SAVEPOINT.
   */
  private startStreaming(c: Placing, pos: number): void {
    c.streaming = true;
    if (c.lead.length > 0) {
      this.sendOutside(c, c.lead, 0);
      c.lead = [];
      this.barrier = pos + 1;
    }
    if (this.txPerIncrement) {
      this.emit({ t: 'begin' });
      this.inTx = true;
      return;
    }
    if (c.dv !== this.lastDv) this.spDropped.clear(); // a new run: earlier runs cannot be cut any more
    // Commit only between runs (a redo never cuts behind a commit), and only every
    // TX_INCREMENTS / TX_KIB: a transaction per small increment cost as much as its statements.
    if (!this.inTx || (c.dv !== this.lastDv && (this.txIncrements >= TX_INCREMENTS || this.txKib >= TX_KIB))) {
      if (this.inTx) {
        this.commit();
        this.barrier = this.position();
      }
      this.emit({ t: 'begin' });
      this.inTx = true;
      this.txIncrements = 0;
      this.txKib = 0;
    }
    this.txIncrements++;
    const cmd: { t: 'sp'; i: number; skip?: boolean } = { t: 'sp', i: c.index };
    this.emit(cmd);
    this.lastSp = { cmd, dv: c.dv!, handedOff: this.sink.handedOff };
  }
}

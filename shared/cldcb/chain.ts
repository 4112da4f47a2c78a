/**
 * The chain rule: which increments to replay, and whether the archive can be trusted — a pure
 * function of what a reader learnt about each increment (no statements kept: memory stays
 * flat). The one planner: the recovery's passes, its pipeline and the tests' decoder use it.
 *
 * Rules (docs/PROTOCOL.md §2 "Repeated data_version rule", §3 "Increment plaintext v1";
 * cldcb-protocol §8.2a):
 *  - the first increment carries the re-upload's data_version (the snapshot is the state
 *    just before it, §5.2);
 *  - each next one is dv + 1 (u32 wrap), or a repeat of dv:
 *      · with the data_version bump: the redo of a transaction lightningd never committed;
 *        it replaces the earlier increment(s) of that version (v0: from the first one with
 *        the bump; v1: from the one whose `prev` it repeats — the chain says exactly which);
 *        lightningd restarted before it, so foreign keys are ON again (`restarts`), unless
 *        it is a byte-identical re-send of the increment it replaces;
 *      · without the bump (`PRAGMA foreign_keys` around table rebuilds): more writes at the
 *        same version, kept;
 *  - v1: each replayed increment's `prev` is the SHA-256 of the replayed increment before
 *    it, or for the first, SHA256("cldcb snapshot" ‖ header36 ‖ SHA256(snapshot)).
 * Anything else — a gap, a first increment of another version, a broken chain — means
 * writes lightningd committed are missing or the data was mixed: fatal
 * ('archive_lost_writes'). A dropped *tail* cannot be seen by any single archive: the
 * verdict says so and shows the data_version and time of the last increment.
 */
import { concatBytes, utf8 } from '../bytes';
import { sha256 } from '../crypto/hash';
import { CldcbError, type ErrorCode } from '../errors';
import type { IncrementEnd, IncrementEvents } from './plaintexts';
import type { StatementBytesFacts } from './statements';

export type WarningSeverity = 'info' | 'warning' | 'error';

/** What the planner warns about (the recovery adds its own kinds: shared/node/recovery/chain.ts). */
export type ChainWarningKind =
  | 'repeat_redo'
  | 'repeat_same_version'
  | 'missing_bump'
  | 'bump_mismatch'
  | 'dv_mismatch'
  | 'no_chain'
  | 'mixed_chain'
  | 'tail_undetectable'
  | 'unanchored'
  | 'count_drift';

export interface ChainWarning {
  readonly kind: ChainWarningKind;
  readonly severity: WarningSeverity;
  /** Plain sentence for the operator; never contains SQL data values or secrets. */
  readonly message: string;
  /** Increment position in the archive, when about one increment. */
  readonly index?: number;
  readonly dataVersion?: number;
}

/** data_version arithmetic (a u32 that wraps, cln-facts §8). */
export const u32Next = (dv: number): number => (dv + 1) % 0x100000000;
export const u32Prev = (dv: number): number => (dv + 0xffffffff) % 0x100000000;

const SNAPSHOT_TAG = utf8('cldcb snapshot');

/**
 * The `prev` of the first increment after a re-upload: SHA256("cldcb snapshot" ‖ header36 ‖
 * SHA256(snapshot)) (docs/PROTOCOL.md §3).
 * @throws CldcbError bad_length unless the header is 36 bytes.
 */
export function snapshotChainValue(reuploadHeader36: Uint8Array, snapshotSha256: Uint8Array): Uint8Array {
  if (reuploadHeader36.length !== 36) throw new CldcbError('bad_length', `reupload header: expected 36 bytes, got ${reuploadHeader36.length}.`);
  const m = concatBytes(SNAPSHOT_TAG, reuploadHeader36, snapshotSha256);
  try {
    return sha256(m);
  } finally {
    m.fill(0); // the header holds the client private key
  }
}

/** What the first pass learnt about one increment (structured-clone data). */
export interface IncrementSummary {
  /** Position in the archive (0-based). */
  readonly index: number;
  /** data_version in the archive framing (u32 before the increment / message 118); not authenticated. */
  readonly framingDv: number;
  /** data_version in the sealed plaintext (authenticated). */
  readonly dataVersion: number;
  /** 0 original, 1 chained, 2 chained with events (shared/cldcb/plaintexts.ts). */
  readonly format: 0 | 1 | 2;
  /** v2: what it says besides statements (a stop, an unanchored link, the backup's servers). */
  readonly events?: IncrementEvents;
  /** v1: unix seconds. */
  readonly time?: number;
  /** v1: hex SHA-256 of the previous increment's plaintext (or the snapshot chain value). */
  readonly prev?: string;
  /** Hex SHA-256 of this increment's whole plaintext. */
  readonly hash: string;
  /** Hex SHA-256 of its statements part, when the reader was asked (comparing servers). */
  readonly bodyHash?: string;
  readonly statements: number;
  /** Contains `UPDATE vars SET intval=… WHERE name='data_version'`. */
  readonly hasBump: boolean;
  /** The bump's `AND intval = K`, when present. */
  readonly bumpOld?: number;
  /** Every statement is a PRAGMA (replayed outside a transaction). */
  readonly pragmaOnly: boolean;
  /** First statement's verb and table (e.g. "INSERT INTO channels"): no data values. */
  readonly firstWords: string;
  readonly chunks: number;
  /** Byte offset of the increment in the archive file. */
  readonly offset?: number;
  /** Footer count, when read from a file (drifts on the original server: bug 3). */
  readonly footerCount?: number;
}

/** One increment's summary from its framing, its decoded end and its statement facts (both passes use it). */
export function summarizeIncrement(
  at: { index: number; framingDv: number; chunks: number; offset: number; footerCount?: number },
  end: IncrementEnd,
  facts: Pick<StatementBytesFacts, 'hasBump' | 'bumpOld' | 'onlyPragmas' | 'firstWords'>,
): IncrementSummary {
  // Built property by property (no object spreads): this runs once per increment.
  const d: { -readonly [K in keyof IncrementSummary]: IncrementSummary[K] } = {
    index: at.index,
    framingDv: at.framingDv,
    dataVersion: end.dataVersion,
    format: end.format,
    hash: end.hash,
    statements: end.count,
    hasBump: facts.hasBump,
    pragmaOnly: facts.onlyPragmas,
    firstWords: facts.firstWords,
    chunks: at.chunks,
    offset: at.offset,
  };
  if (at.footerCount !== undefined) d.footerCount = at.footerCount;
  if (end.time !== undefined) d.time = end.time;
  if (end.prev !== undefined) d.prev = end.prev;
  if (end.events !== undefined) d.events = end.events;
  if (end.bodyHash !== undefined) d.bodyHash = end.bodyHash;
  if (facts.bumpOld !== undefined) d.bumpOld = facts.bumpOld;
  return d;
}

export interface SnapshotSummary {
  /** data_version in the re-upload header (the db_write that triggered it). */
  readonly reuploadDataVersion: number;
  /** Hex SHA256("cldcb snapshot" ‖ header36 ‖ SHA256(snapshot)): what the first v1 `prev` must be. */
  readonly chainHash: string;
  readonly size: number;
}

export interface ReplayPlan {
  /** Indices (archive positions) of the increments to replay, in order. */
  readonly replay: number[];
  readonly warnings: ChainWarning[];
  /** Set when the archive must be refused. */
  readonly fatal?: { readonly code: ErrorCode; readonly message: string };
  /** Format of the replayed increments. */
  readonly chain: 'v1' | 'v0' | 'mixed' | 'none';
  /** dv of the last replayed increment (or the re-upload's when none). */
  readonly finalDataVersion: number;
  /** unix time of the last replayed v1 increment. */
  readonly lastTime?: number;
  /** Replayed increments that advance data_version without the bump statement. */
  readonly missingBumps: number[];
  /**
   * Replayed redos (archive positions): lightningd restarted before each, so its connection
   * started again with foreign keys ON (a byte-identical re-send is not one).
   */
  readonly restarts: number[];
  /**
   * The chain head after the last replayed increment, as the plugin keeps it
   * (shared/node/pluginState.ts): so a recovered node's next increment continues this
   * chain. `hash` is the last increment's plaintext hash (the next prev); `runPrev` the prev a
   * redo of its data_version must carry (what the first increment of that run follows).
   */
  readonly head?: { readonly dataVersion: number; readonly hash: string; readonly runPrev: string };
  /**
   * How the backup ends, when its last increment says (v2 stop event): `stopping` — lightningd
   * let the plugin go and nothing confirmed its final database, so it may lack writes made while
   * it stopped; `stopped` — lightningd exited and its database was this one.
   */
  readonly ending?: 'stopping' | 'stopped';
  /** The backup's servers and quorum, from the last replayed increment that names them. */
  readonly servers?: IncrementEvents['servers'];
  /** Replayed increments that start the chain again (unanchored: the plugin had lost its head). */
  readonly unanchored: number[];
}


// ---------------------------------------------------------------------------------------------
// The plan

function describe(d: IncrementSummary): string {
  if (d.statements === 0) return 'no statements';
  return `${d.statements} statement${d.statements > 1 ? 's' : ''}, first ${d.firstWords}`;
}

/** What the planner decided about one more increment. */
export interface PlanStep {
  /** Replayed increments to drop (from this position of the replay list on) before this one is applied. */
  readonly cutTo?: number;
  /** Archive positions dropped by the cut. */
  readonly dropped?: number[];
  /** Set when the archive must be refused (the increment is not applied). */
  readonly fatal?: { readonly code: ErrorCode; readonly message: string };
  /** A redo: lightningd restarted before this increment (foreign keys are ON again). */
  readonly restart?: boolean;
}

/**
 * The plan, one increment at a time (the pipelined rebuild applies increments as they
 * are unsealed and rolls back to a savepoint when a redo cuts). {@link planReplay} is the
 * same planner over a whole list.
 */
export class ChainPlanner {
  private readonly warnings: ChainWarning[] = [];
  private readonly replay: IncrementSummary[] = [];
  private readonly all: IncrementSummary[] = [];
  private readonly restarted = new Set<number>();
  private readonly unanchored: number[] = [];
  private fatal: ReplayPlan['fatal'];

  constructor(private readonly snapshot: SnapshotSummary) {}

  private warn(kind: ChainWarningKind, severity: WarningSeverity, message: string, d?: IncrementSummary): void {
    this.warnings.push({ kind, severity, message, ...(d ? { index: d.index, dataVersion: d.dataVersion } : {}) });
  }

  private lost(message: string): PlanStep {
    this.fatal ??= { code: 'archive_lost_writes', message };
    return { fatal: this.fatal };
  }

  private expectedPrev(pos: number): string {
    return pos === 0 ? this.snapshot.chainHash : this.replay[pos - 1]!.hash;
  }

  /**
   * Does a chained increment fail to follow the one before it? An `unanchored` one (the plugin
   * had lost its chain head) may: the break is declared inside the sealed increment, so a
   * server cannot forge it; the data_version rules still hold across it, and it is reported.
   */
  private linkBroken(d: IncrementSummary, pos: number): boolean {
    if (d.format === 0 || d.prev === this.expectedPrev(pos)) return false;
    if (d.events?.unanchored) {
      this.unanchored.push(d.index);
      return false;
    }
    return true;
  }

  private broken(d: IncrementSummary, pos: number): PlanStep {
    return this.lost(
      `the chain of increments is broken at increment ${d.index} (data_version ${d.dataVersion}): it does not follow ${pos === 0 ? 'the snapshot' : `increment ${this.replay[pos - 1]!.index}`}. An increment was dropped, reordered or mixed in from another backup; the database would miss writes lightningd committed.`,
    );
  }

  /** Position in the replay list of the first increment of the last one's data_version. */
  private runStart(): number {
    let i = this.replay.length - 1;
    while (i > 0 && this.replay[i - 1]!.dataVersion === this.replay[i]!.dataVersion) i--;
    return i;
  }

  /** Current replay list length (positions of applied increments are 0 … length−1). */
  get length(): number {
    return this.replay.length;
  }

  /** data_version of the replayed increment before the last one (undefined: the last is the first). */
  get previousDataVersion(): number | undefined {
    return this.replay.length >= 2 ? this.replay[this.replay.length - 2]!.dataVersion : undefined;
  }

  /** Decide on the next increment (in archive order). After a fatal step nothing else is accepted. */
  push(d: IncrementSummary): PlanStep {
    if (this.fatal) return { fatal: this.fatal };
    this.all.push(d);
    const R = this.snapshot.reuploadDataVersion;
    if (d.dataVersion !== d.framingDv)
      this.warn('dv_mismatch', 'warning', `increment ${d.index}: the archive framing says data_version ${d.framingDv} but the sealed data says ${d.dataVersion}; the sealed value is used (the server's copy was altered there).`, d);
    if (d.hasBump && d.bumpOld !== undefined && d.bumpOld !== u32Prev(d.dataVersion))
      this.warn('bump_mismatch', 'warning', `increment ${d.index} (data_version ${d.dataVersion}): its data_version bump expects the old value ${d.bumpOld}, not ${u32Prev(d.dataVersion)}.`, d);
    const prev = this.replay[this.replay.length - 1];
    if (!prev) {
      if (d.dataVersion !== R) return this.lost(`the first increment has data_version ${d.dataVersion} but the snapshot was made for ${R}: writes are missing or the archive was mixed with another.`);
      if (this.linkBroken(d, 0)) return this.broken(d, 0);
      this.replay.push(d);
      return {};
    }
    if (d.dataVersion === prev.dataVersion) {
      if (d.hasBump) {
        let runStart = this.replay.length;
        while (runStart > 0 && this.replay[runStart - 1]!.dataVersion === d.dataVersion) runStart--;
        let cut = this.replay.length;
        if (d.format !== 0) {
          // The chain names the increment it replaces: the one whose `prev` it repeats.
          cut = -1;
          for (let i = runStart; i < this.replay.length; i++)
            if (this.expectedPrev(i) === d.prev) {
              cut = i;
              break;
            }
          if (cut < 0) return this.lost(`increment ${d.index} repeats data_version ${d.dataVersion} but follows none of the increments of that version: the chain is broken (dropped, reordered or mixed-in increments).`);
        } else {
          for (let i = runStart; i < this.replay.length; i++)
            if (this.replay[i]!.hasBump) {
              cut = i;
              break;
            }
        }
        const dropped = this.replay.splice(cut);
        this.warn(
          'repeat_redo',
          'info',
          dropped.length > 0
            ? `increment ${d.index} repeats data_version ${d.dataVersion} with the data_version bump: it is the redo of a transaction lightningd never committed and replaces increment${dropped.length > 1 ? 's' : ''} ${dropped.map((x) => x.index).join(', ')}.`
            : `increment ${d.index} repeats data_version ${d.dataVersion} with the bump after writes without it; kept after them.`,
          d,
        );
        if (this.linkBroken(d, this.replay.length)) return this.broken(d, this.replay.length);
        this.replay.push(d);
        if (dropped.length === 0) return {};
        // A redo means lightningd restarted (fresh connection: foreign keys ON), unless it is
        // the plugin re-sending the very same increment after an unknown outcome.
        const restart = !(dropped.length === 1 && dropped[0]!.hash === d.hash);
        if (restart) this.restarted.add(d.index);
        return { cutTo: cut, dropped: dropped.map((x) => x.index), ...(restart ? { restart } : {}) };
      }
      this.warn('repeat_same_version', 'info', `increment ${d.index} repeats data_version ${d.dataVersion} without the bump (${describe(d)}): more writes at the same version, kept.`, d);
      if (this.linkBroken(d, this.replay.length)) return this.broken(d, this.replay.length);
      this.replay.push(d);
      return {};
    }
    if (d.dataVersion !== u32Next(prev.dataVersion))
      return this.lost(
        d.dataVersion > prev.dataVersion
          ? `increment ${d.index} has data_version ${d.dataVersion} right after ${prev.dataVersion}: ${d.dataVersion - prev.dataVersion - 1} version(s) of writes are missing (dropped, or the increments were reordered).`
          : `increment ${d.index} has data_version ${d.dataVersion} after ${prev.dataVersion}: the increments are out of order or mixed from another backup.`,
      );
    if (this.linkBroken(d, this.replay.length)) return this.broken(d, this.replay.length);
    this.replay.push(d);
    return {};
  }

  /** The plan (also when fatal: `fatal` is set). */
  finish(): ReplayPlan {
    const warnings = [...this.warnings];
    const warn = (kind: ChainWarningKind, severity: WarningSeverity, message: string): void => {
      warnings.push({ kind, severity, message });
    };
    const replay = this.replay;
    if (this.all.length === 0 && !this.fatal)
      this.lost(`the archive holds the snapshot but no increment; the snapshot was made for data_version ${this.snapshot.reuploadDataVersion}, whose writes are missing.`);
    let servers: IncrementEvents['servers'];
    for (const d of replay) if (d.events?.servers) servers = d.events.servers;
    const missingBumps: number[] = [];
    for (let i = 0; i < replay.length; i++) {
      const d = replay[i]!;
      const before = i === 0 ? undefined : replay[i - 1]!;
      // An increment without statements at the re-upload's own data_version (the one a re-upload
      // made after lightningd stopped carries, with its stop event) writes nothing: no bump is due.
      if (before === undefined && d.statements === 0 && d.dataVersion === this.snapshot.reuploadDataVersion) continue;
      if ((before === undefined || before.dataVersion !== d.dataVersion) && !d.hasBump) missingBumps.push(d.index);
    }
    if (missingBumps.length > 0)
      warn(
        'missing_bump',
        'warning',
        `${missingBumps.length} increment${missingBumps.length > 1 ? 's' : ''} (${missingBumps.slice(0, 8).join(', ')}${missingBumps.length > 8 ? ', …' : ''}) advance${missingBumps.length > 1 ? '' : 's'} data_version without lightningd's data_version bump statement: not written by lightningd's own commit (hand-made or test data). data_version is set to each one's value, as lightningd's commit would.`,
      );
    const drift = this.all.filter((d) => d.footerCount !== undefined && d.footerCount !== d.index).length;
    if (drift > 0)
      warn('count_drift', 'info', `footer counts differ from the increment numbers in ${drift} place(s): the original server's count drift after a same-version replace (its bug 3); harmless.`);
    const chained = new Set(replay.map((d) => d.format !== 0));
    const chain: ReplayPlan['chain'] = replay.length === 0 ? 'none' : chained.size > 1 ? 'mixed' : chained.has(true) ? 'v1' : 'v0';
    const last = replay[replay.length - 1];
    const unanchored = this.unanchored.filter((i) => replay.some((d) => d.index === i));
    if (unanchored.length > 0)
      warn(
        'unanchored',
        'warning',
        `The chain starts again at increment${unanchored.length > 1 ? 's' : ''} ${unanchored.join(', ')}: the plugin had lost its chain head (its state file) and said so in the sealed increment. The data_versions still follow one another; a server could only have dropped increments of the same data_version just before it.`,
      );
    if (chain === 'v0')
      warn('no_chain', 'warning', 'These increments carry no chain (made by the original cldcb plugin): a dropped tail cannot be excluded, and no time is recorded in them.');
    else if (chain === 'mixed')
      warn('mixed_chain', 'warning', 'Some increments are chained (v1) and some are not (v0): links to and from the unchained ones rest on data_version order only.');
    if (chain === 'v1' || (chain === 'mixed' && last !== undefined && last.format !== 0))
      warn('tail_undetectable', 'info', "A dropped tail cannot be detected inside one archive: compare the time and data_version of the last increment with the node's last known activity, and with other servers.");
    return {
      replay: replay.map((d) => d.index),
      warnings,
      ...(this.fatal ? { fatal: this.fatal } : {}),
      chain,
      finalDataVersion: last ? last.dataVersion : this.snapshot.reuploadDataVersion,
      ...(last !== undefined && last.format !== 0 && last.time !== undefined ? { lastTime: last.time } : {}),
      ...(last?.events?.stop ? { ending: last.events.stop } : {}),
      ...(servers ? { servers } : {}),
      unanchored,
      missingBumps,
      restarts: replay.filter((d) => this.restarted.has(d.index)).map((d) => d.index),
      ...(last ? { head: { dataVersion: last.dataVersion, hash: last.hash, runPrev: this.expectedPrev(this.runStart()) } } : {}),
    };
  }
}

/**
 * Decide the replay and judge the chain.
 * @param snapshot the re-upload's facts.
 * @param increments every increment stored, in archive order.
 */
export function planReplay(snapshot: SnapshotSummary, increments: readonly IncrementSummary[]): ReplayPlan {
  const p = new ChainPlanner(snapshot);
  for (const d of increments) if (p.push(d).fatal) break;
  return p.finish();
}

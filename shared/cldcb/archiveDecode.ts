/**
 * Decode a client's backup (cldcb-protocol §5, §6, §8.2a): an `.arch` file or the
 * recovery download (messages 114/116/118/120/122, §3.3) → the snapshot bytes and each
 * increment's statements, plus a verdict on the data_version chain.
 *
 * Recovery = snapshot + replay of the increments in archive order (§5.2), with the
 * repeated-data_version rule of §8.2a:
 *  - a repeat whose statements contain the `UPDATE vars SET intval=… WHERE name='data_version'`
 *    bump is the redo of a transaction lightningd never committed: it replaces the earlier
 *    increment(s) of that data_version (from the earliest one with a bump onwards);
 *  - a repeat without the bump (e.g. `PRAGMA foreign_keys = OFF;`) is more writes at the
 *    same version: it is kept.
 * Problems are reported as warnings in the verdict; only unreadable or unauthentic data
 * throws.
 */
import { equalBytes, zeroize } from '../bytes';
import { CldcbError } from '../errors';
import { ArchReader, type ArchEvent, type ArchFooter } from './arch';
import { checkPubkey, formatClientId } from './ids';
import type { CldcbMessage } from './messages';
import { decodeReuploadHeader, IncrementPlaintextDecoder } from './plaintexts';
import { nobleBoxCrypto, Unsealer, type BoxCrypto } from './seal';
import { bumpOldValue, isDataVersionBump } from './statements';

export { isDataVersionBump } from './statements';

export interface DecodedIncrement {
  /** Position in the archive (0-based). */
  readonly index: number;
  /** data_version from the (authenticated) plaintext. */
  readonly dataVersion: number;
  readonly statements: string[];
  /** Contains the data_version bump statement. */
  readonly hasBump: boolean;
  /** Number of sealed chunks. */
  readonly chunks: number;
  /** Archive byte offset of the increment, when read from a file. */
  readonly offset?: number;
  /** Footer, when read from a file. */
  readonly footer?: ArchFooter;
}

export type ArchiveWarningKind =
  | 'first_increment_mismatch' // the first increment's dv is not the reupload's dv
  | 'repeat_redo' // a repeated dv with the bump: replaces the earlier one(s)
  | 'repeat_same_version' // a repeated dv without the bump: kept (§8.2a)
  | 'gap' // dv jumped or went back: writes are missing or the archive was tampered with
  | 'missing_bump' // a transactional-looking increment without the bump statement
  | 'bump_mismatch' // the bump's `AND intval = K` is not dv − 1
  | 'dv_mismatch' // the archive framing dv differs from the sealed plaintext's dv
  | 'count_drift' // footer counts differ from the increment numbers (bug 3, harmless)
  | 'torn_tail'; // the file ends inside an increment that was dropped

export interface ArchiveWarning {
  readonly kind: ArchiveWarningKind;
  /** error: the replay cannot be trusted to equal the node's database. */
  readonly severity: 'info' | 'warning' | 'error';
  readonly message: string;
  readonly index?: number;
  readonly dataVersion?: number;
}

export interface ArchiveVerdict {
  /** No warning of severity `error`. */
  readonly ok: boolean;
  /** data_version in the reupload header (the snapshot is the state just before it, §5.2). */
  readonly reuploadDataVersion: number;
  /** The snapshot (`lightningd.sqlite3`) as chunks, unless streamed to `onSnapshotChunk`. */
  readonly snapshot: Uint8Array[];
  readonly snapshotSize: number;
  /** Every increment stored, in archive order. */
  readonly increments: DecodedIncrement[];
  /** What to apply after the snapshot, with the §8.2a rule applied. */
  readonly replay: DecodedIncrement[];
  /** dv of the last increment in `replay`, or the reupload's dv when there is none. */
  readonly finalDataVersion: number;
  readonly warnings: ArchiveWarning[];
  /** The client private key from the reupload, only with `returnClientKey`. Zeroize after use. */
  readonly clientPrivateKey?: Uint8Array;
}

export interface ArchiveDecodeOptions {
  readonly crypto?: Partial<BoxCrypto>;
  /** Receive snapshot chunks as they are decrypted instead of keeping them. */
  readonly onSnapshotChunk?: (chunk: Uint8Array) => void;
  /** 'error' (default): a torn tail throws. 'drop': the incomplete increment is dropped with a warning. */
  readonly tornTail?: 'error' | 'drop';
  /** Include the reupload's client private key in the verdict. */
  readonly returnClientKey?: boolean;
  /** Names the archive in messages. */
  readonly what?: string;
}

const u32Prev = (dv: number): number => (dv + 0xffffffff) % 0x100000000;

/**
 * Push-style decoder over archive events. Feed events with `push`, then `finish`.
 * Holds the node private key by reference until `finish`: zeroize it afterwards.
 */
export class ArchiveDecoder {
  private readonly crypto: BoxCrypto;
  private readonly clientKey: Uint8Array;
  private readonly what: string;
  private phase: 'reupload' | 'between' | 'increment' | 'finished' = 'reupload';
  private reupload: Unsealer | undefined;
  private reuploadDv: number | undefined;
  private clientPriv: Uint8Array | undefined;
  private snapshot: Uint8Array[] = [];
  private snapshotSize = 0;
  private inc: { unsealer: Unsealer; decoder: IncrementPlaintextDecoder; statements: string[]; frameDv: number; chunks: number; offset?: number } | undefined;
  private readonly increments: DecodedIncrement[] = [];
  private readonly warnings: ArchiveWarning[] = [];

  /**
   * @param nodePriv the node private key the data is sealed to.
   * @param clientKey the expected client: 33-byte key (02/03) — from the recognition search.
   * @throws CldcbError bad_input for an invalid client key.
   */
  constructor(
    private readonly nodePriv: Uint8Array,
    clientKey: Uint8Array,
    private readonly opts: ArchiveDecodeOptions = {},
  ) {
    this.clientKey = checkPubkey(clientKey, 'client key');
    this.crypto = { ...nobleBoxCrypto, ...opts.crypto };
    this.what = opts.what ?? `backup of ${formatClientId(this.clientKey)}`;
  }

  private unsealer(what: string): Unsealer {
    return new Unsealer(this.nodePriv, { sender: this.clientKey, crypto: this.crypto, what });
  }

  /**
   * @throws CldcbError not_authentic (sealed data), bad_input / truncated / unsupported
   *   (plaintext), bad_input (events out of order).
   */
  push(e: ArchEvent): void {
    const at = e.offset === undefined ? '' : ` (byte ${e.offset})`;
    switch (e.type) {
      case 'reuploadChunk': {
        if (this.phase !== 'reupload') throw new CldcbError('bad_input', `${this.what}: reupload chunk after the reupload section${at}.`);
        if (this.reupload === undefined) {
          this.reupload = this.unsealer(`${this.what}: reupload`);
          const pt = this.reupload.unseal(e.chunk);
          let header: { clientPrivateKey: Uint8Array; dataVersion: number };
          try {
            header = decodeReuploadHeader(pt);
          } catch (err) {
            throw new CldcbError('bad_input', `${this.what}: the first reupload message is not a reupload header${at}: ${(err as Error).message}`);
          } finally {
            zeroize(pt);
          }
          const pub = this.crypto.secp.publicKey(header.clientPrivateKey);
          if (!equalBytes(pub, this.clientKey)) {
            zeroize(header.clientPrivateKey);
            throw new CldcbError('not_authentic', `${this.what}: the reupload carries the key of another client (${formatClientId(pub)}).`);
          }
          this.clientPriv = header.clientPrivateKey;
          this.reuploadDv = header.dataVersion;
        } else {
          const pt = this.reupload.unseal(e.chunk);
          this.snapshotSize += pt.length;
          if (this.opts.onSnapshotChunk) this.opts.onSnapshotChunk(pt);
          else this.snapshot.push(pt);
        }
        break;
      }
      case 'reuploadEnd':
        if (this.phase !== 'reupload') throw new CldcbError('bad_input', `${this.what}: second end of the reupload section${at}.`);
        if (this.reuploadDv === undefined) throw new CldcbError('truncated', `${this.what}: the reupload section is empty (no header)${at}.`);
        this.reupload!.dispose();
        this.phase = 'between';
        break;
      case 'incrementStart': {
        if (this.phase !== 'between') throw new CldcbError('bad_input', `${this.what}: increment starts out of place${at}.`);
        const what = `${this.what}: increment ${this.increments.length} (dv ${e.dataVersion})`;
        this.inc = { unsealer: this.unsealer(what), decoder: new IncrementPlaintextDecoder(what), statements: [], frameDv: e.dataVersion, chunks: 0 };
        if (e.offset !== undefined) this.inc.offset = e.offset;
        this.phase = 'increment';
        break;
      }
      case 'incrementChunk': {
        if (this.phase !== 'increment' || !this.inc) throw new CldcbError('bad_input', `${this.what}: increment chunk outside an increment${at}.`);
        const pt = this.inc.unsealer.unseal(e.chunk);
        this.inc.chunks++;
        this.inc.statements.push(...this.inc.decoder.push(pt));
        break;
      }
      case 'incrementEnd': {
        if (this.phase !== 'increment' || !this.inc) throw new CldcbError('bad_input', `${this.what}: increment end outside an increment${at}.`);
        const inc = this.inc;
        inc.unsealer.dispose();
        if (inc.chunks === 0) throw new CldcbError('truncated', `${this.what}: increment ${this.increments.length} (dv ${inc.frameDv}) has no chunks${at}.`);
        const { dataVersion } = inc.decoder.finish();
        const d: DecodedIncrement = {
          index: this.increments.length,
          dataVersion,
          statements: inc.statements,
          hasBump: inc.statements.some(isDataVersionBump),
          chunks: inc.chunks,
          ...(inc.offset !== undefined ? { offset: inc.offset } : {}),
          ...(e.footer ? { footer: e.footer } : {}),
        };
        if (dataVersion !== inc.frameDv)
          this.warn('dv_mismatch', 'error', `increment ${d.index}: the archive says data_version ${inc.frameDv} but the sealed data says ${dataVersion}; the sealed value is used.`, d);
        this.increments.push(d);
        this.inc = undefined;
        this.phase = 'between';
        break;
      }
    }
  }

  private warn(kind: ArchiveWarningKind, severity: ArchiveWarning['severity'], message: string, d?: DecodedIncrement): void {
    this.warnings.push({ kind, severity, message, ...(d ? { index: d.index, dataVersion: d.dataVersion } : {}) });
  }

  /** Note that the input ended inside an increment which is dropped (tornTail: 'drop'). */
  dropTornTail(detail: string): void {
    if (this.phase === 'increment' && this.inc) {
      this.inc.unsealer.dispose();
      this.inc = undefined;
      this.phase = 'between';
    }
    this.warn('torn_tail', 'warning', `${detail} The incomplete increment was dropped; it was never acknowledged, so lightningd did not commit it.`);
  }

  /**
   * Check the chain and build the verdict.
   * @throws CldcbError truncated when the input ended inside the reupload or an increment,
   *   or there is no increment.
   */
  finish(): ArchiveVerdict {
    if (this.phase === 'reupload') throw new CldcbError('truncated', `${this.what}: ended inside the reupload section.`);
    if (this.phase === 'increment') throw new CldcbError('truncated', `${this.what}: ended inside increment ${this.increments.length}.`);
    if (this.phase === 'finished') throw new CldcbError('internal', 'ArchiveDecoder.finish called twice (a bug in CLDCB).');
    this.phase = 'finished';
    const replay = this.checkChain();
    const clientPrivateKey = this.clientPriv;
    if (!this.opts.returnClientKey) zeroize(clientPrivateKey);
    return {
      ok: !this.warnings.some((w) => w.severity === 'error'),
      reuploadDataVersion: this.reuploadDv!,
      snapshot: this.snapshot,
      snapshotSize: this.snapshotSize,
      increments: this.increments,
      replay,
      finalDataVersion: replay.length > 0 ? replay[replay.length - 1]!.dataVersion : this.reuploadDv!,
      warnings: this.warnings,
      ...(this.opts.returnClientKey && clientPrivateKey ? { clientPrivateKey } : {}),
    };
  }

  private checkChain(): DecodedIncrement[] {
    const replay: DecodedIncrement[] = [];
    const R = this.reuploadDv!;
    if (this.increments.length === 0) this.warn('gap', 'error', `the archive has no increment after the reupload (dv ${R}); the original server never writes such an archive.`);
    let drift = 0;
    for (const d of this.increments) {
      if (d.footer && d.footer.count !== d.index) drift++;
      if (d.hasBump) {
        const bump = d.statements.find(isDataVersionBump)!;
        const old = bumpOldValue(bump);
        if (old !== undefined && old !== u32Prev(d.dataVersion))
          this.warn('bump_mismatch', 'warning', `increment ${d.index} (dv ${d.dataVersion}): its data_version bump expects the old value ${old}, not ${u32Prev(d.dataVersion)}.`, d);
      }
      const prev = replay[replay.length - 1];
      if (!prev) {
        if (d.dataVersion !== R)
          this.warn('first_increment_mismatch', 'error', `the first increment has data_version ${d.dataVersion} but the reupload was made for ${R}; writes may be missing or doubled.`, d);
        else if (!d.hasBump && d.statements.length > 0) this.noteMissingBump(d);
        replay.push(d);
        continue;
      }
      if (d.dataVersion === prev.dataVersion) {
        if (d.hasBump) {
          // Redo of an uncommitted transaction: drop the run's increments from its first bump on.
          let runStart = replay.length;
          while (runStart > 0 && replay[runStart - 1]!.dataVersion === d.dataVersion) runStart--;
          let cut = replay.length;
          for (let i = runStart; i < replay.length; i++)
            if (replay[i]!.hasBump) {
              cut = i;
              break;
            }
          const dropped = replay.splice(cut);
          this.warn(
            'repeat_redo',
            'warning',
            dropped.length > 0
              ? `increment ${d.index} repeats data_version ${d.dataVersion} with the bump: it is the redo of a transaction lightningd never committed and replaces increment${dropped.length > 1 ? 's' : ''} ${dropped.map((x) => x.index).join(', ')}.`
              : `increment ${d.index} repeats data_version ${d.dataVersion} with the bump after writes without it; kept after them.`,
            d,
          );
        } else {
          this.warn('repeat_same_version', 'info', `increment ${d.index} repeats data_version ${d.dataVersion} without the bump (${this.firstWords(d)}): more writes at the same version, kept.`, d);
        }
        replay.push(d);
        continue;
      }
      if (d.dataVersion !== (prev.dataVersion + 1) % 0x100000000)
        this.warn('gap', 'error', `increment ${d.index} has data_version ${d.dataVersion} after ${prev.dataVersion}: writes are missing or the archive was altered.`, d);
      else if (!d.hasBump && d.statements.length > 0) this.noteMissingBump(d);
      replay.push(d);
    }
    if (drift > 0)
      this.warnings.push({
        kind: 'count_drift',
        severity: 'info',
        message: `footer counts (${this.increments.map((d) => d.footer?.count ?? '-').join(', ')}) differ from the increment numbers: the original server's count drift after a same-dv replace (bug 3); harmless.`,
      });
    return replay;
  }

  private noteMissingBump(d: DecodedIncrement): void {
    this.warn('missing_bump', 'warning', `increment ${d.index} (dv ${d.dataVersion}) advances data_version but has no data_version bump statement (${this.firstWords(d)}).`, d);
  }

  private firstWords(d: DecodedIncrement): string {
    const s = d.statements[0];
    if (s === undefined) return 'no statements';
    return `${d.statements.length} statement${d.statements.length > 1 ? 's' : ''}, first "${s.length > 40 ? s.slice(0, 40) + '…' : s}"`;
  }
}

/**
 * Decode a whole archive file or an event sequence.
 * @param nodePriv node private key (not zeroized here).
 * @param clientKey expected client key (33 bytes, 02/03).
 * @throws CldcbError not_authentic, truncated (torn tail unless `tornTail: 'drop'`),
 *   bad_checksum / bad_input (damaged archive) with byte offsets.
 */
export function decodeArchive(archive: Uint8Array | Iterable<ArchEvent>, nodePriv: Uint8Array, clientKey: Uint8Array, opts: ArchiveDecodeOptions = {}): ArchiveVerdict {
  const dec = new ArchiveDecoder(nodePriv, clientKey, opts);
  if (archive instanceof Uint8Array) {
    const reader = new ArchReader(opts.what === undefined ? {} : { what: opts.what });
    for (const e of reader.push(archive)) dec.push(e);
    try {
      reader.end();
    } catch (err) {
      if (opts.tornTail === 'drop' && err instanceof CldcbError && err.code === 'truncated' && reader.incrementCount > 0) dec.dropTornTail(err.message);
      else throw err;
    }
  } else {
    for (const e of archive) dec.push(e);
  }
  return dec.finish();
}

// ---------------------------------------------------------------------------------------------
// Recovery download → archive events (§3.3)

/**
 * Turns the server's recovery messages (114, 116, 118, 120, 122) into archive events
 * (without footers: they are not transmitted). `done` becomes true at 122; a stream
 * that ends before it is a failure (the server disconnects on read errors).
 */
export class RecoveryAssembler {
  private phase: 'reupload' | 'between' | 'increment' | 'done' = 'reupload';

  get done(): boolean {
    return this.phase === 'done';
  }

  /**
   * @returns events for this message (ping/pong give none).
   * @throws CldcbError protocol_error for a message out of sequence.
   */
  push(m: CldcbMessage): ArchEvent[] {
    const bad = (): never => {
      throw new CldcbError('protocol_error', `recovery download: unexpected ${m.type} ${this.phase === 'done' ? 'after the end' : `in the ${this.phase} part`}.`);
    };
    switch (m.type) {
      case 'ping':
      case 'pong':
        return [];
      case 'response_backedup_reupload_chunk':
        if (this.phase !== 'reupload') bad();
        return [{ type: 'reuploadChunk', chunk: m.chunk }];
      case 'response_backedup_reupload_end':
        if (this.phase !== 'reupload') bad();
        this.phase = 'between';
        return [{ type: 'reuploadEnd' }];
      case 'response_backedup_incremental_new': {
        if (this.phase !== 'between' && this.phase !== 'increment') bad();
        const out: ArchEvent[] = this.phase === 'increment' ? [{ type: 'incrementEnd' }] : [];
        this.phase = 'increment';
        out.push({ type: 'incrementStart', dataVersion: m.dataVersion });
        return out;
      }
      case 'response_backedup_incremental_chunk':
        if (this.phase !== 'increment') bad();
        return [{ type: 'incrementChunk', chunk: m.chunk }];
      case 'response_backedup_incremental_endall': {
        if (this.phase !== 'between' && this.phase !== 'increment') bad();
        const out: ArchEvent[] = this.phase === 'increment' ? [{ type: 'incrementEnd' }] : [];
        this.phase = 'done';
        return out;
      }
      default:
        return bad();
    }
  }

  /** @throws CldcbError truncated when 122 has not arrived. */
  end(): void {
    if (this.phase !== 'done') throw new CldcbError('truncated', 'recovery download: the server stopped before the end marker (message 122); the backup is incomplete.');
  }
}

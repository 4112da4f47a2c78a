/**
 * A whole backup decoded in memory, for tests: the one codec of shared/cldcb (framer,
 * re-upload and increment readers, stream opener, chain planner) composed over an `.arch`
 * file's bytes or a download's events, keeping every statement and plaintext. No rule of its
 * own: what the recovery decides, this decides. Pure-JS crypto by default (inject the native
 * backend with `crypto`).
 */
import { bytesToHex, concatBytes } from '../../../shared/bytes';
import { ArchReader, type ArchEvent, type ArchFooter } from '../../../shared/cldcb/arch';
import { ChainPlanner, type ChainWarning, type IncrementSummary, type ReplayPlan } from '../../../shared/cldcb/chain';
import { ArchiveIncrements } from '../../../shared/cldcb/increments';
import { ReuploadOpener } from '../../../shared/cldcb/plaintexts';
import { IncrementStreams, nobleBoxCrypto, type BoxCrypto } from '../../../shared/cldcb/seal';
import { sha256 } from '../../../shared/crypto/hash';
import { CldcbError } from '../../../shared/errors';

export interface DecodedIncrement {
  /** Position in the archive (0-based). */
  readonly index: number;
  /** data_version from the (authenticated) plaintext. */
  readonly dataVersion: number;
  readonly format: 0 | 1 | 2;
  readonly time?: number;
  readonly statements: string[];
  readonly hasBump: boolean;
  readonly chunks: number;
  /** The whole plaintext. */
  readonly plaintext: Uint8Array;
  /** Archive byte offset of the increment, when read from a file. */
  readonly offset?: number;
  /** Its footer, when read from a file. */
  readonly footer?: ArchFooter;
  /** What the chain planner saw. */
  readonly summary: IncrementSummary;
}

export interface DecodedArchive {
  /** The chain planner found nothing fatal. */
  readonly ok: boolean;
  /** data_version of the re-upload header (the snapshot is the state just before it). */
  readonly reuploadDataVersion: number;
  /** The snapshot (`lightningd.sqlite3`) as unsealed pieces. */
  readonly snapshot: Uint8Array[];
  readonly snapshotSize: number;
  /** Every increment stored, in archive order. */
  readonly increments: DecodedIncrement[];
  /** What the recovery applies after the snapshot, in order. */
  readonly replay: DecodedIncrement[];
  /** The planner's verdict. */
  readonly plan: ReplayPlan;
  /** dv of the last replayed increment (or the re-upload's). */
  readonly finalDataVersion: number;
  /** The planner's warnings, after a torn-tail one when the tail was dropped. */
  readonly warnings: (Omit<ChainWarning, 'kind'> & { readonly kind: ChainWarning['kind'] | 'torn_tail' })[];
  /** The re-upload's client private key, with `returnClientKey`. */
  readonly clientPrivateKey?: Uint8Array;
}

export interface DecodeOptions {
  readonly crypto?: BoxCrypto;
  /** 'error' (default): a torn tail throws. 'drop': the incomplete increment is dropped with a warning. */
  readonly tornTail?: 'error' | 'drop';
  readonly returnClientKey?: boolean;
  readonly what?: string;
}

/**
 * Decode a whole archive file or event sequence (footers checked: a damaged one throws).
 * @throws CldcbError not_authentic, truncated (torn tail unless `tornTail: 'drop'`),
 *   bad_checksum / bad_input (damaged archive), unsupported.
 */
export function decodeArchive(archive: Uint8Array | Iterable<ArchEvent>, nodePriv: Uint8Array, clientKey: Uint8Array, opts: DecodeOptions = {}): DecodedArchive {
  const crypto = opts.crypto ?? nobleBoxCrypto;
  const what = opts.what ?? 'archive';
  const reupload = new ReuploadOpener(nodePriv, clientKey, { crypto, what, keepClientKey: Boolean(opts.returnClientKey) });
  const streams = new IncrementStreams(nodePriv, clientKey, crypto);
  const incs = new ArchiveIncrements(streams, what, { decode: true });
  const snapshot: Uint8Array[] = [];
  const increments: DecodedIncrement[] = [];
  const warnings: DecodedArchive['warnings'] = [];
  let statements: string[] = [];
  let pieces: Uint8Array[] = [];
  let planner: ChainPlanner | undefined;
  let fatal = false;
  let tornDropped = false;
  const onEvent = (e: ArchEvent): void => {
    switch (e.type) {
      case 'reuploadChunk': {
        const pt = reupload.open(e.chunk);
        if (pt) snapshot.push(pt.slice());
        break;
      }
      case 'reuploadEnd': {
        reupload.end();
        const snap = concatBytes(...snapshot);
        planner = new ChainPlanner({ reuploadDataVersion: reupload.dataVersion, chainHash: bytesToHex(reupload.chainValue(sha256(snap))), size: snap.length });
        break;
      }
      case 'incrementStart':
        incs.start(e.dataVersion, e.offset);
        statements = [];
        pieces = [];
        break;
      case 'incrementChunk': {
        const r = incs.chunk(e.chunk);
        pieces.push(r.plaintext.slice());
        statements.push(...r.statements);
        break;
      }
      case 'incrementEnd': {
        const { summary } = incs.end(e.footer);
        const d: DecodedIncrement = {
          index: summary.index,
          dataVersion: summary.dataVersion,
          format: summary.format,
          ...(summary.time !== undefined ? { time: summary.time } : {}),
          statements,
          hasBump: summary.hasBump,
          chunks: summary.chunks,
          plaintext: concatBytes(...pieces),
          ...(e.offset !== undefined ? { offset: summary.offset } : {}),
          ...(e.footer ? { footer: e.footer } : {}),
          summary,
        };
        increments.push(d);
        if (!planner) throw new CldcbError('bad_input', `${what}: an increment before the end of the re-upload section.`);
        if (!fatal && planner.push(summary).fatal) fatal = true;
        break;
      }
    }
  };
  try {
    if (archive instanceof Uint8Array) {
      const reader = new ArchReader({ what });
      for (const e of reader.push(archive)) onEvent(e);
      try {
        reader.end();
      } catch (err) {
        if (opts.tornTail === 'drop' && err instanceof CldcbError && err.code === 'truncated' && reader.incrementCount > 0) {
          tornDropped = true;
          warnings.push({ kind: 'torn_tail', severity: 'warning', message: `${err.message} The incomplete increment was dropped; it was never acknowledged, so lightningd did not commit it.` });
        } else throw err;
      }
    } else for (const e of archive) onEvent(e);
    if (!planner) throw new CldcbError('truncated', `${what}: ended inside the re-upload section.`);
    if (incs.current && !tornDropped) throw new CldcbError('truncated', `${what}: ended inside increment ${incs.count}.`);
    const plan = planner.finish();
    warnings.push(...plan.warnings);
    const key = reupload.takeClientKey();
    return {
      ok: plan.fatal === undefined,
      reuploadDataVersion: reupload.dataVersion,
      snapshot,
      snapshotSize: snapshot.reduce((n, p) => n + p.length, 0),
      increments,
      replay: plan.replay.map((i) => increments[i]!),
      plan,
      finalDataVersion: plan.finalDataVersion,
      warnings,
      ...(opts.returnClientKey && key ? { clientPrivateKey: key } : {}),
    };
  } finally {
    reupload.dispose();
    streams.dispose();
  }
}

/**
 * Pass 1 over a `<cid>.arch` file (cldcb-protocol §5, §6.1), streaming from disk so memory
 * stays flat whatever the archive size:
 *  - the re-upload: first box = cpk ‖ dv (the cpk must be the key of the expected client id,
 *    and the box header must be signed by it), then the database, written to `snapshotFd`
 *    as it is unsealed (when given) and hashed for the v1 chain;
 *  - every increment: unsealed chunk by chunk (tag checked), decoded (v0/v1), summarised
 *    (data_version, bump, PRAGMA-only, hash of the plaintext, v1 time and prev) — statements
 *    are not kept;
 *  - footers: checked (hash, length, data_version) and reported as warnings only: they are
 *    the server's bookkeeping, not part of the sealed data;
 *  - a torn tail (the file ends inside an increment) is dropped with a warning that says only
 *    what is known: a server that died while appending leaves one (that increment was never
 *    acknowledged), but so does an incomplete copy, which may lack more (issue 14 #3).
 *
 * Reads with a plain file descriptor (no streams): the same code runs in a worker thread
 * and inline, and cancellation is a cheap flag check between blocks.
 */
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { createHash, hash as nodeHash } from 'node:crypto';
import { CldcbError } from '../../errors';
import { bytesToHex, zeroize } from '../../bytes';
import { ArchReader, type ArchEvent, type ArchFooter } from '../../cldcb/arch';
import type { IncrementSummary, SnapshotSummary } from '../../cldcb/chain';
import { formatClientId, checkPubkey } from '../../cldcb/ids';
import { ArchiveIncrements } from '../../cldcb/increments';
import { ReuploadOpener, type IncrementalHash } from '../../cldcb/plaintexts';
import { IncrementStreams, type BoxCrypto } from '../../cldcb/seal';
import { nativeBoxCrypto } from '../nativeSeal';
import { SnapshotHasher } from './snapshotHasher';
import type { RecoveryWarning } from './chain';

/** Read size: large enough for speed, small enough for flat memory. */
export const READ_BLOCK = 1 << 20;

export function sha256Stream(): IncrementalHash & { digestBytes(): Uint8Array } {
  // Most increments are one piece: hash it in one call at the end instead of making a Hash
  // object per increment. The piece is kept by reference: callers pass fresh AEAD outputs
  // that nobody changes afterwards.
  let only: Uint8Array | undefined;
  let h: ReturnType<typeof createHash> | undefined;
  const empty = new Uint8Array(0);
  return {
    update(d: Uint8Array) {
      if (h) h.update(d);
      else if (only === undefined) only = d;
      else {
        h = createHash('sha256').update(only).update(d);
        only = undefined;
      }
    },
    digestHex: () => (h ? h.digest('hex') : nodeHash('sha256', only ?? empty, 'hex')),
    digestBytes: () => new Uint8Array(h ? h.digest() : nodeHash('sha256', only ?? empty, 'buffer')),
  };
}

export interface ScanOptions {
  /** Node private key (not zeroized here). */
  readonly nodePriv: Uint8Array;
  /** Expected client (33-byte compressed key, 02/03). */
  readonly clientKey: Uint8Array;
  readonly crypto?: BoxCrypto;
  /** Write the unsealed database here, as it arrives. */
  readonly snapshotFd?: number;
  /** Keep the re-upload's client private key in the result (for a fresh wrapper). */
  readonly returnClientKey?: boolean;
  readonly cancelled?: () => boolean;
  /** Bytes of the archive read so far, of `total`. */
  readonly progress?: (bytes: number, total: number) => void;
  /** Names the archive in messages. */
  readonly what?: string;
  /** Stream keys derived beforehand (keys.ts), 32 bytes per increment, zero = derive here. */
  readonly streamKeys?: Uint8Array;
  /** Hash each increment's statements part too (IncrementSummary.bodyHash), to compare servers. */
  readonly contentHashes?: boolean;
}

export interface ScanResult {
  readonly size: number;
  readonly mtimeMs: number;
  readonly snapshot: SnapshotSummary;
  readonly increments: IncrementSummary[];
  readonly warnings: RecoveryWarning[];
  /** Byte offset of the first increment (just after the re-upload section). */
  readonly incrementsOffset: number;
  /** The client private key from the re-upload (only with returnClientKey). Zeroize after use. */
  readonly clientPrivateKey?: Uint8Array;
  /** Every increment's stream key (32 bytes each) for pass 2. Zeroize after use. */
  readonly streamKeys: Uint8Array;
}

export function cancelledError(): CldcbError {
  return new CldcbError('cancelled', 'Cancelled. Nothing was written.');
}

/**
 * Scan an archive file.
 * @throws CldcbError not_authentic (a box does not open, or was made by another client),
 *   truncated (the re-upload section is incomplete, an increment's plaintext ends early),
 *   unsupported / bad_input (malformed plaintext), file_not_found / io_error, cancelled.
 */
export function scanArchive(path: string, opts: ScanOptions): ScanResult {
  const clientKey = checkPubkey(opts.clientKey, 'client key');
  const cid = formatClientId(clientKey);
  const what = opts.what ?? `archive ${cid}.arch`;
  const crypto = opts.crypto ?? nativeBoxCrypto();
  const warnings: RecoveryWarning[] = [];
  const increments: IncrementSummary[] = [];
  let clientPriv: Uint8Array | undefined;
  let snapSha: SnapshotHasher | undefined;
  const reupload = new ReuploadOpener(opts.nodePriv, clientKey, { crypto, what, keepClientKey: Boolean(opts.returnClientKey) });
  const given = opts.streamKeys;
  const keyAt = (i: number): Uint8Array | undefined => {
    if (!given || given.length < (i + 1) * 32) return undefined;
    const k = given.subarray(i * 32, i * 32 + 32);
    return k.some((x) => x !== 0) ? k.slice() : undefined;
  };
  const streams = new IncrementStreams(opts.nodePriv, clientKey, crypto, keyAt);
  const keysOut: Uint8Array[] = [];
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    reupload.dispose();
    streams.dispose();
    throw new CldcbError(code === 'ENOENT' ? 'file_not_found' : 'io_error', `${path}: cannot open the archive (${code ?? 'I/O error'}).`);
  }
  try {
    const st = fstatSync(fd);
    const reader = recoveryArchReader(what);
    snapSha = new SnapshotHasher(st.size);
    const hasher = snapSha;
    const incs = new ArchiveIncrements(streams, what, { hash: sha256Stream, ...(opts.contentHashes ? { bodyHash: sha256Stream } : {}) });
    let snapshotSize = 0;
    let incrementsOffset = -1;
    const onEvent = (e: ArchEvent): void => {
      switch (e.type) {
        case 'reuploadChunk': {
          const pt = reupload.open(e.chunk);
          if (pt === undefined) break; // the header
          snapshotSize += pt.length;
          if (opts.snapshotFd !== undefined) writeAll(opts.snapshotFd, pt);
          hasher.update(pt); // takes ownership (may move it to the hashing thread)
          break;
        }
        case 'reuploadEnd':
          reupload.end();
          incrementsOffset = e.offset! + 2;
          break;
        case 'incrementStart':
          incs.start(e.dataVersion, e.offset);
          break;
        case 'incrementChunk':
          incs.chunk(e.chunk);
          break;
        case 'incrementEnd': {
          const { summary } = incs.end(e.footer);
          if (incs.streamKey) keysOut.push(incs.streamKey.slice());
          const fw = footerWarning(summary.index, summary.framingDv, e.footer!);
          if (fw) warnings.push(fw);
          increments.push(summary);
          break;
        }
      }
    };

    const torn = walkArchiveFile(fd, reader, { onEvent, ...(opts.cancelled ? { cancelled: opts.cancelled } : {}), progress: (pos) => opts.progress?.(pos, st.size) });
    if (torn !== undefined) warnings.push(tornTailWarning(what, increments[increments.length - 1]!, torn));
    const snapshot: SnapshotSummary = {
      reuploadDataVersion: reupload.dataVersion,
      chainHash: bytesToHex(reupload.chainValue(snapSha.digest())),
      size: snapshotSize,
    };
    clientPriv = reupload.takeClientKey();
    return {
      size: st.size,
      mtimeMs: st.mtimeMs,
      snapshot,
      increments,
      warnings,
      incrementsOffset,
      ...(clientPriv ? { clientPrivateKey: clientPriv } : {}),
      streamKeys: joinKeys(keysOut),
    };
  } catch (e) {
    zeroize(clientPriv);
    throw e;
  } finally {
    snapSha?.dispose();
    reupload.dispose();
    streams.dispose();
    closeSync(fd);
  }
}

function joinKeys(keys: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(keys.length * 32);
  keys.forEach((k, i) => {
    out.set(k, i * 32);
    k.fill(0);
  });
  return out;
}

/**
 * Read buffers, reused round-robin. ArchReader keeps views only into the last item that is
 * not complete yet — at most two blocks back, since an item (≤ 65,535-byte chunk, 46-byte
 * footer) is smaller than a block — so a ring of three is never overwritten while in use,
 * and memory does not wait for the garbage collector (1 MiB blocks are external memory).
 */
export class BlockRing {
  private readonly blocks: Uint8Array[] = [];
  private next = 0;
  constructor(private readonly size = 3) {}
  get(): Uint8Array {
    let b = this.blocks[this.next];
    if (!b) {
      const x = Buffer.allocUnsafeSlow(READ_BLOCK);
      b = new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
      this.blocks[this.next] = b;
    }
    this.next = (this.next + 1) % this.size;
    return b;
  }
}

export function writeAll(fd: number, data: Uint8Array): void {
  let o = 0;
  while (o < data.length) o += writeSync(fd, data, o, data.length - o);
}

/**
 * A footer the one framer found damaged (§6.2; ArchReader `checkFooters: 'report'`), as a
 * warning only: footers are the server's bookkeeping; the sealed data is what counts.
 */
export function footerWarning(index: number, framingDv: number, f: ArchFooter): RecoveryWarning | undefined {
  if (!f.problems) return undefined;
  return {
    kind: 'footer_damaged',
    severity: 'warning',
    index,
    dataVersion: framingDv,
    message: `the footer of increment ${index} (byte ${f.offset}) is damaged: ${f.problems.join('; ')}. The sealed data verified, so the database is not affected, but the server's copy is corrupted: check its disk.`,
  };
}

/**
 * The warning for a torn tail the reader reported (`truncated` after ≥ 1 complete increment).
 * It states what is known and nothing more (issue 14 #3): a server that stopped while
 * appending leaves a torn tail (that increment was never acknowledged), and so does a copy
 * of the server directory cut short, which may lack more increments than the torn one — no
 * file can tell the two apart.
 */
export function tornTailWarning(what: string, last: { readonly dataVersion: number; readonly time?: number }, readerMessage: string): RecoveryWarning {
  const when = last.time !== undefined ? `, sealed at ${new Date(last.time * 1000).toISOString().replace('.000Z', 'Z')}` : '';
  return {
    kind: 'torn_tail',
    severity: 'warning',
    dataVersion: last.dataVersion,
    message: `${what} ends inside an increment: the last complete one is data_version ${last.dataVersion}${when}; the incomplete bytes after it are ignored. A server that stopped while appending leaves this (that increment was never acknowledged), but so does an incomplete copy of the server directory, which may lack more increments: check that ${last.dataVersion} is the node's last data_version (--last-known-data-version, other servers) before starting lightningd. (${readerMessage})`,
  };
}

/** node:crypto SHA-256 for the framer's footer check (one per increment). */
const footerSha256 = (b: Uint8Array): Uint8Array => nodeHash('sha256', b, 'buffer');

/** The one framer as the recovery reads files: views into the read blocks, footers reported, not thrown. */
export function recoveryArchReader(what: string): ArchReader {
  return new ArchReader({ checkFooters: 'report', sha256: footerSha256, what, views: true });
}

export interface FileWalk {
  /** Start here (a reader primed to skip what lies before, e.g. the re-upload section). Default 0. */
  readonly from?: number;
  readonly cancelled?: () => boolean;
  /** Bytes of the file read so far. */
  readonly progress?: (bytes: number) => void;
  /** Each event in file order; return true to stop reading. */
  readonly onEvent: (e: ArchEvent) => boolean | void;
}

/**
 * Read an archive file through `reader` in 1 MiB blocks (reused: see {@link BlockRing}).
 * @returns the reader's message when the file ends inside an increment after at least one
 *   complete one (a torn tail, for the caller to warn about), undefined when it ends cleanly
 *   or the walk was stopped.
 * @throws CldcbError cancelled, truncated (no complete increment), and whatever `onEvent` throws.
 */
export function walkArchiveFile(fd: number, reader: ArchReader, walk: FileWalk): string | undefined {
  let pos = walk.from ?? 0;
  const ring = new BlockRing();
  for (;;) {
    if (walk.cancelled?.()) throw cancelledError();
    const buf = ring.get();
    const n = readSync(fd, buf, 0, buf.length, pos);
    if (n === 0) break;
    pos += n;
    for (const e of reader.push(buf.subarray(0, n))) if (walk.onEvent(e) === true) return undefined;
    walk.progress?.(pos);
  }
  try {
    reader.end();
    return undefined;
  } catch (err) {
    if (err instanceof CldcbError && err.code === 'truncated' && reader.incrementCount > 0) return err.message;
    throw err;
  }
}

/**
 * Archive store: one `<cid>.arch` per client, in the original's format (cldcb-protocol §6.1,
 * shared/cldcb/arch.ts):
 *
 *   reupload section : (u16 len ‖ chunk)* ‖ 00 00
 *   increment*       : u32 dv ‖ (u16 len ‖ chunk)* ‖ 00 00 ‖ footer(46)
 *   footer           : u64 last_length ‖ u32 dv ‖ u16 count ‖ SHA256(previous 14 bytes)
 *
 * Decisions (docs/PROTOCOL.md §2, cldcb-protocol §6.3, §8) — see `judge`:
 * - never truncate on a repeated data_version: it is appended as a further increment;
 * - footer counts are true (index of the increment since the re-upload);
 * - re-upload when there is no archive, a damaged one, a data_version gap, the increment
 *   limit, or when the increments outgrow the re-upload section (the README's plan);
 * - appends are written in place after the last footer and acknowledged only after
 *   fdatasync; any failure or disconnect before the end truncates back (fdatasync'ed) to
 *   the previous size. A crash mid-append can leave a torn tail — bytes after the last
 *   complete increment, never acknowledged — which is cut off the next time the archive is
 *   opened (an increment is complete only with a valid footer);
 * - re-uploads go to unique temp files (0600): the incoming increment to `<cid>.i.<hex>.tmp`,
 *   the snapshot to `<cid>.r.<hex>.tmp`, then the increment is appended, the file fsynced,
 *   renamed over `<cid>.arch` and the directory fsynced before the acknowledgement. A crash
 *   at any point leaves the previous archive intact; stale temp files are removed at start.
 *
 * Callers serialise work on one client with the per-client lock (keyedLock.ts): every method
 * that takes a client key must be called with that client's lock held, except streaming
 * from an {@link ArchiveReadHandle}, which reads a fixed committed prefix of an open inode.
 */
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { link, open, readdir, rename, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { bytesToHex, concatBytes, u16be, u32be } from '../shared/bytes';
import { ArchReader, encodeFooter, FOOTER_SIZE } from '../shared/cldcb/arch';
import { CldcbError } from '../shared/errors';
import { fsyncDirAsync, isAtomicTemp, readAt, writeAllAt } from './fsutil';
import { errText, type Logger } from './log';

/** What the store knows about a complete archive. */
export interface ArchiveInfo {
  /** Committed size in bytes (ends right after the last footer). */
  readonly size: number;
  /** Size of the re-upload section including chunk lengths and its terminator. */
  readonly reuploadBytes: number;
  /** Number of increments. */
  readonly increments: number;
  /** Total size of the increments, footers included. */
  readonly incrementBytes: number;
  readonly lastDataVersion: number;
  /** Count field of the last footer as stored (the original's drift included). */
  readonly lastFooterCount: number;
  /** Inode and modification time of the file the info describes (to notice outside changes). */
  readonly ino: number;
  readonly mtimeMs: number;
}

export type Inspection =
  | { readonly kind: 'missing' }
  | { readonly kind: 'ok'; readonly info: ArchiveInfo }
  | { readonly kind: 'damaged'; readonly reason: string; readonly goodEnd: number };

export interface Judgement {
  readonly action: 'append' | 'reupload';
  /** Why, for the log. */
  readonly reason: string;
}

export interface StorageLimits {
  /** Largest footer count before a re-upload is asked (the original's max_count, 19999 ⇒ 20000 increments). */
  readonly maxCount: number;
  /** Re-upload when the increments exceed max(re-upload section, this many bytes). */
  readonly minLogBytes: number;
  /** Largest single increment (chunks with their lengths). */
  readonly maxIncrementBytes: number;
  /** Largest re-upload section. */
  readonly maxReuploadBytes: number;
}

export const DEFAULT_STORAGE_LIMITS: StorageLimits = {
  maxCount: 19999,
  minLogBytes: 1 << 20,
  maxIncrementBytes: 1 << 30,
  maxReuploadBytes: 64 * 2 ** 30,
};

const ARCH_RE = /^c[23][0-9a-f]{64}\.arch$/;
/** Our temp files and the original's (`<cid>.r.tmp`, `<cid>.i.tmp`). */
const ARCH_TEMP_RE = /^c[23][0-9a-f]{64}\.[ri](\.[0-9a-f]{12})?\.tmp$/;
/** Small files written by writeFileAtomicAsync / atomicFile.ts in the server directory. */
const ATOMIC_BASES = ['recognition_codes', 'read_verifiers', 'server_id', 'port', 'secret', 'cldcb-server.pid'];

/**
 * `c…` text of a 33-byte client key that was already validated (by the Noise handshake, or
 * by the message decoder for message 112). Unlike ids.ts formatClientId it does not check
 * the point again: that costs a square root (~0.1 ms), and this runs several times per request.
 */
export const cidText = (clientKey33: Uint8Array): string => 'c' + bytesToHex(clientKey33).slice(1);

/** Positional reads through a 64 KiB window (the scan reads only lengths and footers). */
class WindowReader {
  private start = 0;
  private data: Uint8Array = new Uint8Array(0);
  constructor(
    private readonly fh: FileHandle,
    readonly size: number,
  ) {}

  /** `n` bytes at `pos`, or null when the file ends first. */
  async at(pos: number, n: number): Promise<Uint8Array | null> {
    if (pos + n > this.size) return null;
    if (pos < this.start || pos + n > this.start + this.data.length) {
      this.start = pos;
      this.data = await readAt(this.fh, Math.min(Math.max(n, 65536), this.size - pos), pos);
      if (this.data.length < n) return null;
    }
    return this.data.subarray(pos - this.start, pos - this.start + n);
  }
}

type ScanResult =
  | { kind: 'ok'; info: ArchiveInfo; tornFrom?: number; tornWhy?: string }
  /** `goodEnd`: end of the last intact increment (or of the re-upload section; 0 if that is cut). */
  | { kind: 'damaged'; reason: string; goodEnd: number };

/**
 * Walk an archive's structure without reading chunk contents — the one framer
 * (shared/cldcb/arch.ts ArchReader) skipping chunk bodies: chunk lengths, data_versions and
 * footers (checked; counts only reported). An archive that ends early after ≥ 1 complete
 * increment has a torn tail (`tornFrom`).
 */
export async function scanArchiveFraming(fh: FileHandle, what: string): Promise<ScanResult> {
  const st = await fh.stat();
  const r = new WindowReader(fh, st.size);
  const reader = new ArchReader({ what });
  let reuploadBytes = -1;
  let incrementBytes = 0;
  let lastDv = 0;
  let lastCount = 0;
  let incStart = 0;
  try {
    for (;;) {
      const want = reader.wants;
      if (want.offset + want.bytes > st.size) break;
      if (want.chunkBody) {
        reader.skip();
        continue;
      }
      for (const e of reader.push((await r.at(want.offset, want.bytes))!)) {
        if (e.type === 'reuploadEnd') reuploadBytes = e.offset! + 2;
        else if (e.type === 'incrementStart') incStart = e.offset!;
        else if (e.type === 'incrementEnd') {
          incrementBytes += e.offset! + FOOTER_SIZE - incStart;
          lastDv = e.footer!.dataVersion;
          lastCount = e.footer!.count;
        }
      }
    }
  } catch (e) {
    if (!(e instanceof CldcbError)) throw e;
    return { kind: 'damaged', reason: e.message, goodEnd: reader.incrementCount > 0 ? reader.lastGoodEnd() : Math.max(0, reuploadBytes) };
  }
  let torn: string | undefined;
  try {
    reader.end(st.size);
  } catch (e) {
    if (!(e instanceof CldcbError)) throw e;
    if (reader.incrementCount === 0) return { kind: 'damaged', reason: e.message, goodEnd: Math.max(0, reuploadBytes) };
    torn = e.message;
  }
  const info: ArchiveInfo = {
    size: reuploadBytes + incrementBytes,
    reuploadBytes,
    increments: reader.incrementCount,
    incrementBytes,
    lastDataVersion: lastDv,
    lastFooterCount: lastCount,
    ino: st.ino,
    mtimeMs: st.mtimeMs,
  };
  return torn === undefined ? { kind: 'ok', info } : { kind: 'ok', info, tornFrom: info.size, tornWhy: torn };
}

/**
 * An increment being appended in place. The newest chunk is held back until the next
 * message shows whether more follow, so a one-chunk increment costs one write (chunk,
 * terminator and footer together) and one fdatasync; memory stays at one chunk.
 */
export class AppendWriter {
  private pos: number;
  /** u32 dv until the first write. */
  private head: Uint8Array | null;
  /** The newest chunk, not yet written. */
  private held: Uint8Array | null = null;
  private done = false;
  /**
   * A write was attempted: the file may hold bytes past the committed size even if that
   * write failed (a short write before ENOSPC/EFBIG advances nothing we count).
   */
  private touched = false;
  /** Bytes of chunks (with their lengths) received so far. */
  bytes = 0;

  constructor(
    private readonly store: ArchiveStore,
    private readonly fh: FileHandle,
    private readonly clientKey: Uint8Array,
    private readonly info: ArchiveInfo,
    readonly dataVersion: number,
  ) {
    this.pos = info.size;
    this.head = u32be(dataVersion);
  }

  /** Bytes to write for the held chunk (with the dv before the first one). */
  private takeHeld(): Uint8Array[] {
    const parts: Uint8Array[] = [];
    if (this.head) parts.push(this.head);
    this.head = null;
    if (this.held) parts.push(u16be(this.held.length), this.held);
    this.held = null;
    return parts;
  }

  /** Accept one chunk (1..65535 bytes); writes the previous one. @throws CldcbError bad_length over the limit; fs errors. */
  async chunk(c: Uint8Array): Promise<void> {
    if (c.length < 1 || c.length > 0xffff) throw new CldcbError('bad_length', `chunk of ${c.length} bytes (must be 1..65535).`);
    this.bytes += 2 + c.length;
    if (this.bytes > this.store.limits.maxIncrementBytes)
      throw new CldcbError('bad_length', `increment larger than the limit of ${this.store.limits.maxIncrementBytes} bytes.`);
    if (this.held) {
      const data = concatBytes(...this.takeHeld());
      this.touched = true;
      await writeAllAt(this.fh, data, this.pos);
      this.pos += data.length;
    }
    this.held = c;
  }

  /** Held chunk + terminator + footer (true count), fdatasync. After this resolves the increment is durable. */
  async commit(): Promise<ArchiveInfo> {
    const body = this.info.size;
    const parts = this.takeHeld();
    const before = parts.reduce((n, p) => n + p.length, 0);
    const lastLength = this.pos + before + 2 - body;
    const count = this.info.increments & 0xffff; // index of this increment since the re-upload
    const tail = concatBytes(...parts, new Uint8Array(2), encodeFooter(lastLength, this.dataVersion, count));
    this.touched = true;
    await writeAllAt(this.fh, tail, this.pos);
    this.pos += tail.length;
    await this.fh.datasync();
    this.done = true;
    this.store.releaseHandle(this.clientKey, this.fh);
    const info: ArchiveInfo = {
      ...this.info,
      mtimeMs: NaN, // learnt from the next stat (ino and size identify our own write)
      size: this.pos,
      increments: this.info.increments + 1,
      incrementBytes: this.info.incrementBytes + (this.pos - body),
      lastDataVersion: this.dataVersion,
      lastFooterCount: count,
    };
    this.store.remember(this.clientKey, info);
    return info;
  }

  /**
   * Undo: truncate back to the previous size (fdatasync'ed) — at once, also after a write
   * that failed part-way (ENOSPC, EFBIG), so no unacknowledged bytes wait for the next
   * open. Never throws.
   */
  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    this.held = null;
    if (!this.touched) {
      this.store.releaseHandle(this.clientKey, this.fh); // nothing was written
      return;
    }
    try {
      await this.fh.truncate(this.info.size);
      await this.fh.datasync();
      this.store.remember(this.clientKey, { ...this.info, mtimeMs: NaN });
      this.store.releaseHandle(this.clientKey, this.fh);
    } catch (e) {
      // The torn tail stays; it is cut when the archive is next opened (scanArchiveFraming).
      this.store.forget(this.clientKey);
      this.store.releaseHandle(this.clientKey, this.fh, true);
      this.store.log.error(`${cidText(this.clientKey)}.arch: could not roll back an unfinished increment (${errText(e)}); it will be cut at the next open.`);
    }
  }
}

/** A re-upload being assembled in temp files. */
export class ReuploadWriter {
  private incPos = 0;
  private recPos = 0;
  private incEnded = false;
  private recFh: FileHandle | undefined;
  private recPath: string | undefined;
  private done = false;
  /** Increment bytes (chunks with lengths) so far. */
  incrementBytes = 0;

  constructor(
    private readonly store: ArchiveStore,
    private readonly clientKey: Uint8Array,
    private readonly incFh: FileHandle,
    private readonly incPath: string,
    readonly dataVersion: number,
    /** Keep the archive being replaced, and why: it is damaged, or the client rewound its data_version. */
    private readonly keepOld: 'damaged' | 'rewound' | null,
  ) {}

  /** Increment chunk (68). */
  async incrementChunk(c: Uint8Array): Promise<void> {
    if (this.incEnded) throw new CldcbError('protocol_error', 'increment chunk after the increment ended.');
    if (c.length < 1 || c.length > 0xffff) throw new CldcbError('bad_length', `chunk of ${c.length} bytes (must be 1..65535).`);
    this.incrementBytes += 2 + c.length;
    if (this.incrementBytes > this.store.limits.maxIncrementBytes)
      throw new CldcbError('bad_length', `increment larger than the limit of ${this.store.limits.maxIncrementBytes} bytes.`);
    const data = this.incPos === 0 ? concatBytes(u32be(this.dataVersion), u16be(c.length), c) : concatBytes(u16be(c.length), c);
    await writeAllAt(this.incFh, data, this.incPos);
    this.incPos += data.length;
  }

  /** End of the increment (70): terminator and footer with count 0. */
  async incrementEnd(): Promise<void> {
    if (this.incEnded) throw new CldcbError('protocol_error', 'second end of the increment.');
    const head = this.incPos === 0 ? u32be(this.dataVersion) : new Uint8Array(0);
    const lastLength = this.incPos + head.length + 2;
    const tail = concatBytes(head, new Uint8Array(2), encodeFooter(lastLength, this.dataVersion, 0));
    await writeAllAt(this.incFh, tail, this.incPos);
    this.incPos += tail.length;
    this.incEnded = true;
  }

  private async rec(): Promise<FileHandle> {
    if (!this.recFh) {
      this.recPath = this.store.tempPath(this.clientKey, 'r');
      this.recFh = await open(this.recPath, 'wx', 0o600);
    }
    return this.recFh;
  }

  /** Re-upload chunk (52). */
  async reuploadChunk(c: Uint8Array): Promise<void> {
    if (!this.incEnded) throw new CldcbError('protocol_error', 're-upload chunk before the increment ended.');
    if (c.length < 1 || c.length > 0xffff) throw new CldcbError('bad_length', `chunk of ${c.length} bytes (must be 1..65535).`);
    if (this.recPos + 2 + c.length > this.store.limits.maxReuploadBytes)
      throw new CldcbError('bad_length', `re-upload larger than the limit of ${this.store.limits.maxReuploadBytes} bytes.`);
    const fh = await this.rec();
    const data = concatBytes(u16be(c.length), c);
    await writeAllAt(fh, data, this.recPos);
    this.recPos += data.length;
  }

  /**
   * End of the re-upload (54): terminator, append the increment, fsync, rename over the
   * archive, fsync the directory. After this resolves the new archive is durable.
   */
  async commit(): Promise<ArchiveInfo> {
    if (!this.incEnded) throw new CldcbError('protocol_error', 're-upload end before the increment ended.');
    const fh = await this.rec();
    await writeAllAt(fh, new Uint8Array(2), this.recPos);
    const reuploadBytes = this.recPos + 2;
    let pos = reuploadBytes;
    for (let off = 0; off < this.incPos; ) {
      const part = await readAt(this.incFh, Math.min(1 << 16, this.incPos - off), off);
      if (part.length === 0) throw new CldcbError('io_error', 'increment temp file shrank while copying.');
      await writeAllAt(fh, part, pos);
      pos += part.length;
      off += part.length;
    }
    await fh.sync();
    const st = await fh.stat();
    await fh.close();
    this.recFh = undefined;
    const target = this.store.archivePath(this.clientKey);
    if (this.keepOld) {
      const keep = `${target}.${this.keepOld}.${Date.now()}`;
      await link(target, keep).then(
        () => this.store.log.warn(`${path.basename(target)}: kept the ${this.keepOld} archive as ${path.basename(keep)}.`),
        () => {},
      );
    }
    await rename(this.recPath!, target);
    this.recPath = undefined;
    this.done = true;
    this.store.forget(this.clientKey);
    this.store.replaced(this.clientKey);
    await fsyncDirAsync(this.store.dir);
    await this.incFh.close().catch(() => {});
    await unlink(this.incPath).catch(() => {});
    const info: ArchiveInfo = {
      size: pos,
      reuploadBytes,
      increments: 1,
      incrementBytes: this.incPos,
      lastDataVersion: this.dataVersion,
      lastFooterCount: 0,
      ino: st.ino,
      mtimeMs: st.mtimeMs,
    };
    this.store.remember(this.clientKey, info);
    return info;
  }

  /** Undo: close and delete both temp files. The archive was never touched. Never throws. */
  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.incFh.close().catch(() => {});
    await unlink(this.incPath).catch(() => {});
    if (this.recFh) await this.recFh.close().catch(() => {});
    if (this.recPath) await unlink(this.recPath).catch(() => {});
  }
}

/** An open archive for a download: a fixed committed prefix of one inode. */
export interface ArchiveReadHandle {
  readonly fh: FileHandle;
  readonly size: number;
  /** Undefined for a damaged archive: it is served up to the damage (as the original did). */
  readonly info: ArchiveInfo | undefined;
  /** Why the archive is damaged, when it is. */
  readonly damaged?: string;
}

/** Archive files kept open between appends (per client, most recently used last). */
export const MAX_OPEN_HANDLES = 256;

export class ArchiveStore {
  private readonly cache = new Map<string, ArchiveInfo>();
  private readonly handles = new Map<string, { fh: FileHandle; ino: number; inUse: boolean }>();
  readonly limits: StorageLimits;

  constructor(
    readonly dir: string,
    readonly log: Logger,
    limits: Partial<StorageLimits> = {},
  ) {
    this.limits = { ...DEFAULT_STORAGE_LIMITS, ...limits };
  }

  archivePath(clientKey33: Uint8Array): string {
    return path.join(this.dir, `${cidText(clientKey33)}.arch`);
  }

  tempPath(clientKey33: Uint8Array, kind: 'r' | 'i'): string {
    return path.join(this.dir, `${cidText(clientKey33)}.${kind}.${randomBytes(6).toString('hex')}.tmp`);
  }

  /** @internal */
  remember(clientKey33: Uint8Array, info: ArchiveInfo): void {
    this.cache.set(cidText(clientKey33), info);
  }

  /** @internal */
  forget(clientKey33: Uint8Array): void {
    this.cache.delete(cidText(clientKey33));
  }

  /**
   * An open handle (r+) on this client's archive, which must be inode `ino` (lock held).
   * Reuses the one kept from the previous append when it is still that inode.
   */
  private async acquireHandle(clientKey33: Uint8Array, ino: number): Promise<FileHandle> {
    const id = cidText(clientKey33);
    const h = this.handles.get(id);
    if (h && !h.inUse && h.ino === ino) {
      this.handles.delete(id); // re-insert: most recently used
      this.handles.set(id, { ...h, inUse: true });
      return h.fh;
    }
    if (h && !h.inUse) {
      this.handles.delete(id);
      await h.fh.close().catch(() => {});
    }
    const fh = await open(this.archivePath(clientKey33), 'r+');
    try {
      if ((await fh.stat()).ino !== ino) throw new CldcbError('io_error', 'the archive was replaced while it was being judged; try again.');
    } catch (e) {
      await fh.close().catch(() => {});
      throw e;
    }
    if (!h) {
      this.handles.set(id, { fh, ino, inUse: true });
      this.evictHandles();
    }
    return fh;
  }

  /** @internal Return a handle after a write; `drop` closes it instead of keeping it. */
  releaseHandle(clientKey33: Uint8Array, fh: FileHandle, drop = false): void {
    const id = cidText(clientKey33);
    const h = this.handles.get(id);
    if (h && h.fh === fh && !drop) {
      h.inUse = false;
      return;
    }
    if (h && h.fh === fh) this.handles.delete(id);
    void fh.close().catch(() => {});
  }

  /** @internal The archive file was replaced: the kept handle is for the old inode. */
  replaced(clientKey33: Uint8Array): void {
    this.dropHandle(cidText(clientKey33));
  }

  /** Close this client's kept handle (its archive is being replaced). */
  private dropHandle(id: string): void {
    const h = this.handles.get(id);
    if (h && !h.inUse) {
      this.handles.delete(id);
      void h.fh.close().catch(() => {});
    }
  }

  private evictHandles(): void {
    for (const [id, h] of this.handles) {
      if (this.handles.size <= MAX_OPEN_HANDLES) break;
      if (h.inUse) continue;
      this.handles.delete(id);
      void h.fh.close().catch(() => {});
    }
  }

  /** Close every kept handle (at shutdown). */
  async closeAll(): Promise<void> {
    const all = [...this.handles.values()].filter((h) => !h.inUse);
    this.handles.clear();
    await Promise.all(all.map((h) => h.fh.close().catch(() => {})));
  }

  /** Remove temp files left by a crash (ours and the original's). @returns the names removed. */
  async cleanStaleTemps(): Promise<string[]> {
    const removed: string[] = [];
    for (const name of await readdir(this.dir)) {
      if (ARCH_TEMP_RE.test(name) || ATOMIC_BASES.some((b) => isAtomicTemp(name, b))) {
        try {
          await unlink(path.join(this.dir, name));
          removed.push(name);
        } catch (e) {
          this.log.warn(`could not remove stale temp file ${name}: ${errText(e)}`);
        }
      }
    }
    if (removed.length > 0) await fsyncDirAsync(this.dir);
    return removed;
  }

  /** Number of archives in the directory (for the start-up log line). */
  async countArchives(): Promise<number> {
    return (await readdir(this.dir)).filter((n) => ARCH_RE.test(n)).length;
  }

  /**
   * What is on disk for this client (lock held). Scans on first use and whenever the file
   * changed behind our back; cuts a torn tail (an interrupted, never acknowledged append).
   * @throws fs errors other than ENOENT.
   */
  async inspect(clientKey33: Uint8Array): Promise<Inspection> {
    const id = cidText(clientKey33);
    const file = this.archivePath(clientKey33);
    let st;
    try {
      // Synchronous on purpose: a stat of a hot local inode takes microseconds, a trip
      // through the libuv thread pool a tenth of a millisecond or more, once per request.
      st = statSync(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        this.cache.delete(id);
        return { kind: 'missing' };
      }
      throw e;
    }
    const cached = this.cache.get(id);
    if (cached && cached.ino === st.ino && cached.size === st.size && (cached.mtimeMs === st.mtimeMs || Number.isNaN(cached.mtimeMs))) {
      const info = Number.isNaN(cached.mtimeMs) ? { ...cached, mtimeMs: st.mtimeMs } : cached;
      this.cache.set(id, info);
      return { kind: 'ok', info };
    }
    this.cache.delete(id);
    this.dropHandle(id);
    const fh = await open(file, 'r+');
    try {
      const r = await scanArchiveFraming(fh, `${id}.arch`);
      if (r.kind === 'damaged') return { kind: 'damaged', reason: r.reason, goodEnd: r.goodEnd };
      let info = r.info;
      if (r.tornFrom !== undefined) {
        await fh.truncate(r.tornFrom);
        await fh.datasync();
        info = { ...info, mtimeMs: (await fh.stat()).mtimeMs };
          this.log.warn(
          `${id}.arch: removed a torn tail of ${st.size - r.tornFrom} bytes (${r.tornWhy}) — an unfinished append, never acknowledged (a crash, or a rollback that failed and was logged then).`,
        );
      }
      this.cache.set(id, info);
      return { kind: 'ok', info };
    } finally {
      await fh.close().catch(() => {});
    }
  }

  /**
   * Decide what to do with `request_incremental(dv)` (lock held).
   * @throws fs errors.
   */
  async judge(clientKey33: Uint8Array, dv: number, clientAsksReupload = false): Promise<{ judgement: Judgement; inspection: Inspection }> {
    const inspection = await this.inspect(clientKey33);
    const j = (action: Judgement['action'], reason: string) => ({ judgement: { action, reason }, inspection });
    if (inspection.kind === 'missing') return j('reupload', 'no archive yet');
    if (inspection.kind === 'damaged') return j('reupload', `archive damaged (${inspection.reason})`);
    const info = inspection.info;
    if (info.increments >= this.limits.maxCount + 1) return j('reupload', `increment limit reached (${info.increments} increments)`);
    const threshold = Math.max(info.reuploadBytes, this.limits.minLogBytes);
    if (info.incrementBytes > threshold)
      return j('reupload', `increments (${info.incrementBytes} bytes) outgrew the snapshot (${info.reuploadBytes} bytes, threshold ${threshold})`);
    if (isRewind(info.lastDataVersion, dv))
      return j('reupload', `data_version rewind (last ${info.lastDataVersion}, got ${dv}): the old archive is kept`);
    // Extension v1: a client without a chain head (its state file was lost) cannot chain its
    // increment to this archive; appending it would leave a backup that cannot be restored.
    if (clientAsksReupload) return j('reupload', `the client asked for one (it has no chain head to continue data_version ${info.lastDataVersion})`);
    if (dv === info.lastDataVersion) return j('append', `repeated data_version ${dv}, appended as a further increment`);
    if (dv === ((info.lastDataVersion + 1) >>> 0)) return j('append', `next data_version ${dv}`);
    return j('reupload', `data_version gap (last ${info.lastDataVersion}, got ${dv})`);
  }

  /** Start an append after a judgement 'append' (lock held). */
  async beginAppend(clientKey33: Uint8Array, dv: number, info: ArchiveInfo): Promise<AppendWriter> {
    const current = this.cache.get(cidText(clientKey33));
    if (!current || current.ino !== info.ino || current.size !== info.size || current.mtimeMs !== info.mtimeMs)
      throw new CldcbError('io_error', 'the archive changed while it was being judged; try again.');
    const fh = await this.acquireHandle(clientKey33, info.ino);
    return new AppendWriter(this, fh, clientKey33, info, dv);
  }

  /**
   * Start a re-upload after a judgement 'reupload' (lock held). `keepOld` names why the
   * archive being replaced is kept beside it ('damaged', 'rewound'), or is null.
   */
  async beginReupload(clientKey33: Uint8Array, dv: number, keepOld: 'damaged' | 'rewound' | null): Promise<ReuploadWriter> {
    const incPath = this.tempPath(clientKey33, 'i');
    const fh = await open(incPath, 'wx+', 0o600); // read back at commit
    return new ReuploadWriter(this, clientKey33, fh, incPath, dv, keepOld);
  }

  /**
   * Open an archive for a download (lock held only for this call): the handle reads the
   * committed prefix of the current inode, unaffected by later appends or re-uploads.
   * @returns null when there is no usable archive.
   */
  /**
   * Open the committed prefix of an archive the store already knows, without the lock, so
   * a download does not wait for a write in progress (an append only adds bytes after the
   * committed size, a rollback truncates back to it, a re-upload renames a new inode in).
   * @returns undefined when the store has no current knowledge of the archive: then take
   *   the lock and use {@link openRead}.
   */
  async openCommitted(clientKey33: Uint8Array): Promise<ArchiveReadHandle | undefined> {
    const info = this.cache.get(cidText(clientKey33));
    if (!info) return undefined;
    let fh: FileHandle;
    try {
      fh = await open(this.archivePath(clientKey33), 'r');
    } catch {
      return undefined;
    }
    const st = await fh.stat().catch(() => null);
    if (!st || st.ino !== info.ino || st.size < info.size) {
      await fh.close().catch(() => {});
      return undefined;
    }
    return { fh, size: info.size, info };
  }

  async openRead(clientKey33: Uint8Array): Promise<ArchiveReadHandle | null> {
    const ins = await this.inspect(clientKey33);
    if (ins.kind === 'missing') return null;
    if (ins.kind === 'damaged') {
      // Serve what is readable — a recovering client may still use the intact part — and
      // stop at the damage without 122, as the original's reader did.
      const fh = await open(this.archivePath(clientKey33), 'r');
      return { fh, size: ins.goodEnd, info: undefined, damaged: ins.reason };
    }
    const fh = await open(this.archivePath(clientKey33), 'r');
    const st = await fh.stat();
    if (st.ino !== ins.info.ino || st.size < ins.info.size) {
      await fh.close();
      return null;
    }
    return { fh, size: ins.info.size, info: ins.info };
  }
}

/**
 * A data_version older than the archive's last one (modulo 2^32, within half the range).
 * A node that lost its disk and starts afresh with the same client key, or runs on an old
 * copy of its database, sends one; the re-upload it triggers must not destroy the only copy
 * of the newer state, so the old archive is kept beside the new one (recovery can be
 * pointed at it).
 */
export function isRewind(last: number, dv: number): boolean {
  const back = (last - dv) >>> 0;
  return back !== 0 && back < 0x80000000;
}

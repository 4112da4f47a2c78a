/**
 * The plugin's chain head on disk (`cldcb-plugin.state` beside lightningd.sqlite3).
 *
 * Why: every v1 increment names the SHA-256 of the increment before it (PROTOCOL.md §3).
 * lightningd restarts the plugin with itself, so without this file the first increment
 * after every restart could not name its predecessor and recovery would see a broken chain.
 *
 * What: data_version of the last acknowledged increment, its plaintext hash (`head`, the
 * next increment's prev) and `runPrev` (the prev of the first increment of that
 * data_version: what a redo of an uncommitted transaction must carry, PROTOCOL.md §3).
 * Bound to (client id, server id): a wrapper for another key or server ignores it.
 *
 * How: two fixed 128-byte slots written alternately with one pwrite + fdatasync each, and a
 * checksum per slot, so a torn write leaves the other slot intact; the newest valid slot
 * wins.
 *
 * When: the next head is *staged* on disk while its increment travels to the server (the
 * fdatasync runs on the thread pool, beside the server's own fsync, instead of after it: it
 * was ~0.3 ms of every db_write's ~1.7 on the critical path), *committed* to memory once the
 * server acknowledged, and *unstaged* (its slot zeroed, so the previous one wins) if the
 * upload failed. lightningd is told to commit only after both. Only a transaction's head is
 * staged (plugin/backup.ts): a crash while it is on disk but its increment was never stored
 * is safe, because lightningd did not commit that transaction either, so its next one is a
 * redo of that data_version, and a redo carries `runPrev` — the prev of the first increment
 * of its data_version, which the staged head keeps — so the chain still holds; any other
 * next call makes the plugin see a data_version that does not follow and re-upload. A call
 * outside a transaction (PRAGMA foreign_keys) changes no data_version: had its head been
 * staged and never stored, the next transaction would name a head the server never got, so
 * it is saved after the acknowledgement, as before.
 */
import { closeSync, fdatasync, fdatasyncSync, openSync, readSync, write, writeSync } from 'node:fs';
import { promisify } from 'node:util';
import { CldcbError } from '../shared/errors';
import { decodeStateFile, encodeStateSlot, STATE_SLOT_SIZE as SLOT, type ChainHead } from '../shared/node/pluginState';

/** The format is defined once, in shared/node/pluginState.ts (recovery writes it too). */
export type { ChainHead };

export class ChainStateFile {
  private fd: number | undefined;
  private seq = 0n;
  private head: ChainHead | undefined;

  /**
   * Open (creating, mode 0600) and load. Problems are reported through `warn`, never thrown:
   * without a usable state the plugin still backs up (the chain restarts at a re-upload).
   */
  constructor(
    readonly path: string,
    private readonly binding: Uint8Array,
    warn: (message: string) => void,
  ) {
    try {
      this.fd = openSync(path, 'a+', 0o600);
      const buf = new Uint8Array(2 * SLOT);
      let n = 0;
      for (;;) {
        const r = readSync(this.fd, buf, n, buf.length - n, n);
        if (r === 0) break;
        n += r;
        if (n === buf.length) break;
      }
      closeSync(this.fd);
      this.fd = openSync(path, 'r+');
      const newest = decodeStateFile(buf.subarray(0, n), binding);
      if (newest) {
        this.seq = newest.seq;
        this.head = newest.head;
      } else if (n > 0) warn(`${path} holds no chain head for this client and server; the chain restarts at the next re-upload.`);
    } catch (e) {
      if (this.fd !== undefined) closeSync(this.fd);
      this.fd = undefined;
      warn(`Cannot open ${path} (${(e as NodeJS.ErrnoException).code ?? 'I/O error'}); the chain head is kept in memory only.`);
    }
  }

  get current(): ChainHead | undefined {
    return this.head;
  }

  /**
   * Remember a new head (in memory at once; on disk with fdatasync).
   * @throws CldcbError io_error when the file cannot be written (memory is updated anyway).
   */
  save(h: ChainHead): void {
    this.head = { dataVersion: h.dataVersion, head: h.head.slice(), runPrev: h.runPrev.slice() };
    if (this.fd === undefined) return;
    this.seq++;
    const slot = encodeStateSlot(this.seq, this.binding, this.head);
    try {
      writeSync(this.fd, slot, 0, SLOT, Number(this.seq % 2n) * SLOT);
      fdatasyncSync(this.fd);
    } catch (e) {
      throw new CldcbError('io_error', `Cannot write ${this.path} (${(e as NodeJS.ErrnoException).code ?? 'I/O error'}).`);
    }
  }

  /**
   * Put `h` in the next slot on disk ahead of its acknowledgement; memory is unchanged until
   * {@link commit}. At most one staged head at a time.
   * @throws CldcbError io_error when the file cannot be written.
   */
  async stage(h: ChainHead): Promise<void> {
    if (this.fd === undefined) return;
    const seq = this.seq + 1n;
    this.staged = seq;
    const slot = encodeStateSlot(seq, this.binding, { dataVersion: h.dataVersion, head: h.head, runPrev: h.runPrev });
    try {
      await writeAsync(this.fd, slot, 0, SLOT, Number(seq % 2n) * SLOT);
      await fdatasyncAsync(this.fd);
    } catch (e) {
      throw new CldcbError('io_error', `Cannot write ${this.path} (${(e as NodeJS.ErrnoException).code ?? 'I/O error'}).`);
    }
  }

  /** The staged head was acknowledged: it is the head now (it is already on disk). */
  commit(h: ChainHead): void {
    this.head = { dataVersion: h.dataVersion, head: h.head.slice(), runPrev: h.runPrev.slice() };
    if (this.staged !== undefined) this.seq = this.staged;
    this.staged = undefined;
  }

  /** The staged head's increment was not stored: zero its slot, so the previous head is the newest on disk again. */
  async unstage(): Promise<void> {
    const seq = this.staged;
    this.staged = undefined;
    if (seq === undefined || this.fd === undefined) return;
    try {
      await writeAsync(this.fd, new Uint8Array(SLOT), 0, SLOT, Number(seq % 2n) * SLOT);
      await fdatasyncAsync(this.fd);
    } catch {
      /* the staged head stays on disk: safe (see the module comment) */
    }
  }

  private staged: bigint | undefined;

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

const writeAsync = promisify(write) as unknown as (fd: number, b: Uint8Array, off: number, len: number, pos: number) => Promise<unknown>;
const fdatasyncAsync = promisify(fdatasync);

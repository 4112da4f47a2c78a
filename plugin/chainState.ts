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
 * wins. Saved after the server's acknowledgement and before lightningd is told to commit.
 * A crash between the two leaves the head one increment behind, which is exactly right:
 * lightningd did not commit, so its next transaction redoes that data_version with the
 * prev the stale head names.
 */
import { closeSync, fdatasyncSync, openSync, readSync, writeSync } from 'node:fs';
import { CldcbError } from '../shared/errors';
import { decodeStateFile, encodeStateSlot, STATE_SLOT_SIZE as SLOT, type ChainHead } from '../electron/services/pluginState';

/** The format is defined once, in electron/services/pluginState.ts (recovery writes it too). */
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

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

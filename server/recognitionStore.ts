/**
 * Recognition codes (cldcb-protocol §4, file format §1.4): `recognition_codes` holds one
 * `<02/03 cid hex> <128 hex code>\n` line per client.
 *
 * Fixes of the original's bug 2 (§8.2): the file is really loaded at start (the original
 * loaded 0 codes and then overwrote everybody's), a new code from the same client
 * replaces the old one (the original's `emplace` never did), and every change is written
 * atomically and durably (temp + fsync + rename + dir fsync; the original truncated and
 * rewrote in place without fsync).
 *
 * A line that cannot be parsed is reported and skipped; the good lines around it are kept.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { bytesToHex, concatBytes, equalBytes, hexToBytes } from '../shared/bytes';
import { formatRecognitionCodesFile, parseRecognitionCodesFile, type RecognitionRecord } from '../shared/cldcb/recognition';
import { writeFileAtomicAsync } from './fsutil';
import { PersistQueue } from './persistQueue';

export const RECOGNITION_FILE = 'recognition_codes';

export class RecognitionStore {
  /** hex(02/03 client key) → 64-byte code, in first-seen order. */
  private readonly codes = new Map<string, Uint8Array>();
  private readonly queue: PersistQueue;
  readonly file: string;

  constructor(dir: string) {
    this.file = path.join(dir, RECOGNITION_FILE);
    this.queue = new PersistQueue(() => writeFileAtomicAsync(this.file, formatRecognitionCodesFile(this.records()), 0o600));
  }

  get size(): number {
    return this.codes.size;
  }

  /**
   * Load the file (missing ⇒ empty).
   * @returns descriptions of skipped lines (for warnings).
   * @throws Error from readFile for anything but ENOENT.
   */
  async load(): Promise<string[]> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const skipped: string[] = [];
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (line.trim() === '') continue;
      try {
        for (const r of parseRecognitionCodesFile(line, `${RECOGNITION_FILE} line ${i + 1}`)) this.codes.set(bytesToHex(r.clientKey), r.code);
      } catch (e) {
        skipped.push(e instanceof Error ? e.message : String(e));
      }
    }
    return skipped;
  }

  /** Records in file order. */
  records(): RecognitionRecord[] {
    return [...this.codes].map(([k, code]) => ({ clientKey: hexToBytes(k), code }));
  }

  /** The 97-byte records of message 4 (cid33 ‖ code64), a snapshot. */
  wireRecords(): Uint8Array[] {
    return [...this.codes].map(([k, code]) => concatBytes(hexToBytes(k), code));
  }

  /** The code stored for a client, if any. */
  get(clientKey33: Uint8Array): Uint8Array | undefined {
    return this.codes.get(bytesToHex(clientKey33));
  }

  /**
   * Store (or replace) a client's code and persist. Resolves once it is on disk; an
   * unchanged code resolves at once without a write.
   * @returns whether the code was new or changed.
   */
  async set(clientKey33: Uint8Array, code64: Uint8Array): Promise<boolean> {
    const key = bytesToHex(clientKey33);
    const old = this.codes.get(key);
    const changed = !(old && equalBytes(old, code64));
    if (changed) {
      this.codes.set(key, code64.slice());
      this.queue.changed();
    }
    if (!this.queue.saved) await this.queue.save();
    return changed;
  }

  /** Wait for pending writes. */
  flush(): Promise<void> {
    return this.queue.flush();
  }
}

/**
 * Read verifiers (docs/PROTOCOL.md §3, extension v1): `read_verifiers` holds one
 * `<cid> <64 hex V>\n` line per client, `<cid>` in the `c2…`/`c3…` form used by
 * `clients` and `<cid>.arch` (the loader also accepts `02…`/`03…`).
 *
 *   S = ECDH value of the recognition code, T = SHA256("cldcb read token" ‖ S), V = SHA256(T)
 *
 * The server stores only V. A download (message 112) of an archive whose client has a V
 * needs a `prove_read` with T on the same connection first. Comparison is constant-time.
 * Writes are atomic and durable; the reply 241 is sent only after the write.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { bytesToHex, hexToBytes } from '../shared/bytes';
import { sha256 } from '../shared/crypto/hash';
import { formatClientId, parseClientId, parseNodeId } from '../shared/cldcb/ids';
import { writeFileAtomicAsync } from './fsutil';
import { PersistQueue } from './persistQueue';

export const READ_VERIFIERS_FILE = 'read_verifiers';

/** Constant-time equality of two byte strings of the same length. */
export function timingSafeEqualBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

export class ReadVerifierStore {
  /** hex(02/03 client key) → V (32 bytes). */
  private readonly verifiers = new Map<string, Uint8Array>();
  private readonly queue: PersistQueue;
  readonly file: string;

  constructor(dir: string) {
    this.file = path.join(dir, READ_VERIFIERS_FILE);
    this.queue = new PersistQueue(() => writeFileAtomicAsync(this.file, this.format(), 0o600));
  }

  get size(): number {
    return this.verifiers.size;
  }

  private format(): string {
    return [...this.verifiers].map(([k, v]) => `${formatClientId(hexToBytes(k))} ${bytesToHex(v)}\n`).join('');
  }

  /**
   * Load the file (missing ⇒ empty). Bad lines are skipped and described in the result.
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
      const tokens = lines[i]!.trim().split(/\s+/).filter((t) => t !== '');
      if (tokens.length === 0) continue;
      const where = `${READ_VERIFIERS_FILE} line ${i + 1}`;
      try {
        if (tokens.length !== 2) throw new Error(`${where}: expected "<client id> <verifier>", got ${tokens.length} fields.`);
        const id = tokens[0]!;
        const key = id[0] === '0' ? parseNodeId(id, `${where}: client id`) : parseClientId(id, `${where}: client id`);
        this.verifiers.set(bytesToHex(key), hexToBytes(tokens[1]!, `${where}: verifier`, 32));
      } catch (e) {
        skipped.push(e instanceof Error ? e.message : String(e));
      }
    }
    return skipped;
  }

  /** Does this client's archive need a proof to be read? */
  has(clientKey33: Uint8Array): boolean {
    return this.verifiers.has(bytesToHex(clientKey33));
  }

  /** Is T a valid read token for this client? False when the client has no verifier. */
  check(clientKey33: Uint8Array, token32: Uint8Array): boolean {
    const v = this.verifiers.get(bytesToHex(clientKey33));
    if (v === undefined || token32.length !== 32) return false;
    return timingSafeEqualBytes(sha256(token32), v);
  }

  /** Set (or replace) a client's verifier; resolves once it is on disk. */
  async set(clientKey33: Uint8Array, verifier32: Uint8Array): Promise<void> {
    const key = bytesToHex(clientKey33);
    const old = this.verifiers.get(key);
    if (!(old && timingSafeEqualBytes(old, verifier32))) {
      this.verifiers.set(key, verifier32.slice());
      this.queue.changed();
    }
    if (!this.queue.saved) await this.queue.save();
  }

  flush(): Promise<void> {
    return this.queue.flush();
  }
}

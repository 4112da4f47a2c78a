/**
 * Per-increment stream keys, derived on several cores before the rebuild.
 *
 * Every increment is its own sealed stream (cldcb-protocol §5: one fresh Sealer per
 * db_write), so opening one costs a header-signature check and an ECDH — ~0.1 ms, more
 * than replaying a typical increment. These are independent per increment, so they are done
 * up front in parallel (`recovery.keys` worker jobs, one slice of the increments each): each
 * job walks the archive's framing (§6.1) without reading the sealed data, and for its
 * increments checks the header signature by the client and derives
 * K = SHA256(compressed(node_priv · E)). The rebuild then opens each increment with its key
 * (the AEAD tags are still checked, so data changed since is refused). An increment whose
 * header does not verify gets no key: the rebuild's own check then refuses it with the usual
 * message.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { hash as nodeHash } from 'node:crypto';
import { CldcbError } from '../../../shared/errors';
import { zeroize } from '../../../shared/bytes';
import { FOOTER_SIZE } from '../../../shared/cldcb/arch';
import { BOX_HEADER_SIZE } from '../../../shared/cldcb/seal';
import { loadNativeSecp256k1 } from '../nativeSeal';

/** Random access over a file through a 1 MiB window (sequential walks mostly hit it). */
class Cursor {
  private win = Buffer.allocUnsafeSlow(1 << 20);
  private start = 0;
  private len = 0;
  constructor(
    private readonly fd: number,
    readonly size: number,
  ) {}
  /** n bytes at pos, or undefined past the end. */
  at(pos: number, n: number): Uint8Array | undefined {
    if (pos + n > this.size) return undefined;
    if (pos < this.start || pos + n > this.start + this.len) {
      if (n > this.win.length) this.win = Buffer.allocUnsafeSlow(n);
      this.start = pos;
      this.len = readSync(this.fd, this.win, 0, this.win.length, pos);
      if (this.len < n) return undefined;
    }
    // A plain Uint8Array view (its slice() copies), valid until the next call.
    return new Uint8Array(this.win.buffer, this.win.byteOffset + pos - this.start, n);
  }
  u16(pos: number): number | undefined {
    const b = this.at(pos, 2);
    return b ? (b[0]! << 8) | b[1]! : undefined;
  }
}

export interface KeysInput {
  readonly archivePath: string;
  /** Zeroized by the job: pass a copy. */
  readonly nodePriv: Uint8Array;
  readonly clientKey: Uint8Array;
  readonly slice: number;
  readonly slices: number;
}

export interface KeysOutput {
  /** Increments found by the framing walk. */
  readonly count: number;
  /** 32 bytes per increment; all-zero where this slice did not (or could not) derive one. */
  readonly keys: Uint8Array;
}

export interface KeysContext {
  progress(done: number, total: number, note?: string): void;
  cancelled(): boolean;
}

/** Walk the framing and derive the keys of this slice's increments. Never throws for bad data. */
export function deriveStreamKeysJob(input: KeysInput, ctx: KeysContext): KeysOutput {
  const lib = loadNativeSecp256k1();
  let fd: number;
  try {
    fd = openSync(input.archivePath, 'r');
  } catch (e) {
    zeroize(input.nodePriv);
    throw new CldcbError('io_error', `${input.archivePath}: cannot open the archive (${(e as NodeJS.ErrnoException).code ?? 'I/O error'}).`);
  }
  const keys: Uint8Array[] = [];
  try {
    const c = new Cursor(fd, fstatSync(fd).size);
    let pos = 0;
    // Re-upload section: skip it.
    for (;;) {
      const len = c.u16(pos);
      if (len === undefined) return { count: 0, keys: new Uint8Array(0) };
      pos += 2;
      if (len === 0) break;
      pos += len;
    }
    let index = 0;
    while (pos + 4 <= c.size) {
      if ((index & 255) === 0) {
        if (ctx.cancelled()) throw new CldcbError('cancelled', 'Cancelled.');
        ctx.progress(pos, c.size);
      }
      pos += 4;
      let first = true;
      let key: Uint8Array = new Uint8Array(32);
      for (;;) {
        const len = c.u16(pos);
        if (len === undefined) return finish();
        pos += 2;
        if (len === 0) break;
        if (first && index % input.slices === input.slice && len >= BOX_HEADER_SIZE) {
          const h = c.at(pos, BOX_HEADER_SIZE);
          if (h) key = derive(lib, input, h) ?? key;
        }
        first = false;
        pos += len;
      }
      pos += FOOTER_SIZE;
      keys.push(key);
      index++;
    }
    return finish();
  } finally {
    closeSync(fd);
    zeroize(input.nodePriv);
  }

  function finish(): KeysOutput {
    const out = new Uint8Array(keys.length * 32);
    keys.forEach((k, i) => out.set(k, i * 32));
    for (const k of keys) k.fill(0);
    return { count: keys.length, keys: out };
  }
}

function derive(lib: ReturnType<typeof loadNativeSecp256k1>, input: KeysInput, header: Uint8Array): Uint8Array | undefined {
  const e = header.slice(0, 33);
  if ((e[0] !== 2 && e[0] !== 3) || !lib.publicKeyVerify(e)) return undefined;
  try {
    const sig = lib.signatureNormalize(header.slice(33, BOX_HEADER_SIZE));
    if (!lib.ecdsaVerify(sig, nodeHash('sha256', e, 'buffer'), input.clientKey)) return undefined;
    return new Uint8Array(lib.ecdh(e, input.nodePriv));
  } catch {
    return undefined;
  }
}

/** Merge slices' outputs: the union of their keys (each increment derived by one slice). */
export function mergeKeys(outputs: readonly KeysOutput[]): Uint8Array {
  const count = Math.max(0, ...outputs.map((o) => o.count));
  const out = new Uint8Array(count * 32);
  for (const o of outputs)
    for (let i = 0; i < o.count; i++) {
      const k = o.keys.subarray(i * 32, i * 32 + 32);
      if (k.some((x) => x !== 0)) out.set(k, i * 32);
    }
  for (const o of outputs) o.keys.fill(0);
  return out;
}

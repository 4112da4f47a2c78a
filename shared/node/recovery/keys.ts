/**
 * Per-increment stream keys, derived on several cores before the rebuild.
 *
 * Every increment is its own sealed stream (cldcb-protocol §5: one fresh Sealer per
 * db_write), so opening one costs a header-signature check and an ECDH — ~0.1 ms, more
 * than replaying a typical increment. These are independent per increment, so they are done
 * up front in parallel (`recovery.keys` worker jobs, one slice of the increments each): each
 * job reads the archive through the one framer (§6.1) and, for its increments, checks the
 * header signature by the client and derives
 * K = SHA256(compressed(node_priv · E)). The rebuild then opens each increment with its key
 * (the AEAD tags are still checked, so data changed since is refused). An increment whose
 * header does not verify gets no key: the rebuild's own check then refuses it with the usual
 * message.
 */
import { closeSync, fstatSync, openSync } from 'node:fs';
import { hash as nodeHash } from 'node:crypto';
import { CldcbError } from '../../errors';
import { zeroize } from '../../bytes';
import { ArchReader } from '../../cldcb/arch';
import { BOX_HEADER_SIZE } from '../../cldcb/seal';
import { loadNativeSecp256k1 } from '../nativeSeal';
import { walkArchiveFile } from './archiveScan';

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

/** Walk the framing (the one framer) and derive the keys of this slice's increments. Never throws for bad data. */
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
    const size = fstatSync(fd).size;
    const reader = new ArchReader({ checkFooters: false, views: true });
    let key: Uint8Array = new Uint8Array(32);
    let first = false;
    try {
      walkArchiveFile(fd, reader, {
        cancelled: () => ctx.cancelled(),
        progress: (pos) => ctx.progress(pos, size),
        onEvent: (e) => {
          if (e.type === 'incrementStart') {
            key = new Uint8Array(32);
            first = true;
          } else if (e.type === 'incrementChunk') {
            if (first && keys.length % input.slices === input.slice && e.chunk.length >= BOX_HEADER_SIZE) key = derive(lib, input, e.chunk) ?? key;
            first = false;
          } else if (e.type === 'incrementEnd') keys.push(key);
        },
      });
    } catch (e) {
      if (e instanceof CldcbError && e.code === 'cancelled') throw e;
      // Bad framing: the keys found so far (the rebuild's own checks refuse the rest).
    }
    const out = new Uint8Array(keys.length * 32);
    keys.forEach((k, i) => out.set(k, i * 32));
    return { count: keys.length, keys: out };
  } finally {
    for (const k of keys) k.fill(0);
    closeSync(fd);
    zeroize(input.nodePriv);
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

/**
 * Increment plaintext v1 and the chain values (docs/PROTOCOL.md §3):
 *
 *   0x01 ‖ u32 data_version ‖ u64 unix_time ‖ prev[32] ‖ u64 n ‖ n × (u64 len ‖ utf8 statement)
 *
 *   prev = SHA256(previous increment's whole plaintext), or for the first increment after
 *          a re-upload SHA256("cldcb snapshot" ‖ reupload_header36 ‖ SHA256(snapshot bytes)).
 *
 * The plaintext is cut into ≤ 64,887-byte pieces and each piece sealed as one chunk
 * (shared/cldcb/plaintexts.ts `splitIncrementPlaintext`), so writes of any size fit.
 */
import { createHash } from 'node:crypto';
import { CldcbError } from '../shared/errors';

/** The plugin writes what recovery reads: one v1 encoder (electron/services/recovery/plaintext.ts). */
export { encodeIncrementPlaintextV1 as encodeIncrementV1 } from '../electron/services/recovery/plaintext';

export function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

const SNAPSHOT_TAG = new TextEncoder().encode('cldcb snapshot');

/** The `prev` of the first increment after a re-upload. */
export function snapshotChainValue(reuploadHeader36: Uint8Array, snapshotSha256: Uint8Array): Uint8Array {
  if (reuploadHeader36.length !== 36) throw new CldcbError('bad_length', `reupload header: expected 36 bytes, got ${reuploadHeader36.length}.`);
  return sha256(SNAPSHOT_TAG, reuploadHeader36, snapshotSha256);
}

/** The statement rules the plugin applies (the bump, the foreign-keys PRAGMA) are the recovery's: one definition. */
export { isDataVersionBump, isForeignKeysPragma } from '../shared/cldcb/statements';

export const u32Next = (dv: number): number => (dv + 1) % 0x100000000;
export const u32Prev = (dv: number): number => (dv + 0xffffffff) % 0x100000000;

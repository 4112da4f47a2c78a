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

/** The plugin writes what recovery reads: one v1 encoder, one chain value (shared/cldcb). */
export { encodeIncrementPlaintextV1 as encodeIncrementV1, encodeIncrementPlaintextV2 as encodeIncrementV2 } from '../shared/cldcb/plaintexts';
export { snapshotChainValue, u32Next, u32Prev } from '../shared/cldcb/chain';

export function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/** The statement rules the plugin applies (the bump, the foreign-keys PRAGMA) are the recovery's: one definition. */
export { isDataVersionBump, isForeignKeysPragma } from '../shared/cldcb/statements';

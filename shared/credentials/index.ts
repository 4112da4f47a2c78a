/**
 * Credentials after recovery: Core Lightning runes and LND macaroons. Platform-free.
 *
 * The two `inspect…` functions are what a screen needs in one call; their results are plain
 * JSON (no bytes), so they can cross IPC as they are. Everything else is re-exported for
 * finer control (minting, restricting, attenuating).
 */
import { CldcbError } from '../errors';
import { checkRuneAuthentic, decodeRune, describeRune, type RuneDescription } from './runes';
import {
  decodeMacaroon,
  describeMacaroon,
  verifyMacaroon,
  type MacaroonDescription,
  type MacaroonVerification,
  type VerifyContext,
} from './macaroons';

export * from './runes';
export * from './macaroons';

export interface RuneInspection extends RuneDescription {
  /** Present when a master secret was given: whether this node made the rune. */
  readonly authentic?: boolean;
  readonly notAuthenticReason?: string;
}

/**
 * Decode a rune and describe it; with the node's rune master secret (runeMasterSecret of the
 * hsm_secret), also say whether the node made it.
 * @throws CldcbError for text that is not a rune, or a bad secret.
 * @example inspectRune("OSqc7ixY6F-gjcigBfxtzKUI54uzgFSA6YfBQoWGDV89MA==", secret).summary // ["unrestricted: …"]
 */
export function inspectRune(text: string, masterSecret?: Uint8Array): RuneInspection {
  const rune = decodeRune(text);
  const d = describeRune(rune);
  if (masterSecret === undefined) return d;
  const a = checkRuneAuthentic(rune, masterSecret);
  return { ...d, authentic: a.authentic, ...(a.reason ? { notAuthenticReason: a.reason } : {}) };
}

export interface MacaroonInspection extends MacaroonDescription {
  /** Present when a root key was given. */
  readonly verification?: MacaroonVerification;
}

/**
 * Decode a macaroon (binary bytes, hex, base64) and describe it as `lncli printmacaroon`; with
 * its 32-byte root key, also verify it at `ctx.now` from `ctx.ip`.
 * @throws CldcbError for input that is not a macaroon, a root key of the wrong length, a bad IP.
 */
export function inspectMacaroon(
  input: Uint8Array | string,
  rootKey?: Uint8Array,
  ctx: VerifyContext = {},
): MacaroonInspection {
  const m = decodeMacaroon(input);
  const d = describeMacaroon(m);
  if (rootKey === undefined) return d;
  if (!(rootKey instanceof Uint8Array)) throw new CldcbError('bad_input', 'root key: expected 32 bytes.');
  return { ...d, verification: verifyMacaroon(m, rootKey, ctx) };
}

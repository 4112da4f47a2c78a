/**
 * Core Lightning runes (commando / createrune credentials), platform-free.
 *
 * Secrets (cln-facts.md §9; hsmd/libhsmd.c `hsmd_init`, `handle_derive_secret`; lightningd/runes.c
 * `runes_early_init`):
 *
 *   derived_secret_base = HKDF-SHA256(ikm = ALL of secret_data (32 legacy / 64 mnemonic), salt = "", info = "derived secrets")
 *   makesecret(info)    = HKDF-SHA256(ikm = derived_secret_base, salt = "", info)
 *   rune master secret  = makesecret("commando")
 *
 * `lightning-hsmtool makerune` feeds only secret_data[0..32] into the first HKDF. For legacy
 * 32-byte secrets that is the same; for mnemonic (64-byte seed) nodes it is wrong, and the node
 * rejects such runes. {@link hsmtoolMakeruneMasterSecret} reproduces that tool on purpose, by name.
 *
 * Rune format (ccan/ccan/rune/rune.c, coding.c at ElementsProject/lightning 090f4b0):
 *  - authcode = SHA-256 chaining state after `secret ‖ endmarker ‖ r1 ‖ endmarker ‖ … ‖ rN ‖ endmarker`
 *    (see sha256State.ts); the master rune has no restrictions.
 *  - a restriction is one or more alternatives joined with `|`; restrictions are joined with `&`.
 *  - an alternative is `fieldname condition value`. The field name runs up to the first ASCII
 *    punctuation character other than `_`; the condition is one of `! = / ^ $ ~ < > { } #`;
 *    in the value, `\`, `|` and `&` are written `\\`, `\|`, `\&` (any `\x` decodes to `x`).
 *  - the unique id is the first restriction `=<id>` or `=<id>-<version>` (empty field name).
 *  - text form = base64url WITH `=` padding of `authcode ‖ restriction string` (`rune_to_base64`).
 */
import { CldcbError } from '../errors';
import { bytesToHex, equalBytes, fromUtf8, utf8, zeroize } from '../bytes';
import { hkdfSha256 } from '../crypto/hash';
import { decodeBase64, encodeBase64 } from '../base64';
import {
  sha256Initial,
  sha256UpdateWithEndMarker,
  stateFromBytes,
  stateToBytes,
  withEndMarker,
  type Sha256State,
} from './sha256State';

// ---------------------------------------------------------------------------------------------
// Types

/** ccan/rune `enum rune_condition`. */
export const RUNE_CONDITIONS = ['!', '=', '/', '^', '$', '~', '<', '>', '{', '}', '#'] as const;
export type RuneCondition = (typeof RUNE_CONDITIONS)[number];

/** One alternative: `field condition value`, e.g. `method=listpeers`. */
export interface RuneAlternative {
  readonly field: string;
  readonly condition: RuneCondition;
  readonly value: string;
}

/** One restriction: it passes if any of its alternatives passes. */
export type RuneRestriction = readonly RuneAlternative[];

export interface Rune {
  /** The 32-byte SHA-256 chaining state that authenticates the restrictions. */
  readonly authcode: Uint8Array;
  /** Every restriction in order, the unique-id restriction (empty field name) included. */
  readonly restrictions: readonly RuneRestriction[];
  /** From the first restriction `=<id>[-<version>]`, if present. */
  readonly uniqueId: string | undefined;
  readonly version: string | undefined;
}

const isCondition = (c: string): c is RuneCondition => (RUNE_CONDITIONS as readonly string[]).includes(c);

/** ASCII punctuation (C `ispunct` in the C locale) ends a field name, except `_` (coding.c `rune_altern_fieldname_len`). */
const isPunct = (code: number): boolean =>
  (code >= 33 && code <= 47) ||
  (code >= 58 && code <= 64) ||
  (code >= 91 && code <= 96 && code !== 95) ||
  (code >= 123 && code <= 126);

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

// ---------------------------------------------------------------------------------------------
// Secrets

function checkSecretData(secretData: Uint8Array): void {
  if (!(secretData instanceof Uint8Array))
    throw new CldcbError('bad_input', 'secret: expected the hsm_secret bytes (Uint8Array).');
  if (secretData.length !== 32 && secretData.length !== 64)
    throw new CldcbError('bad_length', `secret: expected 32 or 64 bytes, got ${secretData.length}.`);
}

/**
 * `derived_secret_base` (hsmd_init): HKDF over ALL of secret_data.
 * @param secretData 32 bytes (legacy) or the 64-byte BIP39 seed (mnemonic format).
 * @throws CldcbError bad_length for any other size.
 * @example bytesToHex(derivedSecretBase(l1)) // "7fd892a8…d625" (legacy pyln l1)
 */
export function derivedSecretBase(secretData: Uint8Array): Uint8Array {
  checkSecretData(secretData);
  return hkdfSha256(secretData, new Uint8Array(0), 'derived secrets', 32);
}

/**
 * The node's `makesecret` RPC: HKDF(derived_secret_base, "", info).
 * @param info a label such as "commando" or "scb secret", or raw bytes (makesecret's `hex`).
 * @throws CldcbError bad_length for a secret of the wrong size.
 */
export function makeSecret(secretData: Uint8Array, info: string | Uint8Array): Uint8Array {
  const base = derivedSecretBase(secretData);
  try {
    return hkdfSha256(base, new Uint8Array(0), typeof info === 'string' ? utf8(info) : info, 32);
  } finally {
    zeroize(base);
  }
}

/**
 * The node's rune master secret, makesecret("commando"), as lightningd computes it.
 * @throws CldcbError bad_length for a secret of the wrong size.
 * @example bytesToHex(runeMasterSecret(l1)) // "edb8893c…0c40"
 */
export function runeMasterSecret(secretData: Uint8Array): Uint8Array {
  return makeSecret(secretData, 'commando');
}

/**
 * What `lightning-hsmtool makerune` uses: makesecret("commando") over secret_data[0..32] only.
 * Equal to {@link runeMasterSecret} for legacy 32-byte secrets; for mnemonic nodes it is NOT the
 * node's secret and the node rejects runes made with it (cln-facts §9 "Discrepancy"). Use only to
 * reproduce that tool's output.
 * @throws CldcbError bad_length for a secret of the wrong size.
 */
export function hsmtoolMakeruneMasterSecret(secretData: Uint8Array): Uint8Array {
  checkSecretData(secretData);
  return makeSecret(secretData.subarray(0, 32), 'commando');
}

// ---------------------------------------------------------------------------------------------
// Encoding one restriction (coding.c rune_altern_encode / rune_restr_encode)

function encodeAlternative(alt: RuneAlternative): string {
  return alt.field + alt.condition + alt.value.replace(/[\\|&]/g, (c) => '\\' + c);
}

/** A restriction as rune text, e.g. `method^list|method^get|method=summary`. */
export function restrictionToString(restr: RuneRestriction): string {
  return restr.map(encodeAlternative).join('|');
}

/** The whole restriction string, e.g. `=0&method=listpeers`. */
export function runeRestrictionString(rune: Pick<Rune, 'restrictions'>): string {
  return rune.restrictions.map(restrictionToString).join('&');
}

function checkText(s: unknown, what: string): string {
  if (typeof s !== 'string') throw new CldcbError('bad_input', `${what}: expected text.`);
  if (s.includes('\0'))
    throw new CldcbError('bad_input', `${what}: contains a NUL character, which a rune cannot hold.`);
  if (LONE_SURROGATE.test(s)) throw new CldcbError('bad_input', `${what}: is not valid Unicode text.`);
  return s;
}

/** Validate a restriction built by a caller (not the unique id): names that survive a round trip, known conditions. */
function checkRestriction(restr: unknown, index: number): RuneRestriction {
  const where = `restriction ${index + 1}`;
  if (!Array.isArray(restr) || restr.length === 0)
    throw new CldcbError('bad_input', `${where}: expected one or more alternatives.`);
  return restr.map((a: unknown, j): RuneAlternative => {
    const w = restr.length > 1 ? `${where}, alternative ${j + 1}` : where;
    if (typeof a !== 'object' || a === null)
      throw new CldcbError('bad_input', `${w}: expected {field, condition, value}.`);
    const { field, condition, value } = a as Record<string, unknown>;
    checkText(field, `${w} field name`);
    checkText(value, `${w} value`);
    const f = field as string;
    if (f === '')
      throw new CldcbError(
        'bad_input',
        `${w}: the field name is empty (an empty name is reserved for the unique id).`,
      );
    for (let i = 0; i < f.length; i++)
      if (isPunct(f.charCodeAt(i)))
        throw new CldcbError(
          'bad_input',
          `${w}: field name "${f}" contains "${f[i]}"; field names may not contain punctuation other than "_".`,
        );
    if (typeof condition !== 'string' || !isCondition(condition))
      throw new CldcbError(
        'bad_input',
        `${w}: unknown condition ${JSON.stringify(condition)}; use one of ${RUNE_CONDITIONS.join(' ')}.`,
      );
    return { field: f, condition, value: value as string };
  });
}

// ---------------------------------------------------------------------------------------------
// Hash chain

const MAX_SECRET = 55; // rune_new: secret_len + 1 + 8 <= 64, so the secret and its end marker fill one block

function checkRuneSecret(secret: Uint8Array): void {
  if (!(secret instanceof Uint8Array)) throw new CldcbError('bad_input', 'rune secret: expected bytes.');
  if (secret.length === 0 || secret.length > MAX_SECRET)
    throw new CldcbError(
      'bad_length',
      `rune secret: expected 1 to ${MAX_SECRET} bytes (Core Lightning uses 32), got ${secret.length}.`,
    );
}

function addRestrictions(state: Sha256State, restrs: readonly RuneRestriction[]): Sha256State {
  let s = state;
  for (const r of restrs) s = sha256UpdateWithEndMarker(s, utf8(restrictionToString(r)));
  return s;
}

/** The chaining state of a rune, resumed from its authcode (coding.c from_string: the secret filled the first block). */
function resumeState(rune: Rune): Sha256State {
  let bytes = 64;
  for (const r of rune.restrictions)
    bytes += withEndMarker({ words: new Uint32Array(8), bytes }, utf8(restrictionToString(r))).length;
  return stateFromBytes(rune.authcode, bytes);
}

function uniqueIdRestriction(uniqueId: string, version?: string): RuneRestriction {
  return [{ field: '', condition: '=', value: version === undefined ? uniqueId : `${uniqueId}-${version}` }];
}

// ---------------------------------------------------------------------------------------------
// Making runes

/**
 * The unrestricted master rune of a secret (ccan `rune_new`). Core Lightning never hands this out:
 * its runes all carry a unique id ({@link mintRune}).
 * @throws CldcbError bad_length for a secret outside 1..55 bytes.
 */
export function masterRune(secret: Uint8Array): Rune {
  checkRuneSecret(secret);
  return {
    authcode: stateToBytes(sha256UpdateWithEndMarker(sha256Initial(), secret)),
    restrictions: [],
    uniqueId: undefined,
    version: undefined,
  };
}

/**
 * A rune as `lightning-cli createrune` makes it: unique id first, then the restrictions.
 * @param secret the rune master secret ({@link runeMasterSecret}).
 * @param uniqueId a decimal number (CLN numbers runes from 0; the node's own first rune is 0).
 * @throws CldcbError bad_input for a bad unique id or restriction, bad_length for a bad secret.
 * @example encodeRune(mintRune(runeMasterSecret(l1), 0)) // "OSqc7ixY6F-gjcigBfxtzKUI54uzgFSA6YfBQoWGDV89MA=="
 */
export function mintRune(
  secret: Uint8Array,
  uniqueId: string | number | bigint,
  restrictions: readonly RuneRestriction[] = [],
): Rune {
  const id = typeof uniqueId === 'string' ? uniqueId : String(uniqueId);
  if (!/^(0|[1-9][0-9]*)$/.test(id) || BigInt(id) > 0x7fffffffffffffffn)
    throw new CldcbError(
      'bad_input',
      `unique id "${id}": expected a whole number from 0 to 9223372036854775807 (Core Lightning counts runes from 0).`,
    );
  const master = masterRune(secret);
  return restrictRune(
    {
      authcode: stateToBytes(addRestrictions(stateFromBytes(master.authcode, 64), [uniqueIdRestriction(id)])),
      restrictions: [uniqueIdRestriction(id)],
      uniqueId: id,
      version: undefined,
    },
    restrictions,
  );
}

/**
 * Add restrictions to any rune, without its secret (`createrune rune=… restrictions=…`).
 * Nobody can remove a restriction afterwards.
 * @throws CldcbError bad_input for a malformed restriction.
 */
export function restrictRune(rune: Rune, restrictions: readonly RuneRestriction[]): Rune {
  if (!Array.isArray(restrictions))
    throw new CldcbError('bad_input', 'restrictions: expected a list of restrictions.');
  const checked = restrictions.map((r, i) => checkRestriction(r, i));
  if (checked.length === 0) return rune;
  const state = addRestrictions(resumeState(rune), checked);
  return { ...rune, authcode: stateToBytes(state), restrictions: [...rune.restrictions, ...checked] };
}

/** `createrune restrictions=readonly` (lightningd/runes.c readonly_restrictions): list*, get*, summary, but not listdatastore. */
export const READONLY_RESTRICTIONS: readonly RuneRestriction[] = [
  [
    { field: 'method', condition: '^', value: 'list' },
    { field: 'method', condition: '^', value: 'get' },
    { field: 'method', condition: '=', value: 'summary' },
  ],
  [{ field: 'method', condition: '/', value: 'listdatastore' }],
];

// ---------------------------------------------------------------------------------------------
// Text forms

/** base64url with `=` padding of authcode ‖ restrictions (ccan `rune_to_base64`). */
export function encodeRune(rune: Rune): string {
  return encodeBase64(new Uint8Array([...rune.authcode, ...utf8(runeRestrictionString(rune))]), true, true);
}

/** `<authcode hex>:<restrictions>` (ccan `rune_to_string`; the "string" of `lightning-cli decode`). */
export function runeToString(rune: Rune): string {
  return `${bytesToHex(rune.authcode)}:${runeRestrictionString(rune)}`;
}

/** Decode restrictions text (coding.c rune_restr_decode / from_string, same acceptance rules). */
function parseRestrictions(
  text: string,
  what: string,
): { restrictions: RuneRestriction[]; uniqueId?: string; version?: string } {
  const restrictions: RuneRestriction[] = [];
  let uniqueId: string | undefined;
  let version: string | undefined;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const alts: RuneAlternative[] = [];
    const rIndex = restrictions.length;
    for (;;) {
      let j = i;
      while (j < n && !isPunct(text.charCodeAt(j))) j++;
      const field = text.slice(i, j);
      const where = `${what}: restriction ${rIndex + 1}`;
      if (j >= n)
        throw new CldcbError('bad_input', `${where} ("${field}") has no condition after the field name.`);
      const cond = text[j]!;
      if (!isCondition(cond))
        throw new CldcbError(
          'bad_input',
          `${where}: "${cond}" after "${field}" is not a rune condition (one of ${RUNE_CONDITIONS.join(' ')}).`,
        );
      i = j + 1;
      let value = '';
      let more = false;
      while (i < n) {
        const c = text[i++]!;
        if (c === '|') {
          more = true;
          break;
        }
        if (c === '&') break;
        if (c === '\\') {
          if (i >= n) throw new CldcbError('bad_input', `${where} ends with a lone "\\".`);
          value += text[i++]!;
        } else value += c;
      }
      alts.push({ field, condition: cond, value });
      if (!more) break;
    }
    // rune.c rune_add_restr: an empty field name is the unique id: first, alone, and with "=".
    if (alts.some((a) => a.field === '')) {
      const where = `${what}: restriction ${rIndex + 1}`;
      if (alts.length !== 1 || rIndex !== 0)
        throw new CldcbError(
          'bad_input',
          `${where}: an empty field name (unique id) is only allowed alone in the first restriction.`,
        );
      const a = alts[0]!;
      if (a.condition !== '=')
        throw new CldcbError(
          'bad_input',
          `${where}: the unique id must be written "=<id>", not "${a.condition}".`,
        );
      const dash = a.value.indexOf('-');
      uniqueId = dash < 0 ? a.value : a.value.slice(0, dash);
      version = dash < 0 ? undefined : a.value.slice(dash + 1);
    }
    restrictions.push(alts);
  }
  return uniqueId === undefined
    ? { restrictions }
    : { restrictions, uniqueId, ...(version === undefined ? {} : { version }) };
}

/**
 * Decode a rune from its base64url text (padding optional; surrounding whitespace ignored).
 * Accepts exactly what ccan `rune_from_base64` accepts, except that the restrictions must be UTF-8.
 * @throws CldcbError bad_input / bad_length saying what is wrong (never the rune itself).
 * @example decodeRune("OSqc7ixY6F-gjcigBfxtzKUI54uzgFSA6YfBQoWGDV89MA==").uniqueId // "0"
 */
export function decodeRune(text: string): Rune {
  if (typeof text !== 'string') throw new CldcbError('bad_input', 'rune: expected text.');
  const t = text.trim();
  if (t === '') throw new CldcbError('bad_input', 'rune: empty input; expected a rune (base64url text).');
  const bytes = decodeBase64(t, 'rune', 'url');
  if (bytes.length < 32)
    throw new CldcbError(
      'bad_length',
      `rune: too short (${bytes.length} bytes; a rune has a 32-byte authcode, at least 43 characters). Was it cut off?`,
    );
  const rest = bytes.subarray(32);
  if (rest.includes(0))
    throw new CldcbError('bad_input', 'rune: the restrictions contain a NUL byte; this is not a rune.');
  const restr = parseRestrictions(fromUtf8(rest, 'rune restrictions'), 'rune');
  return {
    authcode: bytes.slice(0, 32),
    restrictions: restr.restrictions,
    uniqueId: restr.uniqueId,
    version: restr.version,
  };
}

/**
 * Parse one restriction written in rune syntax, e.g. `method^list|method^get` (alternatives with `|`;
 * write a literal `\`, `|` or `&` as `\\`, `\|`, `\&`). ccan `rune_restr_from_string`.
 * @throws CldcbError bad_input for an empty text, a bad condition, an unescaped `&`, or the unique-id form.
 */
export function parseRestriction(text: string): RuneRestriction {
  if (typeof text !== 'string' || text === '')
    throw new CldcbError('bad_input', 'restriction: empty; expected e.g. "method=listpeers".');
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '&')
      throw new CldcbError(
        'bad_input',
        `restriction "${text}": an unescaped "&" joins restrictions; give each restriction on its own (or write "\\&").`,
      );
  }
  const parsed = parseRestrictions(text, 'restriction');
  if (parsed.uniqueId !== undefined)
    throw new CldcbError('bad_input', 'restriction: an empty field name is reserved for the unique id.');
  return checkRestriction(parsed.restrictions[0], 0);
}

/**
 * One alternative as `createrune` takes it in JSON (lightningd/runes.c `rune_altern_from_json`):
 * `fieldCONDITIONvalue` with the value taken literally (no `\` escapes; `|` and `&` are plain text).
 * @throws CldcbError bad_input for an empty field name or a missing/unknown condition.
 */
export function alternativeFromCreateruneText(text: string): RuneAlternative {
  checkText(text, 'restriction');
  let j = 0;
  while (j < text.length && !isPunct(text.charCodeAt(j))) j++;
  const cond = text[j];
  if (cond === undefined || !isCondition(cond))
    throw new CldcbError(
      'bad_input',
      `restriction "${text}": expected a field name, a condition (one of ${RUNE_CONDITIONS.join(' ')}) and a value, e.g. "method=listpeers".`,
    );
  if (j === 0) throw new CldcbError('bad_input', `restriction "${text}": the field name is empty.`);
  return { field: text.slice(0, j), condition: cond, value: text.slice(j + 1) };
}

/**
 * createrune's `restrictions` parameter: the string "readonly", or an array of restrictions, each an
 * array of alternative strings (e.g. `[["method^list","method^get"],["method/listdatastore"]]`).
 * @throws CldcbError bad_input for anything else.
 */
export function restrictionsFromCreateruneJson(value: unknown): RuneRestriction[] {
  if (value === 'readonly') return READONLY_RESTRICTIONS.map((r) => [...r]);
  if (!Array.isArray(value))
    throw new CldcbError(
      'bad_input',
      'restrictions: expected "readonly" or an array of arrays of strings, e.g. [["method=listpeers"]].',
    );
  return value.map((r: unknown, i) => {
    if (!Array.isArray(r) || r.length === 0 || !r.every((a) => typeof a === 'string'))
      throw new CldcbError(
        'bad_input',
        `restrictions[${i}]: expected a non-empty array of strings (the alternatives).`,
      );
    return checkRestriction(
      r.map((a: string) => alternativeFromCreateruneText(a)),
      i,
    );
  });
}

// ---------------------------------------------------------------------------------------------
// Checking

export interface RuneAuthenticity {
  readonly authentic: boolean;
  /** Why not, in words (ccan rune_is_derived messages), when `authentic` is false. */
  readonly reason?: string;
}

/**
 * Is this rune made from this master secret (ccan `rune_is_derived` against lightningd's master,
 * which has no version)? Constant-time on the authcode.
 * @param secret the rune master secret ({@link runeMasterSecret}).
 * @throws CldcbError bad_length for a bad secret.
 */
export function checkRuneAuthentic(rune: Rune, secret: Uint8Array): RuneAuthenticity {
  checkRuneSecret(secret);
  const expected = stateToBytes(
    addRestrictions(sha256UpdateWithEndMarker(sha256Initial(), secret), rune.restrictions),
  );
  const same = equalBytes(expected, rune.authcode);
  zeroize(expected);
  if (!same)
    return {
      authentic: false,
      reason: 'not derived from this node’s master secret (wrong node, or the rune was altered)',
    };
  if (rune.version !== undefined)
    return {
      authentic: false,
      reason: `version mismatch: the rune has version "${rune.version}", Core Lightning's master rune has none`,
    };
  return { authentic: true };
}

/** A value supplied when evaluating conditions: text, or an integer (number / bigint). Missing = undefined. */
export type RuneFieldValue = string | number | bigint | undefined;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** strtol(value, &end, 10) accepting the whole string, in int64 range (rune.c integer_compare_valid). */
function parseRuneInt(value: string): bigint | undefined {
  const m = /^[\t\n\v\f\r ]*([+-]?[0-9]+)$/.exec(value);
  if (!m) return undefined;
  const v = BigInt(m[1]!);
  return v < INT64_MIN || v > INT64_MAX ? undefined : v;
}

function compareUtf8(a: string, b: string): number {
  const x = utf8(a);
  const y = utf8(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

/**
 * Test one alternative against a field value, exactly as ccan `rune_alt_single`: returns null when it
 * passes, else ccan's complaint text.
 */
export function testAlternative(alt: RuneAlternative, value: RuneFieldValue): string | null {
  const isInt = typeof value === 'number' || typeof value === 'bigint';
  if (typeof value === 'number' && !Number.isSafeInteger(value))
    return `${alt.field} is not an integer field`;
  const str = value === undefined ? undefined : String(value);
  const fail = (complaint: string, ok: boolean) => (ok ? null : `${alt.field} ${complaint} ${alt.value}`);
  if (alt.condition === '#') return null;
  if (alt.condition === '!') return str === undefined ? null : `${alt.field} is present`;
  if (str === undefined) return `${alt.field} not present`;
  switch (alt.condition) {
    case '=':
      return fail('is not equal to', str === alt.value);
    case '/':
      return fail('is equal to', str !== alt.value);
    case '^':
      return fail('does not start with', str.startsWith(alt.value));
    case '$':
      return fail('does not end with', str.endsWith(alt.value));
    case '~':
      return fail('does not contain', str.includes(alt.value));
    case '<':
    case '>': {
      if (!isInt) return `${alt.field} is not an integer field`;
      const r = parseRuneInt(alt.value);
      if (r === undefined) return `${alt.value} is not a valid integer`;
      const v = BigInt(value);
      return alt.condition === '<'
        ? fail('is greater or equal to', v < r)
        : fail('is less or equal to', v > r);
    }
    case '{':
      return fail('is equal to or ordered after', compareUtf8(str, alt.value) < 0);
    case '}':
      return fail('is equal to or ordered before', compareUtf8(str, alt.value) > 0);
  }
}

/**
 * Evaluate every restriction except the unique id (ccan `rune_meets_criteria`): a restriction passes
 * if any alternative passes. Returns null when all pass, else the reasons joined as ccan does.
 * @param lookup the value of a field (e.g. `method` → "listpeers", `time` → 1700000000), undefined if absent.
 */
export function checkRuneConditions(rune: Rune, lookup: (field: string) => RuneFieldValue): string | null {
  for (let i = 0; i < rune.restrictions.length; i++) {
    const r = rune.restrictions[i]!;
    if (i === 0 && r[0]?.field === '') continue;
    const errs: string[] = [];
    let passed = false;
    for (const alt of r) {
      const e = testAlternative(alt, lookup(alt.field));
      if (e === null) {
        passed = true;
        break;
      }
      errs.push(e);
    }
    if (!passed) return errs.join(' AND ');
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Plain words

export interface AlternativeDescription extends RuneAlternative {
  /** Our plain-words clause, e.g. "may call only listpeers", "expires at 2026-12-01T00:00:00Z". */
  readonly text: string;
  /** lightningd's own words (lightningd/runes.c rune_altern_to_english, as `showrunes` prints). */
  readonly english: string;
}

export interface RestrictionDescription {
  readonly alternatives: readonly AlternativeDescription[];
  /** The restriction in plain words (alternatives joined with "or"). */
  readonly text: string;
  /** lightningd's words (alternatives joined with " OR "). */
  readonly english: string;
}

export interface RuneDescription {
  readonly rune: string;
  readonly uniqueId: string | undefined;
  readonly version: string | undefined;
  /** `<authcode hex>:<restrictions>`, as `lightning-cli decode` shows it. */
  readonly string: string;
  /** Restrictions other than the unique id. */
  readonly restrictions: readonly RestrictionDescription[];
  /** All restrictions in lightningd's words joined with " AND " (showrunes `restrictions_as_english`). */
  readonly english: string;
  /** One line per restriction, or one line saying the rune is unrestricted. */
  readonly summary: readonly string[];
  readonly unrestricted: boolean;
}

const OPS: Record<RuneCondition, string> = {
  '!': 'is missing',
  '=': 'is equal to',
  '/': 'is not equal to',
  '^': 'starts with',
  $: 'ends with',
  '~': 'contains',
  '<': 'is less than',
  '>': 'is greater than',
  '{': 'sorts before',
  '}': 'sorts after',
  '#': '',
};

/** lightningd/runes.c rune_altern_to_english. */
function clnEnglish(a: RuneAlternative): string {
  const words: Record<RuneCondition, string> = {
    '!': '',
    '=': 'equal to',
    '/': 'unequal to',
    '^': 'starts with',
    $: 'ends with',
    '~': 'contains',
    '<': '<',
    '>': '>',
    '{': 'sorts before',
    '}': 'sorts after',
    '#': '',
  };
  if (a.condition === '!') return `${a.field} is missing`;
  if (a.condition === '#') return `comment: ${a.field} ${a.value}`;
  return `${a.field} ${words[a.condition]} ${a.value}`;
}

/** Unix seconds as an RFC 3339 UTC time, or undefined if out of range. */
function isoFromUnix(secs: bigint): string | undefined {
  if (secs < -8_640_000_000_000n || secs > 8_640_000_000_000n) return undefined;
  return new Date(Number(secs) * 1000).toISOString().replace('.000Z', 'Z');
}

const PER_UNITS: Record<string, [string, string]> = {
  '': ['second', 'seconds'],
  sec: ['second', 'seconds'],
  nsec: ['nanosecond', 'nanoseconds'],
  usec: ['microsecond', 'microseconds'],
  msec: ['millisecond', 'milliseconds'],
  min: ['minute', 'minutes'],
  hour: ['hour', 'hours'],
  day: ['day', 'days'],
};

const q = (s: string) => `'${s}'`;

/** A generic "<subject> <op> <value>" clause. */
function generic(subject: string, a: RuneAlternative, quoteValue = true): string {
  if (a.condition === '!') return `${subject} is missing`;
  if (a.condition === '#') return `comment: ${a.field}${a.value ? ' ' + a.value : ''}`;
  const v = a.condition === '<' || a.condition === '>' || !quoteValue ? a.value : q(a.value);
  return `${subject} ${OPS[a.condition]} ${v}`;
}

function describeAlternative(a: RuneAlternative): string {
  const intVal = parseRuneInt(a.value);
  switch (a.field) {
    case 'method':
      switch (a.condition) {
        case '=':
          return `may call only ${a.value}`;
        case '/':
          return `may not call ${a.value}`;
        case '^':
          return `may call only methods starting with ${q(a.value)}`;
        case '$':
          return `may call only methods ending with ${q(a.value)}`;
        case '~':
          return `may call only methods containing ${q(a.value)}`;
        case '!':
          return 'only when no method is given (never for a command)';
        default:
          return generic('the method', a);
      }
    case 'time': {
      if ((a.condition === '<' || a.condition === '>' || a.condition === '=') && intVal === undefined)
        return `time ${OPS[a.condition]} ${q(a.value)}, which is not a number: never satisfied`;
      const iso = intVal === undefined ? undefined : isoFromUnix(intVal);
      const at = iso ?? `unix time ${a.value}`;
      if (a.condition === '<') return `expires at ${at}`;
      if (a.condition === '>') return `valid only after ${at}`;
      if (a.condition === '=') return `valid only during the second ${at}`;
      if (a.condition === '/') return `not valid during the second ${at}`;
      return generic('the time (unix seconds)', a);
    }
    case 'id':
      switch (a.condition) {
        case '=':
          return `only for peer ${a.value}`;
        case '/':
          return `not for peer ${a.value}`;
        case '^':
          return `only for peers whose id starts with ${a.value}`;
        case '!':
          return 'only when not called by a peer';
        default:
          return generic('the peer id', a);
      }
    case 'rate': {
      if (a.condition !== '=')
        return `rate limit written with "${a.condition}" (must be "="): never satisfied`;
      if (intVal === undefined || !/^[0-9]+$/.test(a.value) || intVal <= 0n || intVal >= 4294967295n)
        return `malformed rate limit ${q(a.value)}: never satisfied`;
      return `rate limit ${a.value} per minute`;
    }
    case 'per': {
      if (a.condition !== '=')
        return `usage interval written with "${a.condition}" (must be "="): never satisfied`;
      const m = /^([0-9]+)(.*)$/.exec(a.value);
      const unit = m ? PER_UNITS[m[2]!] : undefined;
      if (!m || !unit || BigInt(m[1]!) === 0n || BigInt(m[1]!) >= 4294967295n)
        return `malformed usage interval ${q(a.value)}: never satisfied`;
      return m[1] === '1' ? `at most once per ${unit[0]}` : `at most once every ${m[1]} ${unit[1]}`;
    }
    case 'pnum':
      if (a.condition === '=') return `only with exactly ${a.value} parameter${a.value === '1' ? '' : 's'}`;
      if (a.condition === '<') return `only with fewer than ${a.value} parameters`;
      if (a.condition === '>') return `only with more than ${a.value} parameters`;
      return generic('the number of parameters', a);
  }
  const inv = /^pinv(.+)_(amount|description|node)$/.exec(a.field);
  if (inv) {
    const what = { amount: 'amount (msat)', description: 'description', node: 'node id' }[
      inv[2] as 'amount' | 'description' | 'node'
    ];
    return generic(`the invoice in parameter ${q(inv[1]!)}: its ${what}`, a);
  }
  if (a.field.startsWith('pname') && a.field.length > 5)
    return generic(`parameter ${q(a.field.slice(5))}`, a);
  if (/^parr[0-9]+$/.test(a.field)) return generic(`parameter #${a.field.slice(4)}`, a);
  return generic(`field ${q(a.field)} (not a field Core Lightning checks; a missing field fails)`, a);
}

function describeRestriction(r: RuneRestriction): string {
  // "may call only listpeers or getinfo" reads better than repeating "may call only".
  if (r.length > 1 && r.every((a) => a.field === 'method' && (a.condition === '=' || a.condition === '^'))) {
    const items = r.map((a) => (a.condition === '=' ? a.value : `methods starting with ${q(a.value)}`));
    return `may call only ${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
  }
  return r.map(describeAlternative).join(' or ');
}

/**
 * Everything a person needs to judge a rune: unique id, the restrictions in plain words and in
 * lightningd's words. Pure: does not check authenticity ({@link checkRuneAuthentic}).
 */
export function describeRune(rune: Rune): RuneDescription {
  const body = rune.uniqueId !== undefined ? rune.restrictions.slice(1) : rune.restrictions;
  const restrictions = body.map((r): RestrictionDescription => {
    const alternatives = r.map((a) => ({ ...a, text: describeAlternative(a), english: clnEnglish(a) }));
    return {
      alternatives,
      text: describeRestriction(r),
      english: alternatives.map((a) => a.english).join(' OR '),
    };
  });
  const unrestricted = restrictions.length === 0;
  return {
    rune: encodeRune(rune),
    uniqueId: rune.uniqueId,
    version: rune.version,
    string: runeToString(rune),
    restrictions,
    english: restrictions.map((r) => r.english).join(' AND '),
    summary: unrestricted
      ? ['unrestricted: may call every command, including ones that spend funds']
      : restrictions.map((r) => r.text),
    unrestricted,
  };
}

// ---------------------------------------------------------------------------------------------
// Restrictions from simple options (CLI flags, UI form)

export interface RestrictionOptions {
  /** Allowed methods (one restriction, alternatives "method=X"). */
  readonly methods?: readonly string[];
  /** The readonly preset ({@link READONLY_RESTRICTIONS}). */
  readonly readonly?: boolean;
  /** Expiry: RFC 3339 time with zone (whole seconds) or unix seconds. Becomes `time<T`. */
  readonly expires?: string | number | Date;
  /** Only this peer may use it (33-byte node id, hex). Becomes `id=…`. */
  readonly peerId?: string;
  /** At most N uses per minute. Becomes `rate=N`. */
  readonly rate?: number | string;
  /** Exactly N parameters. Becomes `pnum=N`. */
  readonly pnum?: number | string;
  /** Further restrictions in rune syntax ({@link parseRestriction}). */
  readonly raw?: readonly string[];
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * Unix seconds from an RFC 3339 time (zone required) or decimal seconds.
 * @throws CldcbError bad_input for other text, fractions of a second, or an impossible date.
 */
export function parseUnixSeconds(value: string | number | Date, what: string): bigint {
  if (value instanceof Date) {
    const ms = value.getTime();
    if (!Number.isFinite(ms) || ms % 1000 !== 0)
      throw new CldcbError('bad_input', `${what}: expected a valid time in whole seconds.`);
    return BigInt(ms / 1000);
  }
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0)
      throw new CldcbError('bad_input', `${what}: expected whole unix seconds.`);
    return BigInt(value);
  }
  if (typeof value !== 'string') throw new CldcbError('bad_input', `${what}: expected a time.`);
  if (/^[0-9]{1,15}$/.test(value)) return BigInt(value);
  const m = RFC3339.exec(value);
  if (!m)
    throw new CldcbError(
      'bad_input',
      `${what} "${value}": expected an RFC 3339 time like 2026-12-01T00:00:00Z, or unix seconds.`,
    );
  if (m[7] !== undefined && /[1-9]/.test(m[7]))
    throw new CldcbError('bad_input', `${what} "${value}": runes count whole seconds; drop the fraction.`);
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const days = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (mo < 1 || mo > 12 || d < 1 || d > days || h > 23 || mi > 59 || s > 59)
    throw new CldcbError('bad_input', `${what} "${value}": not a real date and time.`);
  const ms = Date.parse(value.replace(/\.\d+/, ''));
  if (!Number.isFinite(ms))
    throw new CldcbError('bad_input', `${what} "${value}": not a real date and time.`);
  return BigInt(ms / 1000);
}

function positiveInt(value: number | string, what: string, max: bigint): string {
  const s = typeof value === 'number' ? String(value) : value;
  if (!/^[0-9]+$/.test(s) || BigInt(s) > max)
    throw new CldcbError('bad_input', `${what} "${s}": expected a whole number up to ${max}.`);
  return String(BigInt(s));
}

/**
 * Turn simple options into restrictions in the order createrune users write them: methods,
 * readonly, peer id, parameter count, raw ones, expiry, rate.
 * @throws CldcbError bad_input naming the option that is wrong.
 */
export function restrictionsFromOptions(o: RestrictionOptions): RuneRestriction[] {
  const out: RuneRestriction[] = [];
  if (o.methods && o.methods.length > 0) {
    for (const m of o.methods)
      if (typeof m !== 'string' || m === '' || /\s/.test(m))
        throw new CldcbError(
          'bad_input',
          `method "${String(m)}": expected a command name such as listpeers.`,
        );
    out.push(o.methods.map((m) => ({ field: 'method', condition: '=', value: m })));
  }
  if (o.readonly) out.push(...READONLY_RESTRICTIONS);
  if (o.peerId !== undefined) {
    if (typeof o.peerId !== 'string' || !/^0[23][0-9a-fA-F]{64}$/.test(o.peerId))
      throw new CldcbError(
        'bad_input',
        'peer id: expected a node id (66 hex digits starting with 02 or 03).',
      );
    out.push([{ field: 'id', condition: '=', value: o.peerId.toLowerCase() }]);
  }
  if (o.pnum !== undefined)
    out.push([{ field: 'pnum', condition: '=', value: positiveInt(o.pnum, 'parameter count', 1000n) }]);
  for (const r of o.raw ?? []) out.push(parseRestriction(r));
  if (o.expires !== undefined)
    out.push([{ field: 'time', condition: '<', value: String(parseUnixSeconds(o.expires, 'expiry')) }]);
  if (o.rate !== undefined) {
    const r = positiveInt(o.rate, 'rate', 4294967294n);
    if (r === '0') throw new CldcbError('bad_input', 'rate "0": expected at least 1 use per minute.');
    out.push([{ field: 'rate', condition: '=', value: r }]);
  }
  return out;
}

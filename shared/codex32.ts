/**
 * codex32 (BIP-93), as Core Lightning uses it (cln-facts.md §4; common/codex32.c).
 *
 * Written by hand: no npm package implements codex32. @scure/base has bech32 and
 * bech32m only, and codex32's checksum is a different BCH code over GF(32) (13 or
 * 15 characters, with Shamir share recovery on top), so nothing there can be reused.
 *
 *   string  = hrp "1" data
 *   data    = threshold(1) id(4) shareIndex(1) payload checksum(13, or 15 for long strings)
 *   payload = the seed bits, most significant first, in 5-bit groups; the last group is padded
 *
 * BIP-93 uses hrp "ms". Core Lightning uses "cl" (hsmtool getsecret, exposesecret,
 * --recover). The hrp is part of the checksum, so a "cl" string is not a valid "ms"
 * string (cln-facts §4).
 *
 * Differences from Core Lightning, all on the side of BIP-93:
 *  - length limits are BIP-93's (48..127 characters with a 2-character hrp, data part
 *    never 94 or 95); CLN's decoder also accepts two too-short strings from the BIP-93
 *    invalid list (its run-codex32.c marks them "FALSE POSITIVE").
 *  - the encoder switches to the long checksum when the payload exceeds 74 characters
 *    (seeds of 47+ bytes, BIP-93 `ms32_create_checksum`); CLN switches at 51 bytes,
 *    so for 47..50-byte seeds CLN writes strings that its own decoder rejects. CLN only
 *    ever encodes 32-byte secrets, where both agree.
 *  - mixed case is judged on letters only (BIP-93 `ms32_decode`), not on the first character.
 *
 * Platform-free: strings and Uint8Array only.
 */
import { CldcbError } from './errors';

/** The bech32 alphabet (BIP-173); a character's index is its value in GF(32). */
export const CODEX32_CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';

const CHARSET_REV: readonly number[] = (() => {
  const rev = new Array<number>(128).fill(-1);
  for (let i = 0; i < 32; i++) rev[CODEX32_CHARSET.charCodeAt(i)] = i;
  return rev;
})();

/** Lower-case A-Z only, so positions never move (String.toLowerCase can change the length). */
const asciiLower = (s: string): string =>
  s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));

/** Value of a lower-case character, or -1 if it is not a bech32 character. */
const charValue = (code: number): number => (code < 128 ? CHARSET_REV[code]! : -1);

// ---------------------------------------------------------------------------
// GF(32) = GF(2)[x]/(x^5 + x^3 + 1): BIP-93 `bech32_mul` reduces by 41 = 0b101001.

function gfMul(a: number, b: number): number {
  let r = 0;
  for (let i = 0; i < 5; i++) {
    if ((b >> i) & 1) r ^= a;
    a <<= 1;
    if (a & 32) a ^= 41;
  }
  return r;
}

/** Multiplicative inverses (BIP-93 `BECH32_INV`), computed rather than copied. */
const GF_INV: readonly number[] = (() => {
  const inv = new Array<number>(32).fill(0);
  for (let a = 1; a < 32; a++) for (let b = 1; b < 32; b++) if (gfMul(a, b) === 1) inv[a] = b;
  return inv;
})();

// ---------------------------------------------------------------------------
// Checksum engines (cln-facts §4): the residue is a register of `len` GF(32) symbols
// starting at 0…01. Each input symbol e shifts the register left, appends e, and adds
// generator × (the symbol shifted out). A string is valid when the final register
// equals `target`. With hrp "ms" this is exactly BIP-93's ms32_polymod /
// ms32_long_polymod (whose initial residue 0x23181b3 is the state after feeding "ms").

interface Engine {
  readonly generator: readonly number[];
  readonly target: readonly number[];
  /** Checksum length in characters. */
  readonly len: number;
}

const SHORT: Engine = {
  generator: [25, 27, 17, 8, 0, 25, 25, 25, 31, 27, 24, 16, 16],
  target: [16, 25, 24, 3, 25, 11, 16, 23, 29, 3, 25, 17, 10],
  len: 13,
};
const LONG: Engine = {
  generator: [15, 10, 25, 26, 9, 25, 21, 6, 23, 21, 6, 5, 22, 4, 23],
  target: [16, 25, 24, 3, 25, 11, 16, 23, 29, 3, 25, 17, 10, 25, 6],
  len: 15,
};

/** BIP-93 limits on the data part (everything after "1"): short ≤ 93, long 96..124. */
const MIN_DATA = 45; // 48 characters with a 2-character hrp: a 16-byte seed
const MAX_SHORT_DATA = 93; // 6 + 74 payload + 13
const MIN_LONG_DATA = 96; // 6 + 75 payload + 15
const MAX_LONG_DATA = 124; // 6 + 103 payload + 15 (127 characters with a 2-character hrp)
const MAX_SHORT_PAYLOAD = 74; // characters; 46 bytes

/** Feed the hrp like bech32 (c>>5 for each char, 0, c&31 for each char), then `data`. */
function residue(engine: Engine, hrp: string, data: ArrayLike<number>, extra?: readonly number[]): number[] {
  const r = new Array<number>(engine.len).fill(0);
  r[engine.len - 1] = 1;
  const feed = (e: number): void => {
    const top = r[0]!;
    for (let i = 1; i < engine.len; i++) r[i - 1] = r[i]!;
    r[engine.len - 1] = e;
    for (let i = 0; i < engine.len; i++) r[i] = r[i]! ^ gfMul(engine.generator[i]!, top);
  };
  for (let i = 0; i < hrp.length; i++) feed(hrp.charCodeAt(i) >> 5);
  feed(0);
  for (let i = 0; i < hrp.length; i++) feed(hrp.charCodeAt(i) & 31);
  for (let i = 0; i < data.length; i++) feed(data[i]!);
  if (extra) for (const e of extra) feed(e);
  return r;
}

function checksumVerifies(engine: Engine, hrp: string, data: ArrayLike<number>): boolean {
  const r = residue(engine, hrp, data);
  let d = 0;
  for (let i = 0; i < engine.len; i++) d |= r[i]! ^ engine.target[i]!;
  return d === 0;
}

/**
 * Checksum for `data` (without checksum): feeding the target symbols after the data
 * leaves the checksum in the register, as CLN's calculate_checksum does
 * (residue(data‖c) = D·xⁿ + c, residue(data‖target) = D·xⁿ + target, so c = that).
 */
const createChecksum = (engine: Engine, hrp: string, data: ArrayLike<number>): number[] =>
  residue(engine, hrp, data, engine.target);

/** Engine for a data part of `n` characters (including checksum), or undefined (94, 95). */
function engineForDataLength(n: number): Engine | undefined {
  if (n >= MIN_LONG_DATA) return LONG;
  if (n <= MAX_SHORT_DATA) return SHORT;
  return undefined;
}

// ---------------------------------------------------------------------------
// Bit conversion (BIP-93 "Unshared Secret" / "Master seed format").

function bytesTo5(bytes: Uint8Array): number[] {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out.push((acc >> bits) & 31);
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out.push((acc << (5 - bits)) & 31); // zero padding, as CLN writes it
  return out;
}

/** undefined when the incomplete last group has more than 4 bits (BIP-93 "MUST be 4 bits or less"). */
function fiveToBytes(values: ArrayLike<number>): Uint8Array | undefined {
  const out = new Uint8Array(Math.floor((values.length * 5) / 8));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < values.length; i++) {
    acc = (acc << 5) | values[i]!;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 255;
      acc &= (1 << bits) - 1;
    }
  }
  // The leftover bits are discarded; unlike BIP-173 they need not be zero.
  return bits > 4 ? undefined : out;
}

// ---------------------------------------------------------------------------
// Parsing.

export interface Codex32Parts {
  /** Lower case, e.g. "cl" or "ms". */
  hrp: string;
  /** 0 (unshared secret) or 2..9. */
  threshold: number;
  /** 4 bech32 characters, lower case. */
  id: string;
  /** One bech32 character, lower case; "s" is the secret itself. */
  shareIndex: string;
  /** The decoded payload bytes (the seed for an "s" string). Secret: zeroize after use. */
  payload: Uint8Array;
}

interface Parsed {
  parts: Codex32Parts;
  /** The data part as GF(32) values, checksum included. Secret: zeroize after use. */
  data: Uint8Array;
}

const TYPO_HINT: Record<string, string> = { b: '8 or 6', i: 'l', o: '0', '1': 'l' };
const posList = (ps: number[]): string =>
  (ps.length > 1 ? 'characters ' : 'character ') +
  ps
    .slice(0, 8)
    .map((p) => p + 1)
    .join(', ') +
  (ps.length > 8 ? ', …' : '');

function fail(code: 'bad_input' | 'bad_length' | 'bad_checksum', msg: string): never {
  throw new CldcbError(code, msg);
}

function parse(s: unknown, expectedHrp?: string): Parsed {
  if (typeof s !== 'string') fail('bad_input', 'codex32: expected a string of text.');
  // Positions in messages are 1-based; characters of the string are never quoted,
  // except a character that is not a codex32 character (it carries no secret value).
  const nonPrintable: number[] = [];
  let firstLower = -1;
  let firstUpper = -1;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 33 || c > 126) nonPrintable.push(i);
    else if (c >= 97 && c <= 122) firstLower = firstLower < 0 ? i : firstLower;
    else if (c >= 65 && c <= 90) firstUpper = firstUpper < 0 ? i : firstUpper;
  }
  if (nonPrintable.length > 0)
    fail(
      'bad_input',
      `Not a valid bech32 string! ${posList(nonPrintable)}: a space, line break or non-ASCII character. Remove it.`,
    );
  if (firstLower >= 0 && firstUpper >= 0)
    fail(
      'bad_input',
      `Not a valid bech32 string! It mixes upper-case and lower-case letters (character ${firstLower + 1} is lower case, ` +
        `character ${firstUpper + 1} upper case). Type it all in lower case or all in upper case.`,
    );
  const str = asciiLower(s);

  // The hrp of a codex32 string never contains "1", so the first "1" is the separator
  // and any later "1" is a typo in the data (BIP-93 uses rfind; both reject such strings).
  const sep = str.indexOf('1');
  if (sep < 0)
    fail(
      'bad_input',
      'Separator doesn\'t exist! A codex32 string starts with its prefix and "1" (Core Lightning: "cl1").',
    );
  const hrp = str.slice(0, sep);
  if (hrp.length === 0)
    fail(
      'bad_input',
      'Invalid hrp! Nothing comes before the "1": the prefix (Core Lightning: "cl") is missing.',
    );
  if (expectedHrp !== undefined && hrp !== asciiLower(expectedHrp)) {
    const shown = hrp.length <= 4 ? `"${hrp}"` : `${hrp.length} characters long`;
    const hint =
      hrp === 'ms' && expectedHrp === 'cl'
        ? ' This is a BIP-93 wallet seed, not a Core Lightning secret.'
        : '';
    fail(
      'bad_input',
      `Invalid hrp! The prefix before "1" is ${shown}, but "${expectedHrp}" is needed.${hint} Check the first characters.`,
    );
  }

  const bad: number[] = [];
  const data = new Uint8Array(str.length - sep - 1);
  for (let i = 0; i < data.length; i++) {
    const v = charValue(str.charCodeAt(sep + 1 + i));
    if (v < 0) bad.push(sep + 1 + i);
    else data[i] = v;
  }
  if (bad.length > 0) {
    const hints = [...new Set(bad.map((p) => str[p]!))]
      .filter((c) => TYPO_HINT[c])
      .map((c) => `"${c}" is probably ${TYPO_HINT[c]}`);
    fail(
      'bad_input',
      `Not a valid bech32 string! ${posList(bad)} ${bad.length > 1 ? 'are not codex32 characters' : 'is not a codex32 character'} ` +
        `(codex32 never uses 1 after the prefix, b, i or o)${hints.length ? `: ${hints.join(', ')}` : ''}. Check against your paper copy.`,
    );
  }

  const n = data.length;
  const engine = engineForDataLength(n);
  if (n < MIN_DATA || n > MAX_LONG_DATA || !engine) {
    const h = hrp.length + 1;
    fail(
      'bad_length',
      `Invalid length! The string has ${str.length} characters; a codex32 string with this prefix has ` +
        `${MIN_DATA + h} to ${MAX_SHORT_DATA + h} or ${MIN_LONG_DATA + h} to ${MAX_LONG_DATA + h} ` +
        `(a Core Lightning secret has 74). Look for a missing or an extra character.`,
    );
  }
  if (!checksumVerifies(engine, hrp, data))
    fail(
      'bad_checksum',
      'Invalid checksum! Check each character of the codex32 string against your paper copy.',
    );

  const payload = fiveToBytes(data.subarray(6, n - engine.len));
  if (!payload)
    fail(
      'bad_length',
      `Invalid payload! Its ${n - 6 - engine.len} characters do not make whole bytes (BIP-93 allows at most 4 spare bits). ` +
        'Look for a missing or an extra character.',
    );
  const t = str.charCodeAt(sep + 1) - 48;
  if (t < 0 || t > 9 || t === 1) {
    payload.fill(0);
    fail(
      'bad_input',
      `Invalid threshold! Character ${sep + 2} (just after "1") must be the digit 0 or 2 to 9.`,
    );
  }
  const shareIndex = str[sep + 6]!;
  if (t === 0 && shareIndex !== 's') {
    payload.fill(0);
    fail(
      'bad_input',
      `Expected share index s for threshold 0! Character ${sep + 7} must be "s" when the threshold is 0.`,
    );
  }
  return { parts: { hrp, threshold: t, id: str.slice(sep + 2, sep + 6), shareIndex, payload }, data };
}

/**
 * Decode and verify a codex32 string (BIP-93 short or long checksum).
 *
 * All-uppercase input is accepted (BIP-93: the lower-case form is used for the
 * checksum); mixed case is rejected. For a secret (share index "s") the payload is
 * the seed; the incomplete last 5-bit group (≤ 4 bits, any value) is discarded.
 *
 * @param s the codex32 string, e.g. from a paper backup.
 * @param expectedHrp if given (e.g. "cl" for Core Lightning, "ms" for BIP-93 seeds), the prefix must match.
 * @returns the parts, lower case. `payload` is secret: zeroize it after use.
 * @throws CldcbError bad_input (not a string, invalid or non-ASCII character, mixed case,
 *   no "1" separator, wrong hrp, invalid threshold, threshold 0 without index "s"),
 *   bad_length (too short/long, or a payload that is not whole bytes), bad_checksum.
 *   Messages name positions (1-based), never the string.
 * @example
 * decodeCodex32('cl10leetsllhdmn9m42vcsamx24zrxgs3qrl7ahwvhw4fnzrhve25gvezzyqqjdsjnzedu43ns', 'cl').payload
 * // → ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100 (CLN tests/test_misc.py test_recover)
 */
export function decodeCodex32(s: string, expectedHrp?: string): Codex32Parts {
  const { parts, data } = parse(s, expectedHrp);
  data.fill(0);
  return parts;
}

// ---------------------------------------------------------------------------
// Encoding.

function checkHrp(hrp: unknown): asserts hrp is string {
  // CLN: "Our code assumes a two-letter HRP" (codex32_secret_encode asserts it). BIP-173:
  // printable ASCII; here also no "1" (the separator) and no upper case (the string is lower case).
  const ok =
    typeof hrp === 'string' &&
    hrp.length === 2 &&
    [...hrp].every((ch) => {
      const c = ch.charCodeAt(0);
      return c >= 33 && c <= 126 && ch !== '1' && !(c >= 65 && c <= 90);
    });
  if (!ok)
    fail(
      'bad_input',
      'Invalid hrp: the prefix must be 2 lower-case characters other than "1" (Core Lightning uses "cl").',
    );
}

/** CLN's identifier rules, in its order (common/codex32.c codex32_secret_encode). */
function checkId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || id.length !== 4) fail('bad_input', 'Invalid id: must be 4 characters.');
  for (let i = 0; i < 4; i++) {
    const c = id.charCodeAt(i);
    const lower = c >= 65 && c <= 90 ? c + 32 : c;
    if (c > 127) fail('bad_input', `Invalid id: must be ASCII (character ${i + 1} is not).`);
    if (charValue(lower) < 0)
      fail(
        'bad_input',
        `Invalid id: must be valid bech32 string (character ${i + 1} is not; no 1, b, i or o).`,
      );
    if (lower !== c) fail('bad_input', `Invalid id: must be lower-case (character ${i + 1} is not).`);
  }
}

/**
 * Encode a seed as a codex32 string: CLN's `codex32_secret_encode`, i.e.
 * hrp + "1" + threshold digit + id(4) + share index + payload + checksum.
 * The payload is the seed's bits, most significant first, zero-padded to a
 * multiple of 5. The 13-character checksum is used up to 74 payload characters
 * (46-byte seeds), the 15-character long checksum above that (BIP-93).
 *
 * @param hrp 2 characters; Core Lightning uses "cl", BIP-93 wallets "ms".
 * @param id 4 lower-case bech32 characters (CLN's exposesecret derives it from the node alias).
 * @param threshold 0 (unshared; CLN always uses 0) or 2..9.
 * @param seed 16 to 64 bytes (BIP-93 master seed sizes; CLN encodes 32).
 * @param shareIndex one lower-case bech32 character, default "s"; must be "s" when threshold is 0.
 * @returns the codex32 string, lower case. It is secret.
 * @throws CldcbError bad_input (hrp, id, threshold or share index invalid; seed not a Uint8Array),
 *   bad_length (seed not 16..64 bytes).
 * @example
 * encodeCodex32Secret('ms', 'leet', 0, hexToBytes('ffeeddccbbaa99887766554433221100'.repeat(2)))
 * // → 'ms10leetsllhdmn9m42vcsamx24zrxgs3qrl7ahwvhw4fnzrhve25gvezzyqqtum9pgv99ycma' (BIP-93 test vector 4)
 */
export function encodeCodex32Secret(
  hrp: string,
  id: string,
  threshold: number,
  seed: Uint8Array,
  shareIndex = 's',
): string {
  checkHrp(hrp);
  checkId(id);
  if (!Number.isInteger(threshold) || threshold < 0 || threshold > 9 || threshold === 1)
    fail('bad_input', 'Invalid threshold! It must be 0 (an unshared secret) or 2 to 9.');
  if (typeof shareIndex !== 'string' || shareIndex.length !== 1 || charValue(shareIndex.charCodeAt(0)) < 0)
    fail('bad_input', 'Invalid share index: must be one lower-case bech32 character.');
  if (threshold === 0 && shareIndex !== 's')
    fail('bad_input', 'Expected share index s for threshold 0! An unshared secret always has index "s".');
  if (!(seed instanceof Uint8Array)) fail('bad_input', 'codex32: the seed must be bytes (Uint8Array).');
  if (seed.length < 16 || seed.length > 64)
    fail('bad_length', `codex32: the seed must be 16 to 64 bytes (BIP-93), got ${seed.length}.`);

  const payload = bytesTo5(seed);
  // The threshold is written as its digit character ("0" has value 15, "2" value 10, …).
  const header = [48 + threshold, ...[...id, shareIndex].map((c) => c.charCodeAt(0))].map(charValue);
  const data = [...header, ...payload];
  const engine = payload.length > MAX_SHORT_PAYLOAD ? LONG : SHORT;
  const checksum = createChecksum(engine, hrp, data);
  const out = hrp + '1' + [...data, ...checksum].map((v) => CODEX32_CHARSET[v]!).join('');
  payload.fill(0);
  data.fill(0);
  return out;
}

// ---------------------------------------------------------------------------
// Shares (BIP-93 "Recovering Secret" / "Generating Shares").

/**
 * Lagrange interpolation over GF(32) of the shares' data parts at index `x`
 * (BIP-93 ms32_interpolate). Works on the whole data part, checksum included: the
 * weights sum to 1, so header and checksum come out right.
 */
function interpolate(shares: Parsed[], x: number): Uint8Array {
  const xs = shares.map((p) => p.data[5]!); // x must not be among xs (the caller checks)
  const out = new Uint8Array(shares[0]!.data.length);
  shares.forEach((share, i) => {
    // w_i = Π_{j≠i} (x − x_j) / (x_i − x_j); in characteristic 2, − is xor.
    let num = 1;
    let den = 1;
    xs.forEach((xj, j) => {
      if (j === i) return;
      num = gfMul(num, x ^ xj);
      den = gfMul(den, xs[i]! ^ xj);
    });
    const w = gfMul(num, GF_INV[den]!);
    for (let k = 0; k < out.length; k++) out[k] = out[k]! ^ gfMul(w, share.data[k]!);
  });
  return out;
}

/** Parse shares and check they form one set (same hrp, threshold, id, length; distinct indices). */
function parseShareSet(shares: unknown): Parsed[] {
  if (!Array.isArray(shares) || shares.length === 0)
    fail('bad_input', 'codex32: give a list of one or more shares.');
  const parsed = shares.map((s, i) => {
    try {
      return parse(s);
    } catch (e) {
      if (e instanceof CldcbError) throw new CldcbError(e.code, `Share ${i + 1}: ${e.message}`);
      throw e;
    }
  });
  const first = parsed[0]!;
  parsed.forEach(({ parts, data }, i) => {
    if (
      parts.hrp !== first.parts.hrp ||
      parts.id !== first.parts.id ||
      parts.threshold !== first.parts.threshold ||
      data.length !== first.data.length
    )
      fail(
        'bad_input',
        `Share ${i + 1} belongs to a different set: all shares need the same prefix, threshold, identifier and length.`,
      );
    if (parsed.findIndex((p) => p.parts.shareIndex === parts.shareIndex) !== i)
      fail(
        'bad_input',
        `Share ${i + 1} repeats the share index of an earlier share: each share must be different.`,
      );
  });
  return parsed;
}

/**
 * Derive the share with index `shareIndex` from threshold-many shares of a set
 * (BIP-93 "Generating Shares", ms32_interpolate); index "s" gives the secret. If a
 * string with that index is among the inputs, it is returned as it is.
 *
 * @param shares codex32 strings of one set: same hrp, threshold, identifier and length,
 *   distinct share indices, exactly `threshold` of them.
 * @returns the derived codex32 string, lower case. It is secret.
 * @throws CldcbError as decodeCodex32 (prefixed "Share N:"), or bad_input when the shares
 *   do not form one set, repeat an index, are too few or too many, or the index is invalid.
 * @example
 * deriveCodex32Share(['MS12NAMEA320ZYXWVUTSRQPNMLKJHGFEDCAXRPP870HKKQRM',
 *   'MS12NAMECACDEFGHJKLMNPQRSTUVWXYZ023FTR2GDZMPY6PN'], 'd')
 * // → 'ms12namedll4f8jlh4e5vdvuldlfxu2jhdnlsm97xvenrxeg' (BIP-93 test vector 2)
 */
export function deriveCodex32Share(shares: string[], shareIndex: string): string {
  const x =
    typeof shareIndex === 'string' && shareIndex.length === 1
      ? charValue(shareIndex.toLowerCase().charCodeAt(0))
      : -1;
  if (x < 0) fail('bad_input', 'Invalid share index: must be one bech32 character.');
  const parsed = parseShareSet(shares);
  try {
    const { hrp, threshold } = parsed[0]!.parts;
    const have = parsed.find((p) => p.data[5] === x);
    if (!have) {
      if (threshold === 0)
        fail('bad_input', 'A threshold 0 string is an unshared secret (index "s"), not a share.');
      if (parsed.length !== threshold)
        fail(
          'bad_input',
          `This share set has threshold ${threshold}: give exactly ${threshold} shares (${parsed.length} given).`,
        );
    }
    const data = have ? have.data.slice() : interpolate(parsed, x);
    const out = buildString(hrp, data);
    data.fill(0);
    return out;
  } finally {
    for (const p of parsed) {
      p.data.fill(0);
      p.parts.payload.fill(0);
    }
  }
}

/**
 * Recover the secret from threshold-many shares (BIP-93 ms32_recover: Lagrange
 * interpolation over GF(32) at index "s"). If the "s" string itself is among the
 * inputs, it is returned.
 *
 * @param shares codex32 strings of one set: same hrp, threshold, identifier and length,
 *   distinct share indices, exactly `threshold` of them.
 * @returns the parts of the recovered "s" string (`payload` is the seed; zeroize it after use).
 * @throws CldcbError as deriveCodex32Share.
 * @example
 * combineCodex32Shares([
 *   'MS12NAMEA320ZYXWVUTSRQPNMLKJHGFEDCAXRPP870HKKQRM',
 *   'MS12NAMECACDEFGHJKLMNPQRSTUVWXYZ023FTR2GDZMPY6PN',
 * ]).payload // → d1808e096b35b209ca12132b264662a5 (BIP-93 test vector 2)
 */
export function combineCodex32Shares(shares: string[]): Codex32Parts {
  // Re-parsing verifies the interpolated checksum (a self-check) and decodes the payload.
  return decodeCodex32(deriveCodex32Share(shares, 's'));
}

function buildString(hrp: string, data: Uint8Array): string {
  return hrp + '1' + Array.from(data, (v) => CODEX32_CHARSET[v]!).join('');
}

// ---------------------------------------------------------------------------
// Diagnosis.

/**
 * For typo diagnosis in the UI. Case is ignored here (decodeCodex32 rejects mixed case).
 *
 * `badPositions` (0-based) lists characters that cannot be there: in the prefix
 * anything outside printable ASCII; after the first "1" anything that is not a bech32
 * character (including a second "1", "b", "i", "o"). `checksumOk` is true when the
 * characters are valid and the BIP-93 checksum (short or long, by length) verifies.
 *
 * @example diagnoseCodex32('cl10leetsllhdmn9m42vcsamx24zrxgs3qrl7ahwvhw4fnzrhve25gvezzyqqjdsjnzedu43ns')
 * // → { validChars: true, badPositions: [], checksumOk: true }
 */
export function diagnoseCodex32(s: string): {
  validChars: boolean;
  badPositions: number[];
  checksumOk: boolean;
} {
  if (typeof s !== 'string') fail('bad_input', 'codex32: expected a string of text.');
  const str = asciiLower(s);
  const sep = str.indexOf('1');
  const badPositions: number[] = [];
  const data = new Uint8Array(sep < 0 ? 0 : str.length - sep - 1);
  for (let i = 0; i < str.length; i++) {
    const c = str.charCodeAt(i);
    if (i < sep) {
      if (c < 33 || c > 126) badPositions.push(i);
    } else if (i > sep) {
      const v = charValue(c);
      if (v < 0) badPositions.push(i);
      else if (sep >= 0) data[i - sep - 1] = v;
    }
  }
  const validChars = badPositions.length === 0;
  const engine = engineForDataLength(data.length);
  const checksumOk =
    validChars &&
    sep > 0 &&
    engine !== undefined &&
    data.length > engine.len &&
    checksumVerifies(engine, str.slice(0, sep), data);
  data.fill(0);
  return { validChars, badPositions, checksumOk };
}

// ---------------------------------------------------------------------------
// Locating substitution errors (BIP-93: the short checksum "can correct up to 4 substitution
// errors"). The checksum is a BCH code: its generator g(x) over GF(32) has, in the extension field
// GF(1024), eight roots that are consecutive powers γ^b … γ^(b+7) of an element γ of order 93, so
// any 4 substitutions in a string of ≤ 93 data characters give a unique error pattern. Decoding:
// the residue of the typed string minus the target is E(x) mod g(x), so E(γ^(b+k)) for k = 0…7 are
// the syndromes; Berlekamp–Massey finds the error locator, a search over the positions finds the
// roots, and the values are solved from the residue itself (linear over GF(32)).
//
// GF(1024), γ and b are derived here from g rather than copied (like GF_INV above): a field
// GF(32)[ζ]/(ζ² + ζ + c) with the first c that makes the quadratic irreducible, and the first γ
// and b whose eight powers are roots of g. Any such choice gives the same error locations.

/** GF(1024) elements as a + 32·b, meaning a + b·ζ (a, b in GF(32)). */
interface Gf1024 {
  readonly mul: (x: number, y: number) => number;
  readonly exp: Uint16Array; // exp[i] = α^i, i < 2046
  readonly log: Int16Array; // log[x] for x ≠ 0
}

let GF1024: Gf1024 | undefined;
function gf1024(): Gf1024 {
  if (GF1024) return GF1024;
  // ζ² + ζ + c irreducible over GF(32): no t with t² + t = c.
  let c = 1;
  while ([...Array(32).keys()].some((t) => (gfMul(t, t) ^ t) === c)) c++;
  const mul = (x: number, y: number): number => {
    const a1 = x & 31;
    const b1 = x >> 5;
    const a2 = y & 31;
    const b2 = y >> 5;
    const bb = gfMul(b1, b2);
    return (gfMul(a1, a2) ^ gfMul(c, bb)) | ((gfMul(a1, b2) ^ gfMul(a2, b1) ^ bb) << 5);
  };
  // A primitive element: order 1023.
  const exp = new Uint16Array(2046);
  const log = new Int16Array(1024).fill(-1);
  for (let alpha = 2; alpha < 1024; alpha++) {
    let x = 1;
    let order = 0;
    do {
      x = mul(x, alpha);
      order++;
    } while (x !== 1 && order <= 1023);
    if (order !== 1023) continue;
    x = 1;
    for (let i = 0; i < 2046; i++) {
      exp[i] = x;
      if (i < 1023) log[x] = i;
      x = mul(x, alpha);
    }
    break;
  }
  GF1024 = { mul, exp, log };
  return GF1024;
}

/** g(x) = x^13 + Σ generator[i]·x^(12−i) evaluated at x (Horner, highest degree first). */
function evalGenerator(f: Gf1024, x: number): number {
  let acc = 1;
  for (const g of SHORT.generator) acc = f.mul(acc, x) ^ g;
  return acc;
}

interface BchParams {
  /** log of γ (γ = α^gammaLog), order of γ, and log of the first root γ^b. */
  readonly gammaLog: number;
  readonly firstLog: number;
}
let SHORT_BCH: BchParams | undefined;
function shortBch(): BchParams {
  if (SHORT_BCH) return SHORT_BCH;
  const f = gf1024();
  const roots = new Set<number>();
  for (let i = 0; i < 1023; i++) if (evalGenerator(f, f.exp[i]!) === 0) roots.add(i);
  for (let gammaLog = 1; gammaLog < 1023; gammaLog++) {
    // order of γ = 1023 / gcd(1023, gammaLog) must cover the 93 positions of a short string
    const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
    if (1023 / gcd(1023, gammaLog) < MAX_SHORT_DATA) continue;
    for (const r of roots) {
      let all = true;
      for (let k = 1; k < 8 && all; k++) all = roots.has((r + k * gammaLog) % 1023);
      if (all) return (SHORT_BCH = { gammaLog, firstLog: r });
    }
  }
  throw new Error('codex32: the generator has no 8 consecutive roots'); // cannot happen: BIP-93's code is BCH
}

/** Solve Σ v_j·cols[j] = rhs over GF(32) (13 equations); null when inconsistent or singular. */
function solveGf32(cols: number[][], rhs: readonly number[]): number[] | null {
  const n = cols.length;
  const rows = rhs.map((r, i) => [...cols.map((c) => c[i]!), r]);
  let row = 0;
  const pivots: number[] = [];
  for (let col = 0; col < n; col++) {
    const p = rows.findIndex((r, i) => i >= row && r[col] !== 0);
    if (p < 0) return null;
    [rows[row], rows[p]] = [rows[p]!, rows[row]!];
    const inv = GF_INV[rows[row]![col]!]!;
    rows[row] = rows[row]!.map((v) => gfMul(v, inv));
    for (let i = 0; i < rows.length; i++)
      if (i !== row && rows[i]![col] !== 0) {
        const factor = rows[i]![col]!;
        rows[i] = rows[i]!.map((v, j) => v ^ gfMul(factor, rows[row]![j]!));
      }
    pivots.push(row);
    row++;
  }
  for (let i = row; i < rows.length; i++) if (rows[i]![n] !== 0) return null;
  return pivots.map((r) => rows[r]![n]!);
}

export interface Codex32Correction {
  /** 0-based position in the string as given (the compact string, prefix included). */
  readonly position: number;
  readonly from: string;
  readonly to: string;
}

/**
 * Locate up to 4 substitution errors in a codex32 string with the short checksum (BIP-93; every
 * Core Lightning secret). Characters that cannot appear (b, i, o, a second 1) count as errors at
 * their places. Returns the corrections, or null when the string verifies, is not a short codex32
 * string, or has more errors than the checksum can locate. A correction is a *candidate*: the
 * caller shows it and the operator checks it against the paper; nothing is corrected silently.
 * @example locateCodex32Errors('cl10leetsllhdmn9m42vcsamx24zrxgs3qrl7ahwvhw4fnzrhve25gvezzyqqjdsjnzedu43nq')
 * // → [{ position: 73, from: 'q', to: 's' }]
 */
export function locateCodex32Errors(s: string): Codex32Correction[] | null {
  const str = asciiLower(s);
  const sep = str.indexOf('1');
  if (sep <= 0) return null;
  const hrp = str.slice(0, sep);
  const n = str.length - sep - 1;
  if (n < MIN_DATA || n > MAX_SHORT_DATA || /[^\x21-\x7e]/.test(hrp)) return null;
  const data = new Uint8Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.max(0, charValue(str.charCodeAt(sep + 1 + i))); // unreadable → "q", then located
  try {
    const res = residue(SHORT, hrp, data);
    const r = res.map((v, i) => v ^ SHORT.target[i]!);
    if (r.every((v) => v === 0)) return null;
    const f = gf1024();
    const { gammaLog, firstLog } = shortBch();
    // Syndromes S_k = R(γ^(b+k)), R(x) = Σ r[i]·x^(12−i).
    const S: number[] = [];
    for (let k = 0; k < 8; k++) {
      const x = f.exp[(firstLog + k * gammaLog) % 1023]!;
      let acc = 0;
      for (const v of r) acc = f.mul(acc, x) ^ v;
      S.push(acc);
    }
    // Berlekamp–Massey over GF(1024).
    const inv = (x: number): number => f.exp[(1023 - f.log[x]!) % 1023]!;
    let C = [1];
    let B = [1];
    let L = 0;
    let m = 1;
    let b = 1;
    for (let i = 0; i < 8; i++) {
      let d = S[i]!;
      for (let j = 1; j <= L; j++) d ^= f.mul(C[j] ?? 0, S[i - j]!);
      if (d === 0) {
        m++;
        continue;
      }
      const coef = f.mul(d, inv(b));
      const T = C.slice();
      const next = C.slice();
      for (let j = 0; j < B.length; j++) next[j + m] = (next[j + m] ?? 0) ^ f.mul(coef, B[j]!);
      if (2 * L <= i) {
        L = i + 1 - L;
        B = T;
        b = d;
        m = 1;
      } else m++;
      C = next;
    }
    if (L === 0 || L > 4) return null;
    // Chien search over the data positions: data[p] has exponent n−1−p; a root of Λ is X^(−1).
    const positions: number[] = [];
    for (let p = 0; p < n; p++) {
      const xInvLog = (1023 - (((n - 1 - p) * gammaLog) % 1023)) % 1023;
      let acc = 0;
      for (let j = C.length - 1; j >= 0; j--) acc = f.mul(acc, f.exp[xInvLog]!) ^ (C[j] ?? 0);
      if (acc === 0) positions.push(p);
    }
    if (positions.length !== L) return null;
    // Error values from the residue: a unit error at p adds x^(n−1−p) mod g, i.e. the residue of "1" then zeros.
    const unit = (p: number): number[] => {
      const d = new Uint8Array(n);
      d[p] = 1;
      const zero = residue(SHORT, hrp, new Uint8Array(n));
      return residue(SHORT, hrp, d).map((v, i) => v ^ zero[i]!);
    };
    const values = solveGf32(positions.map(unit), r);
    if (!values || values.some((v) => v === 0)) return null;
    positions.forEach((p, j) => (data[p] = data[p]! ^ values[j]!));
    if (!checksumVerifies(SHORT, hrp, data)) return null;
    return positions.map((p) => ({ position: sep + 1 + p, from: str[sep + 1 + p]!, to: CODEX32_CHARSET[data[p]!]! }));
  } finally {
    data.fill(0);
  }
}

/**
 * LND macaroons: decode, describe (as `lncli printmacaroon`), attenuate without the root key,
 * verify with the root key. Platform-free.
 *
 * Why not the `macaroon` npm package (go-macaroon/js-macaroon 3.0.4, installed)? It was checked
 * against the V2 binary format and is used in the unit tests as an independent oracle, but the
 * engine does not build on it because:
 *  - it reads field types as single bytes and does not enforce go-macaroon's section rules
 *    ("fields out of order", "location not allowed in first party caveat", "invalid macaroon
 *    header"), so it accepts bytes that LND (go-macaroon) rejects;
 *  - it throws plain Error/TypeError/RangeError with texts we would have to pattern-match, and
 *    decodes locations with a fatal UTF-8 decoder (go-macaroon takes any bytes);
 *  - its crypto runs on sjcl bit arrays (root keys cannot be zeroized) and it is CommonJS without
 *    types, pulling sjcl + tweetnacl into shared/;
 *  - its ByteBuffer._grow compares with an undefined `_capacity` and doubles the buffer on every
 *    append, so exportBinary() of a macaroon with four or more caveats tries to allocate gigabytes
 *    (found by the differential test in test/unit/macaroons.test.ts);
 *  - it knows nothing of LND's identifier, caveats or checks, which are most of this module.
 * The V2 codec below is ~100 lines and follows go-macaroon marshal-v2.go / packet-v2.go.
 *
 * Facts (go-macaroon/macaroon @ 1679699 crypto.go, macaroon.go; lnd @ 90ea05d macaroons/*.go,
 * lnrpc/lightning.proto; macaroon-bakery @ 6b59d06 bakery/oven.go, checkers/*.go):
 *  - V2 binary: 0x02, [loc(1)] id(2) EOS, then per caveat [loc(1)] id(2) [vid(4)] EOS, then EOS,
 *    sig(6). A field is varint type, varint length, bytes; EOS is one 0 byte. Within a section the
 *    types must increase.
 *  - key = HMAC-SHA256(key = "macaroons-key-generator", msg = rootKey)   (makeKey)
 *    sig0 = HMAC-SHA256(key, identifier); first-party: sig = HMAC-SHA256(sig, caveatId);
 *    third-party: sig = HMAC(sig, HMAC(sig, vid) ‖ HMAC(sig, cid)).
 *  - LND root keys are 32 bytes (macaroons/store.go RootKeyLen); root key id "0" by default.
 *  - LND identifier = 0x03 (bakery.Version3) ‖ protobuf MacaroonId { bytes nonce = 1;
 *    bytes storageId = 2; repeated Op ops = 3 } with Op { string entity = 1; repeated string actions = 2 }.
 *  - LND accepts the first-party conditions "time-before <RFC3339Nano>", "declared <k> <v>",
 *    "error …" (std checkers), "ipaddr <ip>", "iprange <cidr>", "lnd-custom <name> [<condition>]"
 *    and no third-party caveats.
 */
import { CldcbError } from '../errors';
import { bytesToHex, concatBytes, equalBytes, fromUtf8, hexToBytes, utf8, zeroize } from '../bytes';
import { hmacSha256 } from '../crypto/hash';
import { decodeBase64, encodeBase64 } from '../base64';
import { cidrContains, formatCidr, formatIp, ipEqual, parseCidr, parseIp } from './ip';

// ---------------------------------------------------------------------------------------------
// Types

export interface MacaroonCaveat {
  /** The caveat identifier: for a first-party caveat, the condition text. */
  readonly id: Uint8Array;
  /** Third-party caveats only: the encrypted caveat key. */
  readonly verificationId?: Uint8Array;
  /** Third-party caveats only: where to get the discharge macaroon. */
  readonly location?: string;
}

export interface Macaroon {
  readonly location: string;
  readonly identifier: Uint8Array;
  readonly caveats: readonly MacaroonCaveat[];
  readonly signature: Uint8Array;
}

export interface LndOp {
  readonly entity: string;
  readonly actions: readonly string[];
}

/** LND's identifier (bakery version 3 + protobuf MacaroonId). */
export interface LndIdentifier {
  readonly version: 3;
  readonly nonce: Uint8Array;
  readonly storageId: Uint8Array;
  readonly ops: readonly LndOp[];
}

export type MacaroonTextFormat = 'hex' | 'base64' | 'base64url';

/** Macaroons larger than this are refused unread (LND's are a few hundred bytes). */
export const MAX_MACAROON_BYTES = 1 << 20;

// ---------------------------------------------------------------------------------------------
// V2 binary codec (go-macaroon marshal-v2.go, packet-v2.go)

const FIELD_EOS: number = 0;
const FIELD_LOCATION: number = 1;
const FIELD_IDENTIFIER: number = 2;
const FIELD_VID: number = 4;
const FIELD_SIGNATURE: number = 6;

const FIELD_NAMES: Record<number, string> = {
  0: 'end of section',
  1: 'location',
  2: 'identifier',
  4: 'verification id',
  6: 'signature',
};

class V2Reader {
  off = 1; // the version byte is checked before
  constructor(readonly b: Uint8Array) {}
  varint(what: string): number {
    let x = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.off >= this.b.length)
        throw new CldcbError(
          'truncated',
          `macaroon: ended early inside the ${what} at byte ${this.off}; the data is cut off.`,
        );
      const c = this.b[this.off++]!;
      x += (c & 0x7f) * 2 ** shift;
      if (c < 0x80) {
        if (x > 0x7fffffff) break; // go-macaroon parseVarint: "varint value out of range"
        return x;
      }
      shift += 7;
    }
    throw new CldcbError(
      'bad_input',
      `macaroon: the ${what} before byte ${this.off} is out of range; this is not a macaroon.`,
    );
  }
  packet(): { type: number; data: Uint8Array } {
    const type = this.varint('field type');
    if (type === FIELD_EOS) return { type, data: new Uint8Array(0) };
    const len = this.varint(`length of the ${FIELD_NAMES[type] ?? `field of type ${type}`}`);
    if (len > this.b.length - this.off)
      throw new CldcbError(
        'truncated',
        `macaroon: the ${FIELD_NAMES[type] ?? `field of type ${type}`} at byte ${this.off} says ${len} bytes but only ${this.b.length - this.off} remain; the data is cut off.`,
      );
    const data = this.b.slice(this.off, this.off + len);
    this.off += len;
    return { type, data };
  }
  section(what: string): { type: number; data: Uint8Array }[] {
    const out: { type: number; data: Uint8Array }[] = [];
    let prev = -1;
    for (;;) {
      if (this.off >= this.b.length)
        throw new CldcbError(
          'truncated',
          `macaroon: the ${what} is not finished (no end marker); the data is cut off.`,
        );
      const p = this.packet();
      if (p.type === FIELD_EOS) return out;
      if (p.type <= prev)
        throw new CldcbError(
          'bad_input',
          `macaroon: fields out of order in the ${what}; this is not a valid macaroon.`,
        );
      out.push(p);
      prev = p.type;
    }
  }
}

function latin(b: Uint8Array): string {
  // Locations are free text; show invalid UTF-8 with replacement characters, as Go's JSON does.
  return new TextDecoder('utf-8').decode(b);
}

/**
 * Decode V2 binary bytes (go-macaroon `UnmarshalBinary`, with its checks), rejecting trailing bytes.
 * @throws CldcbError truncated / bad_input / unsupported naming what is wrong and where.
 */
export function decodeMacaroonBinary(bytes: Uint8Array): Macaroon {
  if (!(bytes instanceof Uint8Array)) throw new CldcbError('bad_input', 'macaroon: expected bytes.');
  if (bytes.length === 0) throw new CldcbError('bad_input', 'macaroon: empty input.');
  if (bytes.length > MAX_MACAROON_BYTES)
    throw new CldcbError('bad_length', `macaroon: ${bytes.length} bytes is far too large to be a macaroon.`);
  const v = bytes[0]!;
  if (v !== 2) {
    if ((v >= 0x30 && v <= 0x39) || (v >= 0x61 && v <= 0x66))
      throw new CldcbError('unsupported', 'macaroon: this is a version 1 macaroon; LND uses version 2 only.');
    throw new CldcbError(
      'bad_input',
      `macaroon: the first byte is 0x${v.toString(16).padStart(2, '0')}, not 0x02; this is not a version 2 macaroon.`,
    );
  }
  const r = new V2Reader(bytes);
  let header = r.section('header');
  let location = '';
  if (header[0]?.type === FIELD_LOCATION) {
    location = latin(header[0].data);
    header = header.slice(1);
  }
  if (header.length !== 1 || header[0]!.type !== FIELD_IDENTIFIER)
    throw new CldcbError(
      'bad_input',
      'macaroon: invalid header (expected an optional location and an identifier).',
    );
  const identifier = header[0]!.data;
  const caveats: MacaroonCaveat[] = [];
  for (;;) {
    let sec = r.section(`caveat ${caveats.length + 1}`);
    if (sec.length === 0) break;
    let loc: string | undefined;
    if (sec[0]!.type === FIELD_LOCATION) {
      loc = latin(sec[0]!.data);
      sec = sec.slice(1);
    }
    const n = caveats.length + 1;
    if (sec.length === 0 || sec[0]!.type !== FIELD_IDENTIFIER)
      throw new CldcbError('bad_input', `macaroon: caveat ${n} has no identifier.`);
    const id = sec[0]!.data;
    sec = sec.slice(1);
    if (sec.length === 0) {
      if (loc)
        throw new CldcbError(
          'bad_input',
          `macaroon: caveat ${n} has a location but no verification id (not allowed for a first-party caveat).`,
        );
      caveats.push({ id });
      continue;
    }
    if (sec.length !== 1 || sec[0]!.type !== FIELD_VID)
      throw new CldcbError('bad_input', `macaroon: caveat ${n} has unexpected fields.`);
    caveats.push({ id, verificationId: sec[0]!.data, location: loc ?? '' });
  }
  if (r.off >= bytes.length)
    throw new CldcbError('truncated', 'macaroon: ended before the signature; the data is cut off.');
  const sig = r.packet();
  if (sig.type !== FIELD_SIGNATURE)
    throw new CldcbError(
      'bad_input',
      `macaroon: expected the signature, found a ${FIELD_NAMES[sig.type] ?? `field of type ${sig.type}`}.`,
    );
  if (sig.data.length !== 32)
    throw new CldcbError('bad_input', `macaroon: the signature has ${sig.data.length} bytes, not 32.`);
  if (r.off !== bytes.length)
    throw new CldcbError(
      'bad_input',
      `macaroon: ${bytes.length - r.off} unexpected byte${bytes.length - r.off === 1 ? '' : 's'} after the signature (two macaroons pasted together?).`,
    );
  return { location, identifier, caveats, signature: sig.data };
}

function appendVarint(out: number[], x: number): void {
  while (x >= 0x80) {
    out.push((x & 0x7f) | 0x80);
    x = Math.floor(x / 128);
  }
  out.push(x);
}

function appendField(out: number[], type: number, data: Uint8Array): void {
  appendVarint(out, type);
  appendVarint(out, data.length);
  for (const b of data) out.push(b);
}

/** V2 binary bytes (go-macaroon `appendBinaryV2`: empty locations and empty verification ids are left out). */
export function encodeMacaroon(m: Macaroon): Uint8Array {
  const out: number[] = [2];
  if (m.location.length > 0) appendField(out, FIELD_LOCATION, utf8(m.location));
  appendField(out, FIELD_IDENTIFIER, m.identifier);
  out.push(FIELD_EOS);
  for (const c of m.caveats) {
    if (c.location) appendField(out, FIELD_LOCATION, utf8(c.location));
    appendField(out, FIELD_IDENTIFIER, c.id);
    if (c.verificationId && c.verificationId.length > 0) appendField(out, FIELD_VID, c.verificationId);
    out.push(FIELD_EOS);
  }
  out.push(FIELD_EOS);
  appendField(out, FIELD_SIGNATURE, m.signature);
  return new Uint8Array(out);
}

/** The macaroon as text: hex (LND's REST header `Grpc-Metadata-macaroon`), standard base64, or unpadded base64url. */
export function macaroonToText(m: Macaroon, format: MacaroonTextFormat): string {
  const b = encodeMacaroon(m);
  if (format === 'hex') return bytesToHex(b);
  if (format === 'base64') return encodeBase64(b, false, true);
  if (format === 'base64url') return encodeBase64(b, true, false);
  throw new CldcbError('bad_input', `macaroon format "${String(format)}": use hex, base64 or base64url.`);
}

/**
 * Decode a macaroon given as V2 bytes or as text: hex, base64 or base64url (padding optional,
 * surrounding whitespace ignored). A file's raw bytes can be passed directly.
 * @throws CldcbError naming what is wrong: bad hex/base64, cut-off data, not a macaroon, version 1 or JSON.
 */
export function decodeMacaroon(input: Uint8Array | string): Macaroon {
  if (input instanceof Uint8Array) {
    if (input.length > 0 && input[0] === 2) return decodeMacaroonBinary(input);
    if (input.length > MAX_MACAROON_BYTES)
      throw new CldcbError(
        'bad_length',
        `macaroon: ${input.length} bytes is far too large to be a macaroon.`,
      );
    let text: string;
    try {
      text = fromUtf8(input, 'macaroon');
    } catch {
      throw new CldcbError(
        'bad_input',
        'macaroon: neither a binary macaroon (first byte 0x02) nor text (hex or base64).',
      );
    }
    return decodeMacaroonText(text);
  }
  if (typeof input !== 'string') throw new CldcbError('bad_input', 'macaroon: expected bytes or text.');
  return decodeMacaroonText(input);
}

function decodeMacaroonText(text: string): Macaroon {
  if (text.length > 4 * MAX_MACAROON_BYTES)
    throw new CldcbError('bad_length', 'macaroon: the text is far too long to be a macaroon.');
  const t = text.trim();
  if (t === '')
    throw new CldcbError(
      'bad_input',
      'macaroon: empty input; expected a macaroon (binary file, hex or base64).',
    );
  if (t.startsWith('{') || t.startsWith('[') || t.startsWith('"'))
    throw new CldcbError(
      'unsupported',
      'macaroon: JSON macaroons are not supported; give the binary file, hex or base64.',
    );
  if (/^[0-9a-fA-F]+$/.test(t)) return decodeMacaroonBinary(hexToBytes(t, 'macaroon (hex)'));
  return decodeMacaroonBinary(decodeBase64(t, 'macaroon (base64)', 'either'));
}

// ---------------------------------------------------------------------------------------------
// LND identifier (protobuf)

class Pb {
  off = 0;
  constructor(readonly b: Uint8Array) {}
  varint(): bigint {
    let x = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.off >= this.b.length) throw new Error('truncated varint');
      const c = this.b[this.off++]!;
      x |= BigInt(c & 0x7f) << BigInt(7 * i);
      if (c < 0x80) return x;
    }
    throw new Error('varint too long');
  }
  bytes(): Uint8Array {
    const n = this.varint();
    if (n > BigInt(this.b.length - this.off)) throw new Error('truncated field');
    const out = this.b.slice(this.off, this.off + Number(n));
    this.off += Number(n);
    return out;
  }
  /** Read a field; returns [number, wireType, value] with value only for wire type 2. */
  field(): { no: number; wt: number; data?: Uint8Array } {
    const key = this.varint();
    const no = Number(key >> 3n);
    const wt = Number(key & 7n);
    if (no === 0 || key >> 3n > 0x1fffffffn) throw new Error('bad field number');
    if (wt === 0) this.varint();
    else if (wt === 1) this.skip(8);
    else if (wt === 5) this.skip(4);
    else if (wt === 2) return { no, wt, data: this.bytes() };
    else throw new Error('unsupported wire type');
    return { no, wt };
  }
  skip(n: number) {
    if (this.off + n > this.b.length) throw new Error('truncated');
    this.off += n;
  }
}

const strictUtf8 = (b: Uint8Array): string => new TextDecoder('utf-8', { fatal: true }).decode(b);

/**
 * LND's identifier, or undefined when the identifier is not one (first byte ≠ 3, or the protobuf
 * does not parse — as Go's proto.Unmarshal: unknown fields and mismatched wire types are skipped,
 * strings must be UTF-8).
 */
export function parseLndIdentifier(identifier: Uint8Array): LndIdentifier | undefined {
  if (!(identifier instanceof Uint8Array) || identifier.length < 1 || identifier[0] !== 3) return undefined;
  try {
    const r = new Pb(identifier.subarray(1));
    let nonce: Uint8Array = new Uint8Array(0);
    let storageId: Uint8Array = new Uint8Array(0);
    const ops: LndOp[] = [];
    while (r.off < r.b.length) {
      const f = r.field();
      if (f.wt !== 2 || !f.data) continue;
      if (f.no === 1) nonce = f.data;
      else if (f.no === 2) storageId = f.data;
      else if (f.no === 3) {
        const o = new Pb(f.data);
        let entity = '';
        const actions: string[] = [];
        while (o.off < o.b.length) {
          const g = o.field();
          if (g.wt !== 2 || !g.data) continue;
          if (g.no === 1) entity = strictUtf8(g.data);
          else if (g.no === 2) actions.push(strictUtf8(g.data));
        }
        ops.push({ entity, actions });
      }
    }
    return { version: 3, nonce, storageId, ops };
  } catch {
    return undefined;
  }
}

function pbField(no: number, data: Uint8Array): number[] {
  const out: number[] = [];
  appendVarint(out, (no << 3) | 2);
  appendVarint(out, data.length);
  for (const b of data) out.push(b);
  return out;
}

/**
 * LND's identifier bytes: bakery CanonicalOps (sort by entity then action, drop duplicates),
 * grouped by entity (oven.go macaroonIdOps), fields in proto order.
 */
export function encodeLndIdentifier(id: {
  nonce: Uint8Array;
  storageId: Uint8Array;
  ops: readonly { entity: string; action: string }[];
}): Uint8Array {
  const cmp = (a: string, b: string) => {
    const x = utf8(a);
    const y = utf8(b);
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
    return x.length - y.length;
  };
  const sorted = [...id.ops].sort((a, b) => cmp(a.entity, b.entity) || cmp(a.action, b.action));
  const groups: { entity: string; actions: string[] }[] = [];
  for (const op of sorted) {
    const last = groups[groups.length - 1];
    if (last && last.entity === op.entity) {
      if (last.actions[last.actions.length - 1] !== op.action) last.actions.push(op.action);
    } else groups.push({ entity: op.entity, actions: [op.action] });
  }
  const out: number[] = [3];
  if (id.nonce.length) out.push(...pbField(1, id.nonce));
  if (id.storageId.length) out.push(...pbField(2, id.storageId));
  for (const g of groups) {
    const inner = [...pbField(1, utf8(g.entity)), ...g.actions.flatMap((a) => pbField(2, utf8(a)))];
    out.push(...pbField(3, new Uint8Array(inner)));
  }
  return new Uint8Array(out);
}

// ---------------------------------------------------------------------------------------------
// Signatures

const KEY_GENERATOR = utf8('macaroons-key-generator');

/**
 * The signature a macaroon must carry under `rootKey` (any length; LND's are 32 bytes): the
 * go-macaroon / libmacaroons chain. Third-party caveats are chained without being discharged.
 */
export function computeMacaroonSignature(
  rootKey: Uint8Array,
  identifier: Uint8Array,
  caveats: readonly MacaroonCaveat[],
): Uint8Array {
  const key = hmacSha256(KEY_GENERATOR, rootKey);
  let sig = hmacSha256(key, identifier);
  zeroize(key);
  for (const c of caveats) {
    const next =
      c.verificationId && c.verificationId.length > 0
        ? hmacSha256(sig, concatBytes(hmacSha256(sig, c.verificationId), hmacSha256(sig, c.id)))
        : hmacSha256(sig, c.id);
    zeroize(sig);
    sig = next;
  }
  return sig;
}

/** A new macaroon (go-macaroon `New`): no caveats. */
export function newMacaroon(rootKey: Uint8Array, identifier: Uint8Array, location: string): Macaroon {
  return {
    location,
    identifier: identifier.slice(),
    caveats: [],
    signature: computeMacaroonSignature(rootKey, identifier, []),
  };
}

/** Add first-party caveats without any check of their text (go-macaroon `AddFirstPartyCaveat`). */
export function addFirstPartyCaveatsUnchecked(m: Macaroon, caveatIds: readonly Uint8Array[]): Macaroon {
  let sig = m.signature;
  const caveats = [...m.caveats];
  for (const id of caveatIds) {
    sig = hmacSha256(sig, id);
    caveats.push({ id: id.slice() });
  }
  return { ...m, caveats, signature: sig };
}

function checkRootKey(rootKey: unknown): Uint8Array {
  if (!(rootKey instanceof Uint8Array)) throw new CldcbError('bad_input', 'root key: expected 32 bytes.');
  if (rootKey.length !== 32)
    throw new CldcbError(
      'bad_length',
      `root key: LND root keys are 32 bytes (64 hex digits), this one has ${rootKey.length} bytes.`,
    );
  return rootKey;
}

/**
 * Bake an LND macaroon offline from its root key, like `lncli bakemacaroon --root_key`
 * (macaroons/bake.go BakeFromRootKey).
 * @param permissions "entity:action" strings, e.g. ["info:read", "uri:/lnrpc.Lightning/GetInfo"].
 * @throws CldcbError bad_length for a root key that is not 32 bytes, bad_input for a bad permission.
 */
export function bakeLndMacaroon(
  rootKey: Uint8Array,
  permissions: readonly string[],
  opts: { nonce?: Uint8Array; rootKeyId?: string; location?: string } = {},
): Macaroon {
  checkRootKey(rootKey);
  if (!Array.isArray(permissions) || permissions.length === 0)
    throw new CldcbError('bad_input', 'permissions: give at least one, e.g. info:read.');
  const ops = permissions.map((p) => {
    const i = typeof p === 'string' ? p.indexOf(':') : -1;
    if (i <= 0 || i === p.length - 1)
      throw new CldcbError('bad_input', `permission "${String(p)}": expected entity:action, e.g. info:read.`);
    return { entity: p.slice(0, i), action: p.slice(i + 1) };
  });
  const nonce = opts.nonce ?? crypto.getRandomValues(new Uint8Array(16));
  const id = encodeLndIdentifier({ nonce, storageId: utf8(opts.rootKeyId ?? '0'), ops });
  return newMacaroon(rootKey, id, opts.location ?? 'lnd');
}

// ---------------------------------------------------------------------------------------------
// Caveats LND understands

/** Go's RFC3339Nano parse: unix nanoseconds, or undefined. Layout 2006-01-02T15:04:05.999999999Z07:00. */
export function parseGoRfc3339(text: string): bigint | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const probe = new Date(0);
  probe.setUTCFullYear(y, mo, 0);
  if (mo < 1 || mo > 12 || d < 1 || d > probe.getUTCDate() || h > 23 || mi > 59 || s > 59) return undefined;
  let offsetMin = 0;
  if (m[8] !== 'Z') {
    const oh = Number(m[8]!.slice(1, 3));
    const om = Number(m[8]!.slice(4, 6));
    if (oh > 23 || om > 59) return undefined;
    offsetMin = (m[8]![0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const t = new Date(0);
  t.setUTCFullYear(y, mo - 1, d);
  t.setUTCHours(h, mi, s, 0);
  const frac = (m[7] ?? '').slice(0, 9).padEnd(9, '0');
  return (BigInt(t.getTime()) / 1000n - BigInt(offsetMin * 60)) * 1_000_000_000n + BigInt(frac);
}

/** Go's `t.UTC().Format(time.RFC3339Nano)`: fraction without trailing zeros, "Z". */
export function formatGoRfc3339(unixNanos: bigint): string {
  const secs = unixNanos / 1_000_000_000n - (unixNanos % 1_000_000_000n < 0n ? 1n : 0n);
  const nanos = unixNanos - secs * 1_000_000_000n;
  const base = new Date(Number(secs) * 1000).toISOString().slice(0, 19);
  const frac = nanos === 0n ? '' : '.' + nanos.toString().padStart(9, '0').replace(/0+$/, '');
  return `${base}${frac}Z`;
}

function dateToNanos(t: Date | string, what: string): bigint {
  if (t instanceof Date) {
    const ms = t.getTime();
    if (!Number.isFinite(ms)) throw new CldcbError('bad_input', `${what}: not a valid time.`);
    return BigInt(ms) * 1_000_000n;
  }
  if (typeof t !== 'string') throw new CldcbError('bad_input', `${what}: expected a time.`);
  const n = parseGoRfc3339(t);
  if (n === undefined)
    throw new CldcbError('bad_input', `${what} "${t}": expected an RFC 3339 time like 2026-12-01T00:00:00Z.`);
  return n;
}

/** `time-before <RFC3339Nano UTC>` (bakery checkers.TimeBeforeCaveat; lnd TimeoutConstraint). */
export function timeBeforeCaveat(t: Date | string): string {
  const n = dateToNanos(t, 'expiry');
  if (n < 0n || n >= 253402300800n * 1_000_000_000n)
    throw new CldcbError('bad_input', 'expiry: must be between 1970 and 9999.');
  return `time-before ${formatGoRfc3339(n)}`;
}

/** `ipaddr <ip>` (lnd IPLockConstraint: net.ParseIP(ip).String()). */
export function ipAddrCaveat(ip: string): string {
  const p = parseIp(ip);
  if (!p) throw new CldcbError('bad_input', `IP address "${String(ip)}": not an IPv4 or IPv6 address.`);
  return `ipaddr ${formatIp(p.bytes)}`;
}

/** `iprange <network>` (lnd IPRangeLockConstraint: net.ParseCIDR(range) network String()). */
export function ipRangeCaveat(range: string): string {
  const c = parseCidr(range);
  if (!c)
    throw new CldcbError(
      'bad_input',
      `IP range "${String(range)}": expected address/prefix, e.g. 192.168.1.0/24.`,
    );
  return `iprange ${formatCidr(c)}`;
}

/** `lnd-custom <name> [<condition>]` (lnd CustomConstraint; lncli refuses whitespace in either part). */
export function customCaveat(name: string, condition?: string): string {
  if (typeof name !== 'string' || name === '' || /\s/.test(name))
    throw new CldcbError(
      'bad_input',
      `custom caveat name "${String(name)}": must be non-empty without spaces.`,
    );
  if (condition !== undefined && (typeof condition !== 'string' || condition === '' || /\s/.test(condition)))
    throw new CldcbError(
      'bad_input',
      `custom caveat condition "${String(condition)}": must be non-empty without spaces (or left out).`,
    );
  return condition === undefined ? `lnd-custom ${name}` : `lnd-custom ${name} ${condition}`;
}

/** bakery checkers.ParseCaveat: condition name up to the first space. */
function splitCaveat(cav: string): { cond: string; arg: string } | undefined {
  if (cav === '') return undefined;
  const i = cav.indexOf(' ');
  if (i < 0) return { cond: cav, arg: '' };
  if (i === 0) return undefined;
  return { cond: cav.slice(0, i), arg: cav.slice(i + 1) };
}

/**
 * Check that a caveat text is one LND accepts and is well formed; returns it unchanged.
 * Accepted: time-before, ipaddr, iprange, lnd-custom, declared.
 * @throws CldcbError bad_input naming the problem ("unknown caveat condition …").
 */
export function checkLndCaveat(text: string): string {
  if (typeof text !== 'string') throw new CldcbError('bad_input', 'caveat: expected text.');
  const p = splitCaveat(text);
  if (!p) throw new CldcbError('bad_input', `caveat "${text}": empty or starts with a space.`);
  switch (p.cond) {
    case 'time-before':
      if (parseGoRfc3339(p.arg) === undefined)
        throw new CldcbError(
          'bad_input',
          `caveat "${text}": time-before needs an RFC 3339 time like 2026-12-01T00:00:00Z.`,
        );
      return text;
    case 'ipaddr':
      if (!parseIp(p.arg))
        throw new CldcbError('bad_input', `caveat "${text}": ipaddr needs an IPv4 or IPv6 address.`);
      return text;
    case 'iprange':
      if (!parseCidr(p.arg))
        throw new CldcbError('bad_input', `caveat "${text}": iprange needs address/prefix, e.g. 10.0.0.0/8.`);
      return text;
    case 'lnd-custom':
      if (p.arg === '' || p.arg !== p.arg.trim())
        throw new CldcbError(
          'bad_input',
          `caveat "${text}": lnd-custom needs "<name> [<condition>]" without extra spaces.`,
        );
      return text;
    case 'declared':
      if (!/^[^ ]+ /.test(p.arg))
        throw new CldcbError('bad_input', `caveat "${text}": declared needs "<key> <value>".`);
      return text;
    default:
      throw new CldcbError(
        'bad_input',
        `caveat "${text}": unknown caveat condition "${p.cond}"; LND accepts time-before, ipaddr, iprange, lnd-custom and declared, and would reject this macaroon.`,
      );
  }
}

export interface CaveatOptions {
  /** Absolute expiry (RFC 3339 or Date). */
  readonly expires?: Date | string;
  /** Relative expiry in seconds from `now` (as lncli --timeout). */
  readonly timeoutSeconds?: number;
  /** The clock for `timeoutSeconds`; defaults to the current time. */
  readonly now?: Date;
  readonly ip?: string;
  readonly ipRange?: string;
  readonly custom?: { readonly name: string; readonly condition?: string };
  /** Further caveats as text, each checked by {@link checkLndCaveat}. */
  readonly raw?: readonly string[];
}

/**
 * Caveat texts from simple options, in lncli's order (timeout, IP, custom), then raw ones.
 * @throws CldcbError bad_input for any bad option.
 */
export function caveatsFromOptions(o: CaveatOptions): string[] {
  const out: string[] = [];
  if (o.expires !== undefined && o.timeoutSeconds !== undefined)
    throw new CldcbError('bad_input', 'give an expiry time or a timeout, not both.');
  if (o.timeoutSeconds !== undefined) {
    if (!Number.isSafeInteger(o.timeoutSeconds) || o.timeoutSeconds <= 0)
      throw new CldcbError('bad_input', 'timeout: expected a whole number of seconds above 0.');
    const now = o.now ?? new Date();
    out.push(timeBeforeCaveat(new Date(now.getTime() + o.timeoutSeconds * 1000)));
  }
  if (o.expires !== undefined) out.push(timeBeforeCaveat(o.expires));
  if (o.ip !== undefined) out.push(ipAddrCaveat(o.ip));
  if (o.ipRange !== undefined) out.push(ipRangeCaveat(o.ipRange));
  if (o.custom !== undefined) out.push(customCaveat(o.custom.name, o.custom.condition));
  for (const r of o.raw ?? []) out.push(checkLndCaveat(r));
  return out;
}

/**
 * Add caveats to a macaroon without its root key (lnd AddConstraints / `lncli constrainmacaroon`).
 * Each caveat must be one LND accepts ({@link checkLndCaveat}).
 * @throws CldcbError bad_input for an unknown or malformed caveat; nothing is changed.
 */
export function attenuateMacaroon(m: Macaroon, caveats: readonly string[]): Macaroon {
  if (!Array.isArray(caveats)) throw new CldcbError('bad_input', 'caveats: expected a list of caveat texts.');
  const checked = caveats.map((c) => utf8(checkLndCaveat(c)));
  return addFirstPartyCaveatsUnchecked(m, checked);
}

// ---------------------------------------------------------------------------------------------
// Describing and verifying

export interface CaveatDescription {
  readonly index: number;
  readonly kind: 'first-party' | 'third-party';
  /** The caveat identifier as text (invalid UTF-8 shown with U+FFFD), as lncli prints it. */
  readonly condition: string;
  readonly conditionHex: string;
  readonly location?: string;
  readonly verificationIdHex?: string;
  /** Plain words, e.g. "expires at 2026-12-01T00:00:00Z", "only from IP address 1.2.3.4". */
  readonly text: string;
}

export interface MacaroonDescription {
  /** Exactly the JSON `lncli printmacaroon` prints (when the identifier is LND's). */
  readonly lncli: {
    readonly version: 2;
    readonly location: string;
    readonly root_key_id: string;
    readonly permissions: readonly string[];
    readonly caveats: readonly string[];
  } | null;
  readonly location: string;
  readonly identifierHex: string;
  /** LND's identifier fields, or null when the identifier is not in LND's format. */
  readonly lnd: {
    readonly nonceHex: string;
    readonly rootKeyId: string;
    readonly rootKeyIdHex: string;
    readonly ops: readonly LndOp[];
  } | null;
  readonly caveats: readonly CaveatDescription[];
  readonly signatureHex: string;
  /** The earliest time-before, RFC 3339 UTC, if any. */
  readonly expiresAt?: string;
  /** One line each: what the macaroon allows and under which conditions. */
  readonly summary: readonly string[];
}

const looseUtf8 = (b: Uint8Array): string => new TextDecoder('utf-8').decode(b);

function caveatText(c: MacaroonCaveat): string {
  if (c.verificationId && c.verificationId.length > 0)
    return `third-party caveat for ${c.location ? c.location : '(no location)'}: needs a discharge macaroon, which LND does not accept`;
  const p = splitCaveat(looseUtf8(c.id));
  if (!p) return 'malformed caveat (LND rejects it)';
  switch (p.cond) {
    case 'time-before': {
      const n = parseGoRfc3339(p.arg);
      return n === undefined
        ? `time-before with an unreadable time "${p.arg}" (LND rejects it)`
        : `expires at ${formatGoRfc3339(n)}`;
    }
    case 'ipaddr': {
      const ip = parseIp(p.arg);
      return ip
        ? `only from IP address ${formatIp(ip.bytes)}`
        : `ipaddr with an unreadable address "${p.arg}" (never satisfied)`;
    }
    case 'iprange': {
      const c2 = parseCidr(p.arg);
      return c2
        ? `only from IP addresses in ${formatCidr(c2)}`
        : `iprange with an unreadable range "${p.arg}" (never satisfied)`;
    }
    case 'lnd-custom': {
      const [name, ...rest] = p.arg.split(' ');
      return `custom caveat "${name ?? ''}"${rest.length ? ` with condition "${rest.join(' ')}"` : ''}: only accepted if lnd has an RPC middleware for it`;
    }
    case 'declared':
      return `declares ${p.arg.replace(' ', ' = ')}`;
    case 'error':
      return `always fails: ${p.arg}`;
    default:
      return `unknown condition "${p.cond}" (LND rejects the macaroon)`;
  }
}

function permissionsText(ops: readonly LndOp[]): string[] {
  const out: string[] = [];
  const uris = ops.filter((o) => o.entity === 'uri').flatMap((o) => o.actions);
  if (uris.length) out.push(`may call only these RPCs: ${uris.join(', ')}`);
  const rest = ops.filter((o) => o.entity !== 'uri');
  if (rest.length)
    out.push(`permissions: ${rest.map((o) => `${o.entity}: ${o.actions.join(' & ')}`).join('; ')}`);
  return out;
}

/**
 * What a macaroon holds, as `lncli printmacaroon` shows it plus plain words. Needs no root key.
 */
export function describeMacaroon(m: Macaroon): MacaroonDescription {
  const lndId = parseLndIdentifier(m.identifier);
  const caveats = m.caveats.map((c, i): CaveatDescription => {
    const third = c.verificationId !== undefined && c.verificationId.length > 0;
    return {
      index: i + 1,
      kind: third ? 'third-party' : 'first-party',
      condition: looseUtf8(c.id),
      conditionHex: bytesToHex(c.id),
      ...(third ? { location: c.location ?? '', verificationIdHex: bytesToHex(c.verificationId!) } : {}),
      text: caveatText(c),
    };
  });
  let expires: bigint | undefined;
  for (const c of m.caveats) {
    if (c.verificationId && c.verificationId.length > 0) continue;
    const p = splitCaveat(looseUtf8(c.id));
    if (p?.cond !== 'time-before') continue;
    const n = parseGoRfc3339(p.arg);
    if (n !== undefined && (expires === undefined || n < expires)) expires = n;
  }
  const permissions = lndId ? lndId.ops.flatMap((o) => o.actions.map((a) => `${o.entity}:${a}`)) : [];
  const summary = [
    ...(lndId
      ? permissionsText(lndId.ops)
      : ['the identifier is not in LND’s format (LND rejects this macaroon)']),
    ...(lndId ? [`root key id ${JSON.stringify(looseUtf8(lndId.storageId))}`] : []),
    ...(caveats.length ? caveats.map((c) => c.text) : ['no caveats: never expires, usable from any address']),
  ];
  return {
    lncli: lndId
      ? {
          version: 2,
          location: m.location,
          root_key_id: looseUtf8(lndId.storageId),
          permissions,
          caveats: m.caveats.map((c) => looseUtf8(c.id)),
        }
      : null,
    location: m.location,
    identifierHex: bytesToHex(m.identifier),
    lnd: lndId
      ? {
          nonceHex: bytesToHex(lndId.nonce),
          rootKeyId: looseUtf8(lndId.storageId),
          rootKeyIdHex: bytesToHex(lndId.storageId),
          ops: lndId.ops,
        }
      : null,
    caveats,
    signatureHex: bytesToHex(m.signature),
    ...(expires !== undefined ? { expiresAt: formatGoRfc3339(expires) } : {}),
    summary,
  };
}

export type CaveatStatus = 'satisfied' | 'failed' | 'depends';

export interface CaveatCheck {
  readonly index: number;
  readonly condition: string;
  readonly status: CaveatStatus;
  /** Why, in words: "expired at …", "IP 1.2.3.4 not allowed (only 5.6.7.8)", … */
  readonly reason: string;
}

export interface MacaroonVerification {
  /** The HMAC chain matches under the given root key. */
  readonly signatureValid: boolean;
  /** valid: LND accepts it now (for the given IP); invalid: it does not; conditional: depends on what is not known here. */
  readonly verdict: 'valid' | 'invalid' | 'conditional';
  /** Every reason it is invalid or conditional, in order. Empty when valid. */
  readonly reasons: readonly string[];
  readonly caveats: readonly CaveatCheck[];
}

export interface VerifyContext {
  /** When to evaluate time-before; defaults to the current time. */
  readonly now?: Date;
  /** The client's IP address, for ipaddr/iprange; unknown if left out. */
  readonly ip?: string;
  /** Names of custom caveats with an RPC middleware registered in lnd. */
  readonly customCaveatsSupported?: readonly string[];
}

/**
 * Verify a macaroon as LND would: the signature chain under the 32-byte root key, LND's identifier,
 * and each caveat at `ctx.now` and from `ctx.ip`.
 * @param rootKey the 32-byte root key for the macaroon's root key id (from macaroons.db, or the
 *   value given to `lncli create --mac_root_key`).
 * @throws CldcbError bad_length for a root key that is not 32 bytes, bad_input for a bad IP or time.
 */
export function verifyMacaroon(
  m: Macaroon,
  rootKey: Uint8Array,
  ctx: VerifyContext = {},
): MacaroonVerification {
  checkRootKey(rootKey);
  const now = ctx.now ?? new Date();
  if (!(now instanceof Date) || !Number.isFinite(now.getTime()))
    throw new CldcbError('bad_input', 'time: not a valid date.');
  const nowNanos = BigInt(now.getTime()) * 1_000_000n;
  const client = ctx.ip === undefined ? undefined : parseIp(ctx.ip);
  if (ctx.ip !== undefined && !client)
    throw new CldcbError('bad_input', `client IP "${ctx.ip}": not an IPv4 or IPv6 address.`);
  const expected = computeMacaroonSignature(rootKey, m.identifier, m.caveats);
  const signatureValid = equalBytes(expected, m.signature);
  zeroize(expected);
  const reasons: string[] = [];
  if (!signatureValid)
    reasons.push('invalid signature: the macaroon was not made with this root key, or it was altered');
  if (!parseLndIdentifier(m.identifier))
    reasons.push('invalid ID: the identifier is not in LND’s format (bakery version 3)');

  const declared = new Map<string, string | null>();
  for (const c of m.caveats) {
    if (c.verificationId && c.verificationId.length > 0) continue;
    const p = splitCaveat(looseUtf8(c.id));
    if (p?.cond !== 'declared') continue;
    const sp = p.arg.indexOf(' ');
    if (sp <= 0) continue;
    const k = p.arg.slice(0, sp);
    const v = p.arg.slice(sp + 1);
    declared.set(k, declared.has(k) && declared.get(k) !== v ? null : v);
  }

  const checks = m.caveats.map((c, i): CaveatCheck => {
    const condition = looseUtf8(c.id);
    const res = (status: CaveatStatus, reason: string): CaveatCheck => ({
      index: i + 1,
      condition,
      status,
      reason,
    });
    if (c.verificationId && c.verificationId.length > 0)
      return res(
        'failed',
        `third-party caveat for ${c.location || '(no location)'}: LND does not accept third-party caveats`,
      );
    const p = splitCaveat(condition);
    if (!p) return res('failed', 'malformed caveat (empty or starting with a space)');
    switch (p.cond) {
      case 'time-before': {
        const t = parseGoRfc3339(p.arg);
        if (t === undefined) return res('failed', `time-before: cannot read the time "${p.arg}"`);
        const at = formatGoRfc3339(t);
        return nowNanos < t ? res('satisfied', `valid until ${at}`) : res('failed', `expired at ${at}`);
      }
      case 'ipaddr': {
        const want = parseIp(p.arg);
        if (!want) return res('failed', `ipaddr: cannot read the address "${p.arg}"`);
        if (!client)
          return res('depends', `only from IP address ${formatIp(want.bytes)} (client address not given)`);
        return ipEqual(want, client)
          ? res('satisfied', `IP ${formatIp(client.bytes)} allowed`)
          : res('failed', `IP ${formatIp(client.bytes)} not allowed (only ${formatIp(want.bytes)})`);
      }
      case 'iprange': {
        const net = parseCidr(p.arg);
        if (!net) return res('failed', `iprange: cannot read the range "${p.arg}"`);
        if (!client)
          return res('depends', `only from IP addresses in ${formatCidr(net)} (client address not given)`);
        return cidrContains(net, client)
          ? res('satisfied', `IP ${formatIp(client.bytes)} is in ${formatCidr(net)}`)
          : res('failed', `IP ${formatIp(client.bytes)} not allowed (only ${formatCidr(net)})`);
      }
      case 'lnd-custom': {
        if (p.arg === '' || p.arg !== p.arg.trim()) return res('failed', 'lnd-custom: malformed condition');
        const name = p.arg.split(' ')[0]!;
        if (ctx.customCaveatsSupported?.includes(name))
          return res('depends', `custom caveat "${name}": lnd passes it to its RPC middleware to decide`);
        return res(
          'depends',
          `custom caveat "${name}": accepted only if lnd has an RPC middleware registered for it`,
        );
      }
      case 'declared': {
        const sp = p.arg.indexOf(' ');
        if (sp <= 0) return res('failed', 'declared caveat has no value');
        const k = p.arg.slice(0, sp);
        return declared.get(k) === p.arg.slice(sp + 1)
          ? res('satisfied', `declares ${k}`)
          : res('failed', `conflicting declared values for ${k}`);
      }
      case 'error':
        return res('failed', `error caveat: ${p.arg}`);
      default:
        return res('failed', `caveat not recognised by LND: "${p.cond}"`);
    }
  });
  for (const c of checks) if (c.status !== 'satisfied') reasons.push(`caveat ${c.index}: ${c.reason}`);
  const invalid =
    !signatureValid || !parseLndIdentifier(m.identifier) || checks.some((c) => c.status === 'failed');
  const verdict = invalid ? 'invalid' : checks.some((c) => c.status === 'depends') ? 'conditional' : 'valid';
  return { signatureValid, verdict, reasons, caveats: checks };
}

/**
 * A root key from text: 64 hex digits (surrounding whitespace ignored), or 32 raw bytes.
 * @throws CldcbError bad_hex / bad_length.
 */
export function parseRootKey(input: Uint8Array | string): Uint8Array {
  if (input instanceof Uint8Array) {
    if (input.length === 32) return input.slice();
    let text: string;
    try {
      text = fromUtf8(input, 'root key');
    } catch {
      throw new CldcbError(
        'bad_length',
        `root key: expected 32 bytes or 64 hex digits, got ${input.length} bytes that are not hex text.`,
      );
    }
    return parseRootKey(text);
  }
  if (typeof input !== 'string') throw new CldcbError('bad_input', 'root key: expected hex text or bytes.');
  const t = input.trim();
  if (!/^[0-9a-fA-F]*$/.test(t)) return hexToBytes(t, 'root key');
  if (t.length !== 64)
    throw new CldcbError(
      'bad_length',
      `root key: LND root keys are 32 bytes (64 hex digits), this one has ${t.length} hex digits.`,
    );
  return hexToBytes(t, 'root key', 32);
}

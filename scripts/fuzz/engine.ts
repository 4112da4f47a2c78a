/**
 * A small mutational fuzzer (no coverage instrumentation): each target starts from seeds
 * (valid inputs made with our own encoders) and runs stacked random mutations of them —
 * bit flips, interesting bytes and lengths, inserted/removed/duplicated ranges, splices of
 * two corpus entries, dictionary tokens — plus now and then fresh random input. An input
 * whose outcome (success, or the error's code and message shape) is new joins the corpus,
 * which steers the mutations into deeper states without instrumentation.
 *
 * Deterministic for a given seed (xorshift32), so a run can be repeated exactly.
 */
import { CldcbError } from '../../shared/errors';

export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  /** A uint32. */
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  int(n: number): number {
    return n <= 1 ? 0 : this.next() % n;
  }
  chance(p: number): boolean {
    return this.next() / 0x100000000 < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.next() & 0xff;
    return b;
  }
}

const INTERESTING8 = [0x00, 0x01, 0x02, 0x03, 0x7f, 0x80, 0xfe, 0xff, 0x20, 0x0a, 0x30, 0x41, 0x61];
const INTERESTING16 = [0x0000, 0x0001, 0x00ff, 0x0100, 0x7fff, 0x8000, 0xfffe, 0xffff, 0x0031, 0xfff7];

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** One to four stacked mutations of `input`, sometimes spliced with `other`; capped at `maxLen`. */
export function mutateBytes(
  rng: Rng,
  input: Uint8Array,
  other: Uint8Array,
  dict: readonly Uint8Array[],
  maxLen: number,
): Uint8Array {
  let b: Uint8Array = input.slice();
  const rounds = 1 + rng.int(4);
  for (let r = 0; r < rounds; r++) {
    const pos = rng.int(b.length + 1);
    switch (rng.int(12)) {
      case 0: // flip a bit
        if (b.length) b[rng.int(b.length)]! ^= 1 << rng.int(8);
        break;
      case 1: // an interesting byte
        if (b.length) b[rng.int(b.length)] = rng.pick(INTERESTING8);
        break;
      case 2: // an interesting big-endian u16 (lengths, ids)
        if (b.length >= 2) {
          const p = rng.int(b.length - 1);
          const v = rng.pick(INTERESTING16);
          b[p] = v >> 8;
          b[p + 1] = v & 0xff;
        }
        break;
      case 3: // a random byte
        if (b.length) b[rng.int(b.length)] = rng.next() & 0xff;
        break;
      case 4: // remove a range
        if (b.length) {
          const n = 1 + rng.int(Math.min(64, b.length - pos + 1));
          b = concat(b.subarray(0, pos), b.subarray(Math.min(b.length, pos + n)));
        }
        break;
      case 5: // insert random bytes
        b = concat(b.subarray(0, pos), rng.bytes(1 + rng.int(16)), b.subarray(pos));
        break;
      case 6: // duplicate a range
        if (b.length) {
          const s = rng.int(b.length);
          const n = 1 + rng.int(Math.min(256, b.length - s));
          b = concat(b.subarray(0, pos), b.subarray(s, s + n), b.subarray(pos));
        }
        break;
      case 7: // truncate
        b = b.subarray(0, rng.int(b.length + 1)).slice();
        break;
      case 8: // splice with another corpus entry
        b = concat(b.subarray(0, pos), other.subarray(rng.int(other.length + 1)));
        break;
      case 9: // a dictionary token, inserted or overwriting
        if (dict.length) {
          const t = rng.pick(dict);
          if (rng.chance(0.5)) b = concat(b.subarray(0, pos), t, b.subarray(pos));
          else {
            b = b.slice();
            const out = concat(b.subarray(0, pos), t, b.subarray(Math.min(b.length, pos + t.length)));
            b = out;
          }
        }
        break;
      case 10: // a run of one byte
        b = concat(
          b.subarray(0, pos),
          new Uint8Array(1 + rng.int(64)).fill(rng.pick(INTERESTING8)),
          b.subarray(pos),
        );
        break;
      default: // swap two bytes
        if (b.length >= 2) {
          const i = rng.int(b.length);
          const j = rng.int(b.length);
          const t = b[i]!;
          b[i] = b[j]!;
          b[j] = t;
        }
    }
  }
  return b.length > maxLen ? b.subarray(0, maxLen).slice() : b;
}

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: false });
const ODD_TEXT = [
  '\u0000',
  '\u00e9',
  '\u0301',
  '\u200b',
  '\ufeff',
  '\ud800',
  '\u{1f600}',
  '\r\n',
  '\t',
  ' ',
  '\n\n',
  '=',
  '#',
  '"',
  '\\',
  '{',
  '}',
  '[',
  ']',
  ':',
  ',',
  '@',
];

/** Text mutation: byte-level mutation of its UTF-8 (so broken encodings happen) or a token edit. */
export function mutateText(
  rng: Rng,
  input: string,
  other: string,
  dict: readonly string[],
  maxLen: number,
): string {
  if (rng.chance(0.5)) {
    const b = mutateBytes(
      rng,
      enc.encode(input),
      enc.encode(other),
      dict.map((d) => enc.encode(d)),
      maxLen,
    );
    return dec.decode(b);
  }
  let s = input;
  const rounds = 1 + rng.int(3);
  for (let r = 0; r < rounds; r++) {
    const pos = rng.int(s.length + 1);
    const tok = rng.chance(0.7) && dict.length ? rng.pick(dict) : rng.pick(ODD_TEXT);
    switch (rng.int(5)) {
      case 0:
        s = s.slice(0, pos) + tok + s.slice(pos);
        break;
      case 1:
        s = s.slice(0, pos) + tok + s.slice(pos + tok.length);
        break;
      case 2:
        s = s.slice(0, pos) + s.slice(pos + 1 + rng.int(8));
        break;
      case 3:
        s = s.slice(0, pos) + other.slice(rng.int(other.length + 1));
        break;
      default:
        s = rng.chance(0.5) ? s.toUpperCase() : s.toLowerCase();
    }
  }
  return s.length > maxLen ? s.slice(0, maxLen) : s;
}

/** Random JSON-ish values, and mutations of seed values (keys dropped/added, types swapped). */
export function mutateJson(
  rng: Rng,
  input: unknown,
  other: unknown,
  dict: readonly string[],
  depth = 0,
): unknown {
  const leaf = (): unknown => {
    switch (rng.int(9)) {
      case 0:
        return null;
      case 1:
        return rng.chance(0.5);
      case 2:
        return rng.pick([0, -1, 1, 2 ** 31, 2 ** 53, -(2 ** 53), 1e308, 0.5, NaN, Infinity]);
      case 3:
        return rng.next() - 2 ** 31;
      case 4:
        return rng.pick(dict.length ? dict : ['x']);
      case 5:
        return 'x'.repeat(rng.int(5000));
      case 6:
        return [];
      case 7:
        return {};
      default:
        return String.fromCharCode(...Array.from({ length: rng.int(20) }, () => rng.int(0x3000)));
    }
  };
  if (depth > 4 || rng.chance(0.1)) return rng.chance(0.5) ? leaf() : other;
  if (Array.isArray(input)) {
    const a = input.map((x) => (rng.chance(0.3) ? mutateJson(rng, x, other, dict, depth + 1) : x));
    if (rng.chance(0.2)) a.push(leaf());
    if (rng.chance(0.2)) a.splice(rng.int(a.length + 1), 1);
    return a;
  }
  if (input !== null && typeof input === 'object') {
    const o: Record<string, unknown> = { ...(input as Record<string, unknown>) };
    const keys = Object.keys(o);
    if (keys.length && rng.chance(0.5)) {
      const k = rng.pick(keys);
      o[k] = mutateJson(rng, o[k], other, dict, depth + 1);
    }
    if (keys.length && rng.chance(0.15)) delete o[rng.pick(keys)];
    if (rng.chance(0.15)) o[rng.chance(0.5) && dict.length ? rng.pick(dict) : '__proto__'] = leaf();
    return o;
  }
  return rng.chance(0.7) ? leaf() : input;
}

/** How an input ended, as a key for "is this new?" (digits blurred so lengths and offsets do not count). */
export function outcomeKey(e: unknown): string {
  if (e === undefined) return 'ok';
  if (e instanceof CldcbError)
    return `${e.code}:${e.message
      .replace(/[0-9]+/g, '#')
      .replace(/"[^"]*"/g, '"…"')
      .slice(0, 60)}`;
  return `other:${(e as Error)?.name}`;
}

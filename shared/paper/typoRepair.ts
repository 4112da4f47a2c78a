/**
 * Typo repair of a paper copy, as an *indexable enumeration*: candidate number
 * `k` is computed directly from `k`, so a search splits into slices
 * `[from, to)` that run on several threads (shared/node/typoRepair.ts).
 * No cryptography here: the test "does this candidate give the node id?" is
 * injected (`(candidate32: Uint8Array) => boolean`; the fast Node version is
 * shared/node/fastNodeId.ts).
 *
 * ## Hex copies: the order of the candidates
 *
 * The typed copy is first read as hex (look-alikes that are not hex digits,
 * such as "o", are read as their digit: lookalikes.ts). Then the slots are, in order:
 *
 * 1. **look-alike** (a short explicit list): the copy as read (only when it held
 *    non-hex characters); each single look-alike substitution (b→6, 0→d …);
 *    each "systematic" substitution (every occurrence of one typed character
 *    replaced by one of its look-alikes, when it occurs 3 times or more — a
 *    hand that always writes b like 6).
 * 2. **transposition**: digits p and p+1 swapped (63 slots, p = 0…62).
 * 3. **single**: every one-digit substitution, 64 × 15 = 960 slots.
 * 4. **look-alike** pairs: each pair of look-alike substitutions at two
 *    different places (a few thousand: the likeliest pairs first).
 * 5. **double**: every two-digit substitution, C(64,2) × 15 × 15 = 453,600 slots.
 *
 * Stages for the service: `[0, phase1End)` (slots 1–3: about a thousand
 * candidates, "any one wrong digit at once"), `[phase1End, phase2End)` (the
 * look-alike pairs) and `[phase2End, size)` (the other pairs). The service
 * searches a stage only when the previous ones matched nothing.
 *
 * **Dedupe.** A slot whose candidate already appeared in an earlier slot is a
 * *hole*: `write`/`changesAt` return false/null for it and a search skips it
 * without testing. The holes are: a single that is a look-alike substitution;
 * a transposition of two equal digits, or one that is also a look-alike pair;
 * a double whose two substitutions are both look-alike substitutions (a
 * look-alike pair), or that is an adjacent transposition. Every other slot is a
 * distinct candidate, different from the copy as read (tested with fast-check
 * in test/unit/paperTypoRepair.test.ts).
 *
 * Indexing of the doubles: slot `d` → pair number `d / 225` → positions
 * (i < j) in lexicographic order (closed-form unranking), and `d % 225` →
 * (the (d%225)/15-th other value at i, the (d%225)%15-th other value at j),
 * where "the r-th other value" at p is r if r < base[p] else r + 1.
 *
 * ## Word copies
 *
 * `WordRepairSpace` does the same for BIP39 words: adjacent swaps, then for
 * each position the English words within edit distance 2 of the typed word
 * (nearest first), then every other word of the 2048 at each position
 * (12 × 2048 or 24 × 2048 slots). With one unknown word only that position is
 * searched; with 2 or 3 unknown words, the product of their 8 nearest words.
 */
import { CldcbError } from '../errors';
import { parseTypedHexCopy, HEX_DIGITS, type TypedHexCopy } from './copyText';
import { lookalikeAlternatives } from './lookalikes';

export type RepairKind = 'lookalike' | 'transposition' | 'single' | 'double';

/** One character to correct on the copy: `position` is 0-based among the 64 digits. */
export interface DigitChange {
  readonly position: number;
  /** The character as typed (lower case; may be a look-alike such as "o"). */
  readonly from: string;
  /** The right hex digit. */
  readonly to: string;
}

export interface HexRepairCandidate {
  /** The slot number in the enumeration. */
  readonly index: number;
  /** The repaired 64 hex digits. This is the secret when it matches: show it only to the operator. */
  readonly hex: string;
  /** What to correct on the typed copy, by position. */
  readonly changes: readonly DigitChange[];
  readonly kind: RepairKind;
}

export interface Segment<K extends string> {
  readonly kind: K;
  readonly start: number;
  readonly end: number;
}

export interface SearchControl {
  /** Checked every `every` slots; when it returns true the search stops. */
  cancelled?: () => boolean;
  /** Called every `every` slots with (slots done, slots in the range). */
  progress?: (done: number, total: number) => void;
  /** Default 256. */
  every?: number;
}

export interface SearchResult {
  /** Slot numbers of every candidate that passed the test, ascending. */
  readonly matches: number[];
  /** Distinct candidates tested (holes are not counted). */
  readonly searched: number;
  /** True when the search stopped early because `cancelled()` said so. */
  readonly stopped: boolean;
}

const N = HEX_DIGITS;
const OTHER = 15; // other values a hex digit can take
const TRANSPOSITION_SLOTS = N - 1;
const SINGLE_SLOTS = N * OTHER; // 960
const PAIRS = (N * (N - 1)) / 2; // 2016
const DOUBLE_SLOTS = PAIRS * OTHER * OTHER; // 453,600
const SYSTEMATIC_MIN = 3;
const HEX = '0123456789abcdef';

const nibbleOf = (c: string): number => HEX.indexOf(c);

/** First slot of pair row i (pairs (i, j), j > i, in lexicographic order). */
const pairRowStart = (i: number): number => (i * (2 * N - i - 1)) / 2;

/** Pair number r (0 ≤ r < 2016) → positions (i, j), i < j. */
export function unrankPair(r: number): [number, number] {
  let i = Math.floor((2 * N - 1 - Math.sqrt((2 * N - 1) * (2 * N - 1) - 8 * r)) / 2);
  if (i < 0) i = 0;
  while (i + 1 < N && pairRowStart(i + 1) <= r) i++;
  while (i > 0 && pairRowStart(i) > r) i--;
  return [i, r - pairRowStart(i) + i + 1];
}

/** Positions (i < j) → pair number. */
export const rankPair = (i: number, j: number): number => pairRowStart(i) + (j - i - 1);

/** The r-th value other than `base` (0 ≤ r < 15). */
const otherValue = (r: number, base: number): number => (r < base ? r : r + 1);

/**
 * The candidates for repairing one typed hex copy. Construct it from the typed
 * text (`fromText`) or a parsed copy; it is cheap (a few thousand look-alike
 * slots are listed, everything else is computed). Holds the copy: call
 * `dispose()` when done.
 */
export class HexRepairSpace {
  /** The copy as typed (see copyText.ts). */
  readonly typed: TypedHexCopy;
  /** Total slots (holes included). */
  readonly size: number;
  /** End of stage 1 (look-alike, transposition, single). */
  readonly phase1End: number;
  /** End of stage 2 (look-alike pairs); the other pairs follow. */
  readonly phase2End: number;
  readonly segments: readonly Segment<RepairKind>[];

  private readonly base: Uint8Array; // 64 nibbles as read
  private readonly baseBytes: Uint8Array; // 32 bytes as read
  private readonly isMove: Uint8Array; // [pos * 16 + value] = 1 for a look-alike substitution
  private readonly lookalikeSets: Uint8Array[]; // flattened (pos, value) pairs: stage-1 sets, then the pairs
  private readonly lookalikeSingles: number; // how many of lookalikeSets are stage-1 sets

  static fromText(text: string): HexRepairSpace {
    return new HexRepairSpace(parseTypedHexCopy(text));
  }

  constructor(typed: TypedHexCopy) {
    if (typed.hex.length !== N || typed.chars.length !== N)
      throw new CldcbError('bad_length', `Typo repair needs ${N} digits.`);
    this.typed = typed;
    this.base = new Uint8Array(N);
    for (let p = 0; p < N; p++) this.base[p] = nibbleOf(typed.hex[p]!);
    this.baseBytes = new Uint8Array(N / 2);
    for (let b = 0; b < N / 2; b++) this.baseBytes[b] = (this.base[2 * b]! << 4) | this.base[2 * b + 1]!;

    // Look-alike substitutions, by position, most likely first.
    this.isMove = new Uint8Array(N * 16);
    const moves: [number, number][] = [];
    for (let p = 0; p < N; p++) {
      for (const alt of lookalikeAlternatives(typed.chars[p]!)) {
        const v = nibbleOf(alt);
        if (v === this.base[p] || this.isMove[p * 16 + v]) continue;
        this.isMove[p * 16 + v] = 1;
        moves.push([p, v]);
      }
    }
    const sets: Uint8Array[] = [];
    if (typed.nonHex.length > 0) sets.push(new Uint8Array(0)); // the copy as read
    for (const [p, v] of moves) sets.push(Uint8Array.of(p, v));
    const seen = new Set<string>();
    for (let p = 0; p < N; p++) {
      const c = typed.chars[p]!;
      if (seen.has(c)) continue;
      seen.add(c);
      const where: number[] = [];
      for (let q = p; q < N; q++) if (typed.chars[q] === c) where.push(q);
      if (where.length < SYSTEMATIC_MIN) continue;
      for (const alt of lookalikeAlternatives(c)) {
        const v = nibbleOf(alt);
        const set = new Uint8Array(2 * where.length);
        where.forEach((q, k) => {
          set[2 * k] = q;
          set[2 * k + 1] = v;
        });
        sets.push(set);
      }
    }
    this.lookalikeSingles = sets.length;
    for (let a = 0; a < moves.length; a++)
      for (let b = a + 1; b < moves.length; b++)
        if (moves[a]![0] !== moves[b]![0]) sets.push(Uint8Array.of(moves[a]![0], moves[a]![1], moves[b]![0], moves[b]![1]));
    this.lookalikeSets = sets;

    let at = 0;
    const seg = (kind: RepairKind, n: number): Segment<RepairKind> => {
      const s = { kind, start: at, end: at + n };
      at += n;
      return s;
    };
    this.segments = [
      seg('lookalike', this.lookalikeSingles),
      seg('transposition', TRANSPOSITION_SLOTS),
      seg('single', SINGLE_SLOTS),
      seg('lookalike', sets.length - this.lookalikeSingles),
      seg('double', DOUBLE_SLOTS),
    ];
    this.phase1End = this.segments[3]!.start;
    this.phase2End = this.segments[4]!.start;
    this.size = at;
  }

  /** The kind of slot k. @throws RangeError outside [0, size). */
  kindAt(k: number): RepairKind {
    for (const s of this.segments) if (k >= s.start && k < s.end) return s.kind;
    throw new RangeError(`slot ${k} is outside 0…${this.size - 1}`);
  }

  /**
   * The (position, new nibble) substitutions of slot k relative to the copy as
   * read, written into `into` (at least 8 entries; returns how many entries,
   * i.e. 2 × substitutions), or -1 for a hole. Look-alike sets may be longer:
   * pass `into` of length ≥ 128 to be safe.
   */
  private substitutions(k: number, into: Uint8Array): number {
    const base = this.base;
    const [la, tr, si, lp, du] = this.segments as readonly Segment<RepairKind>[] as [
      Segment<RepairKind>,
      Segment<RepairKind>,
      Segment<RepairKind>,
      Segment<RepairKind>,
      Segment<RepairKind>,
    ];
    if (k < la.end || (k >= lp.start && k < lp.end)) {
      if (k < 0) throw new RangeError(`slot ${k} is negative`);
      const set = this.lookalikeSets[k < la.end ? k : this.lookalikeSingles + (k - lp.start)]!;
      into.set(set);
      return set.length;
    }
    if (k < tr.end) {
      const p = k - tr.start;
      const a = base[p]!;
      const b = base[p + 1]!;
      if (a === b || (this.isMove[p * 16 + b] && this.isMove[(p + 1) * 16 + a])) return -1;
      into[0] = p;
      into[1] = b;
      into[2] = p + 1;
      into[3] = a;
      return 4;
    }
    if (k < si.end) {
      const s = k - si.start;
      const p = Math.floor(s / OTHER);
      const v = otherValue(s % OTHER, base[p]!);
      if (this.isMove[p * 16 + v]) return -1;
      into[0] = p;
      into[1] = v;
      return 2;
    }
    if (k < du.end) {
      const d = k - du.start;
      const [i, j] = unrankPair(Math.floor(d / (OTHER * OTHER)));
      const r = d % (OTHER * OTHER);
      const vi = otherValue(Math.floor(r / OTHER), base[i]!);
      const vj = otherValue(r % OTHER, base[j]!);
      if (this.isMove[i * 16 + vi] && this.isMove[j * 16 + vj]) return -1; // a look-alike pair
      if (j === i + 1 && vi === base[j] && vj === base[i]) return -1; // a transposition
      into[0] = i;
      into[1] = vi;
      into[2] = j;
      into[3] = vj;
      return 4;
    }
    throw new RangeError(`slot ${k} is outside 0…${this.size - 1}`);
  }

  private readonly scratch = new Uint8Array(2 * N);

  /**
   * Write candidate k's 32 bytes into `out` (length 32). Returns false (and
   * leaves `out` unspecified) when slot k is a hole.
   */
  write(k: number, out: Uint8Array): boolean {
    const n = this.substitutions(k, this.scratch);
    if (n < 0) return false;
    out.set(this.baseBytes);
    for (let e = 0; e < n; e += 2) {
      const p = this.scratch[e]!;
      const v = this.scratch[e + 1]!;
      const b = p >> 1;
      out[b] = p & 1 ? (out[b]! & 0xf0) | v : (out[b]! & 0x0f) | (v << 4);
    }
    this.scratch.fill(0, 0, n);
    return true;
  }

  /** Slot k as a report for the operator, or null for a hole. */
  candidateAt(k: number): HexRepairCandidate | null {
    const subs = new Uint8Array(2 * N);
    const n = this.substitutions(k, subs);
    if (n < 0) return null;
    const digits = Array.from(this.base, (v) => HEX[v]!);
    for (let e = 0; e < n; e += 2) digits[subs[e]!] = HEX[subs[e + 1]!]!;
    subs.fill(0);
    const changes: DigitChange[] = [];
    for (let p = 0; p < N; p++) if (digits[p] !== this.typed.chars[p]) changes.push({ position: p, from: this.typed.chars[p]!, to: digits[p]! });
    return { index: k, hex: digits.join(''), changes, kind: this.kindAt(k) };
  }

  /**
   * Test every candidate in slots [from, to) (clamped to the space) with `test`,
   * which gets a reused 32-byte buffer (copy it if you keep it; it is zeroized
   * at the end). Returns every slot that passed, not only the first.
   */
  search(from: number, to: number, test: (candidate32: Uint8Array) => boolean, ctl: SearchControl = {}): SearchResult {
    const lo = Math.max(0, Math.floor(from));
    const hi = Math.min(this.size, Math.floor(to));
    const every = ctl.every ?? 256;
    const buf = new Uint8Array(N / 2);
    const matches: number[] = [];
    let searched = 0;
    let stopped = false;
    try {
      for (let k = lo; k < hi; k++) {
        if ((k - lo) % every === 0) {
          if (ctl.cancelled?.()) {
            stopped = true;
            break;
          }
          ctl.progress?.(k - lo, hi - lo);
        }
        if (!this.write(k, buf)) continue;
        searched++;
        if (test(buf)) matches.push(k);
      }
      if (!stopped) ctl.progress?.(Math.max(0, hi - lo), Math.max(0, hi - lo));
    } finally {
      buf.fill(0);
    }
    return { matches, searched, stopped };
  }

  /** Zeroize what this object holds (the typed strings themselves cannot be wiped in JavaScript). */
  dispose(): void {
    this.base.fill(0);
    this.baseBytes.fill(0);
    this.scratch.fill(0);
    for (const s of this.lookalikeSets) s.fill(0);
  }
}

/** Split [from, to) into `parts` nearly equal slices (empty slices dropped). */
export function splitRange(from: number, to: number, parts: number): [number, number][] {
  const n = Math.max(0, to - from);
  const k = Math.max(1, Math.min(parts, n));
  const out: [number, number][] = [];
  for (let i = 0; i < k; i++) {
    const a = from + Math.floor((n * i) / k);
    const b = from + Math.floor((n * (i + 1)) / k);
    if (b > a) out.push([a, b]);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Words.

export type WordRepairKind = 'swap' | 'nearby' | 'any';

export interface WordChange {
  /** 0-based word position. */
  readonly position: number;
  readonly from: string;
  readonly to: string;
}

export interface WordRepairCandidate {
  readonly index: number;
  /** The repaired words. Secret when it matches. */
  readonly words: readonly string[];
  readonly changes: readonly WordChange[];
  readonly kind: WordRepairKind;
}

/** Edit distance (Levenshtein with adjacent transposition), as injected by the caller. */
export type EditDistance = (a: string, b: string) => number;

export interface WordRepairOptions {
  /** Largest edit distance for the "nearby" words. Default 2. */
  nearbyDistance?: number;
  /** With 2–3 unknown words: how many nearest words to try for each. Default 8. */
  unknownNearest?: number;
}

const MAX_UNKNOWN = 3;

/**
 * The candidates for repairing a typed BIP39 copy, one wrong word at a time
 * (see the module comment). `wordlist` is the English list (words.ts
 * ENGLISH_WORDS), `distance` its `editDistance`; both injected so this file
 * stays free of any particular list.
 */
export class WordRepairSpace {
  readonly size: number;
  readonly segments: readonly Segment<WordRepairKind>[];
  /** 0-based positions of typed words that are not in the list. */
  readonly unknown: readonly number[];

  private readonly typed: readonly string[];
  private readonly list: readonly string[];
  private readonly swaps: number[] = []; // positions p (swap p, p+1)
  private readonly nearby: [number, string][] = []; // (position, word)
  private readonly nearbySet: Set<string>[]; // per position
  private readonly anyPositions: number[]; // positions searched with every word
  private readonly product: string[][] = []; // with ≥ 2 unknown words: the choices per unknown word

  constructor(typedWords: readonly string[], wordlist: readonly string[], distance: EditDistance, opts: WordRepairOptions = {}) {
    if (typedWords.length === 0) throw new CldcbError('bad_length', 'No words to repair.');
    this.typed = typedWords.map((w) => w.toLowerCase());
    this.list = wordlist;
    const known = new Set(wordlist);
    this.unknown = this.typed.flatMap((w, i) => (known.has(w) ? [] : [i]));
    if (this.unknown.length > MAX_UNKNOWN)
      throw new CldcbError(
        'unsupported',
        `${this.unknown.length} words are not in the BIP39 English list (words ${this.unknown.map((i) => i + 1).join(', ')}); the typo search handles up to ${MAX_UNKNOWN}. Correct some of them first.`,
      );
    const maxD = opts.nearbyDistance ?? 2;
    const ranked = (w: string): string[] =>
      wordlist
        .map((c) => ({ c, d: distance(w, c) }))
        .filter((x) => x.c !== w)
        .sort((x, y) => x.d - y.d || (x.c < y.c ? -1 : x.c > y.c ? 1 : 0))
        .filter((x) => x.d <= maxD)
        .map((x) => x.c);
    this.nearbySet = this.typed.map(() => new Set<string>());
    let at = 0;
    const seg = (kind: WordRepairKind, n: number): Segment<WordRepairKind> => {
      const s = { kind, start: at, end: at + n };
      at += n;
      return s;
    };
    if (this.unknown.length >= 2) {
      const k = opts.unknownNearest ?? 8;
      for (const u of this.unknown) {
        const w = this.typed[u]!;
        this.product.push(
          wordlist
            .map((c) => ({ c, d: distance(w, c) }))
            .sort((x, y) => x.d - y.d || (x.c < y.c ? -1 : 1))
            .slice(0, k)
            .map((x) => x.c),
        );
      }
      this.anyPositions = [];
      const n = this.product.reduce((a, l) => a * l.length, 1);
      this.segments = [seg('nearby', n)];
    } else {
      const positions = this.unknown.length === 1 ? [this.unknown[0]!] : this.typed.map((_, i) => i);
      if (this.unknown.length === 0) for (let p = 0; p + 1 < this.typed.length; p++) if (this.typed[p] !== this.typed[p + 1]) this.swaps.push(p);
      for (const p of positions) {
        for (const c of ranked(this.typed[p]!)) {
          this.nearby.push([p, c]);
          this.nearbySet[p]!.add(c);
        }
      }
      this.anyPositions = positions;
      this.segments = [seg('swap', this.swaps.length), seg('nearby', this.nearby.length), seg('any', positions.length * wordlist.length)];
    }
    this.size = at;
  }

  /** Slot k as words + changes, or null for a hole (a word equal to the typed one or already tried as nearby). */
  candidateAt(k: number): WordRepairCandidate | null {
    if (!Number.isInteger(k) || k < 0 || k >= this.size) throw new RangeError(`slot ${k} is outside 0…${this.size - 1}`);
    const words = [...this.typed];
    const seg = this.segments.find((s) => k >= s.start && k < s.end)!;
    const o = k - seg.start;
    if (this.product.length > 0) {
      let rest = o;
      for (let u = this.unknown.length - 1; u >= 0; u--) {
        const l = this.product[u]!;
        words[this.unknown[u]!] = l[rest % l.length]!;
        rest = Math.floor(rest / l.length);
      }
    } else if (seg.kind === 'swap') {
      const p = this.swaps[o]!;
      [words[p], words[p + 1]] = [words[p + 1]!, words[p]!];
    } else if (seg.kind === 'nearby') {
      const [p, w] = this.nearby[o]!;
      words[p] = w;
    } else {
      const p = this.anyPositions[Math.floor(o / this.list.length)]!;
      const w = this.list[o % this.list.length]!;
      if (w === this.typed[p] || this.nearbySet[p]!.has(w)) return null;
      words[p] = w;
    }
    const changes: WordChange[] = [];
    for (let i = 0; i < words.length; i++) if (words[i] !== this.typed[i]) changes.push({ position: i, from: this.typed[i]!, to: words[i]! });
    return { index: k, words, changes, kind: seg.kind };
  }

  /** Test slots [from, to) with `test(words)`; returns every slot that passed. */
  search(from: number, to: number, test: (words: readonly string[]) => boolean, ctl: SearchControl = {}): SearchResult {
    const lo = Math.max(0, Math.floor(from));
    const hi = Math.min(this.size, Math.floor(to));
    const every = ctl.every ?? 64;
    const matches: number[] = [];
    let searched = 0;
    let stopped = false;
    for (let k = lo; k < hi; k++) {
      if ((k - lo) % every === 0) {
        if (ctl.cancelled?.()) {
          stopped = true;
          break;
        }
        ctl.progress?.(k - lo, hi - lo);
      }
      const c = this.candidateAt(k);
      if (!c) continue;
      searched++;
      if (test(c.words)) matches.push(k);
    }
    if (!stopped) ctl.progress?.(Math.max(0, hi - lo), Math.max(0, hi - lo));
    return { matches, searched, stopped };
  }
}

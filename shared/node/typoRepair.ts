/**
 * Typo repair of a paper copy against a known node id, on every core.
 *
 * The enumeration is shared/paper/typoRepair.ts (indexable, so it splits into
 * slices); the test is fastNodeId.ts (node:crypto HMAC + native libsecp256k1).
 * The worker job `typoRepairSlice` (electron/worker/jobs.ts) runs one slice.
 *
 * A match *is* the secret: it is returned only to the caller that asked, never
 * logged, and the workers zeroize their candidate buffers.
 */
import { CldcbError } from '../errors';
import { hexToBytes } from '../bytes';
import { parseNodeIdText, parseTypedHexCopy, LINE_DIGITS, LINES } from '../paper/copyText';
import {
  HexRepairSpace,
  WordRepairSpace,
  splitRange,
  type DigitChange,
  type HexRepairCandidate,
  type RepairKind,
  type WordChange,
  type WordRepairCandidate,
  type WordRepairKind,
} from '../paper/typoRepair';
import { editDistance, expandWord, splitWords, ENGLISH_WORDS, MNEMONIC_WORD_COUNTS } from '../secrets/words';
import type { JobContext } from './workerPool';
import { createHash } from 'node:crypto';
import { mnemonicNodeIdMatcher, nodeIdMatcher } from './fastNodeId';
import { coreCount, runJobParallel } from './workerPool';

// ---------------------------------------------------------------------------
// The worker job.

export type TypoRepairSliceInput =
  | {
      mode: 'hex';
      /** The typed copy, as the operator typed it (parsed again in the worker). */
      copy: string;
      /** 66 hex digits. */
      nodeId: string;
      from: number;
      to: number;
      /** Skip candidates whose changed lines fail the typed line checks (sheet.ts). */
      useLineChecks?: boolean;
    }
  | {
      mode: 'words';
      /** The typed words, prefixes expanded, unknown words as typed. */
      words: string[];
      nodeId: string;
      passphrase?: string;
      from: number;
      to: number;
    };

export interface TypoRepairSliceOutput {
  matches: (HexRepairCandidate | WordRepairCandidate)[];
  /** Distinct candidates tested (derivations done, for hex; for words, candidates seen). */
  searched: number;
}

/** Line check with node:crypto; equal to shared/paper/sheet.ts lineCheck (tested). */
function fastLineCheck(line: number, lineHex: string): string {
  return createHash('sha256').update(`${line + 1}:${lineHex}`, 'latin1').digest('hex').slice(0, 2);
}

/**
 * A pre-test from the line checks the operator typed: every line a candidate
 * changes must match its typed check, and every line it leaves alone must
 * already match (a line without a typed check is free).
 */
export function lineCheckFilter(copy: string): ((candidate32: Uint8Array) => boolean) | null {
  const t = parseTypedHexCopy(copy);
  if (t.lineChecks.every((c) => c === null)) return null;
  const base = hexToBytes(t.hex);
  const bytesPerLine = LINE_DIGITS / 2;
  const basePasses = t.lineChecks.map((c, i) => c === null || fastLineCheck(i, t.hex.slice(i * LINE_DIGITS, (i + 1) * LINE_DIGITS)) === c);
  return (cand) => {
    for (let l = 0; l < LINES; l++) {
      const want = t.lineChecks[l];
      if (want === null || want === undefined) continue;
      let changed = false;
      for (let b = l * bytesPerLine; b < (l + 1) * bytesPerLine; b++) if (cand[b] !== base[b]) changed = true;
      if (!changed) {
        if (!basePasses[l]) return false;
        continue;
      }
      if (fastLineCheck(l, Buffer.from(cand.subarray(l * bytesPerLine, (l + 1) * bytesPerLine)).toString('hex')) !== want) return false;
    }
    return true;
  };
}

/**
 * Worker job: test slots [from, to) of the enumeration of one typed copy
 * against a node id; progress and cancel through `ctx`. Returns every match
 * (the repaired copy and what to correct) and how many candidates were tested.
 */
export function typoRepairSlice(input: TypoRepairSliceInput, ctx: JobContext): TypoRepairSliceOutput {
  const target = hexToBytes(parseNodeIdText(input.nodeId), 'node id', 33);
  const ctl = { cancelled: () => ctx.cancelled(), progress: (d: number, t: number) => ctx.progress(d, t) };
  if (input.mode === 'hex') {
    const space = HexRepairSpace.fromText(input.copy);
    try {
      const matcher = nodeIdMatcher(target);
      const filter = input.useLineChecks ? lineCheckFilter(input.copy) : null;
      const test = filter ? (c: Uint8Array) => filter(c) && matcher(c) : matcher;
      const r = space.search(input.from, input.to, test, ctl);
      return { matches: r.matches.map((k) => space.candidateAt(k)!), searched: r.searched };
    } finally {
      space.dispose();
    }
  }
  const space = new WordRepairSpace(input.words, ENGLISH_WORDS, editDistance);
  const matcher = mnemonicNodeIdMatcher(target, ENGLISH_WORDS, input.passphrase);
  const r = space.search(input.from, input.to, matcher, { ...ctl, every: 32 });
  return { matches: r.matches.map((k) => space.candidateAt(k)!), searched: r.searched };
}

// ---------------------------------------------------------------------------
// The services.

export interface RepairOptions {
  /** (done, total, stage) per stage: the stage note says which (see each function). */
  onProgress?: (done: number, total: number, note?: string) => void;
  signal?: AbortSignal;
  /** Threads to use; default one per core (`coreCount()`). */
  threads?: number;
}

export interface HexRepairResult {
  /** Every candidate that gives the node id (normally one). Each is the secret: show only to the operator. */
  candidates: { hex: string; changes: DigitChange[]; kind: RepairKind }[];
  /** The copy as typed already gives the node id (no repair needed; `candidates` is empty). */
  exact: boolean;
  /** Candidates tested. */
  searched: number;
  ms: number;
  /** The typed line checks were used to skip candidates (and, when that found nothing, the search was repeated without them). */
  usedLineChecks: boolean;
}

export const STAGE_SINGLE = 'look-alikes, swaps and single digits';
export const STAGE_LOOKALIKE_PAIRS = 'pairs of look-alikes';
export const STAGE_DOUBLE = 'pairs of digits';

/**
 * Find the right hex copy for a known node id.
 *
 * Stages (shared/paper/typoRepair.ts), each split over every core:
 * 1. look-alike characters, adjacent swaps, every single-digit change (960):
 *    about a thousand candidates, all tested, **every** match reported;
 * 2. only if stage 1 matched nothing: the pairs of look-alike changes (a few
 *    thousand), every match reported;
 * 3. only if stages 1–2 matched nothing: the other pairs of digit changes (of
 *    453,600), every match reported.
 * So a copy with one wrong digit never pays for the pairs. (A node id is 33
 * bytes: two different copies giving the same one do not happen in practice;
 * "every match" matters for weaker tests and is what the operator is shown.)
 *
 * When the operator typed the line check codes (sheet.ts), they are used
 * first to skip candidates whose lines do not check (256× fewer derivations);
 * if that finds nothing (a check code itself may be mistyped), the search is
 * repeated without them.
 *
 * Progress: `onProgress(done, total, stage)` with `stage` STAGE_SINGLE,
 * STAGE_LOOKALIKE_PAIRS or STAGE_DOUBLE (+ " (using the line checks)");
 * done/total count slots of that stage (summed over threads).
 *
 * @param typedCopy the copy as typed (64 digits, separators and look-alikes allowed, optional line checks).
 * @param knownNodeId the node id (66 hex digits).
 * @throws CldcbError bad_hex / bad_length (copy or node id unreadable), cancelled.
 */
export async function repairHexCopy(typedCopy: string, knownNodeId: string, opts: RepairOptions = {}): Promise<HexRepairResult> {
  const t0 = performance.now();
  const nodeId = parseNodeIdText(knownNodeId);
  const space = HexRepairSpace.fromText(typedCopy);
  const { phase1End, phase2End, size } = space;
  const asRead = space.typed.nonHex.length === 0;
  space.dispose();
  const target = hexToBytes(nodeId, 'node id', 33);
  let searched = 0;
  if (asRead) {
    const secret = hexToBytes(parseTypedHexCopy(typedCopy).hex);
    const exact = nodeIdMatcher(target)(secret);
    secret.fill(0);
    searched = 1;
    if (exact) return { candidates: [], exact: true, searched, ms: performance.now() - t0, usedLineChecks: false };
  }
  const threads = Math.max(1, opts.threads ?? coreCount());
  const hasChecks = parseTypedHexCopy(typedCopy).lineChecks.some((c) => c !== null);
  const passes = hasChecks ? [true, false] : [false];
  const stages: [number, number, string][] = [
    [0, phase1End, STAGE_SINGLE],
    [phase1End, phase2End, STAGE_LOOKALIKE_PAIRS],
    [phase2End, size, STAGE_DOUBLE],
  ];
  for (const useLineChecks of passes) {
    for (const [from, to, note] of stages) {
      const inputs: TypoRepairSliceInput[] = splitRange(from, to, threads).map(([a, b]) => ({
        mode: 'hex',
        copy: typedCopy,
        nodeId,
        from: a,
        to: b,
        useLineChecks,
      }));
      const outs = await runJobParallel<TypoRepairSliceOutput>('typoRepairSlice', inputs, {
        signal: opts.signal,
        onProgress: (d, t) => opts.onProgress?.(d, t, note + (useLineChecks ? ' (using the line checks)' : '')),
      });
      searched += outs.reduce((a, o) => a + o.searched, 0);
      const found = outs.flatMap((o) => o.matches as HexRepairCandidate[]).sort((a, b) => a.index - b.index);
      if (found.length > 0)
        return {
          candidates: found.map((c) => ({ hex: c.hex, changes: [...c.changes], kind: c.kind })),
          exact: false,
          searched,
          ms: performance.now() - t0,
          usedLineChecks: useLineChecks,
        };
    }
  }
  return { candidates: [], exact: false, searched, ms: performance.now() - t0, usedLineChecks: hasChecks };
}

export interface WordRepairResult {
  /** Every word list that gives the node id. Each is the secret: show only to the operator. */
  candidates: { words: string[]; changes: WordChange[]; kind: WordRepairKind }[];
  /** The words as typed (prefixes expanded) already give the node id. */
  exact: boolean;
  searched: number;
  ms: number;
}

export const STAGE_NEARBY = 'swapped and similar words';
export const STAGE_ANY = 'every word at every position';

/**
 * Find the right BIP39 words for a known node id, assuming one wrong word
 * (or two swapped; with 2–3 words that are not English words, the nearest
 * words for each): swaps and words within edit distance 2 first, then every
 * one of the 2048 words at each position (12 × 2048 or 24 × 2048). Candidates
 * with a bad BIP39 checksum are rejected before the costly seed derivation.
 * As for hex: all matches of the first stage are reported, and the second
 * stage runs only when the first found none.
 *
 * @param passphrase the node's BIP39 passphrase, if it has one.
 * @throws CldcbError bad_length (word count), unsupported (more than 3 unknown words), cancelled.
 */
export async function repairWordCopy(
  typedWords: string,
  knownNodeId: string,
  opts: RepairOptions & { passphrase?: string } = {},
): Promise<WordRepairResult> {
  const t0 = performance.now();
  const nodeId = parseNodeIdText(knownNodeId);
  const tokens = splitWords(typedWords);
  if (!(MNEMONIC_WORD_COUNTS as readonly number[]).includes(tokens.length))
    throw new CldcbError(
      'bad_length',
      `The copy has ${tokens.length} words; a BIP39 mnemonic has 12, 15, 18, 21 or 24. The typo search changes words but does not add or remove them: find the missing or doubled word first.`,
    );
  const words = tokens.map((t) => expandWord(t) ?? t);
  const target = hexToBytes(nodeId, 'node id', 33);
  if (mnemonicNodeIdMatcher(target, ENGLISH_WORDS, opts.passphrase)(words))
    return { candidates: [], exact: true, searched: 1, ms: performance.now() - t0 };
  const space = new WordRepairSpace(words, ENGLISH_WORDS, editDistance);
  const anySeg = space.segments.find((s) => s.kind === 'any');
  const split = anySeg ? anySeg.start : space.size;
  const threads = Math.max(1, opts.threads ?? coreCount());
  let searched = 1;
  for (const [from, to, note] of [
    [0, split, STAGE_NEARBY],
    [split, space.size, STAGE_ANY],
  ] as [number, number, string][]) {
    if (to <= from) continue;
    const inputs: TypoRepairSliceInput[] = splitRange(from, to, threads).map(([a, b]) => ({
      mode: 'words',
      words,
      nodeId,
      passphrase: opts.passphrase,
      from: a,
      to: b,
    }));
    const outs = await runJobParallel<TypoRepairSliceOutput>('typoRepairSlice', inputs, {
      signal: opts.signal,
      onProgress: (d, t) => opts.onProgress?.(d, t, note),
    });
    searched += outs.reduce((a, o) => a + o.searched, 0);
    const found = outs.flatMap((o) => o.matches as WordRepairCandidate[]).sort((a, b) => a.index - b.index);
    if (found.length > 0)
      return {
        candidates: found.map((c) => ({ words: [...c.words], changes: [...c.changes], kind: c.kind })),
        exact: false,
        searched,
        ms: performance.now() - t0,
      };
  }
  return { candidates: [], exact: false, searched, ms: performance.now() - t0 };
}

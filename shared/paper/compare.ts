/**
 * Paper backup verification: compare a typed paper copy (64 hex digits, BIP39
 * words or a codex32 "cl1…" string) with the loaded secret, or with a node id
 * the operator types (the copy's node id is derived and compared).
 *
 * The results are data for the UI: per group of 4 digits / per word / per
 * character, which ones differ, with positions 0-based in the data and 1-based
 * in the messages ("group 7 (digits 25–28) differs"). The UI shows the
 * operator's *own typed copy* with the differing places highlighted.
 * **Neither the messages nor any field contain the loaded secret** (no
 * expected digit, word, character or check code): only positions, counts and
 * the operator's typed text. The node id is public and may be shown.
 *
 * Line checks (sheet.ts): when the operator typed the check code at the end of
 * a line, the line is verified on its own — without the secret — which
 * pinpoints a bad line when only a node id is known.
 */
import { CldcbError } from '../errors';
import { bytesToHex, zeroize } from '../bytes';
import { decodeCodex32, diagnoseCodex32, encodeCodex32Secret, CODEX32_CHARSET } from '../codex32';
import { nodeIdFromSecret } from '../secrets/nodeKey';
import { detectSecretTextKind, type LoadedSecret } from '../secrets/hsmSecret';
import { expandWord, mnemonicToSeedRaw, splitWords, validateMnemonic, MNEMONIC_WORD_COUNTS } from '../secrets/words';
import {
  describeGroup,
  describeLine,
  digitPlace,
  parseNodeIdText,
  parseTypedHexCopy,
  GROUP_DIGITS,
  GROUPS,
  LINE_DIGITS,
  LINES,
  type TypedHexCopy,
} from './copyText';
import { lineCheck, CODEX32_GROUP } from './sheet';

export type CopyKind = 'hex' | 'words' | 'codex32';

/** One group of 4 digits of a hex copy. */
export interface GroupDiff {
  /** 0-based (0…15). */
  readonly index: number;
  /** The operator's 4 typed characters. */
  readonly typed: string;
  readonly ok: boolean;
  /** 0-based digit positions (0…63) in this group that differ. */
  readonly positions: readonly number[];
}

/** One printed line (4 groups) of a hex copy and its check code. */
export interface LineDiff {
  /** 0-based (0…3). */
  readonly index: number;
  /** The line's digits agree with the reference (null when there is no reference: node-id comparison). */
  readonly ok: boolean | null;
  /** A check code was typed for this line. */
  readonly checkTyped: boolean;
  /** The typed check code agrees with the typed digits of the line (null when no check was typed). */
  readonly checkOk: boolean | null;
}

export interface HexCopyComparison {
  readonly kind: 'hex';
  readonly matches: boolean;
  /** 0-based digit positions that differ from the secret. */
  readonly differingDigits: readonly number[];
  readonly groups: readonly GroupDiff[];
  readonly lines: readonly LineDiff[];
  /** 0-based positions typed as a look-alike letter (e.g. "o" for 0): not hex, must be corrected on the paper. */
  readonly lookalikes: readonly number[];
  readonly messages: readonly string[];
}

export interface WordDiff {
  /** 0-based. */
  readonly index: number;
  /** The operator's typed token. */
  readonly typed: string;
  /** Null when the reference has no words (a plain 32-byte secret: only match / no match is known). */
  readonly ok: boolean | null;
  /** The token is a BIP39 English word (or a unique 4+-letter abbreviation of one). */
  readonly known: boolean;
}

export interface WordCopyComparison {
  readonly kind: 'words';
  readonly matches: boolean;
  readonly words: readonly WordDiff[];
  /** The copy has 12, 15, 18, 21 or 24 words. */
  readonly countOk: boolean;
  /** The BIP39 checksum of the typed words is valid (false too when a word is unknown). */
  readonly checksumOk: boolean;
  /** Per-word results are available (the loaded secret has its words). */
  readonly perWord: boolean;
  readonly messages: readonly string[];
}

export interface CharGroupDiff {
  readonly index: number;
  readonly typed: string;
  readonly ok: boolean;
  /** 0-based character positions in the string. */
  readonly positions: readonly number[];
}

export interface Codex32CopyComparison {
  readonly kind: 'codex32';
  readonly matches: boolean;
  /** The typed string's own BIP-93 checksum verifies. */
  readonly checksumOk: boolean;
  /** 0-based positions of characters that cannot be in a codex32 string (1 b i o after the separator, …). */
  readonly badChars: readonly number[];
  /** 0-based positions that differ from the secret's codex32 string with the typed identifier. */
  readonly differing: readonly number[];
  /** The string in groups of 4 as on the sheet. */
  readonly groups: readonly CharGroupDiff[];
  /** The identifier as typed (4 characters) or null when it cannot be read. */
  readonly id: string | null;
  readonly messages: readonly string[];
}

export type CopyComparison = HexCopyComparison | WordCopyComparison | Codex32CopyComparison;

const plural = (n: number, one: string, many = one + 's'): string => `${n} ${n === 1 ? one : many}`;
const list1 = (xs: readonly number[]): string => xs.map((x) => x + 1).join(', ');

/**
 * What kind of copy the text is.
 * @throws CldcbError bad_input when it is none of them.
 */
export function detectCopyKind(text: string): CopyKind {
  const k = detectSecretTextKind(text);
  if (k === 'unknown')
    throw new CldcbError('bad_input', 'The copy is not recognised: expected 64 hex digits, BIP39 words, or a codex32 string starting "cl1".');
  return k;
}

// ---------------------------------------------------------------------------
// Hex.

function typedLineChecks(t: TypedHexCopy): LineDiff[] {
  return Array.from({ length: LINES }, (_, i) => {
    const typed = t.lineChecks[i] ?? null;
    return {
      index: i,
      ok: null,
      checkTyped: typed !== null,
      checkOk: typed === null ? null : lineCheck(i, t.hex.slice(i * LINE_DIGITS, (i + 1) * LINE_DIGITS)) === typed,
    };
  });
}

function lookalikeMessage(t: TypedHexCopy): string[] {
  if (t.nonHex.length === 0) return [];
  return [
    `${plural(t.nonHex.length, 'digit')} (${list1(t.nonHex)}) ${t.nonHex.length === 1 ? 'was' : 'were'} typed as a letter that only looks like a digit (e.g. "o" for 0); a hex copy uses only 0–9 and a–f: correct the paper if it shows a letter there.`,
  ];
}

function checkMessages(lines: readonly LineDiff[]): string[] {
  const bad = lines.filter((l) => l.checkOk === false).map((l) => l.index);
  if (bad.length === 0) return [];
  return bad.map((i) => `The check code of ${describeLine(i)} does not match its digits: a digit of that line (or its check code) was copied wrongly.`);
}

/**
 * Compare a typed hex copy with the secret (secret_data[0..32]: for a mnemonic
 * node, the first 32 bytes of its BIP39 seed, as the sheet prints them).
 * @throws CldcbError bad_length / bad_hex (the copy cannot be read as 64 digits; see parseTypedHexCopy),
 *   bad_length (secret not 32 or 64 bytes).
 */
export function compareHexCopy(text: string, secretData: Uint8Array): HexCopyComparison {
  if (secretData.length !== 32 && secretData.length !== 64)
    throw new CldcbError('bad_length', `secret: expected 32 or 64 bytes, got ${secretData.length}.`);
  const t = parseTypedHexCopy(text);
  const secretHex = bytesToHex(secretData.subarray(0, 32));
  const differingDigits: number[] = [];
  for (let i = 0; i < secretHex.length; i++) if (t.hex[i] !== secretHex[i]) differingDigits.push(i);
  const groups: GroupDiff[] = Array.from({ length: GROUPS }, (_, g) => {
    const positions = differingDigits.filter((p) => Math.floor(p / GROUP_DIGITS) === g);
    return { index: g, typed: t.chars.slice(g * GROUP_DIGITS, (g + 1) * GROUP_DIGITS), ok: positions.length === 0, positions };
  });
  const lines: LineDiff[] = typedLineChecks(t).map((l) => ({
    ...l,
    ok: !differingDigits.some((p) => Math.floor(p / LINE_DIGITS) === l.index),
  }));
  const messages: string[] = [];
  const badGroups = groups.filter((g) => !g.ok);
  if (badGroups.length === 0) messages.push('The copy matches the secret: all 64 digits are right.');
  else {
    messages.push(`${plural(differingDigits.length, 'digit')} in ${plural(badGroups.length, 'group')} ${differingDigits.length === 1 ? 'differs' : 'differ'} from the secret.`);
    for (const g of badGroups) {
      const where = g.positions.map((p) => digitPlace(p));
      messages.push(
        `${describeGroup(g.index)[0]!.toUpperCase()}${describeGroup(g.index).slice(1)} differs: ${where.length === 1 ? 'digit' : 'digits'} ${where.map((w) => `${w.digit} (position ${w.inGroup} in the group)`).join(', ')}.`,
      );
    }
  }
  messages.push(...lookalikeMessage(t));
  messages.push(...checkMessages(lines));
  for (const l of lines)
    if (l.ok && l.checkOk === false)
      messages.push(`The digits of line ${l.index + 1} are right, so its check code was copied wrongly: correct the check code on the paper.`);
  return {
    kind: 'hex',
    matches: differingDigits.length === 0 && t.nonHex.length === 0,
    differingDigits,
    groups,
    lines,
    lookalikes: t.nonHex,
    messages,
  };
}

// ---------------------------------------------------------------------------
// Words.

function mnemonicOf(words: readonly (string | null)[]): string | null {
  if (words.some((w) => w === null)) return null;
  return words.join(' ');
}

function checksumValid(mnemonic: string | null): boolean {
  if (mnemonic === null) return false;
  try {
    validateMnemonic(mnemonic, { expandPrefixes: false });
    return true;
  } catch {
    return false;
  }
}

/**
 * Compare typed BIP39 words with the loaded secret. With the secret's own words
 * (a mnemonic node, or words loaded as text) the result is per word; with only
 * a 32-byte secret (a node made by the old `hsmtool generatehsm`) the words are
 * turned into a seed with `passphrase` and its first 32 bytes compared: match or not.
 * @throws CldcbError bad_input when the text holds no words.
 */
export function compareWordCopy(text: string, secret: Pick<LoadedSecret, 'secretData' | 'mnemonic'>, passphrase?: string): WordCopyComparison {
  const tokens = splitWords(text);
  if (tokens.length === 0) throw new CldcbError('bad_input', 'No words found in the copy.');
  const expanded = tokens.map((t) => expandWord(t));
  const countOk = (MNEMONIC_WORD_COUNTS as readonly number[]).includes(tokens.length);
  const typedMnemonic = mnemonicOf(expanded);
  const checksumOk = countOk && checksumValid(typedMnemonic);
  const messages: string[] = [];
  const unknown = expanded.flatMap((w, i) => (w === null ? [i] : []));
  if (!countOk)
    messages.push(`The copy has ${tokens.length} words; a BIP39 mnemonic has 12, 15, 18, 21 or 24 (Core Lightning creates 12): a word is missing or doubled.`);
  if (unknown.length > 0)
    messages.push(`${unknown.length === 1 ? 'Word' : 'Words'} ${list1(unknown)} ${unknown.length === 1 ? 'is' : 'are'} not in the BIP39 English list: check the spelling.`);
  if (countOk && unknown.length === 0 && !checksumOk)
    messages.push('The BIP39 checksum of the typed words fails: one word is wrong, or two are swapped.');

  if (secret.mnemonic) {
    const ref = secret.mnemonic.split(' ');
    const words: WordDiff[] = tokens.map((typed, i) => ({ index: i, typed, ok: expanded[i] !== null && expanded[i] === ref[i], known: expanded[i] !== null }));
    const bad = words.filter((w) => !w.ok).map((w) => w.index);
    const matches = tokens.length === ref.length && bad.length === 0;
    if (matches) messages.unshift(`The copy matches: all ${ref.length} words are right.`);
    else {
      if (tokens.length !== ref.length) messages.unshift(`The copy has ${tokens.length} words; the secret has ${ref.length}.`);
      const shown = bad.filter((i) => i < ref.length);
      if (shown.length > 0) messages.unshift(`${shown.length === 1 ? 'Word' : 'Words'} ${list1(shown)} ${shown.length === 1 ? 'differs' : 'differ'} from the secret.`);
    }
    return { kind: 'words', matches, words, countOk, checksumOk, perWord: true, messages };
  }

  // Only the 32-byte secret: derive and compare (old generatehsm: secret = seed[0..32]).
  let matches = false;
  if (typedMnemonic !== null && secret.secretData.length === 32) {
    const seed = mnemonicToSeedRaw(typedMnemonic, passphrase);
    let d = 0;
    for (let i = 0; i < 32; i++) d |= seed[i]! ^ secret.secretData[i]!;
    matches = d === 0;
    zeroize(seed);
  }
  messages.unshift(
    matches
      ? 'The words (with the passphrase given) give this secret.'
      : 'The words do not give this secret' + (passphrase ? ' with this passphrase' : '') + '. The secret holds no words, so the differing word cannot be named: check every word' + (passphrase ? ' and the passphrase.' : ', and whether a BIP39 passphrase was used.'),
  );
  const words: WordDiff[] = tokens.map((typed, i) => ({ index: i, typed, ok: null, known: expanded[i] !== null }));
  return { kind: 'words', matches, words, countOk, checksumOk, perWord: false, messages };
}

// ---------------------------------------------------------------------------
// codex32.

const compactCodex32 = (text: string): string => text.replace(/[\s\-\u2010-\u2015]/gu, '');

/**
 * Compare a typed codex32 string (spaces and dashes ignored) with the secret's
 * codex32 string made with the *typed* identifier (the identifier is the
 * operator's label, not part of the secret).
 * @throws CldcbError bad_length (secret not 32/64 bytes).
 */
export function compareCodex32Copy(text: string, secretData: Uint8Array): Codex32CopyComparison {
  if (secretData.length !== 32 && secretData.length !== 64)
    throw new CldcbError('bad_length', `secret: expected 32 or 64 bytes, got ${secretData.length}.`);
  const raw = compactCodex32(text);
  const s = raw.toLowerCase();
  const messages: string[] = [];
  const diag = diagnoseCodex32(s);
  if (raw !== s && raw !== raw.toUpperCase()) messages.push('The string mixes upper and lower case: Core Lightning refuses that. Type it all in one case.');
  const idTyped = s.slice(4, 8);
  const id = idTyped.length === 4 && [...idTyped].every((c) => CODEX32_CHARSET.includes(c)) ? idTyped : null;
  const expected = encodeCodex32Secret('cl', id ?? 'xxxx', 0, secretData.subarray(0, 32));
  const differing: number[] = [];
  for (let i = 0; i < Math.max(s.length, expected.length); i++) {
    if (id === null && i >= 4 && i < 8) continue; // an unreadable id is reported separately
    if (id === null && i >= expected.length - 13) continue; // the checksum depends on the id
    if (s[i] !== expected[i]) differing.push(i);
  }
  if (id === null) messages.push('Characters 5–8 (the identifier) cannot be read as 4 bech32 characters; the checksum was not compared.');
  if (!s.startsWith('cl1')) messages.push('A Core Lightning codex32 secret starts with "cl1".');
  if (s.length !== expected.length) messages.push(`The string has ${s.length} characters; a Core Lightning secret has ${expected.length}.`);
  if (diag.badPositions.length > 0)
    messages.push(`${diag.badPositions.length === 1 ? 'Character' : 'Characters'} ${list1(diag.badPositions)} cannot appear in a codex32 string (it never uses 1 after the start, b, i or o).`);
  if (!diag.checksumOk && diag.badPositions.length === 0) messages.push('The codex32 checksum of the typed string fails.');
  const groups: CharGroupDiff[] = [];
  for (let g = 0; g * CODEX32_GROUP < s.length; g++) {
    const positions = differing.filter((p) => Math.floor(p / CODEX32_GROUP) === g);
    groups.push({ index: g, typed: s.slice(g * CODEX32_GROUP, (g + 1) * CODEX32_GROUP), ok: positions.length === 0, positions });
  }
  const matches = id !== null && s === expected && (raw === s || raw === s.toUpperCase());
  const payloadBad = differing.filter((p) => p >= 9 && p < expected.length - 13);
  if (matches) messages.unshift(`The copy matches the secret (identifier "${id}").`);
  else if (differing.length > 0) {
    messages.unshift(
      `${plural(differing.length, 'character')} ${differing.length === 1 ? 'differs' : 'differ'} from the secret's codex32 string at ${differing.length === 1 ? 'position' : 'positions'} ${list1(differing.slice(0, 12))}${differing.length > 12 ? ', …' : ''}` +
        (payloadBad.length === 0 && differing.length > 0 ? ' (none in the secret part: check the start and the checksum).' : '.'),
    );
  }
  return { kind: 'codex32', matches, checksumOk: diag.checksumOk, badChars: diag.badPositions, differing, groups, id, messages };
}

/**
 * Compare any copy with a loaded secret, choosing by the copy's kind.
 * @throws CldcbError as the comparison chosen; bad_input when the text is not a copy.
 */
export function compareCopy(text: string, secret: Pick<LoadedSecret, 'secretData' | 'mnemonic'>, opts: { passphrase?: string } = {}): CopyComparison {
  switch (detectCopyKind(text)) {
    case 'hex':
      return compareHexCopy(text, secret.secretData);
    case 'words':
      return compareWordCopy(text, secret, opts.passphrase);
    case 'codex32':
      return compareCodex32Copy(text, secret.secretData);
  }
}

// ---------------------------------------------------------------------------
// Copy vs a typed node id.

export interface NodeIdComparison {
  readonly kind: CopyKind;
  /** The copy gives the typed node id. */
  readonly matches: boolean;
  /** The node id the copy gives (public), or null when the copy cannot be read. */
  readonly derivedNodeId: string | null;
  /** The node id as typed, normalised. */
  readonly nodeId: string;
  /** 0-based positions where the typed node id and the derived one differ. */
  readonly nodeIdDiffers: readonly number[];
  /** The two node ids differ in 1 or 2 digits: the typed node id probably has a typo, not the copy. */
  readonly nodeIdTypo: boolean;
  /** For a hex copy: the line checks the operator typed (pinpoints a bad line). */
  readonly lines: readonly LineDiff[] | null;
  /** A typo search may find the right copy (hex or words that were read but gave another node id, or bad BIP39 checksum). */
  readonly canRepair: boolean;
  readonly messages: readonly string[];
}

/**
 * Compare a copy with a node id the operator typed: derive the node id from
 * the copy (cln-facts §2) and compare. For words, `passphrase` is the BIP39
 * passphrase (if the node uses one).
 * @throws CldcbError bad_input/bad_length/bad_hex for a node id that is not 66 hex digits
 *   starting 02/03, or a copy that is not recognised.
 */
export function compareCopyWithNodeId(text: string, nodeIdText: string, opts: { passphrase?: string } = {}): NodeIdComparison {
  const nodeId = parseNodeIdText(nodeIdText);
  const kind = detectCopyKind(text);
  const messages: string[] = [];
  let secret: Uint8Array | null = null;
  let lines: LineDiff[] | null = null;
  let canRepair = false;
  try {
    if (kind === 'hex') {
      let t: TypedHexCopy;
      try {
        t = parseTypedHexCopy(text);
      } catch (e) {
        if (e instanceof CldcbError) messages.push(e.message);
        return result(null);
      }
      lines = typedLineChecks(t);
      messages.push(...lookalikeMessage(t), ...checkMessages(lines));
      secret = new Uint8Array(32);
      for (let i = 0; i < 32; i++) secret[i] = parseInt(t.hex.slice(2 * i, 2 * i + 2), 16);
      canRepair = true;
    } else if (kind === 'words') {
      const tokens = splitWords(text);
      const expanded = tokens.map((w) => expandWord(w));
      const m = mnemonicOf(expanded);
      const unknown = expanded.flatMap((w, i) => (w === null ? [i] : []));
      const countOk = (MNEMONIC_WORD_COUNTS as readonly number[]).includes(tokens.length);
      if (!countOk) {
        messages.push(`The copy has ${tokens.length} words; a BIP39 mnemonic has 12, 15, 18, 21 or 24: a word is missing or doubled.`);
        return result(null);
      }
      canRepair = unknown.length <= 3;
      if (m === null) {
        messages.push(`${unknown.length === 1 ? 'Word' : 'Words'} ${list1(unknown)} ${unknown.length === 1 ? 'is' : 'are'} not in the BIP39 English list.`);
        return result(null);
      }
      if (!checksumValid(m)) {
        messages.push('The BIP39 checksum of the typed words fails: one word is wrong, or two are swapped.');
        return result(null);
      }
      const seed = mnemonicToSeedRaw(m, opts.passphrase);
      secret = seed.slice(0, 32);
      zeroize(seed);
    } else {
      try {
        const parts = decodeCodex32(compactCodex32(text), 'cl');
        if (parts.payload.length !== 32 || parts.threshold !== 0) {
          zeroize(parts.payload);
          messages.push('This codex32 string is not an unshared 32-byte Core Lightning secret.');
          return result(null);
        }
        secret = parts.payload;
      } catch (e) {
        if (e instanceof CldcbError) messages.push(`The codex32 string cannot be read: ${e.message}`);
        return result(null);
      }
    }
    const derived = bytesToHex(nodeIdFromSecret(secret));
    return result(derived);
  } finally {
    zeroize(secret);
  }

  function result(derived: string | null): NodeIdComparison {
    const nodeIdDiffers: number[] = [];
    if (derived !== null) for (let i = 0; i < nodeId.length; i++) if (derived[i] !== nodeId[i]) nodeIdDiffers.push(i);
    const matches = derived !== null && nodeIdDiffers.length === 0;
    const nodeIdTypo = derived !== null && nodeIdDiffers.length > 0 && nodeIdDiffers.length <= 2;
    if (matches) messages.unshift('The copy gives this node id: the copy is right.');
    else if (nodeIdTypo)
      messages.unshift(
        `The copy gives a node id that differs from the one you typed only at ${nodeIdDiffers.length === 1 ? 'digit' : 'digits'} ${list1(nodeIdDiffers)}: the node id you typed probably has a typo (the copy is probably right). Check the node id.`,
      );
    else if (derived !== null) {
      messages.unshift(
        kind === 'words'
          ? 'The copy gives a different node id: a word is wrong (one that keeps the checksum valid), or the BIP39 passphrase differs. A typo search can try every single-word change.'
          : kind === 'hex'
            ? 'The copy gives a different node id: some digits are wrong. A typo search can find up to two wrong digits, a swap or look-alike characters.'
            : 'The codex32 string is valid but gives a different node id: it is a different secret, or the node id is wrong.',
      );
    }
    return {
      kind,
      matches,
      derivedNodeId: derived,
      nodeId,
      nodeIdDiffers,
      nodeIdTypo,
      lines,
      canRepair: !matches && !nodeIdTypo && canRepair && kind !== 'codex32',
      messages,
    };
  }
}

/**
 * The printable paper backup of a Core Lightning hsm_secret: a data model
 * (`buildPaperSheet`) that the UI renders, a self-contained HTML rendering
 * for Electron's printToPDF (`renderSheetHtml`) and a plain-text one for the
 * CLI (`renderSheetText`).
 *
 * ## Layout of the 64 hex digits
 *
 * 4 lines × 4 groups × 4 digits (16 groups, as `lightningd --recover=<hex>`
 * takes 64 digits; the same grouping as shared/secrets/hexCopy.ts
 * `groupHexCopy`). Each line ends with a 2-character **line check**:
 *
 *     check(line n) = first 2 hex digits of SHA-256( ASCII "<n>:<the line's 16 digits, lower case>" ),  n = 1…4
 *
 * so anyone can recompute it with standard tools:
 * `printf '1:ffeeddccbbaa9988' | sha256sum | cut -c1-2`. A line copied with
 * any error fails its check with probability 255/256, which pinpoints the
 * bad line at once (compare.ts) and lets the typo search skip most
 * candidates. Including the line number means two lines swapped are caught
 * too. The checks say 8 bits about each line; they are printed on the same
 * sheet as the digits, so they reveal nothing the sheet does not.
 *
 * (A layout of "16 lines of 4 groups of 4" would be 256 digits: a secret has
 * 64, hence 4 lines.)
 *
 * ## The other blocks
 *
 * - The codex32 string (BIP-93 with hrp "cl", threshold 0, share "s": what
 *   `lightning-hsmtool getsecret` and the `exposesecret` plugin print,
 *   cln-facts §4) in groups of 4 characters, 5 groups a line. Its identifier is
 *   the operator's choice, by default `defaultCodex32Id`.
 * - For a node created from BIP39 words (the mnemonic format, cln-facts §1c):
 *   the words, which are the *whole* backup. The hex and codex32 copies then
 *   hold the first 32 bytes of the BIP39 seed, which restore the node id and
 *   channel keys but **not** the on-chain wallet (cln-facts §3): the sheet says so.
 * - For a mnemonic node **with a BIP39 passphrase** only the words are printed:
 *   the hex and codex32 copies are made from the seed *with* the passphrase,
 *   so printing them would let anyone holding the sheet take the node's
 *   channel funds without the passphrase (Core Lightning's `exposesecret`
 *   refuses such secrets for the same reason). `hex` is then empty and
 *   `codex32` null.
 * - The node id (public) in groups: "02" then 16 groups of 4, 8 groups a line,
 *   and blank boxes in the same layout for the operator to write the node id
 *   by hand when they verify the sheet.
 */
import { CldcbError } from '../errors';
import { bytesToHex, utf8 } from '../bytes';
import { sha256 } from '../crypto/hash';
import { encodeCodex32Secret, CODEX32_CHARSET } from '../codex32';
import { nodeIdFromSecret } from '../secrets/nodeKey';
import { GROUP_DIGITS, GROUPS_PER_LINE, HEX_DIGITS, LINE_DIGITS, LINES } from './copyText';

export const SHEET_VERSION = 1;

/** Codex32 characters per group and groups per line on the sheet. */
export const CODEX32_GROUP = 4;
export const CODEX32_GROUPS_PER_LINE = 5;
/** Node id groups per line (after the "02"/"03" prefix). */
export const NODE_ID_GROUPS_PER_LINE = 8;

/**
 * The check code of one line: first 2 hex digits of SHA-256("<n>:<16 digits>"), n = line + 1.
 * @param line 0-based line index (0…3).
 * @param lineHex the line's 16 hex digits (any case).
 * @throws RangeError for a line index outside 0…3 or a line that is not 16 characters.
 * @example lineCheck(0, 'ffeeddccbbaa9988') // same as `printf '1:ffeeddccbbaa9988' | sha256sum | cut -c1-2`
 */
export function lineCheck(line: number, lineHex: string): string {
  if (!Number.isInteger(line) || line < 0 || line >= LINES) throw new RangeError(`line must be 0…${LINES - 1}`);
  if (typeof lineHex !== 'string' || lineHex.length !== LINE_DIGITS) throw new RangeError(`a line has ${LINE_DIGITS} digits`);
  const msg = utf8(`${line + 1}:${lineHex.toLowerCase()}`);
  const h = sha256(msg);
  msg.fill(0);
  const out = bytesToHex(h.subarray(0, 1));
  h.fill(0);
  return out;
}

/** Line checks for all 4 lines of 64 hex digits. */
export function lineChecks(hex64: string): string[] {
  return Array.from({ length: LINES }, (_, i) => lineCheck(i, hex64.slice(i * LINE_DIGITS, (i + 1) * LINE_DIGITS)));
}

/**
 * The codex32 identifier `exposesecret` makes from a node alias
 * (plugins/exposesecret.c): the alias's characters, lower-cased, keeping
 * only valid bech32 characters (no 1, b, i, o), the first 4, padded with "x".
 * @example codex32IdFromAlias('JUNIORBEAM') // 'junr'
 */
export function codex32IdFromAlias(alias: string): string {
  let id = '';
  for (const ch of alias) {
    if (id.length === 4) break;
    const c = ch.codePointAt(0)!;
    if (c >= 128) continue;
    const l = ch.toLowerCase();
    if (CODEX32_CHARSET.includes(l)) id += l;
  }
  return id.padEnd(4, 'x');
}

/**
 * A sensible codex32 identifier: from the node alias as `exposesecret` does,
 * else the first 4 bech32 characters of the node id's x coordinate (public,
 * and it ties the string to the node at a glance).
 */
export function defaultCodex32Id(opts: { alias?: string; nodeId?: Uint8Array }): string {
  if (opts.alias !== undefined && opts.alias.trim() !== '') return codex32IdFromAlias(opts.alias);
  if (opts.nodeId && opts.nodeId.length === 33) {
    const x = opts.nodeId;
    const v = (x[1]! << 16) | (x[2]! << 8) | x[3]!; // 24 bits → the first 4 five-bit groups
    let id = '';
    for (let i = 0; i < 4; i++) id += CODEX32_CHARSET[(v >> (19 - 5 * i)) & 31]!;
    return id;
  }
  return 'xxxx';
}

export interface SheetHexLine {
  /** 0-based. */
  readonly index: number;
  readonly groups: readonly string[];
  /** The line check (see module comment). */
  readonly check: string;
}

export interface PaperSheet {
  readonly version: typeof SHEET_VERSION;
  readonly title: string;
  /** The operator's label (e.g. node alias); printed as given. */
  readonly label: string | null;
  /** Date printed on the sheet, as given (e.g. "2026-11-23"); null for none. */
  readonly date: string | null;
  /** "plain": a 32-byte hsm_secret; "mnemonic": a node made from BIP39 words. */
  readonly secretKind: 'plain' | 'mnemonic';
  readonly nodeId: {
    readonly hex: string;
    readonly prefix: string;
    /** 16 groups of 4 after the prefix. */
    readonly groups: readonly string[];
    /** The groups in lines of 8. */
    readonly lines: readonly (readonly string[])[];
  };
  /** The 64 hex digits of secret_data[0..32], 4 lines of 4 groups, each with its check. Secret. Empty for a passphrase node. */
  readonly hex: readonly SheetHexLine[];
  /** The codex32 string of secret_data[0..32]. Secret. Null for a passphrase node. */
  readonly codex32: {
    readonly id: string;
    /** The whole string, lower case. Secret. */
    readonly text: string;
    readonly groups: readonly string[];
    readonly lines: readonly (readonly string[])[];
  } | null;
  /** The BIP39 words of a mnemonic node (the whole backup), else null. Secret. */
  readonly words: { readonly words: readonly string[]; readonly passphraseUsed: boolean } | null;
  /** Blank boxes for writing the node id by hand: group sizes per line ([2] then 8 × [4], then 8 × [4]). */
  readonly handwrittenNodeId: readonly (readonly number[])[];
  /** Short instructions printed on the sheet, in order. */
  readonly notes: readonly string[];
}

export interface SheetInput {
  /** secret_data: 32 bytes (plain hsm_secret) or the 64-byte BIP39 seed of a mnemonic node. Not kept. */
  secretData: Uint8Array;
  /** The words of a mnemonic node (as CLN stores them: lower case, single spaces). */
  mnemonic?: string;
  /** True when the mnemonic node has a BIP39 passphrase (never printed). */
  passphraseUsed?: boolean;
  /** codex32 identifier (4 bech32 characters); default `defaultCodex32Id`. */
  codex32Id?: string;
  /** Node alias, for the default identifier. */
  alias?: string;
  label?: string;
  date?: string;
}

const chunk = <T>(xs: readonly T[], n: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
};
const groupsOf = (s: string, n: number): string[] => s.match(new RegExp(`.{1,${n}}`, 'gu')) ?? [];

/**
 * Build the sheet's data model.
 * @throws CldcbError bad_length (secret not 32/64 bytes; mnemonic given with a 32-byte secret),
 *   bad_input (an invalid codex32 identifier: 4 lower-case bech32 characters, no 1 b i o).
 */
export function buildPaperSheet(input: SheetInput): PaperSheet {
  const { secretData } = input;
  if (!(secretData instanceof Uint8Array) || (secretData.length !== 32 && secretData.length !== 64))
    throw new CldcbError('bad_length', 'Paper sheet: the secret must be 32 bytes (hsm_secret) or the 64-byte BIP39 seed.');
  if (input.mnemonic !== undefined && secretData.length !== 64)
    throw new CldcbError('bad_length', 'Paper sheet: a mnemonic node has a 64-byte seed as its secret.');
  const nodeIdBytes = nodeIdFromSecret(secretData);
  const nodeIdHex = bytesToHex(nodeIdBytes);
  const id = input.codex32Id ?? defaultCodex32Id({ alias: input.alias, nodeId: nodeIdBytes });
  const first32 = secretData.subarray(0, 32);
  const hex = bytesToHex(first32);
  const codex32 = encodeCodex32Secret('cl', id, 0, first32);
  const hexGroups = groupsOf(hex, GROUP_DIGITS);
  const checks = lineChecks(hex);
  const hexLines: SheetHexLine[] = chunk(hexGroups, GROUPS_PER_LINE).map((groups, index) => ({ index, groups, check: checks[index]! }));
  const nodeGroups = groupsOf(nodeIdHex.slice(2), GROUP_DIGITS);
  const cGroups = groupsOf(codex32, CODEX32_GROUP);
  const mnemonic = input.mnemonic?.trim().split(/\s+/u) ?? null;
  const withPassphrase = mnemonic !== null && Boolean(input.passphraseUsed);
  const notes = ['This sheet is the secret of your Lightning node. Anyone who reads it can take your funds: keep it offline, never photograph or type it into a connected computer.'];
  if (!mnemonic) notes.push('Restore: lightningd --recover=<the 64 digits without spaces> (or the codex32 string) on a new node, or load it in CLDCB Recovery.');
  else if (!withPassphrase)
    notes.push(
      'This node was made from BIP39 words: the words are the complete backup (restore: lightningd --recover="<the words>" with Core Lightning v26.04 or later, or CLDCB Recovery). The digits and the codex32 string hold the first 32 bytes of the BIP39 seed: they restore the node id and channels but NOT the on-chain wallet.',
    );
  else
    notes.push(
      'This node was made from BIP39 words with a BIP39 passphrase. The words need the passphrase, which is NOT on this sheet: keep it somewhere else you will find. Restore: lightning-hsmtool generatehsm (it asks for the words, then the passphrase) or CLDCB Recovery; lightningd --recover does not take a passphrase.',
      'The digits and the codex32 string are deliberately not printed: they would restore the node without the passphrase.',
    );
  if (!withPassphrase)
    notes.push(`Each line of digits ends with a check: the first 2 hex digits of SHA-256("<line number>:<the line's 16 digits>"), e.g. printf '1:<16 digits>' | sha256sum.`);
  notes.push('Verify this sheet: type it back into CLDCB Recovery (or cldcb-client paper verify) and compare the node id it gives with the one above.');
  return {
    version: SHEET_VERSION,
    title: 'Core Lightning node secret (hsm_secret) — paper backup',
    label: input.label?.trim() || null,
    date: input.date?.trim() || null,
    secretKind: mnemonic ? 'mnemonic' : 'plain',
    nodeId: { hex: nodeIdHex, prefix: nodeIdHex.slice(0, 2), groups: nodeGroups, lines: chunk(nodeGroups, NODE_ID_GROUPS_PER_LINE) },
    hex: withPassphrase ? [] : hexLines,
    codex32: withPassphrase ? null : { id, text: codex32, groups: cGroups, lines: chunk(cGroups, CODEX32_GROUPS_PER_LINE) },
    words: mnemonic ? { words: mnemonic, passphraseUsed: withPassphrase } : null,
    handwrittenNodeId: [[2, ...new Array<number>(NODE_ID_GROUPS_PER_LINE).fill(GROUP_DIGITS)], new Array<number>(NODE_ID_GROUPS_PER_LINE).fill(GROUP_DIGITS)],
    notes,
  };
}

// ---------------------------------------------------------------------------
// Renderings.

const esc = (s: string): string =>
  s.replace(/[&<>"']/gu, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const CSS = `
@page { size: A4; margin: 14mm; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: #000; background: #fff; margin: 0; font-size: 10.5pt; }
h1 { font-size: 15pt; margin: 0 0 2mm; }
h2 { font-size: 11.5pt; margin: 5mm 0 2mm; border-bottom: 0.4mm solid #000; padding-bottom: 0.8mm; }
.meta { margin: 0 0 3mm; }
.warn { border: 0.6mm solid #000; padding: 2mm 3mm; font-weight: bold; margin: 2mm 0; }
.mono { font-family: "DejaVu Sans Mono", "Liberation Mono", "Courier New", monospace; }
table.hex { border-collapse: collapse; }
table.hex td { padding: 1.2mm 2.6mm; font-size: 16pt; letter-spacing: 0.6mm; }
table.hex td.n { font-family: inherit; font-size: 9pt; letter-spacing: 0; color: #444; padding-right: 4mm; }
table.hex td.check { font-size: 12pt; border-left: 0.4mm solid #000; padding-left: 4mm; }
table.hex tr + tr td { border-top: 0.2mm dotted #888; }
.codex32 div { font-size: 14pt; letter-spacing: 0.5mm; margin: 1mm 0; }
.codex32 span, .node span { margin-right: 3.5mm; }
.node div { font-size: 12.5pt; margin: 0.8mm 0; }
ol.words { columns: 3; column-gap: 8mm; font-size: 13pt; margin: 0; padding-left: 8mm; }
ol.words li { margin: 0.6mm 0; }
.boxes { margin: 1.5mm 0; white-space: nowrap; }
.boxes .g { display: inline-block; margin-right: 2.8mm; }
.boxes .pad { visibility: hidden; }
.boxes .b { display: inline-block; width: 5.6mm; height: 7.5mm; border: 0.3mm solid #000; margin-right: -0.3mm; }
.notes { font-size: 9pt; padding-left: 5mm; }
.small { font-size: 8.5pt; color: #333; }
`;

/**
 * A complete, self-contained HTML document for the sheet: inline CSS only, no
 * scripts, no external resources, and a CSP that forbids loading anything —
 * for Electron's `webContents.printToPDF` or any browser's print.
 */
export function renderSheetHtml(sheet: PaperSheet): string {
  const hexRows = sheet.hex
    .map(
      (l) =>
        `<tr><td class="n">line ${l.index + 1}</td>${l.groups.map((g) => `<td class="mono">${esc(g)}</td>`).join('')}<td class="mono check">${esc(l.check)}</td></tr>`,
    )
    .join('\n');
  const codexLines = (sheet.codex32?.lines ?? []).map((line) => `<div class="mono">${line.map((g) => `<span>${esc(g)}</span>`).join('')}</div>`).join('\n');
  const nodeLines = sheet.nodeId.lines
    .map((line, i) => `<div class="mono">${i === 0 ? `<span>${esc(sheet.nodeId.prefix)}</span>` : '<span>&nbsp;&nbsp;</span>'}${line.map((g) => `<span>${esc(g)}</span>`).join('')}</div>`)
    .join('\n');
  const boxes = sheet.handwrittenNodeId
    .map(
      (line, i) =>
        `<div class="boxes">${i > 0 ? `<span class="g pad">${'<span class="b"></span>'.repeat(2)}</span>` : ''}${line.map((n) => `<span class="g">${'<span class="b"></span>'.repeat(n)}</span>`).join('')}</div>`,
    )
    .join('\n');
  const words = sheet.words
    ? `<h2>BIP39 words (the complete backup of this node)</h2>
<ol class="words mono">${sheet.words.words.map((w) => `<li>${esc(w)}</li>`).join('')}</ol>
${sheet.words.passphraseUsed ? '<p class="warn">These words need the BIP39 passphrase, which is not on this sheet.</p>' : ''}`
    : '';
  const meta = [sheet.label ? `Node: <b>${esc(sheet.label)}</b>` : '', sheet.date ? `Date: ${esc(sheet.date)}` : '']
    .filter((x) => x !== '')
    .join(' &nbsp;·&nbsp; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="referrer" content="no-referrer">
<title>${esc(sheet.title)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>${esc(sheet.title)}</h1>
${meta ? `<p class="meta">${meta}</p>` : ''}
<p class="warn">SECRET. Whoever reads this sheet controls the node's funds. Store it offline; do not photograph it.</p>
${words}
<h2>Node id (public — it identifies the node; compare it when you verify)</h2>
<div class="node">
${nodeLines}
</div>
${
  sheet.hex.length === 0
    ? ''
    : `<h2>hsm_secret as 64 hex digits${sheet.secretKind === 'mnemonic' ? ' — first 32 bytes of the BIP39 seed: they restore the node id and channels, NOT the on-chain wallet' : ''} — 4 lines, each with its check</h2>
<table class="hex">
<tr><td class="n"></td><td colspan="4"></td><td class="n check">check</td></tr>
${hexRows}
</table>
`
}${
  sheet.codex32 === null
    ? ''
    : `<h2>codex32 string (BIP-93, "cl", identifier ${esc(sheet.codex32.id)})${sheet.secretKind === 'mnemonic' ? ' — the same 32 bytes: NOT the on-chain wallet' : ''}</h2>
<div class="codex32">
${codexLines}
</div>
`
}<h2>Verification: write the node id that your typed-back copy gives</h2>
${boxes}
<p class="small">Checked on ______________ by ______________ &nbsp; ☐ node id matches${sheet.hex.length ? ' &nbsp; ☐ all line checks match' : ''}</p>
<h2>Notes</h2>
<ol class="notes">
${sheet.notes.map((n) => `<li>${esc(n)}</li>`).join('\n')}
</ol>
<p class="small">CLDCB paper sheet v${sheet.version}.</p>
</body>
</html>
`;
}

/** The sheet as plain text (for the terminal or a text printer). */
export function renderSheetText(sheet: PaperSheet): string {
  const out: string[] = [];
  out.push(sheet.title, '='.repeat(sheet.title.length));
  if (sheet.label) out.push(`Node: ${sheet.label}`);
  if (sheet.date) out.push(`Date: ${sheet.date}`);
  out.push('', 'SECRET. Whoever reads this sheet controls the node\'s funds. Store it offline.');
  const nodeId = (): void => {
    out.push('', 'Node id (public):');
    sheet.nodeId.lines.forEach((line, i) => out.push(`  ${i === 0 ? sheet.nodeId.prefix : '  '} ${line.join(' ')}`));
  };
  // A mnemonic node's sheet leads with the words: they are the whole backup.
  if (!sheet.words) nodeId();
  if (sheet.words) {
    out.push('', 'BIP39 words (the complete backup of this node):');
    const w = sheet.words.words;
    const rows = Math.ceil(w.length / 3);
    for (let r = 0; r < rows; r++) {
      const cells: string[] = [];
      for (let c = 0; c < 3; c++) {
        const i = c * rows + r;
        if (i < w.length) cells.push(`${String(i + 1).padStart(2)}. ${w[i]!.padEnd(10)}`);
      }
      out.push('  ' + cells.join('  '));
    }
    if (sheet.words.passphraseUsed) out.push('  These words need the BIP39 passphrase, which is not on this sheet.');
    nodeId();
  }
  if (sheet.hex.length > 0) {
    out.push('', `hsm_secret as ${HEX_DIGITS} hex digits${sheet.secretKind === 'mnemonic' ? ' (first 32 bytes of the BIP39 seed: NOT the on-chain wallet)' : ''}:`);
    for (const l of sheet.hex) out.push(`  line ${l.index + 1}:  ${l.groups.join(' ')}   check ${l.check}`);
  }
  if (sheet.codex32) {
    out.push('', `codex32 (identifier ${sheet.codex32.id}):`);
    for (const line of sheet.codex32.lines) out.push('  ' + line.join(' '));
  }
  out.push('', 'Verification: write the node id your typed-back copy gives:');
  sheet.handwrittenNodeId.forEach((line, i) => out.push((i > 0 ? '     ' : '  ') + line.map((n) => '_'.repeat(n)).join(' ')));
  out.push('', 'Notes:');
  sheet.notes.forEach((n, i) => out.push(`  ${i + 1}. ${n}`));
  out.push('');
  return out.join('\n');
}

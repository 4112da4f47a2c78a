/**
 * Text the plugin hands to lightningd's log must be plain printable ASCII.
 *
 * Why: lightningd writes every byte of a plugin's log message that is below 0x20 or at/above
 * 0x7f as `?` (Core Lightning v26.06 lightningd/log.c:673-676), so a UTF-8 "…" shows as "???"
 * and a message about a failed backup becomes hard to read exactly when it matters. The same
 * holds for the error text of a failed db_write, which lightningd quotes in its fatal line.
 *
 * Our messages come from many modules (the protocol client, CldcbError texts shared with the
 * CLI and the app, which may use typographic characters), so the plugin converts at its one
 * exit to lightningd instead of constraining every message everywhere.
 */

/** Typographic characters our messages use, with their ASCII spelling. */
const ASCII_SPELLING: Readonly<Record<string, string>> = {
  '\u2026': '...', // …
  '\u2014': '-', // —
  '\u2013': '-', // –
  '\u2018': "'",
  '\u2019': "'",
  '\u201c': '"',
  '\u201d': '"',
  '\u00d7': 'x', // ×
  '\u2265': '>=',
  '\u2264': '<=',
  '\u2260': '!=',
  '\u2192': '->',
  '\u2190': '<-',
  '\u2016': '||', // ‖
  '\u00b7': '-', // ·
  '\u2022': '-', // •
  '\u2713': 'ok', // ✓
  '\u2717': 'x', // ✗
  '\u00a0': ' ', // no-break space
  '\u00a7': 'S', // §
};

/**
 * `text` as printable ASCII: known typographic characters spelled out, line breaks and tabs
 * as spaces, anything else outside 0x20–0x7e as `?` (what lightningd would show anyway).
 */
export function asciiLogText(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (code >= 0x20 && code < 0x7f) out += ch;
    else if (ch === '\n' || ch === '\r' || ch === '\t') out += ' ';
    else out += ASCII_SPELLING[ch] ?? '?';
  }
  return out;
}

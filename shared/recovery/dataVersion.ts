/**
 * The operator's "last data_version you know of", typed by hand (from logs or monitoring). It
 * turns on the staleness check, so a value that does not parse must never be dropped silently
 * (issue 12 §2: "abc" or "12O" used to turn the check off): it is refused with the character at
 * fault. lightningd's data_version is an unsigned 32-bit counter (vars.data_version).
 */
export const MAX_DATA_VERSION = 0xffffffff;

export type DataVersionParse = { readonly ok: true; readonly value: number | undefined } | { readonly ok: false; readonly message: string };

const LOOKS_LIKE: Record<string, string> = { o: '0', O: '0', l: '1', I: '1', i: '1', S: '5', s: '5', B: '8', Z: '2' };

/** Empty → no value (the check is off, as the operator chose); digits → the value; anything else → why not. */
export function parseDataVersionText(text: string): DataVersionParse {
  const t = text.trim().replace(/[,_\s]/g, '');
  if (t === '') return { ok: true, value: undefined };
  const chars = Array.from(t);
  const bad = chars.findIndex((c) => !/[0-9]/.test(c));
  if (bad >= 0) {
    const c = chars[bad]!;
    const what = /[A-Za-z]/.test(c) ? `the letter "${c}"` : `"${c}"`;
    const hint = LOOKS_LIKE[c] ? ` Did you mean the digit ${LOOKS_LIKE[c]}?` : '';
    return {
      ok: false,
      message: `"${text.trim()}" is not a data_version: character ${bad + 1} is ${what}, and a data_version is a whole number written with the digits 0–9 only.${hint}`,
    };
  }
  const value = Number(t);
  if (value > MAX_DATA_VERSION) return { ok: false, message: `${t} is larger than any data_version (at most ${MAX_DATA_VERSION}, a 32-bit counter). Check the number.` };
  return { ok: true, value };
}

/**
 * The `staticbackup` RPC's output, `{"scb": ["<modern_scb_chan hex>", …]}`
 * (lightningd/peer_control.c json_staticbackup; cln-facts.md §6). The same
 * shape is what `recoverchannel` takes.
 */
import { z } from 'zod';
import { CldcbError } from '../errors';
import { decodeModernScbChanHex, type ModernScbChan } from './scbChan';

const StaticBackupSchema = z.object({
  scb: z.array(z.string().regex(/^[0-9a-fA-F]*$/, 'not a hex string')),
});

/** Parse JSON text, or take an already-parsed value, as unknown. @throws CldcbError bad_input. */
export function jsonInput(input: unknown, what: string): unknown {
  if (typeof input !== 'string') return input;
  // lightning-cli output is plain JSON; tolerate a UTF-8 BOM and comment lines starting with '#'.
  const text = input.replace(/^\uFEFF/, '').replace(/^\s*#.*$/gm, '');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new CldcbError('bad_input', `${what}: not valid JSON. Save the output of lightning-cli exactly as printed.`);
  }
}

/** The first zod issue as "field: message". */
export function zodProblem(e: z.ZodError): string {
  const i = e.issues[0];
  if (!i) return 'invalid';
  const path = i.path.length ? i.path.map(String).join('.') : '(top level)';
  return `${path}: ${i.message}`;
}

/**
 * Parse a `staticbackup` output (text or parsed JSON) into modern entries.
 * @param what names the input in errors, e.g. the file name.
 * @throws CldcbError bad_input / bad_hex / truncated / unsupported, naming the entry.
 */
export function parseStaticBackup(input: unknown, what = 'staticbackup'): ModernScbChan[] {
  const parsed = StaticBackupSchema.safeParse(jsonInput(input, what));
  if (!parsed.success)
    throw new CldcbError('bad_input', `${what}: not a staticbackup output ({"scb": ["hex", …]}): ${zodProblem(parsed.error)}.`);
  return parsed.data.scb.map((hex, i) => decodeModernScbChanHex(hex, `${what} scb[${i}]`));
}

/**
 * `cldcb-client macaroon print|attenuate|verify`: LND macaroons
 * (shared/credentials/macaroons.ts). The macaroon is read from --file or stdin,
 * never from the command line; the root key from --root-key-file. Outputs are
 * written with writeFileAtomic (mode 0600, never overwriting).
 */
import { CldcbError } from '../../shared/errors';
import { zeroize } from '../../shared/bytes';
import {
  MAX_MACAROON_BYTES,
  attenuateMacaroon,
  caveatsFromOptions,
  decodeMacaroon,
  describeMacaroon,
  encodeMacaroon,
  macaroonToText,
  parseGoRfc3339,
  parseRootKey,
  verifyMacaroon,
  type Macaroon,
  type MacaroonDescription,
} from '../../shared/credentials/macaroons';
import { parseOptions, requireOption, UsageError, type Command } from '../command';
import type { CliIo } from '../io';
import { readCredential, writeCredential } from './rune';

const USAGE = `usage: cldcb-client macaroon print [--file FILE] [--json]
       cldcb-client macaroon attenuate [--file FILE] CAVEATS [--out FILE] [--format binary|hex|base64|base64url] [--json]
       cldcb-client macaroon verify [--file FILE] --root-key-file FILE [--at TIME] [--ip ADDRESS] [--json]

The macaroon is read from --file FILE (LND's binary .macaroon file, or text:
hex as in the REST header, base64 or base64url), else from stdin (pasted with
echo off at a terminal, or piped). It is never taken from the command line.

macaroon print: what \`lncli printmacaroon\` shows (version, location, root key
  id, permissions, caveats), plus the identifier, signature and plain words.
macaroon attenuate: add caveats without the root key (like \`lncli
  constrainmacaroon\`). Caveats, in this order:
    --timeout SECONDS       valid for SECONDS from now (time-before)
    --expires TIME          valid until TIME, RFC 3339 (2026-12-01T00:00:00Z)
    --ip ADDRESS            only from this IP address (ipaddr)
    --ip-range CIDR         only from this network, e.g. 10.0.0.0/8 (iprange)
    --custom-name NAME [--custom-condition COND]   lnd-custom NAME COND
    --caveat TEXT           any caveat LND accepts (time-before, ipaddr, iprange,
                            lnd-custom, declared); repeatable
  Output: --out FILE (binary by default, as lncli writes; mode 0600; never
  overwritten), or without --out the text form on stdout (hex by default).
macaroon verify: check the macaroon as LND would, with its root key:
    --root-key-file FILE    the 32-byte root key: 64 hex digits, or 32 raw bytes
    --at TIME               evaluate time-before at TIME instead of now
    --ip ADDRESS            the client's address, for ipaddr/iprange caveats
  Exit status: 0 valid, 1 invalid (the reasons are printed), 3 valid only if a
  condition that cannot be checked here holds (e.g. no --ip, custom caveats).
`;

const ROOT_KEY_FILE_MAX = 4096;
const TEXT_MAX = 4 * MAX_MACAROON_BYTES;

async function macaroonFromInput(io: CliIo, file: string | undefined): Promise<Macaroon> {
  const bytes = await readCredential(io, file, 'macaroon', '--file', TEXT_MAX);
  try {
    return decodeMacaroon(bytes);
  } catch (e) {
    if (e instanceof CldcbError && file !== undefined) throw new CldcbError(e.code, `${file}: ${e.message}`);
    throw e;
  } finally {
    zeroize(bytes);
  }
}

function printText(d: MacaroonDescription): string {
  const lines: string[] = [];
  lines.push('version: 2');
  lines.push(`location: ${d.location}`);
  if (d.lncli) {
    lines.push(`root key id: ${d.lncli.root_key_id}`);
    lines.push(`permissions: ${d.lncli.permissions.join(', ') || '(none)'}`);
  } else lines.push('identifier: not in LND’s format (LND rejects this macaroon)');
  lines.push(d.caveats.length ? 'caveats:' : 'caveats: none');
  for (const c of d.caveats)
    lines.push(`  ${c.index}. ${c.kind === 'first-party' ? c.condition : `(third party) ${c.condition}`}`);
  lines.push(`identifier: ${d.identifierHex}`);
  lines.push(`signature: ${d.signatureHex}`);
  lines.push('in plain words:');
  for (const s of d.summary) lines.push(`  - ${s}`);
  return lines.join('\n') + '\n';
}

const FORMATS = ['binary', 'hex', 'base64', 'base64url'] as const;
type OutFormat = (typeof FORMATS)[number];

export const macaroonCommand: Command = {
  name: 'macaroon',
  summary: 'print, attenuate or verify LND macaroons',
  usage: USAGE,
  async run(argv, io) {
    const [sub, ...rest] = argv;
    if (sub === 'print') {
      const { values } = parseOptions(rest, { file: { type: 'string' }, json: { type: 'boolean' } });
      const d = describeMacaroon(await macaroonFromInput(io, values.file));
      io.out(values.json ? `${JSON.stringify(d)}\n` : printText(d));
      return 0;
    }
    if (sub === 'attenuate') {
      const { values } = parseOptions(rest, {
        file: { type: 'string' },
        timeout: { type: 'string' },
        expires: { type: 'string' },
        ip: { type: 'string' },
        'ip-range': { type: 'string' },
        'custom-name': { type: 'string' },
        'custom-condition': { type: 'string' },
        caveat: { type: 'string', multiple: true },
        out: { type: 'string' },
        format: { type: 'string' },
        json: { type: 'boolean' },
      });
      const format = (values.format ?? (values.out !== undefined ? 'binary' : 'hex')) as OutFormat;
      if (!FORMATS.includes(format))
        throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, not "${values.format}"`);
      if (format === 'binary' && values.out === undefined)
        throw new UsageError('binary output needs --out FILE (or choose --format hex|base64|base64url)');
      if (values['custom-condition'] !== undefined && values['custom-name'] === undefined)
        throw new UsageError('--custom-condition needs --custom-name');
      if (values.timeout !== undefined && !/^[0-9]+$/.test(values.timeout))
        throw new UsageError('--timeout must be a whole number of seconds');
      const caveats = caveatsFromOptions({
        timeoutSeconds: values.timeout === undefined ? undefined : Number(values.timeout),
        expires: values.expires,
        ip: values.ip,
        ipRange: values['ip-range'],
        custom:
          values['custom-name'] === undefined
            ? undefined
            : { name: values['custom-name'], condition: values['custom-condition'] },
        raw: values.caveat,
      });
      if (caveats.length === 0)
        throw new UsageError('give at least one caveat (e.g. --timeout 3600, --ip ADDRESS)');
      const m = attenuateMacaroon(await macaroonFromInput(io, values.file), caveats);
      const data = format === 'binary' ? encodeMacaroon(m) : macaroonToText(m, format);
      if (values.out !== undefined) {
        writeCredential(values.out, typeof data === 'string' ? `${data}\n` : data);
        io.out(
          values.json
            ? `${JSON.stringify({ out: values.out, format, added: caveats })}\n`
            : `wrote the macaroon to ${values.out} with ${caveats.length} new caveat${caveats.length === 1 ? '' : 's'}:\n${caveats.map((c) => `  ${c}\n`).join('')}`,
        );
      } else
        io.out(
          values.json
            ? `${JSON.stringify({ macaroon: data, format, added: caveats })}\n`
            : `${data as string}\n`,
        );
      return 0;
    }
    if (sub === 'verify') {
      const { values } = parseOptions(rest, {
        file: { type: 'string' },
        'root-key-file': { type: 'string' },
        at: { type: 'string' },
        ip: { type: 'string' },
        json: { type: 'boolean' },
      });
      const keyFile = requireOption(values['root-key-file'], '--root-key-file FILE');
      let now: Date | undefined;
      if (values.at !== undefined) {
        const n = parseGoRfc3339(values.at);
        if (n === undefined) throw new UsageError('--at must be an RFC 3339 time like 2026-12-01T00:00:00Z');
        now = new Date(Number(n / 1_000_000n));
      }
      const m = await macaroonFromInput(io, values.file);
      const keyBytes = await readCredential(io, keyFile, 'root key', '--root-key-file', ROOT_KEY_FILE_MAX);
      let rootKey: Uint8Array;
      try {
        rootKey = parseRootKey(keyBytes);
      } catch (e) {
        if (e instanceof CldcbError) throw new CldcbError(e.code, `${keyFile}: ${e.message}`);
        throw e;
      } finally {
        zeroize(keyBytes);
      }
      let v;
      try {
        v = verifyMacaroon(m, rootKey, { now, ip: values.ip });
      } finally {
        zeroize(rootKey);
      }
      if (values.json) io.out(`${JSON.stringify(v)}\n`);
      else {
        const head = {
          valid: 'valid',
          invalid: 'INVALID',
          conditional: 'valid only if the conditions below hold',
        }[v.verdict];
        const lines = [
          `${head}`,
          `signature: ${v.signatureValid ? 'valid for this root key' : 'INVALID for this root key'}`,
        ];
        for (const c of v.caveats)
          lines.push(`  caveat ${c.index} (${c.condition}): ${c.status} — ${c.reason}`);
        io.out(lines.join('\n') + '\n');
      }
      return v.verdict === 'valid' ? 0 : v.verdict === 'invalid' ? 1 : 3;
    }
    throw new UsageError(
      sub === undefined
        ? 'missing "print", "attenuate" or "verify"'
        : `unknown subcommand "${sub}" (print, attenuate or verify)`,
    );
  },
};

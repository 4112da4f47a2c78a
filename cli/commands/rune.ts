/**
 * `cldcb-client rune mint|restrict|decode`: Core Lightning runes after a recovery
 * (cln-facts §9; shared/credentials/runes.ts).
 *
 * A rune is a credential: it is read from a file or stdin (or pasted at the
 * terminal with echo off), never taken from the command line, and written with
 * writeFileAtomic (mode 0600, never overwriting).
 *
 * Also home of `readCredential`, how the credential commands (rune, macaroon)
 * read a credential from --…-file or stdin.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CldcbError } from '../../shared/errors';
import { fromUtf8, zeroize } from '../../shared/bytes';
import { forgetSecret } from '../../shared/secrets/hsmSecret';
import {
  checkRuneAuthentic,
  decodeRune,
  describeRune,
  encodeRune,
  hsmtoolMakeruneMasterSecret,
  mintRune,
  restrictRune,
  restrictionsFromCreateruneJson,
  restrictionsFromOptions,
  runeMasterSecret,
  type Rune,
  type RuneAuthenticity,
  type RuneRestriction,
} from '../../shared/credentials/runes';
import { writeFileAtomic } from '../../shared/node/atomicFile';
import { parseOptions, requireOption, UsageError, type Command } from '../command';
import type { CliIo } from '../io';
import { FILE_KINDS_HELP, PASSPHRASE_HELP, loadSecretForCli } from './nodeid';

// ---------------------------------------------------------------------------------------------
// Reading credentials

function readFd(fd: number, what: string, max: number): Uint8Array {
  const chunks: Uint8Array[] = [];
  let n = 0;
  for (;;) {
    const buf = new Uint8Array(65536);
    const r = readSync(fd, buf, 0, buf.length, null);
    if (r === 0) break;
    n += r;
    if (n > max) {
      zeroize(buf, ...chunks);
      throw new CldcbError(
        'bad_length',
        `${what} is larger than ${max} bytes: not a credential. Is this the right input?`,
      );
    }
    chunks.push(buf.slice(0, r));
    zeroize(buf);
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  zeroize(...chunks);
  return out;
}

/** All of stdin (a pipe or a file), up to `max` bytes. */
async function readStdin(max: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let n = 0;
  try {
    for await (const chunk of process.stdin as AsyncIterable<Uint8Array>) {
      n += chunk.length;
      chunks.push(new Uint8Array(chunk));
      chunk.fill(0);
      if (n > max) {
        zeroize(...chunks);
        throw new CldcbError(
          'bad_length',
          `stdin has more than ${max} bytes: not a credential. Is this the right input?`,
        );
      }
    }
  } catch (e) {
    if (e instanceof CldcbError) throw e;
    throw new CldcbError(
      'io_error',
      `stdin: cannot read it (${(e as NodeJS.ErrnoException).code ?? 'I/O error'}).`,
    );
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  zeroize(...chunks);
  return out;
}

/**
 * A credential's bytes from `file`, else from stdin: pasted at a terminal (echo off) or piped.
 * @throws CldcbError file_not_found / io_error / bad_length / bad_input (empty).
 */
export async function readCredential(
  io: CliIo,
  file: string | undefined,
  what: string,
  flag: string,
  max: number,
): Promise<Uint8Array> {
  let bytes: Uint8Array;
  if (file !== undefined) {
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new CldcbError('file_not_found', `${file}: no such file. Check the path.`);
      if (code === 'EISDIR')
        throw new CldcbError('bad_input', `${file} is a directory; give the ${what} file.`);
      throw new CldcbError('io_error', `${file}: cannot open it (${code ?? 'I/O error'}).`);
    }
    try {
      if (fstatSync(fd).isDirectory())
        throw new CldcbError('bad_input', `${file} is a directory; give the ${what} file.`);
      bytes = readFd(fd, file, max);
    } catch (e) {
      if (e instanceof CldcbError) throw e;
      throw new CldcbError(
        'io_error',
        `${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? 'I/O error'}).`,
      );
    } finally {
      closeSync(fd);
    }
    if (bytes.length === 0) throw new CldcbError('bad_input', `${file} is empty; expected the ${what}.`);
    return bytes;
  }
  if (io.interactive) {
    const text = await io.askSecret(`Paste the ${what} (not shown) and press Enter: `);
    if (text.trim() === '')
      throw new CldcbError('bad_input', `no ${what} was pasted. Give ${flag} FILE or pipe it on stdin.`);
    return new TextEncoder().encode(text);
  }
  bytes = await readStdin(max);
  if (bytes.length === 0)
    throw new CldcbError('bad_input', `no ${what} on stdin: give ${flag} FILE, or pipe the ${what} in.`);
  return bytes;
}

/** Write a credential to `out` (mode 0600, never overwriting). */
export function writeCredential(out: string, data: Uint8Array | string): void {
  writeFileAtomic(out, data, { mode: 0o600 });
}

// ---------------------------------------------------------------------------------------------
// rune

const RUNE_MAX = 65536;

const USAGE = `usage: cldcb-client rune mint --hsm-secret FILE [--unique-id N] [restrictions] [--out FILE] [--json]
       cldcb-client rune restrict [--rune-file FILE] [restrictions] [--hsm-secret FILE] [--out FILE] [--json]
       cldcb-client rune decode [--rune-file FILE] [--hsm-secret FILE] [--json]

rune mint: make a rune as \`lightning-cli createrune\` does on the node that owns
  --hsm-secret (master secret = makesecret("commando") over the whole secret;
  for mnemonic nodes this is what lightningd uses, NOT what
  \`lightning-hsmtool makerune\` prints).
  --unique-id N       the rune's unique id (default 0: the node's first rune).
                      Core Lightning counts up from 0; reusing an id the node
                      has blacklisted gives a rune the node refuses.
  --hsmtool-makerune  reproduce \`lightning-hsmtool makerune\` instead (uses only
                      the first 32 bytes: wrong for mnemonic nodes).
rune restrict: add restrictions to a rune (no secret needed; nobody can remove
  them). With --hsm-secret, first checks that the rune is that node's.
rune decode: show a rune's unique id and what it allows, in plain words. With
  --hsm-secret, also says whether the node made it (exit 1 if not).

The rune is read from --rune-file FILE, else from stdin (pasted with echo off
at a terminal, or piped). It is never taken from the command line.
Output: the rune and a newline on stdout, or with --out FILE written to FILE
(mode 0600; an existing file is never overwritten). --json prints JSON.

Restrictions (each option adds one restriction, in the order given; all must hold):
  --method NAME        may call only NAME; repeat for a choice (listpeers or getinfo)
  --readonly           createrune's "readonly": list*, get*, summary; not listdatastore
  --id NODEID          only for this peer (66 hex digits)
  --pnum N             only with exactly N parameters
  --expires TIME       expires at TIME: RFC 3339 (2026-12-01T00:00:00Z) or unix seconds
  --rate N             at most N uses per minute
  --restriction TEXT   any restriction in rune syntax, alternatives with "|", e.g.
                       'method^list|method^get' (write \\\\ \\| \\& for \\ | &); repeatable
  --restrictions-json JSON  createrune's restrictions parameter, e.g.
                       '[["method=listpeers"],["time<1796083200"]]'

${FILE_KINDS_HELP}

${PASSPHRASE_HELP}
`;

const RESTRICTION_OPTIONS = {
  method: { type: 'string', multiple: true },
  readonly: { type: 'boolean' },
  id: { type: 'string' },
  pnum: { type: 'string' },
  expires: { type: 'string' },
  rate: { type: 'string' },
  restriction: { type: 'string', multiple: true },
  'restrictions-json': { type: 'string' },
} as const;

type ParsedOptions = NonNullable<ParseArgsConfig['options']>;

function jsonRestrictions(text: string): RuneRestriction[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError('--restrictions-json is not valid JSON (quote it for the shell)');
  }
  return restrictionsFromCreateruneJson(parsed);
}

/**
 * The restriction options in the order they were given on the command line (all --method
 * options form one restriction, at the place of the first). `argv` was already checked by
 * parseOptions with the same `options`.
 */
function restrictionsFrom(argv: string[], options: ParsedOptions): RuneRestriction[] {
  const { tokens, values } = parseArgs({ args: argv, options, strict: true, tokens: true });
  const out: RuneRestriction[] = [];
  let methodsDone = false;
  for (const t of tokens) {
    if (t.kind !== 'option') continue;
    const v = t.value ?? '';
    switch (t.name) {
      case 'method':
        if (!methodsDone) out.push(...restrictionsFromOptions({ methods: values.method as string[] }));
        methodsDone = true;
        break;
      case 'readonly':
        out.push(...restrictionsFromOptions({ readonly: true }));
        break;
      case 'id':
        out.push(...restrictionsFromOptions({ peerId: v }));
        break;
      case 'pnum':
        out.push(...restrictionsFromOptions({ pnum: v }));
        break;
      case 'expires':
        out.push(...restrictionsFromOptions({ expires: v }));
        break;
      case 'rate':
        out.push(...restrictionsFromOptions({ rate: v }));
        break;
      case 'restriction':
        out.push(...restrictionsFromOptions({ raw: [v] }));
        break;
      case 'restrictions-json':
        out.push(...jsonRestrictions(v));
        break;
    }
  }
  return out;
}

/** The node's master secret from --hsm-secret; the caller zeroizes it. */
async function masterSecretFrom(
  io: CliIo,
  path: string,
  passphraseFile: string | undefined,
  hsmtool: boolean,
): Promise<Uint8Array> {
  const { secret } = await loadSecretForCli(io, path, passphraseFile);
  try {
    if (hsmtool && secret.secretData.length === 64)
      io.err(
        'warning: --hsmtool-makerune on a mnemonic hsm_secret: the node does NOT accept this rune (lightning-hsmtool makerune is wrong here).\n',
      );
    return hsmtool ? hsmtoolMakeruneMasterSecret(secret.secretData) : runeMasterSecret(secret.secretData);
  } finally {
    forgetSecret(secret);
  }
}

async function runeFromInput(io: CliIo, file: string | undefined): Promise<Rune> {
  const bytes = await readCredential(io, file, 'rune', '--rune-file', RUNE_MAX);
  try {
    return decodeRune(fromUtf8(bytes, file ?? 'stdin'));
  } finally {
    zeroize(bytes);
  }
}

function descriptionJson(rune: Rune, auth: RuneAuthenticity | undefined, withRune: boolean) {
  const d = describeRune(rune);
  return {
    ...(withRune ? { rune: d.rune } : {}),
    unique_id: d.uniqueId ?? null,
    ...(d.version !== undefined ? { version: d.version } : {}),
    ...(auth
      ? { authentic: auth.authentic, ...(auth.reason ? { not_authentic_reason: auth.reason } : {}) }
      : {}),
    restrictions: d.restrictions.map((r) => ({
      alternatives: r.alternatives.map(({ field, condition, value }) => ({ field, condition, value })),
      text: r.text,
    })),
    summary: d.summary,
    ...(d.unrestricted
      ? {
          warning_unrestricted_rune:
            'This rune has no restrictions: whoever holds it can do anything the node can, including spending its funds.',
        }
      : {}),
  };
}

function descriptionText(rune: Rune, auth: RuneAuthenticity | undefined): string {
  const d = describeRune(rune);
  const lines = [
    `unique id: ${d.uniqueId ?? '(none)'}${d.version !== undefined ? ` (version ${d.version})` : ''}`,
  ];
  if (auth)
    lines.push(
      auth.authentic ? 'authentic: yes, made from this node’s secret' : `authentic: NO — ${auth.reason}`,
    );
  lines.push(d.unrestricted ? 'restrictions: none' : 'restrictions (all must hold):');
  for (const s of d.summary) lines.push(`  - ${s}`);
  return lines.join('\n') + '\n';
}

/** Print or write a new rune. */
function emitRune(
  io: CliIo,
  rune: Rune,
  out: string | undefined,
  json: boolean | undefined,
  auth?: RuneAuthenticity,
): void {
  const text = encodeRune(rune);
  if (out !== undefined) {
    writeCredential(out, `${text}\n`);
    if (json) io.out(`${JSON.stringify({ out, ...descriptionJson(rune, auth, false) })}\n`);
    else io.out(`wrote the rune to ${out}\n${descriptionText(rune, auth)}`);
    return;
  }
  if (json) io.out(`${JSON.stringify(descriptionJson(rune, auth, true))}\n`);
  else io.out(`${text}\n`);
  if (describeRune(rune).unrestricted && !json)
    io.err(
      'warning: this rune has no restrictions: whoever holds it can do anything the node can, including spending its funds.\n',
    );
}

export const runeCommand: Command = {
  name: 'rune',
  summary: 'mint, restrict or decode Core Lightning runes (commando/createrune credentials)',
  usage: USAGE,
  async run(argv, io) {
    const [sub, ...rest] = argv;
    if (sub === 'mint') {
      const options = {
        ...RESTRICTION_OPTIONS,
        'hsm-secret': { type: 'string' },
        'passphrase-file': { type: 'string' },
        'unique-id': { type: 'string' },
        'hsmtool-makerune': { type: 'boolean' },
        out: { type: 'string' },
        json: { type: 'boolean' },
      } as const;
      const { values } = parseOptions(rest, options);
      const path = requireOption(values['hsm-secret'], '--hsm-secret FILE');
      const restrictions = restrictionsFrom(rest, options);
      const uid = values['unique-id'] ?? '0';
      const secret = await masterSecretFrom(
        io,
        path,
        values['passphrase-file'],
        values['hsmtool-makerune'] === true,
      );
      try {
        emitRune(io, mintRune(secret, uid, restrictions), values.out, values.json);
      } finally {
        zeroize(secret);
      }
      return 0;
    }
    if (sub === 'restrict') {
      const options = {
        ...RESTRICTION_OPTIONS,
        'rune-file': { type: 'string' },
        'hsm-secret': { type: 'string' },
        'passphrase-file': { type: 'string' },
        out: { type: 'string' },
        json: { type: 'boolean' },
      } as const;
      const { values } = parseOptions(rest, options);
      const restrictions = restrictionsFrom(rest, options);
      if (restrictions.length === 0)
        throw new UsageError('give at least one restriction (e.g. --method listpeers, --expires TIME)');
      const rune = await runeFromInput(io, values['rune-file']);
      let auth: RuneAuthenticity | undefined;
      if (values['hsm-secret'] !== undefined) {
        const secret = await masterSecretFrom(io, values['hsm-secret'], values['passphrase-file'], false);
        try {
          auth = checkRuneAuthentic(rune, secret);
        } finally {
          zeroize(secret);
        }
        if (!auth.authentic)
          throw new CldcbError(
            'not_authentic',
            `the rune is not this node's: ${auth.reason}. Nothing was written.`,
          );
      }
      const restricted = restrictRune(rune, restrictions);
      // Restrictions added to an authentic rune keep it authentic (the hash chain continues).
      emitRune(io, restricted, values.out, values.json, auth);
      return 0;
    }
    if (sub === 'decode') {
      const { values } = parseOptions(rest, {
        'rune-file': { type: 'string' },
        'hsm-secret': { type: 'string' },
        'passphrase-file': { type: 'string' },
        json: { type: 'boolean' },
      });
      const rune = await runeFromInput(io, values['rune-file']);
      let auth: RuneAuthenticity | undefined;
      if (values['hsm-secret'] !== undefined) {
        const secret = await masterSecretFrom(io, values['hsm-secret'], values['passphrase-file'], false);
        try {
          auth = checkRuneAuthentic(rune, secret);
        } finally {
          zeroize(secret);
        }
      }
      io.out(
        values.json ? `${JSON.stringify(descriptionJson(rune, auth, false))}\n` : descriptionText(rune, auth),
      );
      return auth && !auth.authentic ? 1 : 0;
    }
    throw new UsageError(
      sub === undefined
        ? 'missing "mint", "restrict" or "decode"'
        : `unknown subcommand "${sub}" (mint, restrict or decode)`,
    );
  },
};

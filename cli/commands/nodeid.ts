/**
 * `cldcb-client nodeid`: the node id of an hsm_secret, like
 * `lightning-hsmtool getnodeid FILE` (cln-facts §2, §5).
 *
 * Also home of `loadSecretForCli`, the one way the secret commands
 * (nodeid, getsecret, exportsecret) read --hsm-secret and --passphrase-file.
 */
import { forgetSecret, nodeIdHex, type LoadedSecret, type MnemonicMeaning } from '../../shared/secrets/hsmSecret';
import { readSecretFile } from '../../shared/node/secretFiles';
import { parseOptions, requireOption, UsageError, type Command } from '../command';
import { passphraseFrom, type CliIo } from '../io';

/** The `format` reported by `nodeid --json`: the binary format, or the kind of text copy. */
export type NodeidFormat = LoadedSecret['format'] | 'hex' | 'codex32' | 'words';

export function formatLabel(secret: LoadedSecret): NodeidFormat {
  return secret.source === 'file' ? secret.format : secret.source;
}

/** Parse `--words-meaning`. */
export function wordsMeaning(v: string | undefined): MnemonicMeaning | undefined {
  if (v === undefined) return undefined;
  if (v === 'mnemonic-format' || v === 'legacy-generatehsm') return v;
  throw new UsageError(`--words-meaning must be mnemonic-format or legacy-generatehsm, not "${v}"`);
}

export const PASSPHRASE_HELP = `Passphrases (never on the command line):
  A binary hsm_secret that needs one (encrypted 73-byte file: its password;
  mnemonic with passphrase: the BIP39 passphrase) reads it from
  --passphrase-file FILE (one trailing newline is dropped), else asks on the
  terminal with echo off, else fails (no terminal).
  A text file of BIP39 words uses --passphrase-file as its BIP39 passphrase if
  given, and no passphrase otherwise (it is never asked for).
  Giving --passphrase-file for a file that takes no passphrase is an error,
  as in Core Lightning ("Passphrase provided but not needed").`;

export const FILE_KINDS_HELP = `--hsm-secret FILE may be a binary Core Lightning hsm_secret (plain 32 bytes,
encrypted 73 bytes, mnemonic, mnemonic with passphrase) or a text file holding
64 hex digits (spaces/dashes/line breaks allowed), a codex32 "cl1…" string, or
12–24 BIP39 English words.`;

/**
 * Load --hsm-secret for a CLI command, asking for a passphrase only when needed.
 * @returns the secret and the passphrase that was used (if any).
 */
export async function loadSecretForCli(
  io: CliIo,
  path: string,
  passphraseFile: string | undefined,
  mnemonicMeaning?: MnemonicMeaning,
): Promise<{ secret: LoadedSecret; passphrase?: string }> {
  let used: string | undefined;
  if (passphraseFile !== undefined) used = await passphraseFrom(io, passphraseFile, path);
  const secret = await readSecretFile(
    path,
    used !== undefined
      ? used
      : async () => {
          used = await passphraseFrom(io, undefined, path);
          return used;
        },
    { mnemonicMeaning },
  );
  return { secret, passphrase: used };
}

export const nodeidCommand: Command = {
  name: 'nodeid',
  summary: 'print the node id of an hsm_secret (like lightning-hsmtool getnodeid)',
  usage: `usage: cldcb-client nodeid --hsm-secret FILE [--passphrase-file FILE] [--json]

Prints the node id (66 hex digits) and a newline, nothing else.
  --json   prints {"node_id":"…","format":"…"} instead, where format is the
           binary hsm_secret format (plain | encrypted | mnemonic |
           mnemonic-passphrase) or, for a text file, what it holds
           (hex | codex32 | words).

${FILE_KINDS_HELP}

${PASSPHRASE_HELP}
`,
  async run(argv, io) {
    const { values } = parseOptions(argv, {
      'hsm-secret': { type: 'string' },
      'passphrase-file': { type: 'string' },
      json: { type: 'boolean' },
    });
    const path = requireOption(values['hsm-secret'], '--hsm-secret FILE');
    const { secret } = await loadSecretForCli(io, path, values['passphrase-file']);
    try {
      const id = nodeIdHex(secret);
      io.out(values.json ? `${JSON.stringify({ node_id: id, format: formatLabel(secret) })}\n` : `${id}\n`);
      return 0;
    } finally {
      forgetSecret(secret);
    }
  },
};

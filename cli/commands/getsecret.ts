/**
 * `cldcb-client getsecret`: what `lightning-hsmtool getsecret FILE [ID]` prints
 * (cln-facts §4, §5): the codex32 "cl1…" string of a 32-byte secret (an id is
 * required), or the words of a mnemonic-format secret (the id is ignored).
 */
import { forgetSecret, getsecretText } from '../../shared/secrets/hsmSecret';
import { parseOptions, printJson, requireOption, type Command } from '../command';
import { FILE_KINDS_HELP, PASSPHRASE_HELP, loadSecretForCli, wordsMeaning } from './nodeid';

export const getsecretCommand: Command = {
  name: 'getsecret',
  summary: 'print an hsm_secret as codex32 or words (like lightning-hsmtool getsecret)',
  usage: `usage: cldcb-client getsecret --hsm-secret FILE [--id ID] [--passphrase-file FILE] [--words-meaning mnemonic-format|legacy-generatehsm] [--json]

Prints what \`lightning-hsmtool getsecret FILE [ID]\` prints, and a newline:
  plain 32-byte secret: its codex32 string "cl10<ID>s…" — --id (4 lower-case
    bech32 characters, e.g. "leet") is required;
  mnemonic (with or without passphrase): the words; --id is ignored. The
    BIP39 passphrase is not printed: keep it separately.
  encrypted 73-byte file: lightning-hsmtool refuses ("Encrypted hsm_secret");
    cldcb-client decrypts it with its password and prints the codex32 string of
    the secret inside (the same as after \`lightning-hsmtool decrypt\`).
The output is the secret itself: print it only where nobody else can read it.
--json prints {"secret":"…","kind":"codex32"|"words"} (and on failure the error).

--words-meaning (text files of words only): mnemonic-format (default) treats
  the words as a v25.12+ mnemonic hsm_secret and prints them back;
  legacy-generatehsm treats them as the old \`hsmtool generatehsm\` plain file
  (first 32 bytes of the seed) and prints its codex32 string.

${FILE_KINDS_HELP}

${PASSPHRASE_HELP}
`,
  async run(argv, io) {
    const { values } = parseOptions(argv, {
      'hsm-secret': { type: 'string' },
      id: { type: 'string' },
      'passphrase-file': { type: 'string' },
      'words-meaning': { type: 'string' },
      json: { type: 'boolean' },
    });
    const path = requireOption(values['hsm-secret'], '--hsm-secret FILE');
    const meaning = wordsMeaning(values['words-meaning']);
    const { secret } = await loadSecretForCli(io, path, values['passphrase-file'], meaning);
    try {
      const text = getsecretText(secret, values.id);
      if (values.json) printJson(io, { secret: text, kind: text.startsWith('cl1') ? 'codex32' : 'words' });
      else io.out(`${text}\n`);
      return 0;
    } finally {
      forgetSecret(secret);
    }
  },
};

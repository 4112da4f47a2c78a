/**
 * `cldcb-client exportsecret`: write the secret of --hsm-secret (any binary
 * format or text copy) as a Core Lightning hsm_secret file — mode 0400, written
 * atomically, never overwriting (cln-facts §1).
 */
import { existsSync } from 'node:fs';
import { CldcbError } from '../../shared/errors';
import { zeroize } from '../../shared/bytes';
import {
  detectHsmSecretFormat,
  encodeHsmSecretFile,
  forgetSecret,
  nodeIdHex,
  HSM_SECRET_FORMAT_NAMES,
} from '../../shared/secrets/hsmSecret';
import { writeHsmSecretFile } from '../../shared/node/secretFiles';
import { parseOptions, printJson, requireOption, UsageError, type Command } from '../command';
import { FILE_KINDS_HELP, PASSPHRASE_HELP, loadSecretForCli, wordsMeaning } from './nodeid';

export const exportsecretCommand: Command = {
  name: 'exportsecret',
  summary: 'write an hsm_secret file (plain or mnemonic format) from any secret file',
  usage: `usage: cldcb-client exportsecret --hsm-secret FILE --out FILE --format plain|mnemonic [--passphrase-file FILE] [--words-meaning mnemonic-format|legacy-generatehsm] [--json]

Writes --out as a Core Lightning hsm_secret (mode 0400; an existing file is
never overwritten) and prints one line saying what was written (--json:
{"file","format","node_id"}, and on failure the error).
  --format plain     the 32-byte file. From an encrypted file: decrypted with
                     its password. Refused for a mnemonic secret: its first 32
                     bytes would keep the node id and channels but give the
                     node a different on-chain wallet and makesecret/rune/SCB keys.
  --format mnemonic  the v25.12+ mnemonic file (32 bytes + words), keeping the
                     BIP39 passphrase the secret was loaded with (then written
                     as "mnemonic with passphrase"). Needs the words: refused
                     for plain/encrypted/hex/codex32 secrets, and for words read
                     with --words-meaning legacy-generatehsm (that would change
                     the wallet the other way).
--words-meaning (text files of words only): mnemonic-format (default) or
  legacy-generatehsm (the old \`hsmtool generatehsm\` file: first 32 bytes of the
  seed; export it with --format plain).

${FILE_KINDS_HELP}

${PASSPHRASE_HELP}
`,
  async run(argv, io) {
    const { values } = parseOptions(argv, {
      'hsm-secret': { type: 'string' },
      out: { type: 'string' },
      format: { type: 'string' },
      'passphrase-file': { type: 'string' },
      'words-meaning': { type: 'string' },
      json: { type: 'boolean' },
    });
    const path = requireOption(values['hsm-secret'], '--hsm-secret FILE');
    const out = requireOption(values.out, '--out FILE');
    const format = requireOption(values.format, '--format plain|mnemonic');
    if (format !== 'plain' && format !== 'mnemonic') throw new UsageError(`--format must be plain or mnemonic, not "${format}"`);
    const meaning = wordsMeaning(values['words-meaning']);
    // Fail before any passphrase prompt or Argon2 work.
    if (existsSync(out))
      throw new CldcbError('file_exists', `${out} already exists. Nothing was overwritten; choose another path or move the existing file away first.`);

    const { secret, passphrase } = await loadSecretForCli(io, path, values['passphrase-file'], meaning);
    let bytes: Uint8Array | undefined;
    try {
      if (format === 'plain') bytes = await encodeHsmSecretFile(secret, 'plain');
      else if (secret.format === 'mnemonic-passphrase') bytes = await encodeHsmSecretFile(secret, 'mnemonic-passphrase', passphrase);
      else bytes = await encodeHsmSecretFile(secret, 'mnemonic');
      writeHsmSecretFile(out, bytes);
      const written = detectHsmSecretFormat(bytes);
      if (values.json) printJson(io, { file: out, format: written, node_id: nodeIdHex(secret) });
      else io.out(`Wrote ${out}: ${HSM_SECRET_FORMAT_NAMES[written]}, mode 0400, node id ${nodeIdHex(secret)}.\n`);
      return 0;
    } finally {
      zeroize(bytes);
      forgetSecret(secret);
    }
  },
};

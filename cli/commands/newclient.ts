/**
 * `cldcb-client newclient FILE`: make a client key (cldcb-protocol §1.3).
 *
 * Writes exactly what the original writes — `# cid = c…\n# cpk = <64 hex>\n` (148 bytes) —
 * with mode 0400, atomically, and never over an existing file. Unlike the original it also
 * prints the cid (the original's README promised it; the program printed nothing), so the
 * operator can hand it to the server operator (`cldcb-server add … <cid>`).
 */
import { writeFileAtomic } from '../../shared/node/atomicFile';
import { newClientKey } from '../../shared/node/installCeremony';
import { zeroize } from '../../shared/bytes';
import { nobleSecp } from '../../shared/cldcb/curve';
import { formatClientId, formatClientKeyFile } from '../../shared/cldcb/ids';
import { parseOptions, printJson, UsageError, type Command } from '../command';

export const newclientCommand: Command = {
  name: 'newclient',
  summary: 'make a client key file for the cldcb plugin (prints the client id)',
  usage: `usage: cldcb-client newclient FILE [--json]

Makes a new client key and writes it to FILE as
  # cid = c…     (the client id: give it to the server operator)
  # cpk = …      (the client private key)
with mode 0400. FILE must not exist: nothing is ever overwritten.
Prints the client id (--json: {"client_id","file"}). Next: cldcb-client installplugin.
`,
  async run(argv, io) {
    const { values, positionals } = parseOptions(argv, { json: { type: 'boolean' } }, true);
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing FILE' : 'expected exactly one FILE');
    const file = positionals[0]!;
    const priv = newClientKey();
    try {
      const cid = formatClientId(nobleSecp.publicKey(priv));
      writeFileAtomic(file, formatClientKeyFile(priv), { mode: 0o400 });
      if (values.json) printJson(io, { client_id: cid, file });
      else io.out(`${cid}\n`);
      return 0;
    } finally {
      zeroize(priv);
    }
  },
};

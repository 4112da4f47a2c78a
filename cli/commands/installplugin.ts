/**
 * `cldcb-client installplugin`: the install ceremony the original planned but never wrote
 * (cldcb-protocol §8.1). From the node's hsm_secret, a client key file and the server's
 * address it writes the plugin wrapper (cldcb-protocol §7): a shell script whose comment
 * lines hold the configuration and whose last line runs OUR plugin by absolute path —
 *   exec "<node>" "<repo>/plugin/cldcb-plugin.mjs" -- "$0"
 * — so it works whatever lightningd's working directory and PATH are.
 *
 * - nid: the node id derived from hsm_secret (any format; passphrase from
 *   --passphrase-file or asked at the terminal — never with every flag given and a
 *   passphrase-less file).
 * - nsig: the recognition code, signed here with the node key (shared/cldcb/recognition.ts;
 *   the same bytes lightningd `signmessage` would give), checked before writing.
 * - The wrapper holds the client private key: mode 0700, written atomically; an existing
 *   wrapper is never replaced unless --force is given (a wrong wrapper silently sends the
 *   backups elsewhere, so replacing one must be a deliberate act).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../../electron/services/atomicFile';
import { parseServerSpec, WRAPPER_NAME } from '../../electron/services/installCeremony';
import { bytesToHex, zeroize } from '../../shared/bytes';
import { CldcbError } from '../../shared/errors';
import { nobleSecp } from '../../shared/cldcb/curve';
import { DEFAULT_PROXY_PORT, DEFAULT_SERVER_PORT, formatClientId, formatHostPort, formatNodeId, formatServerId, parseClientKeyFile, parseHostPort, type HostPort } from '../../shared/cldcb/ids';
import { formatPluginWrapper, parsePluginWrapper, parseWrapperDeadline, WRAPPER_DEADLINE_DEFAULT_S, WRAPPER_DEADLINE_MAX_S, WRAPPER_DEADLINE_MIN_S } from '../../shared/cldcb/wrapper';
import { signRecognitionCode, verifyRecognitionAsClient } from '../../shared/cldcb/recognition';
import { forgetSecret } from '../../shared/secrets/hsmSecret';
import { nodePrivateKey } from '../../shared/secrets/nodeKey';
import { parseOptions, printJson, requireOption, UsageError, type Command } from '../command';
import { loadSecretForCli } from './nodeid';

/** The repository root: the directory holding plugin/cldcb-plugin.mjs above this module (source or bundle). */
export function findRepoRoot(from = path.dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (;;) {
    if (existsSync(path.join(dir, 'plugin', 'cldcb-plugin.mjs'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new CldcbError('file_not_found', `Cannot find plugin/cldcb-plugin.mjs above ${from}: run cldcb-client from its installation.`);
    dir = up;
  }
}

/** A word for a double-quoted shell string. */
function dq(s: string): string {
  if (/[\n\r\0]/.test(s)) throw new CldcbError('bad_input', `The path ${JSON.stringify(s)} contains a line break; it cannot go into the wrapper.`);
  return `"${s.replace(/[\\"$`]/g, (c) => `\\${c}`)}"`;
}

export interface WrapperSpec {
  readonly clientPrivateKey: Uint8Array;
  readonly nodeId: Uint8Array;
  readonly nodeSignature: Uint8Array;
  readonly serverKey: Uint8Array;
  readonly server: HostPort;
  readonly proxy?: HostPort;
  /** `# deadline` in seconds (only when the operator chose one). */
  readonly deadlineSeconds?: number;
  /** Absolute path of the Node.js binary. */
  readonly node: string;
  /** Absolute path of plugin/cldcb-plugin.mjs. */
  readonly plugin: string;
}

/** The wrapper text: the shared format (parsed back to check), exec line with quoted absolute paths. */
export function wrapperText(w: WrapperSpec): string {
  const base = formatPluginWrapper(
    {
      clientPrivateKey: w.clientPrivateKey,
      nodeId: w.nodeId,
      nodeSignature: w.nodeSignature,
      serverId: w.serverKey,
      server: w.server,
      ...(w.proxy ? { proxy: w.proxy } : {}),
      ...(w.deadlineSeconds !== undefined ? { deadlineSeconds: w.deadlineSeconds } : {}),
    },
    { command: ['cldcb-plugin'] },
  );
  const lines = base.trimEnd().split('\n');
  lines[lines.length - 1] = `exec ${dq(w.node)} ${dq(w.plugin)} -- "$0"`;
  const text = lines.join('\n') + '\n';
  const check = parsePluginWrapper(text, 'the new wrapper');
  zeroize(check.clientPrivateKey);
  return text;
}

export const installpluginCommand: Command = {
  name: 'installplugin',
  summary: 'write the cldcb plugin wrapper for a node (signs its recognition code)',
  usage: `usage: cldcb-client installplugin --lightning-dir=DIR --client-privkey=FILE --server=SID@HOST[:PORT]
                                  [--passphrase-file=FILE] [--proxy=HOST[:PORT]] [--deadline=SECONDS] [--force] [--json]

Writes DIR/${WRAPPER_NAME}, the script lightningd runs as the cldcb backup plugin.
  --lightning-dir   the node's network directory: the one holding hsm_secret and
                    lightningd.sqlite3 (e.g. ~/.lightning/bitcoin)
  --client-privkey  the key file from \`cldcb-client newclient\`
  --server          the server id (52…/53…, from the server's server_id file) @
                    its address (default port ${DEFAULT_SERVER_PORT}; IPv6 as [addr]:port)
  --passphrase-file for an hsm_secret that needs a passphrase (else asked at the
                    terminal; never on the command line)
  --proxy           reach the server through a SOCKS5 proxy, e.g. Tor 127.0.0.1:${DEFAULT_PROXY_PORT}
  --deadline        how long one database write may wait for the server (default ${WRAPPER_DEADLINE_DEFAULT_S},
                    ${WRAPPER_DEADLINE_MIN_S}-${WRAPPER_DEADLINE_MAX_S}). While it waits lightningd is frozen (no RPC,
                    no peers); when it passes, the write is refused and lightningd stops
                    without committing it. Longer rides out a server reboot; shorter
                    stops the node sooner.
  --force           replace an existing wrapper (never done otherwise)
  --json            print {"wrapper","node_id","client_id","server","important_plugin"}
                    instead of the instructions (and on failure the error)

The node key signs the recognition code (nsig) that lets the node's owner find this
backup again with only hsm_secret. The wrapper holds the client private key: it is
written with mode 0700 for the user who runs lightningd.
`,
  async run(argv, io) {
    const { values } = parseOptions(argv, {
      'lightning-dir': { type: 'string' },
      'client-privkey': { type: 'string' },
      server: { type: 'string' },
      'passphrase-file': { type: 'string' },
      proxy: { type: 'string' },
      deadline: { type: 'string' },
      force: { type: 'boolean' },
      json: { type: 'boolean' },
    });
    const dir = path.resolve(requireOption(values['lightning-dir'], '--lightning-dir=DIR'));
    const keyFile = requireOption(values['client-privkey'], '--client-privkey=FILE');
    const serverSpec = requireOption(values.server, '--server=SID@HOST:PORT');
    let serverKey: Uint8Array;
    let server: HostPort;
    try {
      ({ serverKey, server } = parseServerSpec(serverSpec));
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    let proxy: HostPort | undefined;
    if (values.proxy !== undefined) {
      try {
        proxy = parseHostPort(values.proxy, DEFAULT_PROXY_PORT, '--proxy');
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
    }
    let deadlineSeconds: number | undefined;
    if (values.deadline !== undefined) {
      try {
        deadlineSeconds = parseWrapperDeadline(values.deadline, '--deadline');
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
    }
    const target = path.join(dir, WRAPPER_NAME);
    if (existsSync(target) && !values.force)
      throw new CldcbError('file_exists', `${target} already exists. Nothing was changed; give --force to replace it.`);
    const hsmPath = path.join(dir, 'hsm_secret');
    if (!existsSync(hsmPath)) {
      const hint = ['bitcoin', 'testnet', 'testnet4', 'signet', 'regtest'].find((n) => existsSync(path.join(dir, n, 'hsm_secret')));
      throw new CldcbError(
        'file_not_found',
        `${hsmPath}: no such file.${hint ? ` Give the network directory: --lightning-dir=${path.join(dir, hint)}` : ' --lightning-dir must be the directory that holds hsm_secret and lightningd.sqlite3.'}`,
      );
    }

    let keyText: string;
    try {
      keyText = readFileSync(keyFile, 'utf8');
    } catch (e) {
      throw new CldcbError('file_not_found', `--client-privkey ${keyFile}: cannot read it (${(e as NodeJS.ErrnoException).code ?? 'I/O error'}).`);
    }
    const { clientId, privateKey } = parseClientKeyFile(keyText, keyFile);
    const { secret } = await loadSecretForCli(io, hsmPath, values['passphrase-file']);
    let nodePriv: Uint8Array | undefined;
    try {
      nodePriv = nodePrivateKey(secret.secretData);
      const nodeId = nobleSecp.publicKey(nodePriv);
      const nodeSignature = signRecognitionCode(nodePriv, clientId);
      if (!verifyRecognitionAsClient(privateKey, nodeId, nodeSignature))
        throw new CldcbError('internal', 'The recognition code did not verify after signing (a bug in CLDCB). Nothing was written.');
      const root = findRepoRoot();
      const text = wrapperText({
        clientPrivateKey: privateKey,
        nodeId,
        nodeSignature,
        serverKey,
        server,
        ...(proxy ? { proxy } : {}),
        ...(deadlineSeconds !== undefined ? { deadlineSeconds } : {}),
        node: process.execPath,
        plugin: path.join(root, 'plugin', 'cldcb-plugin.mjs'),
      });
      writeFileAtomic(target, text, { mode: 0o700, overwrite: Boolean(values.force) });
      const cid = formatClientId(clientId);
      if (values.json) {
        printJson(io, { wrapper: target, node_id: formatNodeId(nodeId), client_id: cid, server: `${formatServerId(serverKey)}@${formatHostPort(server)}`, ...(proxy ? { proxy: formatHostPort(proxy) } : {}), important_plugin: `important-plugin=${target}` });
        return 0;
      }
      io.out(
        [
          `Wrote ${target} (mode 0700; it holds the client private key).`,
          `  node id:   ${formatNodeId(nodeId)}`,
          `  client id: ${cid}`,
          `  server:    ${formatServerId(serverKey)}@${formatHostPort(server)}${proxy ? ` through the SOCKS5 proxy ${formatHostPort(proxy)}` : ''}`,
          `  nsig:      ${bytesToHex(nodeSignature).slice(0, 16)}… (recognition code, checked)`,
          '',
          'On the server, allow this client (in the CLDCB checkout; default server directory shown):',
          `  npx cldcb-server add --server-dir=$HOME/.cldcb-server ${cid}`,
          '',
          "Then enable the plugin in lightningd's config file and restart lightningd:",
          `  important-plugin=${target}`,
          'Use important-plugin, not plugin: if the backup plugin dies, important-plugin stops',
          'lightningd, while with plugin= lightningd carries on and commits every later write',
          'with no backup at all. lightningd must run as the user who owns the wrapper.',
          'The first write after that sends the whole database to the server; every later write',
          'is backed up before lightningd commits it. While the server cannot be reached,',
          `lightningd waits (no RPC, no peers) up to ${deadlineSeconds ?? WRAPPER_DEADLINE_DEFAULT_S} s per write, then stops without committing it.`,
          '',
        ].join('\n'),
      );
      return 0;
    } finally {
      zeroize(nodePriv, privateKey);
      forgetSecret(secret);
    }
  },
};

/**
 * `cldcb-client installplugin`: the install ceremony the original planned but never wrote
 * (cldcb-protocol §8.1). From the node's hsm_secret, client key file(s) and the servers'
 * addresses it writes the plugin wrapper (cldcb-protocol §7): a shell script whose comment
 * lines hold the configuration and whose last line runs OUR plugin by absolute path —
 *   exec "<node>" "<repo>/plugin/cldcb-plugin.mjs" -- "$0"
 * — so it works whatever lightningd's working directory and PATH are.
 *
 * - nid: the node id derived from hsm_secret (any format; passphrase from
 *   --passphrase-file or asked at the terminal — never with every flag given and a
 *   passphrase-less file).
 * - nsig: the recognition code, signed here with the node key for each client key
 *   (shared/cldcb/recognition.ts; the same bytes lightningd `signmessage` would give), each
 *   checked before writing.
 * - Several servers (issue 11; docs/PROTOCOL.md §5): `--server` repeated (up to 9) and
 *   `--quorum=K`; one client key for all of them or one per server. One `--server` writes
 *   exactly the original one-server wrapper and prints what it always printed
 *   (test/fixtures/installplugin holds both, recorded before several servers existed).
 * - The wrapper holds the client private key(s): mode 0700, written atomically; an existing
 *   wrapper is never replaced unless --force is given (a wrong wrapper silently sends the
 *   backups elsewhere, so replacing one must be a deliberate act). Replacing it with another
 *   list of servers keeps the backup: each server's chain head is in its own state file
 *   (shared/node/pluginState.ts stateFileName), so the servers that stay go on, and a
 *   new one — no chain head — gets the whole database at lightningd's first write.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../../shared/node/atomicFile';
import { WRAPPER_NAME } from '../../shared/node/installCeremony';
import { bytesToHex, zeroize } from '../../shared/bytes';
import { CldcbError } from '../../shared/errors';
import { DEFAULT_PROXY_PORT, DEFAULT_SERVER_PORT, formatClientId, formatHostPort, formatNodeId, formatServerId, parseClientKeyFile, parseHostPort, type HostPort } from '../../shared/cldcb/ids';
import { CLI_INSTALL_WORDING, parseInstallChoice, signInstall } from '../../shared/cldcb/install';
import {
  formatPluginWrapper,
  MAX_SERVERS,
  parsePluginWrapper,
  parseWrapperDeadline,
  wrapperServers,
  WRAPPER_DEADLINE_DEFAULT_S,
  WRAPPER_DEADLINE_MAX_S,
  WRAPPER_DEADLINE_MIN_S,
  type PluginConfig,
  type WrapperInput,
} from '../../shared/cldcb/wrapper';
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


/** One more server of a wrapper (2 … 9): its client key, recognition code and address. */
export interface WrapperServerSpec {
  readonly clientPrivateKey: Uint8Array;
  readonly nodeSignature: Uint8Array;
  readonly serverKey: Uint8Array;
  readonly server: HostPort;
  readonly proxy?: HostPort;
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
  /** Servers 2 … n (several servers only). */
  readonly moreServers?: readonly WrapperServerSpec[];
  /** `# quorum` (several servers only; default a majority). */
  readonly quorum?: number;
  /** Absolute path of the Node.js binary. */
  readonly node: string;
  /** Absolute path of plugin/cldcb-plugin.mjs. */
  readonly plugin: string;
}

/** The wrapper text: the shared format (parsed back to check), exec line with quoted absolute paths. */
export function wrapperText(w: WrapperSpec): string {
  return wrapperScript(
    {
      clientPrivateKey: w.clientPrivateKey,
      nodeId: w.nodeId,
      nodeSignature: w.nodeSignature,
      serverId: w.serverKey,
      server: w.server,
      ...(w.proxy ? { proxy: w.proxy } : {}),
      ...(w.deadlineSeconds !== undefined ? { deadlineSeconds: w.deadlineSeconds } : {}),
      ...(w.moreServers && w.moreServers.length > 0
        ? {
            moreServers: w.moreServers.map((s) => ({
              clientPrivateKey: s.clientPrivateKey,
              nodeSignature: s.nodeSignature,
              serverId: s.serverKey,
              server: s.server,
              ...(s.proxy ? { proxy: s.proxy } : {}),
            })),
          }
        : {}),
      ...(w.quorum !== undefined ? { quorum: w.quorum } : {}),
    },
    w.node,
    w.plugin,
  );
}

/** A configuration as the wrapper script that runs `plugin` with `node` (both absolute paths). */
function wrapperScript(input: WrapperInput, node: string, plugin: string): string {
  const base = formatPluginWrapper(input, { command: ['cldcb-plugin'] });
  const lines = base.trimEnd().split('\n');
  lines[lines.length - 1] = `exec ${dq(node)} ${dq(plugin)} -- "$0"`;
  const text = lines.join('\n') + '\n';
  const check = parsePluginWrapper(text, 'the new wrapper');
  for (const s of wrapperServers(check)) zeroize(s.clientPrivateKey);
  return text;
}

/** The servers of the wrapper being replaced, as `SID@HOST:PORT` (undefined when there is none or it does not parse). */
function previousServers(file: string): string[] | undefined {
  let cfg: PluginConfig;
  try {
    cfg = parsePluginWrapper(readFileSync(file, 'utf8'), file);
  } catch {
    return undefined;
  }
  const list = wrapperServers(cfg).map((s) => `${formatServerId(s.serverId)}@${formatHostPort(s.server)}`);
  for (const s of wrapperServers(cfg)) zeroize(s.clientPrivateKey);
  return list;
}

interface ClientKey {
  readonly file: string;
  readonly clientId: Uint8Array;
  readonly privateKey: Uint8Array;
}

function readClientKey(file: string): ClientKey {
  let keyText: string;
  try {
    keyText = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CldcbError('file_not_found', `--client-privkey ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? 'I/O error'}).`);
  }
  const { clientId, privateKey } = parseClientKeyFile(keyText, file);
  return { file, clientId, privateKey };
}

const ADD_COMMAND = 'npx cldcb-server add --server-dir=$HOME/.cldcb-server';

const IMPORTANT_PLUGIN_ADVICE = [
  'Use important-plugin, not plugin: if the backup plugin dies, important-plugin stops',
  'lightningd, while with plugin= lightningd carries on and commits every later write',
  'with no backup at all. lightningd must run as the user who owns the wrapper.',
];

export const installpluginCommand: Command = {
  name: 'installplugin',
  summary: 'write the cldcb plugin wrapper for a node (signs its recognition code)',
  usage: `usage: cldcb-client installplugin --lightning-dir=DIR --client-privkey=FILE --server=SID@HOST[:PORT]
                                  [--server=SID@HOST[:PORT] … --quorum=K] [--passphrase-file=FILE]
                                  [--proxy=HOST[:PORT]] [--deadline=SECONDS] [--force] [--json]

Writes DIR/${WRAPPER_NAME}, the script lightningd runs as the cldcb backup plugin.
  --lightning-dir   the node's network directory: the one holding hsm_secret and
                    lightningd.sqlite3 (e.g. ~/.lightning/bitcoin)
  --client-privkey  the key file from \`cldcb-client newclient\`. With several servers:
                    once (the same client key for every server: their operators can
                    then link their clients by id, i.e. see that they back up the same
                    node) or once per --server, in the same order (one newclient each)
  --server          the server id (52…/53…, from the server's server_id file) @
                    its address (default port ${DEFAULT_SERVER_PORT}; IPv6 as [addr]:port).
                    Repeat it for several independent servers (up to ${MAX_SERVERS}): every write
                    goes to all of them, and lightningd commits once --quorum of them
                    stored it, so the node keeps running while the others are away
  --quorum          with several servers: how many must store a write before lightningd
                    commits it (1 to the number of servers; default a majority). Any
                    n-K+1 of the servers then hold every committed write, which is what
                    lets a recovery prove it has the newest state
  --passphrase-file for an hsm_secret that needs a passphrase (else asked at the
                    terminal; never on the command line)
  --proxy           reach the server(s) through a SOCKS5 proxy, e.g. Tor 127.0.0.1:${DEFAULT_PROXY_PORT}
  --deadline        how long one database write may wait for the server (default ${WRAPPER_DEADLINE_DEFAULT_S},
                    ${WRAPPER_DEADLINE_MIN_S}-${WRAPPER_DEADLINE_MAX_S}). While it waits lightningd is frozen (no RPC,
                    no peers); when it passes, the write is refused and lightningd stops
                    without committing it. Longer rides out a server reboot; shorter
                    stops the node sooner. With several servers: until --quorum stored it
  --force           replace an existing wrapper (never done otherwise). To add or remove
                    a server later, give the new list with --force and restart
                    lightningd: the servers that stay go on, a new one gets the whole
                    database at the first write
  --json            print {"wrapper","node_id","client_id","server","important_plugin"}
                    (several servers: "quorum" and "servers": [{"server","client_id"}]
                    instead of "client_id" and "server") instead of the instructions
                    (and on failure the error)

The node key signs the recognition code (nsig) that lets the node's owner find this
backup again with only hsm_secret. The wrapper holds the client private key(s): it is
written with mode 0700 for the user who runs lightningd.
`,
  async run(argv, io) {
    const { values } = parseOptions(argv, {
      'lightning-dir': { type: 'string' },
      'client-privkey': { type: 'string', multiple: true },
      server: { type: 'string', multiple: true },
      quorum: { type: 'string' },
      'passphrase-file': { type: 'string' },
      proxy: { type: 'string' },
      deadline: { type: 'string' },
      force: { type: 'boolean' },
      json: { type: 'boolean' },
    });
    const dir = path.resolve(requireOption(values['lightning-dir'], '--lightning-dir=DIR'));
    const keyFiles = values['client-privkey'] ?? [];
    requireOption(keyFiles[0], '--client-privkey=FILE');
    const serverSpecs = values.server ?? [];
    requireOption(serverSpecs[0], '--server=SID@HOST:PORT');
    // The servers and the quorum: the rules the app's Install screen uses (shared/cldcb/install.ts).
    let choice: ReturnType<typeof parseInstallChoice>;
    try {
      choice = parseInstallChoice(serverSpecs, values.quorum, CLI_INSTALL_WORDING);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const { targets, quorum } = choice;
    const n = targets.length;
    if (keyFiles.length !== 1 && keyFiles.length !== n)
      throw new UsageError(`give --client-privkey once (the same client key for every server) or once per --server, in the same order: ${n} servers, ${keyFiles.length} key files`);
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
      const hint = ['bitcoin', 'testnet', 'testnet4', 'signet', 'regtest'].find((net) => existsSync(path.join(dir, net, 'hsm_secret')));
      throw new CldcbError(
        'file_not_found',
        `${hsmPath}: no such file.${hint ? ` Give the network directory: --lightning-dir=${path.join(dir, hint)}` : ' --lightning-dir must be the directory that holds hsm_secret and lightningd.sqlite3.'}`,
      );
    }

    const keys: ClientKey[] = [];
    let nodePriv: Uint8Array | undefined;
    let secret: Awaited<ReturnType<typeof loadSecretForCli>>['secret'] | undefined;
    try {
      for (const f of keyFiles) keys.push(readClientKey(f));
      ({ secret } = await loadSecretForCli(io, hsmPath, values['passphrase-file']));
      nodePriv = nodePrivateKey(secret.secretData);
      const keyOf = (i: number): ClientKey => keys[keys.length === 1 ? 0 : i]!;
      // One recognition code per client key (the same key for several servers signs once), each checked.
      const signed = signInstall({
        nodePrivateKey: nodePriv,
        servers: targets.map((t, i) => ({ ...t, clientPrivateKey: keyOf(i).privateKey, ...(proxy ? { proxy } : {}) })),
        ...(quorum !== undefined ? { quorum } : {}),
        ...(deadlineSeconds !== undefined ? { deadlineSeconds } : {}),
      });
      const { nodeId, codes } = signed;
      const before = values.force ? previousServers(target) : undefined;
      const text = wrapperScript(signed.input, process.execPath, path.join(findRepoRoot(), 'plugin', 'cldcb-plugin.mjs'));
      writeFileAtomic(target, text, { mode: 0o700, overwrite: Boolean(values.force) });
      const serverText = (i: number): string => `${formatServerId(targets[i]!.serverKey)}@${formatHostPort(targets[i]!.server)}`;
      const cidOf = (i: number): string => formatClientId(keyOf(i).clientId);
      if (n === 1) {
        const cid = cidOf(0);
        const nodeSignature = codes[0]!;
        if (values.json) {
          printJson(io, { wrapper: target, node_id: formatNodeId(nodeId), client_id: cid, server: serverText(0), ...(proxy ? { proxy: formatHostPort(proxy) } : {}), important_plugin: `important-plugin=${target}` });
          return 0;
        }
        io.out(
          [
            `Wrote ${target} (mode 0700; it holds the client private key).`,
            `  node id:   ${formatNodeId(nodeId)}`,
            `  client id: ${cid}`,
            `  server:    ${serverText(0)}${proxy ? ` through the SOCKS5 proxy ${formatHostPort(proxy)}` : ''}`,
            `  nsig:      ${bytesToHex(nodeSignature).slice(0, 16)}… (recognition code, checked)`,
            '',
            'On the server, allow this client (in the CLDCB checkout; default server directory shown):',
            `  ${ADD_COMMAND} ${cid}`,
            '',
            "Then enable the plugin in lightningd's config file and restart lightningd:",
            `  important-plugin=${target}`,
            ...IMPORTANT_PLUGIN_ADVICE,
            'The first write after that sends the whole database to the server; every later write',
            'is backed up before lightningd commits it. While the server cannot be reached,',
            `lightningd waits (no RPC, no peers) up to ${deadlineSeconds ?? WRAPPER_DEADLINE_DEFAULT_S} s per write, then stops without committing it.`,
            ...changes(before, [serverText(0)]),
            '',
          ].join('\n'),
        );
        return 0;
      }
      const k = signed.quorum!;
      if (values.json) {
        printJson(io, {
          wrapper: target,
          node_id: formatNodeId(nodeId),
          quorum: k,
          servers: targets.map((_, i) => ({ server: serverText(i), client_id: cidOf(i) })),
          ...(proxy ? { proxy: formatHostPort(proxy) } : {}),
          important_plugin: `important-plugin=${target}`,
        });
        return 0;
      }
      const shared = keys.length === 1;
      io.out(
        [
          `Wrote ${target} (mode 0700; it holds the client private key${shared ? '' : 's'}).`,
          `  node id:   ${formatNodeId(nodeId)}`,
          `  quorum:    lightningd commits a write once ${k} of these ${n} servers stored it`,
          ...targets.flatMap((_, i) => [
            `  server ${i + 1}:  ${serverText(i)}${proxy ? ` through the SOCKS5 proxy ${formatHostPort(proxy)}` : ''}`,
            `             client id ${cidOf(i)}, nsig ${bytesToHex(codes[i]!).slice(0, 16)}… (recognition code, checked)`,
          ]),
          ...(shared
            ? [
                `The same client key serves all ${n} servers: their operators can link these backups by`,
                'client id (see that they hold the same node). To keep them apart, give one',
                '--client-privkey per --server (cldcb-client newclient makes each).',
              ]
            : []),
          '',
          'On each server, allow its client (in the CLDCB checkout; default server directory shown):',
          ...targets.flatMap((_, i) => [`  server ${i + 1} (${serverText(i)}):`, `    ${ADD_COMMAND} ${cidOf(i)}`]),
          '',
          "Then enable the plugin in lightningd's config file and restart lightningd:",
          `  important-plugin=${target}`,
          ...IMPORTANT_PLUGIN_ADVICE,
          'The first write after that sends the whole database to each server new to this node; every',
          `write is stored by at least ${k} of the ${n} servers before lightningd commits it, and the others`,
          `catch up in the background. While fewer than ${k} can be reached, lightningd waits (no RPC,`,
          `no peers) up to ${deadlineSeconds ?? WRAPPER_DEADLINE_DEFAULT_S} s per write, then stops without committing it.`,
          ...(k === n ? [`With a quorum of all ${n}, any one server away stops lightningd at the deadline, as with one server.`] : []),
          `A recovery that reads any ${n - k + 1} of these servers can prove it has the node's newest state.`,
          ...changes(before, targets.map((_, i) => serverText(i))),
          '',
        ].join('\n'),
      );
      return 0;
    } finally {
      zeroize(nodePriv, ...keys.map((x) => x.privateKey));
      if (secret) forgetSecret(secret);
    }
  },
};

/**
 * What replacing the wrapper changed in the list of servers (said only when either list has
 * several: a one-server replacement prints what it always printed). Servers are told apart by
 * their id. Server 1's chain head is `cldcb-plugin.state`, the others' are named by their id
 * (pluginState.ts stateFileName): a server moving into or out of place 1 starts again at the
 * whole database, like a new one.
 */
function changes(before: string[] | undefined, after: string[]): string[] {
  if (!before || (before.length === 1 && after.length === 1)) return [];
  const sid = (s: string): string => s.slice(0, s.indexOf('@'));
  const was = (s: string): number => before.findIndex((b) => sid(b) === sid(s));
  const lines: string[] = [];
  after.forEach((s, i) => {
    const j = was(s);
    if (j < 0) lines.push(`new: ${s} gets the whole database at lightningd's first write after the restart.`);
    else if ((i === 0) !== (j === 0)) lines.push(`moved ${j === 0 ? 'from' : 'to'} place 1: ${s} gets the whole database again at the first write.`);
  });
  for (const b of before) if (!after.some((s) => sid(s) === sid(b))) lines.push(`no longer used: ${b} (its archive stays there until you remove this client there).`);
  if (lines.length === 0) return [];
  return ['', 'Changed from the previous wrapper (the other servers continue their backups):', ...lines.map((l) => `  ${l}`)];
}

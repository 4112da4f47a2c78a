/**
 * What recovery writes beside the recovered database so the node's backup carries on:
 *
 *  - `cldcb-plugin.state` (shared/node/pluginState.ts): the chain head the archive ends
 *    at, bound to (client id, server id). Without it the plugin's first increment after the
 *    recovery would chain to a snapshot the server never gets, and the node's next backup
 *    could not be restored (issue 10 defect 1).
 *  - `cldcb-plugin-wrapper`: the same backup (client key from the archive), the recognition
 *    code signed again with the node key, the server it came from — only when the server's id
 *    and address are both known; otherwise the client key file and the installplugin command.
 *
 * Neither is written beside a database that may be stale (engine.ts): they would start it.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { CldcbError, toErrorData } from '../../errors';
import { hexToBytes } from '../../bytes';
import { DEFAULT_SERVER_PORT, formatClientKeyFile, formatHostPort, parseClientId, parseHostPort, parseServerId } from '../../cldcb/ids';
import { formatPluginWrapper } from '../../cldcb/wrapper';
import { signRecognitionCode } from '../../cldcb/recognition';
import { linkToFreeName, writeFileAtomic } from '../atomicFile';
import { WRAPPER_NAME } from '../installCeremony';
import { makeNativeSecp } from '../nativeSeal';
import { encodeStateFile, STATE_FILE, stateBinding } from '../pluginState';
import type { RecoveryWarning, ReplayPlan } from './chain';
import type { RecoverInput, RecoveryVerdict } from './types';

/**
 * Write `cldcb-plugin.state` for the chain the rebuilt archive ends at. An existing state file
 * (the lost node's, describing another database) is moved aside first, saying so.
 * Never throws: a failure is a warning (the plugin then starts its chain again at a re-upload).
 */
export function writePluginState(
  dir: string,
  clientId: string,
  serverId: string | undefined,
  head: ReplayPlan['head'],
  warnings: RecoveryWarning[],
): RecoveryVerdict['pluginState'] {
  const file = path.join(dir, STATE_FILE);
  const warn = (message: string): void => void warnings.push({ kind: 'plugin_state', severity: 'warning', message });
  if (!serverId) {
    warn(`No ${STATE_FILE} was written: the source does not say which server it is (no server_id), and the state is bound to the client and server ids. The plugin will start a new chain with a re-upload of the whole database.`);
    return undefined;
  }
  if (!head) {
    warn(`No ${STATE_FILE} was written: the archive has no increment to continue from.`);
    return undefined;
  }
  try {
    if (existsSync(file)) {
      const aside = linkToFreeName(file, `${file}.before-recovery`);
      warnings.push({ kind: 'plugin_state', severity: 'info', message: `${file} (the lost node's chain head, for another database) was moved to ${aside}.` });
    }
    const bytes = encodeStateFile(stateBinding(parseClientId(clientId), parseServerId(serverId)), {
      dataVersion: head.dataVersion,
      head: hexToBytes(head.hash, 'chain head', 32),
      runPrev: hexToBytes(head.runPrev, 'chain head runPrev', 32),
    });
    writeFileAtomic(file, bytes, { mode: 0o600 });
  } catch (e) {
    warn(`${file} could not be written (${toErrorData(e).message}). The plugin will start a new chain with a re-upload of the whole database.`);
    return undefined;
  }
  return { path: file, dataVersion: head.dataVersion };
}

/** Where the recovered backup's server is, as far as the source says. */
export interface ServerFacts {
  readonly serverId?: string;
  /** HOST[:PORT] (the operator's --shost, or the online source's address). */
  readonly serverHost?: string;
  /** The port a server directory's `port` file names (used when serverHost has none). */
  readonly serverPort?: number;
}

export interface PluginFiles {
  wrapper?: RecoveryVerdict['wrapper'];
  pluginState?: RecoveryVerdict['pluginState'];
  clientKeyFile?: string;
}

/**
 * The plugin's files for the recovered backup: its chain state, and the wrapper when the
 * server's id and address are both known. Without them no wrapper is written — a wrapper
 * pointing nowhere makes lightningd hang at start and die (issue 10 #3) — but the backup's
 * client key is written as a `newclient` key file, and `nextSteps` gets the exact
 * `cldcb-client installplugin` command that makes the wrapper from it.
 * Never throws: failures are warnings (the database is already in place).
 */
export function writePluginFiles(
  dir: string,
  input: RecoverInput,
  cpk: Uint8Array,
  clientId: string,
  server: ServerFacts,
  head: ReplayPlan['head'],
  warnings: RecoveryWarning[],
  nextSteps: string[],
): PluginFiles {
  const out: PluginFiles = {};
  const state = writePluginState(dir, clientId, server.serverId, head, warnings);
  if (state) out.pluginState = state;
  const continues = state ? ` It continues the same backup from data_version ${state.dataVersion}.` : '';
  if (server.serverId && server.serverHost) {
    const wrapper = writeWrapper(dir, input, cpk, server.serverId, hostPortOf(server), warnings);
    if (wrapper) {
      out.wrapper = wrapper;
      const plain = path.join(dir, WRAPPER_NAME);
      nextSteps.push(
        wrapper.path === plain
          ? `Turn the backup on: important-plugin=${wrapper.path} in lightningd's config (server ${wrapper.serverHost}).${continues}`
          : `${plain} already existed and was left alone: the fresh wrapper is ${wrapper.path}. Check which is right, move the fresh one to ${plain} (or name it in important-plugin=), then start lightningd.${continues}`,
      );
      return out;
    }
  }
  // No wrapper: the key file and the command that makes one.
  const keyFile = writeClientKey(dir, cpk, warnings);
  if (keyFile) out.clientKeyFile = keyFile;
  const why = !server.serverId
    ? 'the source does not say which server it is (no server_id)'
    : server.serverHost
      ? 'it could not be written (see above)'
      : `the server's address is not in the source (a server directory records the server's id${server.serverPort ? ` and port ${server.serverPort}` : ''}, not its host name)`;
  const sid = server.serverId ?? 'SERVER_ID';
  const hostPort = `SERVER_HOST:${server.serverPort ?? 'PORT'}`;
  const placeholders = [
    'SERVER_HOST: the host name or IP address the server is reached at',
    ...(server.serverPort ? [] : ['PORT: its port (default 29735)']),
    ...(server.serverId ? [] : ["SERVER_ID: the id in the server directory's server_id file (52… or 53…)"]),
  ].join('; ');
  warnings.push({
    kind: 'wrapper',
    severity: 'error',
    message: `No cldcb-plugin-wrapper was written: ${why}. Backups of this node are NOT running until you make one${keyFile ? ` with the client key saved in ${keyFile}` : ''}.`,
  });
  nextSteps.push(
    keyFile
      ? `Before starting lightningd, make the plugin wrapper for the same backup: cldcb-client installplugin --lightning-dir=${dir} --client-privkey=${keyFile} --server=${sid}@${hostPort} (${placeholders}), then important-plugin=${path.join(dir, WRAPPER_NAME)} in lightningd's config.${continues}`
      : `Before starting lightningd, set up the backup again (cldcb-client newclient, then installplugin): without a wrapper nothing is backed up.`,
  );
  return out;
}

/** `host:port` for the wrapper: the port from the address, else the directory's `port` file, else the default. */
function hostPortOf(server: ServerFacts): string {
  const hp = parseHostPort(server.serverHost!, server.serverPort ?? DEFAULT_SERVER_PORT, 'shost');
  return formatHostPort(hp, 'shost');
}

/**
 * The backup's client key as `cldcb-client newclient` writes it (mode 0400), at the first free
 * name of cldcb-client.key, cldcb-client.key-2, …; for `installplugin --client-privkey`.
 * It holds what the wrapper would hold (the client private key), in the same directory.
 */
function writeClientKey(dir: string, cpk: Uint8Array, warnings: RecoveryWarning[]): string | undefined {
  const text = formatClientKeyFile(cpk);
  for (let n = 1; n < 100; n++) {
    const file = path.join(dir, `cldcb-client.key${n > 1 ? `-${n}` : ''}`);
    try {
      writeFileAtomic(file, text, { mode: 0o400 });
      return file;
    } catch (e) {
      if (e instanceof CldcbError && e.code === 'file_exists') continue;
      warnings.push({ kind: 'wrapper', severity: 'warning', message: `The client key could not be saved: ${toErrorData(e).message}` });
      return undefined;
    }
  }
  return undefined;
}

/** A fresh plugin wrapper for the recovered backup. Never throws: a failure is a warning. */
function writeWrapper(dir: string, input: RecoverInput, cpk: Uint8Array, serverId: string, shost: string, warnings: RecoveryWarning[]): RecoveryVerdict['wrapper'] {
  const secp = makeNativeSecp();
  const nodeId = secp.publicKey(input.nodePrivateKey);
  const clientKey = secp.publicKey(cpk);
  let text: string;
  try {
    const fields = {
      clientPrivateKey: cpk,
      nodeId,
      nodeSignature: signRecognitionCode(input.nodePrivateKey, clientKey, secp),
      serverKey: parseServerId(serverId),
      server: parseHostPort(shost, DEFAULT_SERVER_PORT, 'shost'),
    };
    text = input.makeWrapper
      ? input.makeWrapper(fields)
      : formatPluginWrapper({ ...fields, serverId: fields.serverKey }, input.wrapperCommand ? { command: input.wrapperCommand } : {});
  } catch (e) {
    warnings.push({ kind: 'wrapper', severity: 'warning', message: `The wrapper could not be made: ${toErrorData(e).message}` });
    return undefined;
  }
  let file = path.join(dir, WRAPPER_NAME);
  if (existsSync(file)) file = `${file}.new`;
  try {
    writeFileAtomic(file, text, { mode: 0o700 });
  } catch (e) {
    warnings.push({ kind: 'wrapper', severity: 'warning', message: `The wrapper could not be written: ${toErrorData(e).message}` });
    return undefined;
  }
  return { path: file, serverId, serverHost: shost };
}

/**
 * What recovery writes beside the recovered database so the node's backup carries on:
 *
 *  - `cldcb-plugin.state` (electron/services/pluginState.ts): the chain head the archive ends
 *    at, bound to (client id, server id). Without it the plugin's first increment after the
 *    recovery would chain to a snapshot the server never gets, and the node's next backup
 *    could not be restored (issue 10 defect 1).
 *  - `cldcb-plugin-wrapper`: the same backup (client key from the archive), the recognition
 *    code signed again with the node key, the server it came from.
 *
 * Neither is written beside a database that may be stale (engine.ts): they would start it.
 */
import { existsSync, linkSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { toErrorData } from '../../../shared/errors';
import { hexToBytes } from '../../../shared/bytes';
import { DEFAULT_SERVER_PORT, formatPluginWrapper, parseClientId, parseHostPort, parseServerId } from '../../../shared/cldcb/ids';
import { signRecognitionCode } from '../../../shared/cldcb/recognition';
import { fsyncDir, writeFileAtomic } from '../atomicFile';
import { WRAPPER_NAME } from '../installCeremony';
import { makeNativeSecp } from '../nativeSeal';
import { encodeStateFile, STATE_FILE, stateBinding } from '../pluginState';
import type { RecoveryWarning } from './chain';
import type { ReplayPlan } from './chain';
import type { RecoverInput, RecoveryVerdict } from './types';

/** Placeholder shost when an offline source does not say where its server runs. */
export const PLACEHOLDER_SHOST = '127.0.0.1:29735';

/**
 * Move `file` to the first free `<file><suffix>`, `<file><suffix>-2`, … (link + unlink: never
 * replaces anything). Returns the new path.
 */
export function moveAside(file: string, suffix: string): string {
  for (let n = 1; ; n++) {
    const to = `${file}${suffix}${n > 1 ? `-${n}` : ''}`;
    try {
      linkSync(file, to);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && n < 1000) continue;
      throw e;
    }
    unlinkSync(file);
    fsyncDir(path.dirname(file));
    return to;
  }
}

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
      const aside = moveAside(file, '.before-recovery');
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

/**
 * A fresh plugin wrapper for the recovered backup. Never throws: a failure is a warning.
 */
export function writeWrapper(
  dir: string,
  input: RecoverInput,
  cpk: Uint8Array,
  serverId: string | undefined,
  serverHost: string | undefined,
  warnings: RecoveryWarning[],
): RecoveryVerdict['wrapper'] {
  if (!serverId) {
    warnings.push({ kind: 'wrapper', severity: 'warning', message: 'No cldcb-plugin-wrapper was written: the source does not say which server it is (no server_id). Make one with cldcb-client installplugin.' });
    return undefined;
  }
  let shost = serverHost;
  if (!shost) {
    shost = PLACEHOLDER_SHOST;
    warnings.push({
      kind: 'wrapper',
      severity: 'warning',
      message: `The server directory does not record the server's address: the wrapper's "# shost =" line is a placeholder (${PLACEHOLDER_SHOST}); put the real host:port there before starting lightningd.`,
    });
  }
  const secp = makeNativeSecp();
  const nodeId = secp.publicKey(input.nodePrivateKey);
  const clientKey = secp.publicKey(cpk);
  const fields = {
    clientPrivateKey: cpk,
    nodeId,
    nodeSignature: signRecognitionCode(input.nodePrivateKey, clientKey, secp),
    serverKey: parseServerId(serverId),
    server: parseHostPort(shost, DEFAULT_SERVER_PORT, 'shost'),
  };
  const text = input.makeWrapper
    ? input.makeWrapper(fields)
    : formatPluginWrapper({ ...fields, serverId: fields.serverKey }, input.wrapperCommand ? { command: input.wrapperCommand } : {});
  let file = path.join(dir, WRAPPER_NAME);
  if (existsSync(file)) {
    const alt = `${file}.new`;
    warnings.push({ kind: 'wrapper', severity: 'warning', message: `${file} already exists and was left alone; the fresh wrapper is ${alt}.` });
    file = alt;
  }
  try {
    writeFileAtomic(file, text, { mode: 0o700 });
  } catch (e) {
    warnings.push({ kind: 'wrapper', severity: 'warning', message: `The wrapper could not be written: ${toErrorData(e).message}` });
    return undefined;
  }
  return { path: file, serverId, serverHost: shost };
}

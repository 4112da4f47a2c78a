/**
 * install.*: the key ceremony on the offline laptop. For each backup server it makes a client key
 * and signs its recognition code with the node key, then exports the plugin wrapper (every server,
 * and k with several: issue 11), each server's client id (file and QR) and optionally its client
 * key file. The servers and k are judged by the rules `cldcb-client installplugin` uses
 * (shared/cldcb/install.ts), so the same choices give the same wrapper and the same refusals.
 *
 * One client key per server, never one for all: independent operators then cannot link their
 * clients by id (see that they hold the same node), which the CLI allows only when the operator
 * passes one key file for all. The client private keys stay in the backend until the operator
 * saves the wrapper or a key file.
 */
import { CldcbError } from '../../shared/errors';
import { zeroize } from '../../shared/bytes';
import type { InstallCheckView, InstallView } from '../../shared/ipc/contract';
import { formatClientId, formatClientKeyFile, formatHostPort, formatNodeId, formatServerId, parseHostPort, DEFAULT_PROXY_PORT } from '../../shared/cldcb/ids';
import { APP_INSTALL_WORDING, checkInstallChoice, parseInstallChoice, signInstall } from '../../shared/cldcb/install';
import { formatPluginWrapper } from '../../shared/cldcb/wrapper';
import { nodePrivateKey } from '../../shared/secrets/nodeKey';
import { writeFileAtomic } from '../../shared/node/atomicFile';
import { newClientKey, WRAPPER_NAME } from '../../shared/node/installCeremony';
import { qrSvgDataUrl } from '../../shared/node/qr';
import type { BackendContext, HandlerGroup } from './context';

type C = 'install.check' | 'install.prepare' | 'install.saveWrapper' | 'install.saveClientId' | 'install.saveClientKey';

interface Prepared {
  /** One per server, in the wrapper's order. */
  clientKeys: Uint8Array[];
  clientIds: string[];
  wrapper: string;
}

/** Blank k means "the default" (a majority). */
const quorumText = (q: string | undefined): string | undefined => (q?.trim() ? q.trim() : undefined);

/** The wrapper for review: every cpk line (server 1's and `.2` … `.9`) masked. */
export function maskClientKeys(wrapper: string): string {
  return wrapper.replace(/^# cpk(\.[2-9])? = [0-9a-f]{64}$/gm, (_m, suffix: string | undefined) => `# cpk${suffix ?? ''} = ${'•'.repeat(16)} (hidden; written to the file)`);
}

export function installHandlers({ deps, session }: BackendContext): HandlerGroup<C> {
  let prepared: Prepared | null = null;
  const drop = () => {
    if (prepared) zeroize(...prepared.clientKeys);
    prepared = null;
  };
  session.onForget(drop);
  const need = (): Prepared => {
    if (!prepared) throw new CldcbError('bad_input', 'Run the ceremony first (the servers, then "Make the client keys and sign").');
    return prepared;
  };
  const serverAt = (p: Prepared, server: number | undefined): number => {
    const i = server ?? 0;
    if (i >= p.clientKeys.length) throw new CldcbError('bad_input', `There is no server ${i + 1} in this ceremony (it has ${p.clientKeys.length}).`);
    return i;
  };
  /** File names: one server keeps the names it always had; several are numbered like the wrapper's keys. */
  const numbered = (p: Prepared, i: number, base: string, ext: string): string => (p.clientKeys.length === 1 ? `${base}${ext}` : `${base}-${i + 1}${ext}`);
  const saveText = async (title: string, defaultName: string, text: string, mode: number) => {
    const target = await deps.chooseSavePath({ title, defaultName });
    if (target === null) return null;
    writeFileAtomic(target, text, { mode });
    return { path: target };
  };

  return {
    'install.check': ({ servers, quorum }): InstallCheckView => {
      const c = checkInstallChoice(
        servers.map((s) => s.trim()),
        quorumText(quorum),
        APP_INSTALL_WORDING,
      );
      return { servers: c.serverProblems.map((p) => p ?? null), list: c.listProblem ?? null, quorum: c.quorumProblem ?? null, k: c.quorum ?? null };
    },

    'install.prepare': async ({ servers, quorum, proxy, pluginCommand }): Promise<InstallView> => {
      const secret = session.get();
      const choice = parseInstallChoice(
        servers.map((s) => s.trim()),
        quorumText(quorum),
        APP_INSTALL_WORDING,
      );
      const proxyHp = proxy?.trim() ? parseHostPort(proxy.trim(), DEFAULT_PROXY_PORT, 'proxy') : undefined;
      const command = pluginCommand?.trim() ? [pluginCommand.trim()] : ['cldcb-plugin'];
      drop();
      const clientKeys = choice.targets.map(() => newClientKey());
      const nodePriv = nodePrivateKey(secret.secretData);
      try {
        const signed = signInstall({
          nodePrivateKey: nodePriv,
          servers: choice.targets.map((t, i) => ({ ...t, clientPrivateKey: clientKeys[i]!, ...(proxyHp ? { proxy: proxyHp } : {}) })),
          ...(choice.quorum !== undefined ? { quorum: choice.quorum } : {}),
        });
        const wrapper = formatPluginWrapper(signed.input, { command });
        const clientIds = signed.clientIds.map(formatClientId);
        prepared = { clientKeys, clientIds, wrapper };
        const n = clientIds.length;
        return {
          nodeId: formatNodeId(signed.nodeId),
          servers: await Promise.all(
            choice.targets.map(async (t, i) => ({
              serverId: formatServerId(t.serverKey),
              serverHost: formatHostPort(t.server),
              clientId: clientIds[i]!,
              serverCommand: `cldcb-server add --server-dir=<server dir> ${clientIds[i]!}`,
              clientIdQr: await qrSvgDataUrl(clientIds[i]!),
            })),
          ),
          quorum: signed.quorum ?? null,
          proofNeeds: signed.quorum !== undefined ? n - signed.quorum + 1 : null,
          wrapperPreview: maskClientKeys(wrapper),
          configLine: `plugin=<lightning-dir>/${WRAPPER_NAME}`,
        };
      } catch (e) {
        zeroize(...clientKeys);
        throw e;
      } finally {
        zeroize(nodePriv);
      }
    },
    // The wrapper holds cpk in plain text: owner-only and executable (0700), never overwriting.
    'install.saveWrapper': () => saveText('Save the plugin wrapper', WRAPPER_NAME, need().wrapper, 0o700),
    'install.saveClientId': ({ server }) => {
      const p = need();
      const i = serverAt(p, server);
      return saveText(p.clientKeys.length === 1 ? 'Save the client id' : `Save the client id for server ${i + 1}`, numbered(p, i, 'cldcb-client-id', '.txt'), p.clientIds[i]! + '\n', 0o644);
    },
    'install.saveClientKey': ({ server }) => {
      const p = need();
      const i = serverAt(p, server);
      return saveText(
        p.clientKeys.length === 1 ? 'Save the client key file' : `Save the client key file for server ${i + 1}`,
        numbered(p, i, 'cldcb-client', '.key'),
        formatClientKeyFile(p.clientKeys[i]!),
        0o400,
      );
    },
  };
}

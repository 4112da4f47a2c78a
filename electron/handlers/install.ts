/**
 * install.*: the key ceremony on the offline laptop. It makes a client key, signs the
 * recognition code with the node key, and exports the plugin wrapper, the client id
 * (file and QR) and optionally the client key file. The client private key stays in
 * the backend until the operator saves the wrapper or key file.
 */
import { CldcbError } from '../../shared/errors';
import { zeroize } from '../../shared/bytes';
import type { InstallView } from '../../shared/ipc/contract';
import { nobleSecp } from '../../shared/cldcb/curve';
import { formatClientId, formatClientKeyFile, formatHostPort, formatNodeId, formatServerId, parseHostPort, DEFAULT_PROXY_PORT } from '../../shared/cldcb/ids';
import { formatPluginWrapper } from '../../shared/cldcb/wrapper';
import { signRecognitionCode } from '../../shared/cldcb/recognition';
import { nodeIdFromSecret, nodePrivateKey } from '../../shared/secrets/nodeKey';
import { writeFileAtomic } from '../services/atomicFile';
import { newClientKey, parseServerSpec, WRAPPER_NAME } from '../services/installCeremony';
import { qrSvgDataUrl } from '../services/qr';
import type { BackendContext, HandlerGroup } from './context';

type C = 'install.prepare' | 'install.saveWrapper' | 'install.saveClientId' | 'install.saveClientKey';

interface Prepared {
  clientKey: Uint8Array;
  clientId: string;
  wrapper: string;
}

export function installHandlers({ deps, session }: BackendContext): HandlerGroup<C> {
  let prepared: Prepared | null = null;
  const drop = () => {
    if (prepared) zeroize(prepared.clientKey);
    prepared = null;
  };
  session.onForget(drop);
  const need = (): Prepared => {
    if (!prepared) throw new CldcbError('bad_input', 'Run the ceremony first (server id and address, then Prepare).');
    return prepared;
  };
  const saveText = async (title: string, defaultName: string, text: string, mode: number) => {
    const target = await deps.chooseSavePath({ title, defaultName });
    if (target === null) return null;
    writeFileAtomic(target, text, { mode });
    return { path: target };
  };

  return {
    'install.prepare': async ({ server, proxy, pluginCommand }): Promise<InstallView> => {
      const secret = session.get();
      const { serverKey, server: host } = parseServerSpec(server.trim());
      const proxyHp = proxy?.trim() ? parseHostPort(proxy.trim(), DEFAULT_PROXY_PORT, 'proxy') : undefined;
      const command = pluginCommand?.trim() ? [pluginCommand.trim()] : ['cldcb-plugin'];
      drop();
      const clientKey = newClientKey();
      const nodePriv = nodePrivateKey(secret.secretData);
      try {
        const clientPub = nobleSecp.publicKey(clientKey);
        const nodeId = nodeIdFromSecret(secret.secretData);
        const nsig = signRecognitionCode(nodePriv, clientPub);
        const wrapper = formatPluginWrapper(
          { clientPrivateKey: clientKey, nodeId, nodeSignature: nsig, serverId: serverKey, server: host, ...(proxyHp ? { proxy: proxyHp } : {}) },
          { command },
        );
        const clientId = formatClientId(clientPub);
        prepared = { clientKey, clientId, wrapper };
        return {
          clientId,
          nodeId: formatNodeId(nodeId),
          serverId: formatServerId(serverKey),
          serverHost: formatHostPort(host),
          wrapperPreview: wrapper.replace(/^# cpk = [0-9a-f]{64}$/m, '# cpk = ' + '•'.repeat(16) + ' (hidden; written to the file)'),
          serverCommand: `cldcb-server add --server-dir=<server dir> ${clientId}`,
          configLine: `plugin=<lightning-dir>/${WRAPPER_NAME}`,
          clientIdQr: await qrSvgDataUrl(clientId),
        };
      } catch (e) {
        zeroize(clientKey);
        throw e;
      } finally {
        zeroize(nodePriv);
      }
    },
    // The wrapper holds cpk in plain text: owner-only and executable (0700), never overwriting.
    'install.saveWrapper': () => saveText('Save the plugin wrapper', WRAPPER_NAME, need().wrapper, 0o700),
    'install.saveClientId': () => saveText('Save the client id', 'cldcb-client-id.txt', need().clientId + '\n', 0o644),
    'install.saveClientKey': () => saveText('Save the client key file', 'cldcb-client.key', formatClientKeyFile(need().clientKey), 0o400),
  };
}


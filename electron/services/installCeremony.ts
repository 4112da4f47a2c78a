/**
 * Pieces of the install ceremony (cldcb-protocol §1.3, §7, §8.1) shared by the CLI
 * (`cldcb-client newclient`, `cldcb-client installplugin`) and the app's install
 * handlers (electron/handlers/install.ts). Node only (OS CSPRNG).
 */
import { randomBytes } from 'node:crypto';
import { zeroize } from '../../shared/bytes';
import { CldcbError } from '../../shared/errors';
import { isValidPrivateKey } from '../../shared/cldcb/curve';
import { DEFAULT_SERVER_PORT, parseHostPort, parseServerId, type HostPort } from '../../shared/cldcb/ids';

/** The plugin wrapper's file name in the node's lightning directory. */
export const WRAPPER_NAME = 'cldcb-plugin-wrapper';

/** A fresh secp256k1 private key from the OS CSPRNG (retried until valid, as the original). */
export function newClientKey(): Uint8Array {
  for (;;) {
    const k = new Uint8Array(randomBytes(32));
    if (isValidPrivateKey(k)) return k;
    zeroize(k);
  }
}

/**
 * `SID@HOST[:PORT]` (HOST may be `[v6]`; default port DEFAULT_SERVER_PORT).
 * @throws CldcbError bad_input naming `--server` and what is wrong (the CLI shows it as a usage error).
 */
export function parseServerSpec(spec: string): { serverKey: Uint8Array; server: HostPort } {
  const at = spec.indexOf('@');
  if (at < 0) throw new CldcbError('bad_input', '--server must be SID@HOST:PORT (the server id 52…/53… from its server_id file, then its address)');
  let serverKey: Uint8Array;
  let server: HostPort;
  try {
    serverKey = parseServerId(spec.slice(0, at), '--server: server id');
    server = parseHostPort(spec.slice(at + 1), DEFAULT_SERVER_PORT, '--server: address');
  } catch (e) {
    throw new CldcbError('bad_input', (e as Error).message);
  }
  return { serverKey, server };
}

/**
 * Pieces of the install ceremony (cldcb-protocol §1.3, §7, §8.1) shared by the CLI
 * (`cldcb-client newclient`, `cldcb-client installplugin`) and the app's install
 * handlers (electron/handlers/install.ts). Node only (OS CSPRNG). The platform-free rules (the
 * servers, the quorum, the recognition codes) are in shared/cldcb/install.ts.
 */
import { randomBytes } from 'node:crypto';
import { zeroize } from '../bytes';
import { isValidPrivateKey } from '../cldcb/curve';

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

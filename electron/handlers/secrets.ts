/** app.* and secret.*: bring the secret in, show its node id, export it. */
import { CldcbError } from '../../shared/errors';
import { zeroize } from '../../shared/bytes';
import { decodeHsmSecretFile, encodeHsmSecretFile, getsecretText, parseSecretText } from '../../shared/secrets/hsmSecret';
import { writeFileAtomic } from '../services/atomicFile';
import { b64ToBytes, type BackendContext, type HandlerGroup } from './context';

type C = 'app.info' | 'secret.loadFile' | 'secret.loadText' | 'secret.current' | 'secret.forget' | 'secret.reveal' | 'secret.export';

export function secretHandlers({ deps, session }: BackendContext): HandlerGroup<C> {
  return {
    'app.info': () => ({ version: deps.version, host: deps.host, online: false }),

    'secret.loadFile': async ({ fileName, bytesB64, passphrase }) => {
      const bytes = b64ToBytes(bytesB64);
      try {
        return session.set(await decodeHsmSecretFile(bytes, passphrase), fileName);
      } finally {
        zeroize(bytes);
      }
    },
    'secret.loadText': async ({ text, passphrase, mnemonicMeaning }) =>
      session.set(await parseSecretText(text, { passphrase, mnemonicMeaning })),
    'secret.current': () => (session.current() ? session.describe() : null),
    'secret.forget': () => {
      session.forget();
      return null;
    },
    'secret.reveal': ({ as, id }) => {
      const s = session.get();
      if (as === 'words' && s.mnemonic === undefined)
        throw new CldcbError('unsupported', 'This secret has no words: it is a 32-byte secret. Show it as codex32 instead.');
      if (as === 'codex32' && s.secretData.length !== 32)
        throw new CldcbError(
          'unsupported',
          'A mnemonic-format secret is 64 bytes and codex32 (as Core Lightning writes it) holds 32: write down the words instead.',
        );
      return { text: getsecretText(s, as === 'codex32' ? (id ?? 'cldc') : undefined) };
    },
    'secret.export': async ({ format, passphrase }) => {
      const s = session.get();
      const target = await deps.chooseSavePath({ title: 'Save hsm_secret', defaultName: 'hsm_secret' });
      if (target === null) return null;
      const fileFormat = format === 'mnemonic' ? (passphrase ? 'mnemonic-passphrase' : 'mnemonic') : 'plain';
      const bytes = await encodeHsmSecretFile(s, fileFormat, passphrase);
      try {
        writeFileAtomic(target, bytes, { mode: 0o400 });
      } finally {
        zeroize(bytes);
      }
      return { path: target };
    },
  };
}

/**
 * app.* and secret.*: bring the secret in, show its node id, find a typo in what was typed,
 * export it.
 */
import { CldcbError } from '../../shared/errors';
import { bytesToHex, zeroize } from '../../shared/bytes';
import type { TypoCandidateView } from '../../shared/ipc/contract';
import { decodeSecretFileContent, encodeHsmSecretFile, getsecretText, parseSecretText, type LoadedSecret, type MnemonicMeaning } from '../../shared/secrets/hsmSecret';
import { writeFileAtomic } from '../../shared/node/atomicFile';
import { repairHexCopy, repairWordCopy } from '../../shared/node/typoRepair';
import { b64ToBytes, type BackendContext, type HandlerGroup } from './context';

type C =
  | 'app.info'
  | 'secret.loadFile'
  | 'secret.loadText'
  | 'secret.current'
  | 'secret.startRepair'
  | 'secret.applyRepair'
  | 'secret.forget'
  | 'secret.reveal'
  | 'secret.export';

/** A finished typo search on the loaded secret: the corrected texts stay here until one is applied. */
interface Repair {
  jobId: string;
  texts: string[];
  meaning: MnemonicMeaning | undefined;
}

/** How the loaded secret was typed, as text the typo search can change; null when it was not typed. */
function typedForm(s: LoadedSecret): { kind: 'hex' | 'words'; text: string; meaning?: MnemonicMeaning } | null {
  if (s.source === 'hex') return { kind: 'hex', text: bytesToHex(s.secretData) };
  if (s.source === 'words' && s.mnemonic !== undefined && s.format !== 'mnemonic-passphrase')
    return { kind: 'words', text: s.mnemonic, meaning: s.secretData.length === 64 ? 'mnemonic-format' : 'legacy-generatehsm' };
  return null;
}

export function secretHandlers({ deps, session }: BackendContext): HandlerGroup<C> {
  let repair: Repair | null = null;
  const dropRepair = () => {
    repair = null;
  };
  session.onForget(dropRepair);
  return {
    'app.info': () => ({ version: deps.version, host: deps.host, online: false }),

    // A binary hsm_secret, or a text file holding hex, words or codex32 (what the CLI takes too).
    'secret.loadFile': async ({ fileName, bytesB64, passphrase, mnemonicMeaning }) => {
      const bytes = b64ToBytes(bytesB64);
      try {
        return session.set(await decodeSecretFileContent(bytes, { passphrase, mnemonicMeaning, what: fileName || 'The file' }), fileName);
      } finally {
        zeroize(bytes);
      }
    },
    'secret.loadText': async ({ text, passphrase, mnemonicMeaning }) =>
      session.set(await parseSecretText(text, { passphrase, mnemonicMeaning })),
    'secret.current': () => (session.current() ? session.describe() : null),
    'secret.startRepair': ({ nodeId }) => {
      const form = typedForm(session.get());
      if (!form)
        throw new CldcbError(
          'unsupported',
          'The typo search works on a secret typed as hex or as words without a passphrase. A file or a codex32 string (its checksum catches typos) that gives another node id is another secret, or the passphrase is wrong: import again.',
        );
      repair = null;
      const jobId = session.jobs.start('typo-repair', async ({ onProgress, signal }) => {
        const r = form.kind === 'hex' ? await repairHexCopy(form.text, nodeId, { onProgress, signal }) : await repairWordCopy(form.text, nodeId, { onProgress, signal });
        const texts = r.candidates.map((c) => ('hex' in c ? c.hex : c.words.join(' ')));
        repair = { jobId, texts, meaning: form.meaning };
        // The corrected texts are the secret: the window gets only the positions that change.
        const candidates: TypoCandidateView[] = r.candidates.map((c) => ({ text: '', kind: c.kind, changes: c.changes.map((x) => ({ ...x })) }));
        return { candidates, searched: r.searched, ms: r.ms, exact: r.exact };
      });
      return { jobId };
    },
    'secret.applyRepair': async ({ jobId, index }) => {
      const r = repair;
      if (!r || r.jobId !== jobId) throw new CldcbError('bad_input', 'That typo search is over or was replaced: search again.');
      const text = r.texts[index];
      if (text === undefined) throw new CldcbError('bad_input', `There is no correction number ${index + 1}.`);
      const info = session.set(await parseSecretText(text, { mnemonicMeaning: r.meaning }));
      repair = null;
      return info;
    },
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

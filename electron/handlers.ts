/**
 * The IPC handler table (style.md §1). `createHandlers(deps)` builds one
 * function per contract channel; it imports no `electron`, so the Electron main
 * process registers it with `ipcMain.handle` and the e2e tests register the very
 * same table behind Playwright's `exposeBinding`.
 *
 * Every input arrives as `unknown` and is parsed with the contract's zod schema;
 * every outcome leaves as data (`Result`). The loaded secret lives here, in the
 * backend's memory, and is zeroized when forgotten or replaced.
 */
import { CHANNELS } from '../shared/ipc/channels';
import { contract, type Channel, type Input, type Output, type SecretInfo } from '../shared/ipc/contract';
import { CldcbError, fail, wrapResult, type Result } from '../shared/errors';
import { bytesToHex, zeroize } from '../shared/bytes';
import { nodeIdFromSecret } from '../shared/secrets/nodeKey';
import {
  decodeHsmSecretFile,
  encodeHsmSecretFile,
  getsecretText,
  parseSecretText,
  type LoadedSecret,
} from '../shared/secrets/hsmSecret';
import { JobRegistry } from './services/jobs';
import { writeFileAtomic } from './services/atomicFile';

export interface HandlerDeps {
  host: 'electron' | 'e2e';
  version: string;
  /** Ask the operator where to save a file; null when they cancel. */
  chooseSavePath(opts: { title: string; defaultName: string }): Promise<string | null>;
  /** Render self-contained HTML to PDF bytes (Electron: printToPDF; e2e: Chromium's page.pdf). */
  printToPdf(html: string): Promise<Uint8Array>;
  /** Is this frame URL our own renderer? Anything else is refused. */
  isTrustedSender(url: string): boolean;
}

type Handler<C extends Channel> = (input: Input<C>) => Promise<Output<C>> | Output<C>;
export type HandlerTable = { [C in Channel]: (input: unknown) => Promise<Result<Output<C>>> };

function b64ToBytes(b64: string): Uint8Array {
  return new Uint8Array(Buffer.from(b64, 'base64'));
}

export interface Backend {
  table: HandlerTable;
  /** Entry point for both hosts: check the sender, the channel, then run. */
  dispatch(channel: string, input: unknown, senderUrl: string): Promise<Result<unknown>>;
  /** Forget the secret and stop every job (window closed, app quitting). */
  dispose(): void;
}

export function createHandlers(deps: HandlerDeps): Backend {
  let secret: (LoadedSecret & { fileName?: string }) | null = null;
  const jobs = new JobRegistry();

  const setSecret = (s: LoadedSecret, fileName?: string): SecretInfo => {
    forget();
    secret = fileName === undefined ? s : { ...s, fileName };
    return describe(secret);
  };
  const forget = () => {
    if (secret) zeroize(secret.secretData);
    secret = null;
    jobs.clear();
  };
  const describe = (s: LoadedSecret & { fileName?: string }): SecretInfo => ({
    nodeId: bytesToHex(nodeIdFromSecret(s.secretData)),
    format: s.format,
    source: s.source,
    secretLength: s.secretData.length === 64 ? 64 : 32,
    hasMnemonic: s.mnemonic !== undefined,
    ...(s.fileName !== undefined ? { fileName: s.fileName } : {}),
  });
  const needSecret = (): LoadedSecret => {
    if (!secret) throw new CldcbError('bad_input', 'No secret is loaded: import the hsm_secret first (Import secret).');
    return secret;
  };

  const handlers: { [C in Channel]: Handler<C> } = {
    'app.info': () => ({ version: deps.version, host: deps.host, online: false }),

    'secret.loadFile': async ({ fileName, bytesB64, passphrase }) => {
      const bytes = b64ToBytes(bytesB64);
      try {
        return setSecret(await decodeHsmSecretFile(bytes, passphrase), fileName);
      } finally {
        zeroize(bytes);
      }
    },
    'secret.loadText': async ({ text, passphrase, mnemonicMeaning }) =>
      setSecret(await parseSecretText(text, { passphrase, mnemonicMeaning })),
    'secret.current': () => (secret ? describe(secret) : null),
    'secret.forget': () => {
      forget();
      return null;
    },
    'secret.reveal': ({ as, id }) => {
      const s = needSecret();
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
      const s = needSecret();
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

    'paper.compare': () => {
      throw new CldcbError('unsupported', 'Paper comparison is not wired yet.');
    },
    'paper.startRepair': () => {
      throw new CldcbError('unsupported', 'Typo repair is not wired yet.');
    },
    'paper.sheet': () => {
      throw new CldcbError('unsupported', 'The paper sheet is not wired yet.');
    },
    'paper.printPdf': () => {
      throw new CldcbError('unsupported', 'Printing is not wired yet.');
    },

    'job.status': ({ jobId }) => jobs.status(jobId),
    'job.cancel': ({ jobId }) => {
      jobs.cancel(jobId);
      return null;
    },
  };

  const table = {} as Record<Channel, (input: unknown) => Promise<Result<unknown>>>;
  for (const channel of CHANNELS) {
    const schema = contract[channel].input;
    const handler = handlers[channel] as (input: unknown) => unknown;
    table[channel] = async (input: unknown) => {
      const parsed = schema.safeParse(input ?? {});
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const where = issue?.path.length ? issue.path.join('.') : 'input';
        return fail('bad_input', `${channel}: ${where}: ${issue?.message ?? 'invalid'}.`);
      }
      return wrapResult(() => handler(parsed.data));
    };
  }

  return {
    table: table as HandlerTable,
    async dispatch(channel, input, senderUrl) {
      if (!deps.isTrustedSender(senderUrl)) return fail('bad_input', 'Request from an untrusted page refused.');
      if (!(CHANNELS as readonly string[]).includes(channel)) return fail('bad_input', `Unknown channel "${channel}".`);
      return table[channel as Channel](input);
    },
    dispose: forget,
  };
}

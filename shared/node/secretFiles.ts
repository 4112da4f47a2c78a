/**
 * hsm_secret files on disk (cln-facts.md §1). Reading accepts a binary Core
 * Lightning hsm_secret in every format, or a text file holding a copy of the
 * secret (64 hex digits, a codex32 "cl1…" string or BIP39 words). Writing goes
 * through writeFileAtomic with mode 0400 and never overwrites.
 *
 * Every error names the file. Nothing here logs or prints secret material.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { CldcbError } from '../errors';
import { zeroize } from '../bytes';
import {
  classifySecretFile,
  decodeSecretFileContent,
  detectHsmSecretFormat,
  secretFilePassphraseNeed,
  type LoadedSecret,
  type MnemonicMeaning,
  type SecretFileKind,
} from '../secrets/hsmSecret';
import { writeFileAtomic } from './atomicFile';

/** A binary hsm_secret is at most a few hundred bytes (32 + a 24-word mnemonic); text copies are small too. */
export const SECRET_FILE_MAX_BYTES = 4096;

/** Asked only when the file needs a passphrase (e.g. the CLI's terminal prompt). */
export type PassphraseProvider = () => Promise<string>;

export interface ReadSecretOptions {
  /** What BIP39 words in a text file mean (default 'mnemonic-format'). */
  mnemonicMeaning?: MnemonicMeaning;
}

/**
 * Read a file's bytes with a size limit. The caller zeroizes them.
 * @throws CldcbError file_not_found, io_error, bad_length (too big: probably the wrong file).
 */
export function readSecretFileBytes(path: string): Uint8Array {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO must not wait forever for a writer (issue 14 #6); checked below.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CldcbError('file_not_found', `${path}: no such file. Check the path.`);
    if (code === 'EACCES' || code === 'EPERM')
      throw new CldcbError('io_error', `${path}: permission denied. hsm_secret files are mode 0400: run as the file's owner.`);
    if (code === 'EISDIR') throw new CldcbError('bad_input', `${path} is a directory; give the hsm_secret file inside it.`);
    throw new CldcbError('io_error', `${path}: cannot open it (${code ?? 'I/O error'}).`);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new CldcbError('bad_input', `${path} is a directory; give the hsm_secret file inside it.`);
    if (!st.isFile())
      throw new CldcbError('bad_input', `${path} is ${st.isFIFO() ? 'a named pipe (FIFO)' : st.isSocket() ? 'a socket' : 'a device'}, not a file: give the hsm_secret file itself (a copy restored from a tar archive may have kept a FIFO).`);
    if (st.size > SECRET_FILE_MAX_BYTES)
      throw new CldcbError(
        'bad_length',
        `${path} is ${st.size} bytes; an hsm_secret (or a text copy of one) is at most ${SECRET_FILE_MAX_BYTES}. Is this the right file?`,
      );
    const buf = new Uint8Array(SECRET_FILE_MAX_BYTES + 1);
    let n = 0;
    for (;;) {
      const r = readSync(fd, buf, n, buf.length - n, null);
      if (r === 0) break;
      n += r;
      if (n > SECRET_FILE_MAX_BYTES) {
        zeroize(buf);
        throw new CldcbError('bad_length', `${path} is larger than ${SECRET_FILE_MAX_BYTES} bytes: not an hsm_secret. Is this the right file?`);
      }
    }
    const out = buf.slice(0, n);
    zeroize(buf);
    return out;
  } catch (e) {
    if (e instanceof CldcbError) throw e;
    throw new CldcbError('io_error', `${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? 'I/O error'}).`);
  } finally {
    closeSync(fd);
  }
}

/** What kind of secret file this is (binary format or text kind), without decoding it. */
export function inspectSecretFile(path: string): SecretFileKind & { passphrase: 'required' | 'optional' | 'none' } {
  const bytes = readSecretFileBytes(path);
  try {
    const kind = classifySecretFile(bytes, path);
    return { ...kind, passphrase: secretFilePassphraseNeed(kind) };
  } finally {
    zeroize(bytes);
  }
}

/**
 * Load a secret from a file: a binary CLN hsm_secret (plain, encrypted,
 * mnemonic, mnemonic with passphrase) or a text copy (hex / codex32 / words).
 *
 * @param passphrase a string is used as given (for encrypted and
 *   mnemonic-passphrase files, and as the BIP39 passphrase of a words text
 *   file); a provider function is called only when the file *requires* one
 *   (never for a words text file: an optional BIP39 passphrase must be given
 *   explicitly).
 * @returns the LoadedSecret; `source` is 'file' for a binary hsm_secret, else
 *   'hex' | 'codex32' | 'words'. Zeroize with forgetSecret.
 * @throws CldcbError (message starts with the path): file_not_found, io_error,
 *   bad_length, truncated, not_hsm_secret, passphrase_required,
 *   passphrase_not_needed, wrong_passphrase, bad_checksum, unknown_word, bad_hex, bad_input.
 */
export async function readSecretFile(
  path: string,
  passphrase?: string | PassphraseProvider,
  opts: ReadSecretOptions = {},
): Promise<LoadedSecret> {
  const bytes = readSecretFileBytes(path);
  try {
    const kind = classifySecretFile(bytes, path);
    let p: string | undefined;
    if (typeof passphrase === 'string') p = passphrase;
    else if (passphrase && secretFilePassphraseNeed(kind) === 'required') p = await passphrase();
    return await decodeSecretFileContent(bytes, { passphrase: p, mnemonicMeaning: opts.mnemonicMeaning, what: path });
  } finally {
    zeroize(bytes);
  }
}

/**
 * Write hsm_secret bytes to `path`: atomically, mode 0400, never overwriting
 * (CLN refuses too: "hsm_secret already exists!"). The bytes must be a valid
 * binary hsm_secret (checked, so a wrong buffer is never written as one).
 * @throws CldcbError file_exists, io_error, truncated / not_hsm_secret.
 */
export function writeHsmSecretFile(path: string, bytes: Uint8Array): void {
  try {
    detectHsmSecretFormat(bytes);
  } catch (e) {
    if (e instanceof CldcbError) throw new CldcbError(e.code, `Not writing ${path}: the data is not a valid hsm_secret (${e.message})`);
    throw e;
  }
  writeFileAtomic(path, bytes, { mode: 0o400 });
}

/**
 * Every way an hsm_secret comes in and goes out (cln-facts.md §1, §3, §4, §5).
 * Platform-free: bytes and strings in, bytes and strings out; files are read
 * and written by shared/node/secretFiles.ts.
 *
 * Binary files (common/hsm_secret.c):
 *   32 bytes                    plain       secret_data = the file
 *   73 bytes                    encrypted   Argon2id + secretstream, secret_data = 32 bytes
 *   32 zero bytes ‖ words       mnemonic    secret_data = BIP39 seed (64 bytes), no passphrase
 *   SHA256(seed) ‖ words        mnemonic-passphrase   same, seed with passphrase
 *
 * Text (what `lightningd --recover=…` accepts, in its order, plus typing help):
 *   codex32 "cl1…" (threshold 0, share "s", 32-byte payload) → plain
 *   64 hex digits (separators allowed)                        → plain
 *   BIP39 English words → mnemonic format (64-byte seed), or — if the operator
 *   says the node was made by the old `hsmtool generatehsm` — the first 32
 *   bytes of the seed as a plain secret. Both give the same node id and
 *   channel keys but a different on-chain wallet and makesecret/rune/SCB keys
 *   (cln-facts §1 "Which bytes feed which derivation", §3), so the operator
 *   chooses (`mnemonicMeaning`).
 *
 * Passphrases: `undefined` means none. For formats that take none, an empty
 * string is treated as none too (it cannot change anything); for formats that
 * need one, "" is a (weak) passphrase like any other, as in CLN. The bytes used
 * are the raw UTF-8 bytes up to the first NUL (libwally/libsodium see C
 * strings); no Unicode normalisation, as CLN. When a check value exists (the
 * MAC of an encrypted file, the seed hash of a mnemonic-passphrase file) and
 * the typed spelling fails, the other Unicode spellings (NFC/NFD/NFKC/NFKD) are
 * tried: only the bytes CLN really used can verify, so this is safe and rescues
 * a passphrase set on a system that composes accents differently.
 *
 * Error messages never contain secret material (no digits, words or passphrases).
 */
import { CldcbError } from '../errors';
import { bytesToHex, equalBytes, fromUtf8, hexToBytes, utf8, zeroize } from '../bytes';
import { sha256 } from '../crypto/hash';
import { decodeCodex32, encodeCodex32Secret, CODEX32_CHARSET } from '../codex32';
import { nodeIdFromSecret } from './nodeKey';
import { mnemonicToSeedRaw, passphraseSpellings, validateMnemonic, isBip39Word, UnknownWordError } from './words';
import { detectSecretTextKind } from './textKind';

export { detectSecretTextKind };
import { normaliseHexCopy } from './hexCopy';
import { deriveLegacyEncryptionKey, decryptLegacyHsmSecret, ENCRYPTED_HSM_SECRET_LEN } from './legacyEncryption';

export { normaliseHexCopy } from './hexCopy';

export type HsmSecretFormat = 'plain' | 'encrypted' | 'mnemonic' | 'mnemonic-passphrase';

export interface LoadedSecret {
  /** For text input: the format it will be written as / means. */
  format: HsmSecretFormat;
  /** 32 bytes (plain/encrypted/legacy) or the 64-byte BIP39 seed (mnemonic formats). Secret: zeroize via forgetSecret. */
  secretData: Uint8Array;
  /** The words, when known (mnemonic formats; text words in either meaning). */
  mnemonic?: string;
  source: 'file' | 'hex' | 'words' | 'codex32';
}

/** v25.12+ mnemonic file (64-byte seed) vs old generatehsm (first 32 bytes of the seed). */
export type MnemonicMeaning = 'mnemonic-format' | 'legacy-generatehsm';

const PLAIN_LEN = 32;
const HASH_LEN = 32;

/** The enum values CLN sends in hsmd_init_reply_v4's hsm_secret_type TLV (cln-facts §1). */
export const CLN_HSM_SECRET_TYPE: Record<HsmSecretFormat, number> = {
  plain: 0,
  encrypted: 1,
  mnemonic: 2,
  'mnemonic-passphrase': 3,
};

/** Human names, as lightning-hsmtool's format_type_name(). */
export const HSM_SECRET_FORMAT_NAMES: Record<HsmSecretFormat, string> = {
  plain: 'plain (32-byte binary)',
  encrypted: 'encrypted (73-byte binary)',
  mnemonic: 'mnemonic (no password)',
  'mnemonic-passphrase': 'mnemonic (with password)',
};

const isPrintableText = (b: Uint8Array): boolean => {
  for (const c of b) if (!((c >= 0x20 && c < 0x7f) || c === 0x0a || c === 0x0d || c === 0x09)) return false;
  return true;
};
const allZero = (b: Uint8Array): boolean => b.every((c) => c === 0);
const hasLetter = (b: Uint8Array): boolean => b.some((c) => (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a));

/**
 * The format of a binary hsm_secret file: CLN's `detect_hsm_secret_type()`
 * (length and the first 32 bytes), made stricter so damaged or wrong files
 * give a helpful error instead of a wrong guess:
 *   - a mnemonic format also needs printable text after the first 32 bytes;
 *   - a file that is text from its first byte is a text copy, not a CLN file.
 * @throws CldcbError truncated (empty, < 32 bytes, or 33–72 bytes that are not
 *   a mnemonic file), not_hsm_secret (anything else CLN would not load).
 */
export function detectHsmSecretFormat(file: Uint8Array): HsmSecretFormat {
  const n = file.length;
  if (n === 0) throw new CldcbError('truncated', 'The hsm_secret file is empty (0 bytes). Use the original file or another backup.');
  if (n < PLAIN_LEN)
    throw new CldcbError(
      'truncated',
      `The hsm_secret file is only ${n} bytes; the shortest format (plain) is exactly 32 bytes. The file looks cut short: use the original or another backup.`,
    );
  if (n === PLAIN_LEN) return 'plain';
  if (n === ENCRYPTED_HSM_SECRET_LEN) return 'encrypted';
  const head = file.subarray(0, HASH_LEN);
  const tail = file.subarray(HASH_LEN);
  const tailIsWords = isPrintableText(tail) && hasLetter(tail);
  if (!allZero(head) && isPrintableText(head))
    throw new CldcbError(
      'not_hsm_secret',
      `This is a text file (${n} bytes), not a binary Core Lightning hsm_secret. If it holds hex digits, a codex32 "cl1…" string or BIP39 words, load it as text.`,
    );
  if (tailIsWords) return allZero(head) ? 'mnemonic' : 'mnemonic-passphrase';
  if (allZero(head))
    throw new CldcbError(
      'not_hsm_secret',
      `The hsm_secret file (${n} bytes) starts with 32 zero bytes like a mnemonic file, but what follows is not mnemonic text. Check that this is the right file, or load the words as text.`,
    );
  if (n < ENCRYPTED_HSM_SECRET_LEN)
    throw new CldcbError(
      'truncated',
      `The hsm_secret file is ${n} bytes: neither plain (32 bytes), encrypted (73 bytes) nor 32 bytes followed by the mnemonic words. ` +
        `It may be an encrypted file missing its last ${ENCRYPTED_HSM_SECRET_LEN - n} bytes: use the original or another backup.`,
    );
  throw new CldcbError(
    'not_hsm_secret',
    `Not a Core Lightning hsm_secret: ${n} bytes that are neither plain (32 bytes), encrypted (73 bytes) nor 32 bytes followed by the mnemonic words. Check that this is the right file.`,
  );
}

/** CLN's `hsm_secret_needs_passphrase()`: encrypted and mnemonic-passphrase files. */
export function hsmSecretNeedsPassphrase(format: HsmSecretFormat): boolean {
  return format === 'encrypted' || format === 'mnemonic-passphrase';
}

/** Overwrite the secret bytes of a LoadedSecret once it is no longer needed. */
export function forgetSecret(secret: LoadedSecret | undefined | null): void {
  if (secret) zeroize(secret.secretData);
}

/** The node id (66 hex) of a loaded secret (cln-facts §2: uses secretData[0..32]). */
export function nodeIdHex(secret: LoadedSecret): string {
  return bytesToHex(nodeIdFromSecret(secret.secretData));
}

/** Treat "" as no passphrase (for formats that take none). */
const given = (p: string | undefined): p is string => p !== undefined && p !== '';

function notNeeded(what: string): CldcbError {
  return new CldcbError(
    'passphrase_not_needed',
    `A passphrase was given but ${what} is not protected by one (Core Lightning: "Passphrase provided but not needed"). Leave the passphrase empty.`,
  );
}

/** Try each Unicode spelling of `p` until `attempt` returns a value. */
async function withSpellings<T>(p: string, attempt: (p: string) => Promise<T | null> | T | null): Promise<T | null> {
  for (const spelling of passphraseSpellings(p)) {
    const r = await attempt(spelling);
    if (r !== null) return r;
  }
  return null;
}

/** The mnemonic stored in a mnemonic-format file: exactly what CLN would accept. */
function mnemonicFromFile(file: Uint8Array): string {
  let tail = file.subarray(HASH_LEN);
  const nul = tail.indexOf(0);
  if (nul >= 0) tail = tail.subarray(0, nul); // tal_strndup stops at a NUL
  const text = fromUtf8(tail, 'hsm_secret mnemonic');
  const canonical = validateMnemonic(text, { expandPrefixes: false });
  if (canonical !== text)
    throw new CldcbError(
      'bad_input',
      'The words in this hsm_secret file are not in the exact form Core Lightning writes and accepts (lower-case English words separated by single spaces, ' +
        'nothing before or after — not even a line break), so lightningd would refuse it ("Invalid mnemonic"). Repair the file, or load the words as text.',
    );
  return canonical;
}

/**
 * Decode a binary hsm_secret file (as lightningd / lightning-hsmtool load it).
 * @param passphrase for encrypted (the file password) and mnemonic-passphrase
 *   (the BIP39 passphrase) files; must be absent (or "") for the others.
 * @throws CldcbError truncated / not_hsm_secret (see detectHsmSecretFormat),
 *   passphrase_required, passphrase_not_needed, wrong_passphrase, and for
 *   mnemonic files bad_checksum, unknown_word, bad_length, bad_input.
 * @example (await decodeHsmSecretFile(bytes32)).format // 'plain'
 */
export async function decodeHsmSecretFile(file: Uint8Array, passphrase?: string): Promise<LoadedSecret> {
  const format = detectHsmSecretFormat(file);
  switch (format) {
    case 'plain':
      if (given(passphrase)) throw notNeeded('this plain hsm_secret');
      return { format, secretData: file.slice(0, PLAIN_LEN), source: 'file' };

    case 'encrypted': {
      if (passphrase === undefined)
        throw new CldcbError('passphrase_required', 'This hsm_secret is encrypted (73-byte legacy format): its password is needed to open it.');
      const secretData = await withSpellings(passphrase, async (p) => {
        const key = await deriveLegacyEncryptionKey(p);
        try {
          return await decryptLegacyHsmSecret(file, key);
        } finally {
          zeroize(key);
        }
      });
      if (!secretData)
        throw new CldcbError('wrong_passphrase', 'Wrong passphrase: it does not open this encrypted hsm_secret. Check it (case, spaces, keyboard layout) and try again.');
      return { format, secretData, source: 'file' };
    }

    case 'mnemonic': {
      if (given(passphrase)) throw notNeeded('this mnemonic hsm_secret (its first 32 bytes are zero)');
      const mnemonic = mnemonicFromFile(file);
      return { format, secretData: mnemonicToSeedRaw(mnemonic), mnemonic, source: 'file' };
    }

    case 'mnemonic-passphrase': {
      if (passphrase === undefined)
        throw new CldcbError(
          'passphrase_required',
          'This hsm_secret is a mnemonic with a passphrase: the BIP39 passphrase is needed (it is part of the seed).',
        );
      // Validate the words first: a damaged mnemonic would otherwise look like a wrong passphrase.
      const mnemonic = mnemonicFromFile(file);
      const stored = file.subarray(0, HASH_LEN);
      const secretData = await withSpellings(passphrase, (p) => {
        const seed = mnemonicToSeedRaw(mnemonic, p);
        if (equalBytes(sha256(seed), stored)) return seed;
        zeroize(seed);
        return null;
      });
      if (!secretData)
        throw new CldcbError(
          'wrong_passphrase',
          'Wrong passphrase: with it, the words give a seed whose hash does not match the one stored in this hsm_secret. Check it (case, spaces, keyboard layout) and try again.',
        );
      return { format, secretData, mnemonic, source: 'file' };
    }
  }
}

/**
 * Parse typed/pasted secret text: 64 hex digits (spaces, dashes, line breaks
 * allowed), a codex32 "cl1…" string as CLN's --recover takes it (threshold 0,
 * share "s", 32-byte payload, all lower or all upper case), or 12–24 BIP39
 * English words (case and spacing free; unique 4-letter abbreviations allowed).
 *
 * Words mean, by `mnemonicMeaning`:
 *   'mnemonic-format' (default): the v25.12+ file — secretData is the 64-byte
 *     seed with the passphrase; format 'mnemonic' or 'mnemonic-passphrase'.
 *   'legacy-generatehsm': the old `hsmtool generatehsm` file — secretData is
 *     seed[0..32]; format 'plain'.
 * Same node id either way; different wallet and makesecret keys.
 * An empty passphrase is no passphrase (as CLN's generatehsm).
 * @throws CldcbError bad_input (unrecognised text, codex32 errors), bad_hex,
 *   bad_length, bad_checksum, unknown_word (UnknownWordError: position + suggestions),
 *   passphrase_not_needed (hex/codex32 with a passphrase), unsupported.
 */
export async function parseSecretText(
  text: string,
  opts: { passphrase?: string; mnemonicMeaning?: MnemonicMeaning } = {},
): Promise<LoadedSecret> {
  const kind = detectSecretTextKind(text);
  switch (kind) {
    case 'hex': {
      const hex = normaliseHexCopy(text);
      if (given(opts.passphrase)) throw notNeeded('a hex secret');
      return { format: 'plain', secretData: hexToBytes(hex, 'hex secret', 32), source: 'hex' };
    }
    case 'codex32': {
      const compact = text.replace(/\s+/gu, '');
      if (/^ms1/iu.test(compact))
        throw new CldcbError(
          'unsupported',
          'This is a BIP-93 "ms1…" codex32 wallet seed, not a Core Lightning secret: Core Lightning\'s codex32 secrets start with "cl1".',
        );
      const parts = decodeCodex32(compact, 'cl');
      if (parts.threshold !== 0 || parts.shareIndex !== 's') {
        zeroize(parts.payload);
        throw new CldcbError(
          'unsupported',
          `This codex32 string is share "${parts.shareIndex}" of a ${parts.threshold}-of-n split; Core Lightning takes only the unshared secret (threshold 0, share "s"). Combine the shares first.`,
        );
      }
      if (parts.payload.length !== 32) {
        const n = parts.payload.length;
        zeroize(parts.payload);
        throw new CldcbError('bad_length', `This codex32 string holds ${n} bytes; a Core Lightning secret holds 32 (a 74-character "cl1…" string).`);
      }
      if (given(opts.passphrase)) {
        zeroize(parts.payload);
        throw notNeeded('a codex32 secret');
      }
      return { format: 'plain', secretData: parts.payload, source: 'codex32' };
    }
    case 'words': {
      const mnemonic = validateMnemonic(text);
      const p = given(opts.passphrase) ? opts.passphrase : undefined;
      const seed = mnemonicToSeedRaw(mnemonic, p);
      if (opts.mnemonicMeaning === 'legacy-generatehsm') {
        const secretData = seed.slice(0, 32);
        zeroize(seed);
        return { format: 'plain', secretData, mnemonic, source: 'words' };
      }
      return { format: p === undefined ? 'mnemonic' : 'mnemonic-passphrase', secretData: seed, mnemonic, source: 'words' };
    }
    case 'unknown':
      throw new CldcbError(
        'bad_input',
        'Not recognised as a secret: expected 64 hex digits, a codex32 string starting "cl1", or 12 to 24 BIP39 English words.',
      );
  }
}

/**
 * Bytes of an hsm_secret file for `secret`, in `format`:
 *   plain: the 32-byte secret. Refused for a 64-byte BIP39 seed: writing only
 *     its first 32 bytes keeps the node id and channel keys but gives the node a
 *     different on-chain wallet and different makesecret/rune/SCB keys (cln-facts §1, §3).
 *   mnemonic: 32 zero bytes ‖ the words; the seed must be that of the words
 *     without passphrase.
 *   mnemonic-passphrase: SHA256(seed) ‖ the words; `passphrase` must be the one
 *     that, with the words, gives this seed.
 * A 32-byte secret (even one made from words by old generatehsm) cannot be
 * written as a mnemonic file: that too would change the wallet.
 * @throws CldcbError unsupported (change of meaning, missing words),
 *   passphrase_required, passphrase_not_needed, wrong_passphrase.
 */
export async function encodeHsmSecretFile(
  secret: LoadedSecret,
  format: 'plain' | 'mnemonic' | 'mnemonic-passphrase',
  passphrase?: string,
): Promise<Uint8Array> {
  const n = secret.secretData.length;
  if (format === 'plain') {
    if (given(passphrase)) throw notNeeded('a plain hsm_secret');
    if (n !== PLAIN_LEN)
      throw new CldcbError(
        'unsupported',
        'This secret is a 64-byte BIP39 seed (mnemonic format). A plain file holds 32 bytes; writing only the first 32 would keep the node id and channels ' +
          'but give the node a different on-chain wallet and different makesecret/rune/backup keys. Export it in mnemonic format instead.',
      );
    return secret.secretData.slice();
  }
  if (!secret.mnemonic)
    throw new CldcbError('unsupported', 'A mnemonic hsm_secret needs the words, and this secret has none (it came from a plain or encrypted file, hex or codex32). Export it as plain.');
  if (n !== 64)
    throw new CldcbError(
      'unsupported',
      'This secret is the 32-byte form of the words (old `hsmtool generatehsm`). A mnemonic-format file would make lightningd use the full 64-byte seed: ' +
        'same node id and channels, but a different on-chain wallet and makesecret/rune/backup keys. Export it as plain to keep the node as it was.',
    );
  const words = utf8(secret.mnemonic);
  const out = new Uint8Array(HASH_LEN + words.length);
  out.set(words, HASH_LEN);
  if (format === 'mnemonic') {
    if (given(passphrase)) throw notNeeded('a mnemonic file without passphrase');
    const seed = mnemonicToSeedRaw(secret.mnemonic);
    const same = equalBytes(seed, secret.secretData);
    zeroize(seed);
    if (!same)
      throw new CldcbError(
        'unsupported',
        'This seed was made with a BIP39 passphrase; a mnemonic file without passphrase would be a different seed (a different wallet). Export it as mnemonic with its passphrase.',
      );
    return out;
  }
  if (passphrase === undefined || passphrase === '')
    throw new CldcbError('passphrase_required', 'A mnemonic-with-passphrase file needs the BIP39 passphrase the words were loaded with.');
  const mnemonic = secret.mnemonic;
  const ok = await withSpellings(passphrase, (p) => {
    const seed = mnemonicToSeedRaw(mnemonic, p);
    const same = equalBytes(seed, secret.secretData);
    zeroize(seed);
    return same ? true : null;
  });
  if (!ok)
    throw new CldcbError(
      'wrong_passphrase',
      'This passphrase does not give this secret\'s seed with its words: a mnemonic-with-passphrase file must use the same passphrase (another one would be a different wallet).',
    );
  out.set(sha256(secret.secretData), 0);
  return out;
}

/** Check a codex32 identifier as CLN's codex32_secret_encode does. @throws CldcbError bad_input */
function checkCodex32Id(id: string): void {
  if (id.length !== 4) throw new CldcbError('bad_input', `Invalid id: must be 4 characters (got ${id.length}).`);
  for (let i = 0; i < 4; i++) {
    const c = id[i]!;
    if (c.charCodeAt(0) > 127) throw new CldcbError('bad_input', `Invalid id: must be ASCII (character ${i + 1} is not).`);
    if (!CODEX32_CHARSET.includes(c.toLowerCase()))
      throw new CldcbError('bad_input', `Invalid id: must be valid bech32 string (character ${i + 1} is not; 1, b, i and o are never used).`);
    if (c !== c.toLowerCase()) throw new CldcbError('bad_input', `Invalid id: must be lower-case (character ${i + 1} is not).`);
  }
}

/**
 * What `lightning-hsmtool getsecret FILE [ID]` prints (cln-facts §4, §5), without the newline:
 *   32-byte secret (plain; encrypted after decryption): the codex32 string
 *     "cl1" + "0" + id + "s" + payload + checksum; `id` (4 bech32 characters) is required.
 *   mnemonic formats: the words; `id` is ignored. The BIP39 passphrase is
 *     **not** part of the output (as hsmtool) — the operator must keep it.
 * Difference: hsmtool refuses an encrypted file ("Encrypted hsm_secret") after
 * asking its password; we print the codex32 of the decrypted 32-byte secret,
 * which is exactly what the same file gives after `hsmtool decrypt`.
 * @throws CldcbError bad_input (id missing or invalid).
 * @example getsecretText({ format: 'plain', secretData: ffee…00×2, source: 'file' }, 'leet')
 * // 'cl10leetsllhdmn9m42vcsamx24zrxgs3qrl7ahwvhw4fnzrhve25gvezzyqqjdsjnzedu43ns'
 */
export function getsecretText(secret: LoadedSecret, id?: string): string {
  if (secret.format === 'mnemonic' || secret.format === 'mnemonic-passphrase') {
    if (!secret.mnemonic) throw new CldcbError('internal', 'Internal error: a mnemonic-format secret without its words.');
    return secret.mnemonic;
  }
  if (secret.secretData.length !== 32) throw new CldcbError('internal', 'Internal error: a plain secret that is not 32 bytes.');
  if (id === undefined || id === '')
    throw new CldcbError('bad_input', 'Must set an id for a codex32 secret: 4 characters of your choice from the bech32 alphabet (e.g. your node\'s alias, "leet").');
  checkCodex32Id(id);
  return encodeCodex32Secret('cl', id, 0, secret.secretData);
}

/**
 * The codex32 string the `exposesecret` plugin gives (cln-facts §4): "cl" +
 * threshold 0 + id + "s" + secretData[0..32], for any format. For a mnemonic
 * secret this is only the first 32 bytes of the seed: `--recover` with it
 * restores the same node id and channels but a **different** on-chain wallet
 * and makesecret/rune/SCB keys. Prefer the words (getsecretText) for those.
 * @throws CldcbError bad_input (id missing or invalid).
 */
export function exposesecretCodex32(secret: LoadedSecret, id: string): string {
  checkCodex32Id(id);
  return encodeCodex32Secret('cl', id, 0, secret.secretData.subarray(0, 32));
}

// ---------------------------------------------------------------------------
// A file of unknown kind: a binary CLN hsm_secret, or a text file holding hex,
// codex32 or words (what the operator saved from a paper copy).

export type SecretFileKind =
  | { kind: 'binary'; format: HsmSecretFormat }
  | { kind: 'text'; textKind: 'hex' | 'words' | 'codex32' };

/**
 * Tell a binary CLN hsm_secret from a text file. 32 bytes is always binary
 * (no text secret is that short); a file starting with 32 zero bytes is a
 * mnemonic file; any other file that is entirely printable text (ASCII, tabs,
 * line breaks; a UTF-8 byte-order mark is skipped) is a text copy — a random
 * 73-byte encrypted file or a SHA256 seed hash is never all printable.
 * @throws CldcbError truncated / not_hsm_secret / bad_input (text that is not a secret).
 */
export function classifySecretFile(bytes: Uint8Array, what = 'The file'): SecretFileKind {
  const n = bytes.length;
  const bom = n >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  const body = bom ? bytes.subarray(3) : bytes;
  // A printable 73-byte file is text: a random encrypted file is printable with odds ≈ 1e-30.
  const looksText = n !== PLAIN_LEN && body.length > 0 && isPrintableText(body) && !allZero(bytes.subarray(0, Math.min(n, HASH_LEN)));
  if (!looksText) {
    try {
      return { kind: 'binary', format: detectHsmSecretFormat(bytes) };
    } catch (e) {
      if (e instanceof CldcbError) throw new CldcbError(e.code, `${what}: ${e.message}`);
      throw e;
    }
  }
  const text = fromUtf8(body, what);
  const k = detectSecretTextKind(text);
  if (k === 'unknown')
    throw new CldcbError(
      'not_hsm_secret',
      `${what} is a text file but holds no recognisable secret: expected a binary hsm_secret, 64 hex digits, a codex32 "cl1…" string or 12–24 BIP39 words.`,
    );
  return { kind: 'text', textKind: k };
}

/** Whether loading these file bytes needs a passphrase: 'required', 'optional' (words: a BIP39 passphrase if the operator has one) or 'none'. */
export function secretFilePassphraseNeed(kind: SecretFileKind): 'required' | 'optional' | 'none' {
  if (kind.kind === 'binary') return hsmSecretNeedsPassphrase(kind.format) ? 'required' : 'none';
  return kind.textKind === 'words' ? 'optional' : 'none';
}

/**
 * Load the bytes of a file that is either a binary hsm_secret or a text copy.
 * `source` is 'file' for binary files and the text kind for text files.
 * @throws CldcbError as classifySecretFile, decodeHsmSecretFile and parseSecretText, with `what` prefixed.
 */
export async function decodeSecretFileContent(
  bytes: Uint8Array,
  opts: { passphrase?: string; mnemonicMeaning?: MnemonicMeaning; what?: string } = {},
): Promise<LoadedSecret> {
  const what = opts.what ?? 'The file';
  const kind = classifySecretFile(bytes, what);
  try {
    if (kind.kind === 'binary') return await decodeHsmSecretFile(bytes, opts.passphrase);
    const start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
    const text = fromUtf8(bytes.subarray(start), what);
    return await parseSecretText(text, { passphrase: opts.passphrase, mnemonicMeaning: opts.mnemonicMeaning });
  } catch (e) {
    if (e instanceof UnknownWordError) throw new UnknownWordError(e.position, e.suggestions, `${what}: ${e.message}`);
    if (e instanceof CldcbError) throw new CldcbError(e.code, `${what}: ${e.message}`);
    throw e;
  }
}

export { isBip39Word, UnknownWordError };

/**
 * emergency.recover: Core Lightning's encrypted static channel backup
 * (plugins/chanbackup.c; common/scb_wire.csv; cln-facts.md §6).
 *
 *   file      = header[24] || secretstream_push(plaintext, tag = 0)        key = makesecret("scb secret")
 *   plaintext = u16 type || u64 version || u32 timestamp || u16 num || num × channel
 *               type 6137 (0x17f9) static_chan_backup_with_tlvs: modern_scb_chan entries (v25.02+)
 *               type 6135 (0x17f7) static_chan_backup:           legacy_scb_chan entries
 *
 * CLN reads 6135 first, then 6137, and converts legacy entries to modern ones
 * with empty TLVs (read_static_chan_backup). It then checks
 * (version & 0x5555555555555555) == (1 & 0x5555555555555555).
 */
import { bech32 } from '@scure/base';
import { ByteReader, concatBytes, fromUtf8, hexToBytes, u16be, u32be, u64be, zeroize } from '../bytes';
import { CldcbError } from '../errors';
import {
  encodeLegacyScbChan,
  encodeModernScbChan,
  legacyToModern,
  readLegacyScbChan,
  readModernScbChan,
  type LegacyScbChan,
  type ModernScbChan,
} from './scbChan';
import { describeScbKeyBase, scbKeyCandidates, type ScbKeyBase } from './secrets';
import { SECRETSTREAM_A_BYTES, SECRETSTREAM_HEADER_BYTES, secretstreamOpen, secretstreamSeal } from './secretstream';

export const WIRE_STATIC_CHAN_BACKUP = 6135;
export const WIRE_STATIC_CHAN_BACKUP_WITH_TLVS = 6137;
/** chanbackup's VERSION. */
export const SCB_VERSION = 1n;
const VERSION_MASK = 0x5555555555555555n;

interface BackupCommon {
  readonly version: bigint;
  /** Seconds since the epoch when chanbackup wrote the file. */
  readonly timestamp: number;
  /** Bytes after the last channel (CLN ignores them too; normally 0). */
  readonly trailingBytes: number;
}
export interface ModernStaticChanBackup extends BackupCommon {
  readonly format: 'modern';
  readonly channels: readonly ModernScbChan[];
}
export interface LegacyStaticChanBackup extends BackupCommon {
  readonly format: 'legacy';
  readonly channels: readonly LegacyScbChan[];
}
export type StaticChanBackup = ModernStaticChanBackup | LegacyStaticChanBackup;

/** The entries as recoverchannel takes them (legacy ones converted, like CLN). */
export function backupChannels(b: StaticChanBackup): ModernScbChan[] {
  return b.format === 'modern' ? [...b.channels] : b.channels.map(legacyToModern);
}

/** True when the version passes CLN's check. */
export function isCompatibleScbVersion(version: bigint): boolean {
  return (version & VERSION_MASK) === (SCB_VERSION & VERSION_MASK);
}

/**
 * Decode the decrypted plaintext of an emergency.recover (or a peer-storage blob).
 * @param what names the input in errors (default "emergency.recover").
 * @throws CldcbError truncated / bad_input (unknown message type) / unsupported (version, unknown address or TLV types).
 * @example decodeStaticChanBackup(hex '17f9 0000000000000001 6553f100 0000') // {format:'modern', channels: []}
 */
export function decodeStaticChanBackup(plaintext: Uint8Array, what = 'emergency.recover'): StaticChanBackup {
  const r = new ByteReader(plaintext, what);
  const type = r.u16('message type');
  if (type !== WIRE_STATIC_CHAN_BACKUP && type !== WIRE_STATIC_CHAN_BACKUP_WITH_TLVS)
    throw new CldcbError(
      'bad_input',
      `${what}: decrypted, but the message type is ${type}, not a static channel backup (6135 or 6137). The file is not an emergency.recover.`,
    );
  const version = r.u64('version');
  if (!isCompatibleScbVersion(version))
    throw new CldcbError('unsupported', `${what}: incompatible emergency.recover version ${version} (expected ${SCB_VERSION}), as Core Lightning would also refuse.`);
  const timestamp = r.u32('timestamp');
  const num = r.u16('channel count');
  if (type === WIRE_STATIC_CHAN_BACKUP_WITH_TLVS) {
    const channels: ModernScbChan[] = [];
    for (let i = 0; i < num; i++) channels.push(readModernScbChan(r, `channel ${i + 1} of ${num}`));
    return { format: 'modern', version, timestamp, channels, trailingBytes: r.remaining };
  }
  const channels: LegacyScbChan[] = [];
  for (let i = 0; i < num; i++) channels.push(readLegacyScbChan(r, `channel ${i + 1} of ${num}`));
  return { format: 'legacy', version, timestamp, channels, trailingBytes: r.remaining };
}

/**
 * Encode a static channel backup message (towire_static_chan_backup[_with_tlvs]).
 * @throws CldcbError bad_length / unsupported for entries that cannot be serialised.
 */
export function encodeStaticChanBackup(b: {
  format: 'modern' | 'legacy';
  version?: bigint;
  timestamp: number;
  channels: readonly (ModernScbChan | LegacyScbChan)[];
}): Uint8Array {
  if (b.channels.length > 0xffff) throw new CldcbError('bad_length', 'static channel backup: more than 65535 channels.');
  const body =
    b.format === 'modern'
      ? b.channels.map((c) => encodeModernScbChan('tlvs' in c ? c : legacyToModern(c)))
      : b.channels.map((c) => encodeLegacyScbChan('unused' in c ? c : { ...c, unused: 0 }));
  return concatBytes(
    u16be(b.format === 'modern' ? WIRE_STATIC_CHAN_BACKUP_WITH_TLVS : WIRE_STATIC_CHAN_BACKUP),
    u64be(b.version ?? SCB_VERSION),
    u32be(b.timestamp),
    u16be(b.channels.length),
    ...body,
  );
}

export interface OpenedEmergencyRecover {
  readonly backup: StaticChanBackup;
  /** Which key opened the file (see secrets.ts). */
  readonly keyBase: ScbKeyBase;
  /** A sentence for the operator explaining keyBase. */
  readonly keyNote: string;
}

/**
 * Decrypt an emergency.recover with the keys this secret can produce (all of
 * secret_data, then for a 64-byte seed its first 32 bytes).
 * @returns the plaintext and the key base that opened it. Zeroize the plaintext when done.
 * @throws CldcbError truncated (shorter than header + MAC) or not_authentic (no key verifies).
 */
export async function decryptEmergencyRecover(
  file: Uint8Array,
  secretData: Uint8Array,
  what = 'emergency.recover',
): Promise<{ plaintext: Uint8Array; keyBase: ScbKeyBase }> {
  const min = SECRETSTREAM_HEADER_BYTES + SECRETSTREAM_A_BYTES;
  if (file.length < min)
    throw new CldcbError(
      'truncated',
      `${what}: only ${file.length} bytes; an emergency.recover has at least ${min} (a 24-byte header and a 17-byte authentication tag). The file is truncated or not an emergency.recover.`,
    );
  const candidates = scbKeyCandidates(secretData);
  try {
    for (const c of candidates) {
      const plaintext = await secretstreamOpen(c.key, file);
      if (plaintext) return { plaintext, keyBase: c.base };
    }
  } finally {
    for (const c of candidates) zeroize(c.key);
  }
  throw new CldcbError(
    'not_authentic',
    `${what}: the file is not authentic, or not made with this hsm_secret (${candidates.length === 2 ? 'tried the keys from the whole seed and from its first 32 bytes' : 'tried its scb key'}). ` +
      'It may be damaged or truncated, or belong to another node: check that the hsm_secret and the file come from the same node.',
  );
}

/**
 * Decrypt and decode an emergency.recover.
 * @throws CldcbError truncated / not_authentic / bad_input / unsupported.
 */
export async function openEmergencyRecover(file: Uint8Array, secretData: Uint8Array, what = 'emergency.recover'): Promise<OpenedEmergencyRecover> {
  const { plaintext, keyBase } = await decryptEmergencyRecover(file, secretData, what);
  try {
    const backup = decodeStaticChanBackup(plaintext, what);
    return { backup, keyBase, keyNote: describeScbKeyBase(keyBase, secretData.length) };
  } finally {
    zeroize(plaintext);
  }
}

/**
 * Encrypt a plaintext backup message as chanbackup does (fresh random header).
 * @param key the 32-byte scb key (secrets.ts scbKey).
 */
export function sealEmergencyRecover(key: Uint8Array, plaintext: Uint8Array): Promise<Uint8Array> {
  if (key.length !== 32) throw new CldcbError('bad_length', `scb key: expected 32 bytes, got ${key.length}.`);
  return secretstreamSeal(key, plaintext);
}

/** hsmtool getemergencyrecover's bech32 prefix (cln-facts §5). */
export const EMERGENCY_RECOVER_HRP = 'clnemerg';

/**
 * The raw emergency.recover bytes from what the operator has: the binary file
 * itself, the `clnemerg1…` bech32 text of `lightning-hsmtool getemergencyrecover`,
 * or the JSON of `getemergencyrecoverdata` ({"filedata": hex}).
 * @throws CldcbError bad_input / bad_checksum / bad_hex for text that is none of these.
 */
export function emergencyRecoverBytes(input: Uint8Array, what = 'emergency.recover'): Uint8Array {
  // Binary files are random-looking; only try text forms when the bytes are plain ASCII.
  if (input.length === 0 || input.some((b) => b > 0x7e || (b < 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09))) return input;
  const text = fromUtf8(input, what).trim();
  if (text.toLowerCase().startsWith(`${EMERGENCY_RECOVER_HRP}1`)) {
    let words: number[];
    try {
      const d = bech32.decode(text as `${string}1${string}`, false);
      if (d.prefix !== EMERGENCY_RECOVER_HRP) throw new Error('prefix');
      words = d.words;
    } catch {
      throw new CldcbError('bad_checksum', `${what}: looks like a clnemerg1… string but its bech32 checksum or characters are wrong. Copy it again.`);
    }
    try {
      return bech32.fromWords(words);
    } catch {
      throw new CldcbError('bad_input', `${what}: the clnemerg1… string has bad padding; it is damaged.`);
    }
  }
  if (text.startsWith('{')) {
    let filedata: unknown;
    try {
      filedata = (JSON.parse(text) as { filedata?: unknown }).filedata;
    } catch {
      throw new CldcbError('bad_input', `${what}: text that is not valid JSON.`);
    }
    if (typeof filedata !== 'string')
      throw new CldcbError('bad_input', `${what}: JSON without a "filedata" hex string; give the output of getemergencyrecoverdata or the file itself.`);
    return hexToBytes(filedata, `${what} filedata`);
  }
  return input;
}

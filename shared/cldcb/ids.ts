/**
 * Identities and key/config text files of the original cldcb (cldcb-protocol §1.2, §1.3, §7).
 *
 * - client id  `c2…`/`c3…`: compressed client pubkey hex with the first digit `0` → `c`
 *   (`C` accepted on input, as the plugin and `cldcb-server add` do);
 * - server id  `52…`/`53…`: compressed server pubkey with the first byte OR 0x50;
 * - node id    `02…`/`03…`: plain compressed pubkey hex.
 * Hex input may be upper or lower case; output is lowercase.
 *
 * The `# key = value` option-file syntax lives here too; the plugin wrapper that uses it is
 * shared/cldcb/wrapper.ts.
 */
import { bytesToHex, hexToBytes, zeroize } from '../bytes';
import { CldcbError } from '../errors';
import { isValidCompressedPubkey, isValidPrivateKey, nobleSecp } from './curve';

/** Default TCP port of `cldcb-server` (§1.5). */
export const DEFAULT_SERVER_PORT = 29735;
/** Default SOCKS5 proxy port (Tor) for `proxy` (§7). */
export const DEFAULT_PROXY_PORT = 9050;

export function isHexString(s: string): boolean {
  return /^[0-9a-fA-F]*$/.test(s);
}

/**
 * Decode 66 hex digits whose first digit is one of `firstChars` and second `2`/`3`,
 * replacing the first digit by `0`, into a validated compressed pubkey.
 */
function parseTaggedPubkey(s: string, field: string, firstChars: string, example: string): Uint8Array {
  if (typeof s !== 'string') throw new CldcbError('bad_input', `${field}: expected text.`);
  if (s.length !== 66) throw new CldcbError('bad_length', `${field}: expected 66 characters (${example}), got ${s.length}.`);
  if (!firstChars.includes(s[0]!))
    throw new CldcbError('bad_input', `${field}: must start with "${firstChars[0]}" (${example}), got "${s[0]}".`);
  if (s[1] !== '2' && s[1] !== '3') throw new CldcbError('bad_input', `${field}: second character must be 2 or 3 (${example}).`);
  if (!isHexString(s.slice(1))) {
    const pos = [...s.slice(1)].findIndex((c) => !isHexString(c)) + 2;
    throw new CldcbError('bad_hex', `${field}: character ${pos} is not a hex digit.`);
  }
  const key = hexToBytes('0' + s.slice(1), field, 33);
  if (!isValidCompressedPubkey(key)) throw new CldcbError('bad_input', `${field}: not a point on the secp256k1 curve.`);
  return key;
}

/**
 * Parse a 33-byte compressed pubkey (02/03 ‖ X) given as bytes, validating the point.
 * @throws CldcbError bad_length / bad_input naming `field`.
 */
export function checkPubkey(key: Uint8Array, field = 'public key'): Uint8Array {
  if (key.length !== 33) throw new CldcbError('bad_length', `${field}: expected 33 bytes, got ${key.length}.`);
  if (key[0] !== 0x02 && key[0] !== 0x03) throw new CldcbError('bad_input', `${field}: first byte must be 02 or 03.`);
  if (!isValidCompressedPubkey(key)) throw new CldcbError('bad_input', `${field}: not a point on the secp256k1 curve.`);
  return key;
}

/**
 * `c2…`/`c3…` (or `C…`) → 33-byte compressed client pubkey (§1.2).
 * @throws CldcbError bad_length, bad_hex or bad_input naming `field`.
 * @example parseClientId('c2f8853660663e584024d4efbd84c77b61de13941cffeb0e8a41fb06ce46373637') // 02f885…
 */
export function parseClientId(s: string, field = 'client id'): Uint8Array {
  return parseTaggedPubkey(s, field, 'cC', 'c2… or c3…');
}

/** 33-byte compressed client pubkey → `c2…`/`c3…`. @throws CldcbError for an invalid key. */
export function formatClientId(key33: Uint8Array): string {
  checkPubkey(key33, 'client key');
  return 'c' + bytesToHex(key33).slice(1);
}

/**
 * `52…`/`53…` → 33-byte compressed server pubkey (§1.2, first byte OR 0x50).
 * @throws CldcbError bad_length, bad_hex or bad_input naming `field`.
 */
export function parseServerId(s: string, field = 'server id'): Uint8Array {
  return parseTaggedPubkey(s, field, '5', '52… or 53…');
}

/** 33-byte compressed server pubkey → `52…`/`53…`. @throws CldcbError for an invalid key. */
export function formatServerId(key33: Uint8Array): string {
  checkPubkey(key33, 'server key');
  const b = key33.slice();
  b[0]! |= 0x50;
  return bytesToHex(b);
}

/**
 * `02…`/`03…` → 33-byte compressed pubkey (node ids, and the 0-prefixed client ids of
 * `recognition_codes` and message 112).
 * @throws CldcbError bad_length, bad_hex or bad_input naming `field`.
 */
export function parseNodeId(s: string, field = 'node id'): Uint8Array {
  return parseTaggedPubkey(s, field, '0', '02… or 03…');
}

/** 33-byte compressed pubkey → `02…`/`03…`. @throws CldcbError for an invalid key. */
export function formatNodeId(key33: Uint8Array): string {
  checkPubkey(key33, 'node id');
  return bytesToHex(key33);
}

/**
 * 64 hex digits → 32-byte secp256k1 private key.
 * @throws CldcbError bad_length, bad_hex or bad_input naming `field` (the value is never echoed).
 */
export function parsePrivateKeyHex(s: string, field: string): Uint8Array {
  if (s.length !== 64) throw new CldcbError('bad_length', `${field}: expected 64 hex digits, got ${s.length}.`);
  const key = hexToBytes(s, field, 32);
  if (!isValidPrivateKey(key)) {
    zeroize(key);
    throw new CldcbError('bad_input', `${field}: not a valid secp256k1 private key (zero or ≥ the group order).`);
  }
  return key;
}

/** Does `clientId33` equal pubkey(`priv`)? */
export function clientIdMatches(clientId33: Uint8Array, priv: Uint8Array): boolean {
  const pub = nobleSecp.publicKey(priv);
  return pub.length === clientId33.length && pub.every((b, i) => b === clientId33[i]);
}

// ---------------------------------------------------------------------------------------------
// Option-file parsing, exactly as client/Plugin/OptFile/parse.cpp (§7)

/** C `isspace` in the "C" locale (what `Util::Str::trim` uses). */
const C_SPACE = new Set([' ', '\t', '\n', '\v', '\f', '\r']);

function cTrim(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && C_SPACE.has(s[a]!)) a++;
  while (b > a && C_SPACE.has(s[b - 1]!)) b--;
  return s.slice(a, b);
}

/**
 * Parse `# key = value` comment lines the way the original plugin does
 * (`OptFile/parse.cpp`): split at `\n`; trim each line (C isspace); skip lines of
 * length ≤ 1, lines not starting with `#`, and lines starting `#!` or `##`; drop
 * the `#`, split at the first `=` (no `=` ⇒ the whole rest is the key, value
 * empty), trim key and value; the last duplicate wins.
 */
export function parseOptFile(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = cTrim(raw);
    if (line.length <= 1) continue;
    if (line[0] !== '#') continue;
    if (line[1] === '!' || line[1] === '#') continue;
    const rest = line.slice(1);
    const eq = rest.indexOf('=');
    const key = cTrim(eq < 0 ? rest : rest.slice(0, eq));
    const value = cTrim(eq < 0 ? '' : rest.slice(eq + 1));
    out.delete(key); // keep insertion order = last occurrence
    out.set(key, value);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// `newclient` key file (§1.3)

export interface ClientKeyFile {
  /** 33-byte compressed client pubkey (cid). */
  readonly clientId: Uint8Array;
  /** 32-byte client private key (cpk). Zeroize after use. */
  readonly privateKey: Uint8Array;
}

/**
 * The exact bytes `cldcb-client newclient` writes: `# cid = c…\n# cpk = …\n` (148 bytes).
 * @throws CldcbError bad_input for an invalid private key.
 */
export function formatClientKeyFile(privateKey: Uint8Array): string {
  const pub = nobleSecp.publicKey(privateKey);
  return `# cid = ${formatClientId(pub)}\n# cpk = ${bytesToHex(privateKey)}\n`;
}

/**
 * Parse a `newclient` key file (same comment syntax as the wrapper). Requires `cid`
 * and `cpk`, refuses other keys, and checks that cid = pubkey(cpk).
 * @throws CldcbError bad_input / bad_length / bad_hex naming the field.
 */
export function parseClientKeyFile(text: string, what = 'client key file'): ClientKeyFile {
  const opts = parseOptFile(text);
  for (const k of opts.keys())
    if (k !== 'cid' && k !== 'cpk') throw new CldcbError('bad_input', `${what}: unexpected entry "${k}" (only cid and cpk belong there).`);
  const cid = opts.get('cid');
  const cpk = opts.get('cpk');
  if (cid === undefined) throw new CldcbError('bad_input', `${what}: the "# cid = c…" line is missing.`);
  if (cpk === undefined) throw new CldcbError('bad_input', `${what}: the "# cpk = …" line is missing.`);
  const clientId = parseClientId(cid, `${what}: cid`);
  const privateKey = parsePrivateKeyHex(cpk, `${what}: cpk`);
  if (!clientIdMatches(clientId, privateKey)) {
    zeroize(privateKey);
    throw new CldcbError('bad_input', `${what}: cid does not belong to cpk (the public key of cpk is a different client id). Use the file newclient wrote, unedited.`);
  }
  return { clientId, privateKey };
}

// ---------------------------------------------------------------------------------------------
// host[:port] (translate_setup.cpp translate_host_port)

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/**
 * Parse `host`, `host:port`, `[v6]` or `[v6]:port` like the original, but stricter
 * where the original crashed or accepted nonsense: the port must be decimal 1..65535
 * (the original's `std::stoi` threw, or took a numeric prefix), and the host must not
 * be empty.
 * @throws CldcbError bad_input naming `field`.
 */
export function parseHostPort(value: string, defaultPort: number, field: string): HostPort {
  if (value.length === 0) throw new CldcbError('bad_input', `${field}: host must not be empty.`);
  let host: string;
  let portText: string | undefined;
  if (value[0] === '[') {
    const end = value.indexOf(']', 1);
    if (end < 0) throw new CldcbError('bad_input', `${field}: starts with [ but has no closing ].`);
    host = value.slice(1, end);
    if (end + 1 < value.length) {
      if (value[end + 1] !== ':') throw new CldcbError('bad_input', `${field}: expected ":" after [host].`);
      portText = value.slice(end + 2);
      if (portText === '') throw new CldcbError('bad_input', `${field}: expected a port after [host]:.`);
    }
  } else {
    const colon = value.indexOf(':');
    if (colon < 0) host = value;
    else {
      host = value.slice(0, colon);
      portText = value.slice(colon + 1);
      if (portText === '') throw new CldcbError('bad_input', `${field}: expected a port after host:.`);
    }
  }
  if (host.length === 0) throw new CldcbError('bad_input', `${field}: host must not be empty.`);
  let port = defaultPort;
  if (portText !== undefined) {
    if (!/^[0-9]{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535)
      throw new CldcbError(
        'bad_input',
        `${field}: port "${portText}" is not a number from 1 to 65535${portText.includes(':') ? ' (write IPv6 addresses in brackets: [addr]:port)' : ''}.`,
      );
    port = Number(portText);
  }
  return { host, port };
}

/** HostPort → `host:port` or `[v6]:port`. @throws CldcbError bad_input for a host the parser would not read back. */
export function formatHostPort(hp: HostPort, field = 'host'): string {
  if (hp.host.length === 0 || /[\s#[\]]/.test(hp.host)) throw new CldcbError('bad_input', `${field}: "${hp.host}" is not a usable host name.`);
  if (!Number.isInteger(hp.port) || hp.port < 1 || hp.port > 65535) throw new CldcbError('bad_input', `${field}: port must be 1..65535.`);
  return hp.host.includes(':') ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}

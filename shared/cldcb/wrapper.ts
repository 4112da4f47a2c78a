/**
 * The plugin wrapper (cldcb-protocol §7): a shell script whose `# key = value` comment lines
 * the plugin re-reads as its configuration (`client/Plugin/OptFile/*.cpp`), and whose last line
 * `exec`s the plugin with `-- "$0"`.
 *
 * Keys of the original: `cid cpk nid nsig sid shost [proxy]` — one server. The original plugin
 * refuses any other key, so ours are written only when used, and a one-server wrapper without
 * them is the original's, byte for byte:
 *  - `deadline = SECONDS` — how long a db_write may wait for the server(s) (1–600; default 30).
 *  - Several servers (docs/PROTOCOL.md §5): server 1 is the original keys; server i (2…9) has
 *    `cid.i cpk.i nsig.i sid.i shost.i [proxy.i]` — its own client key and recognition code,
 *    so independent servers cannot link their clients by id — and `quorum = K`, the number of
 *    servers that must store a write before lightningd may commit it (default: a majority).
 */
import { bytesToHex, hexToBytes, zeroize } from '../bytes';
import { CldcbError } from '../errors';
import { nobleSecp, normalizeSignature, parseCompactSignature } from './curve';
import {
  clientIdMatches,
  DEFAULT_PROXY_PORT,
  DEFAULT_SERVER_PORT,
  formatClientId,
  formatHostPort,
  formatNodeId,
  formatServerId,
  isHexString,
  parseClientId,
  parseHostPort,
  parseNodeId,
  parseOptFile,
  parsePrivateKeyHex,
  parseServerId,
  type HostPort,
} from './ids';
import { defaultQuorum, MAX_SERVERS } from './quorum';

export { defaultQuorum, MAX_SERVERS } from './quorum';

/** One backup server of a node: the client identity it knows us by, and where it is. */
export interface ServerEntry {
  /** 33-byte compressed client pubkey, = pubkey(clientPrivateKey) (checked). */
  readonly clientId: Uint8Array;
  /** 32-byte client private key (cpk). Zeroize after use. */
  readonly clientPrivateKey: Uint8Array;
  /** 64-byte compact recognition code (nsig), normalised to low-S as the original does. */
  readonly nodeSignature: Uint8Array;
  /** 33-byte compressed server pubkey (sid with the 0x50 removed). */
  readonly serverId: Uint8Array;
  readonly server: HostPort;
  readonly proxy?: HostPort;
}

/** The wrapper's configuration. Its own fields are server 1 (the original's keys). */
export interface PluginConfig extends ServerEntry {
  /** 33-byte node id. */
  readonly nodeId: Uint8Array;
  /**
   * `# deadline = SECONDS`: how long one db_write may wait before the plugin fails it and
   * lightningd stops (frozen meanwhile: no RPC, no peers). Undefined: 30 s.
   */
  readonly deadlineSeconds?: number;
  /** Servers 2…n (`cid.i` …); absent for one server. */
  readonly moreServers?: readonly ServerEntry[];
  /** `# quorum = K` (only with several servers; default {@link defaultQuorum}). */
  readonly quorum?: number;
}

/** Bounds of `# deadline`: below 1 s a server's fsync hiccup would stop the node; above 10 min lightningd looks hung. */
export const WRAPPER_DEADLINE_MIN_S = 1;
/** The plugin's deadline when the wrapper names none. */
export const WRAPPER_DEADLINE_DEFAULT_S = 30;
export const WRAPPER_DEADLINE_MAX_S = 600;

/** The servers of a configuration, server 1 first. */
export function wrapperServers(cfg: PluginConfig): readonly ServerEntry[] {
  return [cfg, ...(cfg.moreServers ?? [])];
}

/** k for a configuration: the wrapper's `quorum`, else a majority (1 for one server). */
export function wrapperQuorum(cfg: PluginConfig): number {
  return cfg.quorum ?? defaultQuorum(wrapperServers(cfg).length);
}

/**
 * What the plugin seals into each server's increments (plaintext v2 `servers`), so a recovery
 * learns n, k and the servers from the backup itself (docs/PROTOCOL.md §5). Every writer of
 * increments uses this one definition — the plugin's lanes and the after-stop helper's re-upload.
 * @returns undefined with one server (its increments stay plaintext v1, byte for byte).
 */
export function wrapperPolicy(cfg: PluginConfig): { readonly quorum: number; readonly serverIds: readonly string[] } | undefined {
  const servers = wrapperServers(cfg);
  if (servers.length === 1) return undefined;
  return { quorum: wrapperQuorum(cfg), serverIds: servers.map((s) => bytesToHex(s.serverId)) };
}

/** `# deadline = SECONDS` (decimal seconds within the bounds). @throws CldcbError bad_input naming the key. */
export function parseWrapperDeadline(text: string, what: string): number {
  const v = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !(v >= WRAPPER_DEADLINE_MIN_S && v <= WRAPPER_DEADLINE_MAX_S))
    throw new CldcbError('bad_input', `${what}: deadline must be a number of seconds from ${WRAPPER_DEADLINE_MIN_S} to ${WRAPPER_DEADLINE_MAX_S}, not "${text}".`);
  return v;
}

/** `quorum` for `n` servers. @throws CldcbError bad_input naming the key. */
export function parseQuorum(text: string, n: number, what: string): number {
  const k = Number(text);
  if (!/^\d+$/.test(text) || k < 1 || k > n)
    throw new CldcbError('bad_input', `${what}: quorum must be a whole number from 1 to ${n} (the number of servers), not "${text}".`);
  return k;
}

const SERVER_KEYS = ['cid', 'cpk', 'nsig', 'sid', 'shost', 'proxy'];
const SERVER_REQUIRED = ['cid', 'cpk', 'nsig', 'sid', 'shost'];
const WRAPPER_KEYS = ['nid', ...SERVER_KEYS, 'deadline', 'quorum'];

/** One server's keys (`suffix` '' for server 1, '.2' …), in the original's order of checks. */
function parseServerEntry(get: (k: string) => string | undefined, suffix: string, what: string): ServerEntry {
  const key = (k: string): string => `${k}${suffix}`;
  const must = (k: string): string => get(key(k))!;
  const nsig = must('nsig');
  if (!isHexString(nsig)) throw new CldcbError('bad_hex', `${what}: ${key('nsig')} must be a hexadecimal string.`);
  if (nsig.length !== 128) throw new CldcbError('bad_length', `${what}: ${key('nsig')} must have 128 hex digits, got ${nsig.length}.`);
  const rawSig = hexToBytes(nsig, `${what}: ${key('nsig')}`, 64);
  if (!parseCompactSignature(rawSig)) throw new CldcbError('bad_input', `${what}: ${key('nsig')} is not a valid compact signature (r or s out of range).`);
  const nodeSignature = normalizeSignature(rawSig);
  const clientId = parseClientId(must('cid'), `${what}: ${key('cid')}`);
  const cpk = must('cpk');
  if (!isHexString(cpk)) throw new CldcbError('bad_hex', `${what}: ${key('cpk')} must be a hexadecimal string.`);
  const clientPrivateKey = parsePrivateKeyHex(cpk, `${what}: ${key('cpk')}`);
  try {
    const proxyText = get(key('proxy'));
    const proxy = proxyText === undefined ? undefined : parseHostPort(proxyText, DEFAULT_PROXY_PORT, `${what}: ${key('proxy')}`);
    const serverId = parseServerId(must('sid'), `${what}: ${key('sid')}`);
    const server = parseHostPort(must('shost'), DEFAULT_SERVER_PORT, `${what}: ${key('shost')}`);
    if (!clientIdMatches(clientId, clientPrivateKey))
      throw new CldcbError(
        'bad_input',
        `${what}: ${key('cid')} does not belong to ${key('cpk')} (pubkey(cpk) is ${formatClientId(nobleSecp.publicKey(clientPrivateKey))}). Fix the cid line or regenerate the wrapper.`,
      );
    return { clientId, clientPrivateKey, nodeSignature, serverId, server, ...(proxy ? { proxy } : {}) };
  } catch (e) {
    zeroize(clientPrivateKey);
    throw e;
  }
}

/**
 * Parse the plugin wrapper's comment configuration with the original's rules
 * (`OptFile/parse.cpp`, `validate_keys.cpp`, `translate_setup.cpp`), checking the keys
 * in the original's order, plus one check the original never made: cid must equal
 * pubkey(cpk) (the original silently used pubkey(cpk)). Our keys as in the module comment.
 * @throws CldcbError bad_input / bad_length / bad_hex naming the key.
 */
export function parsePluginWrapper(text: string, what = 'plugin wrapper'): PluginConfig {
  const opts = parseOptFile(text);
  const indices = new Set<number>();
  for (const k of opts.keys()) {
    const m = /^([a-z]+)\.([0-9]+)$/.exec(k);
    if (m && SERVER_KEYS.includes(m[1]!) && String(Number(m[2])) === m[2] && Number(m[2]) >= 2 && Number(m[2]) <= MAX_SERVERS) indices.add(Number(m[2]));
    else if (!WRAPPER_KEYS.includes(k))
      throw new CldcbError('bad_input', `${what}: unknown option "${k}" (allowed: ${WRAPPER_KEYS.join(', ')}, and ${SERVER_KEYS.join('.N, ')}.N for servers N = 2 … ${MAX_SERVERS}).`);
  }
  for (const k of ['nid', ...SERVER_REQUIRED]) if (!opts.has(k)) throw new CldcbError('bad_input', `${what}: required option "${k}" is missing.`);
  const n = 1 + indices.size;
  for (let i = 2; i <= n; i++) {
    if (!indices.has(i)) throw new CldcbError('bad_input', `${what}: servers must be numbered 2, 3, … without gaps; server ${i} is missing.`);
    for (const k of SERVER_REQUIRED) if (!opts.has(`${k}.${i}`)) throw new CldcbError('bad_input', `${what}: server ${i} lacks "${k}.${i}".`);
  }
  const get = (k: string): string | undefined => opts.get(k);
  const nodeId = parseNodeId(get('nid')!, `${what}: nid`);
  const entries: ServerEntry[] = [];
  try {
    entries.push(parseServerEntry(get, '', what));
    for (let i = 2; i <= n; i++) entries.push(parseServerEntry(get, `.${i}`, what));
    const seen = new Set<string>();
    for (const [i, e] of entries.entries()) {
      const sid = bytesToHex(e.serverId);
      if (seen.has(sid)) throw new CldcbError('bad_input', `${what}: server ${i + 1} repeats the server id ${formatServerId(e.serverId)}; each server must be another server.`);
      seen.add(sid);
    }
    const deadlineText = get('deadline');
    const deadlineSeconds = deadlineText === undefined ? undefined : parseWrapperDeadline(deadlineText, what);
    const quorumText = get('quorum');
    if (quorumText !== undefined && n === 1) throw new CldcbError('bad_input', `${what}: quorum is for several servers; this wrapper names one.`);
    const quorum = quorumText === undefined ? undefined : parseQuorum(quorumText, n, what);
    const [first, ...more] = entries as [ServerEntry, ...ServerEntry[]];
    return {
      ...first,
      nodeId,
      ...(deadlineSeconds !== undefined ? { deadlineSeconds } : {}),
      ...(more.length > 0 ? { moreServers: more } : {}),
      ...(quorum !== undefined ? { quorum } : {}),
    };
  } catch (e) {
    for (const x of entries) zeroize(x.clientPrivateKey);
    throw e;
  }
}

export interface WrapperOptions {
  /** argv of the plugin program; `--` and `"$0"` are appended. Default `['cldcb-plugin']`. */
  readonly command?: readonly string[];
  /** Shell for the `#!` line. Default `/bin/sh`. */
  readonly shell?: string;
}

/** POSIX-shell quoting: bare when safe, otherwise single quotes. */
export function shellQuote(s: string): string {
  if (/^[A-Za-z0-9_./:=+,@%-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** What a wrapper is written from: the configuration without the derived client ids. */
export type WrapperInput = Omit<PluginConfig, 'clientId' | 'moreServers'> & { readonly moreServers?: readonly Omit<ServerEntry, 'clientId'>[] };

/**
 * Write the wrapper script (§7): the configuration as comment lines, then the line that
 * `exec`s the plugin with `-- "$0"`. Each cid line is derived from its private key, so it
 * always matches. The result parses back with {@link parsePluginWrapper}. The file holds the
 * client private keys in plain text: write it owner-only (mode 0700 or 0500).
 * @throws CldcbError bad_input for invalid keys, hosts, command words or quorum.
 */
export function formatPluginWrapper(cfg: WrapperInput, opts: WrapperOptions = {}): string {
  const command = opts.command ?? ['cldcb-plugin'];
  const shell = opts.shell ?? '/bin/sh';
  if (command.length === 0 || command.some((w) => w.length === 0 || /[\n\r\0]/.test(w)))
    throw new CldcbError('bad_input', 'wrapper: the plugin command must be one or more non-empty words without line breaks.');
  if (!/^\/[^\s]*$/.test(shell)) throw new CldcbError('bad_input', 'wrapper: the shell must be an absolute path without spaces.');
  const servers = [cfg, ...(cfg.moreServers ?? [])];
  if (servers.length > MAX_SERVERS) throw new CldcbError('bad_input', `wrapper: at most ${MAX_SERVERS} servers.`);
  const serverLines = (s: Omit<ServerEntry, 'clientId'>, suffix: string, withNid: boolean): string[] => {
    if (s.nodeSignature.length !== 64 || !parseCompactSignature(s.nodeSignature))
      throw new CldcbError('bad_input', `wrapper: nsig${suffix} must be a valid 64-byte compact signature.`);
    const lines = [`# cid${suffix} = ${formatClientId(nobleSecp.publicKey(s.clientPrivateKey))}`, `# cpk${suffix} = ${bytesToHex(s.clientPrivateKey)}`];
    if (withNid) lines.push(`# nid = ${formatNodeId(cfg.nodeId)}`);
    lines.push(
      `# nsig${suffix} = ${bytesToHex(normalizeSignature(s.nodeSignature))}`,
      `# sid${suffix} = ${formatServerId(s.serverId)}`,
      `# shost${suffix} = ${formatHostPort(s.server, `shost${suffix}`)}`,
    );
    if (s.proxy) lines.push(`# proxy${suffix} = ${formatHostPort(s.proxy, `proxy${suffix}`)}`);
    return lines;
  };
  const lines = [
    `#! ${shell}`,
    `## cldcb-plugin wrapper written by CLDCB. It holds the client private key${servers.length > 1 ? 's' : ''} (cpk):`,
    '## keep it readable by the lightningd user only.',
    ...serverLines(cfg, '', true),
  ];
  if (cfg.deadlineSeconds !== undefined) lines.push(`# deadline = ${parseWrapperDeadline(String(cfg.deadlineSeconds), 'wrapper')}`);
  servers.slice(1).forEach((s, i) => lines.push(...serverLines(s, `.${i + 2}`, false)));
  if (servers.length > 1) lines.push(`# quorum = ${parseQuorum(String(cfg.quorum ?? defaultQuorum(servers.length)), servers.length, 'wrapper')}`);
  else if (cfg.quorum !== undefined && cfg.quorum !== 1) throw new CldcbError('bad_input', 'wrapper: quorum is for several servers.');
  lines.push(`exec ${command.map(shellQuote).join(' ')} -- "$0"`);
  return lines.join('\n') + '\n';
}

/**
 * The install ceremony's rules (cldcb-protocol §7, §8.1; issue 11), one definition for
 * `cldcb-client installplugin` and the app's Install screen, so the same inputs give the same
 * wrapper configuration and the same refusals:
 *  - the servers as typed, `SID@HOST[:PORT]`: at most {@link MAX_SERVERS}, each another server;
 *  - the quorum k (quorum.ts);
 *  - the wrapper's configuration: one recognition code signed with the node key per client key
 *    (the same key for several servers signs once), each checked before anything is written.
 * The two programs differ only in how they name the fields in a message (the CLI its options,
 * the app its form) and in the wrapper's exec line (the CLI runs our plugin by absolute path on
 * the node; the app, on an offline laptop, writes the command the operator names).
 */
import { bytesToHex } from '../bytes';
import { CldcbError } from '../errors';
import { nobleSecp, type SecpBackend } from './curve';
import { DEFAULT_SERVER_PORT, formatServerId, parseHostPort, parseServerId, type HostPort } from './ids';
import { defaultQuorum, MAX_SERVERS, parseQuorumChoice, type QuorumWording, APP_QUORUM_WORDING, CLI_QUORUM_WORDING } from './quorum';
import { signRecognitionCode, verifyRecognitionAsClient } from './recognition';
import type { WrapperInput } from './wrapper';

/** One backup server as the operator typed it. */
export interface ServerTarget {
  /** 33-byte compressed server key (the id without its 0x50 flag). */
  readonly serverKey: Uint8Array;
  readonly server: HostPort;
}

/** How a program names the servers and the quorum in its messages. */
export interface InstallWording {
  /** The server field or option: `--server`, `Server`. */
  readonly server: string;
  /** Server number `i` (1-based) in a sentence about two of them: `--server 3`, `server 3`. */
  readonly serverNumber: (i: number) => string;
  /** Put before one server's problem: the CLI names the server when there are several; the app shows it beside the field. */
  readonly rowPrefix: (i: number, n: number) => string;
  /** More servers than a wrapper holds. */
  readonly tooMany: (n: number) => string;
  readonly quorum: QuorumWording;
}

export const CLI_INSTALL_WORDING: InstallWording = {
  server: '--server',
  serverNumber: (i) => `--server ${i}`,
  rowPrefix: (i, n) => (n > 1 ? `server ${i}: ` : ''),
  tooMany: (n) => `at most ${MAX_SERVERS} --server (the wrapper has room for ${MAX_SERVERS}); got ${n}`,
  quorum: CLI_QUORUM_WORDING,
};

export const APP_INSTALL_WORDING: InstallWording = {
  server: 'Server',
  serverNumber: (i) => `server ${i}`,
  rowPrefix: () => '',
  tooMany: (n) => `A wrapper holds at most ${MAX_SERVERS} servers; ${n} were given. Remove ${n - MAX_SERVERS}.`,
  quorum: APP_QUORUM_WORDING,
};

/**
 * `SID@HOST[:PORT]` (HOST may be `[v6]`; default port DEFAULT_SERVER_PORT).
 * @throws CldcbError bad_input naming the field and what is wrong.
 */
export function parseServerSpec(spec: string, field = CLI_INSTALL_WORDING.server): ServerTarget {
  const at = spec.indexOf('@');
  if (at < 0) throw new CldcbError('bad_input', `${field} must be SID@HOST:PORT (the server id 52…/53… from its server_id file, then its address)`);
  let serverKey: Uint8Array;
  let server: HostPort;
  try {
    serverKey = parseServerId(spec.slice(0, at), `${field}: server id`);
    server = parseHostPort(spec.slice(at + 1), DEFAULT_SERVER_PORT, `${field}: address`);
  } catch (e) {
    throw new CldcbError('bad_input', (e as Error).message);
  }
  return { serverKey, server };
}

/** The servers and quorum as checked: each field's problem (or none), in the caller's wording. */
export interface InstallChoiceCheck {
  /** One per server typed: its target, or undefined when it has a problem. */
  readonly targets: (ServerTarget | undefined)[];
  /** One per server typed: what is wrong with it (undefined: nothing). */
  readonly serverProblems: (string | undefined)[];
  /** A problem of the list as a whole (too many servers). */
  readonly listProblem?: string;
  /** What is wrong with the quorum (checked only when every server is fine). */
  readonly quorumProblem?: string;
  /** The quorum k (the choice, or a majority by default); undefined for one server or on a problem. */
  readonly quorum?: number;
}

/**
 * Check the servers and the quorum the operator gave, field by field (the app shows each problem
 * beside its field; the CLI stops at the first). The quorum is judged against the number of
 * servers given, so it is checked only once the list itself is fine.
 */
export function checkInstallChoice(specs: readonly string[], quorumText: string | undefined, w: InstallWording): InstallChoiceCheck {
  const n = specs.length;
  if (n === 0) return { targets: [], serverProblems: [], listProblem: 'Give at least one server (SID@HOST:PORT).' };
  if (n > MAX_SERVERS) return { targets: specs.map(() => undefined), serverProblems: specs.map(() => undefined), listProblem: w.tooMany(n) };
  const targets: (ServerTarget | undefined)[] = [];
  const serverProblems: (string | undefined)[] = [];
  specs.forEach((spec, i) => {
    try {
      targets.push(parseServerSpec(spec, w.server));
      serverProblems.push(undefined);
    } catch (e) {
      targets.push(undefined);
      serverProblems.push(`${w.rowPrefix(i + 1, n)}${(e as Error).message}`);
    }
  });
  targets.forEach((t, i) => {
    if (!t) return;
    const j = targets.findIndex((u) => u !== undefined && bytesToHex(u.serverKey) === bytesToHex(t.serverKey));
    if (j < i) {
      const text = `${w.serverNumber(i + 1)} repeats the server id of ${w.serverNumber(j + 1)} (${formatServerId(t.serverKey)}): each one must be another server`;
      serverProblems[i] = text.charAt(0).toUpperCase() + text.slice(1);
      targets[i] = undefined;
    }
  });
  if (serverProblems.some((p) => p !== undefined)) return { targets, serverProblems };
  try {
    const k = parseQuorumChoice(quorumText, n, w.quorum);
    return { targets, serverProblems, ...(n > 1 ? { quorum: k ?? defaultQuorum(n) } : {}) };
  } catch (e) {
    return { targets, serverProblems, quorumProblem: (e as Error).message };
  }
}

/**
 * The servers and quorum, or the first problem.
 * @throws CldcbError bad_input with the first problem (list, then servers in order, then quorum).
 */
export function parseInstallChoice(specs: readonly string[], quorumText: string | undefined, w: InstallWording): { targets: ServerTarget[]; quorum?: number } {
  const c = checkInstallChoice(specs, quorumText, w);
  const first = c.listProblem ?? c.serverProblems.find((p) => p !== undefined) ?? c.quorumProblem;
  if (first !== undefined) throw new CldcbError('bad_input', first);
  return { targets: c.targets as ServerTarget[], ...(c.quorum !== undefined ? { quorum: c.quorum } : {}) };
}

/** One server of the wrapper to write: the target and the client key it knows this node by. */
export interface InstallServer extends ServerTarget {
  /** 32-byte client private key (cpk). The caller owns and zeroizes it. */
  readonly clientPrivateKey: Uint8Array;
  readonly proxy?: HostPort;
}

export interface SignedInstall {
  /** The wrapper's configuration (formatPluginWrapper writes it). Holds the callers' key bytes, not copies. */
  readonly input: WrapperInput;
  readonly nodeId: Uint8Array;
  /** Per server, in order: its client id (33 bytes) and recognition code (64 bytes). */
  readonly clientIds: Uint8Array[];
  readonly codes: Uint8Array[];
  /** The quorum written (undefined: one server). */
  readonly quorum?: number;
}

/**
 * The wrapper's configuration for `servers`: one recognition code per client key, signed with the
 * node key and checked as the server's client would check it (cldcb-protocol §8.1), then server 1
 * as the original's keys and servers 2 … n as `.2` … `.n` with `quorum` (default a majority).
 * @throws CldcbError internal when a code does not verify (nothing may be written then).
 */
export function signInstall(
  o: { readonly nodePrivateKey: Uint8Array; readonly servers: readonly InstallServer[]; readonly quorum?: number; readonly deadlineSeconds?: number },
  secp: SecpBackend = nobleSecp,
): SignedInstall {
  const n = o.servers.length;
  if (n === 0 || n > MAX_SERVERS) throw new CldcbError('bad_input', `A wrapper names 1 to ${MAX_SERVERS} servers, not ${n}.`);
  if (n === 1 && o.quorum !== undefined && o.quorum !== 1) throw new CldcbError('bad_input', APP_QUORUM_WORDING.oneServer);
  const nodeId = secp.publicKey(o.nodePrivateKey);
  const clientIds = o.servers.map((s) => secp.publicKey(s.clientPrivateKey));
  const byKey = new Map<string, Uint8Array>();
  const codes = o.servers.map((s, i) => {
    const cid = bytesToHex(clientIds[i]!);
    const known = byKey.get(cid);
    if (known) return known;
    const code = signRecognitionCode(o.nodePrivateKey, clientIds[i]!, secp);
    if (!verifyRecognitionAsClient(s.clientPrivateKey, nodeId, code, secp))
      throw new CldcbError('internal', `The recognition code for server ${i + 1} did not verify after signing (a bug in CLDCB). Nothing was written.`);
    byKey.set(cid, code);
    return code;
  });
  const entry = (i: number) => {
    const s = o.servers[i]!;
    return { clientPrivateKey: s.clientPrivateKey, nodeSignature: codes[i]!, serverId: s.serverKey, server: s.server, ...(s.proxy ? { proxy: s.proxy } : {}) };
  };
  const quorum = n > 1 ? (o.quorum ?? defaultQuorum(n)) : undefined;
  const input: WrapperInput = {
    ...entry(0),
    nodeId,
    ...(o.deadlineSeconds !== undefined ? { deadlineSeconds: o.deadlineSeconds } : {}),
    ...(n > 1 ? { moreServers: o.servers.slice(1).map((_, i) => entry(i + 1)), quorum } : {}),
  };
  return { input, nodeId, clientIds, codes, ...(quorum !== undefined ? { quorum } : {}) };
}

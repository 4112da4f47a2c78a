/**
 * How many servers a node backs up to, and how many must store a write before lightningd commits
 * it (issue 11; docs/PROTOCOL.md §5) — the one definition of the quorum rules, used by the wrapper
 * format (wrapper.ts), `cldcb-client installplugin` and the app's Install screen. No dependencies,
 * so the renderer can use it as it is (the default it shows before anything is sent).
 */
import { CldcbError } from '../errors';

/** Servers one wrapper may name (1 + `.2` … `.9`). */
export const MAX_SERVERS = 9;

/** Sources one recovery reads at once: the node's servers (up to MAX_SERVERS) and older copies of their directories. */
export const MAX_RECOVERY_SOURCES = 16;

/** A majority of `n`: with k of n acknowledgements, any n − k + 1 = k servers hold every committed write. */
export function defaultQuorum(n: number): number {
  return Math.floor(n / 2) + 1;
}

/** How a program names the quorum in its messages: the CLI its option, the app its field. */
export interface QuorumWording {
  /** The field with the value typed: `--quorum=4`, `k = 4`. */
  readonly given: (text: string) => string;
  /** The field alone: `--quorum`, `k`. */
  readonly field: string;
  /** Said when a quorum comes with one server. */
  readonly oneServer: string;
}

export const CLI_QUORUM_WORDING: QuorumWording = {
  given: (text) => `--quorum=${text}`,
  field: '--quorum',
  oneServer: '--quorum is for several servers: with one --server every write waits for that server. Give more --server, or leave --quorum out.',
};

export const APP_QUORUM_WORDING: QuorumWording = {
  given: (text) => `k = ${text}`,
  field: 'k',
  oneServer: 'k is for several servers: with one server every write waits for that server. Add servers, or leave k out.',
};

/**
 * The quorum k the operator chose for `n` servers: a whole number from 1 to n, only with several
 * servers; undefined (the caller uses {@link defaultQuorum}) when none was given.
 * @throws CldcbError bad_input saying what is wrong and why, in the caller's wording.
 */
export function parseQuorumChoice(text: string | undefined, n: number, w: QuorumWording): number | undefined {
  if (text === undefined) return undefined;
  if (n === 1) throw new CldcbError('bad_input', w.oneServer);
  if (!/^\d+$/.test(text)) throw new CldcbError('bad_input', `${w.field} must be a whole number of servers (1 to ${n}), not "${text}"`);
  const k = Number(text);
  if (k < 1) throw new CldcbError('bad_input', `${w.given(text)}: at least one server must store each write before lightningd commits it (1 to ${n})`);
  if (k > n)
    throw new CldcbError('bad_input', `${w.given(text)} is more than the ${n} servers given: lightningd could never commit a write. Give 1 to ${n} (default ${defaultQuorum(n)}, a majority).`);
  return k;
}

/**
 * Who may hold a connection (issue 14 #1: nobody may lock an allow-listed client out).
 *
 * Three kinds of connection:
 *   pending   TCP accepted, Noise handshake not finished (anyone on the network)
 *   unlisted  handshake done, key not in `clients` (a recovering client, or anyone with a key)
 *   listed    handshake done, key in `clients` (a plugin backing up)
 *
 * The rules:
 * - A newcomer is always let in while a pending or unlisted connection can be evicted for it:
 *   its key is unknown until its handshake is done, and an allow-listed plugin must get that
 *   far. Listed sessions are never evicted for anyone else.
 * - Pending + unlisted together hold at most `maxConnections − reserved`; the `reserved` slots
 *   are for listed sessions only.
 * - Pending + unlisted from one source address hold at most `perAddress`. An address here is
 *   an IPv4 address or an IPv6 /64 (anyone gets a whole /64). Several honest clients can share
 *   one (NAT, and every client of a Tor onion service arrives from 127.0.0.1), so a newcomer
 *   over the limit evicts its own address's stalest connection rather than being refused.
 * - The victim: when the address is over its limit, the stalest connection of that address;
 *   otherwise the stalest of the address holding the most. Stalest = least recent useful act
 *   (accepted, handshake done, a request — pings and pongs do not count); connections in the
 *   middle of a request (a listing or download being sent) go last.
 * - A listed key holds at most `perClient` sessions; a further one closes that key's stalest
 *   idle one (a plugin that reconnected leaves its dying connection behind).
 * - Unlisted sessions that made no request for `unlistedIdleMs` are closed (a pong every 30 s
 *   no longer keeps a connection of an unknown key forever).
 * - The handshake itself is bounded in total by the daemon (acceptNoise totalTimeoutMs).
 * Only when every slot holds a listed session is a newcomer refused.
 */

import { CldcbError } from '../shared/errors';

export type ConnectionKind = 'pending' | 'unlisted' | 'listed';

export interface AdmissionLimits {
  /** All connections. */
  readonly maxConnections: number;
  /** Slots only listed sessions may use. */
  readonly reserved: number;
  /** Pending + unlisted connections per source address (IPv4 address, IPv6 /64). */
  readonly perAddress: number;
  /** Sessions per allow-listed key. */
  readonly perClient: number;
  /** Close an unlisted session after this long without a request. */
  readonly unlistedIdleMs: number;
}

export const DEFAULT_ADMISSION: AdmissionLimits = {
  maxConnections: 1000,
  reserved: 100,
  perAddress: 64,
  perClient: 8,
  unlistedIdleMs: 60_000,
};

/**
 * Per-address accounting key: IPv4 as is (also when IPv4-mapped), IPv6 by its /64 prefix.
 * @example addressKey('::ffff:10.0.0.1') // '10.0.0.1'
 * @example addressKey('2001:db8:1:2:aaaa::1') // '2001:db8:1:2::/64'
 */
export function addressKey(remote: string | undefined): string {
  if (!remote) return '?';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remote);
  if (mapped) return mapped[1]!;
  if (!remote.includes(':')) return remote;
  const [head = '', tail] = remote.toLowerCase().split('%')[0]!.split('::') as [string, string | undefined];
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups =
    tail === undefined
      ? headGroups
      : [
          ...headGroups,
          ...new Array<string>(Math.max(0, 8 - headGroups.length - tailGroups.length)).fill('0'),
          ...tailGroups,
        ];
  return `${groups
    .slice(0, 4)
    .map((g) => (parseInt(g, 16) || 0).toString(16))
    .join(':')}::/64`;
}

/** One admitted connection. The daemon reports what it does; the admission may close it. */
export class Ticket {
  kind: ConnectionKind = 'pending';
  /** Hex of the client key once the handshake is done. */
  client: string | undefined;
  /** Last useful act (ms); see the module comment. */
  lastUseful: number;
  /** Requests in progress (a listing, a download, a backup). */
  busy = 0;
  /** Why it was closed by the admission, if it was. */
  evicted: string | undefined;
  released = false;

  constructor(
    readonly address: string,
    /** Close this connection (socket or session); called at most once by the admission. */
    private readonly closer: (reason: string) => void,
    now: number,
  ) {
    this.lastUseful = now;
  }

  /** Close it (once; not after it was released). */
  close(reason: string): void {
    if (this.evicted !== undefined || this.released) return;
    this.evicted = reason;
    this.closer(reason);
  }
}

export interface AdmissionStats {
  pending: number;
  unlisted: number;
  listed: number;
  /** Evictions since the daemon started, by cause. */
  evicted: { address: number; unprivileged: number; client: number; idle: number };
  refused: number;
}

export class Admission {
  private readonly all = new Set<Ticket>();
  /** Pending + unlisted tickets per address. */
  private readonly byAddress = new Map<string, Set<Ticket>>();
  private readonly byClient = new Map<string, Set<Ticket>>();
  private unprivileged = 0;
  readonly stats: AdmissionStats = {
    pending: 0,
    unlisted: 0,
    listed: 0,
    evicted: { address: 0, unprivileged: 0, client: 0, idle: 0 },
    refused: 0,
  };

  constructor(
    readonly limits: AdmissionLimits,
    private readonly now: () => number = Date.now,
  ) {
    if (limits.reserved >= limits.maxConnections)
      throw new CldcbError(
        'bad_input',
        `--reserved-connections (${limits.reserved}) must be below --max-connections (${limits.maxConnections}).`,
      );
  }

  get size(): number {
    return this.all.size;
  }

  /**
   * A new TCP connection from `remote`: evict what the rules say, then admit it as pending.
   * @returns its ticket, or null when every slot holds a listed session (refuse it).
   */
  admit(remote: string | undefined, closer: (reason: string) => void): Ticket | null {
    const address = addressKey(remote);
    const mine = this.byAddress.get(address);
    if (mine && mine.size >= this.limits.perAddress) {
      const v = stalest(mine);
      if (v)
        this.evict(
          v,
          `evicted: the limit of ${this.limits.perAddress} connections from ${address} without an allow-listed key was reached`,
          'address',
        );
    }
    while (
      this.unprivileged >= this.limits.maxConnections - this.limits.reserved ||
      this.all.size >= this.limits.maxConnections
    ) {
      const v = this.heaviestStalest();
      if (!v) break;
      this.evict(
        v,
        `evicted: the limit of ${this.limits.maxConnections - this.limits.reserved} connections without an allow-listed key was reached`,
        'unprivileged',
      );
    }
    if (
      this.all.size >= this.limits.maxConnections ||
      this.unprivileged >= this.limits.maxConnections - this.limits.reserved
    ) {
      this.stats.refused++;
      return null;
    }
    const t = new Ticket(address, closer, this.now());
    this.all.add(t);
    this.addUnprivileged(t);
    this.stats.pending++;
    return t;
  }

  /**
   * The handshake is done: `client` is the key (hex), `listed` whether `clients` has it.
   * A listed key over its session limit closes its stalest idle session.
   */
  authenticated(t: Ticket, client: string, listed: boolean): void {
    if (t.released) return;
    this.stats.pending--;
    t.client = client;
    t.lastUseful = this.now();
    this.setKind(t, listed ? 'listed' : 'unlisted');
  }

  /** The allow-list changed (SIGHUP): move sessions between unlisted and listed. */
  reclassify(isListed: (client: string) => boolean): void {
    for (const t of this.all) {
      if (t.kind === 'pending' || t.client === undefined) continue;
      const listed = isListed(t.client);
      if (listed !== (t.kind === 'listed')) this.setKind(t, listed ? 'listed' : 'unlisted');
    }
  }

  /** A request started (`busy` +1) or ended (−1); any request counts as useful. */
  request(t: Ticket, started: boolean): void {
    t.busy = Math.max(0, t.busy + (started ? 1 : -1));
    t.lastUseful = this.now();
  }

  /** The connection ended (for whatever reason). Idempotent. */
  release(t: Ticket): void {
    if (t.released) return;
    t.released = true;
    this.all.delete(t);
    if (t.kind === 'pending') this.stats.pending--;
    else if (t.kind === 'unlisted') this.stats.unlisted--;
    else this.stats.listed--;
    if (t.kind === 'listed') this.removeClient(t);
    else this.removeUnprivileged(t);
  }

  /** Close unlisted sessions idle (no request, none in progress) for unlistedIdleMs. @returns how many. */
  sweepIdle(): number {
    const limit = this.now() - this.limits.unlistedIdleMs;
    let n = 0;
    for (const t of [...this.all]) {
      if (t.kind === 'unlisted' && t.busy === 0 && t.lastUseful <= limit) {
        this.evict(
          t,
          `idle: not on the allow-list and no request for ${Math.round(this.limits.unlistedIdleMs / 1000)} s`,
          'idle',
        );
        n++;
      }
    }
    return n;
  }

  /** Connections per address, busiest first (for the log). */
  busiestAddresses(n = 3): [string, number][] {
    return [...this.byAddress]
      .map(([a, s]): [string, number] => [a, s.size])
      .sort((x, y) => y[1] - x[1])
      .slice(0, n);
  }

  private setKind(t: Ticket, kind: 'unlisted' | 'listed'): void {
    if (t.kind === kind) return;
    if (t.kind === 'unlisted') this.stats.unlisted--;
    if (t.kind === 'listed') this.stats.listed--;
    if (kind === 'listed') {
      this.removeUnprivileged(t);
      t.kind = 'listed';
      this.stats.listed++;
      let set = this.byClient.get(t.client!);
      if (!set) this.byClient.set(t.client!, (set = new Set()));
      set.add(t);
      while (set.size > this.limits.perClient) {
        const v = stalest(set, t);
        if (!v) break;
        this.evict(
          v,
          `evicted: client ${t.client!.slice(0, 8)}… holds more than ${this.limits.perClient} connections`,
          'client',
        );
      }
    } else {
      const wasListed = t.kind === 'listed';
      if (wasListed) this.removeClient(t);
      t.kind = 'unlisted';
      this.stats.unlisted++;
      if (wasListed) this.addUnprivileged(t); // a pending ticket is counted there already
    }
  }

  private evict(t: Ticket, reason: string, cause: keyof AdmissionStats['evicted']): void {
    this.stats.evicted[cause]++;
    t.close(reason);
    this.release(t);
  }

  private addUnprivileged(t: Ticket): void {
    let set = this.byAddress.get(t.address);
    if (!set) this.byAddress.set(t.address, (set = new Set()));
    set.add(t);
    this.unprivileged++;
  }

  private removeUnprivileged(t: Ticket): void {
    const set = this.byAddress.get(t.address);
    if (set?.delete(t)) {
      this.unprivileged--;
      if (set.size === 0) this.byAddress.delete(t.address);
    }
  }

  private removeClient(t: Ticket): void {
    const set = this.byClient.get(t.client!);
    if (set?.delete(t) && set.size === 0) this.byClient.delete(t.client!);
  }

  /** The stalest pending/unlisted connection of the address holding the most. */
  private heaviestStalest(): Ticket | undefined {
    let heaviest: Set<Ticket> | undefined;
    for (const set of this.byAddress.values()) if (!heaviest || set.size > heaviest.size) heaviest = set;
    return heaviest && stalest(heaviest);
  }
}

/** Least recently useful, idle ones first; never `except`. */
function stalest(set: Iterable<Ticket>, except?: Ticket): Ticket | undefined {
  let best: Ticket | undefined;
  for (const t of set) {
    if (t === except) continue;
    if (
      !best ||
      (t.busy === 0) > (best.busy === 0) ||
      ((t.busy === 0) === (best.busy === 0) && t.lastUseful < best.lastUseful)
    )
      best = t;
  }
  return best;
}

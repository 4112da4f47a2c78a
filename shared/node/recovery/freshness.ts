/**
 * What several sources prove about the node's newest state (issue 11; docs/PROTOCOL.md §5).
 *
 * The backup's policy — k of n servers, by their keys — is sealed in its increments (plaintext
 * v2 `servers`), so it comes from the backup, not from what the operator typed. Every write
 * lightningd committed was stored by at least k of the n servers, so any n − k + 1 of them
 * include one that holds it: when that many of the node's servers answered with a backup we
 * could read (or provably none), the newest state among them is the node's newest — **proven
 * fresh**. Otherwise **not proven**: how many more servers are needed, and which.
 *
 * Each source gets an outcome: `newest`; `behind` by N data_versions; `diverged` — its history
 * forks from the newest (the same data_version with other statements: two lineages; refused,
 * both shown); `missing` — read, but no backup of this node there; `unreachable` — could not be
 * read; `refused` — its backup of this node cannot be used (not authentic, damaged, lost
 * writes). A pure function of what the search found, so it is tested without I/O.
 */

export type SourceOutcome = 'newest' | 'behind' | 'diverged' | 'missing' | 'unreachable' | 'refused';

/** One source as the search saw it. */
export interface FreshnessSource {
  readonly label: string;
  /** Its server id (52…/53…), when known (server directory's server_id, --server's SID). */
  readonly serverId?: string;
  /** The source could not be read at all. */
  readonly error?: string;
}

/** One backup of this node the search found (a candidate). */
export interface FreshnessCandidate {
  readonly source: number;
  readonly clientId: string;
  readonly dataVersion?: number;
  readonly time?: number;
  readonly error?: string;
  /** The sealed policy its chain names last (plan.servers). */
  readonly policy?: { readonly quorum: number; readonly serverIds: readonly string[] };
  /** Each replayed increment's data_version and statements hash (the search's analysis). */
  readonly contents?: readonly { readonly dataVersion: number; readonly bodyHash: string }[];
}

export interface SourceFreshness {
  readonly outcome: SourceOutcome;
  /** The candidate this outcome is about (the source's best), when there is one. */
  readonly candidate?: number;
  readonly dataVersion?: number;
  readonly time?: number;
  /** `behind`: how many data_versions. */
  readonly behindBy?: number;
  /** One of the node's servers by the sealed policy (when there is one). */
  readonly policyServer?: boolean;
  /** Plain sentence. */
  readonly detail: string;
}

export interface Freshness {
  readonly state: 'proven' | 'not-proven';
  readonly reason: string;
  /** The sealed policy (absent: the backup names no servers: one server, or made before CLDCB knew several). */
  readonly policy?: { readonly quorum: number; readonly servers: number; readonly serverIds: readonly string[] };
  /** Servers of the policy that answered with a readable backup (or provably none). */
  readonly answered: number;
  /** n − k + 1. */
  readonly needed?: number;
  /** Policy servers not answered yet (52…/53… ids). */
  readonly missingServers: string[];
  /** Index of the newest usable candidate (−1: none). */
  readonly newest: number;
  readonly sources: SourceFreshness[];
  /** Pairs of candidates whose histories fork. */
  readonly diverged: { readonly a: number; readonly b: number; readonly dataVersion: number }[];
}

/** 52…/53… → the 02…/03… key hex the policy uses (the ids were checked where they were read). */
function policyKey(serverId: string | undefined): string | undefined {
  if (!serverId || !/^5[23][0-9a-fA-F]{64}$/.test(serverId)) return undefined;
  return `0${serverId.slice(1).toLowerCase()}`;
}

/** 02…/03… key hex → the 52…/53… id operators see. */
export function displayServerId(keyHex: string): string {
  return (keyHex.startsWith('03') ? '53' : '52') + keyHex.slice(2);
}

/**
 * Where two histories disagree: a data_version both hold whose replayed statements differ.
 * @returns that data_version, or undefined when they agree wherever both have increments.
 */
export function forkPoint(a: FreshnessCandidate['contents'], b: FreshnessCandidate['contents']): number | undefined {
  if (!a || !b) return undefined;
  // Increments without statements (the stop markers, a re-upload's empty increment) carry no
  // writes and differ from server to server: they are not compared.
  const byDv = (list: NonNullable<FreshnessCandidate['contents']>): Map<number, string> => {
    const m = new Map<number, string>();
    for (const x of list) if (x.bodyHash !== EMPTY_BODY) m.set(x.dataVersion, (m.get(x.dataVersion) ?? '') + x.bodyHash);
    return m;
  };
  const ma = byDv(a);
  const mb = byDv(b);
  // Inside the range both cover: a snapshot replaces the increments before it, so the first
  // data_version of each side is compared only when the other side also has its whole run.
  const lo = Math.max(a[0]?.dataVersion ?? Infinity, b[0]?.dataVersion ?? Infinity);
  for (const [dv, ha] of ma) {
    if (dv <= lo) continue;
    const hb = mb.get(dv);
    if (hb !== undefined && hb !== ha) return dv;
  }
  return undefined;
}

/** SHA-256 of nothing: the statements part of an increment without statements (n = 0 is part of the header). */
const EMPTY_BODY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** The newest usable candidate: highest data_version, then the later time (−1: none). */
export function newestCandidate(candidates: readonly FreshnessCandidate[]): number {
  let newest = -1;
  candidates.forEach((c, i) => {
    if (c.error || c.dataVersion === undefined) return;
    const best = newest < 0 ? undefined : candidates[newest]!;
    if (!best || c.dataVersion > best.dataVersion! || (c.dataVersion === best.dataVersion && (c.time ?? 0) > (best.time ?? 0))) newest = i;
  });
  return newest;
}

/** The usable candidates whose history forks from the newest one's (they need `contents`). */
export function findForks(candidates: readonly FreshnessCandidate[]): Freshness['diverged'] {
  const newest = newestCandidate(candidates);
  if (newest < 0) return [];
  const out: { a: number; b: number; dataVersion: number }[] = [];
  candidates.forEach((c, i) => {
    if (i === newest || c.error || c.dataVersion === undefined) return;
    const dv = forkPoint(candidates[newest]!.contents, c.contents);
    if (dv !== undefined) out.push({ a: newest, b: i, dataVersion: dv });
  });
  return out;
}

/**
 * Judge the sources (module comment).
 * @param forks the forks found while the candidates' contents were at hand (default: from `contents`).
 */
export function judgeFreshness(sources: readonly FreshnessSource[], candidates: readonly FreshnessCandidate[], forks?: Freshness['diverged']): Freshness {
  const newest = newestCandidate(candidates);
  const top = newest >= 0 ? candidates[newest]! : undefined;
  const policy = top?.policy;
  const diverged = forks ?? findForks(candidates);
  const forkOf = new Map(diverged.map((d) => [d.b, d.dataVersion]));

  const policyKeys = new Set(policy?.serverIds ?? []);
  const out: SourceFreshness[] = sources.map((s, si) => {
    const key = policyKey(s.serverId);
    const policyServer = policy ? key !== undefined && policyKeys.has(key) : undefined;
    const base = policyServer !== undefined ? { policyServer } : {};
    if (s.error) return { ...base, outcome: 'unreachable', detail: `could not be read: ${s.error}` };
    const mine = candidates.map((c, i) => ({ c, i })).filter(({ c }) => c.source === si);
    const good = mine.filter(({ c }) => !c.error && c.dataVersion !== undefined);
    if (good.length === 0) {
      if (mine.length > 0) return { ...base, outcome: 'refused', candidate: mine[0]!.i, detail: `its backup of this node cannot be used: ${mine[0]!.c.error ?? 'it could not be read'}` };
      return { ...base, outcome: 'missing', detail: 'read, but it holds no backup of this node' };
    }
    // The source's best: the newest of its backups of this node (older installations are behind anyway).
    let { c, i } = good[0]!;
    for (const g of good) if (g.c.dataVersion! > c.dataVersion! || g.i === newest) ({ c, i } = g);
    const at = { candidate: i, dataVersion: c.dataVersion!, ...(c.time !== undefined ? { time: c.time } : {}) };
    const fork = forkOf.get(i);
    if (fork !== undefined)
      return { ...base, ...at, outcome: 'diverged', detail: `its history forks from the newest (${sources[top ? candidates[newest]!.source : 0]?.label}) at data_version ${fork}: the same version with other writes` };
    if (i === newest || c.dataVersion === top!.dataVersion) return { ...base, ...at, outcome: 'newest', detail: `data_version ${c.dataVersion}` };
    const behindBy = (top!.dataVersion! - c.dataVersion! + 0x100000000) % 0x100000000;
    return { ...base, ...at, outcome: 'behind', behindBy, detail: `behind by ${behindBy} data_version(s) (it ends at ${c.dataVersion}, the newest at ${top!.dataVersion})` };
  });

  if (!policy) {
    return {
      state: 'not-proven',
      reason:
        newest < 0
          ? 'No backup of this node could be used.'
          : 'This backup names no other servers (one server, or made before CLDCB knew several): a server that dropped the end of its log cannot be caught. Compare its last data_version and time with what you know of the node.',
      answered: out.filter((o) => o.outcome === 'newest' || o.outcome === 'behind').length,
      missingServers: [],
      newest,
      sources: out,
      diverged,
    };
  }
  const n = policy.serverIds.length;
  const k = policy.quorum;
  const needed = n - k + 1;
  const answeredKeys = new Set<string>();
  out.forEach((o, si) => {
    const key = policyKey(sources[si]!.serverId);
    if (key !== undefined && policyKeys.has(key) && (o.outcome === 'newest' || o.outcome === 'behind' || o.outcome === 'missing')) answeredKeys.add(key);
  });
  const missingServers = policy.serverIds.filter((s) => !answeredKeys.has(s)).map(displayServerId);
  const answered = answeredKeys.size;
  const policyView = { quorum: k, servers: n, serverIds: policy.serverIds.map(displayServerId) };
  const common = { policy: policyView, answered, needed, missingServers, newest, sources: out, diverged };
  if (diverged.length > 0)
    return {
      state: 'not-proven',
      reason: `Two histories of this node were found: ${diverged.map((d) => `${sources[candidates[d.b]!.source]!.label} forks from ${sources[candidates[d.a]!.source]!.label} at data_version ${d.dataVersion}`).join('; ')}. The backups were not merged; find out which node ran on which database before starting anything.`,
      ...common,
    };
  if (answered >= needed)
    return {
      state: 'proven',
      reason: `${answered} of the node's ${n} servers answered, and every write lightningd committed was stored by at least ${k} of them, so any ${needed} hold the newest: this is the newest state (assuming none of them served an older copy on purpose${answered < n ? `; with all ${n}, such a server is caught` : ''}).`,
      ...common,
    };
  return {
    state: 'not-proven',
    reason: `${answered} of the node's ${n} servers answered; ${needed} are needed to prove this is the newest state (every committed write is on at least ${k} of ${n}). Read ${needed - answered} more of: ${missingServers.join(', ')}.`,
    ...common,
  };
}

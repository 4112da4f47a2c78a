/**
 * What several sources prove (shared/node/recovery/freshness.ts; docs/PROTOCOL.md §5):
 * proven fresh when n − k + 1 of the node's n servers answered; each source's outcome; forks.
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { displayServerId, findForks, forkPoint, judgeFreshness, type FreshnessCandidate, type FreshnessSource } from '../../shared/node/recovery/freshness';

const KEY = (i: number): string => '02' + String(i).repeat(64).slice(0, 64);
const SID = (i: number): string => displayServerId(KEY(i));
const h = (s: string): string => createHash('sha256').update(s).digest('hex');
const policy = { quorum: 2, serverIds: [KEY(1), KEY(2), KEY(3)] };
/** Increments from..to, the same writes on every server unless `fork` changes one. */
const contents = (from: number, to: number, fork?: number): FreshnessCandidate['contents'] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ dataVersion: from + i, bodyHash: h(`writes ${from + i}${from + i === fork ? ' other' : ''}`) }));
const src = (i: number, extra: Partial<FreshnessSource> = {}): FreshnessSource => ({ label: `server ${i}`, serverId: SID(i), ...extra });
const cand = (source: number, dv: number, extra: Partial<FreshnessCandidate> = {}): FreshnessCandidate => ({
  source,
  clientId: `c2${source}`,
  dataVersion: dv,
  time: 1_800_000_000 + dv,
  policy,
  contents: contents(10, dv),
  ...extra,
});

describe('freshness of several sources', () => {
  it('all three answer: proven; the newest and one behind by N', () => {
    const f = judgeFreshness([src(1), src(2), src(3)], [cand(0, 100), cand(1, 100), cand(2, 95)]);
    expect(f.state).toBe('proven');
    expect(f).toMatchObject({ answered: 3, needed: 2, missingServers: [], policy: { servers: 3, quorum: 2 } });
    expect(f.sources.map((s) => s.outcome)).toEqual(['newest', 'newest', 'behind']);
    expect(f.sources[2]).toMatchObject({ behindBy: 5, dataVersion: 95 });
    expect(f.reason).toMatch(/3 of the node's 3 servers answered/);
  });

  it('two of three (n − k + 1 = 2): proven; one away is unreachable and named nowhere as missing', () => {
    const f = judgeFreshness([src(1), src(2, { error: 'ECONNREFUSED' }), src(3)], [cand(0, 100), cand(2, 99)]);
    expect(f.state).toBe('proven');
    expect(f.sources.map((s) => s.outcome)).toEqual(['newest', 'unreachable', 'behind']);
    expect(f.missingServers).toEqual([SID(2)]);
  });

  it('one of three: not proven, says how many more and which', () => {
    const f = judgeFreshness([src(1)], [cand(0, 100)]);
    expect(f.state).toBe('not-proven');
    expect(f.reason).toMatch(/1 of the node's 3 servers answered; 2 are needed .* Read 1 more of: /);
    expect(f.missingServers).toEqual([SID(2), SID(3)]);
  });

  it('a server that lost our backup counts as answered (it holds nothing); a refused archive does not', () => {
    const f = judgeFreshness([src(1), src(2), src(3)], [cand(0, 100), { source: 2, clientId: 'c23', error: 'not authentic' }]);
    expect(f.sources.map((s) => s.outcome)).toEqual(['newest', 'missing', 'refused']);
    expect(f.answered).toBe(2);
    expect(f.state).toBe('proven');
  });

  it('a rolled-back copy is behind, never newest; the newest comes from the others', () => {
    const f = judgeFreshness([src(1), src(2), src(3)], [cand(0, 60), cand(1, 100), cand(2, 100)]);
    expect(f.newest).toBe(1);
    expect(f.sources[0]).toMatchObject({ outcome: 'behind', behindBy: 40 });
  });

  it('histories that fork are found and not proven; stop markers (no statements) do not count as a fork', () => {
    const forked = cand(2, 100, { contents: contents(10, 100, 50) });
    const f = judgeFreshness([src(1), src(2), src(3)], [cand(0, 100), cand(1, 100), forked]);
    expect(f.state).toBe('not-proven');
    expect(f.sources[2]).toMatchObject({ outcome: 'diverged' });
    expect(f.diverged).toEqual([{ a: 0, b: 2, dataVersion: 50 }]);
    expect(f.reason).toMatch(/Two histories of this node were found: server 3 forks from server 1 at data_version 50/);
    const empty = h('');
    const withMarker = [...contents(10, 100)!, { dataVersion: 100, bodyHash: empty }, { dataVersion: 100, bodyHash: empty }];
    expect(forkPoint(contents(10, 100), withMarker)).toBeUndefined();
    // A snapshot taken at the later of two servers' starts: its first data_version is not compared.
    expect(forkPoint(contents(10, 100), [{ dataVersion: 40, bodyHash: h('pragma only') }, ...contents(41, 100)!])).toBeUndefined();
    expect(findForks([cand(0, 100), cand(1, 90)])).toEqual([]);
  });

  it('no sealed policy (one server, or an older backup): not proven, as before — a dropped tail cannot be seen', () => {
    const f = judgeFreshness([src(1)], [cand(0, 100, { policy: undefined })]);
    expect(f.state).toBe('not-proven');
    expect(f.policy).toBeUndefined();
    expect(f.reason).toMatch(/names no other servers/);
    expect(f.sources[0]!.outcome).toBe('newest');
  });

  it('a source of another server is not counted for the proof', () => {
    const f = judgeFreshness([src(1), src(7), src(8)], [cand(0, 100), cand(1, 100), cand(2, 100)]);
    expect(f.answered).toBe(1);
    expect(f.state).toBe('not-proven');
    expect(f.sources.map((s) => s.policyServer)).toEqual([true, false, false]);
  });
});

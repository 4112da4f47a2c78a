/**
 * Issue 11 on a live lightningd — three of our servers, quorum 2, installed exactly with
 * `installplugin --server=… --server=… --server=… --quorum=2` (harness/cldcb.ts installBackup):
 *  - kill -9 of each server in turn during payment bursts both ways: no db_write fails, every
 *    payment completes, and lightningd is never held for the killed server — it answers RPC
 *    (probed every 25 ms) and pays about as fast as with all three up (a write waiting for the
 *    missing server would hold it until the deadline, and then stop it);
 *  - the killed server comes back on the same directory and port and catches up: after a quiet
 *    moment `cldcb-client status` shows every server at the database's data_version, and each
 *    server's archive, recovered on its own after a clean stop, is row-identical to the node;
 *  - two of three away: lightningd stops at the deadline without committing the write.
 * Figures (latencies, catch-up times) are printed for the report.
 */
import { cpSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { expectIdentical, expectStopsAtDeadline } from './checks';
import { cldcbClient, describeRecovery, expectOk, recoverInto } from './harness/cldcb';
import { diffDumps, dumpDb } from './harness/compare';
import { waitFor, type Network } from './harness/network';
import type { LightningNode } from './harness/node';
import type { BackedUpPair } from './harness/scenario';
import { steps, useBackedUpPair } from './tier';

const DEADLINE_S = 6;
let net: Network;
let pair: BackedUpPair;
useBackedUpPair(
  { servers: 3, quorum: 2, installArgs: [`--deadline=${DEADLINE_S}`] },
  (c) => ({ net, pair } = c),
);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const ms = (x: number): string => `${Math.round(x)} ms`;

interface StatusJson {
  database: { data_version: number | null; error?: string };
  quorum: number;
  servers: { index: number; data_version: number | null; lag: number | null; standing: string }[];
  current: number | null;
}

async function status(node: LightningNode): Promise<StatusJson> {
  const r = expectOk(
    await cldcbClient(['status', `--lightning-dir=${node.networkDir}`, '--json']),
    'cldcb-client status',
  );
  return JSON.parse(r.stdout) as StatusJson;
}

/**
 * While `during` runs: getinfo on `node` in a loop, one after another. A db_write hook holds
 * lightningd's whole loop (no RPC is answered meanwhile), so the longest getinfo is the longest
 * time lightningd was held.
 */
async function longestHold<T>(
  node: LightningNode,
  during: () => Promise<T>,
): Promise<{ value: T; holdMs: number; probes: number }> {
  let stop = false;
  let holdMs = 0;
  let probes = 0;
  const probe = (async () => {
    while (!stop) {
      const t0 = performance.now();
      await node.call('getinfo', {}, 30_000);
      holdMs = Math.max(holdMs, performance.now() - t0);
      probes++;
      await sleep(25);
    }
  })();
  try {
    const value = await during();
    return { value, holdMs, probes };
  } finally {
    stop = true;
    await probe;
  }
}

/** `n` payments each way, one after another; @returns their durations (ms). */
async function timedPays(n: number, salt: number): Promise<number[]> {
  const { a, b } = pair;
  const out: number[] = [];
  for (let i = 0; i < n; i++)
    for (const [from, to, msat] of [
      [a, b, 900_000 + salt + i],
      [b, a, 600_000 + salt + i],
    ] as const) {
      const inv = await net.invoice(to, msat);
      const t0 = performance.now();
      const r = await from.call<{ status: string }>('pay', { bolt11: inv.bolt11, retry_for: 30 }, 60_000);
      out.push(performance.now() - t0);
      expect(r.status).toBe('complete');
    }
  return out;
}

/** The plugin's lines in A's log since `mark` (lightningd prefixes them with the plugin's name). */
const pluginLines = (mark: number): string[] =>
  pair.a
    .logSince(mark)
    .split('\n')
    .filter((l) => /cldcb: /.test(l));

let quiet: { payMedian: number; holdMs: number };
const step = steps();

step(
  'installed with --server three times and --quorum=2: the wrapper names all three, each server holds a backup',
  async () => {
    const { a, servers, install } = pair;
    const wrapper = readFileSync(install.wrapper, 'utf8');
    expect(wrapper).toMatch(/\n# quorum = 2\n/);
    for (const [i, s] of servers.entries()) {
      expect(wrapper).toContain(`\n# sid${i === 0 ? '' : `.${i + 1}`} = ${s.serverId}\n`);
      expect(install.output).toContain(
        `npx cldcb-server add --server-dir=$HOME/.cldcb-server ${install.clientIds[i]}`,
      );
      expect(s.archiveBytes(install.clientIds[i]!), `server ${i + 1}'s archive`).toBeGreaterThan(0);
    }
    expect(a.log()).toMatch(
      /cldcb: ready: backing up to 3 servers \(.*\); lightningd commits once 2 of them stored a write/,
    );
    // The reference: the same payments with all three servers up.
    await net.quiesce([a, pair.b]);
    const r = await longestHold(a, () => timedPays(5, 0));
    quiet = { payMedian: median(r.value), holdMs: r.holdMs };
    console.log(
      `quorum tier: all 3 up: pay median ${ms(quiet.payMedian)} (max ${ms(Math.max(...r.value))}), longest hold ${ms(r.holdMs)} over ${r.probes} getinfo probes`,
    );
  },
);

step(
  'kill -9 of each server in turn during payment bursts both ways: no write fails, every payment completes, lightningd is not held for the missing server; each comes back on its port and catches up',
  async () => {
    const { a, b, servers, install } = pair;
    const figures: string[] = [];
    for (const [k, server] of servers.entries()) {
      const label = `server ${k + 1} \\(${server.serverId.slice(0, 10)}\\.\\.\\.@127\\.0\\.0\\.1:${server.port}\\)`;
      const mark = a.logMark();
      const before = server.archiveBytes(install.clientIds[k]!);
      const burst = net.payBothWays(a, b, 4, 1_000_000 + k * 10, 700_000 + k * 10);
      // Kill once the burst is being backed up on this server (its archive grows), at a varying moment.
      await server.killWhileStoring(install.clientIds[k]!, before);
      // With the server down: the burst finishes, then timed payments and the RPC probe.
      const out = await longestHold(a, async () => {
        const statuses = await Promise.all(burst);
        const pays = await timedPays(3, 100 + k * 10);
        return { statuses, pays };
      });
      expect(
        out.value.statuses.filter((s) => s !== 'complete'),
        `payments of burst ${k + 1} that did not complete`,
      ).toEqual([]);
      expect(a.running, `lightningd A during the outage of server ${k + 1}:\n${a.diagnostics()}`).toBe(true);
      await waitFor(
        `the plugin to report server ${k + 1} away`,
        () => pluginLines(mark).some((l) => new RegExp(`${label} away`).test(l)),
        15_000,
      );
      const outageMedian = median(out.value.pays);
      figures.push(
        `server ${k + 1} down: pay median ${ms(outageMedian)} (max ${ms(Math.max(...out.value.pays))}), longest hold ${ms(out.holdMs)} over ${out.probes} probes`,
      );
      // Not held for the missing server: a write waiting for it would hold lightningd for the
      // deadline (and then stop it). Bounds leave room for a loaded 2-core machine.
      expect(out.holdMs, `longest time lightningd answered no RPC with server ${k + 1} down`).toBeLessThan(
        Math.max(2000, quiet.holdMs * 2),
      );
      expect(
        outageMedian,
        `payment median with server ${k + 1} down, against ${ms(quiet.payMedian)} with all up`,
      ).toBeLessThan(quiet.payMedian * 2 + 300);

      // Back on the same directory and port: it catches up with what it missed.
      // It may also have to start again at a snapshot (our server asks for one when the increments
      // outgrow its snapshot, and a lane that is behind gets its copy at lightningd's next write):
      // payments keep writes coming until it reports itself current.
      const back = Date.now();
      await server.start();
      let drives = 0;
      await waitFor(
        `server ${k + 1} to be current again`,
        async () => {
          if (pluginLines(mark).some((l) => new RegExp(`${label} is (back and current|caught up)`).test(l)))
            return true;
          expect(await net.payInFlight(a, b, 555_000 + k * 100 + drives++)).toBe('complete');
          return false;
        },
        30_000,
        200,
      );
      figures.push(
        `server ${k + 1} caught up ${ms(Date.now() - back)} after its restart (${drives} payment(s) meanwhile)`,
      );
      expect(
        pluginLines(mark).filter((l) => /Failing the db_write hook|\*\*BROKEN\*\*/.test(l)),
        'failed db_writes',
      ).toEqual([]);
    }
    expect(a.log(), 'a db_write hook failed').not.toMatch(/Failing the db_write hook/);
    console.log(`quorum tier: ${figures.join('; ')}`);
  },
);

step(
  'after a quiet moment, `cldcb-client status` shows every server at the database data_version',
  async () => {
    const { a, b } = pair;
    await net.quiesce([a, b]);
    const t0 = Date.now();
    // A server that asked for a re-upload while it was catching up (ours does when the increments
    // outgrow its snapshot) gets its copy of the database at lightningd's next write: on a quiet
    // node that may be a while, so a payment brings one when status has not moved for 3 s.
    let drives = 0;
    let seen = '';
    let since = Date.now();
    const st = await waitFor(
      'every server at the database data_version',
      async () => {
        const s = await status(a);
        if (s.current === 3 && s.servers.every((x) => x.lag === 0)) return s;
        const now = JSON.stringify(s.servers.map((x) => x.data_version));
        if (now !== seen) [seen, since] = [now, Date.now()];
        else if (Date.now() - since > 3000) {
          expect((await net.pay(a, b, 333_000 + drives++)).status).toBe('complete');
          since = Date.now();
        }
        return undefined;
      },
      40_000,
      200,
    );
    expect(st.quorum).toBe(2);
    expect(st.servers.map((s) => s.data_version)).toEqual([
      st.database.data_version,
      st.database.data_version,
      st.database.data_version,
    ]);
    console.log(
      `quorum tier: status shows 3 of 3 current at data_version ${st.database.data_version} ${Date.now() - t0} ms after the quiet moment (${drives} payment(s) to bring a write)`,
    );
  },
);

step(
  "clean stop while server 3 is away (back a moment later); recovery from the three servers' directories, and from any two, is proven fresh and row-identical; from one alone it is not proven and set aside",
  async () => {
    const { a, b, servers } = pair;
    // Server 3 misses the last payments and lightningd's stop: the plugin finishes its queue when
    // it is back, and the after-stop helper makes every server hold lightningd's final database.
    await servers[2]!.kill();
    expect((await net.pay(a, b, 2_000_000)).status).toBe('complete');
    expect((await net.pay(b, a, 1_000_000)).status).toBe('complete');
    await net.quiesce([a, b]);
    const behind = await status(a);
    expect(behind.servers[2]!.standing, 'server 3 missed the last writes').toBe('behind');
    const stopping = a.stop();
    await sleep(1000);
    await servers[2]!.start();
    await stopping;
    // The after-stop helper holds cldcb-plugin.lock until the backup holds lightningd's final database.
    await waitFor(
      'the after-stop helper to finish',
      () => !existsSync(path.join(a.networkDir, 'cldcb-plugin.lock')),
      60_000,
    );
    const copies = servers.map((s, i) => {
      const copy = path.join(net.dir, `srv-copy-${i + 1}`);
      cpSync(s.dir, copy, { recursive: true });
      return copy;
    });
    const hsm = path.join(a.networkDir, 'hsm_secret');
    type Freshness = { state: string; servers: number; quorum: number; answered: number; needed: number };
    // All three, then every pair: n − k + 1 = 2 of the node's 3 servers prove the newest state.
    for (const pick of [
      [0, 1, 2],
      [0, 1],
      [0, 2],
      [1, 2],
    ]) {
      const r = await recoverInto(path.join(net.dir, `rec-${pick.map((i) => i + 1).join('')}`), hsm, {
        from: pick.map((i) => copies[i]!),
      });
      expectIdentical(r, a);
      expect(r.verdict?.freshness, `servers ${pick.map((i) => i + 1).join('+')}`).toMatchObject({
        state: 'proven',
        servers: 3,
        quorum: 2,
        answered: pick.length,
      });
      expect((r.verdict?.sources as { outcome: string }[]).map((x) => x.outcome)).toEqual(
        pick.map(() => 'newest'),
      );
    }
    // One alone proves nothing: the database is written aside, never where lightningd would start on it.
    for (const [i, copy] of copies.entries()) {
      const r = await recoverInto(path.join(net.dir, `rec-only-${i + 1}`), hsm, { from: copy });
      expect(r.run.status, describeRecovery(r)).toBe(3);
      expect(r.verdict?.freshness as Freshness, describeRecovery(r)).toMatchObject({
        state: 'not-proven',
        answered: 1,
        needed: 2,
      });
      expect(
        existsSync(path.join(r.networkDir, 'lightningd.sqlite3')),
        'a not-proven database under the name lightningd opens',
      ).toBe(false);
      const aside = String(r.verdict?.database);
      expect(aside).toMatch(/lightningd\.sqlite3\.stale-\d+$/);
      // What it set aside is still the node's newest state (server 3 caught up after the stop).
      expect(diffDumps(dumpDb(a.dbPath), dumpDb(aside)), `server ${i + 1} alone`).toEqual([]);
    }
    const after = await status(a);
    expect(after.servers.map((x) => x.standing)).toEqual(['current', 'current', 'current']);
    await a.start(a.lastStart);
    await net.sync();
    await Promise.all([net.channelsReady(a, 2), net.channelsReady(b, 2)]);
  },
);

step(
  `two of the three servers away: lightningd stops at the deadline (${DEADLINE_S} s) without committing the write`,
  async () => {
    const { a, b, servers } = pair;
    await net.quiesce([a, b]);
    const mark = a.logMark();
    const committed = dumpDb(a.dbPath).dataVersion!;
    await servers[0]!.kill();
    await servers[2]!.kill();
    const secs = await expectStopsAtDeadline(net, a, b, DEADLINE_S, 4_000_000);
    const refusal = pluginLines(mark).find((l) =>
      /NOT backed up: 1 of the 2 servers needed stored it/.test(l),
    );
    expect(refusal, 'the refusal, naming every server').toBeDefined();
    expect(refusal).toMatch(/server 1 .* away.*server 2 .* current.*server 3 .* away/);
    // What lightningd starts on (its hot journal rolled back) is what it had before the servers went.
    expect(dumpDb(a.dbPath).dataVersion, 'the database after the refused write').toBe(committed);
    const st = await status(a);
    expect(st.database.data_version ?? committed).toBe(committed);
    console.log(
      `quorum tier: two servers away: lightningd stopped ${secs.toFixed(1)} s after the payment started (deadline ${DEADLINE_S} s)`,
    );
    await a.kill(); // reap what is left of the stopped run
  },
);

/**
 * Issue 10, scenario b — clean stops under traffic. lightningd keeps committing while it
 * shuts down (chanbackup's datastore entry, network events, a peer's reconnection), after
 * it freed plugins not subscribed to `shutdown` and, later, all of them; then its db_write
 * hook is silently skipped (lightningd-rig.md §5). So after each `stop` — payments in flight,
 * and also with a plugin that saves its state with `datastore` on `shutdown`, as many
 * plugins do — `recover` must give the node's database row for row, or a verdict that says
 * what the backup lacks: never "verified" for a database older than the node's (defect 2).
 * And the plugin must not make a clean stop slow: lightningd waits up to 30 s for a plugin
 * that lingers after `shutdown`.
 */
import path from 'node:path';
import { expect } from 'vitest';
import { expectIdenticalOrHonest } from './checks';
import { recoverInto } from './harness/cldcb';
import type { Network } from './harness/network';
import type { LightningNode } from './harness/node';
import { SHUTDOWN_SAVER_PLUGIN } from './harness/paths';
import type { BackedUpPair } from './harness/scenario';
import { steps, useBackedUpPair } from './tier';

let net: Network;
let pair: BackedUpPair;
let recoveries = 0;
/** Durations (ms) of A's stops under traffic, without and with the shutdown writer (the timing test's samples). */
const stopsOfA: Record<'without' | 'with', number[]> = { without: [], with: [] };
useBackedUpPair({}, (c) => ({ net, pair } = c));

/** Payments both ways, not awaited: some are in flight when the node stops. */
function traffic(n: number): Promise<string>[] {
  return net.payBothWays(pair.a, pair.b, n, 1_000_000, 500_000);
}

/** (Re)start `node` with or without the shutdown-saver plugin. */
async function startWith(node: LightningNode, saver: boolean): Promise<void> {
  if (node.running) await node.stop();
  await node.start({ ...node.lastStart, plugins: saver ? [SHUTDOWN_SAVER_PLUGIN] : [] });
}

/**
 * Traffic, `stop` of `node` while payments are in flight; then (for A) recover into a fresh
 * directory and judge it; restart and let the traffic finish.
 * @returns the stop's duration (ms) and, for A, how the recovery went.
 */
async function stopUnderTraffic(
  node: LightningNode,
  saver: boolean,
  judge: boolean,
): Promise<{ ms: number; result?: 'identical' | 'honest' }> {
  const { a, b, server } = pair;
  const inFlight = traffic(3);
  await new Promise((r) => setTimeout(r, 20 + Math.floor(Math.random() * 150)));
  const ms = await node.stop();
  if (node === a) stopsOfA[saver ? 'with' : 'without'].push(ms);
  let result: 'identical' | 'honest' | undefined;
  if (judge) {
    const r = await recoverInto(
      path.join(net.dir, `rec-${++recoveries}`),
      path.join(a.networkDir, 'hsm_secret'),
      { server: server.address },
    );
    result = expectIdenticalOrHonest(r, a);
  }
  await startWith(node, saver);
  await net.sync();
  await Promise.all([net.channelsReady(a, 2), net.channelsReady(b, 2)]);
  await Promise.all(inFlight);
  await net.quiesce([a, b]);
  return { ms, ...(result ? { result } : {}) };
}

const step = steps();

// Issue 10 defect 2: both failed before 8ff0a93 — with the shutdown writer every time ("verified" with
// the datastore row, a network_events row and vars missing), without it about one stop in ten.
step(
  '10 clean stops of A under traffic: each recovery is row-identical, or a verdict that names what the backup lacks',
  async () => {
    const results: string[] = [];
    for (let i = 0; i < 10; i++) results.push((await stopUnderTraffic(pair.a, false, true)).result!);
    console.log(`clean stops without a shutdown writer: ${results.join(', ')}`);
  },
  // A stop can leave a multi-part payment's parts held 70 s at the payee (Network.quiesce).
  { timeout: 600_000 },
);

step(
  '5 clean stops under traffic with a plugin that saves its state with datastore on shutdown: identical, or a verdict that names what the backup lacks',
  async () => {
    const { a } = pair;
    await startWith(a, true);
    await net.sync();
    await net.channelsReady(a, 2);
    const results: string[] = [];
    for (let i = 0; i < 5; i++) {
      const mark = a.logMark();
      results.push((await stopUnderTraffic(a, true, true)).result!);
      expect(a.logSince(mark), 'the shutdown-saver plugin wrote during shutdown').toContain(
        'shutdown-saver: state saved',
      );
    }
    console.log(`clean stops with a shutdown writer: ${results.join(', ')}`);
  },
  { timeout: 400_000 },
);

step(
  'a clean stop takes at most ~2 s longer with the cldcb plugin than without (same traffic, with and without a shutdown writer)',
  async () => {
    const { a, b } = pair;
    const slower: string[] = [];
    for (const saver of [false, true]) {
      const cfg = saver ? 'with' : 'without';
      // Node B (no cldcb plugin) is the reference, in the same configuration and traffic.
      await startWith(b, saver);
      if (stopsOfA[cfg].length === 0) await startWith(a, saver);
      await net.sync();
      await Promise.all([net.channelsReady(a, 2), net.channelsReady(b, 2)]);
      // A's samples come from the tests above; measured here when those did not run.
      if (stopsOfA[cfg].length === 0) await stopUnderTraffic(a, saver, false);
      const without = [(await stopUnderTraffic(b, saver, false)).ms];
      const limit = Math.max(...without) + 2000;
      console.log(
        `stop ms ${cfg} a shutdown writer: A (cldcb) ${stopsOfA[cfg].map(Math.round).join(', ')}; B ${without.map(Math.round).join(', ')}`,
      );
      for (const ms of stopsOfA[cfg])
        if (ms > limit)
          slower.push(
            `${cfg} a shutdown writer: ${Math.round(ms)} ms against B's ${without.map(Math.round).join('/')} ms`,
          );
    }
    expect(slower, 'clean stops of A more than 2 s slower than B').toEqual([]);
  },
);

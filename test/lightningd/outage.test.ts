/**
 * Issue 10, scenario c — the server goes away. The db_write hook is synchronous: while the
 * plugin waits for the server, lightningd does nothing else (no RPC), and when the plugin
 * gives up at its deadline, lightningd stops without committing the write (fail closed).
 *  - Away for less than the deadline (refused, or frozen with connections open): the payment
 *    completes once the server is back, nothing is lost.
 *  - Away for longer: lightningd stops; its database holds nothing the backup does not.
 *  - Both restarted: the node and its peer agree on every channel, payments flow, and the
 *    backup is row-identical to the node's database.
 * The deadline is the operator's setting (`installplugin --deadline=SECONDS`), short here.
 */
import path from 'node:path';
import { expect } from 'vitest';
import { expectIdentical, expectStopsAtDeadline } from './checks';
import { recoverInto } from './harness/cldcb';
import type { Network } from './harness/network';
import type { BackedUpPair } from './harness/scenario';
import { steps, useBackedUpPair } from './tier';

const DEADLINE_S = 6;
let net: Network;
let pair: BackedUpPair;
useBackedUpPair({ installArgs: [`--deadline=${DEADLINE_S}`] }, (c) => ({ net, pair } = c));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A getinfo that must not be answered: lightningd is inside the db_write hook, waiting for the backup. */
async function expectFrozen(): Promise<void> {
  const r = await pair.a.call('getinfo', {}, 1000).then(
    () => 'answered',
    (e: Error) => e.message,
  );
  expect(r, 'lightningd answered RPC while its write waited for the server').toMatch(/no reply within/);
}

/** Every channel: A's and B's balances add up to the capacity (they agree), no HTLC in flight. */
async function peersAgree(): Promise<void> {
  const { a, b } = pair;
  await net.quiesce([a, b]);
  const ca = await net.channels(a);
  const cb = await net.channels(b);
  expect(ca.length).toBe(2);
  for (const c of ca) {
    const other = cb.find((x) => x.channel_id === c.channel_id);
    expect(other, `B knows channel ${c.channel_id}`).toBeDefined();
    expect(c.state).toBe('CHANNELD_NORMAL');
    expect(other!.state).toBe('CHANNELD_NORMAL');
    expect(c.to_us_msat + other!.to_us_msat, `balances of ${c.short_channel_id} add up`).toBe(c.total_msat);
  }
}

const step = steps();

step(
  `server away (refused) for less than the deadline (${DEADLINE_S} s): the payment completes once it is back`,
  async () => {
    const { a, b, server } = pair;
    await server.stop();
    const pay = net.payInFlight(a, b, 5_000_000);
    await sleep(1500);
    await expectFrozen();
    await server.start();
    expect(await pay).toBe('complete');
    expect(a.running).toBe(true);
    await peersAgree();
  },
);

step(
  `server frozen (SIGSTOP, connections open) for less than the deadline: the payment completes once it answers`,
  async () => {
    const { a, b, server } = pair;
    server.freeze();
    const pay = net.payInFlight(a, b, 6_000_000);
    try {
      await sleep(1500);
      await expectFrozen();
    } finally {
      server.thaw();
    }
    expect(await pay).toBe('complete');
    expect(a.running).toBe(true);
    await peersAgree();
  },
);

step(
  'server away for longer than the deadline: lightningd stops without committing the write the server did not store',
  async () => {
    const { a, b, server } = pair;
    await server.stop();
    await expectStopsAtDeadline(net, a, b, DEADLINE_S, 7_000_000);
    expect(a.log()).toMatch(/db_write/);
    // What lightningd will start on (the hot journal rolled back) is exactly what the server holds.
    const r = await recoverInto(path.join(net.dir, 'rec-dead'), path.join(a.networkDir, 'hsm_secret'), {
      from: server.dir,
    });
    expectIdentical(r, a);
  },
);

step(
  'server and lightningd restarted: the peers agree on every channel, payments flow, the backup is identical',
  async () => {
    const { a, b, server } = pair;
    await a.kill(); // reap what is left of the crashed run
    await server.start();
    await a.start(a.lastStart);
    await net.sync();
    await Promise.all([net.channelsReady(a, 2), net.channelsReady(b, 2)]);
    await peersAgree();
    expect((await net.pay(a, b, 3_000_000)).status).toBe('complete');
    expect((await net.pay(b, a, 2_000_000)).status).toBe('complete');
    await net.quiesce([a, b]);
    await a.stop();
    const r = await recoverInto(path.join(net.dir, 'rec-end'), path.join(a.networkDir, 'hsm_secret'), {
      server: server.address,
    });
    expectIdentical(r, a);
  },
);

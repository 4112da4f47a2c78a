/**
 * Issue 10, scenario d — kill -9 of the server during payment bursts (it comes straight back
 * on the same port, well within the plugin's deadline). lightningd must never commit a write
 * the server did not store: after the bursts, a clean stop and `recover` give the node's
 * database row for row, and every payment of the bursts completed.
 */
import path from 'node:path';
import { expect } from 'vitest';
import { expectIdentical } from './checks';
import { recoverInto } from './harness/cldcb';
import type { Network } from './harness/network';
import type { BackedUpPair } from './harness/scenario';
import { steps, useBackedUpPair } from './tier';

const KILLS = 6;
let net: Network;
let pair: BackedUpPair;
useBackedUpPair({}, (c) => ({ net, pair } = c));

const step = steps();

step(
  `${KILLS} kill -9s of the server during payment bursts both ways: lightningd carries on, every payment completes`,
  async () => {
    const { a, b, server } = pair;
    const statuses: string[] = [];
    for (let k = 0; k < KILLS; k++) {
      const before = server.archiveBytes(pair.install.clientId);
      const burst = net.payBothWays(a, b, 4, 1_000_000 + k * 10, 700_000 + k * 10);
      // Kill once the burst is being backed up (the archive grows), at a varying moment.
      await server.killWhileStoring(pair.install.clientId, before);
      await server.start();
      statuses.push(...(await Promise.all(burst)));
      expect(a.running, `lightningd A after kill ${k + 1}:\n${a.diagnostics()}`).toBe(true);
    }
    expect(
      statuses.filter((s) => s !== 'complete'),
      'payments that did not complete',
    ).toEqual([]);
  },
);

step('clean stop, recover: every write lightningd committed is in the backup', async () => {
  const { a, b, server } = pair;
  await net.quiesce([a, b]);
  await a.stop();
  const r = await recoverInto(path.join(net.dir, 'rec'), path.join(a.networkDir, 'hsm_secret'), {
    server: server.address,
  });
  expectIdentical(r, a);
});

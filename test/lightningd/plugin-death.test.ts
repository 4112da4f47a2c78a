/**
 * Issue 10, scenario e — the backup plugin dies (SIGKILL, between writes).
 *  - Enabled with `important-plugin=` (what installplugin recommends): lightningd stops at
 *    once rather than run unprotected; started again, the backup catches up and is
 *    row-identical.
 *  - Enabled with `plugin=`: lightningd carries on and commits its later writes unbacked —
 *    the behaviour the README documents for that choice; the next start with the plugin
 *    re-uploads, and the backup is row-identical again.
 */
import path from 'node:path';
import { expect } from 'vitest';
import { expectIdentical } from './checks';
import { enablePlugin, recoverInto } from './harness/cldcb';
import type { Network } from './harness/network';
import type { LightningNode } from './harness/node';
import type { BackedUpPair } from './harness/scenario';
import { steps, useBackedUpPair } from './tier';

let net: Network;
let pair: BackedUpPair;
let recoveries = 0;
useBackedUpPair({ option: 'important-plugin' }, (c) => ({ net, pair } = c));

/** SIGKILL the cldcb plugin process of `node`. */
function killPlugin(node: LightningNode): void {
  const plugins = node.children(/cldcb-plugin/);
  expect(plugins.length, `cldcb plugin processes under ${node.name}`).toBe(1);
  process.kill(plugins[0]!.pid, 'SIGKILL');
}

/** Stop A cleanly and check that recover gives its database row for row. */
async function stopAndRecoverIdentical(): Promise<void> {
  const { a, b, server } = pair;
  await net.quiesce([a, b]);
  await a.stop();
  const r = await recoverInto(
    path.join(net.dir, `rec-${++recoveries}`),
    path.join(a.networkDir, 'hsm_secret'),
    { server: server.address },
  );
  expectIdentical(r, a);
}

const step = steps();

step('important-plugin=: the plugin killed between writes → lightningd stops', async () => {
  const { a, b } = pair;
  expect((await net.pay(a, b, 2_000_000)).status).toBe('complete');
  await net.quiesce([a, b]);
  const t0 = Date.now();
  killPlugin(a);
  const exit = await a.waitExit(15_000);
  expect(exit.code === 0 && exit.signal === null, `lightningd exit ${JSON.stringify(exit)}`).toBe(false);
  expect(Date.now() - t0).toBeLessThan(10_000);
  expect(a.log()).toMatch(/Plugin marked as important, shutting down lightningd/);
  await a.kill(); // reap the group
});

step('important-plugin=: started again, the backup catches up and is row-identical', async () => {
  const { a, b } = pair;
  await a.start(a.lastStart);
  await net.sync();
  await Promise.all([net.channelsReady(a, 2), net.channelsReady(b, 2)]);
  expect((await net.pay(b, a, 1_000_000)).status).toBe('complete');
  await stopAndRecoverIdentical();
});

step(
  'plugin=: the plugin killed → lightningd carries on, its later writes unbacked (as the README says); the next start re-uploads',
  async () => {
    const { a, b, server } = pair;
    enablePlugin(a.networkDir, 'plugin');
    await a.start(a.lastStart);
    await net.sync();
    await Promise.all([net.channelsReady(a, 2), net.channelsReady(b, 2)]);
    killPlugin(a);
    await new Promise((r) => setTimeout(r, 500));
    const archive = server.archiveBytes(pair.install.clientId);
    expect((await net.pay(a, b, 3_000_000)).status, 'lightningd carries on without the plugin').toBe(
      'complete',
    );
    expect((await net.pay(b, a, 1_000_000)).status).toBe('complete');
    expect(a.running).toBe(true);
    expect(a.log()).toMatch(/plugin-cldcb-plugin-wrapper: Killing plugin: exited during normal operation/);
    expect(
      server.archiveBytes(pair.install.clientId),
      'nothing reached the server after the plugin died',
    ).toBe(archive);
    // Started again with the plugin: the writes it missed are backed up (re-upload).
    await net.quiesce([a, b]);
    await a.restart();
    await net.sync();
    await Promise.all([net.channelsReady(a, 2), net.channelsReady(b, 2)]);
    await stopAndRecoverIdentical();
  },
);

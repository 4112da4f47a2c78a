/**
 * The setup most scenarios share: our cldcb-server, node A backed up by our plugin —
 * installed the README's way — and node B without it, with a channel opened from each side
 * and both nodes funded, so payments flow both ways at once.
 */
import { CldcbServer, installBackup, type Install } from './cldcb';
import type { Network } from './network';
import type { LightningNode, StartOptions } from './node';

export interface BackedUpPair {
  readonly server: CldcbServer;
  /** The node with the cldcb plugin. */
  readonly a: LightningNode;
  /** Its peer, without a backup plugin. */
  readonly b: LightningNode;
  readonly install: Install;
  readonly channelIds: readonly string[];
}

export interface PairOptions {
  /** How A enables the plugin (default: the README's config line). */
  readonly option?: 'plugin' | 'important-plugin';
  /** Further `installplugin` options (e.g. --deadline=SECONDS). */
  readonly installArgs?: readonly string[];
  /** A's start options (plugins, env such as the plugin's deadline); restarts reuse them. */
  readonly aStart?: StartOptions;
  readonly bStart?: StartOptions;
  /** Channel size (sat), each way. */
  readonly channelSats?: number;
}

export async function backedUpPair(net: Network, opts: PairOptions = {}): Promise<BackedUpPair> {
  const server = net.addServer();
  await server.start();
  const a = await net.addNode('a');
  const b = await net.addNode('b');
  // A is an existing node (installplugin needs its hsm_secret) when the operator installs.
  await Promise.all([a.start(), b.start(opts.bStart)]);
  await a.stop();
  const install = await installBackup(a, server, net.dir, { ...(opts.option ? { option: opts.option } : {}), ...(opts.installArgs ? { installArgs: opts.installArgs } : {}) });
  await a.start(opts.aStart);
  await net.sync();
  await net.fund([a, b], 3_000_000n);
  await net.connect(a, b);
  const sats = opts.channelSats ?? 1_000_000;
  const channelIds = await net.openChannels([
    [a, b, sats],
    [b, a, sats],
  ]);
  return { server, a, b, install, channelIds };
}

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
  /** Node names (default a, b) and the server's log level (default debug). */
  readonly names?: readonly [string, string];
  readonly serverLogLevel?: string;
}

export async function backedUpPair(net: Network, opts: PairOptions = {}): Promise<BackedUpPair> {
  const [nameA, nameB] = opts.names ?? ['a', 'b'];
  const server = net.addServer(`srv-${nameA}`, opts.serverLogLevel);
  await server.start();
  const a = await net.addNode(nameA);
  const b = await net.addNode(nameB);
  // A is an existing node (installplugin needs its hsm_secret) when the operator installs.
  await Promise.all([a.start(opts.aStart), b.start(opts.bStart)]);
  await a.stop();
  const install = await installBackup(a, server, net.dir, {
    ...(opts.option ? { option: opts.option } : {}),
    ...(opts.installArgs ? { installArgs: opts.installArgs } : {}),
  });
  await a.start(opts.aStart);
  const channelIds = await channelsBothWays(net, a, b, opts.channelSats);
  return { server, a, b, install, channelIds };
}

/** Fund both running nodes (one block), connect them, open a channel from each side. */
export async function channelsBothWays(
  net: Network,
  a: LightningNode,
  b: LightningNode,
  sats = 1_000_000,
): Promise<string[]> {
  await net.sync();
  await net.fund([a, b], 3_000_000n);
  await net.connect(a, b);
  return net.openChannels([
    [a, b, sats],
    [b, a, sats],
  ]);
}

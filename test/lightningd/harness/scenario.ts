/**
 * The setup most scenarios share: our cldcb-server, node A backed up by our plugin —
 * installed the README's way — and node B without it, with a channel opened from each side
 * and both nodes funded, so payments flow both ways at once.
 */
import { CldcbServer, installBackup, type Install } from './cldcb';
import type { Network } from './network';
import type { LightningNode, StartOptions } from './node';

export interface BackedUpPair {
  /** Our server (the first, with several). */
  readonly server: CldcbServer;
  /** Every backup server of A, in the wrapper's order. */
  readonly servers: readonly CldcbServer[];
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
  /** Several backup servers (issue 11): how many (default 1) and `--quorum` (default: installplugin's). */
  readonly servers?: number;
  readonly quorum?: number;
}

export async function backedUpPair(net: Network, opts: PairOptions = {}): Promise<BackedUpPair> {
  const [nameA, nameB] = opts.names ?? ['a', 'b'];
  const n = opts.servers ?? 1;
  const servers = Array.from({ length: n }, (_, i) =>
    net.addServer(n === 1 ? `srv-${nameA}` : `srv-${nameA}${i + 1}`, opts.serverLogLevel),
  );
  await Promise.all(servers.map((s) => s.start()));
  const server = servers[0]!;
  const a = await net.addNode(nameA);
  const b = await net.addNode(nameB);
  // A is an existing node (installplugin needs its hsm_secret) when the operator installs.
  await Promise.all([a.start(opts.aStart), b.start(opts.bStart)]);
  await a.stop();
  const install = await installBackup(a, n === 1 ? server : servers, net.dir, {
    ...(opts.option ? { option: opts.option } : {}),
    ...(opts.installArgs ? { installArgs: opts.installArgs } : {}),
    ...(opts.quorum !== undefined ? { quorum: opts.quorum } : {}),
  });
  await a.start(opts.aStart);
  const channelIds = await channelsBothWays(net, a, b, opts.channelSats);
  return { server, servers, a, b, install, channelIds };
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

/**
 * A test network: one fake chain, a short run directory under /tmp, lightningd nodes on it,
 * and the steps of lightningd-rig.md §4 — fund, connect, open channels both ways, pay —
 * each waiting until every running node has caught up. `close()` kills everything it
 * started and removes the run directory unless the test failed (then it is kept and named).
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { startChainServer, type ChainServer, type FakeChain } from './chain';
import { CldcbServer } from './cldcb';
import { LightningNode } from './node';
import { freePort, shortTempDir } from './paths';
import { recordRunDir } from './procs';
import { RpcError } from './rpc';

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 30_000,
  everyMs = 50,
): Promise<T> {
  const t0 = Date.now();
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() - t0 > timeoutMs)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`,
      );
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface Channel {
  readonly peer_id: string;
  readonly state: string;
  readonly short_channel_id?: string;
  readonly channel_id: string;
  readonly opener: string;
  readonly to_us_msat: number;
  readonly total_msat: number;
  readonly funding_txid: string;
}

export class Network {
  readonly nodes: LightningNode[] = [];
  readonly servers: CldcbServer[] = [];
  private failed = false;
  private labels = 0;

  private constructor(
    readonly dir: string,
    readonly chainServer: ChainServer,
  ) {}

  static async create(): Promise<Network> {
    const dir = shortTempDir();
    recordRunDir(dir);
    return new Network(dir, await startChainServer());
  }

  get chain(): FakeChain {
    return this.chainServer.chain;
  }

  /** A node whose base dir is <run>/<name> (not started). */
  async addNode(name: string): Promise<LightningNode> {
    const node = new LightningNode({
      name,
      baseDir: path.join(this.dir, name),
      port: await freePort(),
      chainUrl: this.chainServer.url,
    });
    this.nodes.push(node);
    return node;
  }

  /** A node object for an existing base dir (a recovered one), on `port`. */
  nodeAt(name: string, baseDir: string, port: number): LightningNode {
    const node = new LightningNode({ name, baseDir, port, chainUrl: this.chainServer.url });
    this.nodes.push(node);
    return node;
  }

  /** A cldcb-server for this network, in <run>/<name> (not started). */
  addServer(name = 'srv', logLevel?: string): CldcbServer {
    const s = new CldcbServer(path.join(this.dir, name), logLevel);
    this.servers.push(s);
    return s;
  }

  running(): LightningNode[] {
    return this.nodes.filter((n) => n.running);
  }

  /**
   * Wait until every running node (or `nodes`) has processed the chain tip, and getinfo
   * says so (once synced, getinfo reports gossipd's height, which follows a little later).
   */
  async sync(nodes: LightningNode[] = this.running()): Promise<void> {
    const h = this.chain.height;
    await Promise.all(
      nodes.map(async (n) => {
        await n.call('waitblockheight', { blockheight: h, timeout: 60 }, 65_000);
        await waitFor(
          `${n.name}: getinfo at block ${h}`,
          async () => (await n.call<{ blockheight: number }>('getinfo')).blockheight === h,
        );
      }),
    );
  }

  /** Wait until `node` has `count` channels, all CHANNELD_NORMAL with the peer connected. */
  async channelsReady(node: LightningNode, count: number, timeoutMs = 60_000): Promise<void> {
    await waitFor(
      `${node.name}: ${count} channels CHANNELD_NORMAL and reconnected`,
      async () => {
        const chans = await node.call<{ channels: { state: string; peer_connected: boolean }[] }>(
          'listpeerchannels',
        );
        return (
          chans.channels.length === count &&
          chans.channels.every((c) => c.state === 'CHANNELD_NORMAL' && c.peer_connected)
        );
      },
      timeoutMs,
    );
  }

  /**
   * Wait until no channel of `nodes` has an HTLC in flight (balances final on both sides).
   * Up to 100 s: a payer stopped mid-payment leaves the parts of a multi-part payment it had
   * sent at the payee, which holds them for the rest of the set and fails them only after 70 s
   * (CLN lightningd/htlc_set.c new_htlc_set: `time_from_sec(70)`, BOLT 4's "at least 60 seconds").
   */
  async quiesce(nodes: LightningNode[] = this.running()): Promise<void> {
    for (const n of nodes)
      await waitFor(
        `${n.name}: no HTLC in flight`,
        async () => {
          const { channels } = await n.call<{
            channels: {
              peer_connected: boolean;
              state: string;
              htlcs?: { direction: string; state: string; expiry: number }[];
            }[];
          }>('listpeerchannels');
          if (channels.every((c) => (c.htlcs ?? []).length === 0)) return true;
          // Thrown, so a timeout names what stayed in flight (waitFor reports the last error).
          const held = channels
            .filter((c) => (c.htlcs ?? []).length > 0)
            .map(
              (c) =>
                `${c.state}${c.peer_connected ? '' : ' (peer disconnected)'}: ${c.htlcs!.map((h) => `${h.direction} ${h.state} expiry ${h.expiry}`).join(', ')}`,
            );
          throw new Error(`in flight: ${held.join('; ')}`);
        },
        100_000,
        200,
      );
  }

  /** Mine `n` blocks and wait for every running node to reach the tip. */
  async mine(n = 1): Promise<void> {
    this.chain.mine(n);
    await this.sync();
  }

  /** Give each node a confirmed output of `sats` (faucet transactions, all in 1 block). */
  async fund(nodes: LightningNode[], sats: bigint): Promise<void> {
    const txids: string[] = [];
    for (const node of nodes) {
      const { bech32 } = await node.call<{ bech32: string }>('newaddr', { addresstype: 'bech32' });
      txids.push(this.chain.faucet(bech32, sats));
    }
    await this.mine(1);
    await Promise.all(
      nodes.map((node, i) =>
        waitFor(`${node.name} to see its funding output ${txids[i]}`, async () => {
          const f = await node.call<{ outputs: { txid: string; status: string }[] }>('listfunds');
          return f.outputs.some((o) => o.txid === txids[i] && o.status === 'confirmed');
        }),
      ),
    );
  }

  async connect(from: LightningNode, to: LightningNode): Promise<void> {
    const info = await to.call<{ id: string }>('getinfo');
    await from.call('connect', { id: info.id, host: '127.0.0.1', port: to.opts.port });
  }

  async channels(node: LightningNode): Promise<Channel[]> {
    return (await node.call<{ channels: Channel[] }>('listpeerchannels')).channels;
  }

  /**
   * Open a channel from each `[opener, peer, sats]` (funding txs in one block), then wait
   * until both sides of every channel are CHANNELD_NORMAL.
   */
  async openChannels(opens: readonly (readonly [LightningNode, LightningNode, number])[]): Promise<string[]> {
    const ids: string[] = [];
    for (const [from, to, sats] of opens) {
      const peer = await to.call<{ id: string }>('getinfo');
      const r = await from.call<{ channel_id: string; txid: string }>(
        'fundchannel',
        { id: peer.id, amount: sats, announce: false },
        60_000,
      );
      if (!this.chain.mempoolTxids().includes(r.txid))
        throw new Error(`funding tx ${r.txid} is not in the mempool`);
      ids.push(r.channel_id);
    }
    await this.mine(1);
    for (const [from, to] of opens)
      for (const n of [from, to])
        await waitFor(`${n.name}: channels ${ids.join(', ')} CHANNELD_NORMAL`, async () => {
          const chans = await this.channels(n);
          return (
            ids
              .filter((id) => chans.some((c) => c.channel_id === id))
              .every((id) => chans.find((c) => c.channel_id === id)!.state === 'CHANNELD_NORMAL') &&
            chans.some((c) => ids.includes(c.channel_id))
          );
        });
    return ids;
  }

  /** A unique invoice label. */
  label(prefix = 'inv'): string {
    return `${prefix}-${Date.now().toString(36)}-${++this.labels}`;
  }

  /** An invoice of `msat` from `to`. */
  async invoice(
    to: LightningNode,
    msat: number,
    label = this.label(),
  ): Promise<{ bolt11: string; payment_hash: string; label: string }> {
    const inv = await to.call<{ bolt11: string; payment_hash: string }>('invoice', {
      amount_msat: msat,
      label,
      description: label,
    });
    return { ...inv, label };
  }

  /** `from` pays a fresh invoice of `to`; resolves with pay's result (throws RpcError on failure). */
  async pay(
    from: LightningNode,
    to: LightningNode,
    msat: number,
    timeoutMs = 90_000,
  ): Promise<{ status: string; payment_hash: string }> {
    const inv = await this.invoice(to, msat);
    return from.call('pay', { bolt11: inv.bolt11, retry_for: 60 }, timeoutMs);
  }

  /**
   * Start a payment without waiting for it: resolves with pay's status, or the error's
   * message (a payment in flight when a node stops may fail; callers decide what that means).
   */
  payInFlight(from: LightningNode, to: LightningNode, msat: number, timeoutMs = 120_000): Promise<string> {
    return this.invoice(to, msat)
      .then((inv) => from.call<{ status: string }>('pay', { bolt11: inv.bolt11, retry_for: 20 }, timeoutMs))
      .then(
        (r) => r.status,
        (e: Error) => `error: ${e.message}`,
      );
  }

  /** `n` payments each way, all in flight together: a→b of `abMsat` + i, b→a of `baMsat` + i. @returns their outcomes. */
  payBothWays(a: LightningNode, b: LightningNode, n: number, abMsat: number, baMsat: number): Promise<string>[] {
    const out: Promise<string>[] = [];
    for (let i = 0; i < n; i++) out.push(this.payInFlight(a, b, abMsat + i), this.payInFlight(b, a, baMsat + i));
    return out;
  }

  /** Mark the test failed: the run directory is kept for inspection. */
  keep(): void {
    this.failed = true;
  }

  /** Kill every node and the chain server; remove the run dir unless kept. @returns the kept dir or undefined. */
  async close(): Promise<string | undefined> {
    await Promise.all(this.nodes.map((n) => n.killAll()));
    await Promise.all(this.servers.map((s) => s.kill()));
    await this.chainServer.close();
    if (this.failed || process.env.CLDCB_TIER_KEEP) return this.dir;
    rmSync(this.dir, { recursive: true, force: true });
    return undefined;
  }
}

export const isRpcError = (e: unknown): e is RpcError => e instanceof RpcError;

/**
 * The fake regtest chain (lightningd-rig.md §3): one append-only chain + mempool + UTXO set,
 * served over HTTP on 127.0.0.1 to every node's backend plugin (plugins/fakechain-backend.mjs),
 * and driven directly by the harness (mine, faucet). It lives in the test process, so it
 * outlives every lightningd restart of a test; it never serves different blocks at a height
 * it has served.
 *
 * Blocks: contiguous heights from the regtest genesis, prev = sha256d(previous header),
 * merkle root over txids, a unique BIP34 coinbase with a BIP141 witness commitment, nonce
 * ground for bits 0x207fffff, transactions included byte-for-byte as broadcast.
 * Mempool rules CLN's flows need: children of mempool transactions (CPFP), no double spends,
 * no missing inputs, coinbase maturity (100), absolute and BIP68 block-based relative locks;
 * no script or signature checks.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { bytesToHex, concatBytes, hexToBytes } from '../../../shared/bytes';
import {
  addressToScript,
  buildTx,
  coinbaseTx,
  compactSize,
  displayHex,
  fromDisplayHex,
  header,
  meetsTarget,
  merkleRoot,
  OP_TRUE_SCRIPT,
  P2WSH_OP_TRUE,
  parseBlock,
  parseTx,
  REGTEST_BITS,
  REGTEST_GENESIS_HEX,
  sha256d,
  subsidy,
  type Block,
  type Tx,
} from './bitcoin';

/** Constant fees (sat/kVB), ascending block targets (rig §3): a changing fee would cause update_fee traffic. */
export const FEES = {
  feerate_floor: 1000,
  feerates: [
    { blocks: 2, feerate: 60000 },
    { blocks: 6, feerate: 44000 },
    { blocks: 12, feerate: 30000 },
    { blocks: 100, feerate: 15000 },
  ],
};

export const COINBASE_MATURITY = 100;
const SEQUENCE_FINAL = 0xffffffff;
const SEQUENCE_DISABLE_FLAG = 1 << 31;
const SEQUENCE_TYPE_FLAG = 1 << 22;
const LOCKTIME_THRESHOLD = 500_000_000;

interface Coin {
  readonly value: bigint;
  readonly script: Uint8Array;
  /** Height of the block that created it; undefined while in the mempool. */
  readonly height?: number;
  readonly coinbase: boolean;
}

const outpoint = (txid: Uint8Array, vout: number): string => `${bytesToHex(txid)}:${vout}`;

export class FakeChain {
  readonly blocks: Block[] = [];
  /** Confirmed, unspent outputs. */
  private readonly utxos = new Map<string, Coin>();
  /** Mempool in arrival order (parents always before children). */
  private mempool: { tx: Tx; fee: bigint }[] = [];
  /** Outpoints spent by mempool transactions → spending txid. */
  private readonly mempoolSpends = new Map<string, string>();
  /** txid (internal hex) → height, for every confirmed transaction. */
  private readonly confirmed = new Map<string, number>();
  private faucetCoins: { txid: Uint8Array; vout: number; value: bigint; height?: number }[] = [];
  private lastTime = 0;

  constructor() {
    this.connect(parseBlock(hexToBytes(REGTEST_GENESIS_HEX)));
  }

  get height(): number {
    return this.blocks.length - 1;
  }

  tipHash(): string {
    return displayHex(this.blocks[this.height]!.hash);
  }

  /** Append a block: spend its inputs, add its outputs (the genesis coinbase is unspendable, as in Bitcoin). */
  private connect(block: Block): void {
    const height = this.blocks.length;
    this.blocks.push(block);
    this.lastTime = Math.max(this.lastTime, block.time);
    block.txs.forEach((tx, i) => {
      const coinbase = i === 0;
      if (!coinbase) for (const inp of tx.inputs) this.utxos.delete(outpoint(inp.prevTxid, inp.prevVout));
      if (height > 0)
        tx.outputs.forEach((o, vout) =>
          this.utxos.set(outpoint(tx.txid, vout), { value: o.value, script: o.script, height, coinbase }),
        );
      this.confirmed.set(bytesToHex(tx.txid), height);
    });
  }

  /** Mine `n` blocks paying `payTo` (an address or a scriptPubKey), with every mempool transaction in the first. */
  mine(n: number, payTo: string | Uint8Array = P2WSH_OP_TRUE): string[] {
    const script = typeof payTo === 'string' ? addressToScript(payTo) : payTo;
    const hashes: string[] = [];
    for (let k = 0; k < n; k++) {
      const height = this.height + 1;
      const included = this.mempool;
      const fees = included.reduce((s, e) => s + e.fee, 0n);
      const coinbase = coinbaseTx(
        height,
        script,
        subsidy(height) + fees,
        included.map((e) => e.tx.wtxid),
      );
      const txs = [coinbase, ...included.map((e) => e.tx)];
      const merkle = merkleRoot(txs.map((t) => t.txid));
      const time = Math.max(this.lastTime + 1, Math.floor(Date.now() / 1000));
      const prev = this.blocks[this.height]!.hash;
      let head: Uint8Array;
      let nonce = 0;
      for (;;) {
        head = header({ version: 0x20000000, prev, merkle, time, bits: REGTEST_BITS, nonce });
        if (meetsTarget(sha256d(head), REGTEST_BITS)) break;
        nonce++;
      }
      const raw = concatBytes(head, compactSize(txs.length), ...txs.map((t) => t.raw));
      this.mempool = [];
      this.mempoolSpends.clear();
      const block = parseBlock(raw);
      this.connect(block);
      if (script === P2WSH_OP_TRUE)
        this.faucetCoins.push({ txid: coinbase.txid, vout: 0, value: coinbase.outputs[0]!.value, height });
      hashes.push(displayHex(block.hash));
    }
    return hashes;
  }

  /**
   * Put a transaction paying `sats` to `address` in the mempool, spending a mature faucet
   * coinbase (P2WSH OP_TRUE, spent with the witness [OP_TRUE] — a valid spend) with change
   * back to the faucet. Needs ≥ 100 faucet blocks mined before (see `FakeChain.start`).
   * @returns the txid (display hex).
   */
  faucet(address: string, sats: bigint): string {
    const spendable = this.height + 1;
    const i = this.faucetCoins.findIndex(
      (c) => c.height === undefined || spendable - c.height >= COINBASE_MATURITY,
    );
    const coin = this.faucetCoins[i];
    if (!coin || coin.value < sats + 10_000n)
      throw new Error('the faucet has no mature coin large enough: mine more faucet blocks first');
    this.faucetCoins.splice(i, 1);
    const fee = 2_000n;
    const tx = buildTx({
      version: 2,
      inputs: [
        {
          prevTxid: coin.txid,
          prevVout: coin.vout,
          scriptSig: new Uint8Array(0),
          sequence: 0xfffffffd,
          witness: [OP_TRUE_SCRIPT],
        },
      ],
      outputs: [
        { value: sats, script: addressToScript(address) },
        { value: coin.value - sats - fee, script: P2WSH_OP_TRUE },
      ],
      locktime: 0,
    });
    const r = this.accept(tx);
    if (!r.success) throw new Error(`faucet transaction refused: ${r.errmsg}`);
    this.faucetCoins.unshift({ txid: tx.txid, vout: 1, value: coin.value - sats - fee });
    return displayHex(tx.txid);
  }

  mempoolTxids(): string[] {
    return this.mempool.map((e) => displayHex(e.tx.txid));
  }

  /** `sendrawtransaction`: the mempool acceptance rules above. A transaction already known is a success (as bcli). */
  sendRawTransaction(hex: string): { success: boolean; errmsg?: string } {
    let tx: Tx;
    try {
      tx = parseTx(hexToBytes(hex, 'tx'));
    } catch (e) {
      return { success: false, errmsg: `TX decode failed: ${(e as Error).message}` };
    }
    return this.accept(tx);
  }

  private findCoin(txid: Uint8Array, vout: number): Coin | undefined {
    const c = this.utxos.get(outpoint(txid, vout));
    if (c) return c;
    const parent = this.mempool.find((e) => bytesToHex(e.tx.txid) === bytesToHex(txid));
    const o = parent?.tx.outputs[vout];
    return o ? { value: o.value, script: o.script, coinbase: false } : undefined;
  }

  private accept(tx: Tx): { success: boolean; errmsg?: string } {
    const id = bytesToHex(tx.txid);
    if (this.confirmed.has(id) || this.mempool.some((e) => bytesToHex(e.tx.txid) === id))
      return { success: true };
    if (tx.inputs.length === 0 || tx.outputs.length === 0)
      return { success: false, errmsg: 'bad-txns-vin-or-vout-empty' };
    if (tx.inputs.some((i) => i.prevVout === 0xffffffff && i.prevTxid.every((b) => b === 0)))
      return { success: false, errmsg: 'coinbase' };
    const next = this.height + 1;
    // Absolute lock: final when nLockTime < next height (or time), or every sequence is final.
    if (tx.locktime !== 0 && !tx.inputs.every((i) => i.sequence === SEQUENCE_FINAL)) {
      const limit = tx.locktime < LOCKTIME_THRESHOLD ? next : Math.floor(Date.now() / 1000);
      if (tx.locktime >= limit) return { success: false, errmsg: 'non-final' };
    }
    let inValue = 0n;
    const spent: string[] = [];
    for (const [k, inp] of tx.inputs.entries()) {
      const op = outpoint(inp.prevTxid, inp.prevVout);
      if (spent.includes(op)) return { success: false, errmsg: 'bad-txns-inputs-duplicate' };
      spent.push(op);
      if (this.mempoolSpends.has(op)) return { success: false, errmsg: 'txn-mempool-conflict' };
      const coin = this.findCoin(inp.prevTxid, inp.prevVout);
      if (!coin) return { success: false, errmsg: `bad-txns-inputs-missingorspent (input ${k})` };
      if (coin.coinbase && coin.height !== undefined && next - coin.height < COINBASE_MATURITY)
        return {
          success: false,
          errmsg: `bad-txns-premature-spend-of-coinbase, tried to spend coinbase at depth ${next - coin.height}`,
        };
      // BIP68 block-based relative locks (version ≥ 2); time-based ones are accepted.
      if (
        tx.version >= 2 &&
        !(inp.sequence & SEQUENCE_DISABLE_FLAG) &&
        !(inp.sequence & SEQUENCE_TYPE_FLAG)
      ) {
        const blocks = inp.sequence & 0xffff;
        if (blocks > 0 && (coin.height === undefined || coin.height + blocks > next))
          return { success: false, errmsg: 'non-BIP68-final' };
      }
      inValue += coin.value;
    }
    const outValue = tx.outputs.reduce((s, o) => s + o.value, 0n);
    if (outValue > inValue) return { success: false, errmsg: 'bad-txns-in-belowout' };
    this.mempool.push({ tx, fee: inValue - outValue });
    for (const op of spent) this.mempoolSpends.set(op, id);
    return { success: true };
  }

  /** `getutxout`, as bitcoind's gettxout with the mempool: unspent confirmed or mempool outputs; null once spent (also by a mempool tx). */
  getUtxout(txidDisplay: string, vout: number): { amount: number | null; script: string | null } {
    const txid = fromDisplayHex(txidDisplay, 'txid');
    if (this.mempoolSpends.has(outpoint(txid, vout))) return { amount: null, script: null };
    const coin = this.findCoin(txid, vout);
    return coin
      ? { amount: Number(coin.value), script: bytesToHex(coin.script) }
      : { amount: null, script: null };
  }

  getRawBlockByHeight(height: number): { blockhash: string | null; block: string | null } {
    const b = this.blocks[height];
    return b ? { blockhash: displayHex(b.hash), block: bytesToHex(b.raw) } : { blockhash: null, block: null };
  }

  getChainInfo(): { chain: string; headercount: number; blockcount: number; ibd: boolean } {
    return { chain: 'regtest', headercount: this.height, blockcount: this.height, ibd: false };
  }

  /** The five backend calls, by name; params as lightningd or a forwarding plugin sends them (object or array). */
  call(method: string, params: unknown): unknown {
    const p = (params ?? {}) as Record<string, unknown> & unknown[];
    const arg = (name: string, index: number): unknown => (Array.isArray(p) ? p[index] : p[name]);
    switch (method) {
      case 'getchaininfo':
        return this.getChainInfo();
      case 'estimatefees':
        return FEES;
      case 'getrawblockbyheight':
        return this.getRawBlockByHeight(Number(arg('height', 0)));
      case 'getutxout':
        return this.getUtxout(String(arg('txid', 0)), Number(arg('vout', 1)));
      case 'sendrawtransaction':
        return this.sendRawTransaction(String(arg('tx', 0)));
      default:
        throw new Error(`unknown method ${method}`);
    }
  }
}

export interface ChainServer {
  readonly chain: FakeChain;
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serve `chain` on 127.0.0.1 (any free port): POST {"method","params"} → {"result"} or {"error"}.
 * Faucet blocks are mined first so `faucet()` has mature coins: `faucetBlocks` ≥ 101.
 */
export async function startChainServer(opts: { faucetBlocks?: number } = {}): Promise<ChainServer> {
  const chain = new FakeChain();
  chain.mine(opts.faucetBlocks ?? COINBASE_MATURITY + 1);
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let reply: unknown;
      try {
        const { method, params } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          method: string;
          params: unknown;
        };
        reply = { result: chain.call(method, params) };
      } catch (e) {
        reply = { error: (e as Error).message };
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    chain,
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The fake regtest chain on its own (no lightningd needed): what lightningd relies on
 * (genesis, links, parseable blocks, the mempool rules its flows hit, getutxout) and what
 * an independent checker would (BIP34 heights, merkle roots, witness commitments, PoW).
 */
import { describe, expect, it } from 'vitest';
import { bytesToHex, concatBytes } from '../../shared/bytes';
import {
  addressToScript,
  buildTx,
  displayHex,
  meetsTarget,
  merkleRoot,
  OP_TRUE_SCRIPT,
  P2WSH_OP_TRUE,
  parseBlock,
  REGTEST_BITS,
  REGTEST_GENESIS_HASH,
  scriptNum,
  sha256d,
  subsidy,
  type Tx,
} from './harness/bitcoin';
import { FakeChain, startChainServer } from './harness/chain';

// BIP173 / BIP350 test vectors (regtest HRP variants are checked through round trips below).
const P2WPKH = 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080';
const P2TR = 'bcrt1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqc8gma6';

function spend(
  prev: Tx,
  vout: number,
  opts: { sequence?: number; locktime?: number; value?: bigint } = {},
): Tx {
  return buildTx({
    version: 2,
    inputs: [
      {
        prevTxid: prev.txid,
        prevVout: vout,
        scriptSig: new Uint8Array(0),
        sequence: opts.sequence ?? 0xfffffffd,
        witness: [OP_TRUE_SCRIPT],
      },
    ],
    outputs: [{ value: opts.value ?? prev.outputs[vout]!.value - 1000n, script: P2WSH_OP_TRUE }],
    locktime: opts.locktime ?? 0,
  });
}

const hex = (t: Tx): string => bytesToHex(t.raw);

describe('fake chain', () => {
  it('starts at the regtest genesis block', () => {
    const c = new FakeChain();
    expect(c.height).toBe(0);
    expect(c.tipHash()).toBe(REGTEST_GENESIS_HASH);
    expect(c.getRawBlockByHeight(0).blockhash).toBe(REGTEST_GENESIS_HASH);
    expect(c.getRawBlockByHeight(1)).toEqual({ blockhash: null, block: null });
  });

  it('mines linked, parseable blocks with BIP34 coinbases, merkle roots, witness commitments and PoW', () => {
    const c = new FakeChain();
    c.mine(3, P2WPKH);
    for (let h = 1; h <= 3; h++) {
      const raw = c.getRawBlockByHeight(h);
      const b = parseBlock(Buffer.from(raw.block!, 'hex'));
      expect(displayHex(b.hash)).toBe(raw.blockhash);
      expect(bytesToHex(b.prev)).toBe(
        bytesToHex(parseBlock(Buffer.from(c.getRawBlockByHeight(h - 1).block!, 'hex')).hash),
      );
      expect(bytesToHex(b.merkle)).toBe(bytesToHex(merkleRoot(b.txs.map((t) => t.txid))));
      expect(meetsTarget(b.hash, REGTEST_BITS)).toBe(true);
      const cb = b.txs[0]!;
      expect(bytesToHex(cb.inputs[0]!.scriptSig)).toBe(
        bytesToHex(concatBytes(scriptNum(h), Uint8Array.of(0))),
      );
      expect(cb.outputs[0]!.value).toBe(subsidy(h));
      expect(bytesToHex(cb.outputs[0]!.script)).toBe(bytesToHex(addressToScript(P2WPKH)));
      const commitment = cb.outputs[1]!.script;
      expect(bytesToHex(commitment.subarray(0, 6))).toBe('6a24aa21a9ed');
      expect(bytesToHex(commitment.subarray(6))).toBe(
        bytesToHex(sha256d(concatBytes(merkleRoot([new Uint8Array(32)]), new Uint8Array(32)))),
      );
    }
    // Coinbase txids never repeat (BIP34 height in the scriptSig).
    const ids = [1, 2, 3].map((h) =>
      bytesToHex(parseBlock(Buffer.from(c.getRawBlockByHeight(h).block!, 'hex')).txs[0]!.txid),
    );
    expect(new Set(ids).size).toBe(3);
  });

  it('encodes BIP34 heights as CScriptNum pushes', () => {
    expect(bytesToHex(scriptNum(1))).toBe('51');
    expect(bytesToHex(scriptNum(16))).toBe('60');
    expect(bytesToHex(scriptNum(17))).toBe('0111');
    expect(bytesToHex(scriptNum(128))).toBe('028000');
    expect(bytesToHex(scriptNum(500))).toBe('02f401');
  });

  it('decodes bech32 (v0) and bech32m (v1) addresses and refuses the wrong checksum kind', () => {
    expect(bytesToHex(addressToScript(P2WPKH))).toBe('0014751e76e8199196d454941c45d1b3a323f1433bd6');
    expect(bytesToHex(addressToScript(P2TR)).slice(0, 4)).toBe('5120');
    expect(() => addressToScript('bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt081')).toThrow();
    expect(() => addressToScript('bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4')).toThrow(/regtest/);
  });

  it('includes mempool transactions byte-for-byte with their fees in the coinbase', () => {
    const c = new FakeChain();
    c.mine(101);
    const txid = c.faucet(P2WPKH, 1_000_000n);
    expect(c.mempoolTxids()).toEqual([txid]);
    c.mine(1);
    const b = parseBlock(Buffer.from(c.getRawBlockByHeight(c.height).block!, 'hex'));
    expect(b.txs.map((t) => displayHex(t.txid))).toContain(txid);
    expect(b.txs[0]!.outputs[0]!.value).toBe(subsidy(c.height) + 2000n);
    expect(c.mempoolTxids()).toEqual([]);
  });

  it('mempool: children of mempool txs, no double spends, no missing inputs, coinbase maturity, locks', () => {
    const c = new FakeChain();
    c.mine(1);
    const young = parseBlock(Buffer.from(c.getRawBlockByHeight(1).block!, 'hex')).txs[0]!;
    expect(c.sendRawTransaction(hex(spend(young, 0))).errmsg).toMatch(/premature-spend-of-coinbase/);
    c.mine(100);
    const parent = spend(young, 0);
    expect(c.sendRawTransaction(hex(parent))).toEqual({ success: true });
    expect(c.sendRawTransaction(hex(parent))).toEqual({ success: true }); // already known
    expect(c.getUtxout(displayHex(parent.txid), 0).script).toBe(bytesToHex(P2WSH_OP_TRUE));
    const child = spend(parent, 0);
    expect(c.sendRawTransaction(hex(child))).toEqual({ success: true }); // CPFP
    expect(c.getUtxout(displayHex(parent.txid), 0)).toEqual({ amount: null, script: null }); // spent in the mempool
    expect(c.sendRawTransaction(hex(spend(parent, 0, { value: 1n }))).errmsg).toBe('txn-mempool-conflict');
    expect(c.sendRawTransaction(hex(spend(parent, 5, { value: 1n }))).errmsg).toMatch(/missingorspent/);
    expect(c.sendRawTransaction(hex(spend(child, 0, { value: child.outputs[0]!.value + 1n }))).errmsg).toBe(
      'bad-txns-in-belowout',
    );
    // Absolute lock: nLockTime must be below the next block's height.
    expect(c.sendRawTransaction(hex(spend(child, 0, { locktime: c.height + 1 }))).errmsg).toBe('non-final');
    // BIP68: a 3-block relative lock on an unconfirmed parent is not final.
    expect(c.sendRawTransaction(hex(spend(child, 0, { sequence: 3 }))).errmsg).toBe('non-BIP68-final');
    c.mine(1);
    expect(c.sendRawTransaction(hex(spend(child, 0, { sequence: 3 }))).errmsg).toBe('non-BIP68-final');
    c.mine(2);
    expect(c.sendRawTransaction(hex(spend(child, 0, { sequence: 3 })))).toEqual({ success: true });
    expect(c.sendRawTransaction('00').success).toBe(false);
  });

  it('serves the five backend calls over HTTP, named or positional params', async () => {
    const s = await startChainServer();
    try {
      const post = async (method: string, params: unknown): Promise<Record<string, unknown>> =>
        (await (
          await fetch(s.url, { method: 'POST', body: JSON.stringify({ method, params }) })
        ).json()) as Record<string, unknown>;
      expect(await post('getchaininfo', { last_height: 0 })).toEqual({
        result: { chain: 'regtest', headercount: 101, blockcount: 101, ibd: false },
      });
      expect(((await post('estimatefees', {})).result as { feerate_floor: number }).feerate_floor).toBe(1000);
      expect(((await post('getrawblockbyheight', [101])).result as { blockhash: string }).blockhash).toBe(
        s.chain.tipHash(),
      );
      expect(
        ((await post('getrawblockbyheight', { height: 102 })).result as { blockhash: null }).blockhash,
      ).toBeNull();
      expect(await post('getutxout', { txid: '00'.repeat(32), vout: 0 })).toEqual({
        result: { amount: null, script: null },
      });
      expect(
        (
          (await post('sendrawtransaction', { tx: '00', allowhighfees: false })).result as {
            success: boolean;
          }
        ).success,
      ).toBe(false);
      expect((await post('nosuch', {})).error).toMatch(/unknown method/);
    } finally {
      await s.close();
    }
  });
});

import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { mnemonicToSeedSync } from '@scure/bip39';
import fc from 'fast-check';
import { utf8 } from '../../shared/bytes';
import { emergencyRecoverBytes } from '../../shared/scb/emergencyRecover';
import { CldcbError } from '../../shared/errors';
import { normaliseScbChannels, type ScbChannel } from '../../shared/scb/channels';
import { parseStaticBackup } from '../../shared/scb/staticbackup';
import { decodeModernScbChanHex } from '../../shared/scb/scbChan';
import {
  buildRecoveryReport,
  recoverChannelCommand,
  recoverChannelPayload,
  RECOVERY_STATES,
  TIMELINE,
  trackRecovery,
  walkthroughSteps,
} from '../../shared/scb/walkthrough';

const CN = 'test/fixtures/lightningd/channel-node';
const AFC = `${CN}/after-force-close`;
const text = (p: string) => readFileSync(p, 'utf8');
const seed = mnemonicToSeedSync(readFileSync(`${CN}/hsm_secret`).subarray(32).toString('utf8'));
const entries = parseStaticBackup(text(`${CN}/staticbackup.json`));
const channels: ScbChannel[] = normaliseScbChannels(entries, seed, 'regtest', 'staticbackup');
const [ch1, ch2] = channels as [ScbChannel, ScbChannel];

/** A listfunds output paying a script, as lightningd prints it. */
function output(script: string, address: string | null, status: string, amount = 399033000, txid = '730ad22c29a31b7f40d4ed22de601d0a403ae4c1e211c990dd4562b3c40ff8a3') {
  return { txid, output: 1, amount_msat: amount, scriptpubkey: script, ...(address ? { address } : {}), status, blockheight: 114, reserved: false };
}

describe('recoverchannel payload and steps', () => {
  it('the payload is exactly the staticbackup entries', () => {
    const { payload, skipped } = recoverChannelPayload(entries);
    expect(payload).toEqual({ scb: JSON.parse(text(`${CN}/staticbackup.json`)).scb });
    expect(skipped).toEqual([]);
    expect(recoverChannelCommand(payload)).toBe(`lightning-cli recoverchannel '${JSON.stringify(payload.scb)}'`);
  });
  it('entries without an address are skipped and reported', () => {
    const { payload, skipped } = recoverChannelPayload([{ ...entries[0]!, addr: null }, entries[1]!]);
    expect(payload.scb.length).toBe(1);
    expect(skipped).toEqual([1]);
  });
  it('steps: warning first, the recoverchannel command, the codex32 warning when that key opened the file', () => {
    const { payload } = recoverChannelPayload(entries);
    const s = walkthroughSteps({ network: 'bitcoin', source: 'emergency.recover', payload });
    expect(s[0]!.warning).toBe(true);
    expect(s.find((x) => x.id === 'recoverchannel')!.command).toContain('lightning-cli recoverchannel');
    expect(s.find((x) => x.id === 'recoverchannel')!.detail).toMatch(/emergencyrecover/);
    expect(s.find((x) => x.id === 'fresh-node')!.detail).toMatch(/mainnet/);
    expect(s.some((x) => x.id === 'legacy-restore')).toBe(false);
    const s2 = walkthroughSteps({ network: 'regtest', source: 'emergency.recover', payload, keyBase: 'secret_data_first_32' });
    expect(s2[1]!.id).toBe('legacy-restore');
    expect(walkthroughSteps({ network: 'regtest', source: 'database', payload }).find((x) => x.id === 'fresh-node')!.detail).toMatch(/--network=regtest/);
  });
  it('the timeline covers every state in order', () => {
    expect(TIMELINE.map((t) => t.state)).toEqual([...RECOVERY_STATES]);
  });
});

describe('tracker with the real RPC outputs', () => {
  it('before the force-close: both channels wait for the peer (connected)', () => {
    const p = trackRecovery(channels, { listpeerchannels: text(`${CN}/listpeerchannels.json`), listfunds: text(`${CN}/listfunds.json`), getinfo: text(`${CN}/getinfo.json`) });
    expect(p.channels.map((c) => c.state)).toEqual(['waiting_for_peer', 'waiting_for_peer']);
    expect(p.channels.map((c) => c.peer_connected)).toEqual([true, true]);
    expect(p.channels[0]!.next_step).toMatch(/peer is connected/);
    expect(p.counts).toEqual({ not_restored: 0, waiting_for_peer: 2, force_closed: 0, to_remote_confirmed: 0, swept: 0 });
    expect(p.done).toBe(false);
    expect(p.blockheight).toBe(113);
    expect(p.watch.filter((w) => w.kind === 'to_remote').map((w) => w.target)).toEqual([ch1.to_remote.address, ch2.to_remote.address]);
    expect(p.watch.filter((w) => w.kind === 'funding').map((w) => w.target)).toEqual([
      '1a2e2afc36013938bf5a4432a25d92930a81b93c5a9f7e7ba1ad4085b889d6b9:0',
      '99cb0014528a7694f275d54b2e0d19a5966a7295062238de8b5be53c517c5865:0',
    ]);
  });

  it('after the force-close: dbid 1 still waits (peer gone), dbid 2 is closed on chain and resolved (swept)', () => {
    const p = trackRecovery(channels, {
      listpeerchannels: text(`${AFC}/listpeerchannels.json`),
      listfunds: text(`${AFC}/listfunds.json`),
      listclosedchannels: text(`${AFC}/listclosedchannels.json`),
      getinfo: text(`${AFC}/getinfo.json`),
    });
    const [p1, p2] = p.channels;
    expect(p1!.state).toBe('waiting_for_peer');
    expect(p1!.peer_connected).toBe(false);
    expect(p1!.next_step).toMatch(/lightning-cli connect 02c890198769c73aa261cfb3019e49292e28c347093073d4bf1f30b25739623ac8@127\.0\.0\.1:37824/);
    expect(p2!.state).toBe('swept');
    expect(p2!.node_state).toBe('ONCHAIN');
    expect(p2!.closer).toBe('local');
    // the to_local sweep reached the wallet at the channel's close_to address
    expect(p2!.outputs).toEqual([
      {
        txid: '6ae207557bef1e8723f89ab274bbd2e50166e4f92c216216c24d69efdc3cafe3',
        output: 0,
        amount_msat: 92866000,
        status: 'confirmed',
        address: 'bcrt1pw9ayxc076kxwrvlud02t4f6tf7ldc4n3hcuqdp00fz5el372xkqskct26j',
        blockheight: 124,
        kind: 'close_to',
      },
    ]);
    expect(p2!.recovered_msat).toBe(92866000);
    expect(p2!.evidence.join('\n')).toMatch(/All outputs resolved/);
    expect(p2!.evidence.join('\n')).toMatch(/closed the channel itself/);
    expect(p.counts.swept).toBe(1);
    expect(p.counts.waiting_for_peer).toBe(1);
    expect(p.watch.map((w) => w.channel_id)).toEqual([ch1.channel_id, ch1.channel_id]);
    expect(p.blockheight).toBe(124);
  });

  it('nothing on the new node yet: not_restored', () => {
    const p = trackRecovery(channels, { listpeerchannels: { channels: [] }, listfunds: { outputs: [], channels: [] } });
    expect(p.channels.map((c) => c.state)).toEqual(['not_restored', 'not_restored']);
    expect(p.channels[0]!.next_step).toMatch(/recoverchannel/);
  });
});

describe('tracker: the peer force-closes (our to_remote appears in listfunds)', () => {
  const lpcAfter = JSON.parse(text(`${AFC}/listpeerchannels.json`));
  // dbid 1 as a recoverchannel stub seen closing by the peer
  const onchain = {
    channels: lpcAfter.channels.map((c: Record<string, unknown>, i: number) =>
      i === 0 ? { ...c, state: 'ONCHAIN', closer: 'remote', status: ['ONCHAIN:Tracking their unilateral close'] } : c,
    ),
  };
  it('funding spent, nothing in the wallet yet → force_closed', () => {
    const p = trackRecovery([ch1], { listpeerchannels: onchain, listfunds: { outputs: [] } });
    expect(p.channels[0]!.state).toBe('force_closed');
    expect(p.channels[0]!.next_step).toContain(ch1.to_remote.address!);
    expect(p.watch.map((w) => w.kind)).toEqual(['to_remote']);
  });
  it('unconfirmed to_remote → force_closed; confirmed → to_remote_confirmed; spent → swept', () => {
    const mk = (status: string) => ({ outputs: [output(ch1.to_remote.script_hex!, ch1.to_remote.address, status)] });
    expect(trackRecovery([ch1], { listpeerchannels: onchain, listfunds: mk('unconfirmed') }).channels[0]!.state).toBe('force_closed');
    const conf = trackRecovery([ch1], { listpeerchannels: onchain, listfunds: mk('confirmed') });
    expect(conf.channels[0]!.state).toBe('to_remote_confirmed');
    expect(conf.channels[0]!.recovered_msat).toBe(399033000);
    expect(conf.channels[0]!.outputs[0]!.kind).toBe('to_remote');
    expect(conf.channels[0]!.next_step).toMatch(/one block after confirmation/);
    expect(conf.done).toBe(true);
    expect(trackRecovery([ch1], { listpeerchannels: onchain, listfunds: mk('spent') }).channels[0]!.state).toBe('swept');
  });
  it('matches by address when listfunds has no scriptpubkey; P2WPKH channels too', () => {
    const o = output(ch2.to_remote.script_hex!, ch2.to_remote.address, 'confirmed');
    delete (o as Partial<typeof o>).scriptpubkey;
    expect(trackRecovery([ch2], { listfunds: { outputs: [o] } }).channels[0]!.state).toBe('to_remote_confirmed');
    expect(trackRecovery([ch2], { listfunds: { outputs: [o] } }).channels[0]!.next_step).not.toMatch(/one block/);
  });
  it('listclosedchannels (forgotten by lightningd) → swept', () => {
    const closed = { closedchannels: [{ channel_id: ch1.channel_id, closer: 'remote', close_cause: 'remote', final_to_us_msat: 67000000, extra: true }] };
    const p = trackRecovery([ch1], { listpeerchannels: { channels: [] }, listclosedchannels: closed });
    expect(p.channels[0]!).toMatchObject({ state: 'swept', node_state: 'CLOSED', closer: 'remote' });
    expect(p.channels[0]!.evidence.join()).toMatch(/final_to_us_msat 67000000/);
  });
  it('stubs are also found by funding outpoint, and old "msat" strings are accepted', () => {
    const stub = { channels: [{ peer_id: ch1.peer_id, state: 'CHANNELD_NORMAL', funding_txid: ch1.funding_txid, funding_outnum: 0, peer_connected: false, short_channel_id: '1x1x1' }] };
    expect(trackRecovery([ch1], { listpeerchannels: stub }).channels[0]!.state).toBe('waiting_for_peer');
    const p = trackRecovery([ch1], { listfunds: { outputs: [{ ...output(ch1.to_remote.script_hex!, null, 'confirmed'), amount_msat: '1000msat' }] } });
    expect(p.channels[0]!.recovered_msat).toBe(1000);
  });
});

describe('tracker input validation (zod, as unknown)', () => {
  it('extra fields are tolerated; text with a leading comment line too', () => {
    expect(() => trackRecovery(channels, { listpeerchannels: `# saved by hand\n${text(`${CN}/listpeerchannels.json`)}` })).not.toThrow();
  });
  it('wrong shapes are refused with CldcbError naming the RPC and field', () => {
    const cases: [keyof Parameters<typeof trackRecovery>[1], unknown, RegExp][] = [
      ['listpeerchannels', '{', /listpeerchannels: not valid JSON/],
      ['listpeerchannels', { peers: [] }, /listpeerchannels.*channels/],
      ['listpeerchannels', { channels: [{ peer_id: 'zz', state: 'X' }] }, /channels\.0\.peer_id/],
      ['listfunds', { outputs: [{ txid: 'ab', output: -1, amount_msat: 1, status: 'confirmed' }] }, /listfunds.*outputs\.0\.output/],
      ['listfunds', { outputs: [{ txid: 'ab', output: 0, amount_msat: 'lots', status: 'confirmed' }] }, /amount_msat/],
      ['listclosedchannels', { closedchannels: [{}] }, /closedchannels\.0\.channel_id/],
      ['getinfo', 5, /getinfo/],
      ['listfunds', null, /listfunds/],
    ];
    for (const [k, v, re] of cases) {
      let err: unknown;
      try {
        trackRecovery(channels, { [k]: v });
      } catch (e) {
        err = e;
      }
      expect(err, `${k} ${JSON.stringify(v)}`).toBeInstanceOf(CldcbError);
      expect((err as CldcbError).code).toBe('bad_input');
      expect((err as CldcbError).message).toMatch(re);
    }
  });
});

describe('final report', () => {
  it('is JSON-serialisable and complete', () => {
    const progress = trackRecovery(channels, { listpeerchannels: text(`${AFC}/listpeerchannels.json`), listfunds: text(`${AFC}/listfunds.json`) });
    const r = buildRecoveryReport({ network: 'regtest', source: 'staticbackup', channels, entries, progress, generatedAt: '2026-11-23T20:00:00.000Z' });
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
    expect(r.summary).toEqual({
      channels: 2,
      total_funding_sat: 1_500_000,
      with_penalty_info: 2,
      by_state: { not_restored: 0, waiting_for_peer: 1, force_closed: 0, to_remote_confirmed: 0, swept: 1 },
      recovered_msat: 92866000,
      done: false,
    });
    expect(r.recoverchannel.scb.length).toBe(2);
    expect(r.channels[0]!.to_remote.address).toBe('bcrt1qmeekgpg98fllqwk4v5fnk4z5wjpx5umhkr7kyjecj4hendzlukdswh9gad');
    const bare = buildRecoveryReport({ network: 'bitcoin', source: 'database', channels: [], entries: [] });
    expect(bare).toMatchObject({ progress: null, key_base: null, generated_at: null, summary: { channels: 0, by_state: null, done: false } });
  });
  it('decoded single entries work the same as lists', () => {
    const one = decodeModernScbChanHex(JSON.parse(text(`${CN}/staticbackup.json`)).scb[1], 'x');
    expect(recoverChannelPayload([one]).payload.scb.length).toBe(1);
  });
});

describe('hostile operator input only ever raises CldcbError (properties)', () => {
  const onlyCldcb = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      if (!(e instanceof CldcbError)) throw e;
    }
  };
  it('any JSON value or text for any tracker input', () => {
    for (const k of ['listpeerchannels', 'listfunds', 'listclosedchannels', 'getinfo'] as const) {
      fc.assert(fc.property(fc.jsonValue(), (v) => onlyCldcb(() => trackRecovery(channels, { [k]: v }))), { numRuns: 300 });
      fc.assert(fc.property(fc.string(), (v) => onlyCldcb(() => trackRecovery(channels, { [k]: v }))), { numRuns: 300 });
    }
  });
  it('any text as an emergency.recover (clnemerg / JSON / binary detection)', () => {
    fc.assert(fc.property(fc.string(), (t) => onlyCldcb(() => emergencyRecoverBytes(utf8(t)))), { numRuns: 1000 });
    fc.assert(fc.property(fc.jsonValue(), (v) => onlyCldcb(() => emergencyRecoverBytes(utf8(JSON.stringify(v))))), { numRuns: 1000 });
    fc.assert(fc.property(fc.string(), (t) => onlyCldcb(() => emergencyRecoverBytes(utf8(`clnemerg1${t}`)))), { numRuns: 1000 });
  });
});

/**
 * The SCB force-close recovery walkthrough (design.md "SCB path"; cln-facts.md §6):
 *
 *  1. the `recoverchannel` payload for a fresh node running with the same hsm_secret;
 *  2. the steps and timeline the operator follows, as data the UI and CLI render;
 *  3. a tracker: from the operator's `listpeerchannels`, `listfunds` and
 *     `listclosedchannels` JSON, each channel's state
 *       not_restored → waiting_for_peer → force_closed → to_remote_confirmed → swept
 *     plus the addresses still worth watching;
 *  4. a final report object (JSON-serialisable).
 *
 * How a state is decided (first rule that applies):
 *  - a wallet output (listfunds) paying our to_remote script: status "spent" → swept
 *    (needs `listfunds spent=true`); "confirmed" → to_remote_confirmed; otherwise → force_closed.
 *  - the channel is in listclosedchannels → swept (lightningd has finished with it).
 *  - listpeerchannels state AWAITING_UNILATERAL / FUNDING_SPEND_SEEN / ONCHAIN / CLOSINGD_COMPLETE / CLOSED:
 *    "All outputs resolved" in its status, or CLOSED → swept; otherwise → force_closed.
 *  - any other listpeerchannels state (a recoverchannel stub sits in CHANNELD_NORMAL) → waiting_for_peer.
 *  - not listed anywhere → not_restored.
 */
import { z } from 'zod';
import { CldcbError } from '../errors';
import type { Network } from './channelKeys';
import type { ScbChannel, ScbSource } from './channels';
import { modernScbChanHex, type ModernScbChan } from './scbChan';
import type { ScbKeyBase } from './secrets';
import { jsonInput, zodProblem } from './staticbackup';

// ---------------------------------------------------------------- recoverchannel payload

/** `recoverchannel`'s parameter: `{"scb": [modern_scb_chan hex, …]}` (lightningd/opening_control.c). */
export interface RecoverChannelPayload {
  readonly scb: string[];
}

/**
 * The payload for `lightning-cli recoverchannel`. Entries without an internet
 * address (database channels to a unix-socket peer) cannot be encoded and are
 * returned in `skipped` (dbids).
 */
export function recoverChannelPayload(chans: readonly ModernScbChan[]): { payload: RecoverChannelPayload; skipped: number[] } {
  const scb: string[] = [];
  const skipped: number[] = [];
  for (const c of chans) {
    if (c.addr === null) skipped.push(Number(c.id));
    else scb.push(modernScbChanHex(c));
  }
  return { payload: { scb }, skipped };
}

/** The shell command for a payload (single-quoted JSON array: hex never needs escaping). */
export function recoverChannelCommand(payload: RecoverChannelPayload): string {
  return `lightning-cli recoverchannel '${JSON.stringify(payload.scb)}'`;
}

// ---------------------------------------------------------------- steps and timeline

export type ChannelRecoveryState = 'not_restored' | 'waiting_for_peer' | 'force_closed' | 'to_remote_confirmed' | 'swept';

export const RECOVERY_STATES: readonly ChannelRecoveryState[] = ['not_restored', 'waiting_for_peer', 'force_closed', 'to_remote_confirmed', 'swept'];

/** The timeline one channel goes through, for a progress display. */
export const TIMELINE: readonly { readonly state: ChannelRecoveryState; readonly title: string; readonly detail: string }[] = [
  {
    state: 'not_restored',
    title: 'Not restored yet',
    detail: 'The new node does not know this channel. Run recoverchannel (or emergencyrecover) on it.',
  },
  {
    state: 'waiting_for_peer',
    title: 'Waiting for the peer',
    detail:
      'The node holds a stub of the channel and reconnects to the peer. On reconnection the peer learns that we lost our state and should force-close. This needs the peer to come online; it can take hours or days.',
  },
  {
    state: 'force_closed',
    title: 'Force-closed',
    detail: "The channel's funding output is spent on chain (or about to be). Our share is in the to_remote output of the peer's commitment transaction.",
  },
  {
    state: 'to_remote_confirmed',
    title: 'Funds back in the wallet',
    detail:
      'The to_remote output is confirmed and listed by listfunds: the funds are in the node\'s wallet (anchor channels: spendable one block after confirmation).',
  },
  { state: 'swept', title: 'Done', detail: 'The funds have moved on (spent from the to_remote output, or lightningd has resolved and forgotten the channel).' },
];

export interface WalkthroughStep {
  readonly id: string;
  readonly title: string;
  readonly detail: string;
  /** A command to run on the recovery node, if the step has one. */
  readonly command?: string;
  readonly warning?: boolean;
}

export interface WalkthroughOptions {
  readonly network: Network;
  readonly source: ScbSource;
  readonly payload: RecoverChannelPayload;
  /** Which key opened the emergency.recover, when that was the source. */
  readonly keyBase?: ScbKeyBase;
}

/** The operator's steps, in order, as data (the UI and the CLI render it). */
export function walkthroughSteps(o: WalkthroughOptions): WalkthroughStep[] {
  const n = o.payload.scb.length;
  const steps: WalkthroughStep[] = [
    {
      id: 'never-old-state',
      title: 'Never run the old channel database',
      detail:
        'If lightningd starts with an out-of-date database it may broadcast a revoked commitment and lose every channel to penalty transactions. The SCB path gives up the channels and gets the funds back through force-closes by the peers. Make sure the old node is not running anywhere.',
      warning: true,
    },
    {
      id: 'fresh-node',
      title: 'Start a fresh node with the same hsm_secret',
      detail: `Use a new, empty lightning directory on ${o.network}${o.network === 'bitcoin' ? ' (mainnet, lightningd\'s default network)' : ` (--network=${o.network})`}. Put the hsm_secret in <lightning-dir>/${o.network}/, or start once with --recover=<the 12 words> (v26.04+). A codex32 secret of a mnemonic node restores a legacy node: same channels, but a different on-chain wallet. Let it sync with bitcoind. Check that getinfo shows the expected node id.`,
    },
    {
      id: 'recoverchannel',
      title: `Give the node its ${n} channel${n === 1 ? '' : 's'}`,
      detail:
        o.source === 'emergency.recover'
          ? 'Either copy emergency.recover into <lightning-dir>/<network>/ and run `lightning-cli emergencyrecover`, or run the recoverchannel command below. Both answer {"stubs": [channel ids]}.'
          : 'Run the recoverchannel command below. It answers {"stubs": [channel ids]}; channels the node already has are skipped.',
      command: recoverChannelCommand(o.payload),
    },
    {
      id: 'wait-peers',
      title: 'Keep the node online and wait for the peers',
      detail:
        'The node reconnects to each peer at its backed-up address and asks it to force-close. Do not close these channels yourself: a stub cannot sign a commitment. If a peer stays offline, try `lightning-cli connect <peer_id>@<host:port>`.',
    },
    {
      id: 'track',
      title: 'Bring the node\'s view back here',
      detail:
        'Save `lightning-cli listpeerchannels`, `lightning-cli listfunds spent=true` and `lightning-cli listclosedchannels` as JSON files and load them here: each channel\'s state is shown, and which addresses to watch.',
    },
    {
      id: 'withdraw',
      title: 'Move the funds when they are confirmed',
      detail:
        'A confirmed to_remote output is in the node\'s wallet (listfunds). Anchor channels\' outputs can be spent one block after confirmation. Send them where you want with `lightning-cli withdraw <address> all`.',
    },
  ];
  if (o.keyBase === 'secret_data_first_32')
    steps.splice(1, 0, {
      id: 'legacy-restore',
      title: 'This backup came from a node restored from codex32',
      detail:
        'The emergency.recover opened only with the key from the first 32 bytes of the seed: the node that wrote it ran a legacy 32-byte hsm_secret. Channel keys (and so the to_remote addresses) are the same, but its on-chain wallet differs from the mnemonic wallet.',
      warning: true,
    });
  return steps;
}

// ---------------------------------------------------------------- operator RPC outputs (validated as unknown)

/** CLN prints msat amounts as integers; very old versions as "123msat" strings. */
const Msat = z.union([z.number().nonnegative(), z.string().regex(/^\d+(msat)?$/)]).transform((v) => (typeof v === 'number' ? v : Number(v.replace(/msat$/, ''))));
const Hex = z.string().regex(/^[0-9a-fA-F]*$/);

const PeerChannelSchema = z.object({
  peer_id: Hex,
  peer_connected: z.boolean().optional(),
  state: z.string(),
  channel_id: Hex.optional(),
  funding_txid: Hex.optional(),
  funding_outnum: z.number().int().nonnegative().optional(),
  short_channel_id: z.string().optional(),
  closer: z.enum(['local', 'remote']).optional(),
  close_to: Hex.optional(),
  close_to_addr: z.string().optional(),
  status: z.array(z.string()).optional(),
  to_us_msat: Msat.optional(),
});
const ListPeerChannelsSchema = z.object({ channels: z.array(PeerChannelSchema) });

const FundsOutputSchema = z.object({
  txid: Hex,
  output: z.number().int().nonnegative(),
  amount_msat: Msat,
  scriptpubkey: Hex.optional(),
  address: z.string().optional(),
  status: z.string(),
  blockheight: z.number().int().optional(),
  reserved: z.boolean().optional(),
});
const ListFundsSchema = z.object({ outputs: z.array(FundsOutputSchema) });

const ClosedChannelSchema = z.object({
  channel_id: Hex,
  peer_id: Hex.optional(),
  funding_txid: Hex.optional(),
  funding_outnum: z.number().int().nonnegative().optional(),
  closer: z.enum(['local', 'remote']).optional(),
  close_cause: z.string().optional(),
  final_to_us_msat: Msat.optional(),
  last_commitment_txid: Hex.optional(),
});
const ListClosedChannelsSchema = z.object({ closedchannels: z.array(ClosedChannelSchema) });

const GetinfoSchema = z.object({ id: Hex.optional(), blockheight: z.number().int().optional(), network: z.string().optional() });

function parseRpc<T extends z.ZodType>(schema: T, input: unknown, what: string): z.output<T> {
  const r = schema.safeParse(jsonInput(input, what));
  if (!r.success) throw new CldcbError('bad_input', `${what}: not the output of \`lightning-cli ${what}\`: ${zodProblem(r.error)}.`);
  return r.data;
}

// ---------------------------------------------------------------- tracker

/** What the operator brought back (text or parsed JSON; each optional). */
export interface TrackerInputs {
  readonly listpeerchannels?: unknown;
  readonly listfunds?: unknown;
  readonly listclosedchannels?: unknown;
  readonly getinfo?: unknown;
}

export interface FoundOutput {
  readonly txid: string;
  readonly output: number;
  readonly amount_msat: number;
  readonly status: string;
  readonly address: string | null;
  readonly blockheight: number | null;
  /** to_remote: pays our derived to_remote script; close_to: pays the channel's close_to script. */
  readonly kind: 'to_remote' | 'close_to';
}

export interface ChannelProgress {
  readonly channel_id: string;
  readonly peer_id: string;
  readonly dbid: number;
  readonly state: ChannelRecoveryState;
  /** lightningd's state (listpeerchannels), "CLOSED" from listclosedchannels, or null. */
  readonly node_state: string | null;
  readonly peer_connected: boolean | null;
  readonly closer: 'local' | 'remote' | null;
  readonly to_remote_address: string | null;
  readonly outputs: FoundOutput[];
  /** Sum of confirmed or spent outputs found for this channel. */
  readonly recovered_msat: number;
  /** Why the state was chosen, one fact a line. */
  readonly evidence: string[];
  readonly next_step: string;
}

export interface WatchItem {
  readonly channel_id: string;
  readonly kind: 'to_remote' | 'funding';
  /** An address (to_remote) or "txid:outnum" (funding outpoint to watch for a spend). */
  readonly target: string;
  readonly script_hex?: string;
}

export interface RecoveryProgress {
  readonly channels: ChannelProgress[];
  readonly counts: Record<ChannelRecoveryState, number>;
  readonly watch: WatchItem[];
  /** Every channel swept or its to_remote confirmed. */
  readonly done: boolean;
  readonly blockheight: number | null;
  /** Which inputs were given. */
  readonly inputs: { listpeerchannels: boolean; listfunds: boolean; listclosedchannels: boolean; getinfo: boolean };
}

const CLOSING_STATES = new Set(['AWAITING_UNILATERAL', 'FUNDING_SPEND_SEEN', 'ONCHAIN', 'CLOSINGD_COMPLETE', 'CLOSED']);

const lc = (s: string | undefined) => s?.toLowerCase();

/**
 * Follow each channel from the operator's RPC outputs (rules in the module comment).
 * @throws CldcbError bad_input when an input is not the RPC output it should be.
 */
export function trackRecovery(channels: readonly ScbChannel[], inputs: TrackerInputs): RecoveryProgress {
  const lpc = inputs.listpeerchannels === undefined ? undefined : parseRpc(ListPeerChannelsSchema, inputs.listpeerchannels, 'listpeerchannels');
  const lf = inputs.listfunds === undefined ? undefined : parseRpc(ListFundsSchema, inputs.listfunds, 'listfunds');
  const lcc = inputs.listclosedchannels === undefined ? undefined : parseRpc(ListClosedChannelsSchema, inputs.listclosedchannels, 'listclosedchannels');
  const gi = inputs.getinfo === undefined ? undefined : parseRpc(GetinfoSchema, inputs.getinfo, 'getinfo');

  const progress = channels.map((ch) => trackOne(ch, lpc?.channels ?? [], lf?.outputs ?? [], lcc?.closedchannels ?? []));
  const counts = Object.fromEntries(RECOVERY_STATES.map((s) => [s, 0])) as Record<ChannelRecoveryState, number>;
  for (const p of progress) counts[p.state]++;
  const watch: WatchItem[] = [];
  for (const [i, p] of progress.entries()) {
    const ch = channels[i]!;
    if (p.state === 'swept') continue;
    if (ch.to_remote.address)
      watch.push({ channel_id: ch.channel_id, kind: 'to_remote', target: ch.to_remote.address, script_hex: ch.to_remote.script_hex ?? undefined });
    if (p.state === 'not_restored' || p.state === 'waiting_for_peer')
      watch.push({ channel_id: ch.channel_id, kind: 'funding', target: `${ch.funding_txid}:${ch.funding_outnum}` });
  }
  return {
    channels: progress,
    counts,
    watch,
    done: progress.every((p) => p.state === 'swept' || p.state === 'to_remote_confirmed'),
    blockheight: gi?.blockheight ?? null,
    inputs: {
      listpeerchannels: lpc !== undefined,
      listfunds: lf !== undefined,
      listclosedchannels: lcc !== undefined,
      getinfo: gi !== undefined,
    },
  };
}

type PeerChannel = z.output<typeof PeerChannelSchema>;
type FundsOutput = z.output<typeof FundsOutputSchema>;
type ClosedChannel = z.output<typeof ClosedChannelSchema>;

function sameFunding(ch: ScbChannel, txid: string | undefined, outnum: number | undefined): boolean {
  return lc(txid) === ch.funding_txid && outnum === ch.funding_outnum;
}

function trackOne(ch: ScbChannel, peerChannels: PeerChannel[], outputs: FundsOutput[], closed: ClosedChannel[]): ChannelProgress {
  const evidence: string[] = [];
  const node =
    peerChannels.find((c) => lc(c.channel_id) === ch.channel_id) ?? peerChannels.find((c) => sameFunding(ch, c.funding_txid, c.funding_outnum));
  const gone = closed.find((c) => lc(c.channel_id) === ch.channel_id) ?? closed.find((c) => sameFunding(ch, c.funding_txid, c.funding_outnum));

  const script = ch.to_remote.script_hex;
  const closeTo = lc(node?.close_to);
  const found: FoundOutput[] = [];
  for (const o of outputs) {
    const spk = lc(o.scriptpubkey);
    const kind: FoundOutput['kind'] | null =
      (script && spk === script) || (ch.to_remote.address && o.address === ch.to_remote.address)
        ? 'to_remote'
        : closeTo && spk === closeTo
          ? 'close_to'
          : null;
    if (!kind) continue;
    found.push({
      txid: o.txid.toLowerCase(),
      output: o.output,
      amount_msat: o.amount_msat,
      status: o.status,
      address: o.address ?? null,
      blockheight: o.blockheight ?? null,
      kind,
    });
  }
  const recovered = found.filter((o) => o.status === 'confirmed' || o.status === 'spent').reduce((a, o) => a + o.amount_msat, 0);
  for (const o of found)
    evidence.push(
      `wallet output ${o.txid}:${o.output} (${o.amount_msat} msat) at the ${o.kind === 'to_remote' ? 'to_remote' : "channel's close_to"} address, ${o.status}${o.blockheight !== null ? ` (block ${o.blockheight})` : ''}`,
    );
  if (node) {
    evidence.push(`lightningd: state ${node.state}${node.peer_connected === undefined ? '' : node.peer_connected ? ', peer connected' : ', peer not connected'}${node.closer ? `, closed by ${node.closer === 'local' ? 'this node' : 'the peer'}` : ''}`);
    for (const s of node.status ?? []) evidence.push(`lightningd: ${s}`);
  }
  if (gone) evidence.push(`listclosedchannels: closed${gone.close_cause ? ` (cause: ${gone.close_cause})` : ''}${gone.closer ? ` by ${gone.closer === 'local' ? 'this node' : 'the peer'}` : ''}${gone.final_to_us_msat !== undefined ? `, final_to_us_msat ${gone.final_to_us_msat}` : ''}`);

  const toRemote = found.filter((o) => o.kind === 'to_remote');
  const resolved = (node?.status ?? []).some((s) => /all outputs resolved/i.test(s));
  let state: ChannelRecoveryState;
  if (toRemote.some((o) => o.status === 'spent')) state = 'swept';
  else if (toRemote.some((o) => o.status === 'confirmed')) state = 'to_remote_confirmed';
  else if (toRemote.length > 0) state = 'force_closed';
  else if (gone) state = 'swept';
  else if (node && CLOSING_STATES.has(node.state)) state = resolved || node.state === 'CLOSED' ? 'swept' : 'force_closed';
  else if (node) state = 'waiting_for_peer';
  else state = 'not_restored';

  if (node?.closer === 'local' && (state === 'force_closed' || state === 'swept'))
    evidence.push("this node closed the channel itself: its funds return through the delayed to_local output and onchaind's sweep, not through to_remote");

  return {
    channel_id: ch.channel_id,
    peer_id: ch.peer_id,
    dbid: ch.dbid,
    state,
    node_state: node?.state ?? (gone ? 'CLOSED' : null),
    peer_connected: node?.peer_connected ?? null,
    closer: node?.closer ?? gone?.closer ?? null,
    to_remote_address: ch.to_remote.address,
    outputs: found,
    recovered_msat: recovered,
    evidence,
    next_step: nextStep(state, ch, node),
  };
}

function nextStep(state: ChannelRecoveryState, ch: ScbChannel, node: PeerChannel | undefined): string {
  switch (state) {
    case 'not_restored':
      return "Run recoverchannel on the new node (this channel's entry is in the payload), then bring back listpeerchannels.";
    case 'waiting_for_peer':
      return node?.peer_connected
        ? 'The peer is connected; it should force-close now. Wait for the closing transaction to confirm, then bring back listfunds.'
        : `The peer is not connected. Keep the node online; you can try \`lightning-cli connect ${ch.peer_id}${ch.peer_address ? `@${ch.peer_address}` : ''}\`.`;
    case 'force_closed':
      return ch.to_remote.address
        ? `Wait for the to_remote output at ${ch.to_remote.address} to confirm, then bring back listfunds.`
        : 'This channel predates static_remotekey: the node finds its output using the peer\'s commitment point; wait for lightningd to report it in listfunds.';
    case 'to_remote_confirmed':
      return `The funds are in the node's wallet${ch.to_remote.kind === 'p2wsh-anchors' ? ' (spendable one block after confirmation)' : ''}. Move them with \`lightning-cli withdraw <address> all\` when you wish.`;
    case 'swept':
      return 'Nothing left to do for this channel.';
  }
}

// ---------------------------------------------------------------- final report

export interface ScbRecoveryReport {
  readonly report: 'cldcb-scb-recovery';
  readonly version: 1;
  /** ISO time, given by the caller (pure code reads no clock). */
  readonly generated_at: string | null;
  readonly network: Network;
  readonly source: ScbSource;
  readonly key_base: ScbKeyBase | null;
  /** emergency.recover's write time (seconds since the epoch), if known. */
  readonly backup_timestamp: number | null;
  readonly channels: ScbChannel[];
  readonly recoverchannel: RecoverChannelPayload;
  readonly skipped_dbids: number[];
  readonly steps: WalkthroughStep[];
  readonly progress: RecoveryProgress | null;
  readonly summary: {
    readonly channels: number;
    readonly total_funding_sat: number;
    readonly with_penalty_info: number;
    readonly by_state: Record<ChannelRecoveryState, number> | null;
    readonly recovered_msat: number;
    readonly done: boolean;
  };
}

/** Everything about one SCB recovery in one JSON-serialisable object. */
export function buildRecoveryReport(a: {
  network: Network;
  source: ScbSource;
  channels: readonly ScbChannel[];
  entries: readonly ModernScbChan[];
  keyBase?: ScbKeyBase;
  backupTimestamp?: number;
  progress?: RecoveryProgress;
  generatedAt?: string;
}): ScbRecoveryReport {
  const { payload, skipped } = recoverChannelPayload(a.entries);
  const progress = a.progress ?? null;
  return {
    report: 'cldcb-scb-recovery',
    version: 1,
    generated_at: a.generatedAt ?? null,
    network: a.network,
    source: a.source,
    key_base: a.keyBase ?? null,
    backup_timestamp: a.backupTimestamp ?? null,
    channels: [...a.channels],
    recoverchannel: payload,
    skipped_dbids: skipped,
    steps: walkthroughSteps({ network: a.network, source: a.source, payload, keyBase: a.keyBase }),
    progress,
    summary: {
      channels: a.channels.length,
      total_funding_sat: a.channels.reduce((s, c) => s + c.funding_sat, 0),
      with_penalty_info: a.channels.filter((c) => c.has_penalty_info).length,
      by_state: progress?.counts ?? null,
      recovered_msat: progress ? progress.channels.reduce((s, p) => s + p.recovered_msat, 0) : 0,
      done: progress?.done ?? false,
    },
  };
}

/**
 * `cldcb-client scb`: the channels of a static channel backup (emergency.recover,
 * a `staticbackup` JSON, or a lightningd.sqlite3) with our to_remote address for
 * each, the `recoverchannel` payload and the force-close walkthrough; with the
 * operator's RPC outputs, each channel's recovery state (cln-facts.md §6, §7, §9).
 *
 * --json prints {"channels":[{channel_id, peer_id, funding_txid (display order),
 * funding_outnum, funding_sat, channel_type (CLN's names, e.g. ["static_remotekey",
 * "anchors"]), to_remote_address, …}], …}.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { CldcbError } from '../../shared/errors';
import { forgetSecret, nodeIdHex, type LoadedSecret } from '../../shared/secrets/hsmSecret';
import { isNetwork, NETWORKS, type Network } from '../../shared/scb/channelKeys';
import { cliChannelJson, normaliseScbChannels, type ScbChannel, type ScbSource } from '../../shared/scb/channels';
import { backupChannels, emergencyRecoverBytes, openEmergencyRecover } from '../../shared/scb/emergencyRecover';
import type { ModernScbChan } from '../../shared/scb/scbChan';
import type { ScbKeyBase } from '../../shared/scb/secrets';
import { parseStaticBackup } from '../../shared/scb/staticbackup';
import { buildRecoveryReport, TIMELINE, trackRecovery, type RecoveryProgress, type ScbRecoveryReport } from '../../shared/scb/walkthrough';
import { readScbDatabase } from '../../shared/node/scbDatabase';
import { writeFileAtomic } from '../../shared/node/atomicFile';
import { parseOptions, requireOption, UsageError, type Command } from '../command';
import type { CliIo } from '../io';
import { FILE_KINDS_HELP, PASSPHRASE_HELP, loadSecretForCli } from './nodeid';

/** Backup and RPC-output files are small; refuse anything absurd (probably the wrong file). */
const INPUT_MAX_BYTES = 64 * 1024 * 1024;

function readInputFile(path: string, flag: string): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CldcbError('file_not_found', `${flag} ${path}: no such file. Check the path.`);
    if (code === 'EACCES' || code === 'EPERM') throw new CldcbError('io_error', `${flag} ${path}: permission denied (emergency.recover is mode 0400: run as its owner).`);
    throw new CldcbError('io_error', `${flag} ${path}: cannot open it (${code ?? 'I/O error'}).`);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new CldcbError('bad_input', `${flag} ${path} is a directory; give the file.`);
    if (st.size > INPUT_MAX_BYTES) throw new CldcbError('bad_length', `${flag} ${path} is ${st.size} bytes: too big for this input. Is it the right file?`);
    const buf = new Uint8Array(st.size);
    let n = 0;
    while (n < buf.length) {
      const r = readSync(fd, buf, n, buf.length - n, null);
      if (r === 0) break;
      n += r;
    }
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

function readTextFile(path: string, flag: string): string {
  return new TextDecoder().decode(readInputFile(path, flag));
}

/** What the three sources produce. */
interface Loaded {
  readonly source: ScbSource;
  readonly entries: ModernScbChan[];
  readonly channels: ScbChannel[];
  readonly keyBase?: ScbKeyBase;
  readonly keyNote?: string;
  readonly backupTimestamp?: number;
  readonly format?: 'modern' | 'legacy';
  readonly nodeStates?: string[];
}

async function loadChannels(
  secret: LoadedSecret,
  network: Network,
  src: { emergencyRecover?: string; staticbackup?: string; database?: string },
  includeClosed: boolean,
): Promise<Loaded> {
  const sd = secret.secretData;
  if (src.emergencyRecover !== undefined) {
    const raw = emergencyRecoverBytes(readInputFile(src.emergencyRecover, '--emergency-recover'), src.emergencyRecover);
    const opened = await openEmergencyRecover(raw, sd, src.emergencyRecover);
    const entries = backupChannels(opened.backup);
    return {
      source: 'emergency.recover',
      entries,
      channels: normaliseScbChannels(entries, sd, network, 'emergency.recover', opened.backup.format === 'legacy'),
      keyBase: opened.keyBase,
      keyNote: opened.keyNote,
      backupTimestamp: opened.backup.timestamp,
      format: opened.backup.format,
    };
  }
  if (src.staticbackup !== undefined) {
    const entries = parseStaticBackup(readTextFile(src.staticbackup, '--staticbackup'), src.staticbackup);
    return { source: 'staticbackup', entries, channels: normaliseScbChannels(entries, sd, network, 'staticbackup') };
  }
  const db = readScbDatabase(src.database!, sd, network, { includeClosed });
  return { source: 'database', entries: db.entries, channels: db.channels, nodeStates: db.states };
}

const short = (hex: string) => (hex.length > 16 ? `${hex.slice(0, 8)}…${hex.slice(-4)}` : hex);

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

function renderText(nodeId: string, network: Network, l: Loaded, report: ScbRecoveryReport, progress: RecoveryProgress | undefined): string {
  const out: string[] = [];
  const when = l.backupTimestamp !== undefined ? `, written ${new Date(l.backupTimestamp * 1000).toISOString().replace('.000Z', 'Z')}` : '';
  out.push(`Node ${nodeId} on ${network}: ${l.channels.length} channel${l.channels.length === 1 ? '' : 's'} from ${l.source}${when}.`);
  if (l.format === 'legacy') out.push('Legacy backup format (before v25.02): no penalty information, opener or delays.');
  if (l.keyNote) out.push(l.keyNote);
  out.push('');
  if (l.channels.length === 0) out.push('No channels in this backup.');
  else {
    const rows = [['dbid', 'channel', 'peer', 'funding outpoint', 'sat', 'type', 'penalty', 'to_remote address']];
    for (const c of l.channels)
      rows.push([
        String(c.dbid),
        short(c.channel_id),
        `${short(c.peer_id)}${c.peer_address ? `@${c.peer_address}` : ''}`,
        `${short(c.funding_txid)}:${c.funding_outnum}`,
        c.funding_sat.toLocaleString('en-US'),
        c.channel_type.names.join(',') || '(none)',
        c.has_penalty_info ? 'yes' : 'no',
        c.to_remote.address ?? '(changes per commitment: old non-static channel)',
      ]);
    out.push(table(rows));
    out.push('');
    out.push('Full values (channel id, peer id, funding txid):');
    for (const c of l.channels) out.push(`  ${c.dbid}: ${c.channel_id}  ${c.peer_id}  ${c.funding_txid}:${c.funding_outnum}${l.nodeStates ? `  [${l.nodeStates[l.channels.indexOf(c)]}]` : ''}`);
  }
  out.push('');
  out.push('What to do (SCB force-close recovery):');
  report.steps.forEach((s, i) => {
    out.push(`${i + 1}. ${s.warning ? 'WARNING: ' : ''}${s.title}`);
    out.push(`   ${s.detail}`);
    if (s.command) out.push(`   $ ${s.command}`);
  });
  if (report.skipped_dbids.length) out.push(`Not in the recoverchannel list (peer has no internet address): dbid ${report.skipped_dbids.join(', ')}.`);
  if (progress) {
    out.push('');
    out.push(`Progress${progress.blockheight !== null ? ` at block ${progress.blockheight}` : ''}:`);
    for (const p of progress.channels) {
      const t = TIMELINE.find((x) => x.state === p.state)!;
      out.push(`  dbid ${p.dbid} ${short(p.channel_id)}: ${p.state} — ${t.title}${p.recovered_msat ? ` (${p.recovered_msat} msat found)` : ''}`);
      out.push(`    next: ${p.next_step}`);
    }
    if (progress.watch.length) {
      out.push('  Watch:');
      for (const w of progress.watch) out.push(`    ${w.kind === 'to_remote' ? 'address' : 'outpoint'} ${w.target} (${w.kind}, channel ${short(w.channel_id)})`);
    }
    out.push(progress.done ? 'All channels are done.' : 'Not done yet: bring back fresh outputs later.');
  }
  return `${out.join('\n')}\n`;
}

export const scbCommand: Command = {
  name: 'scb',
  summary: 'list the channels of a static channel backup with our to_remote addresses, and the force-close walkthrough',
  usage: `usage: cldcb-client scb --hsm-secret FILE (--emergency-recover FILE | --staticbackup FILE | --database FILE) [--network bitcoin|testnet|signet|regtest] [--passphrase-file FILE] [--json]
       [--listpeerchannels FILE] [--listfunds FILE] [--listclosedchannels FILE] [--getinfo FILE] [--report FILE] [--include-closed]

Reads the channels of one backup and derives, from --hsm-secret, where our
funds land when each peer force-closes (to_remote: P2WPKH for static_remotekey,
P2WSH "<key> OP_CHECKSIGVERIFY OP_1 OP_CHECKSEQUENCEVERIFY" for anchors).
  --emergency-recover FILE  the node's emergency.recover (also accepted: the
                            clnemerg1… text of lightning-hsmtool getemergencyrecover,
                            or getemergencyrecoverdata's JSON). For a mnemonic
                            secret, the key from the first 32 seed bytes is tried
                            too (a node restored from codex32) and reported.
  --staticbackup FILE       the JSON output of \`lightning-cli staticbackup\`
  --database FILE           a lightningd.sqlite3 (opened read-only). Channels in
                            state CLOSED are left out unless --include-closed.
  --network NAME            address prefix: bitcoin (default, as lightningd's
                            default network: bc1…), testnet or signet (tb1…),
                            regtest (bcrt1…).
  --json                    prints {"channels":[{"channel_id","peer_id",
                            "funding_txid" (display byte order), "funding_outnum",
                            "funding_sat","channel_type" (CLN's names, e.g.
                            ["static_remotekey","anchors"]),"to_remote_address",
                            …}], "recoverchannel": {"scb":[…]}, …}. Without
                            --json: a table and the walkthrough.
  --listpeerchannels, --listfunds, --listclosedchannels, --getinfo FILE
                            JSON outputs of those commands on the recovery node:
                            adds each channel's state (not_restored,
                            waiting_for_peer, force_closed, to_remote_confirmed,
                            swept) and what to watch.
  --report FILE             also write the full recovery report (JSON, mode 0600,
                            never overwriting).

${FILE_KINDS_HELP}

${PASSPHRASE_HELP}
`,
  async run(argv: string[], io: CliIo): Promise<number> {
    const { values } = parseOptions(argv, {
      'hsm-secret': { type: 'string' },
      'emergency-recover': { type: 'string' },
      staticbackup: { type: 'string' },
      database: { type: 'string' },
      network: { type: 'string' },
      'passphrase-file': { type: 'string' },
      json: { type: 'boolean' },
      listpeerchannels: { type: 'string' },
      listfunds: { type: 'string' },
      listclosedchannels: { type: 'string' },
      getinfo: { type: 'string' },
      report: { type: 'string' },
      'include-closed': { type: 'boolean' },
    });
    const path = requireOption(values['hsm-secret'], '--hsm-secret FILE');
    const sources = (['emergency-recover', 'staticbackup', 'database'] as const).filter((k) => values[k] !== undefined);
    if (sources.length !== 1)
      throw new UsageError(
        sources.length === 0
          ? 'give one backup: --emergency-recover FILE, --staticbackup FILE or --database FILE'
          : `give only one backup, not ${sources.map((s) => `--${s}`).join(' and ')}`,
      );
    for (const s of sources) requireOption(values[s], `--${s} FILE`);
    const network = values.network ?? 'bitcoin';
    if (!isNetwork(network)) throw new UsageError(`--network must be one of ${NETWORKS.join(', ')}, not "${network}"`);

    // Fail before any passphrase prompt: an existing report, a wrong RPC-output path.
    if (values.report !== undefined && existsSync(values.report))
      throw new CldcbError('file_exists', `${values.report} already exists. Nothing was overwritten; choose another path or move the existing file away first.`);
    const rpc = {
      listpeerchannels: values.listpeerchannels !== undefined ? readTextFile(values.listpeerchannels, '--listpeerchannels') : undefined,
      listfunds: values.listfunds !== undefined ? readTextFile(values.listfunds, '--listfunds') : undefined,
      listclosedchannels: values.listclosedchannels !== undefined ? readTextFile(values.listclosedchannels, '--listclosedchannels') : undefined,
      getinfo: values.getinfo !== undefined ? readTextFile(values.getinfo, '--getinfo') : undefined,
    };
    const tracking = Object.values(rpc).some((v) => v !== undefined);

    const { secret } = await loadSecretForCli(io, path, values['passphrase-file']);
    try {
      const nodeId = nodeIdHex(secret);
      const loaded = await loadChannels(
        secret,
        network,
        { emergencyRecover: values['emergency-recover'], staticbackup: values.staticbackup, database: values.database },
        values['include-closed'] ?? false,
      );
      const progress = tracking ? trackRecovery(loaded.channels, rpc) : undefined;
      const report = buildRecoveryReport({
        network,
        source: loaded.source,
        channels: loaded.channels,
        entries: loaded.entries,
        keyBase: loaded.keyBase,
        backupTimestamp: loaded.backupTimestamp,
        progress,
        generatedAt: new Date().toISOString(),
      });
      if (values.report !== undefined)
        writeFileAtomic(values.report, `${JSON.stringify({ node_id: nodeId, ...report }, null, 2)}\n`, { mode: 0o600 });

      if (values.json) {
        const json = {
          node_id: nodeId,
          network,
          source: loaded.source,
          format: loaded.format ?? null,
          key_base: loaded.keyBase ?? null,
          backup_timestamp: loaded.backupTimestamp ?? null,
          channels: loaded.channels.map((c, i) => ({
            ...cliChannelJson(c),
            ...(loaded.nodeStates ? { node_state: loaded.nodeStates[i] } : {}),
          })),
          recoverchannel: report.recoverchannel,
          ...(progress ? { progress } : {}),
        };
        io.out(`${JSON.stringify(json)}\n`);
      } else io.out(renderText(nodeId, network, loaded, report, progress));
      if (values.report !== undefined && !values.json) io.out(`Report written to ${values.report}.\n`);
      return 0;
    } finally {
      forgetSecret(secret);
    }
  },
};

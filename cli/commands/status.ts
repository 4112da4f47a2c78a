/**
 * `cldcb-client status --lightning-dir=DIR [--json]`: where each backup server of a node
 * stands, from the files beside lightningd's database (issue 11, "the CLI shows per-server
 * state"). Offline: it talks to no server and never writes in DIR.
 *
 * What it reads, and what it cannot know, is in shared/node/backupStatus.ts: the one
 * reader, which the app's Backup status screen uses too. Here: the text and JSON it prints.
 */
import { WRAPPER_NAME } from '../../shared/node/installCeremony';
import { DB_FILE, readBackupStatus, standingText, type BackupStatus } from '../../shared/node/backupStatus';
import { describeLastStop, LOCK_FILE } from '../../shared/node/pluginShutdown';
import { parseOptions, printJson, requireOption, type Command } from '../command';

/** "3 s ago", "2 h ago" (whole units). */
function ago(t: Date, now: Date): string {
  const s = Math.max(0, Math.round((now.getTime() - t.getTime()) / 1000));
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  if (s < 172_800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} days ago`;
}

export function statusText(st: BackupStatus, now = new Date()): string {
  const n = st.servers.length;
  const db = st.database.dataVersion !== undefined ? `at data_version ${st.database.dataVersion}` : `data_version unknown: ${st.database.error}`;
  const lines = [`${st.database.file}: ${db}`];
  if (n > 1)
    lines.push(
      `quorum: lightningd commits a write once ${st.quorum} of the ${n} servers stored it; ${st.current !== undefined ? `${st.current} of ${n} are current` : 'how many are current is unknown'}.`,
    );
  for (const s of st.servers) {
    lines.push(`${n > 1 ? `server ${s.index}` : 'server'}: ${s.serverId}@${s.address}${s.proxy ? ` through the SOCKS5 proxy ${s.proxy}` : ''}`);
    if (s.dataVersion !== undefined) lines.push(`  acknowledged data_version ${s.dataVersion} at ${s.acknowledgedAt!.toISOString()} (${ago(s.acknowledgedAt!, now)}): ${standingText(s)}`);
    else lines.push(`  ${standingText(s)}`);
  }
  if (st.lastStop) {
    const { message } = describeLastStop(st.lastStop);
    lines.push(message.charAt(0).toUpperCase() + message.slice(1));
  } else lines.push('Last stop: no record (cldcb-plugin.last-stop) yet.');
  if (st.afterStopRunning) lines.push(`The after-stop check is running (${LOCK_FILE}): lightningd stopped a moment ago; run status again when it is done.`);
  return lines.join('\n') + '\n';
}

export function statusJson(st: BackupStatus): Record<string, unknown> {
  return {
    lightning_dir: st.lightningDir,
    wrapper: st.wrapper,
    database: { file: st.database.file, data_version: st.database.dataVersion ?? null, ...(st.database.error ? { error: st.database.error } : {}) },
    quorum: st.quorum,
    servers: st.servers.map((s) => ({
      index: s.index,
      server_id: s.serverId,
      address: s.address,
      ...(s.proxy ? { proxy: s.proxy } : {}),
      client_id: s.clientId,
      state_file: s.stateFile,
      data_version: s.dataVersion ?? null,
      acknowledged_at: s.acknowledgedAt?.toISOString() ?? null,
      lag: s.lag ?? null,
      standing: s.standing,
    })),
    current: st.current ?? null,
    last_stop: st.lastStop ? { ...st.lastStop, time: new Date(st.lastStop.time * 1000).toISOString() } : null,
    after_stop_running: st.afterStopRunning,
  };
}

export const statusCommand: Command = {
  name: 'status',
  summary: "each backup server's last acknowledged data_version and lag, from the plugin's files",
  usage: `usage: cldcb-client status --lightning-dir=DIR [--json]

Shows, for each backup server in DIR/${WRAPPER_NAME}: its id and address, the
last data_version it acknowledged and when, and how far that is behind the
data_version of lightningd's database (DIR/${DB_FILE}, opened read-only);
then the quorum and what the last stop of lightningd left in the backup.
  --lightning-dir   the node's network directory (e.g. ~/.lightning/bitcoin),
                    read as the user who runs lightningd (the wrapper is 0700)
  --json            one JSON object: database {file, data_version}, quorum,
                    servers [{index, server_id, address, client_id, state_file,
                    data_version, acknowledged_at, lag, standing}], current,
                    last_stop, after_stop_running (and on failure the error)

It contacts no server and changes nothing in DIR. standing is current, behind,
ahead (the database is older than the backup), none (nothing stored from this
directory yet) or unbound (a state file for another key or server). Whether a
server still holds its archive only a drill tells: cldcb-client drill.
`,
  async run(argv, io) {
    const { values } = parseOptions(argv, { 'lightning-dir': { type: 'string' }, json: { type: 'boolean' } });
    const st = readBackupStatus(requireOption(values['lightning-dir'], '--lightning-dir=DIR'));
    if (values.json) printJson(io, statusJson(st));
    else io.out(statusText(st));
    return 0;
  },
};

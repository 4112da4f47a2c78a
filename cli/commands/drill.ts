/**
 * `cldcb-client drill`: the disaster-recovery drill (shared/node/recovery/drill.ts).
 *   drill --demo                    the whole chain on the bundled real lightningd trace
 *   drill --lightning-dir=DIR (--from=… | --server=…) [--compare-live=DB]
 *                                   the node's real backup, into a scratch directory
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { zeroize } from '../../shared/bytes';
import { drillHtml, drillJson, drillText, findDemoRoot, runDemoDrill, runLiveDrill, type DrillEvent, type DrillReport } from '../../shared/node/recovery/drill';
import type { RecoveryEvent } from '../../shared/node/recovery/types';
import { checkNewFile, parseOptions, UsageError, type Command } from '../command';
import type { CliIo } from '../io';
import { PASSPHRASE_HELP } from './nodeid';
import { nodeKeyForCli, parseTimeArg, parseUintArg, progressPrinter, sourcesFromArgs, withInterrupt, writeReport } from './recover';

function printer(io: CliIo): (e: DrillEvent | RecoveryEvent) => void {
  const rec = progressPrinter(io);
  return (e) => {
    if (e.type === 'drill-step') {
      if (e.state === 'started') io.err(`▸ ${e.name}\n`);
      else if (e.state === 'failed') io.err(`  ✗ ${e.detail ?? 'failed'}\n`);
      else if (e.detail) io.err(`  ✓ ${e.detail}\n`);
      return;
    }
    if (e.type === 'step' || e.type === 'candidate') return; // the drill steps say it
    rec(e);
  };
}

function output(io: CliIo, r: DrillReport, json: boolean, report: string | undefined): number {
  const reportError =
    report !== undefined
      ? writeReport(report, () => (report.endsWith('.html') || report.endsWith('.htm') ? drillHtml(r) : report.endsWith('.json') ? JSON.stringify(drillJson(r), null, 2) + '\n' : drillText(r)))
      : undefined;
  io.out(json ? JSON.stringify({ ...drillJson(r), ...(reportError ? { report_error: reportError } : {}) }, null, 2) + '\n' : drillText(r));
  if (reportError) io.err(`cldcb-client drill: ${reportError} The drill itself finished (its report is above).\n`);
  return r.pass ? 0 : 1;
}

export const drillCommand: Command = {
  name: 'drill',
  summary: 'disaster-recovery drill: prove the backup restores (--demo runs it on a bundled real node)',
  usage: `usage: cldcb-client drill --demo [--json] [--report=FILE]
       cldcb-client drill --lightning-dir=DIR (--from=SERVERDIR | --server=SID@HOST:PORT) [--compare-live=DB] [--report=FILE] [--json]

--demo runs the whole chain on a bundled real lightningd v26.06 regtest trace
(assets/demo): the secret, a cldcb-server and the cldcb-plugin on loopback, the trace
played towards the plugin like lightningd, the recognition search, recovery online
and offline, and a row-by-row comparison with the node's real database.

With --lightning-dir, the node's own backup is recovered into a scratch directory —
DIR's database is never touched; DIR only provides the hsm_secret — verified, and
compared with the live database if --compare-live is given (copied first with the
SQLite backup API; it may be ahead: the report says by how many data_versions).

  --from / --server    as for recover (--server is the request to go online)
  --report=FILE        also write the report (.html printable page, .json, or text)
  --json               print the report as JSON on stdout (progress is silent)
  --keep               keep the scratch directory (its path is in the report)
  --last-known-data-version=N, --last-known-time=UNIX|ISO, --node-key-file=FILE
                       as for recover

Every step is timed; the report ends with PASS or FAIL and the date the next drill
is due (90 days). Exit status: 0 pass, 1 fail, 2 usage.

${PASSPHRASE_HELP}
`,
  async run(argv, io) {
    const { values } = parseOptions(argv, {
      demo: { type: 'boolean' },
      'lightning-dir': { type: 'string' },
      from: { type: 'string', multiple: true },
      server: { type: 'string', multiple: true },
      'compare-live': { type: 'string' },
      report: { type: 'string' },
      json: { type: 'boolean' },
      keep: { type: 'boolean' },
      'passphrase-file': { type: 'string' },
      'node-key-file': { type: 'string' },
      'last-known-data-version': { type: 'string' },
      'last-known-time': { type: 'string' },
    });
    if (values.report !== undefined) checkNewFile(values.report, '--report');
    const onEvent = values.json ? undefined : printer(io);
    if (values.demo) {
      if (values['lightning-dir'] || values.from || values.server || values['compare-live']) throw new UsageError('--demo takes no --lightning-dir, --from, --server or --compare-live');
      const root = findDemoRoot(path.dirname(fileURLToPath(import.meta.url)));
      const r = await withInterrupt((signal) => runDemoDrill({ root, ...(values.keep ? { keepScratch: true } : {}) }, { signal, ...(onEvent ? { onEvent } : {}) }), io);
      return output(io, r, Boolean(values.json), values.report);
    }
    const dir = values['lightning-dir'];
    if (!dir) throw new UsageError('give --demo, or --lightning-dir=DIR with --from or --server');
    const from = values.from ?? [];
    const servers = values.server ?? [];
    if (from.length === 0 && servers.length === 0) throw new UsageError('give --from=SERVERDIR (offline) or --server=SID@HOST:PORT (online)');
    const lastKnownDataVersion = parseUintArg(values['last-known-data-version'], '--last-known-data-version');
    const lastKnownTime = parseTimeArg(values['last-known-time'], '--last-known-time');
    const nodeKey = await nodeKeyForCli(io, dir, values['passphrase-file'], values['node-key-file']);
    try {
      const r = await withInterrupt((signal) =>
        runLiveDrill(
          {
            nodePrivateKey: nodeKey,
            sources: sourcesFromArgs(from, servers, {}),
            online: servers.length > 0,
            ...(values['compare-live'] ? { compareLive: values['compare-live'] } : {}),
            ...(values.keep ? { keepScratch: true } : {}),
            ...(lastKnownDataVersion !== undefined ? { lastKnownDataVersion } : {}),
            ...(lastKnownTime !== undefined ? { lastKnownTime } : {}),
          },
          { signal, ...(onEvent ? { onEvent } : {}) },
        ),
        io,
      );
      return output(io, r, Boolean(values.json), values.report);
    } finally {
      zeroize(nodeKey);
    }
  },
};

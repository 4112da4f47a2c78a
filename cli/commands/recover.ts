/**
 * `cldcb-client recover`: rebuild lightningd.sqlite3 from a cldcb backup, offline from a
 * copy of the server's directory or (explicitly) online from the server, and write a fresh
 * plugin wrapper. The engine is shared/node/recovery (the app uses the same).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CldcbError, toErrorData } from '../../shared/errors';
import { zeroize } from '../../shared/bytes';
import { DEFAULT_SERVER_PORT, parseHostPort, parseOptFile, parsePrivateKeyHex } from '../../shared/cldcb/ids';
import { forgetSecret } from '../../shared/secrets/hsmSecret';
import { nodePrivateKey } from '../../shared/secrets/nodeKey';
import { recover } from '../../shared/node/recovery/engine';
import { verdictHtml, verdictJson, verdictText } from '../../shared/node/recovery/report';
import type { RecoveryEvent, RecoverySource, RecoveryVerdict } from '../../shared/node/recovery/types';
import { writeFileAtomic } from '../../shared/node/atomicFile';
import { checkNewFile, parseOptions, requireOption, UsageError, type Command } from '../command';
import type { CliIo } from '../io';
import { loadSecretForCli, PASSPHRASE_HELP } from './nodeid';
import { findRepoRoot, wrapperText } from './installplugin';

function reportBody(file: string, v: RecoveryVerdict): string {
  return file.endsWith('.html') || file.endsWith('.htm') ? verdictHtml(v) : file.endsWith('.json') ? JSON.stringify(verdictJson(v), null, 2) + '\n' : verdictText(v);
}

/** Write a report file; the error sentence when it fails (never throws). */
export function writeReport(file: string, body: () => string): string | undefined {
  try {
    writeFileAtomic(file, body(), { mode: 0o600 });
    return undefined;
  } catch (e) {
    return `The report could not be written to ${file} (${toErrorData(e).message})`;
  }
}

/** The files a recovery wrote, for a message. */
function writtenFiles(v: RecoveryVerdict): string {
  return [v.database.path, v.pluginState?.path, v.wrapper?.path, v.clientKeyFile].filter((x) => x !== undefined).join(', ') + ' written';
}

/** Exit code when the database was written but is (or may be) stale. */
export const EXIT_STALE = 3;

/**
 * The node private key: from `--node-key-file` (64 hex digits, or a `# npk = …` line — the
 * original cldcb test setup's simulated node key), else from DIR/hsm_secret (any format).
 */
export async function nodeKeyForCli(io: CliIo, lightningDir: string, passphraseFile: string | undefined, nodeKeyFile: string | undefined): Promise<Uint8Array> {
  if (nodeKeyFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(nodeKeyFile, 'utf8');
    } catch {
      throw new CldcbError('file_not_found', `--node-key-file ${nodeKeyFile}: cannot read it.`);
    }
    const npk = parseOptFile(text).get('npk') ?? text.trim();
    return parsePrivateKeyHex(npk, `--node-key-file ${nodeKeyFile}`);
  }
  const file = path.join(lightningDir, 'hsm_secret');
  let secret;
  try {
    ({ secret } = await loadSecretForCli(io, file, passphraseFile));
  } catch (e) {
    if (e instanceof CldcbError && e.code === 'file_not_found')
      throw new CldcbError('file_not_found', `${file}: no such file. Put the node's hsm_secret (any format: binary, hex, codex32 or words) in the lightning directory first.`);
    throw e;
  }
  try {
    return nodePrivateKey(secret.secretData);
  } finally {
    forgetSecret(secret);
  }
}

/** `--from` values: a directory is a server directory copy, a file an archive. */
export function sourcesFromArgs(from: string[], servers: string[], extra: { shost?: string; proxy?: string; recognitionCodes?: string }): RecoverySource[] {
  const out: RecoverySource[] = [];
  for (const f of from) {
    if (f.endsWith('.arch'))
      out.push({ kind: 'archive', archive: f, ...(extra.recognitionCodes ? { recognitionCodes: extra.recognitionCodes } : {}), ...(extra.shost ? { serverHost: extra.shost } : {}) });
    else out.push({ kind: 'serverDir', dir: f, ...(extra.shost ? { serverHost: extra.shost } : {}) });
  }
  for (const s of servers) out.push({ kind: 'server', address: s, ...(extra.proxy ? { proxy: extra.proxy } : {}) });
  return out;
}

/** Parse `--last-known-time`: unix seconds or an ISO 8601 date. */
export function parseTimeArg(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  if (/^\d+$/.test(v)) return Number(v);
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) throw new UsageError(`${flag} must be unix seconds or an ISO date (2026-11-23T20:00:00Z), not "${v}"`);
  return Math.floor(ms / 1000);
}

export function parseUintArg(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) > 0xffffffff) throw new UsageError(`${flag} must be a data_version (0 … 4294967295), not "${v}"`);
  return Number(v);
}

/** Progress lines on stderr, at most one per second per kind (state changes always). */
export function progressPrinter(io: CliIo): (e: RecoveryEvent) => void {
  const last = new Map<string, number>();
  const throttled = (key: string, line: string, force = false): void => {
    const now = Date.now();
    if (!force && now - (last.get(key) ?? 0) < 1000) return;
    last.set(key, now);
    io.err(line + '\n');
  };
  return (e) => {
    switch (e.type) {
      case 'step':
        if (e.state === 'started') io.err(`${e.step}…\n`);
        break;
      case 'source':
        if (e.state === 'listed') io.err(`  ${e.label}: ${e.records} recognition code(s), ${e.archives} archive(s)${e.speaksV1 ? ', server speaks extension v1' : ''}\n`);
        else if (e.state === 'failed') io.err(`  ${e.label}: failed: ${e.message}\n`);
        break;
      case 'recognition':
        throttled('recognition', `  checked ${e.checked}/${e.total} (${Math.round(e.perSecond)}/s): ${e.ours} ours, ${e.notOurs} not ours, ${e.invalid} invalid`, e.checked === e.total);
        break;
      case 'entry':
        if (e.status === 'ours') io.err(`  ours ✓ ${e.clientId}${e.via === 'archive' ? ' (by opening its archive)' : ''}\n`);
        break;
      case 'download':
        throttled('download', `  downloading ${e.clientId}: ${e.bytes} bytes`);
        break;
      case 'candidate': {
        const c = e.candidate;
        io.err(`  backup ${c.clientId} at ${c.sourceLabel}: ${c.error ? `unusable: ${c.error.message}` : c.dataVersion !== undefined ? `data_version ${c.dataVersion}, ${c.increments} increments` : 'found'}\n`);
        break;
      }
      case 'rebuild':
        if (e.phase === 'scan') throttled('scan', `  unsealing: ${e.done}${e.total ? `/${e.total}` : ''} bytes`, e.done === e.total);
        else if (e.phase === 'replay') throttled('replay', `  replaying: increment ${e.done}${e.total ? `/${e.total}` : ''}, ${e.statements} statements`, e.done === e.total);
        else if (e.phase === 'check') io.err(`  checking: ${e.check}\n`);
        else io.err('  writing the database\n');
        break;
      default:
        break;
    }
  };
}

/** How long a cancelled run may take to stop (cleaning up its temp files) before the process ends anyway. */
export const CANCEL_GRACE_MS = 10_000;

/**
 * Run `fn` with an AbortSignal tied to SIGINT/SIGTERM (issue 14 #6). The first signal cancels:
 * the engine stops at its next check and removes its temp files. If that has not ended the
 * run within CANCEL_GRACE_MS (a thread stuck in a system call), or a second signal comes, the
 * process exits at once (130); its temp files are removed at the next run.
 */
export async function withInterrupt<T>(fn: (signal: AbortSignal) => Promise<T>, io?: CliIo): Promise<T> {
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const exitNow = (why: string): never => {
    const line = `cldcb-client: ${why}; exiting now. Temporary files left behind are removed at the next run.\n`;
    if (io) io.err(line);
    else process.stderr.write(line);
    process.exit(130);
  };
  const onSig = (): void => {
    if (ac.signal.aborted) exitNow('interrupted again');
    ac.abort();
    timer = setTimeout(() => exitNow(`still stopping after ${CANCEL_GRACE_MS / 1000} s`), CANCEL_GRACE_MS);
    timer.unref();
  };
  process.on('SIGINT', onSig);
  process.on('SIGTERM', onSig);
  try {
    return await fn(ac.signal);
  } finally {
    clearTimeout(timer);
    process.removeListener('SIGINT', onSig);
    process.removeListener('SIGTERM', onSig);
  }
}

export const recoverCommand: Command = {
  name: 'recover',
  summary: 'rebuild lightningd.sqlite3 from a cldcb backup (offline from a server directory copy, or --server online)',
  usage: `usage: cldcb-client recover --lightning-dir=DIR (--from=SERVERDIR | --server=SID@HOST:PORT) [--passphrase-file=FILE] [--json]

Rebuilds the node's database from its cldcb backup into DIR/lightningd.sqlite3
(refused if it exists), and beside it the plugin's chain state (cldcb-plugin.state)
and a fresh cldcb-plugin-wrapper for the same backup, so backups carry on where the
archive ends. DIR must hold the node's hsm_secret (any format).

  --from=SERVERDIR   a copy of the cldcb server's directory (ours or the original
                     one's; it may hold many clients' archives), or one .arch file.
                     Offline: nothing is sent anywhere. May be repeated.
  --server=SID@HOST:PORT  fetch from the server over Noise_XK (online: this flag is
                     the request to go online). May be repeated; with several
                     sources the freshest backup is used and the others compared.
  --json             print the verdict as JSON on stdout (progress is silent).
  --client-id=CID    use this backup (c…) instead of the freshest one.
  --last-known-data-version=N, --last-known-time=UNIX|ISO
                     the node's last activity you know of: an older backup is
                     reported as stale.
  --shost=HOST[:PORT]  the server's address for the fresh wrapper. A server
                     directory records the server's id (and our server its port),
                     not its host: without --shost no wrapper is written; the
                     backup's client key is saved and the report gives the
                     installplugin command that makes the wrapper.
  --report=FILE      also write the report (.html printable page, .json, or text).
  --node-key-file=FILE  the node private key (64 hex, or "# npk = …") instead of
                     DIR/hsm_secret (for test setups without an hsm_secret).

Exit status: 0 rebuilt and verified; 1 refused or failed (nothing written);
2 usage; ${EXIT_STALE} written but stale — do not start lightningd on it.

${PASSPHRASE_HELP}
`,
  async run(argv, io) {
    const { values } = parseOptions(argv, {
      'lightning-dir': { type: 'string' },
      from: { type: 'string', multiple: true },
      server: { type: 'string', multiple: true },
      'passphrase-file': { type: 'string' },
      json: { type: 'boolean' },
      'client-id': { type: 'string' },
      'last-known-data-version': { type: 'string' },
      'last-known-time': { type: 'string' },
      shost: { type: 'string' },
      proxy: { type: 'string' },
      'recognition-codes': { type: 'string' },
      report: { type: 'string' },
      'node-key-file': { type: 'string' },
    });
    const dir = requireOption(values['lightning-dir'], '--lightning-dir=DIR');
    const from = values.from ?? [];
    const servers = values.server ?? [];
    if (from.length === 0 && servers.length === 0) throw new UsageError('give --from=SERVERDIR (offline) or --server=SID@HOST:PORT (online)');
    const lastKnownDataVersion = parseUintArg(values['last-known-data-version'], '--last-known-data-version');
    const lastKnownTime = parseTimeArg(values['last-known-time'], '--last-known-time');
    if (values.shost !== undefined) {
      try {
        parseHostPort(values.shost, DEFAULT_SERVER_PORT, '--shost');
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
    }
    const sources = sourcesFromArgs(from, servers, {
      ...(values.shost ? { shost: values.shost } : {}),
      ...(values.proxy ? { proxy: values.proxy } : {}),
      ...(values['recognition-codes'] ? { recognitionCodes: values['recognition-codes'] } : {}),
    });
    if (values.report !== undefined) checkNewFile(values.report, '--report');
    const nodeKey = await nodeKeyForCli(io, dir, values['passphrase-file'], values['node-key-file']);
    try {
      const verdict = await withInterrupt((signal) =>
        recover(
          {
            nodePrivateKey: nodeKey,
            sources,
            online: servers.length > 0,
            lightningDir: dir,
            makeWrapper: (w) => wrapperText({ ...w, node: process.execPath, plugin: path.join(findRepoRoot(), 'plugin', 'cldcb-plugin.mjs') }),
            ...(values['client-id'] ? { clientId: values['client-id'] } : {}),
            ...(lastKnownDataVersion !== undefined ? { lastKnownDataVersion } : {}),
            ...(lastKnownTime !== undefined ? { lastKnownTime } : {}),
          },
          { signal, ...(values.json ? {} : { onEvent: progressPrinter(io) }) },
        ),
        io,
      );
      // The recovery's files are written: a report that still cannot be written (checked
      // before the run) is said, with what was written, and does not change the exit status.
      const reportError = values.report !== undefined ? writeReport(values.report, () => reportBody(values.report!, verdict)) : undefined;
      if (values.json) io.out(JSON.stringify({ ...verdictJson(verdict), ...(reportError ? { report_error: reportError } : {}) }, null, 2) + '\n');
      else io.out(verdictText(verdict));
      if (reportError) io.err(`cldcb-client recover: ${reportError} The recovery itself finished: ${writtenFiles(verdict)} (the verdict is above).\n`);
      return verdict.stale ? EXIT_STALE : 0;
    } finally {
      zeroize(nodeKey);
    }
  },
};

/**
 * cldcb-plugin: a Core Lightning plugin that backs up every database write to a cldcb server
 * before lightningd commits it (cldcb-protocol §7; docs/PROTOCOL.md).
 *
 *   cldcb-plugin -- WRAPPER      (what the wrapper's `exec … -- "$0"` runs)
 *   cldcb-plugin WRAPPER
 *   cldcb-plugin -h | -v
 *
 * Configuration comes only from WRAPPER's `# key = value` comment lines (cid cpk nid nsig
 * sid shost [proxy]), parsed with the original's rules (shared/cldcb/ids.ts
 * parsePluginWrapper); there are no command-line options for it. The working directory is
 * lightningd's network directory, where lightningd.sqlite3 lives.
 *
 * stdout carries only JSON-RPC; diagnostics go to lightningd as `log` notifications and,
 * for startup failures, to stderr (lightningd logs a plugin's stderr).
 */
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { CldcbError } from '../shared/errors';
import { formatClientId } from '../shared/cldcb/ids';
import { parsePluginWrapper, wrapperQuorum, wrapperServers, type PluginConfig } from '../shared/cldcb/wrapper';
import { BackupSession, DEADLINE_MS } from './backup';
import { QuorumBackup } from './quorum';
import { JsonObjectStream } from './jsonStream';
import { CldcbPluginRpc } from './plugin';
import { asciiLogText } from './logText';
import { runAfterStop } from './afterStop';
import { describeLastStop, LOCK_FILE, LOCK_WAIT_MS, readLastStop, releaseLock, waitForAfterStopHelper, writeLock } from '../shared/node/pluginShutdown';

export const PLUGIN_VERSION = '0.1.0';

const USAGE = `usage: cldcb-plugin [--] WRAPPER
       cldcb-plugin -h | -v

A Core Lightning plugin. lightningd starts it through WRAPPER, a shell script that
cldcb-client installplugin writes; the plugin reads its configuration (cid, cpk, nid,
nsig, sid, shost, proxy) from WRAPPER's "# key = value" comment lines.
`;

/**
 * How long one db_write may wait for the server: the wrapper's `# deadline` (the operator's
 * setting), else CLDCB_PLUGIN_DEADLINE_MS (tests: milliseconds, 1000..300000), else DEADLINE_MS.
 */
function deadlineMs(cfg: PluginConfig): number {
  if (cfg.deadlineSeconds !== undefined) return Math.round(cfg.deadlineSeconds * 1000);
  return deadlineFromEnvOr(DEADLINE_MS);
}

function deadlineFromEnvOr(fallback: number): number {
  const v = process.env.CLDCB_PLUGIN_DEADLINE_MS;
  if (v === undefined || !/^[0-9]+$/.test(v)) return fallback;
  return Math.min(300_000, Math.max(1000, Number(v)));
}

const AFTER_STOP_FLAG = '--after-stop';

/** With several servers, lagging ones may finish their queue this long after lightningd let us go. */
const DRAIN_MS = 10_000;

/**
 * Whether our parent is a lightningd that will exit after letting us go. A program that
 * stands in for lightningd and lives on (the drill's trace player, tests) sets
 * CLDCB_AFTER_STOP=off; tests of the helper name the stand-in's PID instead.
 */
function afterStopWanted(): boolean {
  return process.env.CLDCB_AFTER_STOP !== 'off';
}

/**
 * lightningd's PID: our parent (the wrapper `exec`s the plugin). Tests that stand in for
 * lightningd name another process in CLDCB_TEST_LIGHTNINGD_PID (their own stays alive).
 */
function lightningdPid(): number {
  const v = process.env.CLDCB_TEST_LIGHTNINGD_PID;
  return v !== undefined && /^[0-9]+$/.test(v) ? Number(v) : process.ppid;
}

/**
 * Start `cldcb-plugin --after-stop` detached (plugin/afterStop.ts) and hand it the lock. The
 * wrapper path is re-read by the helper: no key material on its command line.
 */
function startAfterStopHelper(dir: string, wrapper: string, pid: number, warn: (m: string) => void): void {
  try {
    const child = spawn(process.execPath, [process.argv[1]!, AFTER_STOP_FLAG, wrapper, String(pid)], { cwd: dir, detached: true, stdio: 'ignore' });
    if (child.pid === undefined) throw new Error('no process');
    writeLock(dir, child.pid);
    child.unref();
  } catch (e) {
    warn(`could not start the after-stop check (${(e as Error).message}); if lightningd writes after this, its next start re-uploads.`);
  }
}

function parseArgs(argv: string[]): { wrapper?: string; afterStopPid?: number; exit?: number; text?: string } {
  if (argv.length === 1 && (argv[0] === '-h' || argv[0] === '--help')) return { exit: 0, text: USAGE };
  // Internal: the helper the plugin starts when it leaves at lightningd's shutdown (plugin/afterStop.ts).
  if (argv[0] === AFTER_STOP_FLAG) {
    const pid = Number(argv[2]);
    if (argv.length !== 3 || !argv[1] || !Number.isSafeInteger(pid) || pid <= 0) return { exit: 1, text: USAGE };
    return { wrapper: argv[1], afterStopPid: pid };
  }
  if (argv.length === 1 && (argv[0] === '-v' || argv[0] === '--version')) return { exit: 0, text: `cldcb-plugin ${PLUGIN_VERSION}\n` };
  const rest = argv[0] === '--' ? argv.slice(1) : argv;
  if (rest.length !== 1 || rest[0] === '' || (argv[0] !== '--' && rest[0]!.startsWith('-'))) return { exit: 1, text: USAGE };
  return { wrapper: rest[0]! };
}

function loadConfig(wrapper: string, warn: (m: string) => void): PluginConfig {
  let text: string;
  try {
    text = readFileSync(wrapper, 'utf8');
  } catch (e) {
    throw new CldcbError('file_not_found', `cannot read the wrapper ${wrapper} (${(e as NodeJS.ErrnoException).code ?? 'I/O error'}).`);
  }
  try {
    if ((statSync(wrapper).mode & 0o077) !== 0) warn(`${wrapper} is readable by other users, but it holds the client private key: chmod 700 it.`);
  } catch {
    /* already read it */
  }
  return parsePluginWrapper(text, wrapper);
}

/** Run the plugin until lightningd closes stdin. @returns the exit code. */
export async function runPlugin(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  if (args.exit !== undefined) {
    (args.exit === 0 ? process.stdout : process.stderr).write(args.text ?? '');
    return args.exit;
  }
  if (args.afterStopPid !== undefined) return runAfterStop(args.wrapper!, args.afterStopPid, deadlineFromEnvOr(DEADLINE_MS));
  // Read now, while lightningd is surely our parent: by the time stdin ends and the queues have
  // drained, lightningd may have exited and we have been re-parented (process.ppid is read live),
  // and the helper would wait its whole EXIT_WAIT_MS for the wrong process.
  const parentLightningd = lightningdPid();
  // lightningd gone: a write to the closed pipe must not crash us before we notice stdin's end.
  process.stdout.on('error', () => {});
  const send = (obj: unknown): void => {
    process.stdout.write(JSON.stringify(obj) + '\n');
  };
  const early = (level: string, message: string): void => send({ jsonrpc: '2.0', method: 'log', params: { level, message: asciiLogText(`cldcb: ${message}`) } });
  let cfg: PluginConfig;
  try {
    cfg = loadConfig(args.wrapper!, (m) => early('warn', m));
  } catch (e) {
    const message = e instanceof CldcbError ? e.message : 'internal error while reading the wrapper';
    early('error', `cannot start: ${message}`);
    process.stderr.write(asciiLogText(`cldcb-plugin: ${message}`) + '\n');
    return 1;
  }

  const dir = process.cwd();
  // A helper of the previous run may still be making the backup hold lightningd's final
  // database; it moves the chain head, so read the head only after it finished.
  const helper = await waitForAfterStopHelper(dir);
  if (helper === 'waited') early('info', 'waited for the previous run\'s after-stop check to finish.');
  if (helper === 'timeout') early('warn', `the previous run's after-stop check (${LOCK_FILE}) is still running after ${LOCK_WAIT_MS / 1000} s; going on without it.`);
  const lastStop = readLastStop(dir);
  if (lastStop) {
    const { level, message } = describeLastStop(lastStop);
    early(level, message);
  }

  const holder: { rpc?: CldcbPluginRpc } = {};
  const log = (level: 'debug' | 'info' | 'warn' | 'error', message: string): void => holder.rpc?.log(level, message);
  const servers = wrapperServers(cfg);
  // One server: the BackupSession itself, exactly the one-server plugin. Several: k of n.
  const session = servers.length === 1 ? new BackupSession(cfg, dir, log, { deadlineMs: deadlineMs(cfg) }) : new QuorumBackup(cfg, dir, log, { deadlineMs: deadlineMs(cfg) });
  const target =
    servers.length === 1
      ? `${cfg.server.host}:${cfg.server.port} as ${formatClientId(cfg.clientId)}`
      : `${servers.length} servers (${servers.map((s) => `${s.server.host}:${s.server.port}`).join(', ')}); lightningd commits once ${wrapperQuorum(cfg)} of them stored a write`;
  const rpc = new CldcbPluginRpc(session, { send }, () =>
    log(
      'info',
      `ready: backing up to ${target}; while ${servers.length === 1 ? 'the server cannot' : 'too few servers can'} be reached a write waits up to ${session.deadlineMs / 1000} s, then lightningd stops without committing it.`,
    ),
  );
  holder.rpc = rpc;
  session.warmUp();

  const stream = new JsonObjectStream();
  process.stdin.setEncoding('utf8');
  return new Promise<number>((resolve) => {
    let done = false;
    const finish = (code: number): void => {
      if (done) return;
      done = true;
      session.close();
      resolve(code);
    };
    process.stdin.on('data', (text: string) => {
      let values: unknown[];
      try {
        values = stream.push(text);
      } catch (e) {
        log('error', `lightningd sent something that is not JSON (${(e as Error).message}); stopping.`);
        process.stderr.write(asciiLogText(`cldcb-plugin: input is not JSON-RPC: ${(e as Error).message}`) + '\n');
        finish(1);
        return;
      }
      for (const v of values) rpc.handle(v);
    });
    process.stdin.on('end', () => {
      // lightningd let us go: it is stopping (shutdown_plugins) or it died. Writes it still
      // makes get no hook, so a helper checks its final database once it has exited
      // (shared/node/pluginShutdown.ts). Let queued writes finish answering.
      // Hold the lock from now on (a plugin started meanwhile waits), and hand it to the helper.
      if (afterStopWanted()) writeLock(dir, process.pid);
      void rpc
        .idle()
        .then(() => (session instanceof QuorumBackup ? session.drain(DRAIN_MS) : undefined))
        .finally(() => {
          if (afterStopWanted())
            startAfterStopHelper(dir, args.wrapper!, parentLightningd, (m) => {
              releaseLock(dir, process.pid);
              process.stderr.write(asciiLogText(`cldcb-plugin: ${m}`) + '\n');
            });
          finish(0);
        });
    });
    process.stdin.on('error', () => finish(1));
  });
}

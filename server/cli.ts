/**
 * `cldcb-server` command line (cldcb-protocol §1.5): daemon, add, remove, stop — the
 * original's commands and options (`--opt=value` or `--opt value`), plus ours:
 * --bind, --foreground, --log-level, limits and timeouts. See server/README.md.
 * Exit codes: 0 success, 1 failure (one line on stderr), 2 usage error.
 */
import { spawn } from 'node:child_process';
import { closeSync, writeSync } from 'node:fs';
import path from 'node:path';
import { isIP as net_isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { CldcbError, toErrorData } from '../shared/errors';
import { DEFAULT_SERVER_PORT } from '../shared/cldcb/ids';
import { changeClients, normaliseClientId } from './clients';
import { DEFAULT_ADMISSION, type AdmissionLimits } from './admission';
import { startDaemon, type DaemonConfig } from './daemon';
import { createLogger, errText, isLogLevel, LOG_LEVELS, type LogLevel, type Logger } from './log';
import { DEFAULT_LOGFILE, DEFAULT_PIDFILE, ensureServerDir, notOurServer, processAlive, readPidfile } from './serverDir';
import { DEFAULT_RATES, DEFAULT_TIMING } from './session';
import { DEFAULT_STORAGE_LIMITS } from './storage';

export interface Io {
  out(s: string): void;
  err(s: string): void;
}

export const processIo: Io = {
  out: (s) => void process.stdout.write(s),
  err: (s) => void process.stderr.write(s),
};

export const USAGE = `usage: cldcb-server COMMAND [options]

  daemon [--server-dir=DIR] [--port=N] [--bind=ADDR] [--foreground]
         [--pidfile=FILE] [--logfile=FILE] [--log-level=LEVEL] [--maxcount=N] [limits]
      Run the backup server. Without --foreground it detaches, prints
      "cldcb-server daemonizing." once it listens, and exits.
  add    [--server-dir=DIR] [--pidfile=FILE] CID...   allow clients (c2…/c3…) to write
  remove [--server-dir=DIR] [--pidfile=FILE] CID...   take clients off the list
  stop   [--server-dir=DIR] [--pidfile=FILE]          stop the daemon (SIGINT)

Options (--opt=value or --opt value):
  --server-dir=DIR      default $HOME/.cldcb-server (created 0700)
  --port=N              default ${DEFAULT_SERVER_PORT}; 0 = any free port (written to DIR/port)
  --bind=ADDR           default 0.0.0.0 (as the original); :: for IPv6, 127.0.0.1 behind Tor
  --foreground          do not detach; log to stderr unless --logfile (systemd, tests)
  --pidfile=FILE        default DIR/${DEFAULT_PIDFILE} (relative names are inside DIR)
  --logfile=FILE        default DIR/${DEFAULT_LOGFILE} when detached, stderr with --foreground
  --log-level=LEVEL     ${LOG_LEVELS.join('|')} (default info)
  --maxcount=N          re-upload after N+1 increments (default ${DEFAULT_STORAGE_LIMITS.maxCount}, max 65535)
Limits (connections: see "Connection limits" in server/README.md):
  --max-connections=N        all connections (default ${DEFAULT_ADMISSION.maxConnections}); newcomers evict
                             the stalest connection without an allow-listed key
  --reserved-connections=N   of those, for allow-listed clients only (default 10%, at most ${DEFAULT_ADMISSION.reserved})
  --max-per-address=N        connections without an allow-listed key per address (default ${DEFAULT_ADMISSION.perAddress})
  --max-per-client=N         connections per allow-listed client (default ${DEFAULT_ADMISSION.perClient})
  --unlisted-idle=S          close a connection without an allow-listed key after S
                             without a request (default ${DEFAULT_ADMISSION.unlistedIdleMs / 1000})
  --max-increment-bytes=N    largest single increment (default ${DEFAULT_STORAGE_LIMITS.maxIncrementBytes})
  --max-reupload-bytes=N     largest snapshot (default ${DEFAULT_STORAGE_LIMITS.maxReuploadBytes})
  --min-log-bytes=N          ask for a re-upload when the increments exceed
                             max(snapshot size, N) (default ${DEFAULT_STORAGE_LIMITS.minLogBytes})
Timeouts (seconds):
  --ping-interval=S     idle time before a keepalive ping (default ${DEFAULT_TIMING.pingIntervalMs / 1000})
  --idle-timeout=S      close after no message for S (default ${DEFAULT_TIMING.idleTimeoutMs / 1000})
  --sequence-timeout=S  per message inside an upload (default ${DEFAULT_TIMING.sequenceTimeoutMs / 1000})
  --lock-wait=S         a second connection of the same client waits this long (default ${DEFAULT_TIMING.lockWaitMs / 1000})
  --stall-timeout=S     a message trickling in, or a client not reading (default ${DEFAULT_TIMING.stallTimeoutMs / 1000})
  --handshake-timeout=S the whole Noise handshake (default 5)
`;

class UsageError extends CldcbError {
  constructor(message: string) {
    super('bad_input', message);
  }
}

const common = {
  'server-dir': { type: 'string' },
  pidfile: { type: 'string' },
} as const;

const daemonOptions = {
  ...common,
  port: { type: 'string' },
  bind: { type: 'string' },
  foreground: { type: 'boolean' },
  logfile: { type: 'string' },
  'log-level': { type: 'string' },
  maxcount: { type: 'string' },
  'max-connections': { type: 'string' },
  'reserved-connections': { type: 'string' },
  'max-per-address': { type: 'string' },
  'max-per-client': { type: 'string' },
  'unlisted-idle': { type: 'string' },
  'max-increment-bytes': { type: 'string' },
  'max-reupload-bytes': { type: 'string' },
  'min-log-bytes': { type: 'string' },
  'ping-interval': { type: 'string' },
  'idle-timeout': { type: 'string' },
  'sequence-timeout': { type: 'string' },
  'lock-wait': { type: 'string' },
  'stall-timeout': { type: 'string' },
  'handshake-timeout': { type: 'string' },
  'stop-grace': { type: 'string' },
  // Internal: the detached child reports "ready"/"error" on this fd to the parent.
  'notify-fd': { type: 'string' },
} as const;

type Parsed<O> = { values: { [K in keyof O]?: O[K] extends { type: 'boolean' } ? boolean : string }; positionals: string[] };

function parse<O extends Record<string, { type: 'string' | 'boolean' }>>(argv: string[], options: O, positionals: boolean): Parsed<O> {
  try {
    return parseArgs({ args: argv, options, allowPositionals: positionals, strict: true }) as unknown as Parsed<O>;
  } catch (e) {
    throw new UsageError(e instanceof Error ? (e.message.split('\n')[0] ?? 'bad arguments') : 'bad arguments');
  }
}

function intOption(v: string | undefined, flag: string, def: number, min: number, max: number): number {
  if (v === undefined) return def;
  if (!/^[0-9]+$/.test(v) || Number(v) < min || Number(v) > max) throw new UsageError(`${flag}: expected a whole number from ${min} to ${max}, got "${v}".`);
  return Number(v);
}

function secondsOption(v: string | undefined, flag: string, defMs: number): number {
  if (v === undefined) return defMs;
  if (!/^[0-9]+(\.[0-9]+)?$/.test(v) || Number(v) <= 0 || Number(v) > 86_400) throw new UsageError(`${flag}: expected seconds (0 < S ≤ 86400), got "${v}".`);
  return Math.round(Number(v) * 1000);
}

function serverDir(v: string | undefined): string {
  if (v !== undefined) {
    if (v === '') throw new UsageError('--server-dir must not be empty.');
    return path.resolve(v);
  }
  const home = process.env.HOME;
  if (!home) throw new UsageError('HOME is not set: give --server-dir=DIR.');
  return path.join(home, '.cldcb-server');
}

/** Relative pidfile/logfile names are inside the server directory (the original chdir()s there). */
const inDir = (dir: string, v: string | undefined, def: string): string => path.resolve(dir, v ?? def);

function admissionLimits(values: Parsed<typeof daemonOptions>['values']): AdmissionLimits {
  const maxConnections = intOption(values['max-connections'], '--max-connections', DEFAULT_ADMISSION.maxConnections, 1, 1_000_000);
  const reserved = intOption(
    values['reserved-connections'],
    '--reserved-connections',
    Math.min(DEFAULT_ADMISSION.reserved, Math.floor(maxConnections / 10)),
    0,
    maxConnections - 1,
  );
  return {
    maxConnections,
    reserved,
    perAddress: intOption(values['max-per-address'], '--max-per-address', DEFAULT_ADMISSION.perAddress, 1, 1_000_000),
    perClient: intOption(values['max-per-client'], '--max-per-client', DEFAULT_ADMISSION.perClient, 1, 1000),
    unlistedIdleMs: secondsOption(values['unlisted-idle'], '--unlisted-idle', DEFAULT_ADMISSION.unlistedIdleMs),
  };
}

export function daemonConfig(values: Parsed<typeof daemonOptions>['values']): { cfg: DaemonConfig; logLevel: LogLevel; logfile?: string; foreground: boolean } {
  const dir = serverDir(values['server-dir']);
  const logLevel = values['log-level'] ?? 'info';
  if (!isLogLevel(logLevel)) throw new UsageError(`--log-level: expected one of ${LOG_LEVELS.join(', ')}, got "${logLevel}".`);
  const bind = values.bind ?? '0.0.0.0';
  if (net_isIP(bind) === 0 && bind !== 'localhost') throw new UsageError(`--bind: expected an IP address (0.0.0.0, ::, 127.0.0.1…), got "${bind}".`);
  const foreground = values.foreground === true;
  const logfile = values.logfile !== undefined ? inDir(dir, values.logfile, DEFAULT_LOGFILE) : foreground ? undefined : inDir(dir, undefined, DEFAULT_LOGFILE);
  const idle = secondsOption(values['idle-timeout'], '--idle-timeout', 0);
  const pingIntervalMs = secondsOption(values['ping-interval'], '--ping-interval', DEFAULT_TIMING.pingIntervalMs);
  const cfg: DaemonConfig = {
    dir,
    port: intOption(values.port, '--port', DEFAULT_SERVER_PORT, 0, 65535),
    bind,
    pidfile: inDir(dir, values.pidfile, DEFAULT_PIDFILE),
    admission: admissionLimits(values),
    handshakeTimeoutMs: secondsOption(values['handshake-timeout'], '--handshake-timeout', 5000),
    stopGraceMs: secondsOption(values['stop-grace'], '--stop-grace', 3000),
    storage: {
      maxCount: intOption(values.maxcount, '--maxcount', DEFAULT_STORAGE_LIMITS.maxCount, 0, 65535),
      maxIncrementBytes: intOption(values['max-increment-bytes'], '--max-increment-bytes', DEFAULT_STORAGE_LIMITS.maxIncrementBytes, 1, Number.MAX_SAFE_INTEGER),
      maxReuploadBytes: intOption(values['max-reupload-bytes'], '--max-reupload-bytes', DEFAULT_STORAGE_LIMITS.maxReuploadBytes, 2, Number.MAX_SAFE_INTEGER),
      minLogBytes: intOption(values['min-log-bytes'], '--min-log-bytes', DEFAULT_STORAGE_LIMITS.minLogBytes, 0, Number.MAX_SAFE_INTEGER),
    },
    timing: {
      pingIntervalMs,
      idleTimeoutMs: idle > 0 ? idle : 3 * pingIntervalMs,
      sequenceTimeoutMs: secondsOption(values['sequence-timeout'], '--sequence-timeout', DEFAULT_TIMING.sequenceTimeoutMs),
      stallTimeoutMs: secondsOption(values['stall-timeout'], '--stall-timeout', DEFAULT_TIMING.stallTimeoutMs),
      lockWaitMs: secondsOption(values['lock-wait'], '--lock-wait', DEFAULT_TIMING.lockWaitMs),
    },
    rates: DEFAULT_RATES,
  };
  return { cfg, logLevel, logfile, foreground };
}



/** Report readiness to the parent that spawned us (daemonize), then close the pipe. */
function notify(fd: number | undefined, line: string): void {
  if (fd === undefined) return;
  try {
    writeSync(fd, line + '\n');
    closeSync(fd);
  } catch {
    /* the parent is gone */
  }
}

async function runForeground(values: Parsed<typeof daemonOptions>['values'], io: Io): Promise<number> {
  const notifyFd = values['notify-fd'] === undefined ? undefined : intOption(values['notify-fd'], '--notify-fd', 0, 3, 1000);
  let log: Logger | undefined;
  try {
    const { cfg, logLevel, logfile } = daemonConfig(values);
    ensureServerDir(cfg.dir);
    process.chdir(cfg.dir); // as the original: keep no other directory busy (all paths are absolute)
    log = createLogger(logLevel, logfile);
    const l = log;
    // A file-size limit (RLIMIT_FSIZE) must fail the write (EFBIG), not kill the server.
    process.on('SIGXFSZ', () => {});
    process.on('uncaughtException', (e) => {
      l.error(`BUG: uncaught ${errText(e)} — exiting`);
      process.exit(70);
    });
    const d = await startDaemon(cfg, l);
    notify(notifyFd, `ready ${d.port}`);
    await d.stopped;
    l.close();
    // Nothing should keep the loop alive now; if something does, do not hang the stop.
    setTimeout(() => process.exit(0), 2000).unref();
    return 0;
  } catch (e) {
    const msg = e instanceof CldcbError ? e.message : errText(e);
    log?.error(`cannot start: ${msg}`);
    log?.close();
    if (notifyFd !== undefined) notify(notifyFd, `error ${msg}`);
    else io.err(`cldcb-server daemon: ${msg}\n`);
    return 1;
  }
}

/** Detach: spawn ourselves with --foreground, wait until it listens (or fails). */
async function daemonize(argv: string[], io: Io): Promise<number> {
  const script = process.argv[1];
  if (!script) throw new CldcbError('internal', 'cannot find the cldcb-server program path to detach.');
  // The detached child logs to DIR/debug.log unless told otherwise (its stderr is /dev/null).
  const { cfg, logfile } = daemonConfig(parse(argv, daemonOptions, true).values);
  const extra = argv.some((a) => a === '--logfile' || a.startsWith('--logfile=')) ? [] : [`--logfile=${logfile ?? path.join(cfg.dir, DEFAULT_LOGFILE)}`];
  const child = spawn(process.execPath, [...process.execArgv, script, 'daemon', ...argv, ...extra, '--foreground', '--notify-fd=3'], {
    detached: true,
    stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
  });
  const pipe = child.stdio[3] as NodeJS.ReadableStream | null;
  const outcome = await new Promise<string>((resolve) => {
    let text = '';
    pipe?.on('data', (d: Buffer) => {
      text += d.toString('utf8');
      const nl = text.indexOf('\n');
      if (nl >= 0) resolve(text.slice(0, nl));
    });
    pipe?.on('error', () => {});
    child.once('exit', (code) => resolve(text.includes('\n') ? text.slice(0, text.indexOf('\n')) : `error the server exited (code ${code}) before it was ready`));
    child.once('error', (e) => resolve(`error cannot start the server process: ${errText(e)}`));
  });
  (pipe as unknown as { destroy?: () => void })?.destroy?.();
  child.unref();
  if (outcome.startsWith('ready')) {
    io.out('cldcb-server daemonizing.\n');
    return 0;
  }
  io.err(`cldcb-server daemon: ${outcome.replace(/^error /, '')}\n`);
  return 1;
}

/**
 * Signal the daemon the pidfile names — only when that pid is this directory's
 * cldcb-server (serverDir.ts notOurServer): a stale pidfile's pid may belong to anything.
 * @returns the pid signalled, or why nothing was.
 */
function signalDaemon(pidfile: string, dir: string, signal: NodeJS.Signals): { pid: number } | { why: string } {
  const pid = readPidfile(pidfile);
  if (pid === null) return { why: `no pidfile ${pidfile}` };
  const not = notOurServer(pid, dir);
  if (not !== null) return { why: `${pidfile}: ${not}; left alone` };
  try {
    process.kill(pid, signal);
    return { pid };
  } catch (e) {
    return { why: `cannot signal pid ${pid} (${(e as NodeJS.ErrnoException).code ?? 'error'})` };
  }
}

async function addRemove(cmd: 'add' | 'remove', argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, common, true);
  if (positionals.length === 0) throw new UsageError(`${cmd}: give at least one client id (c2…/c3…).`);
  const ids = positionals.map((p, i) => {
    try {
      return normaliseClientId(p, `client id ${i + 1}`);
    } catch (e) {
      throw new UsageError(errText(e));
    }
  });
  const dir = serverDir(values['server-dir']);
  ensureServerDir(dir);
  const { ids: now, dropped } = await changeClients(dir, (current) => {
    if (cmd === 'add') return [...current, ...ids.filter((id) => !current.includes(id))];
    return current.filter((id) => !ids.includes(id));
  });
  for (const d of dropped) io.err(`cldcb-server ${cmd}: dropped an invalid entry from clients: ${d.reason}\n`);
  io.out(`${cmd === 'add' ? 'Added' : 'Removed'} ${ids.length} client id${ids.length === 1 ? '' : 's'}; ${now.length} allowed.\n`);
  const sent = signalDaemon(inDir(dir, values.pidfile, DEFAULT_PIDFILE), dir, 'SIGHUP');
  if ('pid' in sent) io.out('Triggered reload at server.\n');
  else io.out(`No running server found (${sent.why}); it reads the list when it starts.\n`);
  return 0;
}

async function stopCmd(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, common, false);
  const dir = serverDir(values['server-dir']);
  const pidfile = inDir(dir, values.pidfile, DEFAULT_PIDFILE);
  const sent = signalDaemon(pidfile, dir, 'SIGINT');
  if (!('pid' in sent)) {
    io.err(`cldcb-server stop: no running server (${sent.why}).\n`);
    return 1;
  }
  const pid = sent.pid;
  const deadline = Date.now() + 30_000;
  while (processAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (processAlive(pid)) {
    io.err(`cldcb-server stop: sent SIGINT to pid ${pid}, but it is still running after 30 s.\n`);
    return 1;
  }
  io.out(`Stopped cldcb-server (pid ${pid}).\n`);
  return 0;
}

export async function runServerCli(argv: string[], io: Io = processIo): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    (cmd === undefined ? io.err : io.out)(USAGE);
    return cmd === undefined ? 2 : 0;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(USAGE);
    return 0;
  }
  try {
    switch (cmd) {
      case 'daemon': {
        const { values, positionals } = parse(rest, daemonOptions, true);
        if (positionals.length > 0) throw new UsageError(`daemon: unexpected argument "${positionals[0]}".`);
        daemonConfig(values); // validate before detaching
        if (values.foreground) return await runForeground(values, io);
        return await daemonize(rest, io);
      }
      case 'add':
      case 'remove':
        return await addRemove(cmd, rest, io);
      case 'stop':
        return await stopCmd(rest, io);
      default:
        io.err(`cldcb-server: unknown command "${cmd}".\n${USAGE.split('\n')[0]}\n`);
        return 2;
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`cldcb-server ${cmd}: ${e.message}\n${USAGE.split('\n')[0]}\n`);
      return 2;
    }
    io.err(`cldcb-server ${cmd}: ${toErrorData(e).message}\n`);
    return 1;
  }
}

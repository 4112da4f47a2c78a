/**
 * The daemon: listen, accept, handshake, one Session per connection; SIGHUP reloads
 * `clients`; SIGINT/SIGTERM stop gracefully (stop accepting, let writes in progress finish
 * for a short grace period, roll back the rest, flush the small files, remove the pidfile).
 *
 * Errors are handled per connection (session.ts): a hostile or broken client only ever
 * ends its own connection. The process-wide `uncaughtException` hook is not an error
 * mechanism here; it only records a bug in the log before the process dies.
 */
import net from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { bytesToHex, hexToBytes, zeroize } from '../shared/bytes';
import { acceptNoise, BUSY_REFUSAL } from '../shared/node/noiseSocket';
import { Admission, type AdmissionLimits } from './admission';
import { AllowList, CLIENTS_FILE } from './clients';
import { KeyedLock } from './keyedLock';
import { errText, type Logger } from './log';
import { ReadVerifierStore } from './readVerifiers';
import { RecognitionStore } from './recognitionStore';
import {
  checkPidfile,
  ensureServerDir,
  loadOrCreateServerKey,
  removePidfile,
  removePortFile,
  writePidfile,
  writePortFile,
} from './serverDir';
import { defaultAddressRates, Session, type SessionRates, type SessionTiming } from './session';
import { ArchiveStore, MAX_OPEN_HANDLES, type StorageLimits } from './storage';

export interface DaemonConfig {
  readonly dir: string;
  readonly port: number;
  readonly bind: string;
  readonly pidfile: string;
  /** Connection limits and who may be evicted (admission.ts). */
  readonly admission: AdmissionLimits;
  /** The whole Noise handshake (act 1 in, act 2 out, act 3 in) must finish within this. */
  readonly handshakeTimeoutMs: number;
  /** Grace period for writes in progress when stopping. */
  readonly stopGraceMs: number;
  readonly storage: StorageLimits;
  readonly timing: SessionTiming;
  readonly rates: SessionRates;
}

export interface RunningDaemon {
  readonly port: number;
  readonly serverId: string;
  /** Resolves when the daemon has stopped (after a signal or `stop()`). */
  readonly stopped: Promise<void>;
  stop(reason: string): Promise<void>;
}

function listen(server: net.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    server.once('error', onError);
    server.listen({ port, host, exclusive: true }, () => {
      server.off('error', onError);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

/** The soft RLIMIT_NOFILE of this process (Linux /proc), or undefined when unknown or unlimited. */
function openFileLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m && m[1] !== 'unlimited' ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Connections past the open-file limit are not refused by us but dropped by the kernel
 * and libuv before we see them (EMFILE), allow-listed clients included; so the limits must
 * fit: connections + kept archive handles (storage.ts) + files of writes in progress and
 * logs. Node cannot raise its own limit (systemd: LimitNOFILE=; a shell: ulimit -n).
 */
function fitToOpenFileLimit(l: AdmissionLimits, log: Logger): AdmissionLimits {
  const soft = openFileLimit();
  const overhead = MAX_OPEN_HANDLES + 64;
  if (soft === undefined || soft >= l.maxConnections + overhead) return l;
  const maxConnections = Math.max(16, soft - overhead);
  const reserved = Math.min(l.reserved, Math.floor(maxConnections / 2));
  log.warn(
    `the open-file limit is ${soft} (ulimit -n): --max-connections=${l.maxConnections} plus ${overhead} files for archives and logs do not fit; using ${maxConnections} connections (${reserved} reserved for allow-listed clients). Raise the limit (systemd LimitNOFILE=, ulimit -n) to allow more.`,
  );
  return { ...l, maxConnections, reserved };
}

/**
 * Start the daemon in this process. `server_id` is written before the port listens; the
 * pidfile and `port` file after.
 * @throws CldcbError for an unusable server directory, key or pidfile; Error with `code`
 *   (EADDRINUSE, EACCES…) when the port cannot be listened on.
 */
export async function startDaemon(cfg: DaemonConfig, log: Logger): Promise<RunningDaemon> {
  ensureServerDir(cfg.dir);
  checkPidfile(cfg.pidfile, cfg.dir);

  const archives = new ArchiveStore(cfg.dir, log, cfg.storage);
  const removed = await archives.cleanStaleTemps();
  for (const name of removed) log.warn(`removed stale temp file ${name} (left by an interrupted write)`);

  const clients = new AllowList();
  const loadClients = (why: string, reloading = false): void => {
    let text = '';
    try {
      text = readFileSync(path.join(cfg.dir, CLIENTS_FILE), 'utf8');
    } catch (e) {
      // At start a missing file means nobody may write yet; on a reload, as the original,
      // a file that cannot be read (even a missing one) leaves the list as it was.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || reloading) {
        log.warn(`${why}: cannot read ${CLIENTS_FILE} (${errText(e)}); keeping the previous list of ${clients.size}`);
        return;
      }
    }
    const parsed = clients.load(text);
    for (const bad of parsed.invalid) log.warn(`${CLIENTS_FILE}: ignored ${bad.reason}`);
    log.info(`${why}: ${clients.size} allowed clients`);
  };
  loadClients('loaded clients');

  const recognition = new RecognitionStore(cfg.dir);
  for (const s of await recognition.load()) log.warn(`ignored a line: ${s}`);
  const verifiers = new ReadVerifierStore(cfg.dir);
  for (const s of await verifiers.load()) log.warn(`ignored a line: ${s}`);
  log.info(`loaded ${recognition.size} recognition codes, ${verifiers.size} read verifiers, ${await archives.countArchives()} archives`);

  // The key and server_id last, right before listening: whoever reads server_id can connect.
  const key = loadOrCreateServerKey(cfg.dir);
  if (key.created) log.info(`created a new server key in ${path.join(cfg.dir, 'secret')}`);
  if (key.fixedMode !== undefined)
    log.warn(
      `${path.join(cfg.dir, 'secret')} was mode ${key.fixedMode.toString(8).padStart(4, '0')} (readable by others); changed to 0400. Whoever could read it can impersonate this server to its clients: if that may have happened, make a new key (move secret away, restart) and give the clients the new server id.`,
    );

  const limits = fitToOpenFileLimit(cfg.admission, log);
  const admission = new Admission(limits);
  const ctx = { log, clients, recognition, verifiers, archives, locks: new KeyedLock(), timing: cfg.timing, rates: cfg.rates, addressRates: defaultAddressRates() };
  const handshaking = new Set<net.Socket>();
  const sessions = new Set<Session>();
  const tasks = new Set<Promise<void>>();
  let refusing = 0;
  let seq = 0;
  let stopping = false;

  /**
   * Every slot holds an allow-listed session: say so in plain bytes (noiseSocket.ts
   * BUSY_REFUSAL; an original client just sees a failed handshake), close after the client
   * has had the chance to read it (closing with its act 1 unread would reset the connection
   * and lose the line), and never keep more than a few such sockets.
   */
  const refuse = (socket: net.Socket): void => {
    if (refusing >= 64) return void socket.destroy();
    refusing++;
    socket.on('data', () => {}); // read and drop act 1
    socket.end(BUSY_REFUSAL);
    const timer = setTimeout(() => socket.destroy(), 2000);
    socket.once('close', () => {
      clearTimeout(timer);
      refusing--;
    });
  };

  // Evictions and refusals are summed up in one line: 1 s after the first (a flood comes in
  // bursts), then at most once per 10 s while they go on.
  let seen = { ...admission.stats.evicted, refused: admission.stats.refused };
  let lastPressureLog = 0;
  let pressureTimer: ReturnType<typeof setTimeout> | undefined;
  const logPressure = (): void => {
    pressureTimer = undefined;
    lastPressureLog = Date.now();
    const st = admission.stats;
    const now = { ...st.evicted, refused: st.refused };
    const before = seen;
    seen = now;
    const d = (k: keyof typeof now): number => now[k] - before[k];
    const busiest = admission.busiestAddresses().map(([a, n]) => `${a} (${n})`).join(', ');
    log.warn(
      `connection pressure: evicted ${d('address') + d('unprivileged') + d('client')} (${d('address')} over the per-address limit, ${d('unprivileged')} over the limit for keys not on the allow-list, ${d('client')} over the per-client limit), refused ${d('refused')} (every slot allow-listed); now ${st.pending} handshaking, ${st.unlisted} not allow-listed, ${st.listed} allow-listed${busiest ? `; busiest addresses: ${busiest}` : ''}`,
    );
  };
  const notePressure = (): void => {
    if (pressureTimer || stopping) return;
    pressureTimer = setTimeout(logPressure, Math.max(1000, lastPressureLog + 10_000 - Date.now()));
    pressureTimer.unref();
  };

  const server = net.createServer({ pauseOnConnect: false, noDelay: true });
  server.on('connection', (socket) => {
    socket.on('error', () => {}); // per-socket errors surface through the reader; never crash
    if (stopping) {
      socket.destroy();
      return;
    }
    let session: Session | undefined;
    const ticket = admission.admit(socket.remoteAddress, (reason) => {
      if (!reason.startsWith('idle')) notePressure();
      if (session) session.stop(reason);
      else socket.destroy();
    });
    if (!ticket) {
      notePressure();
      log.debug(`${socket.remoteAddress}:${socket.remotePort}: refused (busy): all ${limits.maxConnections} connections are allow-listed sessions`);
      refuse(socket);
      return;
    }
    const id = ++seq;
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    handshaking.add(socket);
    const task = (async () => {
      let conn;
      try {
        conn = await acceptNoise(socket, { localStatic: key.privateKey, timeoutMs: cfg.handshakeTimeoutMs, totalTimeoutMs: cfg.handshakeTimeoutMs });
      } catch (e) {
        if (ticket.evicted !== undefined) log.debug(`conn#${id} ${peer}: ${ticket.evicted} (during the handshake)`);
        // debug: anyone can fail handshakes by the thousand; the client learns its own error.
        else log.debug(`conn#${id} ${peer}: handshake failed: ${errText(e)}`);
        return;
      } finally {
        handshaking.delete(socket);
      }
      if (stopping || ticket.evicted !== undefined) {
        conn.close();
        return;
      }
      admission.authenticated(ticket, bytesToHex(conn.remoteStatic), clients.has(conn.remoteStatic));
      if (ticket.evicted !== undefined) {
        conn.close();
        return;
      }
      session = new Session(conn, ctx, id, ticket.address, { request: (started) => admission.request(ticket, started) });
      const s = session;
      sessions.add(s);
      try {
        await s.run();
      } finally {
        sessions.delete(s);
      }
    })()
      .catch((e: unknown) => log.error(`conn#${id} ${peer}: ${errText(e)}`))
      .finally(() => {
        admission.release(ticket);
        tasks.delete(task);
      });
    tasks.add(task);
  });

  // Unlisted sessions idle too long go.
  const sweep = setInterval(() => admission.sweepIdle(), Math.min(5000, Math.max(100, limits.unlistedIdleMs / 4)));
  sweep.unref();
  server.on('error', (e) => log.error(`listener: ${errText(e)}`));

  const port = await listen(server, cfg.port, cfg.bind);
  writePidfile(cfg.pidfile);
  writePortFile(cfg.dir, port);
  log.info(`listening on ${cfg.bind.includes(':') ? `[${cfg.bind}]` : cfg.bind}:${port} as server ${key.serverId} (pid ${process.pid})`);

  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => (resolveStopped = r));
  let stopPromise: Promise<void> | undefined;

  const stop = (reason: string): Promise<void> => {
    stopPromise ??= (async () => {
      stopping = true;
      clearInterval(sweep);
      clearTimeout(pressureTimer);
      log.info(`stopping (${reason}): ${sessions.size} connections, ${[...sessions].filter((s) => s.writing).length} writing`);
      server.close();
      for (const s of handshaking) s.destroy();
      for (const s of sessions) s.stop('server stopping', cfg.stopGraceMs);
      const deadline = new Promise<void>((r) => setTimeout(r, cfg.stopGraceMs + 5000).unref());
      await Promise.race([Promise.allSettled([...tasks]), deadline]);
      await Promise.race([Promise.allSettled([recognition.flush(), verifiers.flush(), archives.closeAll()]), deadline]);
      removePidfile(cfg.pidfile);
      removePortFile(cfg.dir, port);
      zeroize(key.privateKey);
      process.off('SIGHUP', onHup);
      process.off('SIGUSR2', onUsr2);
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      log.info('stopped');
      resolveStopped();
    })();
    return stopPromise;
  };
  const onHup = (): void => {
    loadClients('SIGHUP: reloaded clients', true);
    admission.reclassify((hex) => clients.has(hexToBytes(hex)));
  };
  // Diagnostics: SIGUSR2 logs memory use. With --expose-gc it first collects garbage twice,
  // 200 ms apart: freed buffers leave the arrayBuffers count only once V8 has swept them.
  const onUsr2 = (): void => {
    const gc = (globalThis as { gc?: () => void }).gc;
    const report = (): void => {
      gc?.();
      const m = process.memoryUsage();
      log.info(
        `memory: rss=${m.rss} heapUsed=${m.heapUsed} external=${m.external} arrayBuffers=${m.arrayBuffers} connections=${sessions.size} handshaking=${handshaking.size} allow-listed=${admission.stats.listed}`,
      );
    };
    if (!gc) return report();
    gc();
    setTimeout(report, 200).unref();
  };
  const onInt = (): void => void stop('SIGINT');
  const onTerm = (): void => void stop('SIGTERM');
  process.on('SIGHUP', onHup);
  process.on('SIGUSR2', onUsr2);
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);

  return { port, serverId: key.serverId, stopped, stop };
}

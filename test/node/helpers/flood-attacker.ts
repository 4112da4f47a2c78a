/**
 * A connection flood against a cldcb-server, run as its own process (bundled and forked by
 * test/node/helpers/flood.ts) so its work does not share an event loop with the measurement.
 *
 * Two kinds of hostile connection, each kept at its target count:
 *   plain  a TCP connection that sends nothing (holds a handshake slot)
 *   noise  a finished Noise handshake with a fresh unknown key, answering every ping with a
 *          pong (an unknown key's session, kept alive as a live client would)
 * The sessions are opened first, then the plain connections. Source addresses rotate over
 * the list given (loopback: 127.0.0.0/8 is all local on Linux).
 * Closed connections are reopened, at most `reopenPerSec` per second in total (a persistent
 * attacker). Messages on the IPC channel: {cmd:'stats'} → stats; {cmd:'stop'} → exit.
 */
import net from 'node:net';
import { hexToBytes } from '../../../shared/bytes';
import { encodeMessage, MSG } from '../../../shared/cldcb/messages';
import { randomPrivateKey } from '../../../shared/noise/primitives';
import { dialNoise } from '../../../shared/node/noiseSocket';

export interface FloodConfig {
  readonly port: number;
  readonly serverPub: string;
  readonly plain: number;
  readonly noise: number;
  readonly addresses: readonly string[];
  readonly reopenPerSec: number;
  /** Connection attempts in flight at once. */
  readonly concurrency: number;
}

export interface FloodStats {
  /** Open now, by kind. */
  plainOpen: number;
  noiseOpen: number;
  /** Connections opened so far (handshake done for noise). */
  plainOpened: number;
  noiseOpened: number;
  /** Closed by the server (evicted, timed out). */
  closedByServer: number;
  /** Attempts that failed (refused, handshake failed). */
  failed: number;
  /** Every kind reached its target once (or tried to). */
  ramped: boolean;
}

const cfg = JSON.parse(process.argv[2]!) as FloodConfig;
const serverPub = hexToBytes(cfg.serverPub);
const stats: FloodStats = {
  plainOpen: 0,
  noiseOpen: 0,
  plainOpened: 0,
  noiseOpened: 0,
  closedByServer: 0,
  failed: 0,
  ramped: false,
};
let stopping = false;
let addressTurn = 0;
const nextAddress = (): string => cfg.addresses[addressTurn++ % cfg.addresses.length]!;
const closers = new Set<() => void>();

function openPlain(): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port: cfg.port, localAddress: nextAddress() });
    let open = false;
    s.on('error', () => {});
    s.on('data', () => {}); // a "CLDCB busy" line, if any
    s.once('connect', () => {
      open = true;
      stats.plainOpen++;
      stats.plainOpened++;
      const close = (): void => void s.destroy();
      closers.add(close);
      s.once('close', () => {
        closers.delete(close);
        stats.plainOpen--;
        if (!stopping) stats.closedByServer++;
        lost('plain');
      });
      resolve();
    });
    s.once('close', () => {
      if (!open) {
        stats.failed++;
        lost('plain');
        resolve();
      }
    });
  });
}

async function openNoise(): Promise<void> {
  let conn;
  try {
    conn = await dialNoise({
      host: '127.0.0.1',
      port: cfg.port,
      localAddress: nextAddress(),
      localStatic: randomPrivateKey(),
      remoteStatic: serverPub,
      timeoutMs: 10_000,
    });
  } catch {
    stats.failed++;
    lost('noise');
    return;
  }
  stats.noiseOpen++;
  stats.noiseOpened++;
  const c = conn;
  const close = (): void => c.close();
  closers.add(close);
  void (async () => {
    const pong = encodeMessage(MSG.pong, []);
    try {
      for (;;) {
        const m = await c.receive();
        if (m[0] === 0 && m[1] === MSG.ping) await c.send(pong);
      }
    } catch {
      /* closed */
    }
    closers.delete(close);
    stats.noiseOpen--;
    if (!stopping) stats.closedByServer++;
    lost('noise');
  })();
}

// Opening: the initial ramp (sessions first), then whatever was lost, alternating between the
// kinds so both stay in play; drained under the concurrency and rate limits.
const queue: ('plain' | 'noise')[] = [];
const lostQueue = { plain: 0, noise: 0 };
let nextKind: 'plain' | 'noise' = 'plain';
let inFlight = 0;
let tokens = 0;
let rampedCount = 0;
const ramp = cfg.plain + cfg.noise;

function lost(kind: 'plain' | 'noise'): void {
  if (!stopping) lostQueue[kind]++;
}

/** The next kind to reopen: alternate, skipping a kind with nothing lost. */
function takeLost(): 'plain' | 'noise' | undefined {
  const other = nextKind === 'plain' ? 'noise' : 'plain';
  const kind = lostQueue[nextKind] > 0 ? nextKind : lostQueue[other] > 0 ? other : undefined;
  if (kind === undefined) return undefined;
  lostQueue[kind]--;
  nextKind = kind === 'plain' ? 'noise' : 'plain';
  return kind;
}

function pump(): void {
  while (!stopping && inFlight < cfg.concurrency) {
    const ramping = queue.length > 0;
    if (!ramping && (tokens < 1 || lostQueue.plain + lostQueue.noise === 0)) return;
    const kind = ramping ? queue.shift()! : takeLost()!;
    if (!ramping) tokens--;
    inFlight++;
    if (ramping && ++rampedCount === ramp) stats.ramped = true;
    void (kind === 'plain' ? openPlain() : openNoise()).finally(() => {
      inFlight--;
      pump();
    });
  }
}

// Sessions first: on a server that only counts connections, they fill every slot for good
// (a pong answers each keepalive ping), and the plain connections then find none free.
for (let i = 0; i < cfg.noise; i++) queue.push('noise');
for (let i = 0; i < cfg.plain; i++) queue.push('plain');
const refill = setInterval(() => {
  tokens = Math.min(cfg.reopenPerSec, tokens + cfg.reopenPerSec / 20);
  pump();
}, 50);
pump();

process.on('message', (m: { cmd: string }) => {
  if (m.cmd === 'stats') process.send!({ stats });
  if (m.cmd === 'stop') {
    stopping = true;
    clearInterval(refill);
    for (const c of closers) c();
    setTimeout(() => process.exit(0), 200);
  }
});
process.on('disconnect', () => process.exit(0));

/**
 * The network guard: where the desktop app's promise "no network connection unless the
 * operator turns on online mode for that action" is enforced (SECURITY.md).
 *
 * Every outgoing connection the Node-side services open asks `assertMayConnect` first
 * (noiseSocket.ts tcpConnect, cldcbClient.ts socksTunnel). The answer comes from the
 * network scope of the action that is running — an AsyncLocalStorage context, so it follows
 * the action into its promises and timers without being passed through every call:
 *  - the app's backend runs every IPC request in a scope with `online: false`, and only an
 *    action the operator confirmed in the main process's own dialog runs with `online: true`
 *    (electron/handlers.ts, electron/handlers/recover.ts) — what the renderer sends never
 *    opens the network by itself;
 *  - outside any scope: the command-line programs, the server and the plugin are network
 *    programs (their flags and config name the server), so connections are allowed — unless
 *    the process is the desktop app, which calls `restrictUnscopedToLoopback()` at start so
 *    that anything escaping a scope fails closed.
 * Loopback addresses (127.0.0.0/8, ::1) are always allowed: the drill demo runs its own
 * server and plugin on this computer. Host *names* (even "localhost") and SOCKS proxies count
 * as the network: a name can resolve anywhere, a proxy exists to reach beyond this computer.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { isIP } from 'node:net';
import { CldcbError } from '../errors';

export interface NetworkScope {
  /** May this action connect beyond this computer? */
  readonly online: boolean;
  /** The action, as the operator would name it (shown when a connection is refused). */
  readonly action: string;
}

const scopes = new AsyncLocalStorage<NetworkScope>();
let unscoped: 'allowed' | 'loopback-only' = 'allowed';

/** Run `fn` (and everything it starts) in the network scope of one action. */
export function withNetworkScope<T>(scope: NetworkScope, fn: () => T): T {
  return scopes.run(scope, fn);
}

/** The desktop app's main process: connections made outside any action's scope are loopback-only. One-way. */
export function restrictUnscopedToLoopback(): void {
  unscoped = 'loopback-only';
}

/** A literal loopback address: 127.0.0.0/8, ::1, or IPv4-mapped 127.x (names never count). */
export function isLoopbackAddress(host: string): boolean {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) !== 6) return false;
  // The URL parser writes IPv6 in its one canonical form: ::1, and ::ffff:7fxx:xxxx for 127.x.x.x.
  let canonical: string;
  try {
    canonical = new URL(`http://[${h}]/`).hostname;
  } catch {
    return false; // e.g. a zone id (fe80::1%eth0): link-local, not loopback
  }
  return canonical === '[::1]' || /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(canonical);
}

/**
 * Check that the running action may open a connection to `host:port` (`via: 'socks'` for a
 * tunnel through a SOCKS proxy). Call it before the socket is created.
 * @throws CldcbError offline, naming the action and the destination; nothing was sent.
 */
export function assertMayConnect(host: string, port: number, via: 'direct' | 'socks' = 'direct'): void {
  const scope = scopes.getStore();
  const online = scope ? scope.online : unscoped === 'allowed';
  if (online) return;
  if (via === 'direct' && isLoopbackAddress(host)) return;
  const where = `${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}${via === 'socks' ? ' (through a SOCKS proxy)' : ''}`;
  throw new CldcbError(
    'offline',
    `${scope?.action ?? 'The app'} may not connect to ${where}: online mode was not granted for this action. Nothing was sent. ` +
      'Switch on online mode for the action and confirm it, or work from a copy of the server directory.',
  );
}

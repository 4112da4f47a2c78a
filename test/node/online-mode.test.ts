/**
 * "No network connection unless the operator turns on online mode for that action"
 * (SECURITY.md), enforced in the backend, not the renderer:
 *  - the network guard (shared/node/networkGuard.ts) refuses every non-loopback
 *    connection in an action that was not granted online mode;
 *  - a handler asked by the renderer with `online: true` goes online only when the host's
 *    confirmation (the main process's own dialog) says yes, and for that action only.
 * The "network" here is a TCP listener reached by a host *name* (so the guard treats it as the
 * network); it records every connection, so a test fails the moment one gets through.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server, type Socket } from 'node:net';
import { lookup } from 'node:dns/promises';
import type { Backend, OnlineRequest } from '../../electron/handlers';
import { testBackend } from './helpers/handlers';
import { assertMayConnect, isLoopbackAddress, withNetworkScope } from '../../shared/node/networkGuard';
import { CldcbClient } from '../../shared/node/cldcbClient';
import { searchEntries } from '../../shared/node/recovery/engine';
import { CldcbError, type Result } from '../../shared/errors';
import { nobleSecp } from '../../shared/cldcb/curve';

const SID = '53a4684420eed17f05508233500cf0c03fad14d62fc8fd7b3d62f54f9a2ef14bad';
const NODE_SECRET = '11'.repeat(32);

let server: Server;
let port = 0;
const connections: Socket[] = [];

beforeAll(async () => {
  // Listen where "localhost" resolves, so a connection by that name arrives here.
  const { address } = await lookup('localhost');
  server = createServer((s) => {
    connections.push(s);
    s.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  port = (server.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const caught = async (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e);

describe('the network guard', () => {
  it('knows loopback by its address, never by a name', () => {
    for (const h of ['127.0.0.1', '127.9.8.7', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1']) expect(isLoopbackAddress(h), h).toBe(true);
    for (const h of ['localhost', '10.0.0.1', '128.0.0.1', '::2', '::ffff:8.8.8.8', 'fe80::1%eth0', 'example.com', '127.0.0.1.nip.io', ''])
      expect(isLoopbackAddress(h), h).toBe(false);
  });

  it('in an action without online mode: loopback only, and never through a proxy', () => {
    withNetworkScope({ online: false, action: 'Test' }, () => {
      expect(() => assertMayConnect('127.0.0.1', 1)).not.toThrow();
      for (const [host, via] of [['203.0.113.5', 'direct'], ['localhost', 'direct'], ['127.0.0.1', 'socks']] as const) {
        const e = (() => {
          try {
            assertMayConnect(host, 9, via);
          } catch (x) {
            return x;
          }
        })();
        expect(e, `${host} ${via}`).toBeInstanceOf(CldcbError);
        expect((e as CldcbError).code).toBe('offline');
        expect((e as CldcbError).message).toMatch(/^Test may not connect to .*:9.*online mode was not granted/);
      }
    });
    withNetworkScope({ online: true, action: 'Test' }, () => expect(() => assertMayConnect('203.0.113.5', 9, 'socks')).not.toThrow());
  });

  it('holds the cldcb client to the action: no connection leaves an offline action, a granted one connects', async () => {
    const key = new Uint8Array(32).fill(1);
    const serverKey = nobleSecp.publicKey(new Uint8Array(32).fill(2));
    const dial = () => CldcbClient.connect({ host: 'localhost', port, serverKey, clientPrivateKey: key, connectTimeoutMs: 2_000 });
    const before = connections.length;
    const refused = await withNetworkScope({ online: false, action: 'Test' }, () => caught(dial()));
    expect(refused).toMatchObject({ code: 'offline' });
    expect(connections.length).toBe(before);
    // Through a SOCKS proxy on loopback too: a proxy reaches beyond this computer.
    const proxied = await withNetworkScope({ online: false, action: 'Test' }, () =>
      caught(CldcbClient.connect({ host: 'localhost', port, serverKey, clientPrivateKey: key, connectTimeoutMs: 2_000, proxy: { host: '127.0.0.1', port } })),
    );
    expect(proxied).toMatchObject({ code: 'offline' });
    expect(connections.length).toBe(before);
    // The same dial, granted: it reaches the listener (which hangs up: no cldcb server there).
    await withNetworkScope({ online: true, action: 'Test' }, () => caught(dial()));
    expect(connections.length).toBe(before + 1);
  });

  it("holds the recovery engine to it even when the engine's own online flag says yes", async () => {
    const before = connections.length;
    const e = await withNetworkScope({ online: false, action: 'Test' }, () =>
      caught(searchEntries({ nodePrivateKey: new Uint8Array(32).fill(3), sources: [{ kind: 'server', address: `${SID}@localhost:${port}` }], online: true, inline: true })),
    );
    expect(e).toMatchObject({ code: 'offline' });
    expect(connections.length).toBe(before);
  });
});

describe('recover.startSearch: the renderer asks, the main process grants', () => {
  let asked: OnlineRequest[];
  /** A backend whose confirmation dialog gives `answers` in turn (none: the host has no dialog). */
  const backend = (...answers: boolean[]): Backend => {
    asked = [];
    return testBackend(answers.length === 0 ? {} : { confirmOnline: async (r: OnlineRequest) => (asked.push(r), answers.shift() ?? false) });
  };
  const call = (b: Backend, channel: string, input: unknown) => b.dispatch(channel, input, 'app://cldcb/index.html') as Promise<Result<{ jobId: string }>>;
  async function search(b: Backend): Promise<Result<{ jobId: string }>> {
    if (!((await b.dispatch('secret.current', {}, 'app://cldcb/index.html')) as Result<unknown> & { value?: unknown }).value)
      expect(await call(b, 'secret.loadText', { text: NODE_SECRET })).toMatchObject({ ok: true });
    return call(b, 'recover.startSearch', { sources: [{ kind: 'server', address: `${SID}@localhost:${port}` }], online: true });
  }
  async function settle(b: Backend, jobId: string): Promise<void> {
    for (let i = 0; i < 200; i++) {
      const s = (await b.dispatch('job.status', { jobId }, 'app://cldcb/index.html')) as Result<{ state: string }>;
      if (s.ok && s.value.state !== 'running') return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error('the search job did not finish');
  }

  it('`online: true` from the renderer without a confirmation dialog: refused, nothing sent', async () => {
    const before = connections.length;
    const b = backend();
    const r = await search(b);
    expect(r).toMatchObject({ ok: false, error: { code: 'offline', message: expect.stringMatching(/not confirmed.*nothing was sent/) } });
    expect(connections.length).toBe(before);
    b.dispose();
  });

  it('`online: true` and the operator answers "Stay offline": refused, nothing sent', async () => {
    const before = connections.length;
    const b = backend(false);
    const r = await search(b);
    expect(asked).toEqual([{ action: 'Find your entries on the backup server', destination: `${SID}@localhost:${port}` }]);
    expect(r).toMatchObject({ ok: false, error: { code: 'offline' } });
    expect(connections.length).toBe(before);
    b.dispose();
  });

  it('the operator confirms: this action reaches the server; the next one asks again', async () => {
    const before = connections.length;
    const b = backend(true, false);
    const r = await search(b);
    expect(r.ok).toBe(true);
    await settle(b, (r as { value: { jobId: string } }).value.jobId);
    const reached = connections.length;
    expect(reached).toBeGreaterThan(before);
    // The grant was for that action: the same request again is asked again, and refused.
    expect(await search(b)).toMatchObject({ ok: false, error: { code: 'offline' } });
    expect(asked).toHaveLength(2);
    expect(connections.length).toBe(reached);
    b.dispose();
  });
});

/**
 * A truncated copy of a server directory (issue 14 #3): recovery never claims a torn tail "was
 * never acknowledged", says what is known (the archive ends inside an increment; the last
 * complete one is data_version N at time T), and reports the copy as stale — the database put
 * aside, exit 3 — when the server's own record (our server's debug.log, which logs every
 * increment it acknowledged) or the operator's last known data_version says it is behind.
 *
 * Real programs: our cldcb-server (its log in the directory, --logfile=debug.log), the plugin
 * fed the real lightningd trace (test/fixtures/lightningd/channel-node), then copies of the
 * server directory cut at an increment boundary or inside an increment.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCliCaptured } from './helpers/cli';
import { EXIT_STALE } from '../../cli/commands/recover';
import { readArchive } from '../../shared/cldcb/arch';
import { formatClientId } from '../../shared/cldcb/ids';
import { publicKeyOf } from '../../shared/noise/primitives';
import { buildPlugin } from './helpers/plugin-build';
import { FIX, loadNode, playCalls, setupClient, startDriver, type NodeFixture } from './helpers/plugin-fixtures';
import { ensureServerBuilt, startServer } from './helpers/server-harness';

let work: string;
let channel: NodeFixture;
/** The server directory after the node backed up its whole trace (the server stopped). */
let serverDir: string;
let cid: string;
/** Byte offsets of each increment's start in the archive, and the archive. */
let starts: number[];
let archive: Buffer;

beforeAll(async () => {
  await Promise.all([buildPlugin(), ensureServerBuilt()]);
  work = mkdtempSync(path.join(tmpdir(), 'cldcb-recover-truncated-'));
  channel = await loadNode('channel-node');
  serverDir = path.join(work, 'server');
  mkdirSync(serverDir, { mode: 0o700 });
  const clientPriv = new Uint8Array(randomBytes(32));
  cid = formatClientId(publicKeyOf(clientPriv, 'client'));
  writeFileSync(path.join(serverDir, 'clients'), `${cid}\n`);
  const srv = await startServer(serverDir, { args: ['--logfile=debug.log'], logLevel: 'info' });
  try {
    const s = setupClient(work, channel, { port: srv.port, serverKey: srv.serverPub }, clientPriv);
    const d = startDriver(s);
    await d.getmanifest();
    await playCalls(d, channel.trace.slice(0, 4));
    await d.init();
    await playCalls(d, channel.trace.slice(4));
    await d.stop();
  } finally {
    await srv.stop();
  }
  archive = readFileSync(path.join(serverDir, `${cid}.arch`));
  starts = readArchive(archive).flatMap((e) => (e.type === 'incrementStart' ? [e.offset!] : []));
  expect(starts.length).toBe(channel.trace.length);
}, 240_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

let n = 0;
/** A copy of the server directory whose archive is cut at `bytes`; with or without the server's log. */
function cutCopy(bytes: number, withLog: boolean): string {
  const d = path.join(work, `copy-${n++}`);
  mkdirSync(d);
  for (const f of ['recognition_codes', 'clients', 'server_id', ...(withLog ? ['debug.log'] : [])]) copyFileSync(path.join(serverDir, f), path.join(d, f));
  writeFileSync(path.join(d, `${cid}.arch`), archive.subarray(0, bytes));
  return d;
}

async function recoverJson(from: string, extra: string[] = []): Promise<{ code: number; v: Record<string, unknown>; ld: string }> {
  const ld = path.join(work, `ld-${n++}`);
  mkdirSync(ld);
  copyFileSync(path.join(FIX, channel.name, 'hsm_secret'), path.join(ld, 'hsm_secret'));
  const r = await runCliCaptured(['recover', `--lightning-dir=${ld}`, `--from=${from}`, '--shost=127.0.0.1', '--json', ...extra]);
  return { code: r.code, v: JSON.parse(r.stdout) as Record<string, unknown>, ld };
}

const lastDvOf = (k: number): number => channel.trace[k - 1]!.data_version;

describe('a truncated copy of a server directory', () => {
  it('cut inside an increment, no other record: the facts, never "never acknowledged"; exit 0 but the verdict asks to confirm', async () => {
    const k = 200; // 200 complete increments, then half of the 201st
    const r = await recoverJson(cutCopy(starts[k]! + Math.floor((starts[k + 1]! - starts[k]!) / 2), false));
    expect(r.code).toBe(0);
    const torn = (r.v.warnings as { kind: string; message: string }[]).find((w) => w.kind === 'torn_tail')!;
    expect(torn.message).toMatch(new RegExp(`ends inside an increment: the last complete one is data_version ${lastDvOf(k)}, sealed at \\d{4}-\\d\\d-\\d\\dT`));
    expect(torn.message).toMatch(/so does an incomplete copy of the server directory/);
    expect(torn.message).not.toMatch(/lightningd did not commit|was never acknowledged and/);
    expect((r.v.next_steps as string[])[0]).toMatch(new RegExp(`^Before starting lightningd, confirm that data_version ${lastDvOf(k)} is the node's last`));
    expect(r.v.data_version).toBe(lastDvOf(k));
  });

  it("cut at an increment boundary, the server's log in the copy: stale (exit 3), the database aside, the log named", async () => {
    const k = 120;
    const r = await recoverJson(cutCopy(starts[k]!, true));
    expect(r.code).toBe(EXIT_STALE);
    expect(r.v).toMatchObject({ stale: true, data_version: lastDvOf(k), database: path.join(r.ld, `lightningd.sqlite3.stale-${lastDvOf(k)}`), wrapper: null, plugin_state: null });
    const last = channel.trace[channel.trace.length - 1]!.data_version;
    expect((r.v.stale_reasons as string[]).join(' ')).toMatch(
      new RegExp(`server's own log \\(.*debug\\.log\\) records data_version ${last} stored for this backup at .*, but this copy of its archive ends at ${lastDvOf(k)}: the copy is incomplete .* lacks ${last - lastDvOf(k)} data_version`),
    );
    expect(readdirSync(r.ld).sort()).toEqual(['hsm_secret', `lightningd.sqlite3.stale-${lastDvOf(k)}`]);
  });

  it('cut inside an increment with the log: stale too; the whole copy with the log: verified, exit 0', async () => {
    const k = 250;
    const torn = await recoverJson(cutCopy(starts[k]! + 10, true));
    expect(torn.code).toBe(EXIT_STALE);
    const whole = await recoverJson(cutCopy(archive.length, true));
    expect(whole.code).toBe(0);
    expect(whole.v).toMatchObject({ ok: true, stale: false, data_version: channel.trace[channel.trace.length - 1]!.data_version });
  });

  it("the operator's last known data_version makes a torn copy stale", async () => {
    const k = 200;
    const r = await recoverJson(cutCopy(starts[k]! + 10, false), [`--last-known-data-version=${lastDvOf(k) + 5}`]);
    expect(r.code).toBe(EXIT_STALE);
    expect((r.v.stale_reasons as string[]).join(' ')).toMatch(/last known data_version is \d+, but this backup ends at \d+ \(5 behind\)/);
  });
});

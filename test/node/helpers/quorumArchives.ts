/**
 * A node backed up to three of our servers with k = 2 (issue 11), as real server directories, for
 * recovery tests that read several sources (the app's e2e specs among them: no vitest import).
 *
 * The single-node fixture's real trace is played through the plugin's quorum writer
 * (plugin/quorum.ts) in this process, as lightningd runs it — transaction, hook, commit — against
 * three cldcb-server processes; the wrapper is made by the install ceremony's rules
 * (shared/cldcb/install.ts), so each server has its own client key and recognition code. Part-way,
 * an older copy of server 2's directory is taken (what a rolled-back server would serve); then the
 * rest of the trace is played and every server is let catch up before it stops.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { formatClientId, formatServerId } from '../../../shared/cldcb/ids';
import { signInstall } from '../../../shared/cldcb/install';
import { formatPluginWrapper, parsePluginWrapper, wrapperServers } from '../../../shared/cldcb/wrapper';
import { isPragmaOnlyCall } from '../../../shared/cldcb/statements';
import { zeroize } from '../../../shared/bytes';
import { nodePrivateKey } from '../../../shared/secrets/nodeKey';
import { forgetSecret } from '../../../shared/secrets/hsmSecret';
import { publicKeyOf } from '../../../shared/noise/primitives';
import { newClientKey } from '../../../shared/node/installCeremony';
import { readSecretFile } from '../../../shared/node/secretFiles';
import { stateFileName } from '../../../shared/node/pluginState';
import { QuorumBackup } from '../../../plugin/quorum';
import type { TraceCall } from '../../../shared/node/lightningdPlayer';
import { ensureServerBuilt, ROOT, startServer, type ServerProcess } from './server-harness';

/** The real lightningd node whose trace is played (test/fixtures/lightningd/README.md). */
export const SINGLE_NODE_DIR = path.join(ROOT, 'test/fixtures/lightningd/single-node');

export interface QuorumServer {
  readonly dir: string;
  /** 52…/53… */
  readonly serverId: string;
  /** The port it listened on (closed now: every server is stopped when this returns). */
  readonly port: number;
}

export interface QuorumArchives {
  /** Remove with `dispose`. */
  readonly work: string;
  readonly servers: readonly QuorumServer[];
  /** A copy of server 2's directory taken after `staleDataVersion`. */
  readonly staleCopy: string;
  readonly staleDataVersion: number;
  readonly finalDataVersion: number;
  /** The node's final database (what a recovery must rebuild). */
  readonly database: string;
  /**
   * The node's lightning directory as the plugin left it: the wrapper (`cldcb-plugin-wrapper`),
   * lightningd.sqlite3 and each server's chain-head state file.
   */
  readonly lightningDir: string;
  /** Server 2's state file as it was when the older copy was taken (a server that stopped acknowledging then). */
  readonly server2StateAtCopy: { readonly name: string; readonly file: string };
  /** The node's hsm_secret (mnemonic format, no passphrase). */
  readonly hsmSecret: string;
  dispose(): void;
}

function readTrace(): TraceCall[] {
  return readFileSync(path.join(SINGLE_NODE_DIR, 'trace-1.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as TraceCall);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Three servers, k = 2, the trace played with an older copy of server 2 taken after call `splitAt`
 * (default 60 of the trace's 126).
 */
export async function makeQuorumArchives(opts: { splitAt?: number } = {}): Promise<QuorumArchives> {
  await ensureServerBuilt();
  const work = mkdtempSync(path.join(tmpdir(), 'cldcb-quorum-archives-'));
  const trace = readTrace();
  const splitAt = opts.splitAt ?? 60;
  const secret = await readSecretFile(path.join(SINGLE_NODE_DIR, 'hsm_secret'));
  const nodePriv = nodePrivateKey(secret.secretData);
  forgetSecret(secret);
  const clientPrivs = [0, 1, 2].map(() => newClientKey());
  const servers: ServerProcess[] = [];
  let q: QuorumBackup | undefined;
  let db: Database.Database | undefined;
  try {
    for (const [i, priv] of clientPrivs.entries()) {
      const dir = path.join(work, `server-${i + 1}`);
      mkdirSync(dir, { mode: 0o700 });
      writeFileSync(path.join(dir, 'clients'), `${formatClientId(publicKeyOf(priv, 'client'))}\n`);
      servers.push(await startServer(dir, { logLevel: 'info' }));
    }
    const signed = signInstall({
      nodePrivateKey: nodePriv,
      servers: servers.map((s, i) => ({ serverKey: s.serverPub, server: { host: '127.0.0.1', port: s.port }, clientPrivateKey: clientPrivs[i]! })),
      quorum: 2,
    });
    const wrapperText = formatPluginWrapper(signed.input);
    const cfg = parsePluginWrapper(wrapperText);
    const nodeDir = path.join(work, 'node');
    mkdirSync(nodeDir);
    writeFileSync(path.join(nodeDir, 'cldcb-plugin-wrapper'), wrapperText, { mode: 0o700 });
    const logs: string[] = [];
    q = new QuorumBackup(cfg, nodeDir, (_level, m) => logs.push(m), { deadlineMs: 8000 });
    db = new Database(path.join(nodeDir, 'lightningd.sqlite3'));
    const writer = q;
    const database = db;
    // As lightningd does: run the transaction, wait for the hook, commit.
    const play = async (calls: readonly TraceCall[]): Promise<void> => {
      for (const c of calls) {
        const pragmaOnly = isPragmaOnlyCall(c.writes);
        if (!pragmaOnly) database.exec('BEGIN');
        for (const w of c.writes) database.exec(w);
        await writer.write(c.data_version, c.writes);
        if (!pragmaOnly) database.exec('COMMIT');
      }
    };
    /** Every server stored everything up to `dv` (the third catches up in the background). */
    const allCurrent = async (dv: number): Promise<void> => {
      const until = Date.now() + 30_000;
      while (writer.status.some((s) => s.lastStored !== dv || s.backlog > 0)) {
        if (Date.now() > until) throw new Error(`servers did not catch up to data_version ${dv}: ${JSON.stringify(writer.status)}\n${logs.slice(-5).join('\n')}`);
        await sleep(25);
      }
    };
    await play(trace.slice(0, splitAt));
    const staleDataVersion = trace[splitAt - 1]!.data_version;
    await allCurrent(staleDataVersion);
    const staleCopy = path.join(work, 'server-2-older-copy');
    cpSync(servers[1]!.dir, staleCopy, { recursive: true });
    const server2State = stateFileName(1, servers[1]!.serverPub);
    const server2StateAtCopy = path.join(work, `${server2State}.at-copy`);
    cpSync(path.join(nodeDir, server2State), server2StateAtCopy);
    await play(trace.slice(splitAt));
    const finalDataVersion = trace.at(-1)!.data_version;
    await allCurrent(finalDataVersion);
    q.close();
    q = undefined;
    db.close();
    db = undefined;
    for (const s of servers) await s.stop();
    for (const s of wrapperServers(cfg)) zeroize(s.clientPrivateKey);
    return {
      work,
      servers: servers.map((s) => ({ dir: s.dir, serverId: formatServerId(s.serverPub), port: s.port })),
      staleCopy,
      staleDataVersion,
      finalDataVersion,
      database: path.join(SINGLE_NODE_DIR, 'lightningd.sqlite3'),
      lightningDir: nodeDir,
      server2StateAtCopy: { name: server2State, file: server2StateAtCopy },
      hsmSecret: path.join(SINGLE_NODE_DIR, 'hsm_secret'),
      dispose: () => rmSync(work, { recursive: true, force: true }),
    };
  } catch (e) {
    q?.close();
    db?.close();
    for (const s of servers) await s.stop().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
    throw e;
  } finally {
    zeroize(nodePriv, ...clientPrivs);
  }
}

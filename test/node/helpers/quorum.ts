/**
 * Several servers in the plugin tests (issue 11): read one server's archive for a node the way a
 * recovering client does (recognition codes, read proof, download), and check that it replays,
 * on its own, to a given database.
 */
import { expect } from 'vitest';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { bytesToHex } from '../../../shared/bytes';
import { nobleSecp } from '../../../shared/cldcb/curve';
import { findOwnRecords } from '../../../shared/cldcb/recognition';
import { CldcbClient, readToken } from '../../../shared/node/cldcbClient';
import { compareDatabases, decodeBackup, replayToFile } from './replay';
import type { NodeFixture } from './plugin-fixtures';
import type { ServerProcess } from './server-harness';

/** The archive `srv` keeps for `clientKey`, found with the node key as a recovery finds it. */
export async function downloadArchive(srv: ServerProcess, node: NodeFixture, clientKey: Uint8Array) {
  const c = await CldcbClient.connect({ host: '127.0.0.1', port: srv.port, serverKey: srv.serverPub, clientPrivateKey: new Uint8Array(randomBytes(32)) });
  try {
    const mine = findOwnRecords(node.nodePriv, await c.listRecognitionCodes());
    expect(mine.map((r) => bytesToHex(r.clientKey))).toEqual([bytesToHex(clientKey)]);
    await c.proveRead(clientKey, readToken(nobleSecp.ecdhHash(node.nodePriv, clientKey)));
    return await c.downloadBackup(clientKey);
  } finally {
    c.close();
  }
}

/** `srv`'s archive for `clientKey`, read on its own, replays (into `out`) to exactly `db`. */
export async function expectArchiveReplaysTo(srv: ServerProcess, node: NodeFixture, clientKey: Uint8Array, out: string, db: string, what = path.basename(out)): Promise<void> {
  const b = decodeBackup(await downloadArchive(srv, node, clientKey), node.nodePriv, clientKey);
  const plan = replayToFile(b, out);
  expect(plan.errors, `${what}: ${JSON.stringify(plan.errors.slice(0, 3))}`).toEqual([]);
  expect(compareDatabases(out, db), what).toEqual([]);
}

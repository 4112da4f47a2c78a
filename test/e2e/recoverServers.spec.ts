/**
 * Recovery from several sources (issue 11, the app side of `recover --from … --server …`): a list
 * of sources — copies of server directories and servers online, mixed — read together; the
 * freshness verdict from the policy sealed in the backup (proven fresh when n − k + 1 of the node's
 * servers answered, else not proven with how many more and which), and per source its outcome
 * with the reason, data_version and last increment time. A backup not proven fresh is written
 * aside, never where lightningd opens it, and the screen says where and what to do.
 *
 * The archives are made at test time (test/node/helpers/quorumArchives.ts): the real single-node
 * trace played through the plugin's quorum writer against three real servers with k = 2, and an
 * older copy of server 2's directory taken part-way (a rolled-back server).
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from '@playwright/test';
import { test, expect, screenshotDir, type AppFixture } from './harness';
import { shotAllSizes } from './helpers';
import { makeQuorumArchives, type QuorumArchives } from '../node/helpers/quorumArchives';
import { compareDatabases } from '../node/helpers/replay';

let archives: Promise<QuorumArchives> | undefined;
/** Made once for the file (three servers and a trace take a few seconds). */
const fixture = () => (archives ??= makeQuorumArchives());
test.afterAll(async () => (await archives)?.dispose());

async function openRecoverFor(page: Page, hsmSecret: string) {
  await page.getByRole('button', { name: 'Import secret' }).first().click();
  await page.getByTestId('secret-file').setInputFiles(hsmSecret);
  await expect(page.getByRole('heading', { name: 'Is this your node?' })).toBeVisible();
  await page.getByRole('button', { name: 'Recover database' }).click();
}

/** Source `n` (1-based) of the list: a copy of a server directory. */
async function useFolder(app: AppFixture, n: number, dir: string) {
  const row = app.page.getByRole('group', { name: `Source ${n}` });
  app.dirPaths.push(dir);
  await row.getByRole('button', { name: 'Choose folder…' }).click();
  await expect(row.getByTestId(n === 1 ? 'recover-server-dir' : `recover-server-dir-${n}`)).toHaveText(dir);
}

async function rebuildInto(app: AppFixture): Promise<string> {
  const target = mkdtempSync(path.join(tmpdir(), 'cldcb-e2e-ldir-'));
  await expect(app.page.getByTestId('candidates')).toBeVisible({ timeout: 60_000 });
  app.dirPaths.push(target);
  await app.page.getByRole('button', { name: 'Choose the lightning directory…' }).click();
  await app.page.getByRole('button', { name: 'Rebuild and verify' }).click();
  return target;
}

test('three sources — a current server directory, an older copy of another, an unreachable server: proven fresh, the copy named behind by N, the server with its reason', async ({ app }) => {
  test.setTimeout(180_000);
  const { page } = app;
  const f = await fixture();
  const [s1, , s3] = f.servers as [QuorumArchives['servers'][0], QuorumArchives['servers'][0], QuorumArchives['servers'][0]];
  await openRecoverFor(page, f.hsmSecret);
  await useFolder(app, 1, s1.dir);
  await page.getByRole('button', { name: 'Add another source' }).click();
  await useFolder(app, 2, f.staleCopy);
  await page.getByRole('button', { name: 'Add another source' }).click();
  const third = page.getByRole('group', { name: 'Source 3' });
  await third.getByLabel(/The backup server itself/).check();
  await third.getByLabel('Server (SID@HOST:PORT)').fill(`${s3.serverId}@127.0.0.1:${s3.port}`);
  await page.getByLabel(/Online mode for this action/).check();
  app.onlineAnswers.push(true); // the operator confirms the main process's dialog
  await shotAllSizes(app, 'recover-three-sources-form');
  await page.getByRole('button', { name: 'Find my entries' }).click();

  // The search: two read, one failed with its reason — and the backups found, per source.
  const outcomes = page.getByTestId('source-outcome');
  await expect(outcomes).toHaveCount(3, { timeout: 60_000 });
  await expect(outcomes.nth(2)).toContainText('could not be read');
  await expect(outcomes.nth(2)).toContainText(`Cannot reach the cldcb server at 127.0.0.1:${s3.port}`);
  expect(app.onlineRequests).toEqual([{ action: 'Find your entries on the backup server', destination: `${s3.serverId}@127.0.0.1:${s3.port}` }]);
  const candidates = page.getByTestId('candidates');
  await expect(candidates).toContainText(s1.dir);
  await expect(candidates).toContainText(f.staleCopy);

  const target = await rebuildInto(app);
  const verdict = page.getByTestId('verdict');
  await expect(page.getByTestId('verdict-headline')).toContainText('Rebuilt, verified and proven fresh', { timeout: 90_000 });
  await expect(verdict).toBeFocused();
  const state = page.getByTestId('freshness-state');
  await expect(state).toContainText('Proven fresh.');
  await expect(state).toContainText("2 of the node's 3 servers answered");
  await expect(page.getByTestId('freshness-policy')).toContainText('names 3 servers and k = 2');
  const rows = page.getByTestId('freshness-source');
  await expect(rows).toHaveCount(3);
  await expect(rows.nth(0)).toContainText(s1.dir);
  await expect(rows.nth(0)).toContainText('newest');
  await expect(rows.nth(0)).toContainText(String(f.finalDataVersion));
  await expect(rows.nth(0)).toContainText(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/); // the last increment's time, sealed in it
  const behind = f.finalDataVersion - f.staleDataVersion;
  await expect(rows.nth(1)).toContainText(f.staleCopy);
  await expect(rows.nth(1)).toContainText(`behind by ${behind} data_versions`);
  await expect(rows.nth(1)).toContainText(String(f.staleDataVersion));
  await expect(rows.nth(2)).toContainText('could not be read');
  await expect(rows.nth(2)).toContainText(`Cannot reach the cldcb server at 127.0.0.1:${s3.port}`);
  await expect(page.getByTestId('verdict-dv')).toHaveText(String(f.finalDataVersion));
  // The newest state, under the name lightningd opens, row for row the node's database.
  const db = path.join(target, 'lightningd.sqlite3');
  expect(existsSync(db)).toBe(true);
  expect(compareDatabases(db, f.database)).toEqual([]);
  await shotAllSizes(app, 'recover-three-sources-proven');
  // The verdict and its per-source table alone, for a person to read at full size.
  await verdict.screenshot({ path: path.join(screenshotDir, 'recover-three-sources-verdict.png') });
});

test('one source of a three-server backup: not proven, how many more servers and which; the database is set aside and the screen says where', async ({ app }) => {
  test.setTimeout(180_000);
  const { page } = app;
  const f = await fixture();
  const [s1, s2, s3] = f.servers as [QuorumArchives['servers'][0], QuorumArchives['servers'][0], QuorumArchives['servers'][0]];
  await openRecoverFor(page, f.hsmSecret);
  await useFolder(app, 1, s1.dir);
  await page.getByRole('button', { name: 'Find my entries' }).click();
  const target = await rebuildInto(app);

  const headline = page.getByTestId('verdict-headline');
  await expect(headline).toContainText('Not proven to be the newest state — the database was set aside', { timeout: 90_000 });
  await expect(headline).toContainText(path.join(target, `lightningd.sqlite3.stale-${f.finalDataVersion}`));
  await expect(headline).toContainText("read 1 more of the node's servers");
  await expect(page.getByTestId('verdict')).not.toContainText('verified');
  await expect(page.getByTestId('verdict')).not.toContainText('Proven fresh');
  await expect(page.getByTestId('freshness-state')).toContainText("1 of the node's 3 servers answered; 2 are needed");
  const missing = page.getByTestId('freshness-missing');
  await expect(missing).toContainText("Read 1 more of the node's servers to prove it");
  await expect(missing).toContainText(s2.serverId);
  await expect(missing).toContainText(s3.serverId);
  await expect(missing).not.toContainText(s1.serverId);
  await expect(page.getByTestId('freshness-source')).toHaveCount(1);
  await expect(page.getByTestId('freshness-source')).toContainText('newest');
  // Never where lightningd would start on it.
  expect(existsSync(path.join(target, 'lightningd.sqlite3'))).toBe(false);
  expect(existsSync(path.join(target, `lightningd.sqlite3.stale-${f.finalDataVersion}`))).toBe(true);
  await expect(page.getByTestId('files-written')).toContainText('set aside: lightningd does not open this name');
  await expect(page.getByTestId('after-steps')).toContainText("Only if the node's other servers cannot be read: the SCB path");
  await shotAllSizes(app, 'recover-one-of-three-not-proven');
  await page.getByTestId('verdict').screenshot({ path: path.join(screenshotDir, 'recover-one-of-three-verdict.png') });
  // The way on: back to the list, to add the servers still needed.
  await page.getByTestId('verdict-headline').getByRole('button', { name: 'Add a source' }).click();
  await expect(page.getByRole('button', { name: 'Add another source' })).toBeFocused();
});

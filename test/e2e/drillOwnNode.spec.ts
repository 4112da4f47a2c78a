/**
 * Drill the operator's own node in the app (issue 12 §5): their server directory and hsm_secret,
 * optionally their live database; the drill history and the due date survive a restart (kept in
 * the app's user-data directory); the demo is labelled a demo and never sets the due date.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test, expect } from './harness';
import { chooseLightningDir, loadTyped, makeServerDir, ours, searchServerDir, shotAllSizes } from './helpers';

const day = (d: Date) => d.toISOString().slice(0, 10);

test('§5 drill my own node from its server directory, compared with its live database; the history and due date survive a restart', async ({ app }) => {
  const { page } = app;
  const server = makeServerDir(2);
  // The node's live database: the same backup, rebuilt (as a running node's would be).
  const live = mkdtempSync(path.join(tmpdir(), 'cldcb-e2e-live-'));
  await loadTyped(page, ours.secret_data_hex);
  await page.getByRole('button', { name: 'Recover database' }).click();
  await searchServerDir(app, server.dir);
  await chooseLightningDir(app, live);
  await page.getByRole('button', { name: 'Rebuild and verify' }).click();
  await expect(page.getByTestId('verdict')).toContainText('Rebuilt and checked: integrity ok', { timeout: 60_000 });
  const liveDb = readFileSync(path.join(live, 'lightningd.sqlite3'));

  await page.getByRole('button', { name: 'Drill', exact: true }).click();
  await expect(page.getByTestId('drill-due')).toContainText('No drill of your node has passed yet');
  app.dirPaths.push(server.dir);
  await page.getByRole('button', { name: 'Choose the server directory…' }).click();
  await expect(page.getByTestId('drill-server-dir')).toHaveText(server.dir);
  await page.getByLabel(/Compare with my node's live database/).check();
  app.dirPaths.push(live);
  await page.getByRole('button', { name: 'Choose my lightning directory…' }).click();
  await page.getByRole('button', { name: 'Run the drill' }).click();
  const report = page.getByTestId('drill-report');
  const due = day(new Date(Date.now() + 90 * 86_400_000));
  await expect(report).toContainText(`PASS — your node's backup restores; next drill due ${due}`, { timeout: 90_000 });
  await expect(report).toContainText('live: identical to');
  await expect(report).not.toContainText('DEMO');
  await expect(page.getByTestId('drill-history')).toContainText(`Drill of node ${ours.node_id}: PASS`);
  await shotAllSizes(app, 'drill-own-node-pass');
  // The drill never touched the live directory.
  expect(readFileSync(path.join(live, 'lightningd.sqlite3')).equals(liveDb)).toBe(true);
  expect(existsSync(path.join(app.userDataDir, 'drill-history.json'))).toBe(true);

  // Quit and start again: the history and the due date are still there (the secret is not).
  await app.restart();
  await page.getByRole('button', { name: 'Drill', exact: true }).click();
  await expect(page.getByTestId('drill-due')).toContainText(`next drill due ${due}`);
  await expect(page.getByTestId('drill-history')).toContainText(`Drill of node ${ours.node_id}: PASS`);
  await expect(page.getByText('No secret loaded')).toBeVisible();
  await shotAllSizes(app, 'drill-history-after-restart');
});

test('§5 a failing drill says so and does not move the due date', async ({ app }) => {
  const { page } = app;
  const empty = mkdtempSync(path.join(tmpdir(), 'cldcb-e2e-empty-'));
  await loadTyped(page, ours.secret_data_hex);
  await page.getByRole('button', { name: 'Drill', exact: true }).click();
  app.dirPaths.push(empty);
  await page.getByRole('button', { name: 'Choose the server directory…' }).click();
  await page.getByRole('button', { name: 'Run the drill' }).click();
  await expect(page.getByTestId('drill-report')).toContainText('FAIL', { timeout: 60_000 });
  await expect(page.getByTestId('drill-due')).toContainText('No drill of your node has passed yet');
  await expect(page.getByTestId('drill-history')).toContainText('FAIL');
});

/**
 * The recovery wizard end to end: a server directory holding several clients'
 * archives (only one of them ours), found by recognition code, rebuilt into an
 * empty lightning directory, verified, reported. And the entry list with tens
 * of thousands of entries stays virtualised.
 */
import { mkdirSync, mkdtempSync, readFileSync, existsSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { test, expect } from './harness';
import { loadTyped, makeServerDir, ours } from './helpers';
import { makeNativeSecp } from '../../shared/node/nativeSeal';

/** A recognition_codes file with `n` entries of other nodes (valid points, codes that are not ours). */
function makeBigCodesDir(n: number): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cldcb-e2e-many-'));
  const secp = makeNativeSecp();
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const key = secp.publicKey(new Uint8Array(randomBytes(32)));
    const code = Buffer.alloc(64);
    code.fill(i % 200 + 1, 0, 32);
    code.fill(7, 32, 64);
    lines.push(`${Buffer.from(key).toString('hex')} ${code.toString('hex')}`);
  }
  writeFileSync(path.join(dir, 'recognition_codes'), lines.join('\n') + '\n');
  return dir;
}

const loadOurSecret = (page: import('@playwright/test').Page) => loadTyped(page, ours.secret_data_hex);

test('recover from a copy of a server directory with several clients: find ours, rebuild, verify, report', async ({ app }) => {
  const { page } = app;
  const server = makeServerDir(3);
  const target = mkdtempSync(path.join(tmpdir(), 'cldcb-e2e-ldir-'));
  await loadOurSecret(page);
  await page.getByRole('button', { name: 'Recover database' }).click();
  app.dirPaths.push(server.dir);
  await page.getByRole('button', { name: 'Choose folder…' }).click();
  await expect(page.getByTestId('recover-server-dir')).toHaveText(server.dir);
  await page.getByLabel(/server's address/).fill('backup.example:29735');
  await app.shot('17-recover-source');
  await page.getByRole('button', { name: 'Find my entries' }).click();
  await expect(page.getByTestId('search-summary')).toContainText('4 entries', { timeout: 60_000 });
  await expect(page.getByTestId('entries').locator('.entry.ours')).toHaveCount(1);
  await expect(page.getByTestId('entries').locator('.entry.not_ours')).toHaveCount(3);
  await expect(page.getByTestId('candidates')).toContainText(server.ourClientId);
  await app.shot('18-recover-entries');

  app.dirPaths.push(target);
  await page.getByRole('button', { name: 'Choose the lightning directory…' }).click();
  await page.getByRole('button', { name: 'Rebuild and verify' }).click();
  await expect(page.getByTestId('verdict')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('verdict-dv')).toHaveText(String(server.finalDv));
  await expect(page.getByTestId('verdict')).toContainText('Rebuilt and checked: integrity ok');
  // One server: nothing can prove it is the newest (a dropped tail is invisible), and the screen never says it is.
  await expect(page.getByTestId('verdict')).not.toContainText('verified');
  await expect(page.getByTestId('freshness-state')).toContainText('Not proven to be the newest state. This backup names no other servers');
  await expect(page.getByTestId('freshness-source')).toContainText('newest');
  await app.shot('19-recover-verdict');
  const db = path.join(target, 'lightningd.sqlite3');
  expect(existsSync(db)).toBe(true);
  expect(statSync(db).mode & 0o777).toBe(0o600);
  expect(readFileSync(path.join(target, 'cldcb-plugin-wrapper'), 'utf8')).toContain('# shost = backup.example:29735');

  await page.getByRole('button', { name: 'Save report as JSON…' }).click();
  const report = JSON.parse(readFileSync(path.join(app.outDir, 'cldcb-recovery-report.json'), 'utf8'));
  expect(JSON.stringify(report)).toContain(server.ourClientId);

  // a second rebuild into the same directory is refused: nothing is overwritten
  await page.getByRole('button', { name: 'Rebuild and verify' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'already exists' })).toBeVisible({ timeout: 60_000 });
});

test('online recovery is refused unless online mode is switched on for the action', async ({ app }) => {
  const { page } = app;
  await loadOurSecret(page);
  await page.getByRole('button', { name: 'Recover database' }).click();
  await page.getByLabel(/The backup server itself/).check();
  await page.getByLabel('Server (SID@HOST:PORT)').fill('53a4684420eed17f05508233500cf0c03fad14d62fc8fd7b3d62f54f9a2ef14bad@127.0.0.1:9');
  await page.getByRole('button', { name: 'Find my entries' }).click();
  await expect(page.getByRole('alert')).toContainText('offline');
});

test('fifty thousand entries: the list stays virtualised and reaches the last one', async ({ app }) => {
  const { page } = app;
  const dir = makeBigCodesDir(50_000);
  mkdirSync(dir, { recursive: true });
  await loadOurSecret(page);
  await page.getByRole('button', { name: 'Recover database' }).click();
  app.dirPaths.push(dir);
  await page.getByRole('button', { name: 'Choose folder…' }).click();
  await page.getByRole('button', { name: 'Find my entries' }).click();
  // Every source was read and none holds our backup: only then "no backup found".
  await expect(page.getByTestId('search-summary')).toContainText('Every source was read (50,000 entries', { timeout: 90_000 });
  await expect(page.getByTestId('search-summary')).toContainText('No backup of this node was found');
  const list = page.getByTestId('entries');
  await expect(list.locator('.entry').first()).toBeVisible();
  expect(await list.locator('.entry').count()).toBeLessThan(80);
  await list.evaluate((el) => {
    const box = el as unknown as { scrollTop: number; scrollHeight: number };
    box.scrollTop = box.scrollHeight;
  });
  await expect(list.getByText('#50000', { exact: true })).toBeVisible();
  await expect(list.locator('.entry.not_ours').last()).toBeVisible();
  await app.shot('30-recover-many-entries');
});

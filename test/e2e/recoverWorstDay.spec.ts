/**
 * The recovery on the worst day (issue 12 §1, §2, §6, §7): a source that could not be read is
 * never "no backup"; "no backup found" only when every source was read; the "last data_version"
 * field refuses what does not parse; a possibly stale rebuild says where it went and leads to the
 * SCB path; the goal is carried from Home to the after-recovery checklist; results and errors
 * appear next to the action, with the focus.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test, expect } from './harness';
import { chooseLightningDir, loadTyped, makeServerDir, ours, pdfContentOrigin, searchServerDir, shotAllSizes } from './helpers';

const SID = '53a4684420eed17f05508233500cf0c03fad14d62fc8fd7b3d62f54f9a2ef14bad';

/** A TCP port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function openRecover(page: import('@playwright/test').Page) {
  await loadTyped(page, ours.secret_data_hex);
  await page.getByRole('button', { name: 'Recover database' }).click();
}

test('§1 an unreachable server is shown as a failed source, never as "no backup exists"', async ({ app }) => {
  const { page } = app;
  await openRecover(page);
  await page.getByLabel(/The backup server itself/).check();
  await page.getByLabel('Server (SID@HOST:PORT)').fill(`${SID}@127.0.0.1:${await closedPort()}`);
  await page.getByLabel(/Online mode for this action/).check();
  app.onlineAnswers.push(true); // the operator confirms the main process's dialog
  await page.getByRole('button', { name: 'Find my entries' }).click();
  const outcome = page.getByTestId('source-outcome');
  await expect(outcome).toContainText('could not be read', { timeout: 30_000 });
  await expect(outcome).toContainText('Cannot reach the cldcb server at 127.0.0.1');
  const summary = page.getByTestId('search-summary');
  await expect(summary).toContainText('this does not mean the backup is lost');
  await expect(summary).not.toContainText('No backup of this node was found');
  await expect(page.getByRole('button', { name: 'Go to the SCB path' })).toHaveCount(0);
  // Where the operator is looking: the outcome has the focus.
  await expect(page.getByLabel('Search result')).toBeFocused();
  await shotAllSizes(app, 'recover-source-unreachable');
});

test('§1 a folder that is not a server directory, and a lightning directory, are failed sources with the reason', async ({ app }) => {
  const { page } = app;
  await openRecover(page);
  const empty = mkdtempSync(path.join(tmpdir(), 'cldcb-e2e-notaserver-'));
  const ldir = mkdtempSync(path.join(tmpdir(), 'cldcb-e2e-lightningdir-'));
  writeFileSync(path.join(ldir, 'lightningd.sqlite3'), 'x');
  writeFileSync(path.join(ldir, 'hsm_secret'), Buffer.alloc(32, 1));
  for (const dir of [empty, ldir]) {
    app.dirPaths.push(dir);
    await page.getByRole('button', { name: 'Choose folder…' }).click();
    await expect(page.getByTestId('recover-server-dir')).toHaveText(dir);
    await page.getByRole('button', { name: 'Find my entries' }).click();
    const outcome = page.getByTestId('source-outcome');
    await expect(outcome).toContainText('could not be read', { timeout: 30_000 });
    await expect(outcome).toContainText('it is not a cldcb server directory');
    await expect(page.getByTestId('search-summary')).toContainText('this does not mean the backup is lost');
    await expect(page.getByTestId('search-summary')).not.toContainText('No backup of this node was found');
  }
  await shotAllSizes(app, 'recover-source-not-a-server');
});

test('§1 "no backup found" only when every source was read and none matched; it leads on to the SCB path', async ({ app }) => {
  const { page } = app;
  // A server directory holding two other nodes' backups only.
  const server = makeServerDir(2);
  rmSync(path.join(server.dir, `${server.ourClientId}.arch`));
  const others = readdirSync(server.dir).filter((f) => f.endsWith('.arch')).length;
  writeFileSync(
    path.join(server.dir, 'recognition_codes'),
    readFileSync(path.join(server.dir, 'recognition_codes'), 'utf8').split('\n').slice(1).join('\n'),
  );
  await openRecover(page);
  await searchServerDir(app, server.dir);
  const summary = page.getByTestId('search-summary');
  await expect(summary).toContainText('No backup of this node was found', { timeout: 30_000 });
  await expect(summary).toContainText(`Every source was read (2 entries, ${others} archives)`);
  await expect(page.getByTestId('source-outcome')).toContainText('0 backups of this node');
  await shotAllSizes(app, 'recover-no-backup');
  await summary.getByRole('button', { name: 'Go to the SCB path' }).click();
  await expect(page.getByRole('heading', { name: /Get the channel funds back/ })).toBeVisible();
  await expect(page.getByTestId('goal')).toContainText('Get channel funds back');
});

test('§2 "the last data_version you know of" refuses abc and 12O with the character at fault; nothing starts', async ({ app }) => {
  const { page } = app;
  const server = makeServerDir(0);
  const target = mkdtempSync(path.join(tmpdir(), 'cldcb-e2e-ldir-'));
  await openRecover(page);
  await searchServerDir(app, server.dir);
  await expect(page.getByTestId('candidates')).toContainText(server.ourClientId.slice(0, 8), { timeout: 30_000 });
  app.dirPaths.push(target);
  await page.getByRole('button', { name: 'Choose the lightning directory…' }).click();
  const field = page.getByLabel(/The last data_version you know of/);
  await field.fill('abc');
  await page.getByRole('button', { name: 'Rebuild and verify' }).click();
  const help = page.getByTestId('last-dv-help');
  await expect(help).toContainText('"abc" is not a data_version: character 1 is the letter "a"');
  await expect(field).toHaveAttribute('aria-invalid', 'true');
  await expect(field).toBeFocused();
  await field.fill('12O');
  await field.press('Enter');
  await expect(help).toContainText('character 3 is the letter "O"');
  await expect(help).toContainText('Did you mean the digit 0?');
  await shotAllSizes(app, 'recover-last-dv-refused');
  // Nothing was started and nothing written.
  await expect(page.locator('.progress')).toHaveCount(1); // the search's only
  expect(readdirSync(target)).toEqual([]);
});

test('§2 §6 a possibly stale rebuild says where the files went and leads to the SCB path', async ({ app }) => {
  const { page } = app;
  const server = makeServerDir(0);
  const target = mkdtempSync(path.join(tmpdir(), 'cldcb-e2e-ldir-'));
  await openRecover(page);
  await searchServerDir(app, server.dir);
  await chooseLightningDir(app, target);
  await page.getByLabel(/The last data_version you know of/).fill(String(server.finalDv + 5));
  await page.getByRole('button', { name: 'Rebuild and verify' }).click();
  const verdict = page.getByTestId('verdict');
  await expect(verdict).toContainText('The state may be stale', { timeout: 60_000 });
  const after = page.getByTestId('after-recovery');
  await expect(after).toContainText('Where the files went');
  const written = (await page.getByTestId('files-written').locator('dd').first().textContent()) ?? '';
  const dbPath = written.split(' — ')[0]!;
  expect(existsSync(dbPath)).toBe(true);
  // Never under the name lightningd opens (the engine sets it aside; the screen says so and what to do).
  expect(path.basename(dbPath)).toBe(`lightningd.sqlite3.stale-${server.finalDv}`);
  expect(existsSync(path.join(target, 'lightningd.sqlite3'))).toBe(false);
  await expect(after).toContainText('set aside: lightningd does not open this name');
  await expect(page.getByTestId('files-written')).toContainText('plugin wrapper');
  await expect(page.getByTestId('files-written')).toContainText('not written');
  const first = page.getByTestId('after-steps').locator('li').first();
  await expect(first).toContainText('Do not start lightningd on it');
  await expect(first).toHaveClass(/warn/);
  await shotAllSizes(app, 'recover-stale-aside');
  await after.getByRole('button', { name: 'Go to the SCB path' }).click();
  await expect(page.getByRole('heading', { name: /Get the channel funds back/ })).toBeVisible();
});

test('§6 §7 the goal is carried from Home to "what to do now"; the verdict takes the focus; the checklist prints', async ({ app }) => {
  const { page } = app;
  const server = makeServerDir(1);
  const target = mkdtempSync(path.join(tmpdir(), 'cldcb-e2e-ldir-'));
  mkdirSync(target, { recursive: true });
  await page.getByRole('button', { name: /Recover my node/ }).click();
  await expect(page.getByRole('heading', { name: 'Import the hsm_secret' })).toBeVisible();
  await expect(page.getByTestId('goal')).toContainText('Recover my node');
  await expect(page.getByTestId('goal').locator('[aria-current="step"]')).toContainText('Import the hsm_secret');
  await shotAllSizes(app, 'journey-recover-1-import');
  await page.getByRole('tab', { name: 'Type or paste' }).click();
  await page.getByLabel(/64 hex digits/).fill(ours.secret_data_hex);
  await page.getByRole('button', { name: 'Load secret' }).click();
  await expect(page.getByTestId('goal').locator('[aria-current="step"]')).toContainText('Confirm the node id');
  await page.getByLabel(/Compare with the node id you know/).fill(ours.node_id);
  await shotAllSizes(app, 'journey-recover-2-confirm');
  await page.getByRole('button', { name: 'Yes, this is my node — continue to recovery' }).click();
  await expect(page.getByRole('heading', { name: 'Recover the channel database' })).toBeVisible();
  await expect(page.getByTestId('goal').locator('[aria-current="step"]')).toContainText('Find and rebuild the backup');
  app.dirPaths.push(server.dir);
  await page.getByRole('button', { name: 'Choose folder…' }).click();
  await page.getByLabel(/server's address/).fill('backup.example:29735');
  await page.getByRole('button', { name: 'Find my entries' }).click();
  await expect(page.getByTestId('candidates')).toBeVisible({ timeout: 30_000 });
  await shotAllSizes(app, 'journey-recover-3-found');
  app.dirPaths.push(target);
  await page.getByRole('button', { name: 'Choose the lightning directory…' }).click();
  await page.getByRole('button', { name: 'Rebuild and verify' }).click();
  const verdict = page.getByTestId('verdict');
  await expect(verdict).toContainText('Rebuilt and checked: integrity ok', { timeout: 60_000 });
  // The verdict takes the focus and is in view (it used to render below the fold).
  await expect(verdict).toBeFocused();
  await expect(verdict).toBeInViewport({ ratio: 0.1 });
  await expect(page.getByTestId('goal').locator('[aria-current="step"]')).toContainText('What to do now');
  const after = page.getByTestId('after-recovery');
  await expect(after).toContainText('What to do now');
  await expect(after).toContainText(path.join(target, 'lightningd.sqlite3'));
  await expect(after).toContainText(`important-plugin=${path.join(target, 'cldcb-plugin-wrapper')}`);
  await expect(after).toContainText('Never start the lost node (or any other copy of its old database) again');
  await expect(after).toContainText(`${target}/hsm_secret`);
  await shotAllSizes(app, 'journey-recover-4-what-now');
  await after.getByRole('button', { name: 'Print this checklist…' }).click();
  await expect(after.getByRole('status')).toContainText('sent to the printer');
  expect(app.printed).toHaveLength(1);
  expect(app.printed[0]).toContain('After the recovery — checklist');
  expect(app.printed[0]).toContain('important-plugin=');
  expect(app.printed[0]).toContain('@page');
  // The recovery report as a PDF: page margins (it used to touch the paper's edge), long ids wrapping.
  await page.getByRole('button', { name: 'Save report as PDF…' }).click();
  const pdf = path.join(app.outDir, 'cldcb-recovery-report.pdf');
  await expect(page.getByRole('status').last()).toContainText(`Saved to ${pdf}`);
  const origin = pdfContentOrigin(readFileSync(pdf));
  expect(origin.left).toBeGreaterThan(28);
  expect(origin.top).toBeGreaterThan(28);
});

test('§7 a rebuild refused (file exists) is said next to the Rebuild button, with the focus', async ({ app }) => {
  const { page } = app;
  const server = makeServerDir(0);
  const target = mkdtempSync(path.join(tmpdir(), 'cldcb-e2e-ldir-'));
  writeFileSync(path.join(target, 'lightningd.sqlite3'), 'old');
  await openRecover(page);
  await searchServerDir(app, server.dir);
  await chooseLightningDir(app, target);
  await page.getByRole('button', { name: 'Rebuild and verify' }).click();
  const refusal = page.getByRole('group', { name: '4. Rebuild' }).getByRole('alert');
  await expect(refusal).toContainText('already exists', { timeout: 60_000 });
  await expect(refusal).toBeInViewport();
});

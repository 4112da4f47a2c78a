/**
 * SCB results follow the network (issue 12 §4), errors appear next to the action (§7), QR codes are
 * scannable or absent and report PDFs have margins (§10).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import QRCode from 'qrcode';
import { test, expect, fixturesDir } from './harness';
import { pdfContentOrigin, shotAllSizes } from './helpers';

const node = path.join(fixturesDir, 'lightningd', 'channel-node');
const expected = JSON.parse(readFileSync(path.join(node, 'expected-to-remote.json'), 'utf8')) as { channels: { to_remote_address: string }[] };
const regtestAddresses = expected.channels.map((c) => c.to_remote_address).sort();

async function openScb(page: import('@playwright/test').Page) {
  await page.getByRole('button', { name: 'Import secret' }).click();
  await page.getByTestId('secret-file').setInputFiles(path.join(node, 'hsm_secret'));
  await expect(page.getByRole('heading', { name: 'Is this your node?' })).toBeVisible();
  await page.getByRole('button', { name: 'SCB force-close recovery' }).click();
}

test('§4 changing the network recomputes the addresses and the report; loopback peers on mainnet are flagged', async ({ app }) => {
  const { page } = app;
  await openScb(page);
  // Loaded with the default (bitcoin): mainnet addresses, and a warning that the peers look like a test network.
  await page.getByTestId('scb-file').setInputFiles(path.join(node, 'emergency.recover'));
  await expect(page.getByTestId('scb-summary')).toContainText('on bitcoin');
  for (const a of await page.getByTestId('to-remote').allTextContents()) expect(a).toMatch(/^bc1/);
  await expect(page.getByTestId('network-warning')).toContainText('loopback or private network');
  await shotAllSizes(app, 'scb-network-warning');
  // The file input is emptied after each load, so choosing the same file again loads it again.
  expect(await page.getByTestId('scb-file').inputValue()).toBe('');

  await page.getByLabel('Network', { exact: true }).selectOption('regtest');
  await expect(page.getByTestId('scb-summary')).toContainText('on regtest');
  expect((await page.getByTestId('to-remote').allTextContents()).sort()).toEqual(regtestAddresses);
  await expect(page.getByTestId('network-warning')).toHaveCount(0);
  await page.getByRole('button', { name: 'Save report as JSON…' }).click();
  const report = JSON.parse(readFileSync(path.join(app.outDir, 'scb-recovery-report.json'), 'utf8'));
  expect(report.network).toBe('regtest');
  expect(JSON.stringify(report)).toContain(regtestAddresses[0]);
});

test('§4 a database records its network: choosing another is flagged loudly', async ({ app }) => {
  const { page } = app;
  await openScb(page);
  await page.getByLabel(/a \(rebuilt\) lightningd.sqlite3/).check();
  await page.getByTestId('scb-file').setInputFiles(path.join(node, 'lightningd.sqlite3'));
  await expect(page.getByTestId('network-warning')).toContainText('The database was made on regtest (its genesis_hash), but bitcoin is chosen');
  await page.getByLabel('Network', { exact: true }).selectOption('regtest');
  await expect(page.getByTestId('network-warning')).toHaveCount(0);
  expect((await page.getByTestId('to-remote').allTextContents()).sort()).toEqual(regtestAddresses);
});

test('§7 bad tracker input is reported next to "Update the tracker", with the focus', async ({ app }) => {
  const { page } = app;
  await openScb(page);
  await page.getByLabel('Network', { exact: true }).selectOption('regtest');
  await page.getByTestId('scb-file').setInputFiles(path.join(node, 'emergency.recover'));
  await page.getByLabel('listpeerchannels output').fill('{ this is not json');
  await page.getByRole('button', { name: 'Update the tracker' }).click();
  const error = page.locator('#tracker-error');
  await expect(error).toBeVisible();
  await expect(error).toBeFocused();
  await expect(error).toBeInViewport();
  // Right after the button, not in a banner at the top.
  const button = (await page.getByRole('button', { name: 'Update the tracker' }).boundingBox())!;
  const box = (await error.boundingBox())!;
  const gap = box.y - (button.y + button.height);
  expect(gap).toBeGreaterThanOrEqual(0);
  expect(gap).toBeLessThan(40);
  await shotAllSizes(app, 'scb-tracker-error');
});

test('§10 QR codes are drawn at 3 px a module or more, or not at all; report PDFs have page margins', async ({ app }) => {
  const { page } = app;
  await openScb(page);
  await page.getByLabel('Network', { exact: true }).selectOption('regtest');
  await page.getByTestId('scb-file').setInputFiles(path.join(node, 'emergency.recover'));
  await page.getByRole('button', { name: 'Save payload file…' }).click();
  const payload = readFileSync(path.join(app.outDir, 'recoverchannel.json'), 'utf8');
  const modules = QRCode.create(JSON.stringify(JSON.parse(payload)), { errorCorrectionLevel: 'M' }).modules.size;
  const qr = page.locator('img.qr');
  if ((await qr.count()) === 0) await expect(page.getByTestId('payload-no-qr')).toBeVisible();
  else {
    const width = await qr.evaluate((img) => (img as unknown as { getBoundingClientRect(): { width: number } }).getBoundingClientRect().width);
    expect(width / (modules + 8)).toBeGreaterThanOrEqual(3);
  }
  await page.getByRole('button', { name: 'Save report as PDF…' }).click();
  const pdf = path.join(app.outDir, 'scb-recovery-report.pdf');
  await expect(page.getByRole('status').last()).toContainText(`Saved to ${pdf}`);
  const origin = pdfContentOrigin(readFileSync(pdf));
  // At least 1 cm of paper around the text (42 pt ≈ 15 mm here).
  expect(origin.left).toBeGreaterThan(28);
  expect(origin.top).toBeGreaterThan(28);
});

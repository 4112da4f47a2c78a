import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test, expect, fixturesDir } from './harness';

const node = path.join(fixturesDir, 'lightningd', 'channel-node');
const expected = JSON.parse(readFileSync(path.join(node, 'expected-to-remote.json'), 'utf8')) as {
  channels: { dbid: number; to_remote_address: string }[];
};

test('SCB walkthrough: emergency.recover → channels with to_remote → tracker before and after the force-close → report', async ({ app }) => {
  const { page } = app;
  await page.getByRole('button', { name: 'Import secret' }).click();
  await page.getByTestId('secret-file').setInputFiles(path.join(node, 'hsm_secret'));
  await expect(page.getByRole('heading', { name: 'Is this your node?' })).toBeVisible();

  await page.getByRole('button', { name: 'SCB force-close recovery' }).click();
  await page.getByLabel('Network', { exact: true }).selectOption('regtest');
  await page.getByTestId('scb-file').setInputFiles(path.join(node, 'emergency.recover'));
  await expect(page.getByTestId('scb-summary')).toContainText('2 channels from emergency.recover');
  const addresses = await page.getByTestId('to-remote').allTextContents();
  expect(addresses.sort()).toEqual(expected.channels.map((c) => c.to_remote_address).sort());
  // The payload is too long for a QR code a phone can scan off the screen: the file instead, never a ~1 px-per-module code.
  await expect(page.locator('img.qr')).toHaveCount(0);
  await expect(page.getByTestId('payload-no-qr')).toContainText('carry the payload file');
  await app.shot('13-scb-channels');

  await page.getByTestId('rpc-file-listpeerchannels').setInputFiles(path.join(node, 'listpeerchannels.json'));
  await page.getByTestId('rpc-file-listfunds').setInputFiles(path.join(node, 'listfunds.json'));
  await page.getByRole('button', { name: 'Update the tracker' }).click();
  await expect(page.getByTestId('tracker')).toContainText('Remaining: 2 of 2');
  await app.shot('14-scb-tracker-before');

  const after = path.join(node, 'after-force-close');
  await page.getByTestId('rpc-file-listpeerchannels').setInputFiles(path.join(after, 'listpeerchannels.json'));
  await page.getByTestId('rpc-file-listfunds').setInputFiles(path.join(after, 'listfunds.json'));
  await page.getByTestId('rpc-file-listclosedchannels').setInputFiles(path.join(after, 'listclosedchannels.json'));
  await page.getByRole('button', { name: 'Update the tracker' }).click();
  await expect(page.getByTestId('tracker')).toContainText('Remaining: 1 of 2');
  await expect(page.getByTestId('tracker').locator('.pill.swept')).toHaveCount(1);
  await expect(page.getByTestId('watch-list')).toContainText(expected.channels[0]!.to_remote_address);
  await app.shot('15-scb-tracker-after');

  await page.getByRole('button', { name: 'Save report as JSON…' }).click();
  await expect(page.getByRole('status').last()).toContainText('Saved to');
  const report = JSON.parse(readFileSync(path.join(app.outDir, 'scb-recovery-report.json'), 'utf8'));
  expect(report.summary.channels).toBe(2);
  expect(report.progress.counts.swept).toBe(1);
  await page.getByRole('button', { name: 'Save payload file…' }).click();
  const payload = JSON.parse(readFileSync(path.join(app.outDir, 'recoverchannel.json'), 'utf8'));
  expect(payload.scb).toHaveLength(2);
});

test('a tampered emergency.recover is refused as not authentic', async ({ app }) => {
  const { page } = app;
  await page.getByRole('button', { name: 'Import secret' }).click();
  await page.getByTestId('secret-file').setInputFiles(path.join(node, 'hsm_secret'));
  await page.getByRole('button', { name: 'SCB force-close recovery' }).click();
  const bytes = readFileSync(path.join(node, 'emergency.recover'));
  bytes.writeUInt8(bytes.readUInt8(100) ^ 1, 100);
  await page.getByTestId('scb-file').setInputFiles({ name: 'emergency.recover', mimeType: 'application/octet-stream', buffer: bytes });
  await expect(page.getByRole('alert')).toContainText('Not authentic');
  await app.shot('16-scb-tampered');
});

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test, expect } from './harness';

const vectors = JSON.parse(
  readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '../vectors/cln/known-answers.json'), 'utf8'),
) as typeof import('../vectors/cln/known-answers.json');
const l1 = vectors.hsm_secret_cases[0]!;
const grouped = (hex: string) => hex.match(/.{4}/g)!.join(' ');

async function loadHex(page: import('@playwright/test').Page, hex: string) {
  await page.getByRole('button', { name: 'Import secret' }).click();
  await page.getByRole('tab', { name: 'Type or paste' }).click();
  await page.getByLabel(/64 hex digits/).fill(hex);
  await page.getByRole('button', { name: 'Load secret' }).click();
  await expect(page.getByRole('heading', { name: 'Is this your node?' })).toBeVisible();
}

test('a paper copy with one wrong group is pinpointed against the loaded secret', async ({ app }) => {
  const { page } = app;
  await loadHex(page, l1.secret_data_hex);
  await page.getByRole('button', { name: 'Verify paper backup' }).click();
  // group 3 (digits 9–12) mistyped
  const copy = l1.secret_data_hex.slice(0, 8) + 'ffff' + l1.secret_data_hex.slice(12);
  await page.getByLabel(/Paper copy/).fill(grouped(copy));
  await page.getByRole('button', { name: 'Compare' }).click();
  await expect(page.getByTestId('paper-diff')).toBeVisible();
  await expect(page.locator('.unit.differs')).toHaveCount(1);
  await expect(page.locator('.unit.differs')).toHaveAttribute('title', /group 3 \(digits 9–12\)/);
  await app.shot('09-paper-diff');
  await page.getByLabel(/Paper copy/).fill(grouped(l1.secret_data_hex));
  await page.getByRole('button', { name: 'Compare' }).click();
  await expect(page.getByRole('status').first()).toContainText('The copy matches');
});

test('typo repair against a typed node id finds a two-digit error, with progress', async ({ app }) => {
  const { page } = app;
  await page.getByRole('button', { name: 'Verify paper backup' }).click();
  const wrong = l1.secret_data_hex.split('');
  wrong[5] = wrong[5] === '0' ? '1' : '0';
  wrong[40] = wrong[40] === 'a' ? 'b' : 'a';
  await page.getByLabel(/Paper copy/).fill(grouped(wrong.join('')));
  await page.getByLabel('Your node id (66 hex digits)').fill(l1.node_id);
  await page.getByRole('button', { name: 'Compare' }).click();
  await expect(page.getByTestId('paper-diff')).toContainText(/differ|another node id|not/i);
  await page.getByRole('button', { name: /Search for typos/ }).click();
  await expect(page.locator('.progress')).toBeVisible();
  await app.shot('10-typo-repair-progress');
  await expect(page.getByTestId('repair-result')).toContainText('1 correction(s)', { timeout: 90_000 });
  await expect(page.getByTestId('repair-result')).toContainText('digit 6');
  await expect(page.getByTestId('repair-result')).toContainText('digit 41');
  await app.shot('11-typo-repair-result');
});

test('the paper sheet shows line checks and the codex32 string, and prints to a PDF', async ({ app }) => {
  const { page } = app;
  await loadHex(page, l1.secret_data_hex);
  await page.getByRole('button', { name: 'Print sheet' }).click();
  await page.getByLabel(/codex32 identifier/).fill('leet');
  await expect(page.getByTestId('sheet')).toContainText(l1.codex32_cl_id_leet_first32);
  await expect(page.locator('.sheet-hex tr')).toHaveCount(4);
  await app.shot('12-print-sheet');
  await page.getByRole('button', { name: 'Save as PDF…' }).click();
  // A PDF of the secret is a copy of the secret: the operator confirms first.
  await expect(page.getByTestId('pdf-warning')).toContainText('A PDF of this sheet is a copy of your secret');
  await page.getByRole('button', { name: 'I understand — save the PDF' }).click();
  await expect(page.getByRole('status')).toContainText('Saved to');
  const pdf = readFileSync(path.join(app.outDir, 'hsm_secret-paper-sheet.pdf'));
  expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
  expect(pdf.length).toBeGreaterThan(1000);
});

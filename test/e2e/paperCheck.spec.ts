/**
 * The paper check and the paper sheet (issue 12 §8, §10): positions as sheet line and group, the
 * copy laid out 4 × 4 as on the sheet, "apply this correction", a typo search that can start again
 * after Cancel, no stale diff beside a new error, codex32 errors located by the checksum (shown,
 * never applied); a real Print, a warning before a PDF of the secret, and the mnemonic sheet that
 * leads with the words.
 */
import { test, expect } from './harness';
import { grouped, loadTyped, ours, shotAllSizes, vectors } from './helpers';
import { CODEX32_CHARSET } from '../../shared/codex32';

test('§8 positions are sheet line and group; the copy is laid out 4 × 4; the correction is applied on request', async ({ app }) => {
  const { page } = app;
  await page.getByRole('button', { name: 'Verify paper backup' }).click();
  const wrong = ours.secret_data_hex.split('');
  wrong[40] = wrong[40] === 'a' ? 'b' : 'a'; // digit 41: line 3, group 3 (one digit: found at once)
  await page.getByLabel(/Paper copy/).fill(grouped(wrong.join('')));
  await page.getByLabel('Your node id (66 hex digits)').fill(ours.node_id);
  await page.getByRole('button', { name: 'Compare' }).click();
  await expect(page.getByTestId('paper-diff')).toContainText('a different node id');
  await page.getByRole('button', { name: /Search for typos/ }).click();
  const result = page.getByTestId('repair-result');
  await expect(result).toContainText('1 correction(s)', { timeout: 90_000 });
  await expect(result).toContainText('digit 41 (line 3, group 3, position 1 of 4)');
  await shotAllSizes(app, 'paper-typo-found');
  await result.getByRole('button', { name: 'Apply this correction to the copy' }).click();
  await expect(page.getByLabel(/Paper copy/)).toHaveValue(grouped(ours.secret_data_hex));
  await expect(page.getByTestId('paper-diff')).toContainText('The copy gives this node id: it is right.');

  // Against a loaded secret: groups in the sheet's 4 lines of 4, the differing one named by line and group.
  await loadTyped(page, ours.secret_data_hex);
  await page.getByRole('button', { name: 'Verify paper backup' }).click();
  await page.getByLabel(/Paper copy/).fill(grouped(ours.secret_data_hex.slice(0, 24) + 'ffff' + ours.secret_data_hex.slice(28)));
  await page.getByRole('button', { name: 'Compare' }).click();
  await expect(page.getByTestId('paper-diff')).toContainText('Line 2, group 3 (digits 25–28) differs');
  const units = page.getByTestId('paper-units');
  await expect(units.locator('.line-label')).toHaveText(['line 1', 'line 2', 'line 3', 'line 4']);
  await expect(units.locator('.unit.differs')).toHaveAttribute('title', 'line 2, group 3 (digits 25–28)');
  // Four groups a row, as on the sheet.
  const tops = await units.locator('.unit').evaluateAll((els) => els.map((e) => Math.round((e as unknown as { getBoundingClientRect(): { top: number } }).getBoundingClientRect().top)));
  expect(new Set(tops).size).toBe(4);
  await shotAllSizes(app, 'paper-diff-4x4');
});

test('§8 a cancelled typo search can be started again; a new error replaces the old diff', async ({ app }) => {
  const { page } = app;
  await page.getByRole('button', { name: 'Verify paper backup' }).click();
  const wrong = ours.secret_data_hex.split('');
  for (const i of [3, 17, 33]) wrong[i] = wrong[i] === '5' ? '6' : '5'; // three wrong digits: a long search
  await page.getByLabel(/Paper copy/).fill(grouped(wrong.join('')));
  await page.getByLabel('Your node id (66 hex digits)').fill(ours.node_id);
  await page.getByRole('button', { name: 'Compare' }).click();
  await page.getByRole('button', { name: /Search for typos/ }).click();
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.locator('.progress')).toContainText('cancelled');
  await expect(page.getByRole('button', { name: /Search for typos/ })).toBeVisible();
  await page.getByRole('button', { name: /Search for typos/ }).click();
  await expect(page.getByRole('button', { name: 'Cancel' })).toBeVisible();
  await page.getByRole('button', { name: 'Cancel' }).click();

  // A copy that cannot be read: the error, and no diff of the previous copy beside it.
  await expect(page.getByTestId('paper-diff')).toBeVisible();
  await page.getByLabel(/Paper copy/).fill('!!!');
  await page.getByRole('button', { name: 'Compare' }).click();
  await expect(page.getByRole('alert')).toContainText('not recognised');
  await expect(page.getByTestId('paper-diff')).toHaveCount(0);
});

test('§8 codex32: the checksum locates the wrong characters; they are shown, never applied', async ({ app }) => {
  const { page } = app;
  const c = vectors.hsm_secret_cases[3]!;
  const good = c.codex32_cl_id_leet_first32;
  const chars = good.split('');
  const swap = (i: number) => (chars[i] = CODEX32_CHARSET[(CODEX32_CHARSET.indexOf(chars[i]!) + 1) % 32]!);
  swap(20);
  swap(45);
  const typed = chars.join('');
  await page.getByRole('button', { name: 'Verify paper backup' }).click();
  await page.getByLabel(/Paper copy/).fill(typed);
  await page.getByLabel('Your node id (66 hex digits)').fill(c.node_id);
  await page.getByRole('button', { name: 'Compare' }).click();
  const fixes = page.getByTestId('codex32-fixes');
  await expect(fixes).toContainText(`character 21: "${typed[20]}" → "${good[20]}"`);
  await expect(fixes).toContainText(`character 46: "${typed[45]}" → "${good[45]}"`);
  await expect(page.getByLabel(/Paper copy/)).toHaveValue(typed);
  await shotAllSizes(app, 'paper-codex32-located');
});

test('§10 the sheet prints on a printer; a PDF needs the operator to accept it is a copy of the secret', async ({ app }) => {
  const { page } = app;
  await loadTyped(page, ours.secret_data_hex);
  await page.getByRole('button', { name: 'Print sheet' }).click();
  await expect(page.getByTestId('sheet')).toBeVisible();
  await page.getByRole('button', { name: 'Print…' }).click();
  await expect(page.getByRole('status')).toContainText('Sent to the printer');
  expect(app.printed).toHaveLength(1);
  expect(app.printed[0]).toContain(ours.secret_data_hex.slice(0, 4));
  app.printAnswers.push(false);
  await page.getByRole('button', { name: 'Print…' }).click();
  await expect(page.getByRole('status')).toContainText('Printing cancelled');
  await page.getByRole('button', { name: 'Save as PDF…' }).click();
  await expect(page.getByTestId('pdf-warning')).toContainText('A PDF of this sheet is a copy of your secret');
  await shotAllSizes(app, 'sheet-pdf-warning');
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByTestId('pdf-warning')).toHaveCount(0);
});

test('§10 a mnemonic node’s sheet leads with the words, on screen and on paper', async ({ app }) => {
  const { page } = app;
  const words = vectors.hsm_secret_cases.find((x) => x.mnemonic && !x.passphrase)!;
  await page.getByRole('button', { name: 'Import secret' }).click();
  await page.getByRole('tab', { name: 'Type or paste' }).click();
  await page.getByLabel(/64 hex digits/).fill(words.mnemonic!);
  await page.getByLabel(/v25.12 or later/).check();
  await page.getByRole('button', { name: 'Load secret' }).click();
  await page.getByRole('button', { name: 'Print sheet' }).click();
  const sheet = page.getByTestId('sheet');
  await expect(sheet.locator('h2').first()).toContainText('the complete backup of this node');
  await expect(sheet).toContainText('NOT the on-chain wallet');
  const order = await sheet.evaluate((el) => {
    const html = (el as unknown as { innerHTML: string }).innerHTML;
    return { words: html.indexOf('sheet-words'), hex: html.indexOf('sheet-hex') };
  });
  expect(order.words).toBeLessThan(order.hex);
  await shotAllSizes(app, 'sheet-mnemonic');
  await page.getByRole('button', { name: 'Print…' }).click();
  await expect(page.getByRole('status')).toContainText('Sent to the printer');
  const printed = app.printed[0]!;
  const first = words.mnemonic!.split(' ')[0]!;
  expect(printed.indexOf(`<li>${first}</li>`)).toBeGreaterThan(0);
  expect(printed.indexOf(`<li>${first}</li>`)).toBeLessThan(printed.indexOf('Node id (public'));
  expect(printed.indexOf('Node id (public')).toBeLessThan(printed.indexOf('as 64 hex digits'));
});

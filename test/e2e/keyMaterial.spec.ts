import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test, expect, fixturesDir } from './harness';
import { fileURLToPath } from 'node:url';

const vectors = JSON.parse(
  readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '../vectors/cln/known-answers.json'), 'utf8'),
) as typeof import('../vectors/cln/known-answers.json');

const legacyL1 = vectors.hsm_secret_cases[0]!;
const ritual = vectors.hsm_secret_cases.find((c) => c.format === 'mnemonic_with_pass')!;
const enc = vectors.encrypted_legacy;

test('import a plain hsm_secret file and confirm its node id against a known one', async ({ app }) => {
  const { page } = app;
  await page.getByRole('button', { name: 'Import secret' }).click();
  await app.shot('02-import-file');
  await page.getByTestId('secret-file').setInputFiles({
    name: 'hsm_secret',
    mimeType: 'application/octet-stream',
    buffer: Buffer.from(legacyL1.hsm_secret_file_hex, 'hex'),
  });
  await expect(page.getByRole('heading', { name: 'Is this your node?' })).toBeVisible();
  await expect(page.getByTestId('node-id')).toContainText(legacyL1.node_id.slice(2, 6));
  await expect(page.locator('.node-id-plain')).toHaveText(legacyL1.node_id);
  await page.getByLabel(/Compare with the node id you know/).fill(legacyL1.node_id);
  await expect(page.getByTestId('compare-verdict')).toContainText('They match');
  await app.shot('03-node-id-confirm');

  // a wrong known id marks the differing groups
  const wrong = legacyL1.node_id.slice(0, 20) + (legacyL1.node_id[20] === 'a' ? 'b' : 'a') + legacyL1.node_id.slice(21);
  await page.getByLabel(/Compare with the node id you know/).fill(wrong);
  await expect(page.getByTestId('compare-verdict')).toContainText('They differ');
  await expect(page.locator('.node-id-groups .differs')).toHaveCount(1);
  await app.shot('04-node-id-mismatch');
});

test('an encrypted hsm_secret asks for its passphrase; a wrong one is refused clearly', async ({ app }) => {
  const { page } = app;
  await page.getByRole('button', { name: 'Import secret' }).click();
  await page.getByTestId('secret-file').setInputFiles({ name: 'hsm_secret', mimeType: 'application/octet-stream', buffer: Buffer.from(enc.file_hex, 'hex') });
  await expect(page.getByRole('alert')).toContainText('Passphrase needed');
  await page.getByLabel('Passphrase for hsm_secret').fill('not the password');
  await page.getByRole('button', { name: 'Unlock' }).click();
  await expect(page.getByRole('alert')).toContainText('Wrong passphrase', { timeout: 20_000 });
  await app.shot('05-import-wrong-passphrase');
  await page.getByLabel('Passphrase for hsm_secret').fill(enc.password);
  await page.getByRole('button', { name: 'Unlock' }).click();
  await expect(page.locator('.node-id-plain')).toHaveText(enc.node_id, { timeout: 20_000 });
});

test('typed words with a passphrase, in both meanings, give the same node id', async ({ app }) => {
  const { page } = app;
  for (const meaning of [/v25.12 or later/, /hsmtool generatehsm/]) {
    await page.getByRole('button', { name: 'Import secret' }).click();
    await page.getByRole('tab', { name: 'Type or paste' }).click();
    await page.getByLabel(/64 hex digits/).fill(ritual.mnemonic!);
    await expect(page.getByTestId('text-kind')).toContainText('BIP39 words: 12');
    await page.getByLabel(meaning).check();
    await page.getByLabel(/BIP39 passphrase/).fill(ritual.passphrase!);
    await app.shot('06-import-words');
    await page.getByRole('button', { name: 'Load secret' }).click();
    await expect(page.locator('.node-id-plain')).toHaveText(ritual.node_id);
  }
});

test('typed hex with groups and dashes; a non-hex character is named', async ({ app }) => {
  const { page } = app;
  await page.getByRole('button', { name: 'Import secret' }).click();
  await page.getByRole('tab', { name: 'Type or paste' }).click();
  const hex = legacyL1.secret_data_hex.match(/.{4}/g)!.join(' ');
  await page.getByLabel(/64 hex digits/).fill(hex.slice(0, 10) + 'g' + hex.slice(11));
  await page.getByRole('button', { name: 'Load secret' }).click();
  await expect(page.getByRole('alert')).toBeVisible();
  await app.shot('07-import-bad-hex');
  await page.getByLabel(/64 hex digits/).fill(hex.replace(/ /g, '-'));
  await page.getByRole('button', { name: 'Load secret' }).click();
  await expect(page.locator('.node-id-plain')).toHaveText(legacyL1.node_id);
});

test('codex32 string in, codex32 and words out, hsm_secret exported with mode 0400 and never overwritten', async ({ app }) => {
  const { page } = app;
  const c = vectors.hsm_secret_cases[3]!; // ffee..00 x2
  await page.getByRole('button', { name: 'Import secret' }).click();
  await page.getByRole('tab', { name: 'Type or paste' }).click();
  await page.getByLabel(/64 hex digits/).fill(c.codex32_cl_id_leet_first32);
  await expect(page.getByTestId('text-kind')).toContainText('codex32');
  await page.getByRole('button', { name: 'Load secret' }).click();
  await expect(page.locator('.node-id-plain')).toHaveText(c.node_id);

  await page.getByRole('button', { name: 'Export secret' }).click();
  await page.getByLabel('codex32 id').fill('leet');
  await page.getByRole('button', { name: 'Show as codex32' }).click();
  await expect(page.getByTestId('revealed')).toHaveText(c.codex32_cl_id_leet_first32);
  await app.shot('08-export');
  await page.getByRole('button', { name: 'Save hsm_secret…' }).click();
  await expect(page.getByRole('status')).toContainText('Written to');
  const file = path.join(app.outDir, 'hsm_secret');
  expect(readFileSync(file).toString('hex')).toBe(c.secret_data_hex);
  expect(statSync(file).mode & 0o777).toBe(0o400);
  await page.getByRole('button', { name: 'Save hsm_secret…' }).click();
  await expect(page.getByRole('alert')).toContainText('already exists');
});

test('the fixture node files give the node ids lightningd reported', async ({ app }) => {
  const { page } = app;
  for (const dir of ['single-node', 'channel-node']) {
    const getinfo = JSON.parse(readFileSync(path.join(fixturesDir, 'lightningd', dir, 'getinfo.json'), 'utf8'));
    await page.getByRole('button', { name: 'Import secret' }).click();
    await page.getByTestId('secret-file').setInputFiles(path.join(fixturesDir, 'lightningd', dir, 'hsm_secret'));
    await expect(page.locator('.node-id-plain')).toHaveText(getinfo.id);
  }
});

/**
 * Typing and reading secrets (issue 12 §3, §9): a node id mismatch blocks "Yes, this is my node"
 * and offers the typo search and the paper check; secret fields are monospace with show/hide; a
 * hex copy with O for 0 gets the hex error; a text file holding the secret is accepted; BIP39
 * suggestions list every match.
 */
import { test, expect } from './harness';
import { grouped, loadTyped, ours, shotAllSizes, vectors } from './helpers';

const mono = (loc: import('@playwright/test').Locator) =>
  loc.evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { fontFamily: string } }).getComputedStyle(el).fontFamily);

test('§3 a mismatch blocks "Yes, this is my node"; the typo search finds the wrong digit and loads the correction', async ({ app }) => {
  const { page } = app;
  // The hex copy typed with one wrong digit (digit 23: line 2, group 2): it loads, as another node.
  const wrong = ours.secret_data_hex.split('');
  wrong[22] = wrong[22] === 'a' ? 'b' : 'a';
  await loadTyped(page, grouped(wrong.join('')));
  await expect(page.locator('.node-id-plain')).not.toHaveText(ours.node_id);
  await page.getByLabel(/Compare with the node id you know/).fill(ours.node_id);
  await expect(page.getByTestId('compare-verdict')).toContainText('They differ');
  await expect(page.getByRole('button', { name: 'Yes, this is my node' })).toBeDisabled();
  await expect(page.getByTestId('mismatch-help')).toContainText('The secret was typed');
  await shotAllSizes(app, 'nodeid-mismatch-blocked');
  await page.getByRole('button', { name: 'Search for the typo in what I typed' }).click();
  const result = page.getByTestId('repair-result');
  await expect(result).toContainText('1 correction(s) give this node id', { timeout: 90_000 });
  await expect(result).toContainText('digit 23 (line 2, group 2, position 3 of 4)');
  await shotAllSizes(app, 'nodeid-typo-found');
  await result.getByRole('button', { name: 'Load this correction' }).click();
  await expect(page.locator('.node-id-plain')).toHaveText(ours.node_id);
  await expect(page.getByTestId('compare-verdict')).toContainText('They match');
  await expect(page.getByRole('button', { name: 'Yes, this is my node' })).toBeEnabled();
});

test('§3 the paper check opens on the node id typed at the mismatch, not on the wrong secret', async ({ app }) => {
  const { page } = app;
  const other = vectors.hsm_secret_cases[3]!;
  await loadTyped(page, other.secret_data_hex);
  await page.getByLabel(/Compare with the node id you know/).fill(ours.node_id);
  await expect(page.getByRole('button', { name: 'Yes, this is my node' })).toBeDisabled();
  await page.getByRole('button', { name: 'Check my paper copy against this node id' }).click();
  await expect(page.getByRole('heading', { name: 'Verify a paper backup' })).toBeVisible();
  await expect(page.getByLabel('a node id I type')).toBeChecked();
  await expect(page.getByLabel('Your node id (66 hex digits)')).toHaveValue(ours.node_id);
  await page.getByLabel(/Paper copy/).fill(grouped(ours.secret_data_hex));
  await page.getByRole('button', { name: 'Compare' }).click();
  await expect(page.getByTestId('paper-diff')).toContainText('The copy gives this node id: it is right.');
});

test('§9 secret fields are monospace, with show/hide; passphrases too', async ({ app }) => {
  const { page } = app;
  await page.getByRole('button', { name: 'Import secret' }).click();
  await page.getByRole('tab', { name: 'Type or paste' }).click();
  const box = page.getByLabel(/64 hex digits/);
  expect(await mono(box)).toMatch(/mono/i);
  await box.fill(vectors.hsm_secret_cases.find((c) => c.mnemonic)!.mnemonic!);
  const pass = page.getByLabel('BIP39 passphrase (leave empty if none)');
  await expect(pass).toHaveAttribute('type', 'password');
  expect(await mono(pass)).toMatch(/mono/i);
  await page.getByRole('button', { name: 'Show the passphrase' }).click();
  await expect(pass).toHaveAttribute('type', 'text');
  await page.getByRole('button', { name: 'Hide the passphrase' }).click();
  await expect(pass).toHaveAttribute('type', 'password');
  await page.getByRole('button', { name: 'Hide the text' }).click();
  await expect(box).toHaveClass(/hidden/);
  await page.getByRole('button', { name: 'Verify paper backup' }).click();
  expect(await mono(page.getByLabel(/Paper copy/))).toMatch(/mono/i);
});

test('§9 a hex copy with O for 0 is read as hex with a precise error, not as unknown BIP39 words', async ({ app }) => {
  const { page } = app;
  await page.getByRole('button', { name: 'Import secret' }).click();
  await page.getByRole('tab', { name: 'Type or paste' }).click();
  // Every 0 written as the letter O and every 1 as l: most groups are all letters.
  const typed = grouped('ffeeddccbbaa00110011001100110011001100110011001100110011abcd0011').replace(/0/g, 'O').replace(/1/g, 'l');
  await page.getByLabel(/64 hex digits/).fill(typed);
  await expect(page.getByTestId('text-kind')).toContainText('Looks like hex');
  await expect(page.getByTestId('text-kind')).toContainText('Character 16 is "O", not a hex digit (0–9, a–f): the digit 0?');
  await page.getByRole('button', { name: 'Load secret' }).click();
  const alert = page.getByRole('alert');
  await expect(alert).toContainText('Not hexadecimal');
  await expect(alert).toContainText('"O", is not a hex digit (it would be digit 13: line 1, group 4, position 1 of 4) (perhaps the digit 0)');
  await expect(alert).not.toContainText('BIP39');
  await shotAllSizes(app, 'import-hex-lookalike');
});

test('§9 a text file holding the hex, the words or the codex32 string is accepted (as the CLI does)', async ({ app }) => {
  const { page } = app;
  const words = vectors.hsm_secret_cases.find((c) => c.mnemonic && !c.passphrase)!;
  const codex = vectors.hsm_secret_cases[3]!;
  for (const [name, text, nodeId] of [
    ['hsm_secret.txt', grouped(ours.secret_data_hex) + '\n', ours.node_id],
    ['words.txt', words.mnemonic! + '\n', words.node_id],
    ['codex32.txt', codex.codex32_cl_id_leet_first32 + '\n', codex.node_id],
  ] as const) {
    await page.getByRole('button', { name: 'Import secret' }).click();
    await page.getByTestId('secret-file').setInputFiles({ name, mimeType: 'text/plain', buffer: Buffer.from(text) });
    await expect(page.locator('.node-id-plain')).toHaveText(nodeId);
  }
});

test('§9 word suggestions list every BIP39 word that starts so ("wi" includes wire)', async ({ app }) => {
  const { page } = app;
  await page.getByRole('button', { name: 'Import secret' }).click();
  await page.getByRole('tab', { name: 'Type or paste' }).click();
  await page.getByLabel(/64 hex digits/).fill('abandon wi');
  const list = page.getByRole('group', { name: 'Words starting "wi"' });
  const all = await list.getByRole('button').allTextContents();
  const { wordlist } = await import('@scure/bip39/wordlists/english.js');
  expect(all).toEqual(wordlist.filter((w) => w.startsWith('wi')));
  expect(all).toContain('wire');
  await list.getByRole('button', { name: 'wire' }).click();
  await expect(page.getByLabel(/64 hex digits/)).toHaveValue('abandon wire ');
  await shotAllSizes(app, 'import-word-suggestions');
});

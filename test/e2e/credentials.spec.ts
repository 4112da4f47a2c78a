import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test, expect } from './harness';
import {
  decodeMacaroon,
  decodeRune,
  encodeRune,
  restrictRune,
  verifyMacaroon,
} from '../../shared/credentials';
import { hexToBytes } from '../../shared/bytes';

const vectorsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'vectors');
const readJson = <T>(p: string): T => JSON.parse(readFileSync(path.join(vectorsDir, p), 'utf8')) as T;

const lnd = readJson<typeof import('../vectors/lnd/pymacaroons-lnd.json')>('lnd/pymacaroons-lnd.json');
const admin = lnd.cases.find((c) => c.name === 'admin, no caveats')!;
const cln = readJson<typeof import('../vectors/cln/known-answers.json')>('cln/known-answers.json');
const legacyL1 = cln.hsm_secret_cases[0]!;
const modernL2 = cln.hsm_secret_cases.find((c) => c.name === 'pyln-testing modern l2')!;
const createrune = readJson<typeof import('../vectors/cln-runes/createrune-examples.json')>(
  'cln-runes/createrune-examples.json',
);
const readonlyExample = createrune.createrune_examples.find((e) => e.id === 'example:createrune#2')!;

// datetime-local fields are local time: pin the zone so the times below are UTC.
test.use({ timezoneId: 'UTC' });

test('LND admin macaroon: permissions, attenuate with expiry and IP, verify with the root key (valid, expired, wrong IP, wrong key), save', async ({
  app,
}) => {
  const { page } = app;
  await page.getByRole('button', { name: 'Credentials' }).click();
  await expect(page.getByRole('heading', { name: 'Credentials: runes and macaroons' })).toBeVisible();

  await page.getByLabel(/Paste a macaroon/).fill(admin.macaroon_hex);
  await page.getByRole('button', { name: 'Inspect' }).click();
  const view = page.getByTestId('cred-view');
  await expect(view).toContainText('LND macaroon');
  await expect(page.getByTestId('cred-view-summary')).toContainText('offchain: read & write');
  await expect(page.getByTestId('cred-view-summary')).toContainText(
    'no caveats: never expires, usable from any address',
  );
  await view.getByText(/^Permissions \(19\)/).click();
  const perms = await page.getByTestId('cred-view-permissions').locator('li').allTextContents();
  expect(perms).toEqual(admin.printmacaroon.permissions);
  await expect(view).toContainText('Not verified: give the root key');
  await app.shot('20-credentials-macaroon');

  // Narrow: an expiry and an IP address (no root key needed).
  await page.locator('#narrow-expires').fill('2030-01-01T00:00:00');
  await page.locator('#narrow-ip').fill('192.0.2.10');
  await page.getByRole('button', { name: 'Add caveats' }).click();
  const result = page.getByTestId('cred-restricted');
  await expect(result).toContainText('added: time-before 2030-01-01T00:00:00Z; ipaddr 192.0.2.10');
  await expect(page.getByTestId('cred-restricted-details-summary')).toContainText(
    'expires at 2030-01-01T00:00:00Z',
  );
  await expect(page.getByTestId('cred-restricted-details-summary')).toContainText(
    'only from IP address 192.0.2.10',
  );
  await expect(result.locator('img.qr')).toBeVisible();
  const narrowed = await page.getByTestId('cred-restricted-text').inputValue();
  // The engine, independently of the UI: same permissions, chained signature valid under the root key.
  const m = decodeMacaroon(narrowed);
  expect(m.caveats.map((c) => new TextDecoder().decode(c.id))).toEqual([
    'time-before 2030-01-01T00:00:00Z',
    'ipaddr 192.0.2.10',
  ]);
  const rootKey = hexToBytes(lnd.root_key_hex);
  expect(
    verifyMacaroon(m, rootKey, { now: new Date('2029-06-01T00:00:00Z'), ip: '192.0.2.10' }).verdict,
  ).toBe('valid');
  await app.shot('21-credentials-attenuated');

  // Verify the new one with the root key: before the expiry from the allowed IP.
  await result.getByRole('button', { name: 'Check this one' }).click();
  await expect(page.getByLabel(/Paste a macaroon/)).toHaveValue(narrowed);
  await page.locator('#cred-rootkey').fill(lnd.root_key_hex);
  await page.locator('#cred-at').fill('2029-12-31T23:59:00');
  await page.locator('#cred-ip').fill('192.0.2.10');
  await page.getByRole('button', { name: 'Inspect' }).click();
  const verification = page.getByTestId('cred-view-verification');
  await expect(verification).toContainText(
    'Valid at 2029-12-31T23:59:00.000Z from 192.0.2.10; signature matches this root key',
  );
  await expect(verification.locator('.pill.satisfied')).toHaveCount(2);
  await app.shot('22-credentials-verify-valid');

  // After the expiry.
  await page.locator('#cred-at').fill('2030-01-01T00:00:01');
  await page.getByRole('button', { name: 'Inspect' }).click();
  await expect(verification).toContainText('Invalid at 2030-01-01T00:00:01.000Z');
  await expect(verification).toContainText('expired at 2030-01-01T00:00:00Z');
  await app.shot('23-credentials-verify-expired');

  // From another address.
  await page.locator('#cred-at').fill('2029-12-31T23:59:00');
  await page.locator('#cred-ip').fill('198.51.100.7');
  await page.getByRole('button', { name: 'Inspect' }).click();
  await expect(verification).toContainText('Invalid');
  await expect(verification).toContainText('IP 198.51.100.7 not allowed (only 192.0.2.10)');
  await app.shot('24-credentials-verify-wrong-ip');

  // Another root key: the signature does not match.
  await page.locator('#cred-ip').fill('192.0.2.10');
  await page.locator('#cred-rootkey').fill('ff'.repeat(32));
  await page.getByRole('button', { name: 'Inspect' }).click();
  await expect(verification).toContainText('does NOT match this root key');
  await expect(verification).toContainText('invalid signature');

  // Save as LND's binary file: mode 0600, the same macaroon.
  await result.getByRole('button', { name: 'Save as .macaroon file…' }).click();
  await expect(result.getByRole('status')).toContainText('Saved to');
  const file = path.join(app.outDir, 'restricted.macaroon');
  expect(statSync(file).mode & 0o777).toBe(0o600);
  expect(Buffer.from(readFileSync(file)).toString('hex')).toBe(narrowed);
  // Never overwritten: a second save of the same name is refused.
  await result.getByRole('button', { name: 'Save as .macaroon file…' }).click();
  await expect(page.getByRole('alert')).toContainText('File already exists');
});

test('a dropped binary .macaroon file is read as a macaroon', async ({ app }) => {
  const { page } = app;
  await page.getByRole('button', { name: 'Credentials' }).click();
  await page
    .getByTestId('cred-file')
    .setInputFiles({
      name: 'admin.macaroon',
      mimeType: 'application/octet-stream',
      buffer: Buffer.from(admin.macaroon_hex, 'hex'),
    });
  await expect(page.getByText('Using the file admin.macaroon.')).toBeVisible();
  await page.getByRole('button', { name: 'Inspect' }).click();
  await expect(page.getByTestId('cred-view-summary')).toContainText('root key id "0"');
});

test('mint the master rune of a loaded legacy secret (known answer) and restrict it with a method', async ({
  app,
}) => {
  const { page } = app;
  await page.getByRole('button', { name: 'Credentials' }).click();
  await expect(page.getByText('Runes are made from the node’s hsm_secret')).toBeVisible();

  await page.getByRole('button', { name: 'Import secret' }).first().click();
  await page.getByTestId('secret-file').setInputFiles({
    name: 'hsm_secret',
    mimeType: 'application/octet-stream',
    buffer: Buffer.from(legacyL1.hsm_secret_file_hex, 'hex'),
  });
  await expect(page.locator('.node-id-plain')).toHaveText(legacyL1.node_id);

  await page.getByRole('button', { name: 'Credentials' }).click();
  await page.locator('#mint-uid').fill('0');
  await page.getByRole('button', { name: 'Mint rune' }).click();
  const minted = page.getByTestId('cred-minted');
  await expect(page.getByTestId('cred-minted-text')).toHaveValue(legacyL1.master_rune_uid0_as_node);
  await expect(minted).toContainText('Made by the loaded node’s secret');
  await expect(minted).toContainText('Unrestricted');
  await app.shot('25-credentials-mint-master-rune');

  await minted.getByRole('button', { name: 'Check this one' }).click();
  await page.getByRole('button', { name: 'Inspect' }).click();
  await expect(page.getByTestId('cred-view')).toContainText('unique id 0');
  await expect(page.getByTestId('cred-view')).toContainText('Made by the loaded node’s secret');
  await page.locator('#narrow-methods').fill('listpeers');
  await page.getByRole('button', { name: 'Add restrictions' }).click();
  const expected = encodeRune(
    restrictRune(decodeRune(legacyL1.master_rune_uid0_as_node), [
      [{ field: 'method', condition: '=', value: 'listpeers' }],
    ]),
  );
  await expect(page.getByTestId('cred-restricted-text')).toHaveValue(expected);
  await expect(page.getByTestId('cred-restricted-details-summary')).toHaveText('may call only listpeers');
  await expect(page.getByTestId('cred-restricted')).toContainText('Made by the loaded node’s secret');
  await app.shot('26-credentials-rune-restricted');

  // Runes carry no IP: the narrowing form for a rune does not offer one.
  await expect(page.locator('#narrow-ip')).toHaveCount(0);
});

test('mnemonic node (64-byte seed): the minted rune is the one lightningd makes, and readonly gives createrune’s answer', async ({
  app,
}) => {
  const { page } = app;
  await page.getByRole('button', { name: 'Import secret' }).click();
  await page.getByRole('tab', { name: 'Type or paste' }).click();
  await page.getByLabel(/64 hex digits/).fill(modernL2.mnemonic!);
  await page.getByLabel(/v25.12 or later/).check();
  await page.getByRole('button', { name: 'Load secret' }).click();
  await expect(page.locator('.node-id-plain')).toHaveText(modernL2.node_id);

  await page.getByRole('button', { name: 'Credentials' }).click();
  await page.locator('#mint-uid').fill('0');
  await page.getByRole('button', { name: 'Mint rune' }).click();
  // lightningd's rune, not lightning-hsmtool makerune's (which only uses the first 32 bytes).
  await expect(page.getByTestId('cred-minted-text')).toHaveValue(modernL2.master_rune_uid0_as_node);
  expect(modernL2.master_rune_uid0_as_node).not.toBe(modernL2.hsmtool_makerune_uid0);

  // The hsmtool variant is recognised as not this node's.
  await page.getByLabel(/Paste a macaroon/).fill(modernL2.hsmtool_makerune_uid0);
  await page.getByRole('button', { name: 'Inspect' }).click();
  await expect(page.getByTestId('cred-view')).toContainText('Not made by the loaded node’s secret');

  await page.getByTestId('cred-minted').getByRole('button', { name: 'Check this one' }).click();
  await page.getByRole('button', { name: 'Inspect' }).click();
  await page.locator('#narrow-readonly').check();
  await page.getByRole('button', { name: 'Add restrictions' }).click();
  await expect(page.getByTestId('cred-restricted-text')).toHaveValue(readonlyExample.response.rune);
});

test('garbage text gives a clear error in the banner; a rune without a loaded secret is described but not authenticated', async ({
  app,
}) => {
  const { page } = app;
  await page.getByRole('button', { name: 'Credentials' }).click();
  await page.getByLabel(/Paste a macaroon/).fill('this is not a credential');
  await page.getByRole('button', { name: 'Inspect' }).click();
  const alert = page.getByRole('alert');
  await expect(alert).toContainText('That input is not valid');
  await expect(alert).toContainText('This is neither an LND macaroon nor a Core Lightning rune');
  await expect(page.getByTestId('cred-view')).toHaveCount(0);
  await app.shot('27-credentials-bad-input');

  await page.getByLabel(/Paste a macaroon/).fill(readonlyExample.response.rune);
  await page.getByRole('button', { name: 'Inspect' }).click();
  await expect(alert).toHaveCount(0);
  await expect(page.getByTestId('cred-view-summary')).toContainText('may call only methods starting with');
  await expect(page.getByTestId('cred-view')).toContainText(
    'No secret is loaded: whether this node made the rune was not checked',
  );

  // A truncated hex macaroon names the macaroon problem only.
  await page.getByLabel(/Paste a macaroon/).fill(admin.macaroon_hex.slice(0, 100));
  await page.getByRole('button', { name: 'Inspect' }).click();
  await expect(alert).toContainText('macaroon:');
  await expect(alert).not.toContainText('As a rune');
});

test('rotation reminder: record the last rotation, see the next due date (+90 days)', async ({ app }) => {
  const { page } = app;
  await page.getByRole('button', { name: 'Credentials' }).click();
  const status = page.getByTestId('rotation-status');
  await expect(status).toContainText('No rotation recorded');
  await page.getByLabel('Last rotation').fill('2024-01-01');
  await page.getByRole('button', { name: 'Record', exact: true }).click();
  await expect(status).toContainText('Last rotation 2024-01-01; next due 2024-03-31 (overdue by');
  await expect(status).toHaveClass(/bad/);
  await page.getByRole('button', { name: 'Rotated today' }).click();
  await expect(status).toContainText('(in 90 days)');
  await app.shot('28-credentials-rotation');
  // Kept by the backend: leaving and coming back shows it again.
  await page.getByRole('button', { name: 'Home' }).click();
  await page.getByRole('button', { name: 'Credentials' }).click();
  await expect(status).toContainText('(in 90 days)');
});

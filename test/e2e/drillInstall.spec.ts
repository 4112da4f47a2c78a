import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test, expect, fixturesDir } from './harness';
import { parsePluginWrapper } from '../../shared/cldcb/wrapper';
import { checkRecognition } from '../../shared/cldcb/recognition';
import { hexToBytes } from '../../shared/bytes';
import { nodePrivateKey } from '../../shared/secrets/nodeKey';

const vectors = JSON.parse(
  readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '../vectors/cln/known-answers.json'), 'utf8'),
) as typeof import('../vectors/cln/known-answers.json');

test('the demo drill runs the whole chain on the bundled real trace and passes, labelled as a demo', async ({ app }) => {
  const { page } = app;
  await page.getByRole('button', { name: 'Drill', exact: true }).click();
  await page.getByRole('button', { name: 'Run the demo drill' }).click();
  await expect(page.getByTestId('drill-report')).toContainText('DEMO PASSED', { timeout: 90_000 });
  // A demo is not a drill of the operator's node: no due date from it.
  await expect(page.getByTestId('drill-report')).toContainText('It is not a drill of your node');
  await expect(page.getByTestId('drill-report')).not.toContainText('next drill due');
  await expect(page.getByTestId('drill-due')).toContainText('No drill of your node has passed yet');
  await app.shot('31-drill-demo');
  await page.getByRole('button', { name: 'Save report as JSON…' }).click();
  const report = JSON.parse(readFileSync(path.join(app.outDir, 'cldcb-drill-report.json'), 'utf8'));
  expect(report.pass).toBe(true);
});

test('install ceremony: client key, signed recognition code, wrapper (0700) and client id', async ({ app }) => {
  const { page } = app;
  const l1 = vectors.hsm_secret_cases[0]!;
  await page.getByRole('button', { name: 'Import secret' }).click();
  await page.getByRole('tab', { name: 'Type or paste' }).click();
  await page.getByLabel(/64 hex digits/).fill(l1.secret_data_hex);
  await page.getByRole('button', { name: 'Load secret' }).click();
  await page.getByRole('button', { name: 'Install backup' }).click();
  const sid = readFileSync(path.join(fixturesDir, 'cldcb', 'server_id'), 'utf8').match(/5[23][0-9a-f]{64}/)![0];
  await page.getByLabel('Backup server 1').fill(`${sid}@127.0.0.1:29735`);
  await page.getByRole('button', { name: 'Make the client key and sign' }).click();
  await expect(page.getByTestId('client-id-1')).toHaveText(/^c[23][0-9a-f]{64}$/);
  await expect(page.getByTestId('wrapper-preview')).toContainText('hidden');
  await expect(page.getByTestId('wrapper-preview')).not.toContainText(/# cpk = [0-9a-f]{64}/);
  await app.shot('32-install-ceremony');
  await page.getByRole('button', { name: 'Save wrapper…' }).click();
  await expect(page.getByRole('status').last()).toContainText('Saved');
  const file = path.join(app.outDir, 'cldcb-plugin-wrapper');
  expect(statSync(file).mode & 0o777).toBe(0o700);
  const cfg = parsePluginWrapper(readFileSync(file, 'utf8'));
  const cid = await page.getByTestId('client-id-1').textContent();
  expect(Buffer.from(cfg.clientId).toString('hex').slice(1)).toBe(cid!.slice(1));
  expect(checkRecognition(nodePrivateKey(hexToBytes(l1.secret_data_hex)), cfg.clientId, cfg.nodeSignature)).toBe(true);
  await page.getByRole('button', { name: 'Save client id…' }).click();
  expect(readFileSync(path.join(app.outDir, 'cldcb-client-id.txt'), 'utf8').trim()).toBe(cid);
});

import { test, expect } from './harness';

test('home screen offers the operator its choices, offline', async ({ app }) => {
  const { page } = app;
  await expect(page.getByRole('heading', { name: 'What do you want to do?' })).toBeVisible();
  await expect(page.getByText('Offline', { exact: true })).toBeVisible();
  await expect(page.getByText('No secret loaded')).toBeVisible();
  await app.shot('01-home');
});

test('the renderer cannot reach the network', async ({ app }) => {
  const outcome = await app.page.evaluate(async () => {
    try {
      await fetch('http://example.com/');
      return 'reached';
    } catch {
      return 'blocked';
    }
  });
  expect(outcome).toBe('blocked');
});

test('requests from an untrusted page are refused by the handler table', async ({ app }) => {
  const r = await app.backend.dispatch('app.info', {}, 'https://evil.example/');
  expect(r.ok).toBe(false);
  const good = await app.backend.dispatch('app.info', {}, `${app.origin}/index.html`);
  expect(good).toMatchObject({ ok: true, value: { host: 'e2e', online: false } });
});

test('keyboard alone reaches the import screen', async ({ app }) => {
  const { page } = app;
  // Tab through the page (as a keyboard user would) until the "Import secret" navigation button has focus.
  let reached = false;
  for (let i = 0; i < 30 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { textContent: string } | null } }).document.activeElement?.textContent === 'Import secret');
  }
  expect(reached).toBe(true);
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: 'Import the hsm_secret' })).toBeVisible();
  await page.getByRole('tab', { name: 'Type or paste' }).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByLabel(/64 hex digits/)).toBeVisible();
});

/**
 * Fit any screen, any hand (issue 12 §11, §12): every screen at 1180×820, 800×600 and 150 % zoom
 * without sideways scrolling (screenshots of each at both sizes), sizes that follow the reader's
 * default font, node ids that wrap between groups, a skip link, arrow keys in tab lists, Enter in
 * one-line forms, "Forget secret" that asks first, and a top bar that says "Online" while an
 * action is online.
 */
import { createServer, type Socket } from 'node:net';
import { test, expect } from './harness';
import { expectNoHorizontalScroll, loadTyped, ours, shotAllSizes } from './helpers';

const SCREENS = [
  ['Home', 'home', 'What do you want to do?'],
  ['Import secret', 'import', 'Import the hsm_secret'],
  ['Recover database', 'recover', 'Recover the channel database'],
  ['Node id', 'nodeid', 'Is this your node?'],
  ['Verify paper backup', 'paper', 'Verify a paper backup'],
  ['Print sheet', 'sheet', 'Print a paper sheet'],
  ['Export secret', 'export', 'Export the secret'],
  ['SCB force-close recovery', 'scb', 'Get the channel funds back'],
  ['Install backup', 'install', 'Install the backup'],
  ['Backup status', 'status', 'Backup status'],
  ['Drill', 'drill', 'Disaster-recovery drill'],
  ['Credentials', 'credentials', 'Credentials: runes and macaroons'],
] as const;

test('every screen fits 1180×820, 800×600 and 150 % zoom without sideways scrolling (screenshots of each)', async ({ app }) => {
  const { page } = app;
  await loadTyped(page, ours.secret_data_hex);
  for (const [nav, name, heading] of SCREENS) {
    await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: nav, exact: true }).click();
    await expect(page.getByRole('heading', { level: 1, name: heading })).toBeVisible();
    await shotAllSizes(app, `screen-${name}`);
  }
});

test('sizes follow the reader’s default font: a larger font scales the text and the sidebar, not only the headings', async ({ app }) => {
  const { page } = app;
  const navSize = () => page.getByRole('button', { name: 'Import secret' }).evaluate((el) => parseFloat((globalThis as unknown as { getComputedStyle(e: unknown): { fontSize: string } }).getComputedStyle(el).fontSize));
  const before = await navSize();
  // A reader who set 24 px as the default font (instead of 16 px).
  await page.evaluate(() => ((globalThis as unknown as { document: { documentElement: { style: { fontSize: string } } } }).document.documentElement.style.fontSize = '24px'));
  expect(await navSize()).toBeCloseTo(before * 1.5, 1);
  await page.setViewportSize({ width: 1180, height: 820 });
  await expectNoHorizontalScroll(page, 'home with a 24 px default font');
  await app.shot('layout-large-default-font');
});

test('a node id wraps between its groups, never inside one', async ({ app }) => {
  const { page } = app;
  await loadTyped(page, ours.secret_data_hex);
  await page.setViewportSize({ width: 533, height: 400 });
  const groups = page.getByTestId('node-id').locator('.group');
  await expect(groups).toHaveCount(17);
  const tops = await groups.evaluateAll((els) => els.map((e) => (e as unknown as { getBoundingClientRect(): { top: number; height: number } }).getBoundingClientRect()));
  // More than one row, and every group is one line high (no group broken in two).
  expect(new Set(tops.map((t) => Math.round(t.top))).size).toBeGreaterThan(1);
  for (const t of tops) expect(t.height).toBeLessThan(tops[0]!.height * 1.5);
  await expectNoHorizontalScroll(page, 'node id at 533 px');
});

test('keyboard: a skip link first, arrow keys move between tabs, Enter submits a one-line form', async ({ app }) => {
  const { page } = app;
  // The window is drawn (the first Tab must land in the app, not on an empty page).
  await expect(page.getByRole('heading', { name: 'What do you want to do?' })).toBeVisible();
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to content' });
  await expect(skip).toBeFocused();
  await expect(skip).toBeVisible();
  await app.shot('layout-skip-link');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: 'What do you want to do?' })).toBeFocused();

  await page.getByRole('button', { name: 'Import secret' }).first().click();
  const fileTab = page.getByRole('tab', { name: 'From a file' });
  await fileTab.focus();
  await page.keyboard.press('ArrowRight');
  const textTab = page.getByRole('tab', { name: 'Type or paste' });
  await expect(textTab).toBeFocused();
  await expect(textTab).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByLabel(/64 hex digits/)).toBeVisible();
  await page.keyboard.press('ArrowLeft');
  await expect(fileTab).toBeFocused();
  await expect(fileTab).toHaveAttribute('aria-selected', 'true');
  // One tab stop for the whole tab list.
  await expect(textTab).toHaveAttribute('tabindex', '-1');

  // Enter in the server address field starts the search (here: refused, offline).
  await loadTyped(page, ours.secret_data_hex);
  await page.getByRole('button', { name: 'Recover database' }).click();
  await page.getByLabel(/The backup server itself/).check();
  await page.getByLabel('Server (SID@HOST:PORT)').fill('53a4684420eed17f05508233500cf0c03fad14d62fc8fd7b3d62f54f9a2ef14bad@127.0.0.1:9');
  await page.getByLabel('Server (SID@HOST:PORT)').press('Enter');
  await expect(page.getByRole('alert')).toContainText('offline');
  // The error is next to the button and has the focus.
  await expect(page.getByRole('alert')).toBeFocused();
});

test('"Forget secret" asks before wiping the session', async ({ app }) => {
  const { page } = app;
  await loadTyped(page, ours.secret_data_hex);
  await page.getByRole('button', { name: 'Forget secret' }).click();
  await expect(page.getByRole('group', { name: 'Forget the secret?' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Keep it' })).toBeFocused();
  await app.shot('layout-forget-confirm');
  await page.getByRole('button', { name: 'Keep it' }).click();
  await expect(page.getByTestId('loaded-node')).toContainText('Secret loaded');
  await page.getByRole('button', { name: 'Forget secret' }).click();
  await page.getByRole('button', { name: 'Forget it' }).click();
  await expect(page.getByText('No secret loaded')).toBeVisible();
});

test('the top bar says "Online" while an online action runs, and "Offline" again after', async ({ app }) => {
  const { page } = app;
  // A server that accepts the connection and never answers: the action stays online until its handshake times out.
  const sockets: Socket[] = [];
  const silent = createServer((s) => sockets.push(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const port = (silent.address() as { port: number }).port;
  try {
    await loadTyped(page, ours.secret_data_hex);
    await page.getByRole('button', { name: 'Recover database' }).click();
    await page.getByLabel(/The backup server itself/).check();
    await page.getByLabel('Server (SID@HOST:PORT)').fill(`53a4684420eed17f05508233500cf0c03fad14d62fc8fd7b3d62f54f9a2ef14bad@127.0.0.1:${port}`);
    await page.getByLabel(/Online mode for this action/).check();
    await expect(page.getByTestId('network-mode')).toHaveText('Offline');
    app.onlineAnswers.push(true); // the operator confirms the main process's dialog
    await page.getByRole('button', { name: 'Find my entries' }).click();
    await expect(page.getByTestId('network-mode')).toHaveText(/^Online/);
    await expect(page.getByTestId('network-mode')).toHaveClass(/online/);
    await app.shot('layout-online-indicator');
    await expect(page.getByTestId('network-mode')).toHaveText('Offline', { timeout: 30_000 });
  } finally {
    for (const s of sockets) s.destroy();
    silent.close();
  }
});

import { test, expect } from './harness';

test('home screen offers the operator its choices, offline', async ({ app }) => {
  const { page } = app;
  await expect(page.getByRole('heading', { name: 'What do you want to do?' })).toBeVisible();
  await expect(page.getByText('Offline', { exact: true })).toBeVisible();
  await expect(page.getByText('No secret loaded')).toBeVisible();
  await app.shot('01-home');
});

/**
 * What the renderer tries, as a page script would: fetch over http and https, an image, and
 * (`withWebSocket`) a WebSocket to a closed loopback port — Playwright's router does not see
 * WebSockets, so one that got past the page must not go anywhere. Returns what each attempt
 * got, and the CSP violations the page saw.
 */
function tryTheNetwork(page: import('@playwright/test').Page, withWebSocket: boolean) {
  return page.evaluate(async (withWebSocket) => {
    // Runs in the page: globalThis is the window (this file is type-checked with Node types).
    const w = globalThis as unknown as {
      addEventListener(type: string, fn: (e: { violatedDirective: string; blockedURI: string }) => void): void;
      document: { createElement(tag: 'img'): { src: string; onload: (() => void) | null; onerror: (() => void) | null } };
      WebSocket: new (url: string) => { onopen: (() => void) | null; onerror: (() => void) | null; close(): void };
    };
    const violations: string[] = [];
    w.addEventListener('securitypolicyviolation', (e) => violations.push(`${e.violatedDirective} ${e.blockedURI}`));
    const attempt = async (fn: () => Promise<unknown>) => {
      try {
        const r = await fn();
        return r === 'reached' ? 'reached' : 'blocked';
      } catch {
        return 'blocked';
      }
    };
    const outcome = {
      http: await attempt(async () => (await fetch('http://example.com/')).text()),
      https: await attempt(async () => (await fetch('https://example.com/')).text()),
      image: await attempt(
        () =>
          new Promise((resolve, reject) => {
            const img = w.document.createElement('img');
            img.onload = () => resolve('reached');
            img.onerror = () => reject(new Error('blocked'));
            img.src = 'http://example.com/pixel.png';
          }),
      ),
      ...(withWebSocket
        ? {
            websocket: await attempt(
              () =>
                new Promise((resolve, reject) => {
                  const ws = new w.WebSocket('ws://127.0.0.1:9/');
                  ws.onopen = () => (ws.close(), resolve('reached'));
                  ws.onerror = () => reject(new Error('blocked'));
                }),
            ),
          }
        : {}),
    };
    await new Promise((r) => setTimeout(r, 50)); // violation events are dispatched asynchronously
    return { outcome, violations };
  }, withWebSocket);
}

const ALL_BLOCKED = { http: 'blocked', https: 'blocked', image: 'blocked' };

test("the app's CSP stops the renderer's requests before they leave the page", async ({ app }) => {
  app.network.reachable = true; // a working network behind the page: only the app's own defences stand
  const { outcome, violations } = await tryTheNetwork(app.page, true);
  expect(outcome).toEqual({ ...ALL_BLOCKED, websocket: 'blocked' });
  expect(app.offOriginRequests).toEqual([]);
  expect(violations).toEqual(
    expect.arrayContaining([
      'connect-src http://example.com/',
      'connect-src https://example.com/',
      'img-src http://example.com/pixel.png',
      'connect-src ws://127.0.0.1:9/',
    ]),
  );
});

test.describe('with the CSP bypassed', () => {
  test.use({ bypassCSP: true });
  test("the app's session block still stops every network scheme", async ({ app }) => {
    app.network.reachable = true;
    const { outcome, violations } = await tryTheNetwork(app.page, false);
    expect(violations).toEqual([]);
    // fetch and the image left the page and were cancelled by the session block's rule (ws and
    // wss, which Playwright's router does not see, are covered by test/node/electron-main).
    expect(app.offOriginRequests).toEqual(
      expect.arrayContaining(['http://example.com/', 'https://example.com/', 'http://example.com/pixel.png']),
    );
    expect(outcome).toEqual(ALL_BLOCKED);
  });
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

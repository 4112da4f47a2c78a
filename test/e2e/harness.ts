/**
 * The e2e harness: serves build/renderer on 127.0.0.1, and gives each test a
 * page whose `window.api` is wired (through exposeBinding) to the real handler
 * table from electron/handlers.ts — the same one Electron's main process
 * registers with ipcMain.handle. Only the host-specific dependencies differ:
 * the save dialog is answered by the test, and PDFs are printed by Chromium.
 */
import { test as base, type Page } from '@playwright/test';
import { createServer, type Server } from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHANNELS } from '../../shared/ipc/channels';
import { createHandlers, type Backend } from '../../electron/handlers';
import { isBlockedUrl } from '../../electron/main/networkBlock';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const rendererDir = path.join(root, 'build', 'renderer');
export const screenshotDir = path.join(root, 'artifacts', 'screenshots');

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.map': 'application/json',
};

function serveRenderer(): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const file = path.normalize(path.join(rendererDir, url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname)));
    if (!file.startsWith(rendererDir) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': MIME[path.extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      resolve({ server, origin: `http://127.0.0.1:${port}` });
    }),
  );
}

export interface AppFixture {
  page: Page;
  /** The backend the page talks to now (a new one after `restart`). */
  backend: Backend;
  /** Folder where "saved" files go (the test answers the save dialog with paths in it). */
  outDir: string;
  /** Paths the save dialog will answer with, in order; when empty it answers outDir/<defaultName>. */
  savePaths: string[];
  /** Directories the directory picker will answer with, in order (null = operator cancels). */
  dirPaths: (string | null)[];
  /** Take a screenshot into artifacts/screenshots/<name>.png for a person to look at. */
  shot(name: string): Promise<void>;
  origin: string;
  /**
   * Requests that left the page for somewhere other than the renderer's own server: they reached
   * Chromium's network layer, where Electron's session block sits (the CSP did not stop them).
   */
  offOriginRequests: string[];
  /**
   * The stand-in for the network. Requests the app's session block lets through (off-origin, not
   * a blocked scheme) are aborted while this is false (the default, so tests stay offline) and
   * answered `200 reached` when true — so a missing block shows as a reached request.
   */
  network: { reachable: boolean };
  /** HTML documents sent to the printer (the harness's `print` dependency), in order. */
  printed: string[];
  /** How the print dialog answers, in order (true = printed, false = cancelled); empty: printed. */
  printAnswers: boolean[];
  /** The app's user-data directory (the drill history lives there). */
  userDataDir: string;
  /**
   * How the main process's "go online for this action?" dialog answers, in order (deps.confirmOnline);
   * when empty it refuses, as the real dialog's default does. `onlineRequests` records what was asked.
   */
  onlineAnswers: boolean[];
  onlineRequests: { action: string; destination: string }[];
  /** Quit and start the app again: a new backend on the same user-data directory, the window reloaded. */
  restart(): Promise<void>;
}

export const test = base.extend<{ app: AppFixture }>({
  app: async ({ page, context }, use) => {
    const { server, origin } = await serveRenderer();
    const outDir = mkdtempSync(path.join(tmpdir(), 'cldcb-e2e-'));
    const savePaths: string[] = [];
    const dirPaths: (string | null)[] = [];
    const userDataDir = mkdtempSync(path.join(tmpdir(), 'cldcb-e2e-userdata-'));
    const printed: string[] = [];
    const printAnswers: boolean[] = [];
    const onlineAnswers: boolean[] = [];
    const onlineRequests: { action: string; destination: string }[] = [];
    const start = () =>
      createHandlers({
        host: 'e2e',
        version: 'e2e',
        isTrustedSender: (url) => url.startsWith(`${origin}/`),
        chooseSavePath: async ({ defaultName }) => savePaths.shift() ?? path.join(outDir, defaultName),
        chooseDirectory: async () => dirPaths.shift() ?? null,
        // As Electron's printToPDF (preferCSSPageSize): the document's own @page rules decide the layout.
        printToPdf: async (html) => {
          const printer = await context.newPage();
          try {
            await printer.setContent(html);
            return new Uint8Array(await printer.pdf({ printBackground: true, preferCSSPageSize: true }));
          } finally {
            await printer.close();
          }
        },
        print: async (html) => {
          printed.push(html);
          return printAnswers.shift() ?? true;
        },
        userDataDir,
        confirmOnline: async (request) => {
          onlineRequests.push({ ...request });
          return onlineAnswers.shift() ?? false;
        },
      });
    const current = { backend: start() };
    // Our loopback server stands in for Electron's app:// scheme; every other request meets the
    // app's own session block (electron/main/networkBlock.ts), then the stand-in network.
    const offOriginRequests: string[] = [];
    const network = { reachable: false };
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(`${origin}/`)) return route.continue();
      offOriginRequests.push(url);
      if (isBlockedUrl(url) || !network.reachable) return route.abort('blockedbyclient');
      return route.fulfill({ status: 200, contentType: 'text/plain', body: 'reached', headers: { 'access-control-allow-origin': '*' } });
    });
    await page.exposeBinding('__cldcbInvoke', (source, channel: string, input: unknown) =>
      current.backend.dispatch(channel, input, source.frame.url()),
    );
    await page.addInitScript((channels: readonly string[]) => {
      // Runs in the page: globalThis is the window (this file is type-checked with Node types).
      const page = globalThis as unknown as { __cldcbInvoke: (c: string, i: unknown) => Promise<unknown> };
      const invoke = page.__cldcbInvoke;
      const api: Record<string, Record<string, (input: unknown) => Promise<unknown>>> = {};
      for (const channel of channels) {
        const [group, name] = channel.split('.') as [string, string];
        (api[group] ??= {})[name] = (input: unknown) => invoke(channel, input ?? {});
      }
      Object.defineProperty(page, 'api', { value: Object.freeze(api), configurable: false, writable: false });
    }, CHANNELS);
    mkdirSync(screenshotDir, { recursive: true });
    const shot = async (name: string) => {
      await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: true });
    };
    await page.goto(`${origin}/index.html`);
    const fixture: AppFixture = {
      page,
      get backend() {
        return current.backend;
      },
      outDir,
      savePaths,
      dirPaths,
      shot,
      origin,
      offOriginRequests,
      network,
      printed,
      printAnswers,
      userDataDir,
      onlineAnswers,
      onlineRequests,
      restart: async () => {
        current.backend.dispose();
        current.backend = start();
        await page.reload();
      },
    };
    await use(fixture);
    current.backend.dispose();
    server.close();
  },
});

export { expect } from '@playwright/test';
export const fixturesDir = path.join(root, 'test', 'fixtures');

/**
 * What the packaged app really runs with, read back (this replaces Electronegativity's checks):
 *  - the fuses electron-builder flips, read and validated by electron-builder's own config loader;
 *  - every BrowserWindow the main process creates — electron/main/main.ts is run with `electron`
 *    mocked (no Electron binary here), its windows' options captured, and the print window made
 *    by calling the printToPdf it hands to the handler table;
 *  - the session and web-contents lockdown main.ts installs when the app is ready.
 * Any weakened setting fails here; lint (eslint.config.js) catches the same patterns in source.
 */
import { describe, expect, it, vi, beforeAll } from 'vitest';
import path from 'node:path';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
// eslint-disable-next-line no-restricted-imports -- type-only (erased): the options main.ts gives the mocked BrowserWindow
import type { BrowserWindowConstructorOptions, WebPreferences } from 'electron';
import type { HandlerDeps } from '../../electron/handlers';
import { setDeveloperLog, toErrorData } from '../../shared/errors';
import { assertMayConnect } from '../../shared/node/networkGuard';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

type Fn = (...args: unknown[]) => unknown;
const state = vi.hoisted(() => ({
  windows: [] as { options: BrowserWindowConstructorOptions; loaded: string[]; contentProtection: boolean | null }[],
  appEvents: new Map<string, Fn>(),
  session: new Map<string, unknown>(),
  ipcChannels: [] as string[],
  schemes: [] as unknown[],
  sandboxEnabled: false,
  deps: null as HandlerDeps | null,
  ready: null as null | (() => void),
  logsDir: '',
  messageBoxes: [] as { options: Record<string, unknown>; answer: number }[],
  nextAnswer: 0,
}));

vi.mock('electron', () => {
  class BrowserWindow {
    static getFocusedWindow() {
      return null;
    }
    private readonly record: (typeof state.windows)[number];
    readonly webContents = {
      printToPDF: async () => Buffer.from('%PDF-1.7'),
      on: () => undefined,
    };
    constructor(options: BrowserWindowConstructorOptions) {
      this.record = { options, loaded: [], contentProtection: null };
      state.windows.push(this.record);
    }
    setContentProtection(on: boolean) {
      this.record.contentProtection = on;
    }
    once() {}
    show() {}
    destroy() {}
    async loadURL(url: string) {
      this.record.loaded.push(url);
    }
  }
  const defaultSession = {
    setPermissionRequestHandler: (fn: unknown) => state.session.set('permissionRequest', fn),
    setPermissionCheckHandler: (fn: unknown) => state.session.set('permissionCheck', fn),
    setDevicePermissionHandler: (fn: unknown) => state.session.set('devicePermission', fn),
    webRequest: { onBeforeRequest: (filter: unknown, fn: unknown) => state.session.set('beforeRequest', { filter, fn }) },
    setProxy: (config: unknown) => (state.session.set('proxy', config), Promise.resolve()),
  };
  const app = {
    isPackaged: true,
    getVersion: () => '0.0.0-test',
    getPath: (name: string) => (name === 'logs' ? state.logsDir : '/nonexistent'),
    enableSandbox: () => (state.sandboxEnabled = true),
    requestSingleInstanceLock: () => true,
    quit: () => undefined,
    on: (event: string, fn: Fn) => state.appEvents.set(event, fn),
    whenReady: () => new Promise<void>((resolve) => (state.ready = resolve)),
  };
  const electron = {
    app,
    BrowserWindow,
    session: { defaultSession },
    dialog: {
      showSaveDialog: async () => ({ canceled: true }),
      showOpenDialog: async () => ({ canceled: true, filePaths: [] }),
      showMessageBox: async (options: Record<string, unknown>) => {
        state.messageBoxes.push({ options, answer: state.nextAnswer });
        return { response: state.nextAnswer, checkboxChecked: false };
      },
    },
    ipcMain: { handle: (channel: string) => state.ipcChannels.push(channel) },
    net: { fetch: async () => new Response('') },
    protocol: { registerSchemesAsPrivileged: (s: unknown[]) => state.schemes.push(...s), handle: () => undefined },
  };
  return { ...electron, default: electron };
});

// The handler table is tested on its own; here only what main.ts hands it matters.
vi.mock('../../electron/handlers', () => ({
  createHandlers: (deps: HandlerDeps) => {
    state.deps = deps;
    return { table: {}, dispatch: async () => ({ ok: true, value: null }), dispose: () => undefined };
  },
}));

/** What a weakened webPreferences looks like: every way it can be weaker than this app allows. */
function weakenings(prefs: WebPreferences | undefined): string[] {
  if (!prefs) return ['no webPreferences'];
  const bad: string[] = [];
  const p = prefs as Record<string, unknown>;
  if (p.sandbox !== true) bad.push('sandbox is not true');
  if (p.contextIsolation !== true) bad.push('contextIsolation is not true');
  for (const key of ['nodeIntegration', 'nodeIntegrationInWorker', 'nodeIntegrationInSubFrames', 'webviewTag', 'allowRunningInsecureContent', 'experimentalFeatures', 'enableRemoteModule', 'plugins'])
    if (p[key] !== undefined && p[key] !== false) bad.push(`${key} is ${String(p[key])}`);
  if (p.webSecurity !== undefined && p.webSecurity !== true) bad.push('webSecurity is off');
  if (p.enableBlinkFeatures !== undefined) bad.push('enableBlinkFeatures is set');
  if (p.devTools !== false) bad.push('devTools are on in the packaged app');
  if (p.preload !== undefined && p.preload !== path.join(root, 'electron', 'main', 'preload.cjs')) bad.push(`preload is ${String(p.preload)}`);
  return bad;
}

describe('the fuses electron-builder flips (electron-builder.yml)', () => {
  it('are the hardened set, and every key is one electron-builder knows', async () => {
    const { getConfig, validateConfiguration } = await import('app-builder-lib/out/util/config/config.js');
    const { DebugLogger } = await import('builder-util');
    const config = await getConfig(root, path.join(root, 'electron-builder.yml'), null);
    // Its schema has additionalProperties: false, so a misspelled fuse is an error, not a no-op.
    await validateConfiguration(config, new DebugLogger(false));
    expect(config.asar).toBe(true);
    expect(config.electronFuses).toMatchObject({
      runAsNode: false, // no ELECTRON_RUN_AS_NODE
      enableNodeOptionsEnvironmentVariable: false, // no NODE_OPTIONS / NODE_EXTRA_CA_CERTS
      enableNodeCliInspectArguments: false, // no --inspect, no SIGUSR1 inspector
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      grantFileProtocolExtraPrivileges: false, // the renderer is served from app://
      enableCookieEncryption: true,
    });
  });
});

describe('the main process (electron/main/main.ts run with electron mocked)', () => {
  beforeAll(async () => {
    state.logsDir = path.join(mkdtempSync(path.join(tmpdir(), 'cldcb-logs-')), 'logs');
    await import('../../electron/main/main');
    expect(state.ready, 'main.ts waits for app.whenReady()').not.toBeNull();
    state.ready!();
    await new Promise((r) => setTimeout(r, 0));
    // The second window: the hidden one that prints reports to PDF.
    await state.deps!.printToPdf('<p>report</p>');
  });

  it('creates the main window and the print window, and no other', () => {
    expect(state.windows).toHaveLength(2);
    expect(state.windows[0]!.loaded).toEqual(['app://cldcb/index.html']);
    expect(state.windows[1]!.loaded).toHaveLength(1);
    expect(state.windows[1]!.loaded[0]).toMatch(/^data:text\/html;base64,/);
  });

  it('no window has weakened webPreferences', () => {
    for (const [i, w] of state.windows.entries()) expect(weakenings(w.options.webPreferences), `window ${i}`).toEqual([]);
  });

  it('the main window keeps typed secrets from spell-check and screen capture; the print window runs no script', () => {
    const [main, print] = state.windows;
    expect(main!.options.webPreferences?.spellcheck).toBe(false);
    expect(main!.contentProtection).toBe(true);
    expect(print!.options.webPreferences?.javascript).toBe(false);
    expect(print!.options.show).toBe(false);
  });

  it('the weakening check itself catches each weakened setting', () => {
    const good = state.windows[0]!.options.webPreferences!;
    expect(weakenings(good)).toEqual([]);
    for (const weakened of [
      { sandbox: false },
      { sandbox: undefined },
      { contextIsolation: false },
      { nodeIntegration: true },
      { nodeIntegrationInWorker: true },
      { nodeIntegrationInSubFrames: true },
      { webviewTag: true },
      { webSecurity: false },
      { allowRunningInsecureContent: true },
      { experimentalFeatures: true },
      { enableBlinkFeatures: 'X' },
      { devTools: true },
      { preload: '/tmp/evil.js' },
    ])
      expect(weakenings({ ...good, ...weakened } as WebPreferences), JSON.stringify(weakened)).not.toEqual([]);
  });

  it('serves the renderer from a standard, secure scheme that does not bypass the CSP', () => {
    expect(state.schemes).toEqual([{ scheme: 'app', privileges: expect.objectContaining({ standard: true, secure: true }) }]);
    const privileges = (state.schemes[0] as { privileges: Record<string, unknown> }).privileges;
    for (const risky of ['bypassCSP', 'allowServiceWorkers', 'supportFetchAPI', 'corsEnabled']) expect(privileges[risky], risky).not.toBe(true);
  });

  it('locks the session down when ready: every permission denied, network schemes cancelled, no proxy', () => {
    let granted: boolean | undefined;
    (state.session.get('permissionRequest') as Fn)({}, 'media', (g: boolean) => (granted = g));
    expect(granted).toBe(false);
    expect((state.session.get('permissionCheck') as Fn)()).toBe(false);
    expect((state.session.get('devicePermission') as Fn)()).toBe(false);
    const { filter, fn } = state.session.get('beforeRequest') as { filter: { urls: string[] }; fn: Fn };
    for (const scheme of ['http', 'https', 'ws', 'wss']) expect(filter.urls).toContain(`${scheme}://*/*`);
    let verdict: unknown;
    fn({ url: 'https://example.com/' }, (v: unknown) => (verdict = v));
    expect(verdict).toEqual({ cancel: true });
    expect(state.session.get('proxy')).toEqual({ mode: 'direct' });
  });

  it('enables the sandbox app-wide and locks every web contents (navigation, new windows, webviews)', () => {
    expect(state.sandboxEnabled).toBe(true);
    const created = state.appEvents.get('web-contents-created');
    expect(created).toBeDefined();
    const events = new Map<string, Fn>();
    let openHandler: Fn | null = null;
    created!({}, { on: (ev: string, fn: Fn) => events.set(ev, fn), setWindowOpenHandler: (fn: Fn) => (openHandler = fn) });
    expect(openHandler!({ url: 'https://evil.example/' })).toEqual({ action: 'deny' });
    for (const [ev, url] of [['will-navigate', 'https://evil.example/'], ['will-redirect', 'app://cldcb/x'], ['will-attach-webview', '']] as const) {
      let prevented = false;
      events.get(ev)!({ preventDefault: () => (prevented = true) }, url);
      expect(prevented, ev).toBe(true);
    }
  });

  it("keeps a bug's trace, without its message, in developer.log in the app's logs folder (owner-only)", () => {
    const secret = 'beef'.repeat(16);
    try {
      expect(toErrorData(new TypeError(`bad ${secret}`)).code).toBe('internal');
    } finally {
      setDeveloperLog(null);
    }
    const file = path.join(state.logsDir, 'developer.log');
    const log = readFileSync(file, 'utf8');
    expect(log).toMatch(/ CLDCB 0\.0\.0-test\nTypeError\n\s+at /);
    expect(log).not.toContain(secret);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('online mode: connections outside an action fail closed, and the grant is a native dialog that defaults to offline', async () => {
    expect(() => assertMayConnect('203.0.113.5', 29735)).toThrow(/online mode was not granted/);
    expect(() => assertMayConnect('127.0.0.1', 29735)).not.toThrow(); // the drill demo's own server
    const request = { action: 'Find your entries on the backup server', destination: '53aa…@backup.example:29735' };
    state.nextAnswer = 0;
    expect(await state.deps!.confirmOnline!(request)).toBe(false);
    state.nextAnswer = 1;
    expect(await state.deps!.confirmOnline!(request)).toBe(true);
    const { options } = state.messageBoxes[0]!;
    expect(options).toMatchObject({ defaultId: 0, cancelId: 0, buttons: ['Stay offline', 'Go online for this action'] });
    expect(String(options.detail)).toContain('53aa…@backup.example:29735');
  });

  it('registers the handler table on every contract channel, with the sender check', async () => {
    const { CHANNELS } = await import('../../shared/ipc/channels');
    expect([...state.ipcChannels].sort()).toEqual([...CHANNELS].sort());
    expect(state.deps!.isTrustedSender('app://cldcb/index.html')).toBe(true);
    expect(state.deps!.isTrustedSender('https://evil.example/')).toBe(false);
  });
});

/**
 * The lint rules that replace Electronegativity (eslint.config.js, electronSecurity): each
 * dangerous pattern, written as app code would write it, must be an error — and the hardened
 * forms the app uses must not be. Linted with the project's own config, as `npx eslint .` does.
 */
import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const eslint = new ESLint({ cwd: root });

/** The messages of the no-restricted-syntax errors for `code` linted as `file` (a path in the app). */
async function restricted(code: string, file = 'electron/main/example.ts'): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  const fatal = result!.messages.filter((m) => m.fatal);
  if (fatal.length) throw new Error(`not parsed: ${fatal.map((m) => m.message).join('; ')}`);
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-syntax').map((m) => m.message);
}

const HARDENED = `sandbox: true, contextIsolation: true`;
const win = (prefs: string) => `import { BrowserWindow } from 'electron';\nexport const w = new BrowserWindow({ webPreferences: { ${prefs} } });\n`;

// [what, code, part of the expected message]
const DANGEROUS: [string, string, string][] = [
  ['nodeIntegration: true', win(`${HARDENED}, nodeIntegration: true`), 'nodeIntegration'],
  ['nodeIntegrationInWorker: true', win(`${HARDENED}, nodeIntegrationInWorker: true`), 'nodeIntegrationInWorker'],
  ['nodeIntegrationInSubFrames: true', win(`${HARDENED}, nodeIntegrationInSubFrames: true`), 'nodeIntegrationInSubFrames'],
  ['contextIsolation: false', win(`sandbox: true, contextIsolation: false`), 'contextIsolation'],
  ['sandbox: false', win(`sandbox: false, contextIsolation: true`), 'sandbox'],
  ['sandbox computed', win(`sandbox: !process.env.DEV, contextIsolation: true`), 'sandbox'],
  ['sandbox missing', win(`contextIsolation: true`), 'Every window or view states'],
  ['contextIsolation missing', win(`sandbox: true`), 'Every window or view states'],
  ['options not a literal', `import { BrowserWindow } from 'electron';\nconst o = {};\nexport const w = new BrowserWindow(o);\n`, 'Every window or view states'],
  ['webSecurity: false', win(`${HARDENED}, webSecurity: false`), 'webSecurity'],
  ['allowRunningInsecureContent: true', win(`${HARDENED}, allowRunningInsecureContent: true`), 'allowRunningInsecureContent'],
  ['experimentalFeatures: true', win(`${HARDENED}, experimentalFeatures: true`), 'experimentalFeatures'],
  ['enableBlinkFeatures', win(`${HARDENED}, enableBlinkFeatures: 'CSSBackdropFilter'`), 'enableBlinkFeatures'],
  ['webviewTag: true', win(`${HARDENED}, webviewTag: true`), 'webviewTag'],
  ['enableRemoteModule: true', win(`${HARDENED}, enableRemoteModule: true`), 'enableRemoteModule'],
  ['quoted key', win(`${HARDENED}, 'nodeIntegration': true`), 'nodeIntegration'],
  ['a view too', `import { WebContentsView } from 'electron';\nexport const v = new WebContentsView({ webPreferences: { contextIsolation: true } });\n`, 'Every window or view states'],
  ['shell.openExternal(variable)', `import { shell } from 'electron';\nexport const open = (url: string) => shell.openExternal(url);\n`, 'openExternal'],
  ['shell.openExternal(template)', 'import { shell } from \'electron\';\nexport const open = (id: string) => shell.openExternal(`https://x.example/${id}`);\n', 'openExternal'],
  ['<webview> in the renderer', `export const V = () => <webview src="app://cldcb/" />;\n`, 'No <webview>'],
  ['createElement("webview")', `export const v = document.createElement('webview');\n`, 'No <webview>'],
  ['@electron/remote', `import remote from '@electron/remote';\nexport const r = remote;\n`, 'remote module'],
  ['electron.remote', `import { remote } from 'electron';\nexport const r = remote;\n`, 'remote module'],
  ['loadURL over http', `import { BrowserWindow } from 'electron';\nexport const go = (w: BrowserWindow) => w.loadURL('http://example.com/');\n`, 'loads nothing over the network'],
  ['loadURL template over https', 'import { BrowserWindow } from \'electron\';\nexport const go = (w: BrowserWindow, h: string) => w.loadURL(`https://${h}/`);\n', 'loads nothing over the network'],
  ['net.fetch over https', `import { net } from 'electron';\nexport const f = () => net.fetch('https://example.com/');\n`, 'loads nothing over the network'],
  ['permission granted', `import { session } from 'electron';\nsession.defaultSession.setPermissionRequestHandler((_w, _p, cb) => cb(true));\n`, 'Permission handlers deny'],
  ['permission check granted', `import { session } from 'electron';\nsession.defaultSession.setPermissionCheckHandler(() => true);\n`, 'Permission handlers deny'],
  ['window.open allowed', `import type { WebContents } from 'electron';\nexport const f = (c: WebContents) => c.setWindowOpenHandler(() => ({ action: 'allow' }));\n`, 'New windows are denied'],
  ['certificate-error handler', `import { app } from 'electron';\napp.on('certificate-error', (e) => e.preventDefault());\n`, 'Certificate checks'],
  ['setCertificateVerifyProc', `import { session } from 'electron';\nsession.defaultSession.setCertificateVerifyProc((_r, cb) => cb(0));\n`, 'Certificate checks'],
  ['bypassCSP scheme', `import { protocol } from 'electron';\nprotocol.registerSchemesAsPrivileged([{ scheme: 'app', privileges: { bypassCSP: true } }]);\n`, 'bypasses the CSP'],
  ['--no-sandbox switch', `import { app } from 'electron';\napp.commandLine.appendSwitch('no-sandbox');\n`, 'command-line switch'],
  ['remote debugging', `import { app } from 'electron';\napp.commandLine.appendSwitch('remote-debugging-port', '9222');\n`, 'command-line switch'],
  ['a raw TCP connection', `import net from 'node:net';\nexport const c = (host: string) => net.connect({ host, port: 9735 });\n`, 'only through the guarded points'],
  ['a SOCKS connection', `import { SocksClient } from 'socks';\nexport const c = () => SocksClient.createConnection({} as never);\n`, 'only through the guarded points'],
  ['an http request', `import https from 'node:https';\nexport const r = () => https.request('https://example.com/');\n`, 'only through the guarded points'],
  ['ipcRenderer exposed', `import { contextBridge, ipcRenderer } from 'electron';\ncontextBridge.exposeInMainWorld('ipc', ipcRenderer);\n`, 'Never expose ipcRenderer'],
  ['ipcRenderer exposed in an object', `import { contextBridge, ipcRenderer } from 'electron';\ncontextBridge.exposeInMainWorld('ipc', { ipcRenderer });\n`, 'Never expose ipcRenderer'],
];

describe('lint: Electron security rules (replacing Electronegativity)', () => {
  it.each(DANGEROUS)('%s is an error', async (_what, code, expected) => {
    const file = code.includes('<webview') ? 'renderer/src/Example.tsx' : code.includes('document.') ? 'renderer/src/example.ts' : 'electron/main/example.ts';
    const messages = await restricted(code, file);
    expect(messages.some((m) => m.includes(expected)), `messages: ${JSON.stringify(messages)}`).toBe(true);
  });

  it('the hardened forms the app uses are not', async () => {
    const code = [
      `import { BrowserWindow, contextBridge, ipcRenderer, shell, type WebContents } from 'electron';`,
      `export const w = new BrowserWindow({ webPreferences: { sandbox: true, contextIsolation: true, nodeIntegration: false, webviewTag: false, webSecurity: true } });`,
      `export const deny = (c: WebContents) => c.setWindowOpenHandler(() => ({ action: 'deny' }));`,
      'export const load = (x: BrowserWindow, origin: string) => x.loadURL(`${origin}/index.html`);',
      `export const docs = () => shell.openExternal('https://github.com/ZmnSCPxj/cldcb');`,
      `contextBridge.exposeInMainWorld('api', { info: () => ipcRenderer.invoke('app.info', {}) });`,
    ].join('\n');
    expect(await restricted(code)).toEqual([]);
  });

  it('tests are exempt (they build weakened options on purpose)', async () => {
    expect(await restricted(win('sandbox: false, contextIsolation: false'), 'test/node/example.test.ts')).toEqual([]);
  });
});

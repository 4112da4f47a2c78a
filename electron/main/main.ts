/**
 * Electron main process: one hardened window, the protocol-level network
 * block, and the IPC registration of the handler table. Kept thin on purpose:
 * all behaviour lives in electron/handlers.ts and shared/node/, which the
 * tests run without Electron.
 */
import { app, BrowserWindow, dialog, ipcMain, net, protocol } from 'electron';
import path from 'node:path';
import { appendFileSync, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createHandlers } from '../handlers';
import { restrictUnscopedToLoopback } from '../../shared/node/networkGuard';
import { APP_ORIGIN, APP_SCHEME, applyAppWideLockdown, isTrustedUrl, lockDownSession } from './security';
import { CHANNELS } from '../../shared/ipc/channels';
import { encodeBase64 } from '../../shared/base64';
import { CldcbError, setDeveloperLog } from '../../shared/errors';
import { utf8 } from '../../shared/bytes';

const here = path.dirname(fileURLToPath(import.meta.url)); // build/electron
const rendererRoot = path.join(here, '..', 'renderer');

protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: false, corsEnabled: false } },
]);

/**
 * The developer log: a bug's trace (error class and stack frames — never a message, which may
 * quote a secret; shared/errors developerTrace) appended to developer.log in the app's logs
 * folder, owner-only, kept under 1 MiB (one previous file). Nothing else is logged.
 */
setDeveloperLog((trace) => {
  const file = path.join(app.getPath('logs'), 'developer.log');
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  if (existsSync(file) && statSync(file).size > 1024 * 1024) renameSync(file, `${file}.1`);
  appendFileSync(file, `${new Date().toISOString()} CLDCB ${app.getVersion()}\n${trace}\n\n`, { mode: 0o600 });
  if (!app.isPackaged) process.stderr.write(`developer trace:\n${trace}\n`);
});

applyAppWideLockdown();
// The app's promise: nothing leaves this computer unless the operator grants online mode for
// the action (shared/node/networkGuard.ts). Connections outside an action fail closed.
restrictUnscopedToLoopback();
if (!app.requestSingleInstanceLock()) app.quit();

async function printToPdf(html: string): Promise<Uint8Array> {
  const win = new BrowserWindow({
    show: false,
    // Renders our own report HTML only: no script, no devtools, nothing else.
    webPreferences: { sandbox: true, contextIsolation: true, nodeIntegration: false, webviewTag: false, javascript: false, devTools: false, spellcheck: false },
  });
  try {
    await win.loadURL(`data:text/html;base64,${encodeBase64(utf8(html), false, true)}`);
    // The documents carry their own @page rules (A4, margins): honour them.
    return new Uint8Array(await win.webContents.printToPDF({ printBackground: true, pageSize: 'A4', preferCSSPageSize: true }));
  } finally {
    win.destroy();
  }
}

/**
 * A real Print (issue 12 §10): the document in a hidden window like printToPdf's, sent through the
 * system's print dialog. True when it was printed, false when the operator cancelled.
 */
async function printOnPaper(html: string): Promise<boolean> {
  const win = new BrowserWindow({
    show: false,
    webPreferences: { sandbox: true, contextIsolation: true, nodeIntegration: false, webviewTag: false, javascript: false, devTools: false, spellcheck: false },
  });
  try {
    await win.loadURL(`data:text/html;base64,${encodeBase64(utf8(html), false, true)}`);
    return await new Promise<boolean>((resolve, reject) =>
      win.webContents.print({ printBackground: true }, (success, failureReason) =>
        success ? resolve(true) : failureReason === 'cancelled' ? resolve(false) : reject(new CldcbError('io_error', `The printer refused the document (${failureReason}). Nothing was printed.`)),
      ),
    );
  } finally {
    win.destroy();
  }
}

/** `node` on the PATH, for the drill demo's child processes (Electron's RunAsNode fuse is off). */
function nodeOnPath(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, process.platform === 'win32' ? 'node.exe' : 'node');
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1180,
    height: 820,
    title: 'CLDCB Recovery',
    show: false,
    webPreferences: {
      preload: path.join(here, 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webviewTag: false,
      spellcheck: false, // typed secrets must not reach a spell-check service
      devTools: !app.isPackaged,
    },
  });
  win.setContentProtection(true); // keep secrets out of screen capture where the OS allows
  win.once('ready-to-show', () => win.show());
  void win.loadURL(`${APP_ORIGIN}/index.html`);
  return win;
}

/**
 * Where the operator last saved or chose something. Since Electron 43 a dialog without
 * `defaultPath` opens in Downloads instead of the last folder the OS remembered; on the worst
 * day the report belongs beside the recovered node, so the app remembers the folder itself.
 */
let lastDialogDir: string | null = null;

void app.whenReady().then(() => {
  lockDownSession();
  // Serve the built renderer from app://cldcb/… and nothing outside it.
  protocol.handle(APP_SCHEME, (request) => {
    const url = new URL(request.url);
    const file = path.normalize(path.join(rendererRoot, decodeURIComponent(url.pathname)));
    if (url.host !== 'cldcb' || !file.startsWith(rendererRoot + path.sep)) return new Response('not found', { status: 404 });
    return net.fetch(pathToFileURL(file).toString());
  });

  const backend = createHandlers({
    host: 'electron',
    version: app.getVersion(),
    isTrustedSender: isTrustedUrl,
    printToPdf,
    print: printOnPaper,
    userDataDir: app.getPath('userData'),
    nodeBinary: nodeOnPath(),
    async chooseSavePath({ title, defaultName }) {
      const defaultPath = lastDialogDir ? path.join(lastDialogDir, defaultName) : defaultName;
      const r = await dialog.showSaveDialog({ title, defaultPath, properties: ['showOverwriteConfirmation'] });
      if (r.canceled || !r.filePath) return null;
      lastDialogDir = path.dirname(r.filePath);
      return r.filePath;
    },
    // The grant for online mode: the operator's answer in a native dialog the renderer cannot
    // answer for it. One action, one connection's destination, named.
    async confirmOnline({ action, destination }) {
      const options = {
        type: 'warning' as const,
        title: 'Go online for this action?',
        message: `${action}: go online?`,
        detail:
          `CLDCB will open an encrypted connection (Noise_XK) to ${destination} for this action only. ` +
          'Nothing else goes online, and the next action is offline again unless you confirm it too.',
        buttons: ['Stay offline', 'Go online for this action'],
        defaultId: 0,
        cancelId: 0,
        noLink: true,
      };
      const parent = BrowserWindow.getFocusedWindow();
      const r = parent ? await dialog.showMessageBox(parent, options) : await dialog.showMessageBox(options);
      return r.response === 1;
    },
    async chooseDirectory({ title }) {
      const r = await dialog.showOpenDialog({ title, ...(lastDialogDir ? { defaultPath: lastDialogDir } : {}), properties: ['openDirectory'] });
      if (r.canceled || !r.filePaths[0]) return null;
      lastDialogDir = r.filePaths[0];
      return r.filePaths[0];
    },
  });
  for (const channel of CHANNELS) {
    ipcMain.handle(channel, (event, input: unknown) => backend.dispatch(channel, input, event.senderFrame?.url ?? ''));
  }
  app.on('before-quit', () => backend.dispose());
  createWindow();
});

app.on('window-all-closed', () => app.quit());

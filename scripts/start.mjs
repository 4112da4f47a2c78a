#!/usr/bin/env node
// `npm start`: build, then launch the desktop app in Electron — or explain
// clearly why it cannot start when the Electron binary is not installed.
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const require = createRequire(import.meta.url);

function electronBinary() {
  try {
    const dir = path.dirname(require.resolve('electron/package.json'));
    const pathTxt = path.join(dir, 'path.txt');
    if (!existsSync(pathTxt)) return null;
    const exe = path.join(dir, 'dist', require('node:fs').readFileSync(pathTxt, 'utf8').trim());
    return existsSync(exe) ? exe : null;
  } catch {
    return null;
  }
}

const exe = electronBinary();
if (!exe) {
  process.stderr.write(
    [
      'CLDCB Recovery cannot start: the Electron runtime is not installed.',
      '',
      'The electron npm package is only a downloader: its binary comes from GitHub, and',
      '`npm ci` never fetches it (electron 42+ has no install script; package.json also sets',
      'allowScripts { "electron": false }), so installs succeed offline. To install it, on a',
      'machine with network access run:',
      '',
      '    npx install-electron --no',
      '',
      'then `npm start` again. Everything else works without it:',
      '    npx cldcb-client help      the command-line client (nodeid, recover, scb, drill, …)',
      '    npm test                   the full test suite; the e2e tests drive this same UI in Chromium',
      '',
    ].join('\n'),
  );
  process.exit(1);
}

const b = spawnSync(process.execPath, [path.join(root, 'scripts/build.mjs'), '--all'], { stdio: 'inherit' });
if (b.status !== 0) process.exit(b.status ?? 1);
const child = spawn(exe, [path.join(root, 'build/electron/main.mjs')], { stdio: 'inherit' });
child.on('exit', (code) => process.exit(code ?? 0));

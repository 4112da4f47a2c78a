/**
 * The import boundaries of the house (eslint.config.js; docs/ARCHITECTURE.md): each forbidden
 * import, written where app code would write it, must be an error — and the imports each folder
 * is meant to make must not be. Linted with the project's own config, as `npx eslint .` does.
 */
import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const eslint = new ESLint({ cwd: root });

/** The no-restricted-imports / no-restricted-globals messages for `code` linted as `file`. */
async function boundaryErrors(code: string, file: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  const fatal = result!.messages.filter((m) => m.fatal);
  if (fatal.length) throw new Error(`not parsed: ${fatal.map((m) => m.message).join('; ')}`);
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-globals').map((m) => m.message);
}

const use = (spec: string) => `import * as m from '${spec}';\nexport const x = m;\n`;

// [where, code, part of the expected message]
const FORBIDDEN: [string, string, string][] = [
  // shared/ outside shared/node/: platform-free, and never the Node-side core.
  ['shared/cldcb/example.ts', use('../node/atomicFile'), 'never imports the Node-side core'],
  ['shared/cldcb/example.ts', use('../../shared/node/recovery/engine'), 'never imports the Node-side core'],
  ['shared/example.ts', use('./node/workerPool'), 'never imports the Node-side core'],
  ['shared/cldcb/example.ts', use('node:fs'), 'platform-free'],
  ['shared/cldcb/example.ts', use('better-sqlite3'), 'platform-free'],
  ['shared/cldcb/example.ts', 'export const b = Buffer.alloc(1);\n', "'Buffer'"],
  // shared/node/: Node yes, the app and the browser never.
  ['shared/node/example.ts', use('electron'), 'no Electron, no React, no DOM'],
  ['shared/node/example.ts', use('react'), 'no Electron, no React, no DOM'],
  ['shared/node/recovery/example.ts', use('../../../electron/handlers/context'), 'never imports the app'],
  ['shared/node/example.ts', use('../../renderer/src/api'), 'never imports the app'],
  ['shared/node/example.ts', 'export const t = document.title;\n', "'document'"],
  // shared/node/: the programs use it; it never uses them.
  ['shared/node/example.ts', use('../../plugin/afterStop'), 'never imports one of them'],
  ['shared/node/recovery/example.ts', use('../../../cli/commands/recover'), 'never imports one of them'],
  ['shared/node/example.ts', use('../../server/storage'), 'never imports one of them'],
  // renderer/: the Node-side core only through window.api.
  ['renderer/src/screens/Example.tsx', use('../../../shared/node/atomicFile'), 'only through window.api'],
  ['renderer/src/example.ts', use('../../shared/node/recovery/types'), 'only through window.api'],
  // The programs share code with the app through shared/, never through electron/.
  ['cli/commands/example.ts', use('../../electron/worker/jobs'), 'electron/ is the app'],
  ['server/example.ts', use('../electron/handlers'), 'electron/ is the app'],
  ['plugin/example.ts', use('electron'), "Only electron/main and electron/preload may import 'electron'"],
];

// [where, code]: what each folder is meant to import.
const ALLOWED: [string, string][] = [
  ['shared/node/example.ts', `import { readFileSync } from 'node:fs';\nimport Database from 'better-sqlite3';\nimport secp from 'secp256k1';\nimport { sha256 } from '../crypto/hash';\nexport const x = [readFileSync, Database, secp, sha256];\n`],
  ['shared/node/recovery/example.ts', use('../../cldcb/chain')],
  ['shared/cldcb/example.ts', use('../noise/aead')],
  ['electron/handlers/example.ts', use('../../shared/node/recovery/engine')],
  ['electron/worker/example.ts', use('../../shared/node/workerPool')],
  ['cli/commands/example.ts', use('../../shared/node/recovery/engine')],
  ['plugin/example.ts', use('../shared/node/cldcbClient')],
  ['renderer/src/example.ts', use('../../shared/ipc/contract')],
];

describe('import boundaries (eslint.config.js)', () => {
  for (const [file, code, message] of FORBIDDEN) {
    it(`refuses in ${file}: ${code.split('\n')[0]}`, async () => {
      const errors = await boundaryErrors(code, file);
      expect(errors.some((e) => e.includes(message)), errors.join(' | ') || 'no error').toBe(true);
    });
  }
  for (const [file, code] of ALLOWED) {
    it(`allows in ${file}: ${code.split('\n')[0]}`, async () => {
      expect(await boundaryErrors(code, file)).toEqual([]);
    });
  }
});

// Shared by the three bin shims: run a built program, or explain how to build it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export async function launch(name) {
  const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
  const file = path.join(root, 'build', `${name}.mjs`);
  if (!existsSync(file)) {
    process.stderr.write(`${name}: not built yet. Run \`npm ci\` (or \`npm run build\`) in ${root} first.\n`);
    process.exit(1);
  }
  await import(file);
}

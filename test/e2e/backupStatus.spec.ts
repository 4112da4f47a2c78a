/**
 * Backup status (issue 11: "the CLI and app show per-server state"): from a node's lightning
 * directory, each server's last acknowledged data_version, when, its lag against lightningd's
 * database and its standing, with the quorum — the reader `cldcb-client status` uses. Nothing in
 * the directory changes. The directory is the one the plugin's quorum writer left after the real
 * single-node trace against three real servers (test/node/helpers/quorumArchives.ts), with server
 * 2's state file put back to an earlier one: a server that stopped acknowledging there.
 */
import { copyFileSync, cpSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test, expect } from './harness';
import { shotAllSizes } from './helpers';
import { makeQuorumArchives, type QuorumArchives } from '../node/helpers/quorumArchives';

let archives: Promise<QuorumArchives> | undefined;
test.afterAll(async () => (await archives)?.dispose());

/** Every file's name, size, mtime and content hash: what "nothing changed" means. */
function snapshot(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .map((f) => {
      const p = path.join(dir, f);
      const st = statSync(p);
      return `${f} ${st.size} ${st.mtimeMs} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
    });
}

test('three servers, one behind: each server’s acknowledged data_version, lag and standing, the quorum; the directory is only read', async ({ app }) => {
  test.setTimeout(180_000);
  const { page } = app;
  const f = await (archives ??= makeQuorumArchives());
  const dir = mkdtempSync(path.join(tmpdir(), 'cldcb-e2e-status-'));
  cpSync(f.lightningDir, dir, { recursive: true });
  copyFileSync(f.server2StateAtCopy.file, path.join(dir, f.server2StateAtCopy.name));
  const before = snapshot(dir);

  // No secret is needed: the wrapper and the state files say it all.
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: 'Backup status' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Backup status' })).toBeVisible();
  app.dirPaths.push(dir);
  await page.getByRole('button', { name: 'Choose the lightning directory…' }).click();
  const result = page.getByTestId('status-result');
  await expect(result).toBeFocused();
  const behind = f.finalDataVersion - f.staleDataVersion;
  await expect(page.getByTestId('status-summary')).toHaveText(
    `3 backup servers, k = 2: lightningd commits a write once 2 of them stored it; lightningd's database is at data_version ${f.finalDataVersion}. 2 of 3 are current — the other catches up in the background while lightningd runs.`,
  );
  const rows = page.getByTestId('status-server');
  await expect(rows).toHaveCount(3);
  for (const [i, s] of f.servers.entries()) await expect(rows.nth(i)).toContainText(`${i + 1}. ${s.serverId.slice(0, 12)}…@127.0.0.1:${s.port}`);
  await expect(rows.nth(0)).toContainText(String(f.finalDataVersion));
  await expect(rows.nth(0)).toContainText('current');
  await expect(rows.nth(1)).toContainText(String(f.staleDataVersion));
  await expect(rows.nth(1)).toContainText(`BEHIND by ${behind} data_versions`);
  await expect(rows.nth(1).getByRole('cell').nth(3)).toHaveText(String(behind));
  await expect(rows.nth(1)).toContainText(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
  await expect(rows.nth(2)).toContainText('current');
  await shotAllSizes(app, 'status-three-servers-one-behind');
  expect(snapshot(dir)).toEqual(before);

  // A directory with no backup installed: said next to the button, with what to do.
  const empty = mkdtempSync(path.join(tmpdir(), 'cldcb-e2e-status-empty-'));
  app.dirPaths.push(empty);
  await page.getByRole('button', { name: 'Choose the lightning directory…' }).click();
  const alert = page.getByRole('alert');
  await expect(alert).toContainText(`${path.join(empty, 'cldcb-plugin-wrapper')}: no such file`);
  await expect(alert).toContainText('cldcb-client installplugin writes the wrapper');
  await expect(alert).toBeFocused();
});

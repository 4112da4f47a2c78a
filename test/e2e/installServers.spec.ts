/**
 * Install with several servers (issue 11, the app side of `installplugin --server … --quorum=K`):
 * a list of servers (add, remove, each checked beside its own field) and k (a majority by default,
 * 1 to n, only with several servers). The wrapper names every server with its own client key and
 * recognition code and `# quorum = k`; each server's operator gets its own `add` line. A k the
 * servers cannot meet is refused beside the k field, and nothing is made.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test, expect, fixturesDir } from './harness';
import { loadTyped, ours, shotAllSizes } from './helpers';
import { parsePluginWrapper, wrapperQuorum, wrapperServers } from '../../shared/cldcb/wrapper';
import { checkRecognition } from '../../shared/cldcb/recognition';
import { formatClientId, formatHostPort, formatServerId } from '../../shared/cldcb/ids';
import { hexToBytes } from '../../shared/bytes';
import { nodePrivateKey } from '../../shared/secrets/nodeKey';

const SID1 = readFileSync(path.join(fixturesDir, 'cldcb', 'server_id'), 'utf8').match(/5[23][0-9a-f]{64}/)![0];
const SID2 = `52${'79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798'}`;
const SID3 = `53${'c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5'}`;
const SERVERS = [`${SID1}@one.example:4001`, `${SID2}@two.example:4002`, `${SID3}@[::1]:4003`];

test('three servers and k = 2: the wrapper lists all three with # quorum = 2, one add line per server; k = 4 is refused beside its field', async ({ app }) => {
  const { page } = app;
  await loadTyped(page, ours.secret_data_hex);
  await page.getByRole('button', { name: 'Install backup' }).click();
  // One server: no k at all (a single server stores every write).
  await expect(page.getByLabel(/^k: how many/)).toHaveCount(0);
  await page.getByLabel('Backup server 1').fill(SERVERS[0]!);
  await page.getByRole('button', { name: 'Add another server' }).click();
  await expect(page.getByLabel('Backup server 2')).toBeFocused();
  await page.getByLabel('Backup server 2').fill('two.example:4002'); // no server id: refused beside it
  await page.getByRole('button', { name: 'Add another server' }).click();
  await page.getByLabel('Backup server 3').fill(SERVERS[2]!);
  const k = page.getByLabel(/^k: how many of the 3 servers/);
  await expect(k).toHaveValue('2'); // a majority by default

  await k.fill('4');
  await page.getByRole('button', { name: 'Make the client keys and sign' }).click();
  await expect(page.getByTestId('server-problem-2')).toContainText('Server must be SID@HOST:PORT');
  await expect(page.getByLabel('Backup server 2')).toBeFocused();
  await expect(page.getByLabel('Backup server 2')).toHaveAttribute('aria-invalid', 'true');
  await page.getByLabel('Backup server 2').fill(SERVERS[1]!);
  await expect(page.getByTestId('server-problem-2')).toHaveCount(0);

  await page.getByRole('button', { name: 'Make the client keys and sign' }).click();
  const help = page.getByTestId('quorum-help');
  await expect(help).toHaveText('k = 4 is more than the 3 servers given: lightningd could never commit a write. Give 1 to 3 (default 2, a majority).');
  await expect(help).toHaveAttribute('role', 'alert');
  await expect(k).toHaveAttribute('aria-invalid', 'true');
  await expect(k).toBeFocused();
  await expect(page.getByTestId('install-result')).toHaveCount(0);
  await shotAllSizes(app, 'install-quorum-refused');

  await k.fill('2');
  await expect(help).toContainText('With k = 2: lightningd commits a write once 2 of the 3 servers stored it, so it keeps running while 1 is away');
  await page.getByRole('button', { name: 'Make the client keys and sign' }).click();
  const result = page.getByTestId('install-result');
  await expect(result).toBeVisible();
  await expect(result).toBeFocused();
  await expect(page.getByTestId('install-quorum')).toContainText('3 servers, k = 2');
  await expect(page.getByTestId('install-quorum')).toContainText('a recovery that reads any 2 of them proves it has the newest state');
  const preview = page.getByTestId('wrapper-preview');
  await expect(preview).toContainText('# quorum = 2');
  for (const suffix of ['', '.2', '.3']) await expect(preview).toContainText(`# cpk${suffix} = •`);
  await expect(preview).not.toContainText(/# cpk(\.\d)? = [0-9a-f]{64}/);
  await shotAllSizes(app, 'install-three-servers');

  await page.getByRole('button', { name: 'Save wrapper…' }).click();
  await expect(page.getByRole('status').last()).toContainText('Saved');
  const file = path.join(app.outDir, 'cldcb-plugin-wrapper');
  expect(statSync(file).mode & 0o777).toBe(0o700);
  const text = readFileSync(file, 'utf8');
  expect(text).toContain('\n# quorum = 2\n');
  const cfg = parsePluginWrapper(text);
  const servers = wrapperServers(cfg);
  expect(servers.map((s) => `${formatServerId(s.serverId)}@${formatHostPort(s.server)}`)).toEqual(SERVERS);
  expect(wrapperQuorum(cfg)).toBe(2);
  const nodePriv = nodePrivateKey(hexToBytes(ours.secret_data_hex));
  for (const [i, s] of servers.entries()) {
    const cid = formatClientId(s.clientId);
    // One recognition code per server, each signed by this node for that server's own client key.
    expect(checkRecognition(nodePriv, s.clientId, s.nodeSignature), `server ${i + 1}`).toBe(true);
    await expect(page.getByTestId(`client-id-${i + 1}`)).toHaveText(cid);
    await expect(page.getByTestId(`add-line-${i + 1}`)).toHaveText(`cldcb-server add --server-dir=<server dir> ${cid}`);
  }
  expect(new Set(servers.map((s) => formatClientId(s.clientId))).size).toBe(3);
  await page.getByRole('button', { name: 'Save client id of server 3…' }).click();
  expect(readFileSync(path.join(app.outDir, 'cldcb-client-id-3.txt'), 'utf8').trim()).toBe(formatClientId(servers[2]!.clientId));

  // Removing a server: k follows the majority of what is left, and the list renumbers.
  await page.getByRole('button', { name: 'Remove server 2' }).click();
  await expect(page.getByLabel('Backup server 2')).toHaveValue(SERVERS[2]!);
  await expect(page.getByLabel(/^k: how many of the 2 servers/)).toHaveValue('2');
});

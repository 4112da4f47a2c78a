/**
 * Every cldcb-client command takes --json, and with it a failure prints one JSON object on
 * stdout — ok false, the command, the exit code, the error's code, message and next step —
 * with the same exit code and stderr line as without --json (issue 10 #4).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCliCaptured } from './helpers/cli';
import { commands } from '../../cli/commands/index';
import { tempSpace } from './helpers/recovery';

const tmp = tempSpace('cldcb-cli-json-');
let dir: string;
let existing: string;
beforeAll(() => {
  tmp.create();
  dir = tmp.fresh('work');
  existing = path.join(dir, 'existing');
  writeFileSync(existing, 'x');
});
afterAll(() => tmp.remove());

const run = runCliCaptured;

const NO = '/no/such/file';
const NODE_ID = '026e373091ec9644ae7bd820233fc2225bb9f7f12fd2c74dabfdc2ff261988c935';
const SID = '53a4684420eed17f05508233500cf0c03fad14d62fc8fd7b3d62f54f9a2ef14bad';

/** A failing command line per command (and subcommand), the exit code and error code expected. */
const FAILURES: { name: string; args: () => string[]; exit: number; code: string }[] = [
  { name: 'nodeid', args: () => ['nodeid', '--hsm-secret', NO], exit: 1, code: 'file_not_found' },
  { name: 'getsecret', args: () => ['getsecret', '--hsm-secret', NO, '--id', 'leet'], exit: 1, code: 'file_not_found' },
  { name: 'exportsecret', args: () => ['exportsecret', '--hsm-secret', NO, '--out', existing, '--format', 'plain'], exit: 1, code: 'file_exists' },
  { name: 'exportsecret', args: () => ['exportsecret', '--hsm-secret', NO, '--out', existing, '--format', 'rot13'], exit: 2, code: 'usage' },
  { name: 'scb', args: () => ['scb', '--hsm-secret', NO, '--emergency-recover', NO], exit: 1, code: 'file_not_found' },
  { name: 'paper verify', args: () => ['paper', 'verify', '--copy-file', NO, '--node-id', NODE_ID], exit: 1, code: 'file_not_found' },
  { name: 'paper sheet', args: () => ['paper', 'sheet', '--hsm-secret', NO, '--out', path.join(dir, 'sheet.html')], exit: 1, code: 'file_not_found' },
  { name: 'rune mint', args: () => ['rune', 'mint', '--hsm-secret', NO], exit: 1, code: 'file_not_found' },
  { name: 'rune decode', args: () => ['rune', 'decode', '--rune-file', NO], exit: 1, code: 'file_not_found' },
  { name: 'macaroon print', args: () => ['macaroon', 'print', '--file', NO], exit: 1, code: 'file_not_found' },
  { name: 'newclient file_exists', args: () => ['newclient', existing], exit: 1, code: 'file_exists' },
  { name: 'installplugin file_not_found', args: () => ['installplugin', `--lightning-dir=${dir}`, `--client-privkey=${NO}`, `--server=${SID}@backup.example`], exit: 1, code: 'file_not_found' },
  { name: 'installplugin', args: () => ['installplugin', `--lightning-dir=${dir}`, `--client-privkey=${NO}`, '--server=not-a-server'], exit: 2, code: 'usage' },
  { name: 'status file_not_found', args: () => ['status', `--lightning-dir=${dir}`], exit: 1, code: 'file_not_found' },
  { name: 'status usage', args: () => ['status'], exit: 2, code: 'usage' },
  { name: 'recover file_not_found', args: () => ['recover', `--lightning-dir=${dir}`, `--from=${NO}`], exit: 1, code: 'file_not_found' },
  { name: 'recover usage', args: () => ['recover', `--from=${NO}`], exit: 2, code: 'usage' },
  { name: 'drill', args: () => ['drill', '--demo', `--from=${NO}`], exit: 2, code: 'usage' },
  { name: 'drill usage', args: () => ['drill', `--lightning-dir=${dir}`, `--from=${NO}`, `--report=${existing}`], exit: 2, code: 'usage' },
  { name: 'nosuchcommand usage', args: () => ['nosuchcommand'], exit: 2, code: 'usage' },
];

describe('--json: a JSON object on stdout on failure too, same exit code', () => {
  it('covers every command', () => {
    const covered = new Set(FAILURES.map((f) => f.name.split(' ')[0]));
    for (const c of commands) expect(covered.has(c.name), c.name).toBe(true);
  });

  for (const f of FAILURES)
    it(`${f.name} … → exit ${f.exit}, ${f.code}`, async () => {
      const plain = await run(f.args());
      const json = await run([...f.args(), '--json']);
      expect(plain.code).toBe(f.exit);
      expect(json.code).toBe(plain.code);
      expect(plain.stdout).toBe('');
      expect(json.stderr).toBe(plain.stderr); // the one line for a person is still there
      const o = JSON.parse(json.stdout) as { ok: boolean; command: string; exit_code: number; error: { code: string; message: string; next: string } };
      expect(o).toMatchObject({ ok: false, command: f.args()[0], exit_code: f.exit, error: { code: f.code } });
      expect(plain.stderr).toContain(o.error.message);
      expect(o.error.next.length).toBeGreaterThan(10);
    });

  it('the commands that printed plain text only now answer in JSON on success too', async () => {
    const key = path.join(dir, 'client.key');
    const r = await run(['newclient', key, '--json']);
    expect(r.code).toBe(0);
    const o = JSON.parse(r.stdout) as { client_id: string; file: string };
    expect(o.file).toBe(key);
    expect(readFileSync(key, 'utf8')).toContain(`# cid = ${o.client_id}`);
  });
});

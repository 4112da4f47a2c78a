/**
 * cldcb-client paper verify / paper sheet, run as the built program.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vectors from '../vectors/cln/known-answers.json';
import { runClient, type CliRun } from './helpers/cli';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FFEE = 'ffeeddccbbaa99887766554433221100'.repeat(2);
const FFEE_ID = '033d329abba85f6496778496d4af55e175931cb3fb8227ac6132394ee6ed30db01';
const FFEE_LEET = 'cl10leetsllhdmn9m42vcsamx24zrxgs3qrl7ahwvhw4fnzrhve25gvezzyqqjdsjnzedu43ns';
const RITUAL = vectors.hsm_secret_cases.find((c) => c.format === 'mnemonic_with_pass')!;
const grouped = (hex: string) => hex.match(/.{4}/g)!.join(' ');
const WRONG = FFEE.slice(0, 26) + '3' + FFEE.slice(27); // digit 27 (group 7) is '2' in the secret

let dir: string;
const tmp = (name: string): string => path.join(dir, name);
function put(name: string, data: string | Uint8Array): string {
  writeFileSync(tmp(name), data);
  return tmp(name);
}
/** CliRun the built CLI with stdin a pipe (no terminal). */
const cli = (...args: string[]): CliRun => runClient(args, { cwd: dir, timeoutMs: 120_000 });
/** Neither stream holds the secret (its digit groups, codex32 body or words). */
function expectNoSecret(r: CliRun): void {
  const all = r.stdout + r.stderr;
  for (const g of FFEE.match(/.{8}/g)!) expect(all).not.toContain(g);
  expect(all).not.toContain(FFEE_LEET.slice(9, 30));
  expect(all).not.toContain(RITUAL.mnemonic!.split(' ').slice(0, 3).join(' '));
}

beforeAll(() => {
  const b = spawnSync(process.execPath, [path.join(root, 'scripts/build.mjs')], { cwd: root, encoding: 'utf8' });
  if (b.status !== 0) throw new Error(`build failed: ${b.stderr}`);
  dir = mkdtempSync(path.join(tmpdir(), 'cldcb-cli-paper-'));
  put('plain', Buffer.from(FFEE, 'hex'));
  put('ritual', Buffer.from(RITUAL.hsm_secret_file_hex, 'hex'));
  put('ritual-pw', 'test_passphrase\n');
  put('right.txt', `${grouped(FFEE)}\n`);
  put('wrong.txt', `${grouped(WRONG)}\n`);
  put('codex.txt', FFEE_LEET.toUpperCase());
  put('words.txt', RITUAL.mnemonic!);
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('paper verify --hsm-secret', () => {
  it('a right copy: exit 0 and says so', () => {
    const r = cli('paper', 'verify', '--hsm-secret', 'plain', '--copy-file', 'right.txt');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/matches the secret/);
    expect(r.stderr).toBe('');
  });
  it('a wrong digit: exit 1, the group and digit named, a map without digits, no secret anywhere', () => {
    const r = cli('paper', 'verify', '--hsm-secret=plain', '--copy-file=wrong.txt');
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/Line 2, group 3 \(digits 25–28\) differs: digit 27/);
    expect(r.stdout).toContain('  line 2:  .... .... ..x. ....');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expectNoSecret(r);
  });
  it('codex32 and words copies; --json', () => {
    expect(cli('paper', 'verify', '--hsm-secret', 'plain', '--copy-file', 'codex.txt').status).toBe(0);
    const w = cli('paper', 'verify', '--hsm-secret', 'ritual', '--passphrase-file', 'ritual-pw', '--copy-file', 'words.txt', '--json');
    expect(w.status).toBe(0);
    const j = JSON.parse(w.stdout) as { matches: boolean; comparison: { kind: string; words: object[] } };
    expect(j).toMatchObject({ matches: true, comparison: { kind: 'words' } });
    expect(JSON.stringify(j)).not.toContain('ritual');
    const h = JSON.parse(cli('paper', 'verify', '--hsm-secret', 'plain', '--copy-file', 'wrong.txt', '--json').stdout) as {
      comparison: { differingDigits: number[] };
    };
    expect(h.comparison.differingDigits).toEqual([26]);
  });
});

describe('paper verify --node-id', () => {
  it('a right copy gives the node id', () => {
    const r = cli('paper', 'verify', '--node-id', FFEE_ID, '--copy-file', 'right.txt');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/the copy is right/);
  });
  it('one wrong digit is repaired, with progress on stderr, and the correction printed', () => {
    const r = cli('paper', 'verify', `--node-id=${FFEE_ID}`, '--copy-file=wrong.txt');
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('digit 27 (line 2, group 3, position 3): typed "3", should be "2"');
    expect(r.stderr).toMatch(/searching look-alikes, swaps and single digits: 100%/);
    expect(r.stderr).toMatch(/corrections found/);
    expect(r.stdout).not.toContain(FFEE);
  });
  it('--no-repair only compares; --json has the corrections', () => {
    const n = cli('paper', 'verify', '--node-id', FFEE_ID, '--copy-file', 'wrong.txt', '--no-repair');
    expect(n.status).toBe(1);
    expect(n.stderr).not.toMatch(/searching/);
    expect(n.stdout).toMatch(/gives a different node id/);
    const j = JSON.parse(cli('paper', 'verify', '--node-id', FFEE_ID, '--copy-file', 'wrong.txt', '--json').stdout) as {
      matches: boolean;
      repair: { candidates: { kind: string; changes: { position: number; from: string; to: string }[] }[] };
    };
    expect(j.matches).toBe(false);
    expect(j.repair.candidates).toEqual([{ kind: 'single', changes: [{ position: 26, from: '3', to: '2' }] }]);
  });
  it('words with their BIP39 passphrase', () => {
    expect(cli('paper', 'verify', '--node-id', RITUAL.node_id, '--copy-file', 'words.txt', '--passphrase-file', 'ritual-pw').status).toBe(0);
  });
});

describe('paper sheet', () => {
  it('writes a self-contained HTML sheet, mode 0600, and never overwrites', () => {
    const r = cli('paper', 'sheet', '--hsm-secret', 'plain', '--out', 'sheet.html', '--id', 'leet', '--label', 'test node');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(FFEE_ID);
    expectNoSecret(r);
    expect(statSync(tmp('sheet.html')).mode & 0o777).toBe(0o600);
    const html = readFileSync(tmp('sheet.html'), 'utf8');
    expect(html).toContain('test node');
    for (const g of FFEE_LEET.match(/.{1,4}/g)!) expect(html).toContain(`>${g}<`);
    expect(html).not.toMatch(/<script/i);
    const again = cli('paper', 'sheet', '--hsm-secret', 'plain', '--out', 'sheet.html');
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/already exists/);
  });
  it('a mnemonic node with a passphrase: the words and the warning, as plain text', () => {
    const r = cli('paper', 'sheet', '--hsm-secret', 'ritual', '--passphrase-file', 'ritual-pw', '--out', 'ritual.txt', '--text');
    expect(r.status).toBe(0);
    const text = readFileSync(tmp('ritual.txt'), 'utf8');
    expect(text).toContain(' 1. ritual');
    expect(text).toMatch(/need the BIP39 passphrase/);
    expect(text).not.toContain('test_passphrase');
    expect(text).not.toMatch(/check [0-9a-f]{2}|cl10/); // no digits, no codex32: they would bypass the passphrase
  });
});

describe('usage', () => {
  it('exit 2 for a missing subcommand or both references', () => {
    expect(cli('paper').status).toBe(2);
    expect(cli('paper', 'verify', '--copy-file', 'right.txt', '--hsm-secret', 'plain', '--node-id', FFEE_ID).status).toBe(2);
    expect(cli('paper', 'verify', '--copy-file', 'right.txt').status).toBe(2);
    expect(cli('paper', '--help').stdout).toMatch(/^usage: cldcb-client paper verify/);
  });
});

/**
 * cldcb-client rune … and macaroon …, run as the built program, on the CLN
 * known answers (test/vectors/cln, test/vectors/cln-runes) and on LND-shaped
 * macaroons (test/vectors/lnd).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import known from '../vectors/cln/known-answers.json';
import docs from '../vectors/cln-runes/createrune-examples.json';
import lnd from '../vectors/lnd/pymacaroons-lnd.json';
import { decodeMacaroon, encodeMacaroon, verifyMacaroon } from '../../shared/credentials/macaroons';
import { hexToBytes } from '../../shared/bytes';
import { runClient, type CliRun } from './helpers/cli';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const byName = (prefix: string) => known.hsm_secret_cases.find((c) => c.name.startsWith(prefix))!;
const L1 = byName('pyln-testing legacy l1');
const L2M = byName('pyln-testing modern l2');
const RITUAL = byName('ritual');
const ADMIN = lnd.cases[0]!;
const RO = lnd.cases[1]!;

let dir: string;
const tmp = (name: string): string => path.join(dir, name);
function put(name: string, data: string | Uint8Array): string {
  writeFileSync(tmp(name), data);
  return tmp(name);
}

/** CliRun the built CLI; stdin is a pipe carrying `input` (never a terminal). */
const cli = (input: string | Uint8Array, ...args: string[]): CliRun => runClient(args, { cwd: dir, input });
const SECRETS = [
  L1.secret_data_hex,
  L2M.secret_data_hex,
  L2M.makesecret.commando,
  L1.makesecret.commando,
  lnd.root_key_hex,
  RITUAL.passphrase!,
];
/** A failure: given exit code, nothing on stdout, one line on stderr, no secret in it. */
function expectOneLineError(r: CliRun, pattern: RegExp, status = 1): void {
  expect(r.status).toBe(status);
  expect(r.stdout).toBe('');
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(status === 2 ? 2 : 1);
  expect(r.stderr).toMatch(pattern);
  for (const s of SECRETS) expect(r.stderr).not.toContain(s);
}

beforeAll(() => {
  const b = spawnSync(process.execPath, [path.join(root, 'scripts/build.mjs')], {
    cwd: root,
    encoding: 'utf8',
  });
  if (b.status !== 0) throw new Error(`build failed: ${b.stderr}`);
  dir = mkdtempSync(path.join(tmpdir(), 'cldcb-cli-credentials-'));
  put('l1', Buffer.from(L1.hsm_secret_file_hex, 'hex'));
  put('l2m', Buffer.from(L2M.hsm_secret_file_hex, 'hex'));
  put('ritual', Buffer.from(RITUAL.hsm_secret_file_hex, 'hex'));
  put('ritual-pw', `${RITUAL.passphrase}\n`);
  put('admin.macaroon', Buffer.from(ADMIN.macaroon_hex, 'hex'));
  put('ro.hex', `${RO.macaroon_hex}\n`);
  put('root.key', `${lnd.root_key_hex}\n`);
  put('root.bin', Buffer.from(lnd.root_key_hex, 'hex'));
  put('short.key', '00'.repeat(31));
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('rune mint', () => {
  it('legacy and mnemonic nodes: the id-0 rune the node itself makes', () => {
    expect(cli('', 'rune', 'mint', '--hsm-secret', 'l1').stdout).toBe(`${L1.master_rune_uid0_as_node}\n`);
    const r = cli('', 'rune', 'mint', '--hsm-secret=l2m');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${L2M.master_rune_uid0_as_node}\n`);
    expect(r.stderr).toMatch(/no restrictions/);
    const p = cli('', 'rune', 'mint', '--hsm-secret', 'ritual', '--passphrase-file', 'ritual-pw');
    expect(p.stdout).toBe(`${RITUAL.master_rune_uid0_as_node}\n`);
  });
  it('--hsmtool-makerune reproduces lightning-hsmtool makerune, with a warning for mnemonic nodes', () => {
    const r = cli('', 'rune', 'mint', '--hsm-secret', 'l2m', '--hsmtool-makerune');
    expect(r.stdout).toBe(`${L2M.hsmtool_makerune_uid0}\n`);
    expect(r.stderr).toMatch(/does NOT accept this rune/);
    expect(cli('', 'rune', 'mint', '--hsm-secret', 'l1', '--hsmtool-makerune').stderr).not.toMatch(
      /does NOT accept/,
    );
  });
  it('restrictions as flags give createrune’s runes (doc/schemas/createrune.json)', () => {
    const ex4 = docs.createrune_examples.find((e) => e.id === 'example:createrune#4')!;
    const r = cli(
      '',
      'rune',
      'mint',
      '--hsm-secret',
      'l2m',
      '--unique-id',
      '1',
      '--restriction',
      'id^038194b5f32bdf0aa598',
      '--method',
      'listpeers',
    );
    expect(r.stdout).toBe(`${ex4.response.rune}\n`);
    const ex9 = docs.createrune_examples.find((e) => e.id === 'example:createrune#9')!;
    const j = cli(
      '',
      'rune',
      'mint',
      '--hsm-secret',
      'l2m',
      '--unique-id',
      '5',
      '--restrictions-json',
      JSON.stringify(ex9.params.restrictions),
      '--json',
    );
    expect(JSON.parse(j.stdout).rune).toBe(ex9.response.rune);
    const d = JSON.parse(
      cli(
        '',
        'rune',
        'mint',
        '--hsm-secret',
        'l1',
        '--unique-id',
        '9',
        '--method',
        'listpeers',
        '--expires',
        '2026-12-01T00:00:00Z',
        '--rate',
        '1',
        '--json',
      ).stdout,
    );
    expect(d.unique_id).toBe('9');
    expect(d.summary).toEqual([
      'may call only listpeers',
      'expires at 2026-12-01T00:00:00Z',
      'rate limit 1 per minute',
    ]);
  });
  it('--out writes mode 0600 and never overwrites', () => {
    const r = cli('', 'rune', 'mint', '--hsm-secret', 'l1', '--readonly', '--out', 'ro.rune');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^wrote the rune to ro\.rune\n/);
    expect(r.stdout).not.toContain(L1.master_rune_uid0_as_node.slice(0, 20));
    expect(statSync(tmp('ro.rune')).mode & 0o777).toBe(0o600);
    const again = cli('', 'rune', 'mint', '--hsm-secret', 'l1', '--out', 'ro.rune');
    expectOneLineError(again, /already exists/);
    expect(readFileSync(tmp('ro.rune'), 'utf8')).toMatch(/^[A-Za-z0-9_-]+=*\n$/);
  });
  it('bad options: one clear line, nothing written', () => {
    expectOneLineError(
      cli('', 'rune', 'mint', '--hsm-secret', 'l1', '--expires', 'soon', '--out', 'x.rune'),
      /expiry "soon"/,
    );
    expectOneLineError(cli('', 'rune', 'mint', '--hsm-secret', 'l1', '--rate', '0'), /rate/);
    expectOneLineError(cli('', 'rune', 'mint', '--hsm-secret', 'l1', '--id', '02abc'), /node id/);
    expectOneLineError(cli('', 'rune', 'mint', '--hsm-secret', 'l1', '--unique-id=-1'), /unique id/);
    expectOneLineError(
      cli('', 'rune', 'mint', '--hsm-secret', 'l1', '--restrictions-json', '[['),
      /not valid JSON/,
      2,
    );
    expectOneLineError(cli('', 'rune', 'mint', '--hsm-secret', 'nope'), /nope: no such file/);
    expectOneLineError(cli('', 'rune', 'mint'), /missing --hsm-secret/, 2);
    expectOneLineError(cli('', 'rune', 'frobnicate'), /unknown subcommand/, 2);
    expect(existsSync(tmp('x.rune'))).toBe(false);
  });
});

describe('rune restrict and decode', () => {
  const RO_RUNE =
    '0VIVf0M4jMlGNIwNM3sTpBextINe4_VBGZnBMM82kR49MCZtZXRob2RebGlzdHxtZXRob2ReZ2V0fG1ldGhvZD1zdW1tYXJ5Jm1ldGhvZC9saXN0ZGF0YXN0b3Jl';
  it('restrict from stdin and from a file, with or without the secret', () => {
    expect(cli(`${L2M.master_rune_uid0_as_node}\n`, 'rune', 'restrict', '--readonly').stdout).toBe(
      `${RO_RUNE}\n`,
    );
    put('l2.rune', `${L2M.master_rune_uid0_as_node}\n`);
    const r = cli(
      '',
      'rune',
      'restrict',
      '--rune-file',
      'l2.rune',
      '--readonly',
      '--hsm-secret',
      'l2m',
      '--json',
    );
    expect(JSON.parse(r.stdout)).toMatchObject({ rune: RO_RUNE, unique_id: '0', authentic: true });
  });
  it('restrict refuses a rune of another node when --hsm-secret is given; nothing written', () => {
    const r = cli(
      L1.master_rune_uid0_as_node,
      'rune',
      'restrict',
      '--method',
      'getinfo',
      '--hsm-secret',
      'l2m',
      '--out',
      'other.rune',
    );
    expectOneLineError(r, /not this node's/);
    expect(existsSync(tmp('other.rune'))).toBe(false);
  });
  it('decode says what the rune allows and whether the node made it', () => {
    const r = cli(RO_RUNE, 'rune', 'decode', '--hsm-secret', 'l2m');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(
      [
        'unique id: 0',
        'authentic: yes, made from this node’s secret',
        'restrictions (all must hold):',
        "  - may call only methods starting with 'list', methods starting with 'get' or summary",
        '  - may not call listdatastore',
        '',
      ].join('\n'),
    );
    const other = cli(RO_RUNE, 'rune', 'decode', '--hsm-secret', 'l1', '--json');
    expect(other.status).toBe(1);
    expect(JSON.parse(other.stdout)).toMatchObject({ unique_id: '0', authentic: false });
    const plain = JSON.parse(cli(RO_RUNE, 'rune', 'decode', '--json').stdout);
    expect(plain.authentic).toBeUndefined();
    expect(plain.rune).toBeUndefined();
  });
  it('bad runes: not base64, too short, empty, standard base64, no restriction given', () => {
    expectOneLineError(cli('not a rune!', 'rune', 'decode'), /rune: character 4 \(" "\)|code 32/);
    expectOneLineError(cli('AAAA', 'rune', 'decode'), /too short/);
    expectOneLineError(cli('', 'rune', 'decode'), /no rune on stdin/);
    expectOneLineError(cli(RO_RUNE.replace('_', '/'), 'rune', 'decode'), /standard base64/);
    expectOneLineError(cli(RO_RUNE, 'rune', 'restrict'), /at least one restriction/, 2);
    expectOneLineError(cli(RO_RUNE, 'rune', 'decode', RO_RUNE), /Unexpected argument|positional/i, 2);
  });
});

describe('macaroon print', () => {
  it('binary file, hex file and base64 on stdin: the lncli printmacaroon facts', () => {
    for (const [input, args] of [
      ['', ['--file', 'admin.macaroon']],
      ['', ['--file', 'ro.hex']],
      [Buffer.from(RO.macaroon_hex, 'hex').toString('base64'), []],
    ] as const) {
      const r = cli(input, 'macaroon', 'print', ...args, '--json');
      expect(r.status).toBe(0);
      const want = args.length && args[1] === 'admin.macaroon' ? ADMIN : RO;
      expect(JSON.parse(r.stdout).lncli).toEqual(want.printmacaroon);
    }
    const t = cli('', 'macaroon', 'print', '--file', 'ro.hex');
    expect(t.stdout).toContain('root key id: 0\n');
    expect(t.stdout).toContain('  1. time-before 2026-12-01T00:00:00Z\n');
    expect(t.stdout).toContain('  - expires at 2026-12-01T00:00:00Z\n');
  });
  it('truncated, foreign and empty input: one clear line', () => {
    put('cut.macaroon', Buffer.from(ADMIN.macaroon_hex, 'hex').subarray(0, 30));
    expectOneLineError(cli('', 'macaroon', 'print', '--file', 'cut.macaroon'), /cut\.macaroon: .*cut off/);
    expectOneLineError(cli('hello world', 'macaroon', 'print'), /not base64/);
    expectOneLineError(cli('', 'macaroon', 'print'), /no macaroon on stdin/);
    put('empty', '');
    expectOneLineError(cli('', 'macaroon', 'print', '--file', 'empty'), /empty/);
    expectOneLineError(cli('', 'macaroon', 'print', '--file', 'missing'), /missing: no such file/);
  });
});

describe('macaroon attenuate and verify', () => {
  it('attenuate to a binary file (0600, never overwritten); verify it', () => {
    const r = cli(
      '',
      'macaroon',
      'attenuate',
      '--file',
      'admin.macaroon',
      '--expires',
      '2030-01-01T00:00:00Z',
      '--ip',
      '192.0.2.1',
      '--out',
      'a.macaroon',
    );
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('  time-before 2030-01-01T00:00:00Z\n  ipaddr 192.0.2.1\n');
    expect(statSync(tmp('a.macaroon')).mode & 0o777).toBe(0o600);
    const m = decodeMacaroon(readFileSync(tmp('a.macaroon')));
    expect(
      verifyMacaroon(m, hexToBytes(lnd.root_key_hex), {
        ip: '192.0.2.1',
        now: new Date('2029-01-01T00:00:00Z'),
      }).verdict,
    ).toBe('valid');
    expectOneLineError(
      cli('', 'macaroon', 'attenuate', '--file', 'admin.macaroon', '--timeout', '60', '--out', 'a.macaroon'),
      /already exists/,
    );

    const ok = cli(
      '',
      'macaroon',
      'verify',
      '--file',
      'a.macaroon',
      '--root-key-file',
      'root.key',
      '--ip',
      '192.0.2.1',
      '--at',
      '2029-01-01T00:00:00Z',
    );
    expect(ok.status).toBe(0);
    expect(ok.stdout.split('\n')[0]).toBe('valid');
    const cond = cli(
      '',
      'macaroon',
      'verify',
      '--file',
      'a.macaroon',
      '--root-key-file',
      'root.bin',
      '--at',
      '2029-01-01T00:00:00Z',
      '--json',
    );
    expect(cond.status).toBe(3);
    expect(JSON.parse(cond.stdout).verdict).toBe('conditional');
    const late = cli(
      '',
      'macaroon',
      'verify',
      '--file',
      'a.macaroon',
      '--root-key-file',
      'root.key',
      '--ip',
      '192.0.2.2',
      '--at',
      '2030-01-01T00:00:00Z',
    );
    expect(late.status).toBe(1);
    expect(late.stdout).toContain('failed — expired at 2030-01-01T00:00:00Z');
    expect(late.stdout).toContain('failed — IP 192.0.2.2 not allowed (only 192.0.2.1)');
  });
  it('attenuate from stdin to hex / base64 on stdout, and with custom and raw caveats', () => {
    const hex = cli(RO.macaroon_hex, 'macaroon', 'attenuate', '--timeout', '3600').stdout.trim();
    expect(decodeMacaroon(hex).caveats).toHaveLength(5);
    const j = JSON.parse(
      cli(
        Buffer.from(ADMIN.macaroon_hex, 'hex'),
        'macaroon',
        'attenuate',
        '--custom-name',
        'mw',
        '--custom-condition',
        'c',
        '--caveat',
        'iprange 10.0.0.0/8',
        '--format',
        'base64',
        '--json',
      ).stdout,
    );
    expect(j.added).toEqual(['lnd-custom mw c', 'iprange 10.0.0.0/8']);
    const m = decodeMacaroon(j.macaroon);
    expect(encodeMacaroon(m).length).toBeGreaterThan(ADMIN.macaroon_hex.length / 2);
    expect(verifyMacaroon(m, hexToBytes(lnd.root_key_hex)).signatureValid).toBe(true);
  });
  it('verify with the wrong key, a short key, a missing key file', () => {
    put('other.key', 'ab'.repeat(32));
    const bad = cli('', 'macaroon', 'verify', '--file', 'admin.macaroon', '--root-key-file', 'other.key');
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/^INVALID\nsignature: INVALID for this root key\n/);
    expectOneLineError(
      cli('', 'macaroon', 'verify', '--file', 'admin.macaroon', '--root-key-file', 'short.key'),
      /short\.key: root key: .*32 bytes \(64 hex digits\).*62 hex digits/,
    );
    expectOneLineError(
      cli('', 'macaroon', 'verify', '--file', 'admin.macaroon', '--root-key-file', 'nokey'),
      /nokey: no such file/,
    );
    expectOneLineError(
      cli('', 'macaroon', 'verify', '--file', 'admin.macaroon'),
      /missing --root-key-file/,
      2,
    );
  });
  it('bad caveats and options: one clear line, nothing written', () => {
    expectOneLineError(
      cli('', 'macaroon', 'attenuate', '--file', 'admin.macaroon', '--caveat', 'account = 1', '--out', 'n1'),
      /unknown caveat condition "account"/,
    );
    expectOneLineError(
      cli('', 'macaroon', 'attenuate', '--file', 'admin.macaroon', '--ip', '999.1.1.1', '--out', 'n2'),
      /IP address "999\.1\.1\.1"/,
    );
    expectOneLineError(
      cli(
        '',
        'macaroon',
        'attenuate',
        '--file',
        'admin.macaroon',
        '--expires',
        '2030-02-30T00:00:00Z',
        '--out',
        'n3',
      ),
      /expiry/,
    );
    expectOneLineError(
      cli('', 'macaroon', 'attenuate', '--file', 'admin.macaroon', '--out', 'n4'),
      /at least one caveat/,
      2,
    );
    expectOneLineError(
      cli('', 'macaroon', 'attenuate', '--file', 'admin.macaroon', '--timeout', '60', '--format', 'binary'),
      /binary output needs --out/,
      2,
    );
    expectOneLineError(
      cli('', 'macaroon', 'attenuate', '--file', 'cut.macaroon', '--timeout', '60', '--out', 'n5'),
      /cut off/,
    );
    for (const n of ['n1', 'n2', 'n3', 'n4', 'n5']) expect(existsSync(tmp(n))).toBe(false);
  });
});

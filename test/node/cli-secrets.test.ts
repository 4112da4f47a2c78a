/**
 * cldcb-client nodeid / getsecret / exportsecret, run as the built program on
 * real lightningd hsm_secret files (test/fixtures/lightningd, see its README)
 * and on the CLN known answers (test/vectors/cln/known-answers.json).
 */
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vectors from '../vectors/cln/known-answers.json';
import { inspectSecretFile, readSecretFile, writeHsmSecretFile } from '../../shared/node/secretFiles';
import { nodeIdHex } from '../../shared/secrets/hsmSecret';
import { CldcbError } from '../../shared/errors';
import { runCli } from '../../cli/main';
import type { CliIo } from '../../cli/io';
import { runClient, type CliRun } from './helpers/cli';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const fixtures = path.join(root, 'test/fixtures/lightningd');
const NODES = ['single-node', 'channel-node'] as const;
const nodeIdOf = (d: string): string => (JSON.parse(readFileSync(path.join(fixtures, d, 'getinfo.json'), 'utf8')) as { id: string }).id;

const FFEE = 'ffeeddccbbaa99887766554433221100'.repeat(2);
const FFEE_ID = '033d329abba85f6496778496d4af55e175931cb3fb8227ac6132394ee6ed30db01';
const FFEE_LEET = 'cl10leetsllhdmn9m42vcsamx24zrxgs3qrl7ahwvhw4fnzrhve25gvezzyqqjdsjnzedu43ns';
const RITUAL = vectors.hsm_secret_cases.find((c) => c.format === 'mnemonic_with_pass')!;
const ABANDON = vectors.hsm_secret_cases.find((c) => c.name.startsWith('abandon'))!;
const enc = vectors.encrypted_legacy;

let dir: string;
const tmp = (name: string): string => path.join(dir, name);
function put(name: string, data: string | Uint8Array): string {
  writeFileSync(tmp(name), data);
  return tmp(name);
}

/** CliRun the built CLI with stdin a pipe (no terminal). */
const cli = (...args: string[]): CliRun => runClient(args, { cwd: dir });
/** A failure: exit ≠ 0, nothing on stdout, exactly one line on stderr. */
function expectOneLineError(r: CliRun, pattern: RegExp): void {
  expect(r.status).not.toBe(0);
  expect(r.stdout).toBe('');
  expect(r.stderr.endsWith('\n')).toBe(true);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
  for (const s of [FFEE, enc.plaintext_hex, enc.password, 'test_passphrase', FFEE_LEET, RITUAL.mnemonic!, ABANDON.mnemonic!])
    expect(r.stderr).not.toContain(s);
}

beforeAll(() => {
  const b = spawnSync(process.execPath, [path.join(root, 'scripts/build.mjs')], { cwd: root, encoding: 'utf8' });
  if (b.status !== 0) throw new Error(`build failed: ${b.stderr}`);
  dir = mkdtempSync(path.join(tmpdir(), 'cldcb-cli-secrets-'));
  put('pw', `${enc.password}\n`);
  put('wrong-pw', 'not the password\n');
  put('ritual-pw', 'test_passphrase');
  put('encrypted', Buffer.from(enc.file_hex, 'hex'));
  put('plain', Buffer.from(FFEE, 'hex'));
  put('ritual', Buffer.from(RITUAL.hsm_secret_file_hex, 'hex'));
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('nodeid on real lightningd hsm_secret files', () => {
  for (const d of NODES) {
    it(`${d}: prints exactly the getinfo id and a newline`, () => {
      const r = cli('nodeid', '--hsm-secret', path.join(fixtures, d, 'hsm_secret'));
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(`${nodeIdOf(d)}\n`);
      expect(r.stdout).toMatch(/^0[23][0-9a-f]{64}\n$/);
    });
    it(`${d}: --json`, () => {
      const r = cli('nodeid', '--hsm-secret', path.join(fixtures, d, 'hsm_secret'), '--json');
      expect(r.status).toBe(0);
      expect(r.stdout.endsWith('\n')).toBe(true);
      expect(JSON.parse(r.stdout)).toEqual({ node_id: nodeIdOf(d), format: 'mnemonic' });
    });
  }
  it('--option=value works too', () => {
    const r = cli('nodeid', `--hsm-secret=${path.join(fixtures, 'single-node', 'hsm_secret')}`);
    expect(r.stdout).toBe(`${nodeIdOf('single-node')}\n`);
  });
});

describe('nodeid with passphrases', () => {
  it('encrypted file with --passphrase-file → known node id', () => {
    const r = cli('nodeid', '--hsm-secret', 'encrypted', '--passphrase-file', 'pw', '--json');
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ node_id: enc.node_id, format: 'encrypted' });
  });
  it('encrypted file without --passphrase-file and no terminal → one clear line, nothing on stdout', () => {
    expectOneLineError(cli('nodeid', '--hsm-secret', 'encrypted'), /encrypted is protected by a passphrase and there is no terminal.*--passphrase-file/);
  });
  it('wrong passphrase → one line', () => {
    expectOneLineError(cli('nodeid', '--hsm-secret', 'encrypted', '--passphrase-file', 'wrong-pw'), /Wrong passphrase/);
  });
  it('mnemonic with passphrase (ritual…wedding / test_passphrase)', () => {
    const r = cli('nodeid', '--hsm-secret', 'ritual', '--passphrase-file', 'ritual-pw', '--json');
    expect(JSON.parse(r.stdout)).toEqual({ node_id: RITUAL.node_id, format: 'mnemonic-passphrase' });
    expectOneLineError(cli('nodeid', '--hsm-secret', 'ritual'), /no terminal/);
  });
  it('a passphrase for a file that takes none → passphrase not needed', () => {
    expectOneLineError(cli('nodeid', '--hsm-secret', 'plain', '--passphrase-file', 'pw'), /not protected by one/);
  });
  it('a missing passphrase file is named', () => {
    expectOneLineError(cli('nodeid', '--hsm-secret', 'encrypted', '--passphrase-file', 'nope'), /--passphrase-file nope: cannot read it/);
  });
});

describe('nodeid on text files', () => {
  it('hex (grouped, with line breaks), codex32, words — and --json says which', () => {
    const grouped = (FFEE.match(/.{4}/g) ?? []).join(' ').replace(/((?:\S+ ){3}\S+) /g, '$1\n') + '\n';
    const cases: [string, string, string, string][] = [
      ['hex.txt', grouped, FFEE_ID, 'hex'],
      ['codex32.txt', `${FFEE_LEET}\n`, FFEE_ID, 'codex32'],
      ['words.txt', `${ABANDON.mnemonic}\n`, ABANDON.node_id, 'words'],
    ];
    for (const [name, text, id, format] of cases) {
      put(name, text);
      expect(cli('nodeid', '--hsm-secret', name).stdout).toBe(`${id}\n`);
      expect(JSON.parse(cli('nodeid', '--hsm-secret', name, '--json').stdout)).toEqual({ node_id: id, format });
    }
  });
  it('words + --passphrase-file use it as the BIP39 passphrase; without it, no passphrase and no prompt', () => {
    put('ritual.txt', `${RITUAL.mnemonic}\n`);
    expect(cli('nodeid', '--hsm-secret', 'ritual.txt', '--passphrase-file', 'ritual-pw').stdout).toBe(`${RITUAL.node_id}\n`);
    const r = cli('nodeid', '--hsm-secret', 'ritual.txt');
    expect(r.status).toBe(0);
    expect(r.stdout).not.toBe(`${RITUAL.node_id}\n`);
  });
  it('errors name the problem in one line: bad checksum, unknown word, bad hex digit, truncated, not a secret', () => {
    put('bad-words.txt', `${'abandon '.repeat(12)}\n`);
    expectOneLineError(cli('nodeid', '--hsm-secret', 'bad-words.txt'), /bad-words\.txt: .*checksum does not match: check words 1–12/);
    put('typo-words.txt', `${ABANDON.mnemonic!.replace('about', 'abuot')}\n`);
    expectOneLineError(cli('nodeid', '--hsm-secret', 'typo-words.txt'), /Word 12 of 12 is not in the BIP39 English word list/);
    put('bad-hex.txt', `${FFEE.slice(0, 9)}z${FFEE.slice(10)}\n`);
    expectOneLineError(cli('nodeid', '--hsm-secret', 'bad-hex.txt'), /character 10 .*group 3, position 2 of 4/);
    put('short', Buffer.from(FFEE, 'hex').subarray(0, 31));
    expectOneLineError(cli('nodeid', '--hsm-secret', 'short'), /short: .*only 31 bytes/);
    put('enc72', Buffer.from(enc.file_hex, 'hex').subarray(0, 72));
    expectOneLineError(cli('nodeid', '--hsm-secret', 'enc72'), /enc72: .*72 bytes/);
    put('notes.txt', 'remember to buy milk\n');
    expectOneLineError(cli('nodeid', '--hsm-secret', 'notes.txt'), /notes\.txt/);
    expectOneLineError(cli('nodeid', '--hsm-secret', 'does-not-exist'), /does-not-exist: no such file/);
    put('big', new Uint8Array(10_000));
    expectOneLineError(cli('nodeid', '--hsm-secret', 'big'), /10000 bytes/);
  });
});

describe('getsecret (like lightning-hsmtool getsecret FILE [ID])', () => {
  it('plain file with --id → the codex32 string', () => {
    const r = cli('getsecret', '--hsm-secret', 'plain', '--id', 'leet');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`${FFEE_LEET}\n`);
  });
  it('plain file without --id, or with a bad id → one line', () => {
    expectOneLineError(cli('getsecret', '--hsm-secret', 'plain'), /Must set an id/);
    expectOneLineError(cli('getsecret', '--hsm-secret', 'plain', '--id', 'bob1'), /Invalid id/);
  });
  for (const d of NODES) {
    it(`${d} (mnemonic file) → its words; the id is ignored`, () => {
      const words = readFileSync(path.join(fixtures, d, 'hsm_secret')).subarray(32).toString('utf8');
      expect(cli('getsecret', '--hsm-secret', path.join(fixtures, d, 'hsm_secret')).stdout).toBe(`${words}\n`);
      expect(cli('getsecret', '--hsm-secret', path.join(fixtures, d, 'hsm_secret'), '--id', 'leet').stdout).toBe(`${words}\n`);
    });
  }
  it('mnemonic with passphrase → the words (not the passphrase)', () => {
    expect(cli('getsecret', '--hsm-secret', 'ritual', '--passphrase-file', 'ritual-pw').stdout).toBe(`${RITUAL.mnemonic}\n`);
  });
  it('encrypted file: decrypted with its password, then codex32', () => {
    const r = cli('getsecret', '--hsm-secret', 'encrypted', '--passphrase-file', 'pw', '--id', 'leet');
    expect(r.stdout).toMatch(/^cl10leets[02-9ac-hj-np-z]{65}\n$/);
  });
  it('words text file, legacy meaning → codex32 of seed[0..32]', () => {
    put('abandon.txt', `${ABANDON.mnemonic}\n`);
    const r = cli('getsecret', '--hsm-secret', 'abandon.txt', '--id', 'leet', '--words-meaning', 'legacy-generatehsm');
    expect(r.stdout).toBe(`${ABANDON.codex32_cl_id_leet_first32}\n`);
    expect(cli('getsecret', '--hsm-secret', 'abandon.txt').stdout).toBe(`${ABANDON.mnemonic}\n`);
    expect(cli('getsecret', '--hsm-secret', 'abandon.txt', '--words-meaning', 'nonsense').status).toBe(2);
  });
});

describe('exportsecret', () => {
  for (const d of NODES) {
    it(`${d}: mnemonic → mnemonic gives the same bytes, mode 0400, never overwrites`, () => {
      const src = path.join(fixtures, d, 'hsm_secret');
      const out = tmp(`${d}.export`);
      const r = cli('exportsecret', '--hsm-secret', src, '--out', out, '--format', 'mnemonic');
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toContain(nodeIdOf(d));
      expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
      expect(readFileSync(out)).toEqual(readFileSync(src));
      expect(statSync(out).mode & 0o777).toBe(0o400);
      expect(cli('nodeid', '--hsm-secret', out).stdout).toBe(`${nodeIdOf(d)}\n`);
      // a second export to the same path is refused, and the file is unchanged
      const again = cli('exportsecret', '--hsm-secret', tmp('plain'), '--out', out, '--format', 'plain');
      expectOneLineError(again, /already exists/);
      expect(readFileSync(out)).toEqual(readFileSync(src));
    });
  }
  it('refuses a mnemonic secret as plain (it would change the wallet)', () => {
    const src = path.join(fixtures, 'single-node', 'hsm_secret');
    expectOneLineError(cli('exportsecret', '--hsm-secret', src, '--out', tmp('x-plain'), '--format', 'plain'), /different on-chain wallet/);
    expect(() => statSync(tmp('x-plain'))).toThrow();
  });
  it('encrypted → plain (decrypted); plain → mnemonic refused', () => {
    const r = cli('exportsecret', '--hsm-secret', 'encrypted', '--passphrase-file', 'pw', '--out', 'decrypted', '--format', 'plain');
    expect(r.status).toBe(0);
    expect(readFileSync(tmp('decrypted')).toString('hex')).toBe(enc.plaintext_hex);
    expect(statSync(tmp('decrypted')).mode & 0o777).toBe(0o400);
    expectOneLineError(cli('exportsecret', '--hsm-secret', 'plain', '--out', 'p2m', '--format', 'mnemonic'), /needs the words/);
  });
  it('mnemonic with passphrase keeps its passphrase; hex/codex32 text → plain file', () => {
    cli('exportsecret', '--hsm-secret', 'ritual', '--passphrase-file', 'ritual-pw', '--out', 'ritual.out', '--format', 'mnemonic');
    expect(readFileSync(tmp('ritual.out')).toString('hex')).toBe(RITUAL.hsm_secret_file_hex);
    put('c.txt', FFEE_LEET);
    cli('exportsecret', '--hsm-secret', 'c.txt', '--out', 'c.out', '--format', 'plain');
    expect(readFileSync(tmp('c.out')).toString('hex')).toBe(FFEE);
  });
  it('words text → mnemonic file (v25.12 format) or, with legacy meaning, plain seed[0..32]', () => {
    put('w.txt', `  ${ABANDON.mnemonic!.toUpperCase()}  \n`);
    cli('exportsecret', '--hsm-secret', 'w.txt', '--out', 'w.out', '--format', 'mnemonic');
    expect(readFileSync(tmp('w.out')).toString('hex')).toBe(ABANDON.hsm_secret_file_hex);
    cli('exportsecret', '--hsm-secret', 'w.txt', '--out', 'w.legacy', '--format', 'plain', '--words-meaning', 'legacy-generatehsm');
    expect(readFileSync(tmp('w.legacy')).toString('hex')).toBe(ABANDON.secret_data_hex.slice(0, 64));
  });
  it('usage errors exit 2', () => {
    expect(cli('exportsecret', '--hsm-secret', 'plain', '--out', 'z', '--format', 'encrypted').status).toBe(2);
    expect(cli('exportsecret', '--hsm-secret', 'plain', '--format', 'plain').status).toBe(2);
  });
});

/** A CliIo with a terminal that answers `answer` to a secret prompt, recording everything. */
function fakeTerminal(answer: string) {
  const rec = { out: '', err: '', prompts: [] as string[] };
  const io: CliIo = {
    out: (t) => void (rec.out += t),
    err: (t) => void (rec.err += t),
    interactive: true,
    askSecret: async (prompt) => {
      rec.prompts.push(prompt);
      return answer;
    },
    askLine: async () => '',
  };
  return { io, rec };
}

describe('passphrase asked on the terminal (runCli with a fake terminal)', () => {
  it('an encrypted file asks once, names the file, and never echoes the answer', async () => {
    const { io, rec } = fakeTerminal(enc.password);
    expect(await runCli(['nodeid', '--hsm-secret', tmp('encrypted')], io)).toBe(0);
    expect(rec.out).toBe(`${enc.node_id}\n`);
    expect(rec.prompts).toEqual([`Passphrase for ${tmp('encrypted')}: `]);
    expect(rec.err).toBe('');
  });
  it('a wrong answer → exit 1, one line', async () => {
    const { io, rec } = fakeTerminal('nope');
    expect(await runCli(['nodeid', '--hsm-secret', tmp('ritual')], io)).toBe(1);
    expect(rec.out).toBe('');
    expect(rec.err.trimEnd().split('\n')).toHaveLength(1);
    expect(rec.err).toMatch(/Wrong passphrase/);
    expect(rec.err).not.toContain('nope');
  });
  it('files that take no passphrase (plain, mnemonic, words text) never ask', async () => {
    put('words-term.txt', `${ABANDON.mnemonic}\n`);
    for (const f of [tmp('plain'), path.join(fixtures, 'single-node', 'hsm_secret'), tmp('words-term.txt')]) {
      const { io, rec } = fakeTerminal('unused');
      expect(await runCli(['nodeid', '--hsm-secret', f], io)).toBe(0);
      expect(rec.prompts).toEqual([]);
    }
  });
});

describe('shared/node/secretFiles directly', () => {
  it('readSecretFile asks the provider only when the file requires a passphrase', async () => {
    let asked = 0;
    const provider = async () => {
      asked++;
      return 'test_passphrase';
    };
    const single = await readSecretFile(path.join(fixtures, 'single-node', 'hsm_secret'), provider);
    expect(nodeIdHex(single)).toBe(nodeIdOf('single-node'));
    put('words-no-ask.txt', RITUAL.mnemonic!);
    expect((await readSecretFile(tmp('words-no-ask.txt'), provider)).format).toBe('mnemonic');
    expect(asked).toBe(0);
    const r = await readSecretFile(tmp('ritual'), provider);
    expect(asked).toBe(1);
    expect(nodeIdHex(r)).toBe(RITUAL.node_id);
    expect(inspectSecretFile(tmp('ritual'))).toEqual({ kind: 'binary', format: 'mnemonic-passphrase', passphrase: 'required' });
    expect(inspectSecretFile(tmp('words-no-ask.txt'))).toEqual({ kind: 'text', textKind: 'words', passphrase: 'optional' });
  });
  it('writeHsmSecretFile: mode 0400, refuses to overwrite and refuses bytes that are not an hsm_secret', () => {
    const target = tmp('written');
    writeHsmSecretFile(target, Buffer.from(FFEE, 'hex'));
    expect(statSync(target).mode & 0o777).toBe(0o400);
    expect(() => writeHsmSecretFile(target, Buffer.from(FFEE, 'hex'))).toThrow(/already exists/);
    let err: unknown;
    try {
      writeHsmSecretFile(tmp('junk'), new Uint8Array(31));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CldcbError);
    expect((err as CldcbError).code).toBe('truncated');
    expect(() => statSync(tmp('junk'))).toThrow();
  });
});

describe('help', () => {
  it('lists the commands and documents the choices', () => {
    const h = cli('help');
    expect(h.stdout).toMatch(/nodeid/);
    expect(h.stdout).toMatch(/getsecret/);
    expect(h.stdout).toMatch(/exportsecret/);
    const u = cli('nodeid', '--help').stdout;
    expect(u).toContain('hex | codex32 | words');
    expect(u).toContain('never asked for');
  });
});

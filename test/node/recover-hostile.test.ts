/**
 * Recovery on untrusted or damaged inputs and a hostile environment (issue 14 #5, #6, #8, #9,
 * #12), on the original cldcb programs' archive (test/fixtures/cldcb; client 1 reaches
 * data_version 9). The cases that could hang run the built CLI as a child process with a
 * timeout, so a regression fails instead of hanging the suite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { compareDatabases } from '../../shared/node/recovery/compare';
import { readRecognitionCodesFile, MAX_CODES_LINE } from '../../shared/node/recovery/sources';
import { repoRoot, runCliCaptured } from './helpers/cli';
import { ensureServerBuilt } from './helpers/server-harness';
import { CLDCB_CID1 as CID1, CLDCB_FIX as FIX, originalServerDir, tempSpace } from './helpers/recovery';

const EXPECTED = path.join(FIX, 'recovered_from_archive_dv9.sqlite3');
const NODE_KEY_FILE = path.join(FIX, 'node.key');
const OTHER_CID = 'c3' + '11'.repeat(32);

const tmp = tempSpace('cldcb-recover-hostile-');
beforeAll(async () => {
  await ensureServerBuilt(); // the CLI bundle and the worker bundles
  tmp.create();
});
afterAll(() => tmp.remove());

const serverDirCopy = (): string => originalServerDir(tmp.fresh('server'));


const cli = runCliCaptured;

const recoverArgs = (ld: string, from: string, ...extra: string[]): string[] => ['recover', `--lightning-dir=${ld}`, `--from=${from}`, `--node-key-file=${NODE_KEY_FILE}`, '--json', ...extra];

/**
 * The built CLI in a child process, killed with SIGKILL after `timeoutMs`: a regression that
 * blocks (a FIFO opened for reading) fails the test instead of hanging it — SIGTERM would not
 * do, the CLI handles it to cancel.
 */
function child(args: string[], timeoutMs = 30_000): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'cli/cldcb-client.mjs'), ...args], { cwd: repoRoot, input: '', encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL', env: { ...process.env, CLDCB_DEBUG: '' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const mkfifo = (p: string): void => {
  expect(spawnSync('mkfifo', [p]).status).toBe(0);
};

describe('bounded reads of an untrusted directory (issue 14 #5)', () => {
  it('a 600 MB recognition_codes without a newline costs a note, not the memory; the archive beside it is still recovered', async () => {
    const sd = serverDirCopy();
    const codes = path.join(sd, 'recognition_codes');
    writeFileSync(codes, '');
    truncateSync(codes, 600 << 20); // sparse: one 600 MB "line" of NULs (the old reader built it as one string and died)
    const before = process.memoryUsage().rss;
    const ld = tmp.fresh('ld');
    const r = await cli(recoverArgs(ld, sd));
    expect(r.code, r.stderr).toBe(0);
    expect(process.memoryUsage().rss - before).toBeLessThan(200 << 20);
    const v = JSON.parse(r.stdout);
    expect(v).toMatchObject({ ok: true, data_version: 9, client_id: CID1, found_by: 'archive' });
    expect(v.warnings.map((w: { message: string }) => w.message).join('\n')).toMatch(new RegExp(`recognition_codes: 1 line\\(s\\) are not records \\(line 1: longer than ${MAX_CODES_LINE} bytes: not a record\\)`));
    expect(compareDatabases(path.join(ld, 'lightningd.sqlite3'), EXPECTED).identical).toBe(true);
  }, 120_000);

  it('long lines are skipped, the records around them kept', () => {
    const f = tmp.file('codes', '');
    const rec = (k: string): string => `02${k.repeat(64)} ${'ab'.repeat(64)}`;
    writeFileSync(f, `${rec('1')}\n${'x'.repeat(10_000)}\n${rec('2')}\n${'y'.repeat(3000)}`);
    const r = readRecognitionCodesFile(f);
    expect(r.count).toBe(2);
    expect(Array.from(r.lines!)).toEqual([1, 3]);
    expect(r.malformed).toEqual([
      { line: 2, reason: `longer than ${MAX_CODES_LINE} bytes: not a record` },
      { line: 4, reason: `longer than ${MAX_CODES_LINE} bytes: not a record` },
    ]);
  });

  it('a recognition_codes that is a directory is a note; the archives are probed', async () => {
    const sd = serverDirCopy();
    const codes = path.join(sd, 'recognition_codes');
    rmrf(codes);
    mkdirSync(codes);
    const r = await cli(recoverArgs(tmp.fresh('ld'), sd));
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).warnings.map((w: { message: string }) => w.message).join('\n')).toMatch(/recognition_codes cannot be used \(.*recognition_codes is a directory, not a file\.\); every archive is opened/);
  });
});

function rmrf(p: string): void {
  spawnSync('rm', ['-rf', p]);
}

describe('FIFOs never hang, directories never crash (issue 14 #6, #9)', () => {
  it("a FIFO named <cid>.arch beside our archive: said, never opened, and ours is recovered", () => {
    const sd = serverDirCopy();
    mkfifo(path.join(sd, `${OTHER_CID}.arch`));
    const ld = tmp.fresh('ld');
    const r = child(recoverArgs(ld, sd));
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).warnings.map((w: { message: string }) => w.message).join('\n')).toMatch(new RegExp(`${OTHER_CID}\\.arch is a named pipe \\(FIFO\\), not a file: it cannot be an archive`));
  });

  it('--from=x.arch that is a FIFO: a clear failure at once', () => {
    const fifo = path.join(tmp.fresh('fifo'), `${CID1}.arch`);
    mkfifo(fifo);
    const r = child(recoverArgs(tmp.fresh('ld'), fifo));
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout).error.message).toMatch(/is a named pipe \(FIFO\), not a file: give the <client id>\.arch file itself/);
  });

  it('an hsm_secret that is a FIFO: a clear failure at once', () => {
    const ld = tmp.fresh('ld');
    mkfifo(path.join(ld, 'hsm_secret'));
    const r = child(['recover', `--lightning-dir=${ld}`, `--from=${serverDirCopy()}`, '--json']);
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout).error.message).toMatch(/hsm_secret is a named pipe \(FIFO\), not a file/);
  });

  it('our <cid>.arch is a directory: a clear error for that entry, and the copy on another server is used', async () => {
    const broken = serverDirCopy();
    const arch = path.join(broken, `${CID1}.arch`);
    rmrf(arch);
    mkdirSync(arch);
    // our recognition code, so the entry is found by its code and its archive looked for
    const record = readFileSync(path.join(FIX, 'recognition_record_c1.hex'), 'utf8').trim(); // cid33 ‖ code64, hex
    writeFileSync(path.join(broken, 'recognition_codes'), `${record.slice(0, 66)} ${record.slice(66)}\n`);
    const alone = await cli(recoverArgs(tmp.fresh('ld'), broken));
    expect(alone.code).toBe(1);
    expect(JSON.parse(alone.stdout).error.message).toMatch(new RegExp(`${CID1}\\.arch is a directory, not a file, so it cannot be read as ${CID1}'s archive`));
    expect(alone.stdout).not.toMatch(/Internal error/);

    const ld = tmp.fresh('ld');
    const both = await cli([...recoverArgs(ld, broken), `--from=${serverDirCopy()}`]);
    expect(both.code, both.stderr).toBe(0);
    const v = JSON.parse(both.stdout);
    expect(v.data_version).toBe(9);
    expect(v.candidates.find((c: { error?: { message: string } }) => c.error)?.error.message).toMatch(/is a directory, not a file/);
  });
});

describe('the temp files of a killed run are removed by the next one (issue 14 #6)', () => {
  it('.lightningd.sqlite3.<hex>.tmp and its journal: removed, and said', async () => {
    const ld = tmp.fresh('ld');
    for (const f of ['.lightningd.sqlite3.0123456789ab.tmp', '.lightningd.sqlite3.0123456789ab.tmp-journal']) writeFileSync(path.join(ld, f), 'left by SIGKILL');
    writeFileSync(path.join(ld, '.lightningd.sqlite3.notours.tmp'), 'not ours: kept');
    const r = await cli(recoverArgs(ld, serverDirCopy(), '--shost=backup.example'));
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(ld).sort()).toEqual(['.lightningd.sqlite3.notours.tmp', 'cldcb-plugin-wrapper', 'cldcb-plugin.state', 'lightningd.sqlite3']);
    expect(JSON.parse(r.stdout).warnings.find((w: { kind: string }) => w.kind === 'cleaned_up')?.message).toMatch(/Removed 2 temporary file\(s\) an interrupted recovery left/);
  });
});

describe('Ctrl-C ends the process (issue 14 #6)', () => {
  it('SIGINT during the recognition search: the process exits promptly, "Cancelled", nothing written', async () => {
    const sd = serverDirCopy();
    // 400,000 well-formed records of other nodes: several seconds of recognition work
    const hex = randomBytes(96 * 400_000).toString('hex');
    const lines: string[] = [];
    for (let i = 0; i < 400_000; i++) lines.push(`03${hex.slice(i * 192, i * 192 + 64)} ${hex.slice(i * 192 + 64, i * 192 + 192)}`);
    writeFileSync(path.join(sd, 'recognition_codes'), lines.join('\n') + '\n');
    const ld = tmp.fresh('ld');
    const child = spawn(process.execPath, [path.join(repoRoot, 'cli/cldcb-client.mjs'), ...recoverArgs(ld, sd).filter((a) => a !== '--json')], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await waitFor(() => /checked \d+\/400000/.test(stderr) || /recognition…/.test(stderr), 30_000);
    const t0 = Date.now();
    child.kill('SIGINT');
    const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 15_000))]);
    if (code === 'hung') child.kill('SIGKILL');
    expect(code, stderr).toBe(1);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(stderr).toMatch(/Cancelled\. Nothing was written\./);
    expect(readdirSync(ld)).toEqual([]);
  }, 90_000);
});

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('outputs checked before the work, causes named (issue 14 #8, #12)', () => {
  it('--report in a directory that does not exist: a usage error before anything is read or written', async () => {
    const ld = tmp.fresh('ld');
    const r = await cli(recoverArgs(ld, serverDirCopy(), '--report=/no/such/dir/r.html'));
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).error.message).toMatch(/--report \/no\/such\/dir\/r\.html: the directory \/no\/such\/dir does not exist/);
    expect(readdirSync(ld)).toEqual([]);
  });

  // RLIMIT_FSIZE stands in for a full disk (no privileges needed): SQLite's write fails, or
  // the snapshot's. A real ENOSPC takes the same path (diskError, unit-tested below).
  for (const [fsize, cause] of [
    [200_000, /\(SQLITE_(FULL|IOERR\w*)\)/],
    [100_000, /\(EFBIG\)/],
  ] as const)
    it(`a write limit of ${fsize} bytes (a full disk as the rebuild sees it): the disk is named, not the archive, nothing left`, () => {
      const ld = tmp.fresh('ld');
      const r = spawnSync('prlimit', [`--fsize=${fsize}`, process.execPath, path.join(repoRoot, 'cli/cldcb-client.mjs'), ...recoverArgs(ld, serverDirCopy())], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(1);
      const e = JSON.parse(r.stdout).error;
      expect(e.code).toBe('io_error');
      expect(e.message).toMatch(/^Writing the recovered database failed: .*This is the lightning directory's disk, not the backup/);
      expect(e.message).toMatch(cause);
      expect(e.message).not.toMatch(/archive lacks/);
      expect(existsSync(path.join(ld, 'lightningd.sqlite3'))).toBe(false);
      expect(readdirSync(ld)).toEqual([]);
    });
});

describe('diskError names the disk, from the error code only', () => {
  it('ENOSPC, EDQUOT, SQLITE_FULL, SQLITE_IOERR_*: io_error naming the cause; anything else: not a disk error', async () => {
    const { diskError } = await import('../../shared/node/recovery/diskErrors');
    expect(diskError(Object.assign(new Error('x'), { code: 'ENOSPC' }))?.message).toMatch(/^Writing the recovered database failed: the disk is full \(ENOSPC\)/);
    expect(diskError({ code: 'EDQUOT' })?.message).toMatch(/quota is used up \(EDQUOT\)/);
    expect(diskError({ code: 'SQLITE_FULL' })?.message).toMatch(/the disk is full \(or a file-size limit was reached\) \(SQLITE_FULL\)/);
    expect(diskError({ code: 'SQLITE_IOERR_FSYNC' })?.code).toBe('io_error');
    expect(diskError({ code: 'SQLITE_CONSTRAINT_FOREIGNKEY' })).toBeUndefined();
    expect(diskError(new Error('database or disk is full'))).toBeUndefined();
  });
});

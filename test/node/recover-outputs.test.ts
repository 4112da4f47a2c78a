/**
 * What recovery writes, and where (the CLI and the engine the app uses), on the original cldcb
 * programs' archive (test/fixtures/cldcb, see its README; client 1 reaches data_version 9):
 *  - a database that is or may be stale is never written under the name lightningd opens: it
 *    lands as lightningd.sqlite3.stale-<data_version>, alone, with what to do (issue 12 #2);
 *  - the operator's last known data_version is validated strictly, in the CLI and the engine;
 *  - SQLite side files (-journal, -wal, -shm) at the target are refused before anything is
 *    written (issue 14 #2).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import path from 'node:path';
import { EXIT_STALE } from '../../cli/commands/recover';
import { hexToBytes } from '../../shared/bytes';
import { CldcbError } from '../../shared/errors';
import { compareDatabases } from '../../shared/node/recovery/compare';
import { recover } from '../../shared/node/recovery/engine';
import { ensureServerBuilt } from './helpers/server-harness';
import { CLDCB_CID1 as CID1, CLDCB_FIX as FIX, originalServerDir, tempSpace } from './helpers/recovery';
import { runCliCaptured } from './helpers/cli';

const EXPECTED = path.join(FIX, 'recovered_from_archive_dv9.sqlite3');
const NODE_KEY_FILE = path.join(FIX, 'node.key');
const NPK = hexToBytes('1ff8408eee5b9d9d65ca6d3698067b551f93aef9b548f05520369ed435383673');

const tmp = tempSpace('cldcb-recover-outputs-');
beforeAll(async () => {
  await ensureServerBuilt();
  tmp.create();
});
afterAll(() => tmp.remove());

const serverDirCopy = (): string => originalServerDir(tmp.fresh('server'));


const cli = runCliCaptured;

describe('a database that may be stale is written aside, never as lightningd.sqlite3 (issue 12 #2)', () => {
  it('CLI: exit 3, lightningd.sqlite3.stale-9 alone (no wrapper, state or key beside it), what to do; a second run never overwrites it', async () => {
    const sd = serverDirCopy();
    const ld = tmp.fresh('ld');
    const args = ['recover', `--lightning-dir=${ld}`, `--from=${sd}`, `--node-key-file=${NODE_KEY_FILE}`, '--shost=backup.example:29735', '--last-known-data-version=12'];
    const r = await cli([...args, '--json']);
    expect(r.code).toBe(EXIT_STALE);
    const v = JSON.parse(r.stdout);
    const aside = path.join(ld, 'lightningd.sqlite3.stale-9');
    expect(v).toMatchObject({ ok: false, stale: true, data_version: 9, database: aside, wrapper: null, plugin_state: null });
    expect(v.stale_reasons.join(' ')).toMatch(/last known data_version is 12, but this backup ends at 9 \(3 behind\)/);
    expect(readdirSync(ld)).toEqual(['lightningd.sqlite3.stale-9']);
    expect(compareDatabases(aside, EXPECTED).identical).toBe(true);
    const steps: string[] = v.next_steps;
    expect(steps[0]).toMatch(/written as .*lightningd\.sqlite3\.stale-9, not as lightningd\.sqlite3, because it may be stale.*Do not start lightningd on it/);
    expect(steps.join('\n')).toMatch(new RegExp(`Only if you are sure it is the latest: mv ${aside} ${path.join(ld, 'lightningd.sqlite3')}`));
    expect(steps.join('\n')).toMatch(/SCB path \(cldcb-client scb\)/);
    expect(steps[steps.length - 1]).toMatch(/^Never start the lost node/);

    // Text report: the banner, the steps, the exit code.
    const again = await cli(args);
    expect(again.code).toBe(EXIT_STALE);
    expect(again.stdout).toMatch(/\*\*\* STALE: DO NOT START LIGHTNINGD ON THIS DATABASE \*\*\*/);
    expect(again.stdout).toMatch(/Next steps\n {2}1\. The rebuilt database was written as .*stale-9-2/);
    expect(readdirSync(ld).sort()).toEqual(['lightningd.sqlite3.stale-9', 'lightningd.sqlite3.stale-9-2']);
    expect(compareDatabases(aside, EXPECTED).identical).toBe(true);
  });

  it('engine (the app): the freshest source lands as lightningd.sqlite3; one stale against the last known data_version lands aside, no plugin files', async () => {
    const oldDir = serverDirCopy();
    copyFileSync(path.join(FIX, 'snapshots', `${CID1}.after_dv8_append.arch`), path.join(oldDir, `${CID1}.arch`));
    const ld = tmp.fresh('ld');
    const v = await recover({ nodePrivateKey: NPK, sources: [{ kind: 'serverDir', dir: oldDir, serverHost: 'a.example' }, { kind: 'serverDir', dir: serverDirCopy(), serverHost: 'b.example' }], lightningDir: ld, inline: true });
    expect(v.dataVersion).toBe(9);
    expect(v.stale).toBe(false);
    expect(v.database.path).toBe(path.join(ld, 'lightningd.sqlite3'));

    const ld2 = tmp.fresh('ld');
    const v2 = await recover({ nodePrivateKey: NPK, sources: [{ kind: 'serverDir', dir: oldDir, serverHost: 'a.example' }], lightningDir: ld2, inline: true, lastKnownDataVersion: 9 });
    expect(v2).toMatchObject({ stale: true, dataVersion: 8, database: { path: path.join(ld2, 'lightningd.sqlite3.stale-8') } });
    expect(v2.wrapper).toBeUndefined();
    expect(v2.pluginState).toBeUndefined();
    expect(readdirSync(ld2)).toEqual(['lightningd.sqlite3.stale-8']);
    expect(v2.nextSteps[0]).toMatch(/lightningd\.sqlite3\.stale-8, not as lightningd\.sqlite3/);
  });
});

describe('the last known data_version is checked strictly', () => {
  for (const bad of ['12O', 'abc', '-1', '1.5', '4294967296', ''])
    it(`CLI --last-known-data-version=${JSON.stringify(bad)}: usage error, nothing read or written`, async () => {
      const ld = tmp.fresh('ld');
      const r = await cli(['recover', `--lightning-dir=${ld}`, `--from=${serverDirCopy()}`, `--node-key-file=${NODE_KEY_FILE}`, `--last-known-data-version=${bad}`]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--last-known-data-version must be a data_version \(0 … 4294967295\)/);
      expect(readdirSync(ld)).toEqual([]);
    });

  for (const bad of [Number.NaN, 1.5, -1, 2 ** 32, '12' as unknown as number])
    it(`engine lastKnownDataVersion ${JSON.stringify(bad)} (from the app): bad_input before anything is written`, async () => {
      const ld = tmp.fresh('ld');
      const e = await recover({ nodePrivateKey: NPK, sources: [{ kind: 'serverDir', dir: serverDirCopy() }], lightningDir: ld, inline: true, lastKnownDataVersion: bad }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(CldcbError);
      expect((e as CldcbError).code).toBe('bad_input');
      expect((e as CldcbError).message).toMatch(/last known data_version must be a whole number from 0 to 4294967295/);
      expect(readdirSync(ld)).toEqual([]);
    });

  it('engine lastKnownTime must be unix seconds', async () => {
    const ld = tmp.fresh('ld');
    const e = await recover({ nodePrivateKey: NPK, sources: [{ kind: 'serverDir', dir: serverDirCopy() }], lightningDir: ld, inline: true, lastKnownTime: Number.NaN }).catch((x: unknown) => x);
    expect((e as CldcbError).code).toBe('bad_input');
    expect((e as CldcbError).message).toMatch(/last known time must be unix seconds/);
    expect(readdirSync(ld)).toEqual([]);
  });
});

describe("SQLite's side files of the lost database at the target are refused before anything is written (issue 14 #2)", () => {
  for (const sfx of ['-journal', '-wal', '-shm'])
    it(`CLI: lightningd.sqlite3${sfx} → exit 1, named, left alone, nothing written`, async () => {
      const ld = tmp.fresh('ld');
      const side = path.join(ld, `lightningd.sqlite3${sfx}`);
      writeFileSync(side, 'hot journal of the lost node');
      const r = await cli(['recover', `--lightning-dir=${ld}`, `--from=${serverDirCopy()}`, `--node-key-file=${NODE_KEY_FILE}`, '--shost=backup.example']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`${side.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is there: SQLite's file of the lost database\\. .* Nothing was written\\. Move it out of the lightning directory`));
      expect(readdirSync(ld)).toEqual([`lightningd.sqlite3${sfx}`]);
      expect(readFileSync(side, 'utf8')).toBe('hot journal of the lost node');
    });

  it('engine (the app): all of them named at once', async () => {
    const ld = tmp.fresh('ld');
    for (const sfx of ['-wal', '-shm']) writeFileSync(path.join(ld, `lightningd.sqlite3${sfx}`), '');
    const e = await recover({ nodePrivateKey: NPK, sources: [{ kind: 'serverDir', dir: serverDirCopy() }], lightningDir: ld, inline: true }).catch((x: unknown) => x);
    expect((e as CldcbError).code).toBe('file_exists');
    expect((e as CldcbError).message).toContain(`${path.join(ld, 'lightningd.sqlite3-wal')}, ${path.join(ld, 'lightningd.sqlite3-shm')} are there`);
    expect(readdirSync(ld).sort()).toEqual(['lightningd.sqlite3-shm', 'lightningd.sqlite3-wal']);
  });

  it('what the refusal prevents: a stale journal beside the recovered database is rolled into it on the first open', async () => {
    // Recover cleanly, then put a hot journal (from another database) beside the result, as the
    // lost node's would be, and open it as lightningd would.
    const ld = tmp.fresh('ld');
    const v = await recover({ nodePrivateKey: NPK, sources: [{ kind: 'serverDir', dir: serverDirCopy() }], lightningDir: ld, inline: true, writeWrapper: false });
    expect(compareDatabases(v.database.path, EXPECTED).identical).toBe(true);
    const other = path.join(tmp.fresh('other'), 'x.sqlite3');
    const db = new Database(other);
    db.exec('PRAGMA journal_mode = DELETE; PRAGMA cache_size = 2; CREATE TABLE t(x); BEGIN; INSERT INTO t VALUES (1);'); // a tiny cache spills: the journal is on disk
    for (let i = 0; i < 200; i++) db.exec(`INSERT INTO t VALUES (randomblob(4000))`);
    copyFileSync(`${other}-journal`, `${v.database.path}-journal`); // a hot journal, mid-transaction
    db.exec('ROLLBACK');
    db.close();
    new Database(v.database.path).close(); // lightningd's first open: the "hot" journal is played back
    let identical: boolean;
    try {
      identical = compareDatabases(v.database.path, EXPECTED).identical;
    } catch {
      identical = false; // "database disk image is malformed"
    }
    expect(identical).toBe(false);
  });
});

/**
 * The one set of statement classifiers (shared/cldcb/statements.ts) that the plugin, the
 * recovery readers and the replay plan share: the foreign-keys PRAGMA decision (strict, as
 * lightningd emits it), PRAGMA placement, transaction statements, deferred constraints.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { utf8 } from '../../shared/bytes';
import {
  isForeignKeysPragma,
  isPragma,
  isPragmaBytes,
  isPragmaOnlyCall,
  StatementBytesFacts,
  transactionKeyword,
} from '../../shared/cldcb/statements';

const FIX = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../fixtures/lightningd');

describe('isForeignKeysPragma: exactly the statements lightningd emits around table rebuilds', () => {
  it('accepts every foreign_keys PRAGMA in the real lightningd traces (db/db_sqlite3.c prepare/complete_table_manip)', () => {
    const pragmas = new Set<string>();
    for (const f of ['single-node/trace-1.jsonl', 'channel-node/trace-B.jsonl'])
      for (const line of readFileSync(path.join(FIX, f), 'utf8').split('\n').filter(Boolean)) {
        const call = JSON.parse(line) as { writes?: string[] };
        for (const w of call.writes ?? []) if (/foreign_keys/i.test(w)) pragmas.add(w);
      }
    expect([...pragmas].sort()).toEqual(['PRAGMA foreign_keys = OFF;', 'PRAGMA foreign_keys = ON;']);
    for (const p of pragmas) expect(isForeignKeysPragma(p)).toBe(true);
  });

  it('refuses anything that is more than the setting (it must prove a write set holds no data)', () => {
    expect(isForeignKeysPragma('PRAGMA foreign_keys = ON; DROP TABLE x')).toBe(false);
    expect(isForeignKeysPragma('PRAGMA foreign_keys')).toBe(false); // a query
    expect(isForeignKeysPragma('PRAGMA foreign_key_list(channels)')).toBe(false);
    expect(isForeignKeysPragma('PRAGMA foreign_keys = maybe')).toBe(false);
    expect(isForeignKeysPragma('  pragma FOREIGN_KEYS=1 ')).toBe(true);
  });
});

describe('PRAGMA, transaction statements, deferred constraints', () => {
  it('a PRAGMA is the keyword after ASCII blanks, not a longer word', () => {
    for (const s of ['PRAGMA foreign_keys = OFF;', '\t\n pragma x', 'PRAGMA']) {
      expect(isPragma(s), s).toBe(true);
      expect(isPragmaBytes(utf8(s)), s).toBe(true);
    }
    for (const s of ['PRAGMATIC nonsense', 'INSERT INTO t VALUES (1) -- PRAGMA', '', '/* c */ PRAGMA x']) expect(isPragma(s), s).toBe(false);
  });

  it('a PRAGMA-only call (run outside a transaction) is at least one statement, every one a PRAGMA — as the recovery reads it', () => {
    const calls: string[][] = [['PRAGMA foreign_keys = OFF;'], ['PRAGMA foreign_keys = ON;', ' pragma x'], [], ['PRAGMA foreign_keys = OFF;', 'DROP TABLE x'], ['PRAGMATIC']];
    for (const call of calls) {
      const facts = new StatementBytesFacts();
      for (const w of call) facts.statement(utf8(w));
      expect(isPragmaOnlyCall(call), call.join(' | ')).toBe(facts.onlyPragmas);
    }
    expect(calls.map(isPragmaOnlyCall)).toEqual([true, true, false, false, false]);
  });

  it('names transaction statements and only those', () => {
    expect(transactionKeyword(utf8('  rollback'))).toBe('rollback');
    expect(transactionKeyword(utf8('END TRANSACTION'))).toBe('end');
    expect(transactionKeyword(utf8('SAVEPOINT a'))).toBe('savepoint');
    for (const s of ['BEGINNING', 'CREATE TABLE commit_log (a)', 'select 1', 'ENDPOINT', 'RELEASED']) expect(transactionKeyword(utf8(s)), s).toBeUndefined();
    const f = new StatementBytesFacts('increment 7');
    f.statement(utf8('INSERT INTO t VALUES (1)'));
    expect(() => f.statement(utf8('COMMIT'))).toThrow(expect.objectContaining({ code: 'archive_lost_writes', message: expect.stringMatching(/^increment 7: statement 2 is a transaction statement \(COMMIT\)/) }));
  });

  it('notices deferred constraints in a CREATE or a PRAGMA, not in data', () => {
    const defers = (s: string): boolean => {
      const f = new StatementBytesFacts();
      f.statement(utf8(s));
      return f.defers;
    };
    expect(defers('CREATE TABLE a (b REFERENCES c DEFERRABLE INITIALLY DEFERRED)')).toBe(true);
    expect(defers('PRAGMA defer_foreign_keys = ON')).toBe(true);
    expect(defers("INSERT INTO notes VALUES ('deferred')")).toBe(false);
  });
});

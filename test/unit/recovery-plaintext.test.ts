/**
 * The one increment reader (shared/cldcb/plaintexts.ts IncrementReader) on random statements
 * and random piece boundaries — against what was encoded, in decode mode and in sink mode
 * (bytes, as the recovery reads) — and the byte-level statement facts against the string
 * classifiers.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { encodeIncrementPlaintext, IncrementReader } from '../../shared/cldcb/plaintexts';
import { bumpOldValue, isDataVersionBump, isPragma, statementWords, StatementBytesFacts } from '../../shared/cldcb/statements';

const hashOf = () => {
  const x = createHash('sha256');
  return { update: (d: Uint8Array) => x.update(d), digestHex: () => x.digest('hex') };
};

const statement = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.constantFrom(
    'PRAGMA foreign_keys = OFF;',
    '  pragma foreign_keys=ON',
    "UPDATE vars SET intval = intval + 1 WHERE name = 'data_version' AND intval = 41",
    "update vars set intval=intval+1 where name='data_version'",
    "UPDATE channels SET state = 2 WHERE id = 1",
    "INSERT INTO outputs VALUES (x'00ff', 'é', NULL)",
    '',
    'PRAGMATIC nonsense',
  ),
);

function cuts(len: number, seeds: number[]): number[] {
  const c = [...new Set(seeds.map((s) => s % (len + 1)))].sort((a, b) => a - b);
  return [0, ...c, len];
}

describe('IncrementReader: any split, decode mode = sink mode = what was encoded', () => {
  it('same statements, data_version and count for any split', () => {
    fc.assert(
      fc.property(fc.array(statement, { maxLength: 20 }), fc.nat({ max: 0xffffffff }), fc.array(fc.nat(), { maxLength: 12 }), (stmts, dv, seeds) => {
        const pt = encodeIncrementPlaintext(dv, stmts);
        const c = cuts(pt.length, seeds);
        const a = new IncrementReader(hashOf());
        const viaSink: string[] = [];
        const b = new IncrementReader(hashOf(), 'x', { statement: (bytes) => viaSink.push(new TextDecoder().decode(bytes)) });
        const ga: string[] = [];
        for (let i = 0; i + 1 < c.length; i++) {
          ga.push(...a.push(pt.subarray(c[i], c[i + 1])));
          expect(b.push(pt.subarray(c[i], c[i + 1]))).toEqual([]);
        }
        expect(viaSink).toEqual(ga);
        expect(ga).toEqual(stmts);
        const ea = a.finish();
        const eb = b.finish();
        expect([ea.dataVersion, ea.count]).toEqual([dv, stmts.length]);
        expect([eb.dataVersion, eb.count]).toEqual([dv, stmts.length]);
        expect(ea.hash).toBe(createHash('sha256').update(pt).digest('hex'));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses every truncation and trailing bytes', () => {
    fc.assert(
      fc.property(fc.array(statement, { minLength: 1, maxLength: 6 }), fc.nat(), (stmts, cut) => {
        const pt = encodeIncrementPlaintext(7, stmts);
        const at = cut % pt.length;
        const outcome = (d: { push(p: Uint8Array): unknown; finish(): unknown }, bytes: Uint8Array): string => {
          try {
            d.push(bytes);
            d.finish();
            return 'ok';
          } catch (e) {
            return (e as { code: string }).code;
          }
        };
        expect(outcome(new IncrementReader(hashOf()), pt.subarray(0, at))).toBe('truncated');
        const extra = new Uint8Array([...pt, 1]);
        expect(outcome(new IncrementReader(hashOf()), extra)).toBe('bad_input');
        expect(outcome(new IncrementReader(hashOf()), pt)).toBe('ok');
      }),
      { numRuns: 200 },
    );
  });

  it('facts from bytes (pass 1) equal facts from strings', () => {
    fc.assert(
      fc.property(fc.array(statement, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 6 }), (stmts, seeds) => {
        const pt = encodeIncrementPlaintext(3, stmts);
        const bytesFacts = new StatementBytesFacts();
        const r = new IncrementReader(hashOf(), 'x', bytesFacts);
        const c = cuts(pt.length, seeds);
        for (let i = 0; i + 1 < c.length; i++) expect(r.push(pt.subarray(c[i], c[i + 1]))).toEqual([]);
        r.finish();
        // The same facts from the string classifiers, statement by statement.
        const bump = stmts.find(isDataVersionBump);
        const f = {
          statements: stmts.length,
          hasBump: bump !== undefined,
          bumpOld: bump === undefined ? undefined : bumpOldValue(bump),
          onlyPragmas: stmts.length > 0 && stmts.every(isPragma),
          firstWords: stmts.length > 0 ? statementWords(stmts[0]!) : '',
        };
        expect({ n: bytesFacts.statements, b: bytesFacts.hasBump, o: bytesFacts.bumpOld, p: bytesFacts.onlyPragmas, w: bytesFacts.firstWords }).toEqual({
          n: f.statements,
          b: f.hasBump,
          o: f.bumpOld,
          p: f.onlyPragmas,
          w: f.firstWords,
        });
      }),
      { numRuns: 300 },
    );
  });
});

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sha256 } from '@noble/hashes/sha2.js';
import known from '../vectors/cln/known-answers.json';
import ccan from '../vectors/cln-runes/ccan-test-vectors.json';
import docs from '../vectors/cln-runes/createrune-examples.json';
import { CldcbError } from '../../shared/errors';
import { bytesToHex, concatBytes, hexToBytes, utf8 } from '../../shared/bytes';
import {
  READONLY_RESTRICTIONS,
  alternativeFromCreateruneText,
  checkRuneAuthentic,
  checkRuneConditions,
  decodeRune,
  derivedSecretBase,
  describeRune,
  encodeRune,
  hsmtoolMakeruneMasterSecret,
  makeSecret,
  masterRune,
  mintRune,
  parseRestriction,
  parseUnixSeconds,
  restrictRune,
  restrictionToString,
  restrictionsFromCreateruneJson,
  restrictionsFromOptions,
  runeMasterSecret,
  runeToString,
  type Rune,
  type RuneAlternative,
  type RuneFieldValue,
  type RuneRestriction,
} from '../../shared/credentials/runes';
import {
  sha256Blocks,
  sha256Initial,
  sha256UpdateWithEndMarker,
  stateToBytes,
  withEndMarker,
} from '../../shared/credentials/sha256State';
import { inspectRune } from '../../shared/credentials';

/** Expect `fn` to throw a CldcbError (and nothing else); returns it. */
function cldcbError(fn: () => unknown): CldcbError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CldcbError);
    return e as CldcbError;
  }
  throw new Error('expected a CldcbError, nothing was thrown');
}

describe('rune secrets (cln-facts §9)', () => {
  for (const c of known.hsm_secret_cases) {
    it(`${c.name}: derived secrets, makesecret, id-0 rune as the node and as hsmtool`, () => {
      const secret = hexToBytes(c.secret_data_hex);
      expect(bytesToHex(derivedSecretBase(secret))).toBe(c.derived_secret_base);
      for (const [label, value] of Object.entries(c.makesecret))
        expect(bytesToHex(makeSecret(secret, label))).toBe(value);
      expect(bytesToHex(runeMasterSecret(secret))).toBe(c.makesecret.commando);
      expect(encodeRune(mintRune(runeMasterSecret(secret), 0))).toBe(c.master_rune_uid0_as_node);
      expect(encodeRune(mintRune(hsmtoolMakeruneMasterSecret(secret), 0))).toBe(c.hsmtool_makerune_uid0);
      // The two agree exactly for legacy 32-byte secrets (cln-facts §9 "Discrepancy").
      expect(c.master_rune_uid0_as_node === c.hsmtool_makerune_uid0).toBe(secret.length === 32);
    });
  }
  it('makesecret takes raw bytes as well as a label', () => {
    const s = hexToBytes(known.hsm_secret_cases[0]!.secret_data_hex);
    expect(makeSecret(s, utf8('commando'))).toEqual(makeSecret(s, 'commando'));
  });
  it('rejects secrets of the wrong size or type', () => {
    for (const bad of [new Uint8Array(31), new Uint8Array(33), new Uint8Array(0), new Uint8Array(65)])
      expect(cldcbError(() => runeMasterSecret(bad)).code).toBe('bad_length');
    for (const bad of [null, undefined, 'ab', 32, [1, 2], {}] as unknown[])
      expect(cldcbError(() => runeMasterSecret(bad as Uint8Array)).code).toBe('bad_input');
    expect(cldcbError(() => masterRune(new Uint8Array(56))).code).toBe('bad_length');
    expect(cldcbError(() => masterRune(new Uint8Array(0))).code).toBe('bad_length');
  });
});

describe('SHA-256 chaining state (sha256State.ts)', () => {
  it('equals plain SHA-256 over secret ‖ pad ‖ r1 ‖ pad ‖ … ‖ rN (cln-facts §9)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 55 }),
        fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 6 }),
        (secret, parts) => {
          let state = sha256UpdateWithEndMarker(sha256Initial(), secret);
          let msg: Uint8Array = secret;
          for (const p of parts) {
            msg = concatBytes(withEndMarker({ words: new Uint32Array(8), bytes: 0 }, msg), p);
            state = sha256UpdateWithEndMarker(state, p);
          }
          expect(stateToBytes(state)).toEqual(sha256(msg));
        },
      ),
    );
  });

  it('refuses a part block as a bug, with a CldcbError (the house rule), not a RangeError', () => {
    expect(() => sha256Blocks(sha256Initial(), new Uint8Array(63))).toThrow(expect.objectContaining({ name: 'CldcbError', code: 'internal' }));
  });
});

// ---------------------------------------------------------------------------------------------
// ccan/ccan/rune/test/test_vectors.csv, interpreted as ccan/ccan/rune/test/run.c does.

describe('ccan rune test vectors', () => {
  const zero16 = new Uint8Array(16);
  let current: Rune | undefined;
  const lines = ccan.lines;
  lines.forEach((line, n) => {
    const parts = line.split(',');
    const kind = parts[0]!;
    it(`line ${n + 1}: ${kind} ${kind === 'PASS' || kind === 'FAIL' ? parts.slice(1).join(',') : parts[1]}`, () => {
      if (kind === 'VALID') {
        const rune = decodeRune(parts[3]!);
        expect(runeToString(rune)).toBe(parts[2]);
        expect(encodeRune(rune)).toBe(parts[3]);
        const auth = checkRuneAuthentic(rune, zero16);
        if (parts[5]) expect(auth.reason).toMatch(/version mismatch/);
        else expect(auth.authentic).toBe(true);
        expect(rune.uniqueId).toBe(parts[4] || undefined);
        expect(rune.version).toBe(parts[5] || undefined);
        current = rune;
      } else if (kind === 'DERIVE') {
        const from = decodeRune(parts[2]!);
        const to = decodeRune(parts[3]!);
        expect(checkRuneAuthentic(from, zero16).reason ?? '').not.toMatch(/not derived/);
        const restr: RuneAlternative[] = [];
        for (let j = 4; j + 2 < parts.length; j += 3)
          restr.push({ field: parts[j]!, condition: parts[j + 1]! as '=', value: parts[j + 2]! });
        if (parts[4] === '') {
          // Adding a unique id: the empty-field restriction, which restrictRune refuses by design.
          // mintRune makes it (CLN never writes a version, so "2-1" is only decoded, above).
          if (!parts[6]!.includes('-')) expect(encodeRune(mintRune(zero16, parts[6]!))).toBe(parts[3]);
          expect(() => restrictRune(from, [restr])).toThrow(CldcbError);
        } else {
          const derived = restrictRune(from, [restr]);
          expect(encodeRune(derived)).toBe(parts[3]);
          expect(runeToString(derived)).toBe(runeToString(to));
        }
        current = to;
      } else if (kind === 'MALFORMED') {
        cldcbError(() => decodeRune(parts[3]!));
      } else if (kind === 'BAD DERIVATION') {
        const rune = decodeRune(parts[3]!);
        expect(runeToString(rune)).toBe(parts[2]);
        expect(checkRuneAuthentic(rune, zero16)).toEqual({
          authentic: false,
          reason: expect.stringMatching(/not derived/),
        });
      } else {
        // run.c check(): the last "field=value" wins; a value that strtol reads whole is an integer.
        const lookup = (field: string): RuneFieldValue => {
          let val: string | undefined;
          for (const p of parts.slice(1))
            if (p.startsWith(field) && p[field.length] === '=') val = p.slice(field.length + 1);
          if (val === undefined) return undefined;
          return /^[\t\n\v\f\r ]*[+-]?[0-9]+$/.test(val) ? BigInt(val) : val;
        };
        const err = checkRuneConditions(current!, lookup);
        if (kind === 'PASS') expect(err).toBeNull();
        else expect(err).toEqual(expect.any(String));
      }
    });
  });
  it('run-altern-escape.c: "\\|" in a value', () => {
    const restr = parseRestriction('desc=@tipjar\\|jb55@sendsats.lol');
    expect(restr).toEqual([{ field: 'desc', condition: '=', value: '@tipjar|jb55@sendsats.lol' }]);
    const rune = decodeRune(encodeRune(restrictRune(masterRune(new Uint8Array(16)), [restr])));
    expect(rune.restrictions).toEqual([restr]);
  });
});

// ---------------------------------------------------------------------------------------------
// Core Lightning docs and tests

const nodeSecret = (name: keyof typeof docs.nodes) => hexToBytes(docs.nodes[name].commando_secret_hex);

describe('createrune examples (doc/schemas/createrune.json, node l2)', () => {
  const secret = nodeSecret('modern_l2');
  it('the node commando secret matches the known answers', () => {
    expect(bytesToHex(runeMasterSecret(hexToBytes(docs.nodes.modern_l2.secret_data_hex)))).toBe(
      docs.nodes.modern_l2.commando_secret_hex,
    );
  });
  for (const ex of docs.createrune_examples) {
    it(ex.id, () => {
      const params = ex.params as { rune?: string; restrictions?: unknown };
      const restrictions =
        params.restrictions === undefined ? [] : restrictionsFromCreateruneJson(params.restrictions);
      const rune = params.rune
        ? restrictRune(decodeRune(params.rune), restrictions)
        : mintRune(secret, ex.response.unique_id, restrictions);
      expect(encodeRune(rune)).toBe(ex.response.rune);
      expect(rune.uniqueId).toBe(ex.response.unique_id);
      expect(checkRuneAuthentic(decodeRune(ex.response.rune), secret)).toEqual({ authentic: true });
    });
  }
  it('cln-facts §9: readonly and id-1 runes, and hsmtool’s wrong id-0 rune', () => {
    const ro =
      '0VIVf0M4jMlGNIwNM3sTpBextINe4_VBGZnBMM82kR49MCZtZXRob2RebGlzdHxtZXRob2ReZ2V0fG1ldGhvZD1zdW1tYXJ5Jm1ldGhvZC9saXN0ZGF0YXN0b3Jl';
    expect(encodeRune(mintRune(secret, 0, READONLY_RESTRICTIONS))).toBe(ro);
    const id1 =
      'UcVH186Z5ldtHgscIaNAZ_fdUstCR6OCwiVV7CPx_q09MSZpZF4wMzgxOTRiNWYzMmJkZjBhYTU5OCZtZXRob2Q9bGlzdHBlZXJz';
    expect(
      encodeRune(
        mintRune(secret, 1, [
          parseRestriction('id^038194b5f32bdf0aa598'),
          parseRestriction('method=listpeers'),
        ]),
      ),
    ).toBe(id1);
    const hsmtool = decodeRune('Q33YEwQp-c6Bzn8HNIDyo43y6Afw77tTTV1SpIUE6hE9MA==');
    expect(checkRuneAuthentic(hsmtool, secret).authentic).toBe(false);
    expect(
      checkRuneAuthentic(
        hsmtool,
        hsmtoolMakeruneMasterSecret(hexToBytes(docs.nodes.modern_l2.secret_data_hex)),
      ).authentic,
    ).toBe(true);
  });
  for (const sr of docs.showrunes) {
    it(`showrunes english for id ${sr.unique_id}`, () => {
      const d = describeRune(decodeRune(sr.rune));
      expect(d.uniqueId).toBe(sr.unique_id);
      expect(d.english).toBe(sr.restrictions_as_english);
      expect(
        d.restrictions.map((r) => ({
          alternatives: r.alternatives.map((a) => ({
            fieldname: a.field,
            value: a.value,
            condition: a.condition,
            english: a.english,
          })),
          english: r.english,
        })),
      ).toEqual(sr.restrictions);
    });
  }
  it('decode examples: the "string" form', () => {
    for (const ex of docs.decode_examples) {
      const rune = decodeRune((ex.params as string[])[0]!);
      expect(runeToString(rune)).toBe(ex.response.string);
      expect(rune.uniqueId).toBe(ex.response.unique_id);
    }
    const u = docs.createrune_usage_decode_other_node;
    const rune = decodeRune(u.rune);
    expect(runeToString(rune)).toBe(u.string);
    expect(rune.uniqueId).toBe(u.unique_id);
    expect(
      describeRune(rune).restrictions.map((r) => r.alternatives.map((a) => restrictionToString([a]))),
    ).toEqual(u.alternatives);
    expect(checkRuneAuthentic(rune, secret).authentic).toBe(false);
  });
  it('checkrune examples pass the conditions', () => {
    for (const ex of docs.checkrune_examples) {
      const p = ex.params as {
        nodeid: string;
        rune: string;
        method: string;
        params: Record<string, unknown>;
      };
      const lookup = (field: string): RuneFieldValue => {
        if (field === 'method') return p.method;
        if (field === 'id') return p.nodeid;
        if (field === 'pnum') return Object.keys(p.params).length;
        for (const [k, v] of Object.entries(p.params))
          if (field === `pname${k}` || field === `pname${k.replace(/[^A-Za-z0-9]/g, '')}`)
            return typeof v === 'number' ? v : String(v);
        return undefined;
      };
      expect(checkRuneAuthentic(decodeRune(p.rune), secret).authentic).toBe(true);
      expect(checkRuneConditions(decodeRune(p.rune), lookup)).toBeNull();
      expect(ex.response.valid).toBe(true);
    }
  });
});

describe('tests/test_runes.py test_createrune (node l1)', () => {
  const secret = nodeSecret('modern_l1');
  const made = new Map<string, Rune>();
  for (const t of docs.test_runes_py) {
    it(t.name, () => {
      const restrictions = t.restrictions === null ? [] : restrictionsFromCreateruneJson(t.restrictions);
      const rune = t.base
        ? restrictRune(made.get(t.base)!, restrictions)
        : mintRune(secret, t.unique_id, restrictions);
      made.set(t.name, rune);
      expect(encodeRune(rune)).toBe(t.rune);
      expect(rune.uniqueId).toBe(t.unique_id);
      if (t.decode)
        expect(
          describeRune(rune).restrictions.map((r) => r.alternatives.map((a) => restrictionToString([a]))),
        ).toEqual(t.decode.map((d) => d.alternatives));
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Plain words

describe('describeRune', () => {
  const secret = nodeSecret('modern_l2');
  it('says what a rune allows', () => {
    const rune = mintRune(
      secret,
      7,
      restrictionsFromOptions({
        methods: ['listpeers'],
        expires: '2026-12-01T00:00:00Z',
        rate: 1,
        peerId: docs.nodes.modern_l1.node_id,
      }),
    );
    const d = describeRune(rune);
    expect(d.uniqueId).toBe('7');
    expect(d.summary).toEqual([
      'may call only listpeers',
      `only for peer ${docs.nodes.modern_l1.node_id}`,
      'expires at 2026-12-01T00:00:00Z',
      'rate limit 1 per minute',
    ]);
    expect(d.unrestricted).toBe(false);
  });
  it('readonly, unrestricted and other fields', () => {
    expect(describeRune(mintRune(secret, 0, READONLY_RESTRICTIONS)).summary).toEqual([
      "may call only methods starting with 'list', methods starting with 'get' or summary",
      'may not call listdatastore',
    ]);
    const free = describeRune(mintRune(secret, 0));
    expect(free.unrestricted).toBe(true);
    expect(free.summary[0]).toMatch(/^unrestricted/);
    const r = restrictionsFromCreateruneJson([
      ['method=listpeers', 'method=getinfo'],
      ['pnameamount_msat<10000'],
      ['parr0=abc'],
      ['per=5min'],
      ['per=1day'],
      ['pnum<2'],
      ['time>1656675211'],
      ['pinvbolt11_amount<1000'],
      ['pnamelevel!', 'pnamelevel/io'],
      ['rate=0'],
      ['frob~x'],
      ['note#hello'],
    ]);
    expect(describeRune(mintRune(secret, 3, r)).summary).toEqual([
      'may call only listpeers or getinfo',
      "parameter 'amount_msat' is less than 10000",
      "parameter #0 is equal to 'abc'",
      'at most once every 5 minutes',
      'at most once per day',
      'only with fewer than 2 parameters',
      'valid only after 2022-07-01T11:33:31Z',
      "the invoice in parameter 'bolt11': its amount (msat) is less than 1000",
      "parameter 'level' is missing or parameter 'level' is not equal to 'io'",
      "malformed rate limit '0': never satisfied",
      "field 'frob' (not a field Core Lightning checks; a missing field fails) contains 'x'",
      'comment: note hello',
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// Options, bad input, properties

describe('restrictionsFromOptions', () => {
  it('builds createrune-style restrictions', () => {
    expect(
      restrictionsFromOptions({
        methods: ['listpeers', 'getinfo'],
        pnum: '1',
        expires: 1796083200,
        rate: '60',
        raw: ['id^02'],
      }).map(restrictionToString),
    ).toEqual(['method=listpeers|method=getinfo', 'pnum=1', 'id^02', 'time<1796083200', 'rate=60']);
    expect(restrictionsFromOptions({ readonly: true })).toEqual(READONLY_RESTRICTIONS);
    expect(restrictionsFromOptions({})).toEqual([]);
  });
  it('parses times', () => {
    expect(parseUnixSeconds('2026-12-01T00:00:00Z', 'x')).toBe(1796083200n);
    expect(parseUnixSeconds('2026-12-01T01:00:00+01:00', 'x')).toBe(1796083200n);
    expect(parseUnixSeconds('2026-12-01T00:00:00.000Z', 'x')).toBe(1796083200n);
    expect(parseUnixSeconds(new Date(1796083200000), 'x')).toBe(1796083200n);
  });
  it('rejects bad options with CldcbError', () => {
    const bad: object[] = [
      { expires: '2026-12-01' },
      { expires: '2026-02-30T00:00:00Z' },
      { expires: '2026-12-01T00:00:00.5Z' },
      { expires: 'tomorrow' },
      { expires: -5 },
      { rate: 0 },
      { rate: -1 },
      { rate: '1.5' },
      { rate: 4294967295 },
      { peerId: '02abc' },
      { peerId: 5 },
      { methods: [''] },
      { methods: ['list peers'] },
      { pnum: 'x' },
      { raw: ['a=1&b=2'] },
      { raw: ['=5'] },
      { raw: ['noop'] },
      { raw: [''] },
    ];
    for (const o of bad) cldcbError(() => restrictionsFromOptions(o));
  });
});

describe('hostile and wrong-typed input', () => {
  const wrongTypes: unknown[] = [
    undefined,
    null,
    0,
    1n,
    true,
    {},
    [],
    new Uint8Array(40),
    () => 1,
    Symbol('x'),
  ];
  it('decodeRune', () => {
    for (const w of wrongTypes) cldcbError(() => decodeRune(w as string));
    const cases: [string, RegExp][] = [
      ['', /empty/],
      ['   \n', /empty/],
      ['abc', /too short|cannot be whole/],
      ['AAAA', /too short/],
      ['OSqc7ixY6F+gjcigBfxtzKUI54uzgFSA6YfBQoWGDV89MA==', /standard base64/],
      ['OSqc7ixY6F-gjcigBfxtzKUI54uzgFSA6YfBQoWGDV89MA=', /padding/],
      ['OSqc7ixY6F-gjcig BfxtzKUI54uzgFSA6YfBQoWGDV89MA==', /character 17/],
      ['OSqc7ixY6F-gjcigBfxtzKUI54uzgFSA6YfBQoWGDV89M', /cannot be whole/],
      ['ésqc7ixY6F-gjcigBfxtzKUI54uzgFSA6YfBQoWGDV89MA==', /character 1/],
    ];
    for (const [text, re] of cases) expect(cldcbError(() => decodeRune(text)).message).toMatch(re);
    // Valid base64, not a rune: NUL, bad UTF-8, bad condition, lone backslash.
    for (const tail of [
      [0x61, 0x3d, 0x00],
      [0x61, 0x3d, 0xff],
      [0x61, 0x22, 0x31],
      [0x61, 0x3d, 0x5c],
      [0x61],
      [0x3d, 0x31, 0x26, 0x3d, 0x32],
    ])
      cldcbError(() => decodeRune(runeBytesB64(tail)));
    // Unpadded input is accepted, as ccan accepts it.
    expect(encodeRune(decodeRune('OSqc7ixY6F-gjcigBfxtzKUI54uzgFSA6YfBQoWGDV89MA'))).toBe(
      'OSqc7ixY6F-gjcigBfxtzKUI54uzgFSA6YfBQoWGDV89MA==',
    );
  });
  it('other entry points', () => {
    const rune = mintRune(new Uint8Array(32), 0);
    for (const w of wrongTypes) {
      cldcbError(() => parseRestriction(w as string));
      if (!Array.isArray(w)) cldcbError(() => restrictRune(rune, w as RuneRestriction[]));
      cldcbError(() => restrictRune(rune, [w as RuneRestriction]));
      cldcbError(() => restrictRune(rune, [[w as never]]));
      if (!Array.isArray(w)) cldcbError(() => restrictionsFromCreateruneJson(w));
      cldcbError(() => alternativeFromCreateruneText(w as string));
      if (!(w instanceof Uint8Array)) cldcbError(() => checkRuneAuthentic(rune, w as Uint8Array));
    }
    for (const id of ['-1', '01', '1.5', 'x', '', '9223372036854775808', -1])
      cldcbError(() => mintRune(new Uint8Array(32), id as string));
    for (const alt of [
      { field: '', condition: '=', value: 'x' },
      { field: 'a=b', condition: '=', value: 'x' },
      { field: 'a', condition: '?', value: 'x' },
      { field: 'a', condition: '=', value: 'x\0' },
      { field: 'a', condition: '=', value: '\uD800' },
    ])
      cldcbError(() => restrictRune(rune, [[alt as never]]));
  });
  it('fuzz: any text or bytes either decode or give CldcbError', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        try {
          decodeRune(s);
        } catch (e) {
          expect(e).toBeInstanceOf(CldcbError);
        }
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 120 }), (b) => {
        try {
          const r = decodeRune(Buffer.from(b).toString('base64url'));
          describeRune(r);
          checkRuneAuthentic(r, new Uint8Array(32));
        } catch (e) {
          expect(e).toBeInstanceOf(CldcbError);
        }
      }),
    );
  });
});

/** base64url of a zero authcode followed by `tail` (the restriction bytes). */
function runeBytesB64(tail: number[]): string {
  return Buffer.from([...new Uint8Array(32), ...tail]).toString('base64url');
}

describe('round trips (fast-check)', () => {
  const fieldChar = fc.constantFrom(
    ...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_ éß漢'.split(''),
  );
  const field = fc.array(fieldChar, { minLength: 1, maxLength: 12 }).map((a) => a.join(''));
  const value = fc.string({ unit: 'grapheme', maxLength: 30 }).filter((s) => !s.includes('\0'));
  const alt = fc.record({
    field,
    condition: fc.constantFrom('!', '=', '/', '^', '$', '~', '<', '>', '{', '}', '#' as const),
    value,
  });
  const restriction = fc.array(alt, { minLength: 1, maxLength: 4 });
  it('mint → encode → decode keeps restrictions and stays authentic; restricting later equals minting at once', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }),
        fc.array(restriction, { maxLength: 5 }),
        fc.array(restriction, { maxLength: 3 }),
        (secret, id, r1, r2) => {
          const a = mintRune(secret, id, r1);
          const text = encodeRune(a);
          expect(text).toMatch(/^[A-Za-z0-9_-]+={0,2}$/);
          const back = decodeRune(text);
          expect(back.restrictions.slice(1)).toEqual(r1);
          expect(back.uniqueId).toBe(String(id));
          expect(checkRuneAuthentic(back, secret).authentic).toBe(true);
          const later = restrictRune(back, r2);
          expect(encodeRune(later)).toBe(encodeRune(mintRune(secret, id, [...r1, ...r2])));
          expect(checkRuneAuthentic(later, secret).authentic).toBe(true);
          describeRune(later);
          // Removing the last restriction cannot keep the authcode valid.
          if (r1.length + r2.length > 0) {
            const cut: Rune = { ...later, restrictions: later.restrictions.slice(0, -1) };
            expect(checkRuneAuthentic(cut, secret).authentic).toBe(false);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
  it('parseRestriction inverts restrictionToString', () => {
    fc.assert(
      fc.property(restriction, (r) => {
        expect(parseRestriction(restrictionToString(r))).toEqual(r);
      }),
    );
  });
});

describe('inspectRune (shared/credentials/index.ts, for the UI)', () => {
  it('describes, checks authenticity, and is plain JSON', () => {
    const secret = nodeSecret('modern_l2');
    const text = docs.createrune_examples[3]!.response.rune;
    const r = inspectRune(text, secret);
    expect(r).toMatchObject({
      uniqueId: '1',
      authentic: true,
      summary: ['only for peers whose id starts with 038194b5f32bdf0aa598', 'may call only listpeers'],
    });
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
    expect(inspectRune(text, nodeSecret('modern_l1'))).toMatchObject({
      authentic: false,
      notAuthenticReason: expect.stringMatching(/not derived/),
    });
    expect(inspectRune(text).authentic).toBeUndefined();
    cldcbError(() => inspectRune('nope'));
  });
});

/**
 * Macaroon interoperability with an independent implementation: Debian's
 * python3-pymacaroons, driven by test/node/helpers/pymacaroons_tool.py.
 * Macaroons travel as V2 binary (hex on the pipe) in both directions.
 *
 * The python interpreter is found as $PYTHON3, /usr/bin/python3 or python3 (the
 * first one that can import pymacaroons; a pyenv python3 on PATH usually cannot).
 * Without it the suite is skipped and its name says why.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bytesToHex, hexToBytes, utf8 } from '../../shared/bytes';
import {
  addFirstPartyCaveatsUnchecked,
  attenuateMacaroon,
  bakeLndMacaroon,
  caveatsFromOptions,
  computeMacaroonSignature,
  decodeMacaroon,
  describeMacaroon,
  encodeLndIdentifier,
  encodeMacaroon,
  verifyMacaroon,
} from '../../shared/credentials/macaroons';

const here = path.dirname(fileURLToPath(import.meta.url));
const TOOL = path.join(here, 'helpers/pymacaroons_tool.py');

function findPython(): { python?: string; reason: string } {
  const candidates = [process.env.PYTHON3, '/usr/bin/python3', 'python3'].filter((x): x is string =>
    Boolean(x),
  );
  for (const c of candidates) {
    const r = spawnSync(c, ['-c', 'import pymacaroons'], { encoding: 'utf8' });
    if (r.status === 0) return { python: c, reason: '' };
  }
  return {
    reason: `python3-pymacaroons not importable by ${candidates.join(', ')} (install Debian's python3-pymacaroons)`,
  };
}
const { python, reason } = findPython();

interface PyMac {
  macaroon: string;
  signature: string;
}
function py<T>(req: object): T {
  const r = spawnSync(python!, [TOOL], { input: JSON.stringify(req), encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`pymacaroons_tool failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

const ROOT = hexToBytes('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
const NOW = new Date('2026-06-01T00:00:00Z');

describe.skipIf(!python)(`pymacaroons interop${python ? ` (${python})` : ` — SKIPPED: ${reason}`}`, () => {
  it('pymacaroons → us: an LND macaroon decodes, describes and verifies identically', () => {
    const id = encodeLndIdentifier({
      nonce: new Uint8Array(16).fill(7),
      storageId: utf8('0'),
      ops: [
        { entity: 'offchain', action: 'read' },
        { entity: 'info', action: 'read' },
      ],
    });
    const caveats = ['time-before 2027-01-01T00:00:00Z', 'ipaddr 192.0.2.7'];
    const theirs = py<PyMac>({
      op: 'mint',
      root_key: bytesToHex(ROOT),
      identifier: bytesToHex(id),
      location: 'lnd',
      caveats,
    });
    const m = decodeMacaroon(theirs.macaroon);
    expect(m.location).toBe('lnd');
    expect(m.identifier).toEqual(id);
    expect(m.caveats.map((c) => new TextDecoder().decode(c.id))).toEqual(caveats);
    expect(bytesToHex(m.signature)).toBe(theirs.signature);
    expect(bytesToHex(encodeMacaroon(m))).toBe(theirs.macaroon);
    expect(describeMacaroon(m).lncli).toEqual({
      version: 2,
      location: 'lnd',
      root_key_id: '0',
      permissions: ['info:read', 'offchain:read'],
      caveats,
    });
    expect(verifyMacaroon(m, ROOT, { now: NOW, ip: '192.0.2.7' }).verdict).toBe('valid');
    expect(verifyMacaroon(m, ROOT, { now: NOW, ip: '192.0.2.8' }).reasons).toEqual([
      'caveat 2: IP 192.0.2.8 not allowed (only 192.0.2.7)',
    ]);
    // Ours and theirs from the same inputs: the same bytes.
    const ours = attenuateMacaroon(
      bakeLndMacaroon(ROOT, ['offchain:read', 'info:read'], { nonce: new Uint8Array(16).fill(7) }),
      caveats,
    );
    expect(bytesToHex(encodeMacaroon(ours))).toBe(theirs.macaroon);
  });

  it('us → pymacaroons: our baked + attenuated macaroon verifies there; wrong key and tampering do not', () => {
    const caveats = caveatsFromOptions({
      expires: '2027-01-01T00:00:00Z',
      ip: '2001:db8::7',
      ipRange: '2001:db8::/32',
      custom: { name: 'mw', condition: 'x' },
    });
    const m = attenuateMacaroon(bakeLndMacaroon(ROOT, ['invoices:read', 'invoices:write']), caveats);
    const hex = bytesToHex(encodeMacaroon(m));
    const seen = py<{
      location: string;
      identifier: string;
      signature: string;
      caveats: { id: string; vid: string | null }[];
    }>({ op: 'inspect', macaroon: hex });
    expect(seen.identifier).toBe(bytesToHex(m.identifier));
    expect(seen.signature).toBe(bytesToHex(m.signature));
    expect(seen.caveats.map((c) => Buffer.from(c.id, 'hex').toString())).toEqual(caveats);
    expect(
      py<{ ok: boolean }>({ op: 'verify', macaroon: hex, root_key: bytesToHex(ROOT), satisfy_exact: caveats })
        .ok,
    ).toBe(true);
    const wrongKey = py<{ ok: boolean; error: string }>({
      op: 'verify',
      macaroon: hex,
      root_key: '00'.repeat(32),
      satisfy_exact: caveats,
    });
    expect(wrongKey.ok).toBe(false);
    const unmet = py<{ ok: boolean }>({
      op: 'verify',
      macaroon: hex,
      root_key: bytesToHex(ROOT),
      satisfy_exact: caveats.slice(1),
    });
    expect(unmet.ok).toBe(false);
    const tampered = encodeMacaroon(m);
    tampered[tampered.length - 40] = tampered[tampered.length - 40]! ^ 1; // inside the last caveat
    const t = py<{ ok: boolean }>({
      op: 'verify',
      macaroon: bytesToHex(tampered),
      root_key: bytesToHex(ROOT),
      satisfy_exact: caveats,
    });
    expect(t.ok).toBe(false);
    expect(verifyMacaroon(decodeMacaroon(tampered), ROOT).signatureValid).toBe(false);
  });

  it('attenuating the same macaroon gives the same bytes in both', () => {
    const base = py<PyMac>({
      op: 'mint',
      root_key: bytesToHex(ROOT),
      identifier: '03',
      location: 'lnd',
      caveats: [],
    });
    const add = ['time-before 2030-01-01T00:00:00.5Z', 'lnd-custom a', 'declared user alice'];
    const theirs = py<PyMac>({ op: 'attenuate', macaroon: base.macaroon, caveats: add });
    const ours = attenuateMacaroon(decodeMacaroon(base.macaroon), add);
    expect(bytesToHex(encodeMacaroon(ours))).toBe(theirs.macaroon);
  });

  it('random identifiers, locations and caveats agree both ways', () => {
    const cases = fc.sample(
      fc.record({
        key: fc.uint8Array({ minLength: 1, maxLength: 48 }),
        id: fc.uint8Array({ minLength: 1, maxLength: 60 }),
        location: fc.string({ minLength: 1, maxLength: 20 }),
        caveats: fc.array(fc.string({ minLength: 1, maxLength: 40 }), { maxLength: 6 }),
      }),
      { numRuns: 15, seed: 4242 },
    );
    for (const c of cases) {
      const theirs = py<PyMac>({
        op: 'mint',
        root_key: bytesToHex(c.key),
        identifier: bytesToHex(c.id),
        location: c.location,
        caveats: c.caveats,
      });
      const m = decodeMacaroon(hexToBytes(theirs.macaroon));
      expect(m.location).toBe(c.location);
      expect(m.identifier).toEqual(c.id);
      expect(m.caveats.map((x) => x.id)).toEqual(c.caveats.map(utf8));
      expect(bytesToHex(computeMacaroonSignature(c.key, m.identifier, m.caveats))).toBe(theirs.signature);
      const ours = addFirstPartyCaveatsUnchecked(
        {
          location: c.location,
          identifier: c.id,
          caveats: [],
          signature: computeMacaroonSignature(c.key, c.id, []),
        },
        c.caveats.map(utf8),
      );
      expect(bytesToHex(encodeMacaroon(ours))).toBe(theirs.macaroon);
      expect(
        py<{ ok: boolean }>({
          op: 'verify',
          macaroon: bytesToHex(encodeMacaroon(ours)),
          root_key: bytesToHex(c.key),
          satisfy_exact: c.caveats,
        }).ok,
      ).toBe(true);
    }
  });

  it('third-party caveats and an empty location from pymacaroons decode; the chain matches', () => {
    const theirs = py<PyMac>({
      op: 'mint',
      root_key: bytesToHex(ROOT),
      identifier: '0301',
      location: '',
      caveats: ['time-before 2030-01-01T00:00:00Z'],
      third_party: [{ location: 'https://auth.example/', key: 'aa'.repeat(32), id: 'discharge me' }],
    });
    const m = decodeMacaroon(theirs.macaroon);
    expect(m.location).toBe('');
    expect(m.caveats[1]).toMatchObject({ location: 'https://auth.example/' });
    expect(m.caveats[1]!.verificationId!.length).toBe(72); // nonce 24 + secretbox(32) 48
    expect(bytesToHex(computeMacaroonSignature(ROOT, m.identifier, m.caveats))).toBe(theirs.signature);
    const v = verifyMacaroon(m, ROOT, { now: NOW });
    expect(v.signatureValid).toBe(true);
    expect(v.verdict).toBe('invalid');
    expect(v.reasons).toContain(
      'caveat 2: third-party caveat for https://auth.example/: LND does not accept third-party caveats',
    );
    // We leave an empty location out, as go-macaroon does; pymacaroons reads that back too.
    const back = py<{ location: string; signature: string }>({
      op: 'inspect',
      macaroon: bytesToHex(encodeMacaroon(m)),
    });
    expect(back).toMatchObject({ location: '', signature: theirs.signature });
  });
});

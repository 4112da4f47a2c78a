/**
 * cred.* through the real handler table (zod parsing, errors as data, files on disk), for what the
 * e2e test (test/e2e/credentials.spec.ts) does not reach: refusals, file modes, the rotation clock.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHandlers, type Backend } from '../../electron/handlers';
import type { CredentialResult, CredentialView, RotationView } from '../../shared/ipc/contract';
import type { Result } from '../../shared/errors';
import { decodeMacaroon } from '../../shared/credentials';
import { rotationView } from '../../electron/handlers/credentials';
import cln from '../vectors/cln/known-answers.json';
import lnd from '../vectors/lnd/pymacaroons-lnd.json';

const legacyL1 = cln.hsm_secret_cases[0]!;
const modernL2 = cln.hsm_secret_cases.find((c) => c.name === 'pyln-testing modern l2')!;
const admin = lnd.cases.find((c) => c.name === 'admin, no caveats')!;
const NOW = new Date('2026-03-01T12:00:00Z');

let dir: string;
let backend: Backend;
let saves: string[];

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'cldcb-cred-'));
  saves = [];
  backend = createHandlers({
    host: 'e2e',
    version: 'test',
    isTrustedSender: () => true,
    chooseSavePath: async ({ defaultName }) => saves.shift() ?? path.join(dir, defaultName),
    chooseDirectory: async () => null,
    printToPdf: async () => new Uint8Array(0),
    now: () => NOW,
  });
});
afterEach(() => {
  backend.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const call = async <T>(channel: string, input: unknown): Promise<Result<T>> =>
  (await backend.dispatch(channel, input, 'app://x')) as Result<T>;
async function value<T>(channel: string, input: unknown): Promise<T> {
  const r = await call<T>(channel, input);
  if (!r.ok) throw new Error(`${channel}: ${r.error.code}: ${r.error.message}`);
  return r.value;
}
async function error(channel: string, input: unknown) {
  const r = await call(channel, input);
  expect(r.ok, `${channel} should fail`).toBe(false);
  return (r as { error: { code: string; message: string } }).error;
}
const loadL1 = () => value('secret.loadText', { text: legacyL1.secret_data_hex });

describe('cred.inspect', () => {
  it('auto-detects a macaroon given as file bytes, hex text or base64 text', async () => {
    const bytes = Buffer.from(admin.macaroon_hex, 'hex');
    for (const input of [
      { bytesB64: bytes.toString('base64') },
      { bytesB64: Buffer.from(admin.macaroon_hex).toString('base64') },
      { text: admin.macaroon_hex },
      { text: ` ${bytes.toString('base64')}\n` },
    ]) {
      const v = await value<CredentialView>('cred.inspect', input);
      expect(v.kind).toBe('macaroon');
      expect(v.text).toBe(admin.macaroon_hex);
      expect(v.macaroon?.lncli?.permissions).toEqual(admin.printmacaroon.permissions);
      expect(v.checkedAt).toBeNull();
    }
  });

  it('verifies at the backend clock when no time is given; a bad time, IP or root key is named', async () => {
    const v = await value<CredentialView>('cred.inspect', {
      text: admin.macaroon_hex,
      rootKeyHex: lnd.root_key_hex,
    });
    expect(v.macaroon?.verification?.verdict).toBe('valid');
    expect(v.checkedAt).toBe(NOW.toISOString());
    expect(
      (
        await error('cred.inspect', {
          text: admin.macaroon_hex,
          rootKeyHex: lnd.root_key_hex,
          at: '2026-13-01',
        })
      ).message,
    ).toMatch(/check time "2026-13-01": expected an RFC 3339 time/);
    expect(
      (
        await error('cred.inspect', {
          text: admin.macaroon_hex,
          rootKeyHex: lnd.root_key_hex,
          ip: '300.1.1.1',
        })
      ).message,
    ).toMatch(/client IP "300.1.1.1"/);
    const short = await error('cred.inspect', { text: admin.macaroon_hex, rootKeyHex: 'abcd' });
    expect(short.code).toBe('bad_length');
  });

  it('a rune is checked against lightningd’s master secret of the loaded secret, never hsmtool’s', async () => {
    const none = await value<CredentialView>('cred.inspect', { text: legacyL1.master_rune_uid0_as_node });
    expect(none.rune?.authentic).toBeUndefined();
    expect(none.notes.join(' ')).toMatch(/No secret is loaded/);

    await value('secret.loadText', { text: modernL2.mnemonic, mnemonicMeaning: 'mnemonic-format' });
    const node = await value<CredentialView>('cred.inspect', {
      text: modernL2.master_rune_uid0_as_node,
      rootKeyHex: lnd.root_key_hex,
    });
    expect(node.rune?.authentic).toBe(true);
    expect(node.rune?.unrestricted).toBe(true);
    expect(node.notes).toContain('A root key is for macaroons: it was not used for this rune.');
    const hsmtool = await value<CredentialView>('cred.inspect', { text: modernL2.hsmtool_makerune_uid0 });
    expect(hsmtool.rune?.authentic).toBe(false);
    expect(hsmtool.rune?.notAuthenticReason).toMatch(/not derived from this node/);
  });

  it('refuses both or neither input, empty files, binary non-macaroons', async () => {
    expect((await error('cred.inspect', {})).message).toMatch(/one of the two/);
    expect((await error('cred.inspect', { text: 'x', bytesB64: 'eA==' })).message).toMatch(/one of the two/);
    expect((await error('cred.inspect', { bytesB64: '' })).message).toMatch(/empty/);
    expect(
      (await error('cred.inspect', { bytesB64: Buffer.from([0xff, 0xfe, 0x00]).toString('base64') })).message,
    ).toMatch(/neither a binary macaroon/);
    expect((await error('cred.inspect', { text: '   ' })).message).toMatch(/Nothing to read/);
    // A cut-off hex macaroon gets the macaroon's own error (code kept), not a rune complaint.
    const cut = await error('cred.inspect', { text: admin.macaroon_hex.slice(0, 120) });
    expect(cut.code).toBe('truncated');
    expect(cut.message).not.toMatch(/rune/);
  });
});

describe('cred.restrict', () => {
  it('refuses what the other kind cannot carry, and an empty form', async () => {
    expect(
      (await error('cred.restrict', { text: legacyL1.master_rune_uid0_as_node, ip: '192.0.2.1' })).message,
    ).toMatch(/rune cannot be tied to an IP address/);
    expect(
      (await error('cred.restrict', { text: admin.macaroon_hex, methods: ['getinfo'] })).message,
    ).toMatch(/permissions are fixed when it is baked/);
    expect((await error('cred.restrict', { text: admin.macaroon_hex })).message).toMatch(/Nothing to add/);
    expect(
      (await error('cred.restrict', { text: legacyL1.master_rune_uid0_as_node, methods: [' '] })).message,
    ).toMatch(/Nothing to add/);
    expect(
      (await error('cred.restrict', { text: admin.macaroon_hex, custom: ['allow everything'] })).message,
    ).toMatch(/unknown caveat condition "allow"/);
  });

  it('writes the requested macaroon form, warns of a past expiry, and keeps custom caveats', async () => {
    const r = await value<CredentialResult>('cred.restrict', {
      text: admin.macaroon_hex,
      expires: '2026-01-01T00:00:00Z',
      ipRange: '10.0.0.0/8',
      custom: ['lnd-custom account 7'],
      format: 'base64url',
    });
    expect(r.format).toBe('base64url');
    expect(r.text).not.toMatch(/[=+/]/);
    expect(r.added).toEqual([
      'time-before 2026-01-01T00:00:00Z',
      'iprange 10.0.0.0/8',
      'lnd-custom account 7',
    ]);
    expect(decodeMacaroon(r.text).caveats).toHaveLength(3);
    expect(r.view.notes.join(' ')).toMatch(/already past: the new credential is never valid/);
    expect(r.qrSvgDataUrl).toMatch(/^data:image\/svg\+xml;base64,/);
  });

  it('rune restrictions in createrune order: methods, readonly, peer, custom, expiry, rate', async () => {
    const r = await value<CredentialResult>('cred.restrict', {
      text: legacyL1.master_rune_uid0_as_node,
      rate: 5,
      expires: '2030-01-01T00:00:00Z',
      methods: ['listpeers', 'getinfo'],
      peerId: legacyL1.node_id,
      custom: ['pnum<3'],
    });
    expect(r.added).toEqual([
      'method=listpeers|method=getinfo',
      `id=${legacyL1.node_id}`,
      'pnum<3',
      'time<1893456000',
      'rate=5',
    ]);
    expect(r.view.summary).toContain('expires at 2030-01-01T00:00:00Z');
    expect(r.view.rune?.authentic).toBeUndefined();
  });
});

describe('cred.mintRune', () => {
  it('needs a loaded secret, and a plain unique id', async () => {
    expect((await error('cred.mintRune', { uniqueId: '0' })).message).toMatch(/No secret is loaded/);
    await loadL1();
    expect((await error('cred.mintRune', { uniqueId: '01' })).message).toMatch(/uniqueId/);
    const r = await value<CredentialResult>('cred.mintRune', { uniqueId: '0' });
    expect(r.text).toBe(legacyL1.master_rune_uid0_as_node);
    expect(r.view.rune?.authentic).toBe(true);
  });
});

describe('cred.save', () => {
  it('writes 0600 files, never over an existing one; validates what it writes', async () => {
    const rune = await value<{ path: string }>('cred.save', {
      kind: 'rune',
      text: ` ${legacyL1.master_rune_uid0_as_node}\n`,
    });
    expect(rune.path).toBe(path.join(dir, 'rune.txt'));
    expect(readFileSync(rune.path, 'utf8')).toBe(`${legacyL1.master_rune_uid0_as_node}\n`);
    expect(statSync(rune.path).mode & 0o777).toBe(0o600);
    expect((await error('cred.save', { kind: 'rune', text: legacyL1.master_rune_uid0_as_node })).code).toBe(
      'file_exists',
    );

    const mac = await value<{ path: string }>('cred.save', { kind: 'macaroon', text: admin.macaroon_hex });
    expect(readFileSync(mac.path, 'utf8')).toBe(`${admin.macaroon_hex}\n`);
    const bin = await value<{ path: string }>('cred.save', {
      kind: 'macaroon',
      text: admin.macaroon_hex,
      binary: true,
    });
    expect(readFileSync(bin.path).toString('hex')).toBe(admin.macaroon_hex);

    expect(
      (await error('cred.save', { kind: 'rune', text: legacyL1.master_rune_uid0_as_node, binary: true }))
        .message,
    ).toMatch(/no binary form/);
    expect(
      (await error('cred.save', { kind: 'macaroon', text: legacyL1.master_rune_uid0_as_node })).message,
    ).toMatch(/macaroon/);
    saves.push(path.join(dir, 'nothing.txt'));
    expect((await error('cred.save', { kind: 'rune', text: 'garbage!' })).message).toMatch(/rune/);
  });
});

describe('cred.rotation', () => {
  it('records, reads back, clears; refuses future and impossible dates', async () => {
    expect(await value<RotationView>('cred.rotation', {})).toEqual({
      lastRotation: null,
      nextDue: null,
      daysLeft: null,
      overdue: false,
      policyDays: 90,
    });
    const set = await value<RotationView>('cred.rotation', { lastRotation: '2026-01-15' });
    expect(set).toMatchObject({
      lastRotation: '2026-01-15',
      nextDue: '2026-04-15',
      daysLeft: 45,
      overdue: false,
    });
    expect(await value<RotationView>('cred.rotation', {})).toEqual(set);
    // Forgetting the secret keeps it (it is about credentials, not the secret).
    await loadL1();
    await value('secret.forget', {});
    expect((await value<RotationView>('cred.rotation', {})).lastRotation).toBe('2026-01-15');
    expect((await error('cred.rotation', { lastRotation: '2026-02-30' })).message).toMatch(/not a real date/);
    expect((await error('cred.rotation', { lastRotation: '2026-03-05' })).message).toMatch(/in the future/);
    expect((await error('cred.rotation', { lastRotation: '15.01.2026' })).message).toMatch(/a date like/);
    expect((await value<RotationView>('cred.rotation', { lastRotation: null })).lastRotation).toBeNull();
  });

  it('counts whole UTC days: due today is not overdue, the day after is', () => {
    expect(rotationView('2025-12-01', new Date('2026-03-01T23:59:59Z'))).toMatchObject({
      nextDue: '2026-03-01',
      daysLeft: 0,
      overdue: false,
    });
    expect(rotationView('2025-12-01', new Date('2026-03-02T00:00:00Z'))).toMatchObject({
      daysLeft: -1,
      overdue: true,
    });
  });
});

/**
 * What to do after a recovery (shared/recovery/afterRecovery.ts) and the "last data_version"
 * field's parser (shared/recovery/dataVersion.ts).
 */
import { describe, expect, it } from 'vitest';
import { afterRecovery, afterRecoveryHtml } from '../../shared/recovery/afterRecovery';
import { parseDataVersionText } from '../../shared/recovery/dataVersion';

const NODE = '02' + 'ab'.repeat(32);
const base = { nodeId: NODE, dataVersion: 104, engineSteps: ['Turn the backup on: important-plugin=/n/cldcb-plugin-wrapper in lightningd\'s config.', 'Never start the lost node again.'] };

describe('afterRecovery', () => {
  it('a verified rebuild: the hsm_secret first, the engine’s steps as they are, then start, credentials, drill', () => {
    const a = afterRecovery({ ...base, stale: false, databasePath: '/n/lightningd.sqlite3' });
    expect(a.databaseAside).toBe(false);
    expect(a.staleInPlace).toBe(false);
    expect(a.lightningDir).toBe('/n');
    expect(a.steps.map((s) => s.id)).toEqual(['hsm-secret', 'engine-1', 'engine-2', 'start', 'credentials', 'drill']);
    expect(a.steps[1]!.detail).toBe(base.engineSteps[0]);
    expect(a.steps.find((s) => s.id === 'start')!.command).toContain(`lightning-cli --lightning-dir=/n getinfo`);
  });

  it('a stale rebuild set aside: the engine’s steps (the first in red), then the SCB path; nothing about starting lightningd', () => {
    const a = afterRecovery({ ...base, stale: true, databasePath: '/n/lightningd.sqlite3.stale-104', engineSteps: ['Written as /n/lightningd.sqlite3.stale-104.', 'Otherwise the SCB path.'] });
    expect(a.databaseAside).toBe(true);
    expect(a.staleInPlace).toBe(false);
    expect(a.steps.map((s) => s.id)).toEqual(['engine-1', 'engine-2', 'scb']);
    expect(a.steps[0]!.warning).toBe(true);
    expect(a.steps.some((s) => s.id === 'start')).toBe(false);
  });

  it('set aside only because several servers do not prove it fresh (issue 11): the SCB path only if the missing servers cannot be read', () => {
    const a = afterRecovery({ ...base, stale: true, databasePath: '/n/lightningd.sqlite3.stale-104', engineSteps: ['Recover again with 1 more of the node’s servers.'], notProven: { missingServers: 2 } });
    expect(a.steps.map((s) => s.id)).toEqual(['engine-1', 'scb']);
    expect(a.steps[1]!.title).toBe("Only if the node's other servers cannot be read: the SCB path");
    expect(a.steps[1]!.detail).toMatch(/^First add the missing servers \(online, or a copy of their directories\) to the sources and recover again/);
    expect(afterRecovery({ ...base, stale: true, databasePath: '/n/x.stale-104', notProven: { missingServers: 1 } }).steps.at(-1)!.detail).toMatch(/^First add the missing server \(online, or a copy of its directory\)/);
  });

  it('a stale database under the name lightningd opens (never from today’s engine): moving it aside comes first', () => {
    const a = afterRecovery({ ...base, stale: true, databasePath: "/my node/lightningd.sqlite3" });
    expect(a.staleInPlace).toBe(true);
    expect(a.steps[0]).toMatchObject({ id: 'move-stale-aside', warning: true, command: "mv '/my node/lightningd.sqlite3' '/my node/lightningd.sqlite3.stale-104'" });
  });

  it('the printable checklist has page margins, wraps long paths and escapes what it shows', () => {
    const a = afterRecovery({ ...base, stale: false, databasePath: '/n/<x>/lightningd.sqlite3' });
    const html = afterRecoveryHtml(a, { nodeId: NODE, databasePath: '/n/<x>/lightningd.sqlite3', dataVersion: 104, date: '2026-01-01' });
    expect(html).toContain('@page { size: A4; margin: 16mm 15mm; }');
    expect(html).toContain('overflow-wrap: anywhere');
    expect(html).toContain('/n/&lt;x&gt;/lightningd.sqlite3');
    expect(html).not.toContain('/n/<x>/');
  });
});

describe('parseDataVersionText', () => {
  it('empty is no value; digits are the value (thousands separators allowed)', () => {
    expect(parseDataVersionText('')).toEqual({ ok: true, value: undefined });
    expect(parseDataVersionText('  1234 ')).toEqual({ ok: true, value: 1234 });
    expect(parseDataVersionText('1,234')).toEqual({ ok: true, value: 1234 });
    expect(parseDataVersionText('4294967295')).toEqual({ ok: true, value: 0xffffffff });
  });
  it('refuses anything else, naming the character', () => {
    expect(parseDataVersionText('abc')).toEqual({ ok: false, message: expect.stringContaining('character 1 is the letter "a"') });
    const o = parseDataVersionText('12O');
    expect(o.ok).toBe(false);
    expect(!o.ok && o.message).toContain('character 3 is the letter "O"');
    expect(!o.ok && o.message).toContain('Did you mean the digit 0?');
    expect(parseDataVersionText('-5')).toEqual({ ok: false, message: expect.stringContaining('character 1 is "-"') });
    expect(parseDataVersionText('1.5')).toEqual({ ok: false, message: expect.stringContaining('character 2 is "."') });
    expect(parseDataVersionText('4294967296')).toEqual({ ok: false, message: expect.stringContaining('larger than any data_version') });
  });
});

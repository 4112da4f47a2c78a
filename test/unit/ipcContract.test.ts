import { describe, expect, it } from 'vitest';
import { contract } from '../../shared/ipc/contract';
import { CHANNELS, buildApi } from '../../shared/ipc/channels';

describe('IPC contract', () => {
  it('the channel list used by the preload equals the contract', () => {
    expect([...CHANNELS].sort()).toEqual(Object.keys(contract).sort());
  });
  it('buildApi exposes api.<group>.<name> and forwards channel + input', async () => {
    const calls: [string, unknown][] = [];
    const api = buildApi(async (c, i) => {
      calls.push([c, i]);
      return 'r';
    });
    await api.secret!.loadText!({ text: 'x' });
    await api.app!.info!(undefined);
    expect(calls).toEqual([
      ['secret.loadText', { text: 'x' }],
      ['app.info', {}],
    ]);
    expect(Object.keys(api).sort()).toEqual([...new Set(CHANNELS.map((c) => c.split('.')[0]))].sort());
  });
  it('every input schema rejects wrong types and unknown keys', () => {
    for (const [name, c] of Object.entries(contract)) {
      expect(c.input.safeParse(42).success, name).toBe(false);
      expect(c.input.safeParse('x').success, name).toBe(false);
      // A schema with a required field fails on `{ unexpected: 1 }` whether or not it is strict,
      // so the claim is checked on the issue itself: the unknown key is named as unrecognized.
      const r = c.input.safeParse({ unexpected: 1 });
      expect(r.success, name).toBe(false);
      const unrecognized = r.error?.issues.filter((i) => i.code === 'unrecognized_keys');
      expect(unrecognized, `${name} must reject unknown keys (.strict())`).toEqual([
        expect.objectContaining({ keys: ['unexpected'], path: [] }),
      ]);
    }
  });
});

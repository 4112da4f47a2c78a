/**
 * What the plugin says to lightningd is plain ASCII (issue 10 defect 6): lightningd shows
 * every byte outside 0x20–0x7e as `?` (lightningd/log.c:673-676), so "…" became "???".
 */
import { describe, expect, it } from 'vitest';
import { asciiLogText } from '../../plugin/logText';
import { CldcbPluginRpc } from '../../plugin/plugin';
import { CldcbError } from '../../shared/errors';

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

describe('asciiLogText', () => {
  it('spells typographic characters in ASCII and keeps plain text as it is', () => {
    expect(asciiLogText('Cannot reach the server at 127.0.0.1:1 (ECONNREFUSED)…')).toBe('Cannot reach the server at 127.0.0.1:1 (ECONNREFUSED)...');
    expect(asciiLogText('a — b – c ‘d’ “e” 2×3 ≥ ≤ → ‖ ✓')).toBe(`a - b - c 'd' "e" 2x3 >= <= -> || ok`);
    expect(asciiLogText('two\nlines\tand a tab')).toBe('two lines and a tab');
    expect(asciiLogText('emoji 🙂 and é')).toBe('emoji ? and ?');
    const plain = 'data_version 7: stored (12 statements).';
    expect(asciiLogText(plain)).toBe(plain);
  });
});

describe('the plugin talks ASCII to lightningd', () => {
  it('log notifications and the failed db_write error carry no byte lightningd would show as "?"', async () => {
    const sent: unknown[] = [];
    const session = {
      write: async (): Promise<void> => {
        throw new CldcbError('server_unreachable', 'data_version 5 was NOT backed up after 3 attempts in 30.0 s: Cannot reach the cldcb server at 127.0.0.1:9 … — ECONNREFUSED');
      },
    };
    const rpc = new CldcbPluginRpc(session, { send: (o) => sent.push(o) });
    rpc.log('info', 'Read protection set (verifier 0a1b2c3d…).');
    rpc.handle({ jsonrpc: '2.0', id: 'cln:db_write#1', method: 'db_write', params: { data_version: 5, writes: ['UPDATE vars SET intval = intval + 1 WHERE name = \'data_version\' AND intval = 4'] } });
    await rpc.idle();
    const texts = sent.map((o) => {
      const m = o as { params?: { message?: string }; error?: { message?: string } };
      return m.params?.message ?? m.error?.message ?? '';
    });
    expect(texts.length).toBe(3); // our log, the failure log, the error reply
    expect(sent.some((o) => (o as { error?: unknown }).error !== undefined)).toBe(true);
    for (const t of texts) expect(t).toMatch(PRINTABLE_ASCII);
    expect(texts.join(' ')).toContain('127.0.0.1:9 ... - ECONNREFUSED');
  });
});

/**
 * The plugin wrapper with several servers (shared/cldcb/wrapper.ts; docs/PROTOCOL.md §5):
 * server 1 keeps the original's keys, servers 2… their own `.N` keys, `quorum` says how many
 * must store a write. One server stays the original's format byte for byte.
 */
import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../../shared/bytes';
import { nobleSecp } from '../../shared/cldcb/curve';
import { formatServerId } from '../../shared/cldcb/ids';
import { signRecognitionCode } from '../../shared/cldcb/recognition';
import { defaultQuorum, formatPluginWrapper, parsePluginWrapper, wrapperQuorum, wrapperServers, type WrapperInput } from '../../shared/cldcb/wrapper';

const nodePriv = hexToBytes('11'.repeat(32));
const nodeId = nobleSecp.publicKey(nodePriv);
function server(i: number): Omit<WrapperInput, 'nodeId'> {
  const clientPrivateKey = hexToBytes(String(20 + i).repeat(32));
  return {
    clientPrivateKey,
    nodeSignature: signRecognitionCode(nodePriv, nobleSecp.publicKey(clientPrivateKey)),
    serverId: nobleSecp.publicKey(hexToBytes(String(40 + i).repeat(32))),
    server: { host: `backup${i}.example`, port: 29735 + i },
  };
}

describe('plugin wrapper with several servers', () => {
  it('one server: exactly the original keys, no quorum line', () => {
    const text = formatPluginWrapper({ ...server(1), nodeId });
    expect(text.split('\n').filter((l) => l.startsWith('# ')).map((l) => l.split(' ')[1])).toEqual(['cid', 'cpk', 'nid', 'nsig', 'sid', 'shost']);
    const c = parsePluginWrapper(text);
    expect(wrapperServers(c)).toHaveLength(1);
    expect(wrapperQuorum(c)).toBe(1);
    expect(c.moreServers).toBeUndefined();
  });

  it('three servers: server 1 as the original, servers 2 and 3 with .N keys, quorum written (default a majority); parses back', () => {
    const input: WrapperInput = { ...server(1), nodeId, moreServers: [server(2), server(3)] };
    const text = formatPluginWrapper(input);
    expect(text).toMatch(/\n# sid = 5.*\n# shost = backup1\.example:29736\n/);
    expect(text).toMatch(/\n# cid\.2 = c[23][0-9a-f]{64}\n# cpk\.2 = [0-9a-f]{64}\n# nsig\.2 = [0-9a-f]{128}\n# sid\.2 = 5[23][0-9a-f]{64}\n# shost\.2 = backup2\.example:29737\n/);
    expect(text).toContain('\n# quorum = 2\n');
    expect(text).not.toMatch(/nid\.2/);
    const c = parsePluginWrapper(text);
    const servers = wrapperServers(c);
    expect(servers.map((s) => s.server.host)).toEqual(['backup1.example', 'backup2.example', 'backup3.example']);
    expect(servers.map((s) => bytesToHex(s.clientId))).toEqual([1, 2, 3].map((i) => bytesToHex(nobleSecp.publicKey(server(i).clientPrivateKey))));
    expect(wrapperQuorum(c)).toBe(2);
    expect(formatPluginWrapper(c)).toBe(text);
    expect(parsePluginWrapper(formatPluginWrapper({ ...input, quorum: 3 })).quorum).toBe(3);
  });

  it('majority: 1→1, 2→2, 3→2, 4→3, 5→3', () => {
    expect([1, 2, 3, 4, 5].map(defaultQuorum)).toEqual([1, 2, 2, 3, 3]);
  });

  it('refuses gaps, missing keys, a repeated server, a bad quorum — naming the key', () => {
    const text = formatPluginWrapper({ ...server(1), nodeId, moreServers: [server(2), server(3)] });
    expect(() => parsePluginWrapper(text.replace(/^# ([a-z]+)\.2 = .*\n/gm, ''))).toThrow(/server 2 is missing/);
    expect(() => parsePluginWrapper(text.replace(/^# nsig\.3 = .*\n/m, ''))).toThrow(/server 3 lacks "nsig\.3"/);
    expect(() => parsePluginWrapper(text.replace(/^# sid\.3 = .*$/m, `# sid.3 = ${formatServerId(server(2).serverId)}`))).toThrow(/server 3 repeats the server id/);
    for (const q of ['0', '4', 'two', '1.5']) expect(() => parsePluginWrapper(text.replace('# quorum = 2', `# quorum = ${q}`)), q).toThrow(/quorum must be a whole number from 1 to 3/);
    expect(() => parsePluginWrapper(text.replace('# quorum = 2', '# frob.2 = 1'))).toThrow(/unknown option "frob\.2"/);
    expect(() => parsePluginWrapper(text.replace('# quorum = 2', '# sid.10 = 1'))).toThrow(/unknown option "sid\.10"/);
    const one = formatPluginWrapper({ ...server(1), nodeId });
    expect(() => parsePluginWrapper(one.replace(/^exec/m, '# quorum = 1\nexec'))).toThrow(/quorum is for several servers/);
    expect(() => parsePluginWrapper(text.replace(/^# cid\.2 = c./m, '# cid.2 = cX'))).toThrow(/cid\.2/);
  });
});

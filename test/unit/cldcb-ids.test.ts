import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bytesToHex, hexToBytes } from '../../shared/bytes';
import { CldcbError } from '../../shared/errors';
import { nobleSecp } from '../../shared/cldcb/curve';
import { formatClientId, formatClientKeyFile, formatHostPort, formatNodeId, formatServerId, parseClientId, parseClientKeyFile, parseHostPort, parseNodeId, parseOptFile, parseServerId } from '../../shared/cldcb/ids';
import { formatPluginWrapper, parsePluginWrapper, shellQuote } from '../../shared/cldcb/wrapper';

// Sample keys from the fixtures (throw-away test keys, test/fixtures/cldcb/README.md).
const CID = 'c2f8853660663e584024d4efbd84c77b61de13941cffeb0e8a41fb06ce46373637';
const CPK = '257f11cd46fb5c79fce3f13a24b9be2d90dde2348575d58657667e6bc035ff3f';
const NID = '026e373091ec9644ae7bd820233fc2225bb9f7f12fd2c74dabfdc2ff261988c935';
const SID = '53a4684420eed17f05508233500cf0c03fad14d62fc8fd7b3d62f54f9a2ef14bad';
const NSIG =
  '04193b32a9d9234e8ecbb1c787d2b5d2686019a639a8d93ebe181a901a22693b534dceaea0b1818d0578347ba0ca8f95128a81b6583a5fbc8e7bc30071a64e77';

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof CldcbError) return e.code;
    throw e;
  }
  return undefined;
}

describe('cldcb ids (cldcb-protocol §1.2)', () => {
  it('client id ↔ key, accepting C', () => {
    const k = parseClientId(CID);
    expect(bytesToHex(k)).toBe('0' + CID.slice(1));
    expect(formatClientId(k)).toBe(CID);
    expect(bytesToHex(parseClientId('C' + CID.slice(1).toUpperCase()))).toBe('0' + CID.slice(1));
    expect(bytesToHex(nobleSecp.publicKey(hexToBytes(CPK)))).toBe('0' + CID.slice(1));
  });

  it('server id: first byte OR 0x50', () => {
    const k = parseServerId(SID);
    expect(bytesToHex(k)).toBe('03' + SID.slice(2));
    expect(formatServerId(k)).toBe(SID);
    const k2 = parseClientId(CID); // an 02 key
    expect(formatServerId(k2).slice(0, 2)).toBe('52');
  });

  it('node id', () => {
    expect(formatNodeId(parseNodeId(NID))).toBe(NID);
  });

  it('rejects bad ids with errors naming the field', () => {
    expect(() => parseClientId('0' + CID.slice(1))).toThrow(/client id: must start with "c"/);
    expect(() => parseClientId(CID.slice(0, 65))).toThrow(/client id: expected 66 characters/);
    expect(() => parseClientId('c4' + CID.slice(2))).toThrow(/second character must be 2 or 3/);
    expect(() => parseClientId(CID.slice(0, 10) + 'g' + CID.slice(11))).toThrow(/character 11 is not a hex digit/);
    expect(() => parseServerId('03' + SID.slice(2))).toThrow(/server id: must start with "5"/);
    expect(() => parseNodeId(CID, 'nid')).toThrow(/^nid: /);
    // x = 0 is not on the curve
    expect(codeOf(() => parseNodeId('02' + '00'.repeat(32)))).toBe('bad_input');
    expect(() => parseNodeId('02' + '00'.repeat(32))).toThrow(/not a point/);
    expect(() => formatClientId(new Uint8Array(32))).toThrow(CldcbError);
  });

  it('wrong types and lengths always give CldcbError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (s) => {
        for (const f of [parseClientId, parseServerId, parseNodeId]) {
          const c = codeOf(() => f(s));
          if (c !== undefined) expect(['bad_input', 'bad_length', 'bad_hex']).toContain(c);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('newclient key file (cldcb-protocol §1.3)', () => {
  it('writes exactly 148 bytes in the original format and reads them back', () => {
    const text = formatClientKeyFile(hexToBytes(CPK));
    expect(text).toBe(`# cid = ${CID}\n# cpk = ${CPK}\n`);
    expect(new TextEncoder().encode(text).length).toBe(148);
    const k = parseClientKeyFile(text);
    expect(formatClientId(k.clientId)).toBe(CID);
    expect(bytesToHex(k.privateKey)).toBe(CPK);
  });

  it('detects a cid that does not belong to cpk (the original never checked)', () => {
    const other = formatClientId(parseNodeId(NID));
    expect(() => parseClientKeyFile(`# cid = ${other}\n# cpk = ${CPK}\n`)).toThrow(/cid does not belong to cpk/);
    expect(() => parseClientKeyFile(`# cpk = ${CPK}\n`)).toThrow(/"# cid = c…" line is missing/);
    expect(() => parseClientKeyFile(`# cid = ${CID}\n# cpk = ${CPK}\n# nid = ${NID}\n`)).toThrow(/unexpected entry "nid"/);
    expect(() => parseClientKeyFile(`# cid = ${CID}\n# cpk = ${'00'.repeat(32)}\n`)).toThrow(/not a valid secp256k1 private key/);
  });
});

describe('option-file parsing, as OptFile/parse.cpp (cldcb-protocol §7)', () => {
  it('applies the original rules', () => {
    const text = [
      '#!/bin/sh',
      '## comment = ignored',
      '#',
      'x',
      'key = not a comment',
      '  \t# a =  1 = 2 \r',
      '#b=',
      '#  novalue  ',
      '# c = first',
      '# c = last',
      '\v#d=\f4',
      '#e = no newline at end',
    ].join('\n');
    const m = parseOptFile(text);
    expect([...m.entries()]).toEqual([
      ['a', '1 = 2'],
      ['b', ''],
      ['novalue', ''],
      ['c', 'last'],
      ['d', '4'],
      ['e', 'no newline at end'],
    ]);
  });

  it('does not trim Unicode spaces (C isspace only)', () => {
    expect([...parseOptFile('#\u00a0k = v').keys()]).toEqual(['\u00a0k']);
  });
});

describe('host[:port] (translate_setup.cpp)', () => {
  it('parses the four accepted forms with defaults', () => {
    expect(parseHostPort('example.org', 29735, 'shost')).toEqual({ host: 'example.org', port: 29735 });
    expect(parseHostPort('127.0.0.1:1234', 29735, 'shost')).toEqual({ host: '127.0.0.1', port: 1234 });
    expect(parseHostPort('[::1]', 9050, 'proxy')).toEqual({ host: '::1', port: 9050 });
    expect(parseHostPort('[fe80::1%eth0]:9', 9050, 'proxy')).toEqual({ host: 'fe80::1%eth0', port: 9 });
  });

  it('rejects what the original rejected, and what made it crash', () => {
    const cases: [string, RegExp][] = [
      ['', /must not be empty/],
      ['[::1', /no closing \]/],
      ['[::1]x', /expected ":" after \[host\]/],
      ['[::1]:', /expected a port after \[host\]:/],
      ['host:', /expected a port after host:/],
      ['host:abc', /not a number/],
      ['host:12abc', /not a number/], // std::stoi would have taken 12
      ['host:0', /1 to 65535/],
      ['host:65536', /1 to 65535/],
      ['fe80::1', /brackets/],
      [':29735', /host must not be empty/],
      ['[]', /host must not be empty/],
    ];
    for (const [v, re] of cases) expect(() => parseHostPort(v, 29735, 'shost'), v).toThrow(re);
  });

  it('formats back', () => {
    expect(formatHostPort({ host: '::1', port: 5 })).toBe('[::1]:5');
    expect(formatHostPort({ host: 'abc.onion', port: 29735 })).toBe('abc.onion:29735');
    expect(() => formatHostPort({ host: 'a b', port: 1 })).toThrow(CldcbError);
  });
});

describe('plugin wrapper (cldcb-protocol §7)', () => {
  const wrapper = (extra = ''): string =>
    `#! /bin/sh\n## sample\n# cid = ${CID}\n# cpk = ${CPK}\n# nid = ${NID}\n# nsig = ${NSIG}\n# sid = ${SID}\n# shost = 127.0.0.1:29735\n${extra}exec cldcb-plugin -- "$0"\n`;

  it('parses the sample wrapper', () => {
    const c = parsePluginWrapper(wrapper());
    expect(formatClientId(c.clientId)).toBe(CID);
    expect(bytesToHex(c.clientPrivateKey)).toBe(CPK);
    expect(formatNodeId(c.nodeId)).toBe(NID);
    expect(bytesToHex(c.nodeSignature)).toBe(NSIG);
    expect(formatServerId(c.serverId)).toBe(SID);
    expect(c.server).toEqual({ host: '127.0.0.1', port: 29735 });
    expect(c.proxy).toBeUndefined();
    expect(parsePluginWrapper(wrapper('# proxy = [::1]\n')).proxy).toEqual({ host: '::1', port: 9050 });
  });

  it('normalises nsig to low-S, as Signature.cpp does', () => {
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const s = BigInt('0x' + NSIG.slice(64));
    const high = NSIG.slice(0, 64) + (n - s).toString(16).padStart(64, '0');
    const c = parsePluginWrapper(wrapper().replace(NSIG, high));
    expect(bytesToHex(c.nodeSignature)).toBe(NSIG);
  });

  it('refuses unknown, missing and malformed options, naming them', () => {
    expect(() => parsePluginWrapper(wrapper('# port = 1\n'))).toThrow(/unknown option "port"/);
    expect(() => parsePluginWrapper(wrapper().replace(/# shost.*\n/, ''))).toThrow(/required option "shost" is missing/);
    expect(() => parsePluginWrapper(wrapper().replace(NSIG, NSIG.slice(2)))).toThrow(/nsig must have 128 hex digits/);
    expect(() => parsePluginWrapper(wrapper().replace(NSIG, 'ff'.repeat(64)))).toThrow(/nsig is not a valid compact signature/);
    expect(() => parsePluginWrapper(wrapper().replace(`# sid = ${SID}`, `# sid = 0${SID.slice(1)}`))).toThrow(/sid: must start with "5"/);
    expect(() => parsePluginWrapper(wrapper().replace('127.0.0.1:29735', '127.0.0.1:x'))).toThrow(/shost: port "x"/);
    expect(() => parsePluginWrapper(wrapper().replace(CID, formatClientId(parseNodeId(NID))))).toThrow(/cid does not belong to cpk/);
  });

  it('writes a wrapper that parses back to the same configuration', () => {
    const c = parsePluginWrapper(wrapper('# proxy = 127.0.0.1:9050\n'));
    const text = formatPluginWrapper(c, { command: ['/opt/cldcb/bin/cldcb-plugin'] });
    expect(text.startsWith('#! /bin/sh\n')).toBe(true);
    expect(text).toContain(`# cid = ${CID}\n# cpk = ${CPK}\n# nid = ${NID}\n# nsig = ${NSIG}\n# sid = ${SID}\n# shost = 127.0.0.1:29735\n# proxy = 127.0.0.1:9050\n`);
    expect(text.endsWith('exec /opt/cldcb/bin/cldcb-plugin -- "$0"\n')).toBe(true);
    const back = parsePluginWrapper(text);
    expect(back).toEqual(c);
    const plain = formatPluginWrapper({ ...c, proxy: undefined });
    expect(plain).not.toContain('proxy');
    expect(plain.endsWith('exec cldcb-plugin -- "$0"\n')).toBe(true);
  });

  it('quotes plugin command words for the shell', () => {
    expect(shellQuote('/usr/bin/node')).toBe('/usr/bin/node');
    expect(shellQuote("/a dir/it's")).toBe(`'/a dir/it'\\''s'`);
    const c = parsePluginWrapper(wrapper());
    expect(formatPluginWrapper(c, { command: ['/usr/bin/node', '/a b/plugin.js'] })).toContain(`exec /usr/bin/node '/a b/plugin.js' -- "$0"\n`);
    expect(() => formatPluginWrapper(c, { command: ['a\nb'] })).toThrow(/line breaks/);
    expect(() => formatPluginWrapper(c, { command: [] })).toThrow(CldcbError);
  });
});

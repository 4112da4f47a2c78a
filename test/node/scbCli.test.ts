/**
 * `cldcb-client scb`, run as the built program (node scripts/build.mjs) on the
 * real channel-node data: every source gives the channels lightningd lists,
 * with the to_remote addresses of expected-to-remote.json.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bech32 } from '@scure/base';
import { hexToBytes } from '../../shared/bytes';
import { scriptToAddress } from '../../shared/scb/channelKeys';
import { runClient, type CliRun } from './helpers/cli';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CN = path.join(root, 'test/fixtures/lightningd/channel-node');
const SN = path.join(root, 'test/fixtures/lightningd/single-node');
const HSM = path.join(CN, 'hsm_secret');
const json = (p: string) => JSON.parse(readFileSync(p, 'utf8'));

let dir: string;
/** CliRun the built CLI with stdin a pipe (no terminal). */
const cli = (...args: string[]): CliRun => runClient(args, { cwd: dir });
function oneLineError(r: CliRun, status: number, pattern: RegExp): void {
  expect(r.status).toBe(status);
  expect(r.stdout).toBe('');
  if (status === 1) expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
}

beforeAll(() => {
  const b = spawnSync(process.execPath, [path.join(root, 'scripts/build.mjs')], { cwd: root, encoding: 'utf8' });
  if (b.status !== 0) throw new Error(`build failed: ${b.stderr}`);
  dir = mkdtempSync(path.join(tmpdir(), 'cldcb-scbcli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface CliChannel {
  channel_id: string;
  peer_id: string;
  funding_txid: string;
  funding_outnum: number;
  funding_sat: number;
  channel_type: string[];
  to_remote_address: string;
}

function expectNodeChannels(out: { channels: CliChannel[] }, network: 'regtest' | 'bitcoin'): void {
  const lpc = json(path.join(CN, 'listpeerchannels.json')).channels as Record<string, unknown>[];
  const exp = json(path.join(CN, 'expected-to-remote.json')).channels as { channel_type: string[]; to_remote_script: string; to_remote_address: string }[];
  expect(out.channels.map((c) => [c.peer_id, c.channel_id, c.funding_txid, c.funding_outnum, c.funding_sat * 1000])).toEqual(
    lpc.map((n) => [n.peer_id, n.channel_id, n.funding_txid, n.funding_outnum, n.total_msat]),
  );
  expect(out.channels.map((c) => c.channel_type)).toEqual(
    lpc.map((n) => (n.channel_type as { names: string[] }).names.map((s) => s.replace(/\/even$/, ''))),
  );
  expect(out.channels.map((c) => c.channel_type)).toEqual(exp.map((e) => e.channel_type));
  expect(out.channels.map((c) => c.to_remote_address)).toEqual(
    exp.map((e) => (network === 'regtest' ? e.to_remote_address : scriptToAddress(hexToBytes(e.to_remote_script), 'bitcoin'))),
  );
}

describe('cldcb-client scb --json', () => {
  const sources: [string, string][] = [
    ['--emergency-recover', path.join(CN, 'emergency.recover')],
    ['--staticbackup', path.join(CN, 'staticbackup.json')],
    ['--database', path.join(CN, 'lightningd.sqlite3')],
  ];
  for (const [flag, file] of sources) {
    it(`${flag}: the channels lightningd lists, with our to_remote addresses`, () => {
      const r = cli('scb', `--hsm-secret=${HSM}`, `${flag}=${file}`, '--network=regtest', '--json');
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const out = JSON.parse(r.stdout);
      expectNodeChannels(out, 'regtest');
      expect(out.node_id).toBe(json(path.join(CN, 'getinfo.json')).id);
      expect(out.recoverchannel).toEqual({ scb: json(path.join(CN, 'staticbackup.json')).scb });
    });
  }

  it('the flags also work as "--flag value"; the default network is bitcoin (bc1…)', () => {
    const r = cli('scb', '--hsm-secret', HSM, '--emergency-recover', path.join(CN, 'emergency.recover'), '--json');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.network).toBe('bitcoin');
    expect(out.channels.every((c: CliChannel) => c.to_remote_address.startsWith('bc1q'))).toBe(true);
    expectNodeChannels(out, 'bitcoin');
    expect(out.key_base).toBe('secret_data');
  });

  it('a node without channels prints an empty list', () => {
    const r = cli('scb', `--hsm-secret=${path.join(SN, 'hsm_secret')}`, `--emergency-recover=${path.join(SN, 'emergency.recover')}`, '--json');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).channels).toEqual([]);
  });

  it('the clnemerg1… text form of the file works too', () => {
    const text = bech32.encode('clnemerg', bech32.toWords(readFileSync(path.join(CN, 'emergency.recover'))), false);
    const p = path.join(dir, 'emerg.txt');
    writeFileSync(p, `${text}\n`);
    const r = cli('scb', `--hsm-secret=${HSM}`, `--emergency-recover=${p}`, '--network=regtest', '--json');
    expect(r.status).toBe(0);
    expectNodeChannels(JSON.parse(r.stdout), 'regtest');
  });

  it('with the RPC outputs: each channel\'s state', () => {
    const a = path.join(CN, 'after-force-close');
    const r = cli(
      'scb',
      `--hsm-secret=${HSM}`,
      `--database=${path.join(CN, 'lightningd.sqlite3')}`,
      '--network=regtest',
      `--listpeerchannels=${path.join(a, 'listpeerchannels.json')}`,
      `--listfunds=${path.join(a, 'listfunds.json')}`,
      `--listclosedchannels=${path.join(a, 'listclosedchannels.json')}`,
      `--getinfo=${path.join(a, 'getinfo.json')}`,
      '--json',
    );
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.progress.channels.map((c: { state: string }) => c.state)).toEqual(['waiting_for_peer', 'swept']);
    expect(out.channels.map((c: { node_state: string }) => c.node_state)).toEqual(['CHANNELD_NORMAL', 'ONCHAIN']);
    expect(out.progress.blockheight).toBe(124);
  });
});

describe('cldcb-client scb, readable output', () => {
  it('a table with full to_remote addresses, the walkthrough and the recoverchannel command', () => {
    const r = cli('scb', `--hsm-secret=${HSM}`, `--staticbackup=${path.join(CN, 'staticbackup.json')}`, '--network=regtest');
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^Node 03856eec0177fe49ba46fffd20a76499167ded1dc2ffb6fb006ee80d0e5ca30306 on regtest: 2 channels from staticbackup\./);
    for (const e of json(path.join(CN, 'expected-to-remote.json')).channels) expect(r.stdout).toContain(e.to_remote_address);
    expect(r.stdout).toContain('static_remotekey,anchors');
    expect(r.stdout).toContain('1,000,000');
    expect(r.stdout).toContain("$ lightning-cli recoverchannel '[\"0000000000000001b9d6");
    expect(r.stdout).toMatch(/WARNING: Never run the old channel database/);
  });
  it('with tracker inputs: states and next steps', () => {
    const a = path.join(CN, 'after-force-close');
    const r = cli('scb', `--hsm-secret=${HSM}`, `--emergency-recover=${path.join(CN, 'emergency.recover')}`, '--network=regtest', `--listpeerchannels=${path.join(a, 'listpeerchannels.json')}`, `--listfunds=${path.join(a, 'listfunds.json')}`);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/dbid 1 b9d689b8…2e1a: waiting_for_peer/);
    expect(r.stdout).toMatch(/dbid 2 65587c51…cb99: swept/);
    expect(r.stdout).toMatch(/Not done yet/);
  });
  it('--report writes the full report (mode 0600) and never overwrites', () => {
    const rep = path.join(dir, 'report.json');
    const r = cli('scb', `--hsm-secret=${HSM}`, `--emergency-recover=${path.join(CN, 'emergency.recover')}`, '--network=regtest', `--report=${rep}`, '--json');
    expect(r.status).toBe(0);
    const report = json(rep);
    expect(report.report).toBe('cldcb-scb-recovery');
    expect(report.key_base).toBe('secret_data');
    expect(report.channels.length).toBe(2);
    expect(statSync(rep).mode & 0o777).toBe(0o600);
    oneLineError(cli('scb', `--hsm-secret=${HSM}`, `--emergency-recover=${path.join(CN, 'emergency.recover')}`, `--report=${rep}`), 1, /already exists/);
  });
});

describe('cldcb-client scb errors', () => {
  it('usage errors exit 2', () => {
    oneLineError(cli('scb', `--hsm-secret=${HSM}`), 2, /give one backup/);
    oneLineError(cli('scb', `--hsm-secret=${HSM}`, `--staticbackup=${path.join(CN, 'staticbackup.json')}`, `--database=${path.join(CN, 'lightningd.sqlite3')}`), 2, /only one backup/);
    oneLineError(cli('scb', `--hsm-secret=${HSM}`, `--staticbackup=${path.join(CN, 'staticbackup.json')}`, '--network=mainnet'), 2, /--network must be one of bitcoin, testnet, signet, regtest/);
    oneLineError(cli('scb', `--staticbackup=${path.join(CN, 'staticbackup.json')}`), 2, /missing --hsm-secret/);
  });
  it("another node's hsm_secret: one line, not authentic", () => {
    oneLineError(
      cli('scb', `--hsm-secret=${path.join(SN, 'hsm_secret')}`, `--emergency-recover=${path.join(CN, 'emergency.recover')}`),
      1,
      /not authentic, or not made with this hsm_secret/,
    );
  });
  it('a truncated or tampered file', () => {
    const f = readFileSync(path.join(CN, 'emergency.recover'));
    const short = path.join(dir, 'short.recover');
    writeFileSync(short, f.subarray(0, 20));
    oneLineError(cli('scb', `--hsm-secret=${HSM}`, `--emergency-recover=${short}`), 1, /truncated/);
    const bad = Buffer.from(f);
    bad[100] = bad[100]! ^ 0x80;
    const tampered = path.join(dir, 'tampered.recover');
    writeFileSync(tampered, bad);
    oneLineError(cli('scb', `--hsm-secret=${HSM}`, `--emergency-recover=${tampered}`), 1, /not authentic/);
  });
  it('missing files and wrong JSON', () => {
    oneLineError(cli('scb', `--hsm-secret=${HSM}`, `--emergency-recover=${path.join(dir, 'nope')}`), 1, /no such file/);
    oneLineError(cli('scb', `--hsm-secret=${HSM}`, `--database=${path.join(dir, 'nope.sqlite3')}`), 1, /no such database file/);
    const j = path.join(dir, 'bad.json');
    writeFileSync(j, '{"channels": 5}');
    oneLineError(cli('scb', `--hsm-secret=${HSM}`, `--staticbackup=${j}`), 1, /not a staticbackup output/);
    oneLineError(cli('scb', `--hsm-secret=${HSM}`, `--staticbackup=${path.join(CN, 'staticbackup.json')}`, `--listfunds=${j}`), 1, /listfunds/);
  });
  it('--help documents the JSON form and the default network', () => {
    const r = cli('scb', '--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/bitcoin \(default/);
    expect(r.stdout).toMatch(/\["static_remotekey","anchors"\]/);
  });
});

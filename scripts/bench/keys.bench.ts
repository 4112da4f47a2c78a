/**
 * Key-material benchmarks (`npm run bench -- keys`):
 * 1. Argon2id unlock of an encrypted hsm_secret (CLN's MODERATE limits: t=3, 256 MiB),
 *    against libsodium's Argon2id at INTERACTIVE limits (t=2, 64 MiB) in the same run —
 *    the ratio shows the cost of CLN's parameters on this machine.
 * 2. Typo repair: candidates per second on one thread against the raw native node-id
 *    derivation (HKDF + libsecp256k1 pubkey) in the same run; the wall time of the whole
 *    single-digit search and of all two-digit substitutions on every core
 *    (targets: single < 1 s, double < 10 s on 2 cores).
 */
import { getSodium, deriveLegacyEncryptionKey } from '../../shared/secrets/legacyEncryption';
import { HexRepairSpace } from '../../shared/paper/typoRepair';
import { fastNodeId, nodeIdMatcher } from '../../shared/node/fastNodeId';
import { repairHexCopy } from '../../shared/node/typoRepair';
import { coreCount } from '../../shared/node/workerPool';
import { bytesToHex, hexToBytes } from '../../shared/bytes';
import { nodeIdFromSecret } from '../../shared/secrets/nodeKey';
import { opsPerSecond, report, timeMs, type Row } from './lib';

const rows: Row[] = [];

// 1. Argon2id
const sodium = await getSodium();
const salt = new Uint8Array(16);
const interactive = await timeMs(() =>
  sodium.crypto_pwhash(32, 'bench passphrase', salt, sodium.crypto_pwhash_OPSLIMIT_INTERACTIVE, sodium.crypto_pwhash_MEMLIMIT_INTERACTIVE, sodium.crypto_pwhash_ALG_ARGON2ID13),
);
await deriveLegacyEncryptionKey('warm up'); // first call grows the WASM memory
const runs: number[] = [];
for (let i = 0; i < 3; i++) runs.push((await timeMs(() => deriveLegacyEncryptionKey('bench passphrase'))).ms);
runs.sort((a, b) => a - b);
const moderate = runs[1]!;
rows.push({
  name: 'Argon2id unlock (CLN MODERATE: t=3, 256 MiB), median of 3',
  value: moderate,
  unit: 'ms',
  reference: { name: 'Argon2id INTERACTIVE (t=2, 64 MiB) ms', value: interactive.ms },
});
rows.push({ name: 'Argon2id unlock ÷ INTERACTIVE', value: moderate / interactive.ms, unit: '×' });

// 2. Typo repair
const secretHex = '6c696768746e696e672d31000000000000000000000000000000000000000000';
const nodeId = bytesToHex(nodeIdFromSecret(hexToBytes(secretHex)));
const target = hexToBytes(nodeId);
const raw = new Uint8Array(32);
let k = 0;
const rawRate = await opsPerSecond(() => {
  raw[0] = k++ & 255;
  raw[1] = (k >> 8) & 255;
  fastNodeId(raw);
}, 1500, 200);
const wrong = secretHex.split('');
wrong[10] = wrong[10] === '0' ? '1' : '0';
wrong[50] = wrong[50] === 'a' ? 'b' : 'a';
const space = HexRepairSpace.fromText(wrong.join(''));
const from = space.phase2End;
const slice = 40_000;
const one = await timeMs(() => space.search(from, from + slice, nodeIdMatcher(target)));
rows.push({
  name: 'typo repair candidates/s, one thread',
  value: (slice * 1000) / one.ms,
  unit: '/s',
  reference: { name: 'raw node-id derivations/s', value: rawRate },
});
const single = wrong.slice();
single[50] = secretHex[50]!;
const singleRun = await timeMs(() => repairHexCopy(single.join(''), nodeId));
rows.push({ name: 'all single-digit substitutions (+ look-alikes, swaps), found', value: singleRun.ms / 1000, unit: 's', goal: '< 1 s', pass: singleRun.ms < 1000 && singleRun.value.candidates.length === 1 });
const doubleRun = await timeMs(() => repairHexCopy(wrong.join(''), nodeId));
rows.push({
  name: `all ${doubleRun.value.searched.toLocaleString('en-US')} candidates up to two digits, ${coreCount()} threads, found`,
  value: doubleRun.ms / 1000,
  unit: 's',
  goal: '< 10 s',
  pass: doubleRun.ms < 10_000 && doubleRun.value.candidates.length === 1,
});
report('keys: Argon2id unlock and typo repair', rows);

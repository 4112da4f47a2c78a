/**
 * Every parser that takes input we do not control, as fuzz targets (scripts/fuzz.mjs).
 * A target gets seeds (valid inputs, mostly made with our own encoders and the repository's
 * vectors and fixtures) and a `run` that feeds one input to the parser(s). The contract
 * under test: hostile input ends in a CldcbError (or a result), never another exception,
 * never a hang. A target may name the other errors its parser documents (`allowed`).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bytesToHex, concatBytes, u16be, utf8 } from '../../shared/bytes';
import {
  encodeArchive,
  encodeIncrement,
  encodeReuploadSection,
  readArchive,
  ArchReader,
} from '../../shared/cldcb/arch';
import { decodeProveRead, decodeSetReadVerifier } from '../../shared/cldcb/extension';
import {
  formatClientId,
  formatNodeId,
  formatServerId,
  parseClientId,
  parseClientKeyFile,
  parseHostPort,
  parseNodeId,
  parseOptFile,
  parsePrivateKeyHex,
  parseServerId,
  formatClientKeyFile,
} from '../../shared/cldcb/ids';
import {
  decodeMessage,
  encodeMessage,
  giveRecognitionCode,
  incrementalChunk,
  MSG,
  parseMessage,
  ping,
  pong,
  requestBackupData,
  requestIncremental,
  responseBackedupIncrementalNew,
  responseRecognitionCodes,
  reuploadChunk,
} from '../../shared/cldcb/messages';
import {
  decodeIncrementPlaintext,
  decodeReuploadHeader,
  encodeIncrementPlaintext,
  encodeIncrementPlaintextV1,
  encodeReuploadHeader,
  IncrementReader,
  sealIncrement,
  sealReupload,
} from '../../shared/cldcb/plaintexts';
import {
  decodeRecognitionRecord,
  encodeRecognitionRecord,
  formatRecognitionCodesFile,
  parseRecognitionCodesFile,
  signRecognitionCode,
} from '../../shared/cldcb/recognition';
import { IncrementStreams, sealStream } from '../../shared/cldcb/seal';
import {
  bumpOldValue,
  isDataVersionBump,
  isForeignKeysPragma,
  isPragma,
  StatementBytesFacts,
  statementWords,
} from '../../shared/cldcb/statements';
import { formatPluginWrapper, parsePluginWrapper } from '../../shared/cldcb/wrapper';
import { decodeCodex32, diagnoseCodex32, encodeCodex32Secret } from '../../shared/codex32';
import { inspectMacaroon, inspectRune } from '../../shared/credentials';
import { parseCidr, parseIp } from '../../shared/credentials/ip';
import {
  bakeLndMacaroon,
  checkLndCaveat,
  decodeMacaroon,
  encodeMacaroon,
  macaroonToText,
  parseGoRfc3339,
  parseLndIdentifier,
} from '../../shared/credentials/macaroons';
import {
  decodeRune,
  encodeRune,
  mintRune,
  parseRestriction,
  restrictionsFromCreateruneJson,
  runeMasterSecret,
} from '../../shared/credentials/runes';
import { contract } from '../../shared/ipc/contract';
import { NoiseInitiator, NoiseResponder } from '../../shared/noise/handshake';
import { publicKeyOf } from '../../shared/noise/primitives';
import { compareCopyWithNodeId, detectCopyKind } from '../../shared/paper/compare';
import { parseNodeIdText, parseTypedHexCopy } from '../../shared/paper/copyText';
import {
  decodeStaticChanBackup,
  emergencyRecoverBytes,
  openEmergencyRecover,
} from '../../shared/scb/emergencyRecover';
import { decodeModernScbChanHex } from '../../shared/scb/scbChan';
import { parseStaticBackup } from '../../shared/scb/staticbackup';
import { trackRecovery } from '../../shared/scb/walkthrough';
import { parseWireAddrText } from '../../shared/scb/wireaddr';
import { normaliseHexCopy } from '../../shared/secrets/hexCopy';
import {
  classifySecretFile,
  decodeSecretFileContent,
  detectHsmSecretFormat,
  parseSecretText,
} from '../../shared/secrets/hsmSecret';
import { expandWord, splitWords, validateMnemonic } from '../../shared/secrets/words';
import { noiseHandshakeCrypto } from '../../shared/node/noiseSocket';
import { nativeBoxCrypto } from '../../shared/node/nativeSeal';
import { parseServerAddress, readRecognitionCodesFile } from '../../shared/node/recovery/sources';
import { JsonObjectStream } from '../../plugin/jsonStream';
import { parseClientsFile, readClientsFile } from '../../server/clients';
import { ReadVerifierStore } from '../../server/readVerifiers';
import { RecognitionStore } from '../../server/recognitionStore';
import { decodeArchive } from '../../test/unit/helpers/decode';

export type Input = Uint8Array | string | { json: unknown };

export interface Target {
  readonly name: string;
  readonly kind: 'bytes' | 'text' | 'json';
  /** Share of the budget relative to 1 (slow parsers get less). */
  readonly weight: number;
  /** Longest input the mutator makes. */
  readonly maxLen: number;
  seeds(): Input[];
  /** Tokens the mutator inserts. */
  readonly dict?: readonly string[];
  run(input: Input): unknown;
  /** Errors other than CldcbError this parser documents. */
  allowed?(e: unknown): boolean;
}

// Fixed keys (test material only).
const key = (b: number): Uint8Array => new Uint8Array(32).fill(b);
const NODE_PRIV = key(0x11);
const NODE_PUB = publicKeyOf(NODE_PRIV, 'node');
const CLIENT_PRIV = key(0x22);
const CLIENT_PUB = publicKeyOf(CLIENT_PRIV, 'client');
const SERVER_PRIV = key(0x33);
const SERVER_PUB = publicKeyOf(SERVER_PRIV, 'server');
const E_INIT = key(0x44);
const E_RESP = key(0x55);
const SECRET32 = key(0x66);

const box = nativeBoxCrypto();
const hs = noiseHandshakeCrypto();
const hashHex = () => {
  const h = createHash('sha256');
  return { update: (d: Uint8Array) => h.update(d), digestHex: () => h.digest('hex') };
};

function findRoot(): string {
  for (let d = process.cwd(); ; d = path.dirname(d)) {
    try {
      readFileSync(path.join(d, 'server/cldcb-server.mjs'));
      return d;
    } catch {
      if (path.dirname(d) === d) return process.cwd();
    }
  }
}
const ROOT = findRoot();
const file = (p: string): Uint8Array => {
  try {
    return new Uint8Array(readFileSync(path.join(ROOT, p)));
  } catch {
    return new Uint8Array(0);
  }
};
const text = (p: string): string => new TextDecoder().decode(file(p));
/** Strings in a JSON vector file that look like `re` (seeds without depending on each file's layout). */
const stringsIn = (p: string, re: RegExp): string[] => [
  ...new Set([...text(p).matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!).filter((s) => re.test(s))),
];

const HEX = '0123456789abcdef'.split('');
const BECH = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l'.split('');

// ---------------------------------------------------------------------------------------------
// Seeds made with our encoders

const sealedReupload = sealReupload(CLIENT_PRIV, NODE_PUB, 1, utf8('SQLite format 3\0' + 'x'.repeat(3000)));
const sealedIncrements = [2, 3, 3, 4].map((dv) =>
  sealIncrement(CLIENT_PRIV, NODE_PUB, dv, [
    `INSERT INTO t VALUES (${dv});`,
    `UPDATE vars SET intval=${dv} WHERE name='data_version' AND intval = ${dv - 1};`,
  ]),
);
const archiveSeed = encodeArchive([
  ...sealedReupload.map((chunk) => ({ type: 'reuploadChunk' as const, chunk })),
  { type: 'reuploadEnd' as const },
  ...sealedIncrements.flatMap((chunks, i) => [
    { type: 'incrementStart' as const, dataVersion: [2, 3, 3, 4][i]! },
    ...chunks.map((chunk) => ({ type: 'incrementChunk' as const, chunk })),
    { type: 'incrementEnd' as const },
  ]),
]);
const v1Plain = encodeIncrementPlaintextV1(7, 1_700_000_000, new Uint8Array(32).fill(9), [
  'INSERT INTO t VALUES (1);',
  "UPDATE vars SET intval=7 WHERE name='data_version' AND intval = 6;",
]);
const v1Sealed = sealStream(CLIENT_PRIV, NODE_PUB, [v1Plain]);
const recognitionCode = signRecognitionCode(NODE_PRIV, CLIENT_PUB);
const recordBytes = encodeRecognitionRecord({ clientKey: CLIENT_PUB, code: recognitionCode });
const wrapperText = formatPluginWrapper(
  {
    clientPrivateKey: CLIENT_PRIV,
    nodeId: NODE_PUB,
    nodeSignature: recognitionCode,
    serverId: SERVER_PUB,
    server: { host: '127.0.0.1', port: 29735 },
    proxy: { host: '127.0.0.1', port: 9050 },
  },
  { command: ['/usr/bin/node', '/opt/cldcb/plugin.mjs'] },
);
/** (u16 len ‖ chunk)* framing, used to carry a list of chunks in one fuzz input. */
const frameChunks = (chunks: readonly Uint8Array[]): Uint8Array =>
  concatBytes(...chunks.map((c) => concatBytes(u16be(c.length), c)));
function unframeChunks(b: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let o = 0; o + 2 <= b.length && out.length < 64;) {
    const n = (b[o]! << 8) | b[o + 1]!;
    out.push(b.subarray(o + 2, Math.min(b.length, o + 2 + n)));
    o += 2 + n;
  }
  return out;
}

function noiseSeeds(): { act1: Uint8Array; act2: Uint8Array; act3: Uint8Array; frames: Uint8Array[] } {
  const i = new NoiseInitiator(CLIENT_PRIV, SERVER_PUB, { ephemeralKey: E_INIT, ...hs });
  const r = new NoiseResponder(SERVER_PRIV, { ephemeralKey: E_RESP, ...hs });
  const act1 = i.writeAct1();
  r.readAct1(act1);
  const act2 = r.writeAct2();
  i.readAct2(act2);
  const { act3, transport } = i.writeAct3();
  r.readAct3(act3);
  const frames = [requestIncremental(5), incrementalChunk(new Uint8Array(300).fill(7)), ping()].map((m) =>
    transport.encryptMessage(m),
  );
  return { act1, act2, act3, frames };
}
const NOISE = noiseSeeds();

const bytesOf = (x: Input): Uint8Array =>
  x instanceof Uint8Array ? x : typeof x === 'string' ? utf8(x) : utf8(JSON.stringify(x.json));
const textOf = (x: Input): string =>
  typeof x === 'string' ? x : x instanceof Uint8Array ? new TextDecoder().decode(x) : JSON.stringify(x.json);
const jsonOf = (x: Input): unknown => (typeof x === 'object' && !(x instanceof Uint8Array) ? x.json : x);

/**
 * Run every parser on the input: a non-CldcbError ends the run at once (the finding);
 * otherwise the first CldcbError is rethrown after all have run (so each parser sees every input).
 */
function allOf(...parsers: (() => unknown)[]): void {
  let first: unknown;
  for (const f of parsers) {
    try {
      f();
    } catch (e) {
      if (!(e instanceof Error && e.name === 'CldcbError')) throw e;
      first ??= e;
    }
  }
  if (first) throw first;
}

// ---------------------------------------------------------------------------------------------

const messageSeeds = (): Input[] => [
  requestIncremental(7),
  requestIncremental(7, { wantsReupload: true }),
  incrementalChunk(new Uint8Array(40).fill(3)),
  reuploadChunk(new Uint8Array(40).fill(4)),
  giveRecognitionCode(recognitionCode),
  requestBackupData(CLIENT_PUB),
  ...responseRecognitionCodes([recordBytes, recordBytes]),
  responseBackedupIncrementalNew(9),
  ping(),
  pong(),
  encodeMessage(MSG.setReadVerifier, [[0, new Uint8Array(32).fill(1)]]),
  encodeMessage(MSG.proveRead, [
    [0, CLIENT_PUB],
    [1, new Uint8Array(32).fill(2)],
  ]),
  encodeMessage(MSG.requestRecognitionCodes),
  encodeMessage(MSG.incrementalEnd),
];

export const TARGETS: Target[] = [
  {
    name: 'cldcb messages + TLVs (decodeMessage, extension 240/242)',
    kind: 'bytes',
    weight: 3,
    maxLen: 70_000,
    seeds: messageSeeds,
    run(x) {
      const b = bytesOf(x);
      decodeMessage(b);
      const raw = parseMessage(b);
      if (raw.id === MSG.setReadVerifier) decodeSetReadVerifier(raw);
      if (raw.id === MSG.proveRead) decodeProveRead(raw);
    },
  },
  {
    name: 'Noise act 1 (responder)',
    kind: 'bytes',
    weight: 1,
    maxLen: 80,
    seeds: () => [NOISE.act1],
    run(x) {
      const r = new NoiseResponder(SERVER_PRIV, { ephemeralKey: E_RESP, ...hs });
      try {
        r.readAct1(bytesOf(x));
        r.writeAct2();
      } finally {
        r.abort();
      }
    },
  },
  {
    name: 'Noise act 2 (initiator)',
    kind: 'bytes',
    weight: 1,
    maxLen: 80,
    seeds: () => [NOISE.act2],
    run(x) {
      const i = new NoiseInitiator(CLIENT_PRIV, SERVER_PUB, { ephemeralKey: E_INIT, ...hs });
      try {
        i.writeAct1();
        i.readAct2(bytesOf(x));
        i.writeAct3();
      } finally {
        i.abort();
      }
    },
  },
  {
    name: 'Noise act 3 (responder) and the first transport frames',
    kind: 'bytes',
    weight: 1,
    maxLen: 400,
    seeds: () => [concatBytes(NOISE.act3, ...NOISE.frames)],
    run(x) {
      const b = bytesOf(x);
      const r = new NoiseResponder(SERVER_PRIV, { ephemeralKey: E_RESP, ...hs });
      r.readAct1(NOISE.act1);
      r.writeAct2();
      const t = r.readAct3(b.subarray(0, 66));
      try {
        for (let o = 66; o + 18 <= b.length;) {
          const n = t.decryptHeader(b.subarray(o, o + 18));
          o += 18;
          if (o + n + 16 > b.length) break;
          decodeMessage(t.decryptBody(b.subarray(o, o + n + 16)));
          o += n + 16;
        }
      } finally {
        t.destroy();
      }
    },
  },
  {
    name: '.arch framing (readArchive, streaming ArchReader in views and report modes)',
    kind: 'bytes',
    weight: 2,
    maxLen: 40_000,
    seeds: () => [
      archiveSeed,
      encodeReuploadSection([new Uint8Array(10)]),
      concatBytes(encodeReuploadSection([new Uint8Array(3)]), encodeIncrement(1, [new Uint8Array(5)], 0)),
    ],
    run(x) {
      const b = bytesOf(x);
      allOf(
        () => readArchive(b),
        () => {
          const r = new ArchReader({ views: true, checkFooters: 'report' });
          const step = 1 + (b.length % 97);
          for (let o = 0; o < b.length; o += step) r.push(b.subarray(o, o + step));
          r.end(b.length);
        },
      );
    },
  },
  {
    name: 'archive decode (framing + sealed chunks + increment plaintexts, native crypto)',
    kind: 'bytes',
    weight: 0.5,
    maxLen: 40_000,
    seeds: () => [archiveSeed],
    run(x) {
      decodeArchive(bytesOf(x), NODE_PRIV, CLIENT_PUB, { crypto: box, tornTail: 'drop' });
    },
  },
  {
    name: 'sealed chunks (IncrementStreams: stream starts, continued messages, pieces)',
    kind: 'bytes',
    weight: 1,
    maxLen: 20_000,
    seeds: () => [
      frameChunks(sealedIncrements[0]!),
      frameChunks([...v1Sealed, ...sealedIncrements[1]!]),
      frameChunks(sealedReupload.slice(0, 3)),
    ],
    run(x) {
      const s = new IncrementStreams(NODE_PRIV, CLIENT_PUB, box);
      try {
        let index = 0;
        let chunkNo = 0;
        for (const c of unframeChunks(bytesOf(x))) {
          if (c.length > 0 && c[0] !== 1 && c[0] !== 2 && c[0] !== 3 && chunkNo > 0)
            s.open(index, chunkNo++, c, 'fuzz');
          else {
            s.open(++index, 0, c, 'fuzz');
            chunkNo = 1;
          }
        }
      } finally {
        s.dispose();
      }
    },
  },
  {
    name: 'increment plaintexts (whole, and IncrementReader in pieces; re-upload header)',
    kind: 'bytes',
    weight: 3,
    maxLen: 20_000,
    seeds: () => [
      encodeIncrementPlaintext(5, ['INSERT INTO t VALUES (1);', 'PRAGMA foreign_keys = OFF;']),
      v1Plain,
      encodeReuploadHeader(CLIENT_PRIV, 3),
    ],
    run(x) {
      const b = bytesOf(x);
      allOf(
        () => decodeIncrementPlaintext(b),
        () => decodeReuploadHeader(b),
        () => {
          const r = new IncrementReader(hashHex(), 'fuzz');
          const step = 1 + (b.length % 61);
          for (let o = 0; o < b.length; o += step) r.push(b.subarray(o, o + step));
          r.finish();
        },
      );
    },
  },
  {
    name: 'statements (data_version bump, PRAGMA and transaction classifiers)',
    kind: 'text',
    weight: 2,
    maxLen: 2000,
    dict: [
      'UPDATE',
      'vars',
      'SET',
      'intval',
      'WHERE',
      "name='data_version'",
      'AND',
      'PRAGMA',
      'foreign_keys',
      'BEGIN',
      'COMMIT',
      'ROLLBACK',
      'SAVEPOINT',
      '/*',
      '*/',
      '--',
      ';',
      'DEFERRABLE',
      'INITIALLY DEFERRED',
    ],
    seeds: () => [
      "UPDATE vars SET intval=7 WHERE name='data_version' AND intval = 6",
      'PRAGMA foreign_keys = OFF',
      'INSERT INTO t VALUES (1)',
      '/* c */ BEGIN TRANSACTION',
      'CREATE TABLE x (a INTEGER REFERENCES y(b) DEFERRABLE INITIALLY DEFERRED)',
    ],
    run(x) {
      const s = textOf(x);
      isDataVersionBump(s);
      bumpOldValue(s);
      isForeignKeysPragma(s);
      isPragma(s);
      statementWords(s);
      new StatementBytesFacts('fuzz').statement(utf8(s));
    },
  },
  {
    name: 'recognition records and recognition_codes lines',
    kind: 'text',
    weight: 1.5,
    maxLen: 4000,
    dict: ['02', '03', 'c2', ' ', '\n', ...HEX],
    seeds: () => [
      formatRecognitionCodesFile([
        { clientKey: CLIENT_PUB, code: recognitionCode },
        { clientKey: NODE_PUB, code: recognitionCode },
      ]),
    ],
    run(x) {
      const s = textOf(x);
      const b = bytesOf(x).subarray(0, 97);
      allOf(
        () => parseRecognitionCodesFile(s),
        () => decodeRecognitionRecord(b, false),
        () => decodeRecognitionRecord(b, true),
      );
    },
  },
  {
    name: 'recognition record bytes',
    kind: 'bytes',
    weight: 1,
    maxLen: 120,
    seeds: () => [recordBytes],
    run(x) {
      decodeRecognitionRecord(bytesOf(x), true);
    },
  },
  {
    name: 'clients files (server allow-list)',
    kind: 'text',
    weight: 0.5,
    maxLen: 4000,
    dict: ['c2', 'c3', 'C2', '02', ' ', '\n', '\t', ...HEX],
    seeds: () => [
      `${formatClientId(CLIENT_PUB)}\n${formatClientId(NODE_PUB).toUpperCase()}  ${formatClientId(SERVER_PUB)}\n`,
    ],
    run(x) {
      parseClientsFile(textOf(x));
    },
  },
  {
    name: 'server directory files from disk (clients, recognition_codes, read_verifiers loaders; recovery reader)',
    kind: 'text',
    weight: 0.05,
    maxLen: 8000,
    dict: ['c2', 'c3', '02', ' ', '\n', ...HEX],
    seeds: () => [
      `${formatClientId(CLIENT_PUB)} ${'ab'.repeat(32)}\n`,
      formatRecognitionCodesFile([{ clientKey: CLIENT_PUB, code: recognitionCode }]),
      `${formatClientId(CLIENT_PUB)}\n`,
    ],
    async run(x) {
      const dir = mkdtempSync(path.join(tmpdir(), 'cldcb-fuzz-'));
      try {
        const s = textOf(x);
        for (const f of ['clients', 'recognition_codes', 'read_verifiers'])
          writeFileSync(path.join(dir, f), s);
        readClientsFile(dir);
        await new RecognitionStore(dir).load();
        await new ReadVerifierStore(dir).load();
        readRecognitionCodesFile(path.join(dir, 'recognition_codes'));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  },
  {
    name: 'plugin wrapper files (parsePluginWrapper)',
    kind: 'text',
    weight: 1,
    maxLen: 6000,
    dict: [
      '# cid = ',
      '# cpk = ',
      '# nsig = ',
      '# sid = ',
      '# shost = ',
      '# proxy = ',
      '# quorum = ',
      '# deadline = ',
      '.2',
      '\n',
      '@',
      ':',
      '[::1]',
      "'",
      '"',
      '\\',
      '$',
      ...HEX,
    ],
    seeds: () => [wrapperText],
    run(x) {
      parsePluginWrapper(textOf(x));
    },
  },
  {
    name: 'opt and client key files, ids, host:port, server addresses',
    kind: 'text',
    weight: 2,
    maxLen: 600,
    dict: ['c2', '52', '53', '02', '@', ':', '[', ']', '::1', '.onion', '# ', '=', '\n', ...HEX],
    seeds: () => [
      formatClientKeyFile(CLIENT_PRIV),
      formatClientId(CLIENT_PUB),
      formatServerId(SERVER_PUB),
      formatNodeId(NODE_PUB),
      `${formatServerId(SERVER_PUB)}@[2001:db8::1]:29735`,
      `${formatServerId(SERVER_PUB)}@example.onion`,
      '# key = value\n# other=1\n',
      bytesToHex(CLIENT_PRIV),
    ],
    run(x) {
      const s = textOf(x);
      allOf(
        () => parseOptFile(s),
        () => parseClientKeyFile(s),
        () => parseClientId(s),
        () => parseServerId(s),
        () => parseNodeId(s),
        () => parsePrivateKeyHex(s, 'key'),
        () => parseHostPort(s, 29735, 'host'),
        () => parseServerAddress(s),
      );
    },
  },
  {
    name: 'hsm_secret files (every CLN format, text copies; no passphrase)',
    kind: 'bytes',
    weight: 0.5,
    maxLen: 2000,
    seeds: () => [
      file('test/fixtures/lightningd/single-node/hsm_secret'),
      file('test/fixtures/lightningd/channel-node/hsm_secret'),
      SECRET32,
      utf8(bytesToHex(SECRET32)),
      new Uint8Array(73),
      new Uint8Array(64),
    ],
    async run(x) {
      const b = bytesOf(x);
      let first: unknown;
      try {
        allOf(
          () => detectHsmSecretFormat(b),
          () => classifySecretFile(b),
        );
      } catch (e) {
        first = e;
      }
      await decodeSecretFileContent(b);
      if (first) throw first;
    },
  },
  {
    name: 'secret text (hex, BIP39 words, codex32; parseSecretText)',
    kind: 'text',
    weight: 0.3,
    maxLen: 1000,
    dict: ['abandon', 'zoo', 'about', 'cl1', 'ms1', ' ', '\n', ...HEX, ...BECH],
    seeds: () => [
      bytesToHex(SECRET32),
      'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about',
      encodeCodex32Secret('cl', 'test', 0, SECRET32),
      ...stringsIn('test/vectors/cln/known-answers.json', /^[a-z]+( [a-z]+){11,23}$/),
    ],
    async run(x) {
      await parseSecretText(textOf(x));
    },
  },
  {
    name: 'codex32 (decode, diagnose)',
    kind: 'text',
    weight: 2,
    maxLen: 400,
    dict: ['cl1', 'ms1', 'CL1', '1', ...BECH],
    seeds: () => [
      encodeCodex32Secret('cl', 'test', 0, SECRET32),
      ...stringsIn('test/vectors/bip93/vectors.json', /^(ms|MS|cl)1[a-zA-Z0-9]{20,}$/),
      ...stringsIn('test/vectors/cln/codex32-cl.json', /^cl1[a-z0-9]{20,}$/),
    ],
    run(x) {
      const s = textOf(x);
      diagnoseCodex32(s);
      decodeCodex32(s);
    },
  },
  {
    name: 'BIP39 words (validate, split, expand prefixes)',
    kind: 'text',
    weight: 0.5,
    maxLen: 600,
    dict: ['abandon', 'about', 'zoo', 'wrong', 'aban', 'zo', ' ', '\u3000', '\n', '\u00e9'],
    seeds: () => [
      'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about',
      'legal winner thank year wave sausage worth useful legal winner thank yellow',
      ...stringsIn('test/vectors/cln/known-answers.json', /^[a-z]+( [a-z]+){11,23}$/),
    ],
    run(x) {
      const s = textOf(x);
      for (const w of splitWords(s).slice(0, 30)) expandWord(w);
      validateMnemonic(s);
    },
  },
  {
    name: 'paper copies (typed hex copy, copy kind, node id text, compare with a node id)',
    kind: 'text',
    weight: 0.5,
    maxLen: 1500,
    dict: ['0x', ' ', '\n', '-', 'O', 'l', 'I', ...HEX, 'abandon', 'cl1'],
    seeds: () => [
      bytesToHex(SECRET32).replace(/(.{8})/g, '$1 '),
      'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about',
      formatNodeId(NODE_PUB),
    ],
    run(x) {
      const s = textOf(x);
      allOf(
        () => normaliseHexCopy(s),
        () => parseTypedHexCopy(s),
        () => detectCopyKind(s),
        () => parseNodeIdText(s),
        () => compareCopyWithNodeId(s, formatNodeId(NODE_PUB)),
      );
    },
  },
  {
    name: 'SCB: emergency.recover contents and text forms, modern scb_chan hex',
    kind: 'bytes',
    weight: 2,
    maxLen: 20_000,
    seeds: () => [
      file('test/fixtures/lightningd/single-node/emergency.recover'),
      file('test/fixtures/lightningd/channel-node/emergency.recover'),
      utf8(`{"filedata":"${bytesToHex(file('test/fixtures/lightningd/channel-node/emergency.recover'))}"}`),
    ],
    run(x) {
      const b = bytesOf(x);
      allOf(
        () => decodeStaticChanBackup(b),
        () => emergencyRecoverBytes(b),
        () => decodeModernScbChanHex(new TextDecoder().decode(b), 'scb'),
      );
    },
  },
  {
    name: 'SCB: emergency.recover decryption (secretstream)',
    kind: 'bytes',
    weight: 0.5,
    maxLen: 8000,
    seeds: () => [file('test/fixtures/lightningd/channel-node/emergency.recover')],
    async run(x) {
      await openEmergencyRecover(bytesOf(x), SECRET32);
    },
  },
  {
    name: 'runes (decode, inspect with the master secret, restrictions)',
    kind: 'text',
    weight: 2,
    maxLen: 2000,
    dict: ['method=', 'id^', 'rate=', '|', '&', '\\', 'pnum<', 'time>', '=', '-', '_', '/'],
    seeds: () => [
      encodeRune(mintRune(runeMasterSecret(SECRET32), 0, [])),
      ...stringsIn('test/vectors/cln-runes/ccan-test-vectors.json', /^[A-Za-z0-9_=-]{43,}$/),
      ...stringsIn('test/vectors/cln-runes/createrune-examples.json', /^[A-Za-z0-9_=-]{43,}$/),
      'method=getinfo|method=listpeers&rate=60',
    ],
    run(x) {
      const s = textOf(x);
      allOf(
        () => decodeRune(s),
        () => inspectRune(s, runeMasterSecret(SECRET32)),
        () => parseRestriction(s),
      );
    },
  },
  {
    name: 'macaroons (binary, hex/base64 text, LND identifiers, caveats, RFC 3339 times)',
    kind: 'bytes',
    weight: 2,
    maxLen: 4000,
    seeds: () => {
      const m = bakeLndMacaroon(SECRET32, ['info:read', 'offchain:write'], {
        nonce: new Uint8Array(16).fill(1),
      });
      return [
        encodeMacaroon(m),
        utf8(macaroonToText(m, 'hex')),
        utf8(macaroonToText(m, 'base64')),
        ...stringsIn('test/vectors/lnd/reference-macaroons.json', /^[A-Za-z0-9+/_=-]{40,}$/).map(utf8),
        utf8('time-before 2030-01-01T00:00:00Z'),
        utf8('ipaddr 192.168.1.1'),
      ];
    },
    run(x) {
      const b = bytesOf(x);
      const s = new TextDecoder().decode(b);
      allOf(
        () => decodeMacaroon(b),
        () => inspectMacaroon(s, SECRET32),
        () => parseLndIdentifier(b),
        () => checkLndCaveat(s),
        () => parseGoRfc3339(s),
      );
    },
  },
  {
    name: 'IP addresses, CIDR ranges, wire addresses',
    kind: 'text',
    weight: 2,
    maxLen: 200,
    dict: ['.', ':', '::', '/', '%', '[', ']', '255', '0', 'ffff', '.onion', ':9735', ...HEX],
    seeds: () => [
      '192.168.1.1',
      '10.0.0.0/8',
      '2001:db8::1',
      '::ffff:1.2.3.4',
      'fe80::1%eth0',
      '[2001:db8::1]:9735',
      'abcdefghijklmnopabcdefghijklmnopabcdefghijklmnopabcdefgh.onion:9735',
    ],
    run(x) {
      const s = textOf(x);
      parseIp(s);
      parseCidr(s);
      parseWireAddrText(s);
    },
  },
  {
    name: "lightningd's stdin (the plugin's JSON stream splitter)",
    kind: 'text',
    weight: 2,
    maxLen: 6000,
    dict: [
      '{',
      '}',
      '[',
      ']',
      '"',
      '\\',
      '\\"',
      ',',
      ':',
      '\n\n',
      'null',
      '"jsonrpc":"2.0"',
      '"method":"db_write"',
    ],
    seeds: () => [
      '{"jsonrpc":"2.0","id":"cln:db_write#1","method":"db_write","params":{"data_version":5,"writes":["INSERT INTO t VALUES (\\"}\\");"]}}\n\n{"jsonrpc":"2.0","id":2,"method":"getmanifest","params":{}}\n\n',
    ],
    run(x) {
      const s = textOf(x);
      const j = new JsonObjectStream();
      const step = 1 + (s.length % 37);
      for (let o = 0; o < s.length; o += step) j.push(s.slice(o, o + step));
    },
    // Documented: "@throws SyntaxError for text that is not JSON (the caller decides what to do)".
    allowed: (e) => e instanceof SyntaxError,
  },
  {
    name: "IPC contract inputs (every channel's zod schema)",
    kind: 'json',
    weight: 0.5,
    maxLen: 0,
    dict: Object.keys(contract),
    seeds: () => [
      { json: {} },
      { json: { copy: 'abc', nodeId: formatNodeId(NODE_PUB) } },
      { json: { offset: 0, limit: 10 } },
      { json: { jobId: 'job-1' } },
      { json: { kind: 'rune', text: 'x' } },
      { json: { fileName: 'hsm_secret', bytesB64: 'AAAA' } },
    ],
    run(x) {
      const v = jsonOf(x);
      for (const c of Object.values(contract)) c.input.safeParse(v);
    },
  },
  {
    name: 'JSON inputs of the CLI (staticbackup, createrune restrictions, RPC outputs for the SCB walkthrough)',
    kind: 'json',
    weight: 0.5,
    maxLen: 0,
    dict: [
      'scb',
      'channels',
      'outputs',
      'closedchannels',
      'state',
      'short_channel_id',
      'peer_id',
      'funding_txid',
      'status',
      'blockheight',
    ],
    seeds: () =>
      [
        'test/fixtures/lightningd/channel-node/staticbackup.json',
        'test/fixtures/lightningd/channel-node/listpeerchannels.json',
        'test/fixtures/lightningd/channel-node/listfunds.json',
        'test/fixtures/lightningd/channel-node/getinfo.json',
      ]
        .map((p) => {
          try {
            return { json: JSON.parse(text(p)) as unknown };
          } catch {
            return { json: {} };
          }
        })
        .concat([{ json: [['method=getinfo'], ['rate=60']] }]),
    run(x) {
      const v = jsonOf(x);
      const str = JSON.stringify(v) ?? 'null';
      allOf(
        () => parseStaticBackup(v),
        () => parseStaticBackup(str),
        () => restrictionsFromCreateruneJson(v),
        () =>
          trackRecovery([], { listpeerchannels: str, listfunds: str, listclosedchannels: str, getinfo: str }),
      );
    },
  },
];

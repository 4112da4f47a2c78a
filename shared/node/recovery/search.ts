/**
 * Finding a node's backups (docs/shared design "Recovery, as data flows" §2–3), one step per
 * function, in the order `searchEntries` runs them:
 *
 *   openSources        read each server directory / archive, or list a server (online)
 *   recognizeAll       check every recognition record against the node key (worker threads)
 *   addCodeCandidates  a candidate for every record that is ours
 *   probeArchives      open archives without a usable code with the node key (sources.ts probeArchive)
 *   downloadOnline     fetch the online candidates' archives into a scratch directory
 *   analyzeCandidates  unseal and verify each candidate (no database written)
 *   searchResult       what the UI and recover() get back
 *
 * One `SearchRun` carries the state between the steps. Failures of one source are recorded in
 * its SourceResult and do not stop the others.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { CldcbError } from '../../errors';
import { bytesToHex, hexToBytes, zeroize } from '../../bytes';
import { isValidPrivateKey } from '../../cldcb/curve';
import { DEFAULT_SERVER_PORT, formatClientId, parseHostPort } from '../../cldcb/ids';
import { RECOGNITION_RECORD_SIZE } from '../../cldcb/messages';
import { CldcbClient } from '../cldcbClient';
import { coreCount, runJobParallel } from '../workerPool';
import type { RecoveryWarning } from './chain';
import type { RebuildInput, RebuildOutput } from './rebuild';
import { STATUS, type RecognizeNote, type RecognizeSliceOutput } from './recognize';
import { ArchFileWriter, clientKeyFromArchiveName, parseServerAddress, probeArchive, readRecognitionCodesFile, readServerDir, recordSetFrom, type RecordSet, type ServerLogRecord } from './sources';
import { cancelled, checkAbort, errData, runTask } from './tasks';
import { regularFileProblem } from './untrustedFiles';
import { findForks } from './freshness';
import type { Candidate, ProgressOptions, RecoveryEvent, RecoverySource, SearchInput, SearchResult, SourceResult } from './types';

/** 'auto' probing opens every unmatched archive up to this many archives in a directory. */
export const PROBE_ALL_LIMIT = 5000;

interface SourceState {
  readonly index: number;
  readonly label: string;
  readonly source: RecoverySource;
  codes: RecordSet;
  archives: Map<string, string>;
  serverId?: string;
  serverHost?: string;
  serverPort?: number;
  /** The server's log records by client id (server directories of our server). */
  logRecords?: Map<string, ServerLogRecord>;
  speaksV1?: boolean;
  client?: CldcbClient;
  serverKey?: Uint8Array;
  hostPort?: string;
  /** The SOCKS5 proxy the server is reached through (online sources). */
  proxy?: { host: string; port: number };
  error?: { code: string; message: string };
  /** Offset of this source's records in the combined array. */
  first: number;
  statuses: Uint8Array;
  /** Read tokens of our records by local index. */
  tokens: Map<number, Uint8Array>;
}

/** A candidate while the search runs: which source serves it, its client key, what it holds. */
type Found = Candidate & { online: boolean; clientKey: Uint8Array; contents?: RebuildOutput['contents'] };

interface SearchRun {
  readonly input: SearchInput;
  readonly emit: (e: RecoveryEvent) => void;
  readonly signal: AbortSignal | undefined;
  readonly states: SourceState[];
  readonly candidates: Found[];
  readonly warnings: RecoveryWarning[];
  readonly timings: { step: string; ms: number }[];
  /** Scratch directories (online downloads) kept for the rebuild; removed by disposeSearch. */
  readonly scratch: string[];
}

const EMPTY_RECORDS: RecordSet = { records: new Uint8Array(0), count: 0, malformed: [], malformedCount: 0 };

export function sourceLabel(s: RecoverySource): string {
  if (s.label) return s.label;
  if (s.kind === 'serverDir') return s.dir;
  if (s.kind === 'archive') return s.archive;
  return s.address.includes('@') ? s.address.slice(s.address.indexOf('@') + 1) : s.address;
}

const offlineError = (label: string): CldcbError =>
  new CldcbError('offline', `${label}: contacting a server needs online mode (the --server flag, or the app's "online mode for this action" switch).`);

/**
 * Find our entries in every source: read/list them, check every recognition code (worker
 * threads, one per core), open archives that have no usable code, download (online) and
 * analyse each match (unseal and verify everything, no database written).
 * @throws CldcbError bad_input, offline (a server source without online mode), cancelled.
 *   Failures of one source are recorded in its SourceResult and do not stop the others.
 */
export async function searchEntries(input: SearchInput, opts: ProgressOptions = {}, internal: { analyzeSingle?: boolean } = {}): Promise<SearchResult> {
  if (!isValidPrivateKey(input.nodePrivateKey)) throw new CldcbError('bad_input', 'The node private key is not a valid secp256k1 key.');
  if (input.sources.length === 0) throw new CldcbError('bad_input', 'No source given: name a server directory copy, an archive, or (online) a server.');
  for (const s of input.sources) if (s.kind === 'server' && !input.online) throw offlineError(sourceLabel(s));
  const run: SearchRun = {
    input,
    emit: (e) => opts.onEvent?.(e),
    signal: opts.signal,
    states: input.sources.map((source, index) => ({ index, label: sourceLabel(source), source, codes: EMPTY_RECORDS, archives: new Map(), first: 0, statuses: new Uint8Array(0), tokens: new Map() })),
    candidates: [],
    warnings: [],
    timings: [],
    scratch: [],
  };
  try {
    await timed(run, 'entries', () => openSources(run));
    await timed(run, 'recognition', () => recognizeAll(run));
    addCodeCandidates(run);
    await timed(run, 'probe', () => probeArchives(run));
    if (run.candidates.some((c) => c.online)) await timed(run, 'download', () => downloadOnline(run));
    closeClients(run);
    for (const c of run.candidates) {
      // A directory, FIFO or device named <cid>.arch: said as such, never opened (a FIFO would block; issue 14 #6, #9).
      const problem = c.archivePath && !c.error ? regularFileProblem(c.archivePath) : undefined;
      if (problem) Object.assign(c, { error: { code: 'bad_input', message: `${problem}, so it cannot be read as ${c.clientId}'s archive.` } });
    }
    for (const c of run.candidates)
      if (!c.archivePath && !c.error)
        Object.assign(c, { error: { code: 'not_found', message: `${c.clientId}'s recognition code is in ${c.sourceLabel}, but its archive (${c.clientId}.arch) is not there.` } });
    const toAnalyze = run.candidates.filter((c) => c.archivePath && !c.error);
    if (toAnalyze.length > 1 || internal.analyzeSingle !== false) await timed(run, 'analysis', () => analyzeCandidates(run, toAnalyze));
    return searchResult(run);
  } catch (e) {
    closeClients(run);
    for (const d of run.scratch) rmSync(d, { recursive: true, force: true });
    // One sentence for every cancel, whichever step saw it first.
    throw e instanceof CldcbError && e.code === 'cancelled' ? cancelled() : e;
  }
}

/** Run one step between its `step` started/done events, and time it. */
async function timed(run: SearchRun, step: 'entries' | 'recognition' | 'probe' | 'download' | 'analysis', fn: () => Promise<void> | void): Promise<void> {
  run.emit({ type: 'step', step, state: 'started' });
  const t0 = performance.now();
  await fn();
  const ms = performance.now() - t0;
  run.timings.push({ step, ms });
  run.emit({ type: 'step', step, state: 'done', ms });
}

function closeClients(run: SearchRun): void {
  for (const s of run.states) s.client?.close();
}

function randomClientKey(): Uint8Array {
  for (;;) {
    const k = new Uint8Array(randomBytes(32));
    if (isValidPrivateKey(k)) return k;
  }
}

/** Connect to a server with a throw-away client key (a recovering client needs no identity). */
async function connectAnonymously(host: string, port: number, serverKey: Uint8Array, proxy?: { host: string; port: number }): Promise<CldcbClient> {
  const clientPrivateKey = randomClientKey();
  try {
    return await CldcbClient.connect({ host, port, serverKey, clientPrivateKey, ...(proxy ? { proxy } : {}) });
  } finally {
    zeroize(clientPrivateKey);
  }
}

// ---------------------------------------------------------------------------------------------
// 1. Entries

async function openSources(run: SearchRun): Promise<void> {
  for (const s of run.states) {
    checkAbort(run.signal);
    try {
      await openSource(run, s);
    } catch (e) {
      if (e instanceof CldcbError && (e.code === 'offline' || e.code === 'cancelled')) throw e;
      s.error = errData(e);
      run.emit({ type: 'source', source: s.index, label: s.label, state: 'failed', message: s.error.message });
      run.warnings.push({ kind: 'source_failed', severity: 'warning', message: `${s.label}: ${s.error.message}` });
    }
  }
}

async function openSource(run: SearchRun, s: SourceState): Promise<void> {
  const src = s.source;
  run.emit({ type: 'source', source: s.index, label: s.label, state: 'reading' });
  if (src.kind === 'serverDir') {
    const l = readServerDir(src.dir);
    s.codes = l.codes;
    s.archives = l.archives;
    if (l.serverId) s.serverId = l.serverId;
    if (l.port) s.serverPort = l.port;
    if (l.logRecords) s.logRecords = l.logRecords;
    if (src.serverHost) s.serverHost = src.serverHost;
    for (const n of l.notes) run.warnings.push({ kind: 'source_failed', severity: 'info', message: `${s.label}: ${n}` });
  } else if (src.kind === 'archive') {
    if (!existsSync(src.archive)) throw new CldcbError('file_not_found', `${src.archive}: no such archive file.`);
    const problem = regularFileProblem(src.archive);
    if (problem) throw new CldcbError('bad_input', `${problem}: give the <client id>.arch file itself.`);
    s.codes = src.recognitionCodes ? readRecognitionCodesFile(src.recognitionCodes) : EMPTY_RECORDS;
    const key = clientKeyFromArchiveName(src.archive);
    s.archives = new Map([[key ? bytesToHex(key) : '?', src.archive]]);
    if (src.serverId) s.serverId = src.serverId;
    if (src.serverHost) s.serverHost = src.serverHost;
  } else {
    if (!run.input.online) throw offlineError(s.label);
    const a = parseServerAddress(src.address);
    const hp = parseHostPort(a.hostPort, DEFAULT_SERVER_PORT, 'server address');
    const proxy = src.proxy ? parseHostPort(src.proxy, 9050, 'proxy') : undefined;
    if (proxy) s.proxy = proxy;
    s.client = await connectAnonymously(hp.host, hp.port, a.serverKey, proxy);
    s.serverKey = a.serverKey;
    s.serverId = a.serverId;
    s.hostPort = a.hostPort.includes(':') || a.hostPort.startsWith('[') ? a.hostPort : `${a.hostPort}:${DEFAULT_SERVER_PORT}`;
    s.serverHost = s.hostPort;
    s.speaksV1 = s.client.supportsExtension;
    run.emit({ type: 'source', source: s.index, label: s.label, state: 'connected', speaksV1: s.speaksV1 });
    s.codes = recordSetFrom(await s.client.listRecognitionCodes());
    s.archives = new Map();
  }
  s.statuses = new Uint8Array(s.codes.count);
  run.emit({ type: 'source', source: s.index, label: s.label, state: 'listed', records: s.codes.count, archives: s.archives.size, ...(s.speaksV1 !== undefined ? { speaksV1: s.speaksV1 } : {}) });
}

// ---------------------------------------------------------------------------------------------
// 2. Recognition: all sources' records in one parallel run

function recordClientId(records: Uint8Array, i: number): string | null {
  const k = records.subarray(i * RECOGNITION_RECORD_SIZE, i * RECOGNITION_RECORD_SIZE + 33);
  if (k[0] !== 2 && k[0] !== 3) return null;
  return 'c' + bytesToHex(k).slice(1);
}

/** The source holding global record index `g`. */
function locate(run: SearchRun, g: number): SourceState {
  return run.states.find((s) => g >= s.first && g < s.first + s.codes.count)!;
}

/** The `entry` event of one record. */
function entryEvent(s: SourceState, i: number, status: 'ours' | 'invalid', records: Uint8Array, g = i): RecoveryEvent {
  return { type: 'entry', source: s.index, clientId: recordClientId(records, g), status, via: 'code', index: i, ...(s.codes.lines ? { line: s.codes.lines[i]! } : {}) };
}

async function recognizeAll(run: SearchRun): Promise<void> {
  const { states } = run;
  let total = 0;
  for (const s of states) {
    s.first = total;
    total += s.codes.count;
  }
  const all = new Uint8Array(total * RECOGNITION_RECORD_SIZE);
  for (const s of states) all.set(s.codes.records, s.first * RECOGNITION_RECORD_SIZE);
  const outputs = total === 0 ? [] : await recognizeSlices(run, all, total);
  applyStatuses(run, outputs, total);
}

/** Split the records over the threads, run them, and turn their notes into events. */
async function recognizeSlices(run: SearchRun, all: Uint8Array, total: number): Promise<RecognizeSliceOutput[]> {
  const { input, signal } = run;
  const t0 = performance.now();
  const threads = input.inline ? 1 : Math.max(1, Math.min(input.threads ?? coreCount(), Math.ceil(total / 4096)));
  const per = Math.ceil(total / threads);
  const slices = [];
  for (let i = 0; i < threads; i++) {
    const a = i * per;
    const b = Math.min(total, a + per);
    if (a >= b) break;
    slices.push({ nodePriv: new Uint8Array(input.nodePrivateKey), records: all.subarray(a * RECOGNITION_RECORD_SIZE, b * RECOGNITION_RECORD_SIZE), first: a });
  }
  const notes = new Map<number, RecognizeNote>();
  const announced = new Set<number>();
  let lastEmit = 0;
  const onProgress = (_d: number, _t: number, note?: string): void => {
    if (!note) return;
    const n = JSON.parse(note) as RecognizeNote;
    notes.set(n.first, n);
    let checked = 0;
    let ours = 0;
    let notOurs = 0;
    let invalid = 0;
    for (const x of notes.values()) {
      checked += x.checked;
      ours += x.ours.length;
      notOurs += x.notOurs;
      invalid += x.invalid;
      for (const g of x.ours)
        if (!announced.has(g)) {
          announced.add(g);
          const s = locate(run, g);
          run.emit(entryEvent(s, g - s.first, 'ours', all, g));
        }
    }
    const now = performance.now();
    if (now - lastEmit > 100 || checked === total) {
      lastEmit = now;
      run.emit({ type: 'recognition', checked, total, ours, notOurs, invalid, perSecond: checked / Math.max(0.001, (now - t0) / 1000) });
    }
  };
  try {
    if (input.inline) return [await runTask<RecognizeSliceOutput>('recovery.recognize', slices[0], true, onProgress, signal)];
    return await runJobParallel<RecognizeSliceOutput>('recovery.recognize', slices, { onProgress, ...(signal ? { signal } : {}) });
  } finally {
    for (const sl of slices) zeroize(sl.nodePriv);
  }
}

/** Statuses and read tokens back to their sources; the first 100 invalid records announced. */
function applyStatuses(run: SearchRun, outputs: RecognizeSliceOutput[], total: number): void {
  let offset = 0;
  const combined = new Uint8Array(total);
  for (const o of outputs) {
    combined.set(o.statuses, offset);
    offset += o.statuses.length;
    for (const m of o.matches) {
      const s = locate(run, m.index);
      s.tokens.set(m.index - s.first, m.readToken);
    }
  }
  let invalidAnnounced = 0;
  for (const s of run.states) {
    s.statuses = combined.slice(s.first, s.first + s.codes.count);
    for (let i = 0; i < s.statuses.length && invalidAnnounced < 100; i++)
      if (s.statuses[i] === STATUS.invalid) {
        invalidAnnounced++;
        run.emit(entryEvent(s, i, 'invalid', s.codes.records));
      }
  }
}

// ---------------------------------------------------------------------------------------------
// 3. Candidates from codes, then probes of archives

function addCandidate(run: SearchRun, s: SourceState, clientKey: Uint8Array, via: 'code' | 'archive', archivePath: string | undefined, token?: Uint8Array): Found | undefined {
  const clientId = formatClientId(clientKey);
  if (run.candidates.some((c) => c.source === s.index && c.clientId === clientId)) return undefined;
  const record = s.logRecords?.get(clientId);
  const c: Found = {
    clientId,
    clientKey,
    source: s.index,
    sourceLabel: s.label,
    via,
    online: s.source.kind === 'server',
    warnings: [],
    ...(record ? { serverRecord: record } : {}),
    ...(archivePath ? { archivePath } : {}),
    ...(token ? { readToken: bytesToHex(token) } : {}),
  };
  run.candidates.push(c);
  return c;
}

function addCodeCandidates(run: SearchRun): void {
  for (const s of run.states)
    for (let i = 0; i < s.codes.count; i++)
      if (s.statuses[i] === STATUS.ours) {
        const key = s.codes.records.slice(i * RECOGNITION_RECORD_SIZE, i * RECOGNITION_RECORD_SIZE + 33);
        addCandidate(run, s, key, 'code', s.archives.get(bytesToHex(key)), s.tokens.get(i));
      }
}

async function probeArchives(run: SearchRun): Promise<void> {
  const mode = run.input.probe ?? 'auto';
  for (const s of run.states) {
    if (s.source.kind === 'server' || s.error || mode === 'none') continue;
    await probeSource(run, s, mode);
    if (s.source.kind === 'archive' && !run.candidates.some((c) => c.source === s.index)) {
      const archive = s.source.archive;
      const r = probeArchive(archive, run.input.nodePrivateKey, clientKeyFromArchiveName(archive));
      s.error = { code: 'not_found', message: `${archive} is not a backup of this node: ${r.reason ?? 'it does not open with our node key'}.` };
      run.warnings.push({ kind: 'source_failed', severity: 'warning', message: s.error.message });
    }
  }
}

/** Each record's status by client key (ours wins over a second, other record of the same key). */
function statusByClientKey(s: SourceState): Map<string, number> {
  const codeStatus = new Map<string, number>();
  for (let i = 0; i < s.codes.count; i++) {
    const hex = bytesToHex(s.codes.records.subarray(i * RECOGNITION_RECORD_SIZE, i * RECOGNITION_RECORD_SIZE + 33));
    if (codeStatus.get(hex) !== STATUS.ours) codeStatus.set(hex, s.statuses[i]!);
  }
  return codeStatus;
}

/** Open this source's archives that have no usable code (or all of them: PROBE_ALL_LIMIT). */
async function probeSource(run: SearchRun, s: SourceState, mode: 'auto' | 'missing' | 'all'): Promise<void> {
  const codeStatus = statusByClientKey(s);
  const matchedHere = run.candidates.some((c) => c.source === s.index);
  const probeAll = mode === 'all' || (mode === 'auto' && (s.archives.size <= PROBE_ALL_LIMIT || !matchedHere));
  let n = 0;
  for (const [hex, file] of s.archives) {
    const st = codeStatus.get(hex);
    if (st === STATUS.ours) continue;
    const missing = st === undefined || st === STATUS.invalid;
    if (!missing && !probeAll) continue;
    if (++n % 64 === 0) {
      checkAbort(run.signal);
      await new Promise((r) => setImmediate(r));
    }
    probeOne(run, s, hex, file, st);
  }
}

function probeOne(run: SearchRun, s: SourceState, hex: string, file: string, st: number | undefined): void {
  const key = hex === '?' ? undefined : hexToBytes(hex, 'client key', 33);
  const r = probeArchive(file, run.input.nodePrivateKey, key);
  if (r.misfiled && key) {
    const c = addCandidate(run, s, key, 'archive', file);
    if (c)
      Object.assign(c, {
        error: {
          code: 'not_authentic',
          message: `${path.basename(file)} is sealed to this node but holds the backup of ${formatClientId(r.misfiled)}, not of ${formatClientId(key)}: archives were swapped or renamed. Refusing to guess; restore the server's original files.`,
        },
      });
    run.emit({ type: 'entry', source: s.index, clientId: formatClientId(key), status: 'invalid', via: 'archive' });
    return;
  }
  if (!r.ours) return;
  const clientId = formatClientId(r.clientKey!);
  run.emit({ type: 'entry', source: s.index, clientId, status: 'ours', via: 'archive' });
  const c = addCandidate(run, s, r.clientKey!, 'archive', file);
  if (!c || (s.source.kind === 'archive' && st === undefined && s.codes.count === 0)) return;
  c.warnings.push(
    st === undefined
      ? {
          kind: 'found_by_archive',
          severity: 'info',
          message: `${clientId} has no recognition code in ${s.label} (the original server loses codes at restart, its bug 2); it was recognised by opening its archive with the node key (signature by the client id, sealed to our node key).`,
        }
      : {
          kind: 'code_not_ours',
          severity: 'warning',
          message: `${clientId}'s recognition code in ${s.label} is ${st === STATUS.invalid ? 'malformed' : 'not valid for our node'}, but its archive is ours: the recognition_codes file was altered or damaged.`,
        },
  );
}

// ---------------------------------------------------------------------------------------------
// 4. Downloads (online)

async function downloadOnline(run: SearchRun): Promise<void> {
  const dir = mkdtempSync(path.join(run.input.scratchDir ?? os.tmpdir(), '.cldcb-download-'));
  run.scratch.push(dir);
  for (const c of run.candidates.filter((x) => x.online)) {
    checkAbort(run.signal);
    try {
      Object.assign(c, { archivePath: await downloadOne(run, c, dir) });
    } catch (e) {
      if (e instanceof CldcbError && e.code === 'cancelled') throw e;
      Object.assign(c, { error: errData(e) });
    }
  }
}

/** Download one candidate's archive as `<dir>/<cid>.arch` (reconnecting if needed, with the read proof). */
async function downloadOne(run: SearchRun, c: Found, dir: string): Promise<string> {
  const s = run.states[c.source]!;
  if (!s.client || s.client.closed) {
    // Through the same proxy as the listing: a .onion server must never be dialled directly.
    const hp = parseHostPort(s.hostPort!, DEFAULT_SERVER_PORT, 'server address');
    s.client = await connectAnonymously(hp.host, hp.port, s.serverKey!, s.proxy);
  }
  if (s.client.supportsExtension && c.readToken) await s.client.proveRead(c.clientKey, hexToBytes(c.readToken, 'read token', 32));
  const file = path.join(dir, `${c.clientId}.arch`);
  const w = new ArchFileWriter(file);
  const progress = (): void => run.emit({ type: 'download', source: s.index, clientId: c.clientId, messages: w.messages, bytes: w.bytes });
  let lastEmit = 0;
  try {
    await s.client.downloadBackup(c.clientKey, {
      onEvent: (e) => {
        w.event(e);
        const now = performance.now();
        if (now - lastEmit > 100) {
          lastEmit = now;
          progress();
        }
      },
    });
  } finally {
    w.close();
  }
  progress();
  return file;
}

// ---------------------------------------------------------------------------------------------
// 5. Analysis (unseal and verify each candidate, no database)

async function analyzeCandidates(run: SearchRun, toAnalyze: Found[]): Promise<void> {
  for (const c of toAnalyze) {
    checkAbort(run.signal);
    try {
      const out = await runTask<RebuildOutput>(
        'recovery.analyze',
        { archivePath: c.archivePath!, nodePriv: new Uint8Array(run.input.nodePrivateKey), clientKey: c.clientKey, analyzeOnly: true } satisfies RebuildInput,
        Boolean(run.input.inline),
        (d, t) => run.emit({ type: 'analysis', clientId: c.clientId, source: c.source, bytes: d, total: t }),
        run.signal,
      );
      applyAnalysis(c, out);
    } catch (e) {
      if (e instanceof CldcbError && e.code === 'cancelled') throw e;
      Object.assign(c, { error: errData(e) });
    }
  }
}

/** What a scan and plan learnt about a candidate: its data_version, time, chain, warnings, refusal. */
export function applyAnalysis(c: Candidate & { online: boolean; contents?: RebuildOutput['contents'] }, out: RebuildOutput): void {
  const plan = out.plan;
  if (out.contents) c.contents = out.contents;
  const time = plan.lastTime !== undefined ? { time: plan.lastTime, timeBasis: 'v1' as const } : c.online ? {} : { time: Math.floor(out.archive.mtimeMs / 1000), timeBasis: 'mtime' as const };
  Object.assign(c, {
    dataVersion: plan.finalDataVersion,
    reuploadDataVersion: out.snapshot.reuploadDataVersion,
    increments: plan.replay.length,
    incrementsStored: out.incrementsStored,
    chain: plan.chain,
    ...(plan.servers ? { policy: plan.servers } : {}),
    ...time,
    warnings: [...c.warnings, ...out.warnings],
    ...(plan.fatal ? { error: { code: plan.fatal.code, message: plan.fatal.message } } : {}),
  });
}

// ---------------------------------------------------------------------------------------------
// 6. The result

function searchResult(run: SearchRun): SearchResult {
  const { candidates, warnings } = run;
  compareSources(candidates, warnings);
  const freshest = pickFreshest(candidates);
  for (const c of candidates) run.emit({ type: 'candidate', candidate: publicCandidate(c) });
  for (const w of warnings) run.emit({ type: 'warning', warning: w });
  const sources: SourceResult[] = run.states.map((s) => ({
    label: s.label,
    kind: s.source.kind,
    records: s.codes.count,
    malformedLines: s.codes.malformedCount,
    archives: s.archives.size,
    statuses: s.statuses,
    clientIds: s.codes.count <= 100_000 ? Array.from({ length: s.codes.count }, (_, i) => recordClientId(s.codes.records, i) ?? '(invalid)') : [],
    ...(s.speaksV1 !== undefined ? { speaksV1: s.speaksV1 } : {}),
    ...(s.serverId ? { serverId: s.serverId } : {}),
    ...(s.serverHost ? { serverHost: s.serverHost } : {}),
    ...(s.serverPort ? { serverPort: s.serverPort } : {}),
    ...(s.error ? { error: s.error } : {}),
  }));
  const forks = findForks(candidates.map((c) => ({ source: c.source, clientId: c.clientId, ...(c.dataVersion !== undefined ? { dataVersion: c.dataVersion } : {}), ...(c.time !== undefined ? { time: c.time } : {}), ...(c.error ? { error: c.error.message } : {}), ...(c.contents ? { contents: c.contents } : {}) })));
  return { sources, candidates: candidates.map(publicCandidate), freshest, warnings, timings: run.timings, ...(forks.length > 0 ? { forks } : {}), scratch: run.scratch };
}

/** A candidate without the search's internals (client key, online flag). */
export function publicCandidate(c: Candidate & { online?: boolean; clientKey?: Uint8Array; contents?: unknown }): Candidate {
  const { online: _o, clientKey: _k, contents: _c, ...rest } = c;
  return rest;
}

/** The same client served by several sources: flag those that served less. */
function compareSources(candidates: Candidate[], warnings: RecoveryWarning[]): void {
  const byClient = new Map<string, Candidate[]>();
  for (const c of candidates) byClient.set(c.clientId, [...(byClient.get(c.clientId) ?? []), c]);
  for (const [cid, list] of byClient) {
    const good = list.filter((c) => c.dataVersion !== undefined);
    if (good.length < 2) continue;
    const max = Math.max(...good.map((c) => c.dataVersion!));
    const best = good.find((c) => c.dataVersion === max)!;
    for (const c of good)
      if (c.dataVersion! < max) {
        const w: RecoveryWarning = {
          kind: 'source_served_less',
          severity: 'warning',
          message: `${c.sourceLabel} served ${cid} only up to data_version ${c.dataVersion}, while ${best.sourceLabel} has ${max}: that server lost or withheld ${max - c.dataVersion!} version(s) of writes.`,
        };
        c.warnings.push(w);
        warnings.push(w);
      }
  }
}

/** Highest data_version; usable before broken at the same height; then later time, more increments. */
function pickFreshest(candidates: Candidate[]): number {
  let best = -1;
  const score = (c: Candidate): [number, number, number, number] => [c.dataVersion ?? -1, c.error ? 0 : 1, c.time ?? 0, c.increments ?? 0];
  candidates.forEach((c, i) => {
    if (c.dataVersion === undefined && !c.error && !c.archivePath) return;
    if (best < 0) {
      best = i;
      return;
    }
    const a = score(c);
    const b = score(candidates[best]!);
    for (let k = 0; k < 4; k++) {
      if (a[k]! > b[k]!) {
        best = i;
        return;
      }
      if (a[k]! < b[k]!) return;
    }
  });
  return best;
}

/** Remove the downloads a search kept. */
export function disposeSearch(s: SearchResult): void {
  for (const d of s.scratch) rmSync(d, { recursive: true, force: true });
}

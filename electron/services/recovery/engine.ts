/**
 * The recovery engine (docs/shared design "Recovery, as data flows" §2–5): entries → our
 * entry → unseal and verify → rebuild → verdict. Pure data in, data out; progress as
 * events; cancel with an AbortSignal. The heavy steps run in worker threads
 * (electron/worker/jobs.ts: recovery.recognize, recovery.analyze, recovery.rebuild).
 *
 *   searchEntries(input, { onEvent, signal }) → SearchResult   (entries, statuses, candidates)
 *   recover(input, { onEvent, signal })       → RecoveryVerdict (database + wrapper written)
 *   disposeSearch(result)                      removes online downloads kept by a search
 *
 * Online sources are contacted only with `online: true` (CldcbError 'offline' otherwise).
 */
import { WRAPPER_NAME } from '../installCeremony';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { CldcbError, toErrorData } from '../../../shared/errors';
import { bytesToHex, hexToBytes, zeroize } from '../../../shared/bytes';
import { isValidPrivateKey } from '../../../shared/cldcb/curve';
import { DEFAULT_SERVER_PORT, formatClientId, formatNodeId, formatPluginWrapper, parseClientId, parseHostPort, parseServerId } from '../../../shared/cldcb/ids';
import { RECOGNITION_RECORD_SIZE } from '../../../shared/cldcb/messages';
import { signRecognitionCode } from '../../../shared/cldcb/recognition';
import { writeFileAtomic } from '../atomicFile';
import { CldcbClient } from '../cldcbClient';
import { makeNativeSecp } from '../nativeSeal';
import { coreCount, runJob, runJobParallel } from '../workerPool';
import { pipelineAvailable, startFeeder } from './pipeline';
import type { TransferListItem } from 'node:worker_threads';
import type { RecoveryWarning } from './chain';
import { deriveStreamKeysJob, mergeKeys, type KeysInput, type KeysOutput } from './keys';
import { rebuildJob, type RebuildInput, type RebuildOutput, type RebuildProgressNote } from './rebuild';
import { recognizeSliceJob, STATUS, STATUS_NAMES, type RecognizeNote, type RecognizeSliceOutput } from './recognize';
import {
  ArchFileWriter,
  clientKeyFromArchiveName,
  parseServerAddress,
  probeArchive,
  readRecognitionCodesFile,
  readServerDir,
  recordSetFrom,
  type RecordSet,
} from './sources';
import {
  STALE_ADVICE,
  type Candidate,
  type ProgressOptions,
  type RecoverInput,
  type RecoveryEvent,
  type RecoverySource,
  type RecoveryVerdict,
  type SearchInput,
  type SearchResult,
  type SourceResult,
} from './types';

export const DATABASE_NAME = 'lightningd.sqlite3';
export { WRAPPER_NAME };
/** Placeholder shost when an offline source does not say where its server runs. */
export const PLACEHOLDER_SHOST = '127.0.0.1:29735';
/** 'auto' probing opens every unmatched archive up to this many archives in a directory. */
export const PROBE_ALL_LIMIT = 5000;

// ---------------------------------------------------------------------------------------------
// Jobs: in a worker thread, or inline (tests)

type JobName = 'recovery.recognize' | 'recovery.analyze' | 'recovery.rebuild' | 'recovery.keys';

/**
 * Deriving the stream keys on all cores first (keys.ts) only pays when worker start-up is
 * small against the increments' public-key work; on the 2-core machine measured it did not
 * (scripts/bench/recover.bench.ts), so it is opt-in (`parallelKeys`).
 */
export const PARALLEL_KEYS_MIN_BYTES = 16 << 20;

function inlineJob(name: JobName, input: unknown, ctx: { progress(d: number, t: number, n?: string): void; cancelled(): boolean }): unknown {
  if (name === 'recovery.recognize') return recognizeSliceJob(input as Parameters<typeof recognizeSliceJob>[0], ctx);
  if (name === 'recovery.analyze') return rebuildJob({ ...(input as RebuildInput), analyzeOnly: true }, ctx);
  if (name === 'recovery.keys') return deriveStreamKeysJob(input as KeysInput, ctx);
  return rebuildJob(input as RebuildInput, ctx);
}

async function runTask<T>(
  name: JobName,
  input: unknown,
  inline: boolean,
  onProgress: (d: number, t: number, n?: string) => void,
  signal?: AbortSignal,
  transfer?: readonly TransferListItem[],
): Promise<T> {
  if (signal?.aborted) throw new CldcbError('cancelled', 'Cancelled. Nothing was written.');
  if (inline) {
    await new Promise((r) => setImmediate(r));
    return inlineJob(name, input, { progress: onProgress, cancelled: () => signal?.aborted === true }) as T;
  }
  return runJob<T>(name, input, { onProgress, ...(signal ? { signal } : {}), ...(transfer ? { transfer } : {}) });
}

function sourceLabel(s: RecoverySource): string {
  if (s.label) return s.label;
  if (s.kind === 'serverDir') return s.dir;
  if (s.kind === 'archive') return s.archive;
  return s.address.includes('@') ? s.address.slice(s.address.indexOf('@') + 1) : s.address;
}

function checkAbort(signal?: AbortSignal): void {
  if (signal?.aborted) throw new CldcbError('cancelled', 'Cancelled. Nothing was written.');
}

const errData = (e: unknown): { code: string; message: string } => {
  const d = toErrorData(e);
  return { code: d.code, message: d.message };
};

// ---------------------------------------------------------------------------------------------
// Search

interface SourceState {
  readonly index: number;
  readonly label: string;
  readonly source: RecoverySource;
  codes: RecordSet;
  archives: Map<string, string>;
  serverId?: string;
  serverHost?: string;
  speaksV1?: boolean;
  client?: CldcbClient;
  serverKey?: Uint8Array;
  hostPort?: string;
  error?: { code: string; message: string };
  /** Offset of this source's records in the combined array. */
  first: number;
  statuses: Uint8Array;
  /** Read tokens of our records by local index. */
  tokens: Map<number, Uint8Array>;
}

function randomClientKey(): Uint8Array {
  for (;;) {
    const k = new Uint8Array(randomBytes(32));
    if (isValidPrivateKey(k)) return k;
  }
}

async function openSource(s: SourceState, input: SearchInput, emit: (e: RecoveryEvent) => void, warnings: RecoveryWarning[]): Promise<void> {
  const src = s.source;
  emit({ type: 'source', source: s.index, label: s.label, state: 'reading' });
  if (src.kind === 'serverDir') {
    const l = readServerDir(src.dir);
    s.codes = l.codes;
    s.archives = l.archives;
    if (l.serverId) s.serverId = l.serverId;
    if (src.serverHost) s.serverHost = src.serverHost;
    for (const n of l.notes) warnings.push({ kind: 'source_failed', severity: 'info', message: `${s.label}: ${n}` });
  } else if (src.kind === 'archive') {
    if (!existsSync(src.archive)) throw new CldcbError('file_not_found', `${src.archive}: no such archive file.`);
    s.codes = src.recognitionCodes ? readRecognitionCodesFile(src.recognitionCodes) : { records: new Uint8Array(0), count: 0, malformed: [], malformedCount: 0 };
    const key = clientKeyFromArchiveName(src.archive);
    s.archives = new Map([[key ? bytesToHex(key) : '?', src.archive]]);
    if (src.serverId) s.serverId = src.serverId;
    if (src.serverHost) s.serverHost = src.serverHost;
  } else {
    if (!input.online)
      throw new CldcbError('offline', `${s.label}: contacting a server needs online mode (the --server flag, or the app's "online mode for this action" switch).`);
    const a = parseServerAddress(src.address);
    const hp = parseHostPort(a.hostPort, DEFAULT_SERVER_PORT, 'server address');
    const proxy = src.proxy ? parseHostPort(src.proxy, 9050, 'proxy') : undefined;
    const clientPrivateKey = randomClientKey();
    try {
      s.client = await CldcbClient.connect({ host: hp.host, port: hp.port, serverKey: a.serverKey, clientPrivateKey, ...(proxy ? { proxy } : {}) });
    } finally {
      zeroize(clientPrivateKey);
    }
    s.serverKey = a.serverKey;
    s.serverId = a.serverId;
    s.hostPort = a.hostPort.includes(':') || a.hostPort.startsWith('[') ? a.hostPort : `${a.hostPort}:${DEFAULT_SERVER_PORT}`;
    s.serverHost = s.hostPort;
    s.speaksV1 = s.client.supportsExtension;
    emit({ type: 'source', source: s.index, label: s.label, state: 'connected', speaksV1: s.speaksV1 });
    s.codes = recordSetFrom(await s.client.listRecognitionCodes());
    s.archives = new Map();
  }
  s.statuses = new Uint8Array(s.codes.count);
  emit({ type: 'source', source: s.index, label: s.label, state: 'listed', records: s.codes.count, archives: s.archives.size, ...(s.speaksV1 !== undefined ? { speaksV1: s.speaksV1 } : {}) });
}

function recordClientId(records: Uint8Array, i: number): string | null {
  const k = records.subarray(i * RECOGNITION_RECORD_SIZE, i * RECOGNITION_RECORD_SIZE + 33);
  if (k[0] !== 2 && k[0] !== 3) return null;
  return 'c' + bytesToHex(k).slice(1);
}

/**
 * Find our entries in every source: read/list them, check every recognition code (worker
 * threads, one per core), open archives that have no usable code, download (online) and
 * analyse each match (unseal and verify everything, no database written).
 * @throws CldcbError offline (a server source without online mode), cancelled. Failures of
 *   one source are recorded in its SourceResult and do not stop the others.
 */
export async function searchEntries(input: SearchInput, opts: ProgressOptions = {}, internal: { analyzeSingle?: boolean } = {}): Promise<SearchResult> {
  const emit = (e: RecoveryEvent): void => opts.onEvent?.(e);
  const signal = opts.signal;
  const timings: { step: string; ms: number }[] = [];
  const warnings: RecoveryWarning[] = [];
  const scratch: string[] = [];
  if (!isValidPrivateKey(input.nodePrivateKey)) throw new CldcbError('bad_input', 'The node private key is not a valid secp256k1 key.');
  if (input.sources.length === 0) throw new CldcbError('bad_input', 'No source given: name a server directory copy, an archive, or (online) a server.');
  for (const s of input.sources) if (s.kind === 'server' && !input.online) throw new CldcbError('offline', `${sourceLabel(s)}: contacting a server needs online mode (the --server flag, or the app's "online mode for this action" switch).`);
  const step = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const r = await fn();
    timings.push({ step: name, ms: performance.now() - t0 });
    return r;
  };

  const states: SourceState[] = input.sources.map((source, index) => ({
    index,
    label: sourceLabel(source),
    source,
    codes: { records: new Uint8Array(0), count: 0, malformed: [], malformedCount: 0 },
    archives: new Map(),
    first: 0,
    statuses: new Uint8Array(0),
    tokens: new Map(),
  }));
  const closeClients = (): void => {
    for (const s of states) s.client?.close();
  };

  try {
    // 1. Entries
    emit({ type: 'step', step: 'entries', state: 'started' });
    await step('entries', async () => {
      for (const s of states) {
        checkAbort(signal);
        try {
          await openSource(s, input, emit, warnings);
        } catch (e) {
          if (e instanceof CldcbError && (e.code === 'offline' || e.code === 'cancelled')) throw e;
          s.error = errData(e);
          emit({ type: 'source', source: s.index, label: s.label, state: 'failed', message: s.error.message });
          warnings.push({ kind: 'source_failed', severity: 'warning', message: `${s.label}: ${s.error.message}` });
        }
      }
    });
    emit({ type: 'step', step: 'entries', state: 'done', ms: timings[timings.length - 1]!.ms });

    // 2. Recognition: all sources' records in one parallel run
    let total = 0;
    for (const s of states) {
      s.first = total;
      total += s.codes.count;
    }
    const all = new Uint8Array(total * RECOGNITION_RECORD_SIZE);
    for (const s of states) all.set(s.codes.records, s.first * RECOGNITION_RECORD_SIZE);
    const locate = (g: number): SourceState => states.find((s) => g >= s.first && g < s.first + s.codes.count)!;
    emit({ type: 'step', step: 'recognition', state: 'started' });
    const t0 = performance.now();
    const outputs = await step('recognition', async () => {
      if (total === 0) return [] as RecognizeSliceOutput[];
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
              const s = locate(g);
              emit({ type: 'entry', source: s.index, clientId: recordClientId(all, g), status: 'ours', via: 'code', index: g - s.first, ...(s.codes.lines ? { line: s.codes.lines[g - s.first]! } : {}) });
            }
        }
        const now = performance.now();
        if (now - lastEmit > 100 || checked === total) {
          lastEmit = now;
          emit({ type: 'recognition', checked, total, ours, notOurs, invalid, perSecond: checked / Math.max(0.001, (now - t0) / 1000) });
        }
      };
      try {
        if (input.inline) return [await runTask<RecognizeSliceOutput>('recovery.recognize', slices[0], true, onProgress, signal)];
        return await runJobParallel<RecognizeSliceOutput>('recovery.recognize', slices, { onProgress, ...(signal ? { signal } : {}) });
      } finally {
        for (const sl of slices) zeroize(sl.nodePriv);
      }
    });
    emit({ type: 'step', step: 'recognition', state: 'done', ms: performance.now() - t0 });
    // Statuses back to their sources.
    let offset = 0;
    const combined = new Uint8Array(total);
    for (const o of outputs) {
      combined.set(o.statuses, offset);
      offset += o.statuses.length;
      for (const m of o.matches) {
        const s = locate(m.index);
        s.tokens.set(m.index - s.first, m.readToken);
      }
    }
    let invalidAnnounced = 0;
    for (const s of states) {
      s.statuses = combined.slice(s.first, s.first + s.codes.count);
      for (let i = 0; i < s.statuses.length && invalidAnnounced < 100; i++)
        if (s.statuses[i] === STATUS.invalid) {
          invalidAnnounced++;
          emit({ type: 'entry', source: s.index, clientId: recordClientId(s.codes.records, i), status: 'invalid', via: 'code', index: i, ...(s.codes.lines ? { line: s.codes.lines[i]! } : {}) });
        }
    }

    // 3. Candidates from codes, then probes of archives
    const candidates: (Candidate & { online: boolean; clientKey: Uint8Array })[] = [];
    const addCandidate = (s: SourceState, clientKey: Uint8Array, via: 'code' | 'archive', archivePath: string | undefined, token?: Uint8Array): void => {
      const clientId = formatClientId(clientKey);
      if (candidates.some((c) => c.source === s.index && c.clientId === clientId)) return;
      candidates.push({
        clientId,
        clientKey,
        source: s.index,
        sourceLabel: s.label,
        via,
        online: s.source.kind === 'server',
        warnings: [],
        ...(archivePath ? { archivePath } : {}),
        ...(token ? { readToken: bytesToHex(token) } : {}),
      });
    };
    for (const s of states) {
      for (let i = 0; i < s.codes.count; i++)
        if (s.statuses[i] === STATUS.ours) {
          const key = s.codes.records.slice(i * RECOGNITION_RECORD_SIZE, i * RECOGNITION_RECORD_SIZE + 33);
          addCandidate(s, key, 'code', s.archives.get(bytesToHex(key)), s.tokens.get(i));
        }
    }
    emit({ type: 'step', step: 'probe', state: 'started' });
    const tp = performance.now();
    const probeMode = input.probe ?? 'auto';
    for (const s of states) {
      if (s.source.kind === 'server' || s.error || probeMode === 'none') continue;
      const codeStatus = new Map<string, number>();
      for (let i = 0; i < s.codes.count; i++) {
        const hex = bytesToHex(s.codes.records.subarray(i * RECOGNITION_RECORD_SIZE, i * RECOGNITION_RECORD_SIZE + 33));
        const prev = codeStatus.get(hex);
        if (prev !== STATUS.ours) codeStatus.set(hex, s.statuses[i]!);
      }
      const matchedHere = candidates.some((c) => c.source === s.index);
      const probeAll = probeMode === 'all' || (probeMode === 'auto' && (s.archives.size <= PROBE_ALL_LIMIT || !matchedHere));
      let n = 0;
      for (const [hex, file] of s.archives) {
        const st = codeStatus.get(hex);
        if (st === STATUS.ours) continue;
        const missing = st === undefined || st === STATUS.invalid;
        if (!missing && !probeAll) continue;
        if (++n % 64 === 0) {
          checkAbort(signal);
          await new Promise((r) => setImmediate(r));
        }
        const key = hex === '?' ? undefined : hexToBytes(hex, 'client key', 33);
        const r = probeArchive(file, input.nodePrivateKey, key);
        if (r.misfiled && key) {
          addCandidate(s, key, 'archive', file);
          Object.assign(candidates[candidates.length - 1]!, {
            error: {
              code: 'not_authentic',
              message: `${path.basename(file)} is sealed to this node but holds the backup of ${formatClientId(r.misfiled)}, not of ${formatClientId(key)}: archives were swapped or renamed. Refusing to guess; restore the server's original files.`,
            },
          });
          emit({ type: 'entry', source: s.index, clientId: formatClientId(key), status: 'invalid', via: 'archive' });
          continue;
        }
        if (!r.ours) continue;
        const clientId = formatClientId(r.clientKey!);
        emit({ type: 'entry', source: s.index, clientId, status: 'ours', via: 'archive' });
        addCandidate(s, r.clientKey!, 'archive', file);
        const c = candidates[candidates.length - 1]!;
        if (s.source.kind === 'archive' && st === undefined && s.codes.count === 0) continue;
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
      if (s.source.kind === 'archive' && !candidates.some((c) => c.source === s.index)) {
        const key = clientKeyFromArchiveName(s.source.archive);
        const r = probeArchive(s.source.archive, input.nodePrivateKey, key);
        s.error = { code: 'not_found', message: `${s.source.archive} is not a backup of this node: ${r.reason ?? 'it does not open with our node key'}.` };
        warnings.push({ kind: 'source_failed', severity: 'warning', message: s.error.message });
      }
    }
    timings.push({ step: 'probe', ms: performance.now() - tp });
    emit({ type: 'step', step: 'probe', state: 'done', ms: performance.now() - tp });

    // 4. Downloads (online)
    const online = candidates.filter((c) => c.online);
    if (online.length > 0) {
      emit({ type: 'step', step: 'download', state: 'started' });
      const td = performance.now();
      const dir = mkdtempSync(path.join(input.scratchDir ?? os.tmpdir(), '.cldcb-download-'));
      scratch.push(dir);
      for (const c of online) {
        checkAbort(signal);
        const s = states[c.source]!;
        try {
          if (!s.client || s.client.closed) {
            const hp = parseHostPort(s.hostPort!, DEFAULT_SERVER_PORT, 'server address');
            const k = randomClientKey();
            try {
              s.client = await CldcbClient.connect({ host: hp.host, port: hp.port, serverKey: s.serverKey!, clientPrivateKey: k });
            } finally {
              zeroize(k);
            }
          }
          if (s.client.supportsExtension && c.readToken) await s.client.proveRead(c.clientKey, hexToBytes(c.readToken, 'read token', 32));
          const file = path.join(dir, `${c.clientId}.arch`);
          const w = new ArchFileWriter(file);
          let lastEmit = 0;
          try {
            await s.client.downloadBackup(c.clientKey, {
              onEvent: (e) => {
                w.event(e);
                const now = performance.now();
                if (now - lastEmit > 100) {
                  lastEmit = now;
                  emit({ type: 'download', source: s.index, clientId: c.clientId, messages: w.messages, bytes: w.bytes });
                }
              },
            });
          } finally {
            w.close();
          }
          emit({ type: 'download', source: s.index, clientId: c.clientId, messages: w.messages, bytes: w.bytes });
          Object.assign(c, { archivePath: file });
        } catch (e) {
          if (e instanceof CldcbError && e.code === 'cancelled') throw e;
          Object.assign(c, { error: errData(e) });
        }
      }
      timings.push({ step: 'download', ms: performance.now() - td });
      emit({ type: 'step', step: 'download', state: 'done', ms: performance.now() - td });
    }
    closeClients();

    // 5. Analysis (unseal and verify each candidate, no database)
    for (const c of candidates)
      if (!c.archivePath && !c.error)
        Object.assign(c, { error: { code: 'not_found', message: `${c.clientId}'s recognition code is in ${c.sourceLabel}, but its archive (${c.clientId}.arch) is not there.` } });
    const toAnalyze = candidates.filter((c) => c.archivePath && !c.error);
    if (toAnalyze.length > 1 || internal.analyzeSingle !== false) {
      emit({ type: 'step', step: 'analysis', state: 'started' });
      const ta = performance.now();
      for (const c of toAnalyze) {
        checkAbort(signal);
        try {
          const out = await runTask<RebuildOutput>(
            'recovery.analyze',
            { archivePath: c.archivePath!, nodePriv: new Uint8Array(input.nodePrivateKey), clientKey: c.clientKey, analyzeOnly: true } satisfies RebuildInput,
            Boolean(input.inline),
            (d, t) => emit({ type: 'analysis', clientId: c.clientId, source: c.source, bytes: d, total: t }),
            signal,
          );
          applyAnalysis(c, out);
        } catch (e) {
          if (e instanceof CldcbError && e.code === 'cancelled') throw e;
          Object.assign(c, { error: errData(e) });
        }
      }
      timings.push({ step: 'analysis', ms: performance.now() - ta });
      emit({ type: 'step', step: 'analysis', state: 'done', ms: performance.now() - ta });
    }

    compareSources(candidates, warnings);
    const freshest = pickFreshest(candidates);
    for (const c of candidates) emit({ type: 'candidate', candidate: publicCandidate(c) });
    for (const w of warnings) emit({ type: 'warning', warning: w });

    const sources: SourceResult[] = states.map((s) => ({
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
      ...(s.error ? { error: s.error } : {}),
    }));
    return { sources, candidates: candidates.map(publicCandidate), freshest, warnings, timings, scratch };
  } catch (e) {
    closeClients();
    for (const d of scratch) rmSync(d, { recursive: true, force: true });
    throw e;
  }
}

function publicCandidate(c: Candidate & { online?: boolean; clientKey?: Uint8Array }): Candidate {
  const { online: _o, clientKey: _k, ...rest } = c;
  return rest;
}

function applyAnalysis(c: Candidate & { online: boolean }, out: RebuildOutput): void {
  const plan = out.plan;
  const time = plan.lastTime !== undefined ? { time: plan.lastTime, timeBasis: 'v1' as const } : c.online ? {} : { time: Math.floor(out.archive.mtimeMs / 1000), timeBasis: 'mtime' as const };
  Object.assign(c, {
    dataVersion: plan.finalDataVersion,
    reuploadDataVersion: out.snapshot.reuploadDataVersion,
    increments: plan.replay.length,
    incrementsStored: out.incrementsStored,
    chain: plan.chain,
    ...time,
    warnings: [...c.warnings, ...out.warnings],
    ...(plan.fatal ? { error: { code: plan.fatal.code, message: plan.fatal.message } } : {}),
  });
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

// ---------------------------------------------------------------------------------------------
// Recover

/**
 * Recover the node's database into `lightningDir` (and a fresh plugin wrapper).
 * @throws CldcbError file_exists (the database exists: nothing is overwritten), not_found
 *   (no backup of this node), offline, the chosen archive's refusal (not_authentic,
 *   truncated, archive_lost_writes), integrity_failed, cancelled, io_error.
 */
export async function recover(input: RecoverInput, opts: ProgressOptions = {}): Promise<RecoveryVerdict> {
  const emit = (e: RecoveryEvent): void => opts.onEvent?.(e);
  const signal = opts.signal;
  const dbName = input.databaseName ?? DATABASE_NAME;
  const dir = input.lightningDir;
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new CldcbError('file_not_found', `${dir}: no such directory. Create the lightning directory (with the hsm_secret in it) first.`);
  }
  if (!st.isDirectory()) throw new CldcbError('bad_input', `${dir} is not a directory.`);
  const target = path.join(dir, dbName);
  if (existsSync(target))
    throw new CldcbError('file_exists', `${target} already exists. Nothing was overwritten; recover into an empty lightning directory or move the existing database away first.`);
  const nodeId = formatNodeId(makeNativeSecp().publicKey(input.nodePrivateKey));
  const search = input.search ?? (await searchEntries(input, opts, { analyzeSingle: false }));
  try {
    const timings = [...search.timings];
    const cands = search.candidates;
    let chosenIndex = search.freshest;
    if (input.clientId !== undefined) {
      const want = formatClientId(parseClientId(input.clientId, 'client id'));
      const matching = cands.map((c, i) => ({ c, i })).filter((x) => x.c.clientId === want);
      if (matching.length === 0) throw new CldcbError('not_found', `${want} is not one of this node's backups in the given sources (found: ${cands.map((c) => c.clientId).join(', ') || 'none'}).`);
      chosenIndex = matching.sort((a, b) => (b.c.dataVersion ?? -1) - (a.c.dataVersion ?? -1))[0]!.i;
    }
    if (chosenIndex < 0) {
      const checked = search.sources.reduce((a, s) => a + s.records, 0);
      const archives = search.sources.reduce((a, s) => a + s.archives, 0);
      const failed = search.sources.filter((s) => s.error).map((s) => `${s.label}: ${s.error!.message}`);
      const broken = cands.filter((c) => c.error).map((c) => `${c.clientId}: ${c.error!.message}`);
      throw new CldcbError(
        'not_found',
        `No usable backup of node ${nodeId}: ${checked} recognition code(s) and ${archives} archive(s) checked.${broken.length ? ` Ours but unusable: ${broken.join(' | ')}` : ''}${failed.length ? ` Sources that failed: ${failed.join(' | ')}` : ''} Check that the hsm_secret is this node's and the source is the right server.`,
      );
    }
    const chosen = cands[chosenIndex]!;
    if (chosen.error) throw new CldcbError(chosen.error.code as never, `${chosen.clientId} (${chosen.sourceLabel}): ${chosen.error.message}`);
    const src = input.sources[chosen.source]!;
    const srcResult = search.sources[chosen.source]!;

    // Rebuild (stream keys first, on every core, for big archives)
    emit({ type: 'step', step: 'rebuild', state: 'started' });
    const tr = performance.now();
    let streamKeys: Uint8Array | undefined;
    if (input.parallelKeys && !input.inline && statSync(chosen.archivePath!).size >= PARALLEL_KEYS_MIN_BYTES) {
      const tk = performance.now();
      const slices = Math.max(1, input.threads ?? coreCount());
      const jobs: KeysInput[] = Array.from({ length: slices }, (_, slice) => ({
        archivePath: chosen.archivePath!,
        nodePriv: new Uint8Array(input.nodePrivateKey),
        clientKey: parseClientId(chosen.clientId),
        slice,
        slices,
      }));
      try {
        streamKeys = mergeKeys(await runJobParallel<KeysOutput>('recovery.keys', jobs, signal ? { signal } : {}));
      } finally {
        for (const j of jobs) zeroize(j.nodePriv);
      }
      timings.push({ step: 'stream keys', ms: performance.now() - tk });
    }
    // The pipelined rebuild's feeder thread boots alongside the rebuild's thread (pipeline.ts startFeeder).
    const feeder =
      !input.inline && input.pipeline !== false && pipelineAvailable()
        ? startFeeder({ archivePath: chosen.archivePath!, nodePriv: input.nodePrivateKey, clientKey: parseClientId(chosen.clientId), returnClientKey: input.writeWrapper !== false })
        : undefined;
    const out = await runTask<RebuildOutput>(
      'recovery.rebuild',
      {
        archivePath: chosen.archivePath!,
        nodePriv: new Uint8Array(input.nodePrivateKey),
        clientKey: parseClientId(chosen.clientId),
        targetPath: target,
        returnClientKey: input.writeWrapper !== false,
        ...(streamKeys ? { streamKeys } : {}),
        ...(input.pipeline === false ? { pipeline: false } : {}),
        ...(feeder ? { feeder: feeder.link } : {}),
      } satisfies RebuildInput,
      Boolean(input.inline),
      (d, t, n) => {
        if (!n) return;
        const p = JSON.parse(n) as RebuildProgressNote;
        if (p.phase === 'scan') emit({ type: 'rebuild', phase: 'scan', done: p.bytes, total: p.total });
        else if (p.phase === 'replay') emit({ type: 'rebuild', phase: 'replay', done: p.increments, total: p.total, statements: p.statements, bytes: p.bytes });
        else if (p.phase === 'check') emit({ type: 'rebuild', phase: 'check', done: d, total: t, check: p.check });
        else emit({ type: 'rebuild', phase: 'commit', done: 0, total: 1 });
      },
      signal,
      feeder ? [feeder.link.port] : undefined,
    ).finally(() => feeder?.stop());
    emit({ type: 'step', step: 'rebuild', state: 'done', ms: performance.now() - tr });
    timings.push(...out.timings);

    const warnings: RecoveryWarning[] = [];
    const cand: Candidate = chosen.dataVersion === undefined ? analysed(chosen, out, src.kind === 'server') : chosen;
    const addWarning = (w: RecoveryWarning): void => {
      if (!warnings.some((x) => x.message === w.message)) warnings.push(w);
    };
    for (const w of [...cand.warnings, ...out.warnings]) addWarning(w);
    if (out.replay && out.replay.synthesizedBumps > 0 && !warnings.some((w) => w.kind === 'missing_bump'))
      warnings.push({ kind: 'synthesized_bump', severity: 'warning', message: `${out.replay.synthesizedBumps} increment(s) had no data_version bump; it was set as lightningd's commit would.` });
    if (out.checks && out.checks.foreignKeyViolations > 0)
      warnings.push({
        kind: 'fk_violations',
        severity: 'warning',
        message: `PRAGMA foreign_key_check reports ${out.checks.foreignKeyViolations} row(s) in ${out.checks.foreignKeyTables.join(', ')}. The replay enforces foreign keys as lightningd does (off only around its table rebuilds), so these rows came with the snapshot or were written while foreign keys were off; a database lightningd wrote has none: this backup holds data lightningd did not write (hand-made or altered).`,
      });
    const time = out.plan.lastTime !== undefined ? { time: out.plan.lastTime, timeBasis: 'v1' as const } : src.kind === 'server' ? {} : { time: Math.floor(out.archive.mtimeMs / 1000), timeBasis: 'mtime' as const };
    if (time.timeBasis === 'mtime')
      warnings.push({ kind: 'mtime_time', severity: 'warning', message: "The time shown is the archive file's modification time (these increments record no time); a copy may have changed it." });
    else if (!time.timeBasis) warnings.push({ kind: 'no_time', severity: 'warning', message: 'The time of the last increment is unknown (the original plugin records none, and a download has no file time).' });
    for (const w of search.warnings) addWarning(w);

    // Stale?
    const staleReasons: string[] = [];
    const dv = out.plan.finalDataVersion;
    if (input.lastKnownDataVersion !== undefined && input.lastKnownDataVersion > dv) {
      staleReasons.push(`The node's last known data_version is ${input.lastKnownDataVersion}, but this backup ends at ${dv} (${input.lastKnownDataVersion - dv} behind).`);
      warnings.push({ kind: 'older_than_known', severity: 'error', message: staleReasons[staleReasons.length - 1]! });
    }
    if (input.lastKnownTime !== undefined && time.time !== undefined && input.lastKnownTime > time.time) {
      staleReasons.push(
        `The node was active at ${iso(input.lastKnownTime)}, but the last increment ${time.timeBasis === 'v1' ? 'was sealed' : 'was written (file time)'} at ${iso(time.time)}.`,
      );
      warnings.push({ kind: 'older_than_known', severity: 'error', message: staleReasons[staleReasons.length - 1]! });
    }
    for (const [i, c] of cands.entries()) {
      if (i === chosenIndex) continue;
      if (c.dataVersion !== undefined && c.dataVersion > dv && !c.error) {
        staleReasons.push(`Another backup of this node (${c.clientId} at ${c.sourceLabel}) reaches data_version ${c.dataVersion}, beyond this one's ${dv}.`);
        warnings.push({ kind: 'chosen_not_freshest', severity: 'error', message: staleReasons[staleReasons.length - 1]! });
      } else if (c.error && (c.dataVersion === undefined || c.dataVersion >= dv) && c.clientId !== chosen.clientId) {
        staleReasons.push(`Another backup of this node (${c.clientId} at ${c.sourceLabel}) could not be used (${c.error.message}); it may hold newer writes.`);
      }
    }
    if (cands.some((c, i) => i !== chosenIndex && c.clientId === chosen.clientId && c.dataVersion !== undefined && c.dataVersion > dv))
      staleReasons.push('Another server holds more of this same backup.');
    const others = cands.filter((c, i) => i !== chosenIndex && c.clientId !== chosen.clientId && !c.error && (c.dataVersion ?? 0) <= dv);
    if (others.length > 0)
      warnings.push({
        kind: 'other_entries',
        severity: 'info',
        message: `${others.length} older backup(s) of this node were found and not used: ${others.map((c) => `${c.clientId} at ${c.sourceLabel} (data_version ${c.dataVersion ?? '?'})`).join('; ')} — earlier installations.`,
      });

    // Wrapper
    let wrapper: RecoveryVerdict['wrapper'];
    if (input.writeWrapper !== false && out.clientPrivateKey) {
      emit({ type: 'step', step: 'wrapper', state: 'started' });
      try {
        wrapper = writeWrapper(dir, input, out.clientPrivateKey, srcResult.serverId, srcResult.serverHost, warnings);
      } finally {
        zeroize(out.clientPrivateKey);
      }
      emit({ type: 'step', step: 'wrapper', state: 'done' });
    }

    for (const w of warnings) emit({ type: 'warning', warning: w });
    const stale = staleReasons.length > 0;
    const checks = out.checks!;
    return {
      ok: !stale,
      nodeId,
      clientId: chosen.clientId,
      source: { index: chosen.source, label: chosen.sourceLabel, kind: src.kind },
      via: chosen.via,
      dataVersion: dv,
      ...time,
      increments: out.plan.replay.length,
      incrementsStored: out.incrementsStored,
      statements: out.replay?.statements ?? 0,
      snapshotDataVersion: (out.snapshot.reuploadDataVersion + 0xffffffff) % 0x100000000,
      reuploadDataVersion: out.snapshot.reuploadDataVersion,
      chain: out.plan.chain,
      integrity: checks.integrity,
      foreignKeyViolations: checks.foreignKeyViolations,
      foreignKeyTables: checks.foreignKeyTables,
      database: out.database!,
      ...(wrapper ? { wrapper } : {}),
      timings,
      warnings,
      candidates: cands.map((c, i) => (i === chosenIndex ? cand : c)),
      stale,
      staleReasons,
      ...(stale ? { staleAdvice: STALE_ADVICE } : {}),
      ...(input.lastKnownDataVersion !== undefined ? { lastKnownDataVersion: input.lastKnownDataVersion } : {}),
      ...(input.lastKnownTime !== undefined ? { lastKnownTime: input.lastKnownTime } : {}),
      finishedAt: Math.floor(Date.now() / 1000),
    };
  } finally {
    disposeSearch(search);
  }
}

function analysed(c: Candidate, out: RebuildOutput, online: boolean): Candidate {
  const x = { ...c, warnings: [...c.warnings], online };
  applyAnalysis(x, out);
  return publicCandidate(x);
}

const iso = (unix: number): string => new Date(unix * 1000).toISOString().replace('.000Z', 'Z');

function writeWrapper(
  dir: string,
  input: RecoverInput,
  cpk: Uint8Array,
  serverId: string | undefined,
  serverHost: string | undefined,
  warnings: RecoveryWarning[],
): RecoveryVerdict['wrapper'] {
  if (!serverId) {
    warnings.push({ kind: 'wrapper', severity: 'warning', message: 'No cldcb-plugin-wrapper was written: the source does not say which server it is (no server_id). Make one with cldcb-client installplugin.' });
    return undefined;
  }
  let shost = serverHost;
  if (!shost) {
    shost = PLACEHOLDER_SHOST;
    warnings.push({
      kind: 'wrapper',
      severity: 'warning',
      message: `The server directory does not record the server's address: the wrapper's "# shost =" line is a placeholder (${PLACEHOLDER_SHOST}); put the real host:port there before starting lightningd.`,
    });
  }
  const secp = makeNativeSecp();
  const nodeId = secp.publicKey(input.nodePrivateKey);
  const clientKey = secp.publicKey(cpk);
  const fields = {
    clientPrivateKey: cpk,
    nodeId,
    nodeSignature: signRecognitionCode(input.nodePrivateKey, clientKey, secp),
    serverKey: parseServerId(serverId),
    server: parseHostPort(shost, DEFAULT_SERVER_PORT, 'shost'),
  };
  const text = input.makeWrapper
    ? input.makeWrapper(fields)
    : formatPluginWrapper({ ...fields, serverId: fields.serverKey }, input.wrapperCommand ? { command: input.wrapperCommand } : {});
  let file = path.join(dir, WRAPPER_NAME);
  if (existsSync(file)) {
    const alt = `${file}.new`;
    warnings.push({ kind: 'wrapper', severity: 'warning', message: `${file} already exists and was left alone; the fresh wrapper is ${alt}.` });
    file = alt;
  }
  try {
    writeFileAtomic(file, text, { mode: 0o700 });
  } catch (e) {
    warnings.push({ kind: 'wrapper', severity: 'warning', message: `The wrapper could not be written: ${toErrorData(e).message}` });
    return undefined;
  }
  return { path: file, serverId, serverHost: shost };
}

/** Status name of a record status code. */
export function statusName(code: number): string {
  return STATUS_NAMES[code] ?? 'checking';
}

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
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { CldcbError, toErrorData } from '../../../shared/errors';
import { zeroize } from '../../../shared/bytes';
import { DEFAULT_SERVER_PORT, formatClientId, formatNodeId, formatPluginWrapper, parseClientId, parseHostPort, parseServerId } from '../../../shared/cldcb/ids';
import { signRecognitionCode } from '../../../shared/cldcb/recognition';
import { writeFileAtomic } from '../atomicFile';
import { WRAPPER_NAME } from '../installCeremony';
import { makeNativeSecp } from '../nativeSeal';
import { coreCount, runJobParallel } from '../workerPool';
import type { RecoveryWarning } from './chain';
import { mergeKeys, type KeysInput, type KeysOutput } from './keys';
import { pipelineAvailable, startFeeder } from './pipeline';
import type { RebuildInput, RebuildOutput, RebuildProgressNote } from './rebuild';
import { STATUS_NAMES } from './recognize';
import { applyAnalysis, disposeSearch, publicCandidate, searchEntries } from './search';
import { runTask } from './tasks';
import { STALE_ADVICE, type Candidate, type ProgressOptions, type RecoverInput, type RecoveryEvent, type RecoveryVerdict } from './types';

export { disposeSearch, PROBE_ALL_LIMIT, searchEntries } from './search';

export const DATABASE_NAME = 'lightningd.sqlite3';
export { WRAPPER_NAME };
/** Placeholder shost when an offline source does not say where its server runs. */
export const PLACEHOLDER_SHOST = '127.0.0.1:29735';

/**
 * Deriving the stream keys on all cores first (keys.ts) only pays when worker start-up is
 * small against the increments' public-key work; on the 2-core machine measured it did not
 * (scripts/bench/recover.bench.ts), so it is opt-in (`parallelKeys`).
 */
export const PARALLEL_KEYS_MIN_BYTES = 16 << 20;

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

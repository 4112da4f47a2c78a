/**
 * The recovery engine (docs/shared design "Recovery, as data flows" §2–5): entries → our
 * entry → unseal and verify → rebuild → verdict. Pure data in, data out; progress as
 * events; cancel with an AbortSignal. The heavy steps run in worker threads
 * (electron/worker/jobs.ts: recovery.recognize, recovery.analyze, recovery.rebuild).
 *
 *   searchEntries(input, { onEvent, signal }) → SearchResult   (search.ts: entries, statuses, candidates)
 *   recover(input, { onEvent, signal })       → RecoveryVerdict (database, plugin state and wrapper written)
 *   disposeSearch(result)                      removes online downloads kept by a search
 *
 * Online sources are contacted only with `online: true` (CldcbError 'offline' otherwise).
 */
import { existsSync, lstatSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { CldcbError } from '../../errors';
import { zeroize } from '../../bytes';
import { DEFAULT_SERVER_PORT, formatClientId, formatNodeId, parseClientId, parseHostPort } from '../../cldcb/ids';
import { commitTempFile, linkToFreeName } from '../atomicFile';
import { WRAPPER_NAME } from '../installCeremony';
import { makeNativeSecp } from '../nativeSeal';
import { coreCount, runJobParallel } from '../workerPool';
import type { RecoveryWarning } from './chain';
import { mergeKeys, type KeysInput, type KeysOutput } from './keys';
import { pipelineAvailable, startFeeder } from './pipeline';
import { writePluginFiles, type PluginFiles } from './pluginFiles';
import { removeStaleTemps, type RebuildInput, type RebuildOutput, type RebuildProgressNote } from './rebuild';
import { STATUS_NAMES } from './recognize';
import { applyAnalysis, disposeSearch, publicCandidate, searchEntries } from './search';
import { judgeFreshness } from './freshness';
import { runTask } from './tasks';
import { STALE_ADVICE, type Candidate, type ProgressOptions, type RecoverInput, type RecoveryEvent, type RecoveryVerdict, type SearchResult } from './types';

export { disposeSearch, PROBE_ALL_LIMIT, searchEntries } from './search';

export const DATABASE_NAME = 'lightningd.sqlite3';
export { WRAPPER_NAME };

/**
 * Deriving the stream keys on all cores first (keys.ts) only pays when worker start-up is
 * small against the increments' public-key work; on the 2-core machine measured it did not
 * (scripts/bench/recover.bench.ts), so it is opt-in (`parallelKeys`).
 */
export const PARALLEL_KEYS_MIN_BYTES = 16 << 20;

/** The last of the next steps, always. */
export const NEVER_AGAIN =
  'Never start the lost node (or any other copy of its old database) again: lightningd on an old channel state broadcasts revoked commitments, and the peers can take all the funds of those channels.';

const iso = (unix: number): string => new Date(unix * 1000).toISOString().replace('.000Z', 'Z');

/**
 * Recover the node's database into `lightningDir`, with the plugin's chain state and a fresh
 * plugin wrapper beside it (unless `writeWrapper: false`).
 * @throws CldcbError file_exists (the database exists: nothing is overwritten), not_found
 *   (no backup of this node), offline, the chosen archive's refusal (not_authentic,
 *   truncated, archive_lost_writes), integrity_failed, cancelled, io_error.
 */
export async function recover(input: RecoverInput, opts: ProgressOptions = {}): Promise<RecoveryVerdict> {
  const emit = (e: RecoveryEvent): void => opts.onEvent?.(e);
  const { dir, target, leftovers } = checkTarget(input);
  const nodeId = formatNodeId(makeNativeSecp().publicKey(input.nodePrivateKey));
  const search = input.search ?? (await searchEntries(input, opts, { analyzeSingle: false }));
  try {
    const chosenIndex = chooseCandidate(search, input, nodeId);
    const chosen = search.candidates[chosenIndex]!;
    const src = input.sources[chosen.source]!;
    const srcResult = search.sources[chosen.source]!;
    const timings = [...search.timings];
    const out = await rebuildChosen(input, chosen, target, timings, opts);
    try {
      const cand: Candidate = chosen.dataVersion === undefined ? analysed(chosen, out, src.kind === 'server') : chosen;
      const time = out.plan.lastTime !== undefined ? { time: out.plan.lastTime, timeBasis: 'v1' as const } : src.kind === 'server' ? {} : { time: Math.floor(out.archive.mtimeMs / 1000), timeBasis: 'mtime' as const };
      const warnings = verdictWarnings(cand, out, time.timeBasis, search);
      if (leftovers.length > 0)
        warnings.push({ kind: 'cleaned_up', severity: 'info', message: `Removed ${leftovers.length} temporary file(s) an interrupted recovery left in ${dir} (${leftovers.join(', ')}).` });
      const dv = out.plan.finalDataVersion;
      const candidates = search.candidates.map((c, i) => (i === chosenIndex ? { ...cand, ...(out.plan.servers ? { policy: out.plan.servers } : {}) } : c));
      const freshness = judgeFreshness(
        search.sources.map((s) => ({ label: s.label, ...(s.serverId ? { serverId: s.serverId } : {}), ...(s.error ? { error: s.error.message } : {}) })),
        candidates.map((c) => ({
          source: c.source,
          clientId: c.clientId,
          ...(c.dataVersion !== undefined ? { dataVersion: c.dataVersion } : {}),
          ...(c.time !== undefined ? { time: c.time } : {}),
          ...(c.error ? { error: c.error.message } : {}),
          ...(c.policy ? { policy: c.policy } : {}),
        })),
        search.forks ?? [],
      );
      // A backup on one of the node's own servers that could not be read cannot hold a newer
      // committed write once the others prove freshness: every committed write is on k servers,
      // and n − k + 1 of them answered (docs/PROTOCOL.md §5). Any other unreadable backup (another
      // installation, no sealed policy) may still be newer.
      const coveredByProof = (c: Candidate): boolean => freshness.state === 'proven' && freshness.sources[c.source]?.policyServer === true;
      // Proven fresh: the other servers did detect what one archive cannot (a dropped tail), so
      // the one-archive caveat would only contradict the verdict.
      if (freshness.state === 'proven') warnings.splice(0, warnings.length, ...warnings.filter((w) => w.kind !== 'tail_undetectable'));
      const staleReasons = staleness(input, search, chosenIndex, dv, time, warnings, coveredByProof);
      stopEnding(out.plan.ending, dv, time.time, staleReasons, warnings);
      // Several servers: a state not proven to be the newest may be stale (docs/PROTOCOL.md §5).
      // One server (no sealed policy) stays as before: its report says a dropped tail cannot be seen.
      if (freshness.state === 'not-proven' && freshness.policy) staleReasons.push(`Not proven to be the newest state: ${freshness.reason}`);
      const stale = staleReasons.length > 0;
      const nextSteps: string[] = [];
      if (freshness.state === 'not-proven' && freshness.policy && freshness.missingServers.length > 0 && freshness.diverged.length === 0)
        nextSteps.push(
          `To prove this is the newest state, recover again with ${freshness.needed! - freshness.answered} more of the node's servers (${freshness.answered} of the ${freshness.needed} needed answered): ${freshness.missingServers.join(', ')} — online with --server=SID@HOST:PORT, or --from=a copy of its directory; all sources in one run.`,
        );
      const database = placeDatabase(out.database!, target, stale ? dv : undefined, nextSteps);
      if (!stale && warnings.some((w) => w.kind === 'torn_tail'))
        nextSteps.push(
          `Before starting lightningd, confirm that data_version ${dv} is the node's last: the archive ends inside an increment after it, which a server that stopped while appending leaves, but so does an incomplete copy of the server directory. If you know the node's last data_version or activity, recover again with --last-known-data-version / --last-known-time (or the app's fields) into an empty directory, or compare with another server or a fresh copy.`,
        );

      // The plugin's files (the same backup continues: its chain head, then the wrapper) — never
      // beside a database that may be stale: they would start it.
      let plugin: PluginFiles = {};
      if (input.writeWrapper !== false && out.clientPrivateKey && !stale) {
        emit({ type: 'step', step: 'wrapper', state: 'started' });
        const server = { ...(srcResult.serverId ? { serverId: srcResult.serverId } : {}), ...(srcResult.serverHost ? { serverHost: srcResult.serverHost } : {}), ...(srcResult.serverPort ? { serverPort: srcResult.serverPort } : {}) };
        plugin = writePluginFiles(dir, input, out.clientPrivateKey, chosen.clientId, server, out.plan.head, warnings, nextSteps);
        emit({ type: 'step', step: 'wrapper', state: 'done' });
      }
      if (input.writeWrapper !== false) nextSteps.push(NEVER_AGAIN);

      for (const w of warnings) emit({ type: 'warning', warning: w });
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
        database,
        ...(plugin.wrapper ? { wrapper: plugin.wrapper } : {}),
        ...(plugin.pluginState ? { pluginState: plugin.pluginState } : {}),
        ...(plugin.clientKeyFile ? { clientKeyFile: plugin.clientKeyFile } : {}),
        nextSteps,
        timings,
        warnings,
        candidates,
        stale,
        staleReasons,
        freshness,
        sourceLabels: search.sources.map((s) => s.label),
        sourceServerIds: search.sources.map((s) => s.serverId),
        ...(stale ? { staleAdvice: STALE_ADVICE } : {}),
        ...(input.lastKnownDataVersion !== undefined ? { lastKnownDataVersion: input.lastKnownDataVersion } : {}),
        ...(input.lastKnownTime !== undefined ? { lastKnownTime: input.lastKnownTime } : {}),
        finishedAt: Math.floor(Date.now() / 1000),
      };
    } finally {
      zeroize(out.clientPrivateKey);
      rmSync(out.database!.path, { force: true }); // the temp, when it was not placed
    }
  } finally {
    disposeSearch(search);
  }
}

/**
 * The input is well-formed, the lightning directory exists and holds no database under the
 * target name. Checked before anything is read or written.
 * @throws CldcbError file_not_found, bad_input, file_exists.
 */
function checkTarget(input: RecoverInput): { dir: string; target: string; leftovers: string[] } {
  const dir = input.lightningDir;
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new CldcbError('file_not_found', `${dir}: no such directory. Create the lightning directory (with the hsm_secret in it) first.`);
  }
  if (!st.isDirectory()) throw new CldcbError('bad_input', `${dir} is not a directory.`);
  const known = input.lastKnownDataVersion;
  if (known !== undefined && !(Number.isInteger(known) && known >= 0 && known <= 0xffffffff))
    throw new CldcbError('bad_input', `The last known data_version must be a whole number from 0 to 4294967295, not ${JSON.stringify(known)}. Nothing was written.`);
  const knownTime = input.lastKnownTime;
  if (knownTime !== undefined && !(Number.isInteger(knownTime) && knownTime >= 0))
    throw new CldcbError('bad_input', `The last known time must be unix seconds, not ${JSON.stringify(knownTime)}. Nothing was written.`);
  for (const src of input.sources) if (src.kind !== 'server' && src.serverHost !== undefined) parseHostPort(src.serverHost, DEFAULT_SERVER_PORT, 'the server address for the wrapper (shost)');
  const target = path.join(dir, input.databaseName ?? DATABASE_NAME);
  if (existsSync(target))
    throw new CldcbError('file_exists', `${target} already exists. Nothing was overwritten; recover into an empty lightning directory or move the existing database away first.`);
  checkSideFiles(target);
  // A run killed mid-rebuild (SIGKILL, power loss) leaves its temp files: ours, removed now.
  const leftovers = removeStaleTemps(target);
  return { dir, target, leftovers };
}

/** SQLite's files beside a database: its rollback journal, write-ahead log and shared memory. */
export const SQLITE_SIDE_SUFFIXES = ['-journal', '-wal', '-shm'] as const;

/**
 * No SQLite side file of the target name may be there (issue 14 #2): a hot journal or WAL that
 * the lost node's lightningd left is rolled into whatever database next opens under that name —
 * the recovered one — and corrupts it ("database disk image is malformed"), after the rebuild's
 * own checks said "ok". Refused before anything is read or written, naming the files.
 * @throws CldcbError file_exists.
 */
function checkSideFiles(target: string): void {
  const found = SQLITE_SIDE_SUFFIXES.map((sfx) => target + sfx).filter((f) => {
    try {
      lstatSync(f);
      return true;
    } catch {
      return false;
    }
  });
  if (found.length === 0) return;
  throw new CldcbError(
    'file_exists',
    `${found.join(', ')} ${found.length > 1 ? 'are' : 'is'} there: SQLite's file${found.length > 1 ? 's' : ''} of the lost database. SQLite would roll ${found.length > 1 ? 'them' : 'it'} into the recovered ${path.basename(target)} the first time it is opened and corrupt it. Nothing was written. Move ${found.length > 1 ? 'them' : 'it'} out of the lightning directory (mv ${found.join(' ')} /some/other/place/), then run the recovery again.`,
  );
}

/**
 * The backup to rebuild: the one the operator named (`clientId`, its freshest copy), or the
 * freshest usable one.
 * @throws CldcbError not_found (none, or not the named one), or the chosen one's refusal.
 */
function chooseCandidate(search: SearchResult, input: RecoverInput, nodeId: string): number {
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
    const notes = search.warnings.filter((w) => w.kind === 'source_failed' && w.severity === 'info').map((w) => w.message);
    throw new CldcbError(
      'not_found',
      `No usable backup of node ${nodeId}: ${checked} recognition code(s) and ${archives} archive(s) checked.${broken.length ? ` Ours but unusable: ${broken.join(' | ')}` : ''}${failed.length ? ` Sources that failed: ${failed.join(' | ')}` : ''}${notes.length ? ` Notes: ${notes.slice(0, 5).join(' | ')}` : ''} Check that the hsm_secret is this node's and the source is the right server.`,
    );
  }
  const chosen = cands[chosenIndex]!;
  if (chosen.error) throw new CldcbError(chosen.error.code as never, `${chosen.clientId} (${chosen.sourceLabel}): ${chosen.error.message}`);
  return chosenIndex;
}

/** Stream keys on every core first (opt-in, big archives), then the rebuild job (pipelined when it can). */
async function rebuildChosen(input: RecoverInput, chosen: Candidate, target: string, timings: { step: string; ms: number }[], opts: ProgressOptions): Promise<RebuildOutput> {
  const emit = (e: RecoveryEvent): void => opts.onEvent?.(e);
  const signal = opts.signal;
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
      leaveTemp: true,
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
  return out;
}

/**
 * Link the checked database (the rebuild's temp file) into place: `lightningd.sqlite3`, or —
 * when it may be stale (`staleDv` set) — `lightningd.sqlite3.stale-<data_version>`, a name
 * lightningd never opens (the first free of …-2, …-3), with what to do in `nextSteps`.
 * Never replaces a file (atomicFile.ts commitTempFile: link, then unlink the temp).
 * @throws CldcbError file_exists (a database appeared meanwhile), io_error.
 */
function placeDatabase(built: { path: string; bytes: number }, target: string, staleDv: number | undefined, nextSteps: string[]): { path: string; bytes: number } {
  if (staleDv === undefined) {
    commitTempFile(built.path, target);
    return { path: target, bytes: built.bytes };
  }
  const aside = linkToFreeName(built.path, `${target}.stale-${staleDv}`);
  nextSteps.push(
    `The rebuilt database was written as ${aside}, not as ${path.basename(target)}, because it may be stale (the reasons are above). Do not start lightningd on it, and no plugin wrapper or chain state was written beside it.`,
    `Find out whether it is the node's latest state: its data_version is ${staleDv}; compare it with the node's last activity you know of (logs, monitoring, a newer copy of the database) and with every other server or copy of this backup.`,
    `Only if you are sure it is the latest: mv ${aside} ${target}, then set up the backup again before starting lightningd (cldcb-client newclient, cldcb-server add on the server, cldcb-client installplugin): a new backup chain whose first write uploads the whole database.`,
    'Otherwise recover the funds through the SCB path (cldcb-client scb): the channels are closed with the peers\' help, without the old channel states.',
  );
  return { path: aside, bytes: built.bytes };
}

/** The candidate's and the rebuild's warnings (once each), what the checks found, the search's. */
function verdictWarnings(cand: Candidate, out: RebuildOutput, timeBasis: 'v1' | 'mtime' | undefined, search: SearchResult): RecoveryWarning[] {
  const warnings: RecoveryWarning[] = [];
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
  if (timeBasis === 'mtime')
    warnings.push({ kind: 'mtime_time', severity: 'warning', message: "The time shown is the archive file's modification time (these increments record no time); a copy may have changed it." });
  else if (!timeBasis) warnings.push({ kind: 'no_time', severity: 'warning', message: 'The time of the last increment is unknown (the original plugin records none, and a download has no file time).' });
  for (const w of search.warnings) addWarning(w);
  return warnings;
}

/**
 * What the backup's last increment says about the node's stop (v2 events; docs/PROTOCOL.md §4):
 * `stopping` alone means lightningd let the plugin go and nothing confirmed its final database
 * afterwards — v26.06 commits its last writes with no hook — so it may be newer than this.
 */
function stopEnding(ending: 'stopping' | 'stopped' | undefined, dv: number, time: number | undefined, staleReasons: string[], warnings: RecoveryWarning[]): void {
  const at = time !== undefined ? ` at ${iso(time)}` : '';
  if (ending === 'stopping') {
    const message = `The backup ends while the node was stopping${at} (data_version ${dv}): lightningd commits its last writes after it lets the backup plugin go, with no hook, and nothing confirmed that this backup holds its final database (the after-stop check did not finish). The node's database may be a few data_versions newer.`;
    staleReasons.push(message);
    warnings.push({ kind: 'stopping_unconfirmed', severity: 'error', message });
  } else if (ending === 'stopped')
    warnings.push({
      kind: 'ends_at_stop',
      severity: 'info',
      message: `The backup ends at a clean stop of the node${at}: lightningd's database was at data_version ${dv} when it exited, and this backup holds it. (If the node ran again after that, a server could still have dropped what came later.)`,
    });
}

/**
 * Why the rebuilt database may be older than the node's: the operator's last known
 * data_version or activity, another backup that reaches further or could not be read.
 * Adds the matching warnings (and the note on older installations).
 */
function staleness(
  input: RecoverInput,
  search: SearchResult,
  chosenIndex: number,
  dv: number,
  time: { time?: number; timeBasis?: 'v1' | 'mtime' },
  warnings: RecoveryWarning[],
  coveredByProof: (c: Candidate) => boolean,
): string[] {
  const cands = search.candidates;
  const chosen = cands[chosenIndex]!;
  const staleReasons: string[] = [];
  const reason = (message: string, kind?: 'older_than_known' | 'chosen_not_freshest' | 'source_served_less'): void => {
    staleReasons.push(message);
    if (kind) warnings.push({ kind, severity: 'error', message });
  };
  if (input.lastKnownDataVersion !== undefined && input.lastKnownDataVersion > dv)
    reason(`The node's last known data_version is ${input.lastKnownDataVersion}, but this backup ends at ${dv} (${input.lastKnownDataVersion - dv} behind).`, 'older_than_known');
  if (input.lastKnownTime !== undefined && time.time !== undefined && input.lastKnownTime > time.time)
    reason(`The node was active at ${iso(input.lastKnownTime)}, but the last increment ${time.timeBasis === 'v1' ? 'was sealed' : 'was written (file time)'} at ${iso(time.time)}.`, 'older_than_known');
  for (const [i, c] of cands.entries()) {
    if (i === chosenIndex) continue;
    if (c.dataVersion !== undefined && c.dataVersion > dv && !c.error)
      reason(`Another backup of this node (${c.clientId} at ${c.sourceLabel}) reaches data_version ${c.dataVersion}, beyond this one's ${dv}.`, 'chosen_not_freshest');
    else if (c.error && (c.dataVersion === undefined || c.dataVersion >= dv) && c.clientId !== chosen.clientId && !coveredByProof(c))
      reason(`Another backup of this node (${c.clientId} at ${c.sourceLabel}) could not be used (${c.error.message}); it may hold newer writes.`);
  }
  if (cands.some((c, i) => i !== chosenIndex && c.clientId === chosen.clientId && c.dataVersion !== undefined && c.dataVersion > dv)) reason('Another server holds more of this same backup.');
  const record = chosen.serverRecord;
  const ahead = record ? (record.dataVersion - dv + 0x100000000) % 0x100000000 : 0;
  if (record && ahead > 0 && ahead < 0x80000000)
    reason(
      `The server's own log (${record.file}) records data_version ${record.dataVersion} stored for this backup${record.time !== undefined ? ` at ${iso(record.time)}` : ''}, but this copy of its archive ends at ${dv}: the copy is incomplete (cut short, or taken before the server finished writing) and lacks ${ahead} data_version(s) the server acknowledged.`,
      'source_served_less',
    );
  const others = cands.filter((c, i) => i !== chosenIndex && c.clientId !== chosen.clientId && !c.error && (c.dataVersion ?? 0) <= dv);
  if (others.length > 0)
    warnings.push({
      kind: 'other_entries',
      severity: 'info',
      message: `${others.length} older backup(s) of this node were found and not used: ${others.map((c) => `${c.clientId} at ${c.sourceLabel} (data_version ${c.dataVersion ?? '?'})`).join('; ')} — earlier installations.`,
    });
  return staleReasons;
}

function analysed(c: Candidate, out: RebuildOutput, online: boolean): Candidate {
  const x = { ...c, warnings: [...c.warnings], online };
  applyAnalysis(x, out);
  return publicCandidate(x);
}

/** Status name of a record status code. */
export function statusName(code: number): string {
  return STATUS_NAMES[code] ?? 'checking';
}

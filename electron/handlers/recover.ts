/**
 * recover.* and drill.*: find this node's entries, rebuild lightningd.sqlite3,
 * verify, report; and the disaster-recovery drill. Paths chosen in dialogs
 * stay in the backend (the renderer never names a path to read or write).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CldcbError } from '../../shared/errors';
import { zeroize } from '../../shared/bytes';
import type { DrillHistoryEntry, DrillView, EntriesPage, EntryStatus, SearchProgressView, SearchView, VerdictView } from '../../shared/ipc/contract';
import { nodePrivateKey } from '../../shared/secrets/nodeKey';
import { afterRecovery, afterRecoveryHtml, LIGHTNINGD_DATABASE } from '../../shared/recovery/afterRecovery';
import { disposeSearch, recover, searchEntries } from '../../shared/node/recovery/engine';
import { drillHtml, drillJson, findDemoRoot, runDemoDrill, runLiveDrill, type DrillReport } from '../../shared/node/recovery/drill';
import { sourceRows, verdictHtml, verdictJson } from '../../shared/node/recovery/report';
import type { RecoveryEvent, RecoveryVerdict, RecoverySource, SearchResult } from '../../shared/node/recovery/types';
import { writeFileAtomic } from '../../shared/node/atomicFile';
import { DrillHistory } from '../../shared/node/drillHistory';
import type { JobControl } from '../../shared/node/jobs';
import { grantOnline, printableHtml, printHtml, type BackendContext, type HandlerGroup } from './context';
import { withNetworkScope } from '../../shared/node/networkGuard';

type C =
  | 'recover.chooseServerDir'
  | 'recover.chooseLightningDir'
  | 'recover.startSearch'
  | 'recover.searchProgress'
  | 'recover.entries'
  | 'recover.startRebuild'
  | 'recover.saveReport'
  | 'recover.printReport'
  | 'recover.printChecklist'
  | 'recover.saveChecklist'
  | 'drill.startDemo'
  | 'drill.chooseServerDir'
  | 'drill.chooseLiveDir'
  | 'drill.startLive'
  | 'drill.history'
  | 'drill.saveReport'
  | 'drill.printReport';

const STATUS_VIEW: readonly EntryStatus[] = ['checking', 'not_ours', 'ours', 'invalid'];

/** Forward engine events to the job's progress bar. */
function progressFrom(ctl: JobControl, live?: (e: RecoveryEvent) => void) {
  return (e: RecoveryEvent | { type: string; name?: string; state?: string }) => {
    const ev = e as RecoveryEvent;
    live?.(ev);
    switch (ev.type) {
      case 'recognition':
        ctl.onProgress(ev.checked, ev.total, `checking recognition codes (${Math.round(ev.perSecond).toLocaleString('en-US')}/s)`);
        break;
      case 'rebuild':
        ctl.onProgress(ev.done, ev.total, `rebuild: ${ev.phase}`);
        break;
      case 'step':
        if (ev.state === 'started') ctl.onProgress(0, 0, ev.step);
        break;
      case 'download':
        ctl.onProgress(ev.bytes, 0, `downloading ${Math.round(ev.bytes / 1024)} KiB`);
        break;
      default: {
        const d = e as { type: string; name?: string; state?: string };
        if (d.type === 'drill-step' && d.state === 'started' && d.name) ctl.onProgress(0, 0, d.name);
      }
    }
  };
}

/**
 * The search as the screen shows it: one outcome per source (read, with its counts and how many
 * backups of this node it holds; or failed, with why), so a source that could not be read is never
 * mistaken for "no backup exists" (issue 12 §1).
 */
export function searchView(r: SearchResult): SearchView {
  return {
    sources: r.sources.map((s, i) => ({
      label: s.label,
      kind: s.kind,
      records: s.records,
      archives: s.archives,
      ours: r.candidates.filter((c) => c.source === i).length,
      // The engine prefixes a source's own notes with its label (engine.ts openSource).
      notes: r.warnings.filter((w) => w.kind === 'source_failed' && w.message.startsWith(`${s.label}: `) && !(s.error && w.message === `${s.label}: ${s.error.message}`)).map((w) => w.message.slice(s.label.length + 2)),
      ...(s.speaksV1 !== undefined ? { speaksV1: s.speaksV1 } : {}),
      ...(s.error ? { error: { ...s.error } } : {}),
    })),
    candidates: r.candidates.map((c) => ({ ...c, readToken: undefined, archivePath: undefined })),
    freshest: r.freshest,
    warnings: r.warnings,
  };
}

/** Stale only because the sources do not prove it is the newest (more of the node's servers can settle it). */
const onlyNotProven = (v: RecoveryVerdict): boolean =>
  v.stale && v.freshness.state === 'not-proven' && v.freshness.policy !== undefined && v.freshness.diverged.length === 0 && v.staleReasons.every((r) => r.startsWith('Not proven'));

const afterRecoveryOf = (v: RecoveryVerdict) =>
  afterRecovery({
    stale: v.stale,
    databasePath: v.database.path,
    nodeId: v.nodeId,
    dataVersion: v.dataVersion,
    engineSteps: v.nextSteps,
    ...(onlyNotProven(v) ? { notProven: { missingServers: v.freshness.missingServers.length } } : {}),
  });

export const verdictView = (v: RecoveryVerdict): VerdictView => ({
  ...v,
  freshness: {
    state: v.freshness.state,
    reason: v.freshness.reason,
    ...(v.freshness.policy ? { policy: { ...v.freshness.policy, serverIds: [...v.freshness.policy.serverIds] } } : {}),
    answered: v.freshness.answered,
    ...(v.freshness.needed !== undefined ? { needed: v.freshness.needed } : {}),
    missingServers: [...v.freshness.missingServers],
  },
  // The report's rows (report.ts): the same names, outcomes and reasons as `recover --json` sources.
  sourceOutcomes: sourceRows(v),
  afterRecovery: afterRecoveryOf(v),
});

/** The one line a drill leaves in the history. */
function historyEntry(r: DrillReport): DrillHistoryEntry {
  const v = r.verdict;
  const what = r.kind === 'demo' ? 'Demo on the bundled trace' : `Drill of node ${r.nodeId ?? '?'}`;
  const detail = r.failure ? r.failure.message : v ? `data_version ${v.dataVersion}, ${v.increments} increments${v.stale ? ', STALE' : ''}` : '';
  return {
    kind: r.kind,
    pass: r.pass,
    finishedAt: r.finishedAt,
    ...(r.nodeId ? { nodeId: r.nodeId } : {}),
    ...(v ? { dataVersion: v.dataVersion } : {}),
    summary: `${what}: ${r.pass ? 'PASS' : 'FAIL'}${detail ? ` (${detail})` : ''}`,
  };
}

export function recoverHandlers({ deps, session, now }: BackendContext): HandlerGroup<C> {
  /** The folders chosen for the source list's rows (by the row's slot); the renderer names the row, never a path. */
  const serverDirs = new Map<number, string>();
  let lightningDir: string | null = null;
  let drillServerDir: string | null = null;
  let drillLiveDir: string | null = null;
  const history = new DrillHistory(deps.userDataDir ?? null);
  const nowSeconds = () => Math.floor(now().getTime() / 1000);
  let search: { result: SearchResult; sources: RecoverySource[] } | null = null;
  let progress: SearchProgressView | null = null;
  let verdict: RecoveryVerdict | null = null;
  let drill: DrillReport | null = null;
  const dropSearch = () => {
    if (search) disposeSearch(search.result);
    search = null;
    progress = null;
  };
  session.onForget(() => {
    dropSearch();
    verdict = null;
  });

  /** Run with a fresh copy of the node private key, zeroized afterwards. */
  const needDrill = (): DrillReport => {
    if (!drill) throw new CldcbError('bad_input', 'Run a drill first.');
    return drill;
  };

  const withNodeKey = async <T>(fn: (key: Uint8Array) => Promise<T>): Promise<T> => {
    const key = nodePrivateKey(session.get().secretData);
    try {
      return await fn(key);
    } finally {
      zeroize(key);
    }
  };

  const sourcesFor = (kind: 'dir' | 'server', address: string | undefined, serverHost: string | undefined, dir: string | null): RecoverySource[] => {
    if (kind === 'dir') {
      if (!dir) throw new CldcbError('bad_input', 'Choose the copy of the server directory first.');
      return [{ kind: 'serverDir', dir, ...(serverHost?.trim() ? { serverHost: serverHost.trim() } : {}) }];
    }
    if (!address) throw new CldcbError('bad_input', 'Type the server as SID@HOST:PORT (the server id 52…/53… from its server_id file, then its address).');
    return [{ kind: 'server', address }];
  };

  /**
   * The Recover screen's source list as the engine's sources, in the operator's order: each folder
   * row by the folder chosen for it, each server row by its address. The same folder or server
   * twice would count one server as two towards the freshness proof: refused.
   */
  const searchSources = (rows: readonly ({ kind: 'dir'; slot: number; serverHost?: string | undefined } | { kind: 'server'; address: string })[]): RecoverySource[] => {
    const seen = new Map<string, number>();
    return rows.map((r, i) => {
      const say = (text: string): string => (rows.length > 1 ? `Source ${i + 1}: ${text}` : text.charAt(0).toUpperCase() + text.slice(1));
      let source: RecoverySource;
      let same: string;
      if (r.kind === 'dir') {
        const dir = serverDirs.get(r.slot);
        if (!dir) throw new CldcbError('bad_input', say('choose the copy of the server directory first.'));
        source = { kind: 'serverDir', dir, ...(r.serverHost?.trim() ? { serverHost: r.serverHost.trim() } : {}) };
        same = `dir:${path.resolve(dir)}`;
      } else {
        const address = r.address.trim();
        if (!address) throw new CldcbError('bad_input', say('type the server as SID@HOST:PORT (the server id 52…/53… from its server_id file, then its address).'));
        source = { kind: 'server', address };
        same = `server:${address.toLowerCase()}`;
      }
      const j = seen.get(same);
      if (j !== undefined) throw new CldcbError('bad_input', `Source ${i + 1} is the same ${r.kind === 'dir' ? 'folder' : 'server'} as source ${j + 1}: each source must be another server or copy (one server counted twice would prove nothing). Remove one.`);
      seen.set(same, i);
      return source;
    });
  };

  /** A directory dialog whose answer stays here (the renderer never names a path). */
  const chooseInto = (title: string, keep: (dir: string) => void) => async () => {
    const dir = await deps.chooseDirectory({ title });
    if (dir === null) return null;
    keep(dir);
    return { path: dir };
  };
  const needVerdict = (): RecoveryVerdict => {
    if (!verdict) throw new CldcbError('bad_input', 'There is no recovery to report yet.');
    return verdict;
  };
  const checklistHtml = (v: RecoveryVerdict) =>
    afterRecoveryHtml(afterRecoveryOf(v), {
      nodeId: v.nodeId,
      databasePath: v.database.path,
      ...(v.wrapper ? { wrapperPath: v.wrapper.path } : {}),
      dataVersion: v.dataVersion,
      date: now().toISOString().slice(0, 10),
    });
  const finishDrill = (r: DrillReport): DrillView => {
    drill = r;
    const h = history.record(historyEntry(r));
    const { verdict: v, ...rest } = r;
    return { ...rest, ...(v ? { verdict: verdictView(v) } : {}), history: h };
  };

  const save = async (what: string, defaultName: string, format: 'json' | 'pdf', json: () => unknown, html: () => string) => {
    const target = await deps.chooseSavePath({ title: `Save the ${what}`, defaultName: `${defaultName}.${format}` });
    if (target === null) return null;
    writeFileAtomic(target, format === 'json' ? JSON.stringify(json(), null, 2) + '\n' : await deps.printToPdf(printableHtml(html())), { mode: 0o600 });
    return { path: target };
  };

  return {
    'recover.chooseServerDir': ({ slot }) => chooseInto('Choose the copy of the backup server directory', (d) => serverDirs.set(slot ?? 0, d))(),
    'recover.chooseLightningDir': chooseInto('Choose the lightning directory to restore into (…/bitcoin)', (d) => (lightningDir = d)),

    'recover.startSearch': async ({ sources: rows, online }) => {
      session.get();
      const sources = searchSources(rows);
      const addresses = rows.flatMap((r) => (r.kind === 'server' ? [r.address.trim()] : []));
      const anyServer = addresses.length > 0;
      if (anyServer && !online)
        throw new CldcbError(
          'offline',
          `This laptop is offline. Switch on online mode for this action to contact the server${addresses.length > 1 ? 's' : ''}, or use a copy of ${addresses.length > 1 ? 'their directories' : 'its directory'}.`,
        );
      // The renderer's switch only asks; the operator's answer in the main process's dialog is the grant.
      const action = addresses.length > 1 ? 'Find your entries on the backup servers' : 'Find your entries on the backup server';
      const granted = anyServer && (await grantOnline(deps, { action, destination: addresses.join(', ') }));
      if (anyServer && !granted)
        throw new CldcbError('offline', 'Online mode was not confirmed, so no server was contacted (nothing was sent). Confirm it when asked, or use copies of the server directories.');
      dropSearch();
      const jobId = session.jobs.start('recover-search', (ctl) =>
        withNetworkScope({ online: granted, action }, () => withNodeKey(async (key) => {
          const result = await searchEntries(
            { nodePrivateKey: key, sources, online: granted },
            {
              signal: ctl.signal,
              onEvent: progressFrom(ctl, (e) => {
                if (e.type === 'recognition')
                  progress = { checked: e.checked, total: e.total, ours: e.ours, notOurs: e.notOurs, invalid: e.invalid, perSecond: e.perSecond };
              }),
            },
          );
          search = { result, sources };
          return searchView(result);
        })),
      );
      return { jobId };
    },

    'recover.searchProgress': () => progress,

    'recover.entries': ({ offset, limit }): EntriesPage => {
      const counts: Record<EntryStatus, number> = { checking: 0, not_ours: 0, ours: 0, invalid: 0 };
      if (!search) return { total: 0, counts, rows: [] };
      const srcs = search.result.sources;
      let total = 0;
      for (const s of srcs) {
        total += s.statuses.length;
        for (const b of s.statuses) counts[STATUS_VIEW[b] ?? 'checking']++;
      }
      const rows: EntriesPage['rows'] = [];
      let base = 0;
      for (let si = 0; si < srcs.length && rows.length < limit; si++) {
        const s = srcs[si]!;
        for (let i = Math.max(0, offset - base); i < s.statuses.length && rows.length < limit; i++)
          rows.push({ index: base + i, source: si, clientId: s.clientIds[i] ?? null, status: STATUS_VIEW[s.statuses[i]!] ?? 'checking' });
        base += s.statuses.length;
      }
      return { total, counts, rows };
    },

    // The rebuild reads what the search found (online downloads included): it never connects, so
    // it runs in the request's offline scope whatever the renderer's `online` says.
    'recover.startRebuild': ({ clientId, lastKnownDataVersion, lastKnownTime }) => {
      session.get();
      if (!lightningDir) throw new CldcbError('bad_input', 'Choose the lightning directory to restore into first.');
      if (!search) throw new CldcbError('bad_input', 'Find the entries first.');
      const dir = lightningDir;
      const found = search;
      const jobId = session.jobs.start('recover-rebuild', (ctl) =>
        withNodeKey(async (key) => {
          const v = await recover(
            {
              nodePrivateKey: key,
              sources: found.sources,
              online: false,
              lightningDir: dir,
              search: found.result,
              ...(clientId ? { clientId: clientId.toLowerCase() } : {}),
              ...(lastKnownDataVersion !== undefined ? { lastKnownDataVersion } : {}),
              ...(lastKnownTime !== undefined ? { lastKnownTime } : {}),
            },
            { signal: ctl.signal, onEvent: progressFrom(ctl) },
          );
          verdict = v;
          return verdictView(v);
        }),
      );
      return { jobId };
    },

    'recover.saveReport': ({ format }) => {
      const v = needVerdict();
      return save('recovery report', 'cldcb-recovery-report', format, () => verdictJson(v), () => verdictHtml(v));
    },
    'recover.printReport': () => printHtml(deps, printableHtml(verdictHtml(needVerdict()))),
    'recover.printChecklist': () => printHtml(deps, checklistHtml(needVerdict())),
    'recover.saveChecklist': () => {
      const v = needVerdict();
      return save('after-recovery checklist', 'cldcb-after-recovery-checklist', 'pdf', () => null, () => checklistHtml(v));
    },

    'drill.startDemo': () => {
      const here = path.dirname(fileURLToPath(import.meta.url));
      const jobId = session.jobs.start('drill-demo', async (ctl) => {
        const r = await runDemoDrill(
          { root: findDemoRoot(here), ...(deps.nodeBinary ? { node: deps.nodeBinary } : {}) },
          { signal: ctl.signal, onEvent: progressFrom(ctl) },
        );
        return finishDrill(r);
      });
      return { jobId };
    },
    'drill.chooseServerDir': chooseInto('Choose the copy of your backup server directory', (d) => (drillServerDir = d)),
    'drill.chooseLiveDir': chooseInto("Choose your node's lightning directory (its database is only read)", (d) => (drillLiveDir = d)),
    'drill.startLive': async ({ source, address, online, compareLive, lastKnownDataVersion }) => {
      session.get();
      const sources = sourcesFor(source, address, undefined, drillServerDir);
      if (source === 'server' && !online)
        throw new CldcbError('offline', 'This laptop is offline. Switch on online mode for this action to contact the server, or drill from a copy of its directory.');
      if (compareLive && !drillLiveDir) throw new CldcbError('bad_input', "Choose your node's lightning directory to compare with, or untick the comparison.");
      // As for the search: the main process's dialog is the grant, for this drill's job only.
      const action = 'Drill: rebuild your backup from the server';
      const granted = source === 'server' && (await grantOnline(deps, { action, destination: address!.trim() }));
      if (source === 'server' && !granted)
        throw new CldcbError('offline', 'Online mode was not confirmed, so the server was not contacted (nothing was sent). Confirm it when asked, or drill from a copy of its directory.');
      const live = compareLive && drillLiveDir ? path.join(drillLiveDir, LIGHTNINGD_DATABASE) : undefined;
      const jobId = session.jobs.start('drill-live', (ctl) =>
        withNetworkScope({ online: granted, action }, () =>
          withNodeKey(async (key) => {
            const r = await runLiveDrill(
              {
                nodePrivateKey: key,
                sources,
                online: granted,
                ...(live ? { compareLive: live } : {}),
                ...(lastKnownDataVersion !== undefined ? { lastKnownDataVersion } : {}),
              },
              { signal: ctl.signal, onEvent: progressFrom(ctl) },
            );
            return finishDrill(r);
          }),
        ),
      );
      return { jobId };
    },
    'drill.history': () => history.view(nowSeconds()),
    'drill.saveReport': ({ format }) => {
      const r = needDrill();
      return save('drill report', 'cldcb-drill-report', format, () => drillJson(r), () => drillHtml(r));
    },
    'drill.printReport': () => printHtml(deps, printableHtml(drillHtml(needDrill()))),
  };
}

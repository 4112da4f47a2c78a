import { useEffect, useState } from 'react';
import type { SearchProgressView, SearchView, VerdictView } from '../../../shared/ipc/contract';
import type { ScreenProps } from '../App';
import { api, call } from '../api';
import { NodeIdDisplay } from '../components/NodeIdDisplay';
import { ProgressBar, useJob } from '../components/Progress';
import { EntriesList } from '../components/EntriesList';
import { SaveReportButtons } from '../components/SaveReportButtons';

const when = (t?: number, basis?: string) =>
  t ? `${new Date(t * 1000).toISOString().replace('T', ' ').slice(0, 19)} UTC${basis === 'mtime' ? ' (file time)' : ''}` : 'unknown';

export function Recover({ secret, go, run }: ScreenProps) {
  const [mode, setMode] = useState<'dir' | 'server'>('dir');
  const [dir, setDir] = useState<string | null>(null);
  const [address, setAddress] = useState('');
  const [serverHost, setServerHost] = useState('');
  const [online, setOnline] = useState(false);
  const [searchJob, setSearchJob] = useState<string | null>(null);
  const search = useJob<SearchView>(searchJob);
  const [live, setLive] = useState<SearchProgressView | null>(null);
  const [entriesTotal, setEntriesTotal] = useState(0);
  const [picked, setChosen] = useState<string | null>(null);
  const [target, setTarget] = useState<string | null>(null);
  const [lastDv, setLastDv] = useState('');
  const [rebuildJob, setRebuildJob] = useState<string | null>(null);
  const rebuild = useJob<VerdictView>(rebuildJob);
  const [saved, setSaved] = useState<string | null>(null);

  // Live counts while the codes are checked; the full list once the search is done.
  useEffect(() => {
    if (!searchJob || search?.state !== 'running') return;
    const t = window.setInterval(() => void call(api().recover.searchProgress({})).then(setLive, () => undefined), 200);
    return () => window.clearInterval(t);
  }, [searchJob, search?.state]);
  useEffect(() => {
    if (search?.state !== 'done' || !search.result) return;
    void call(api().recover.entries({ offset: 0, limit: 1 })).then((p) => setEntriesTotal(p.total), () => undefined);
  }, [search?.state, search?.result]);

  if (!secret) return null;
  const result = search?.state === 'done' ? search.result : undefined;
  const verdict = rebuild?.state === 'done' ? rebuild.result : undefined;
  // The freshest backup is chosen unless the operator picks another.
  const chosen = picked ?? (result ? (result.candidates[result.freshest]?.clientId ?? null) : null);

  const find = async () => {
    setRebuildJob(null);
    setChosen(null);
    setLive(null);
    setEntriesTotal(0);
    const r = await run(() => call(
        api().recover.startSearch({
          source: mode,
          ...(mode === 'server' ? { address: address.trim() } : serverHost.trim() ? { serverHost: serverHost.trim() } : {}),
          online,
        }),
      ));
    if (r) setSearchJob(r.jobId);
  };
  const start = async () => {
    const dv = lastDv.trim() ? Number(lastDv) : undefined;
    const r = await run(() =>
      call(api().recover.startRebuild({ ...(chosen ? { clientId: chosen } : {}), ...(dv !== undefined && Number.isInteger(dv) ? { lastKnownDataVersion: dv } : {}), online })),
    );
    if (r) setRebuildJob(r.jobId);
  };

  return (
    <section aria-labelledby="recover-title">
      <h1 id="recover-title" tabIndex={-1}>
        Recover the channel database
      </h1>
      <NodeIdDisplay nodeId={secret.nodeId} label="Recovering for node" />

      <fieldset>
        <legend>1. Where is the backup?</legend>
        <label>
          <input type="radio" name="src" checked={mode === 'dir'} onChange={() => setMode('dir')} /> A copy of the backup server's
          directory (offline; ours or the original cldcb server's)
        </label>
        {mode === 'dir' && (
          <div className="row">
            <button type="button" onClick={() => void run(() => call(api().recover.chooseServerDir({}))).then((r) => r && setDir(r.path))}>
              Choose folder…
            </button>
            <span className="mono small" data-testid="server-dir">
              {dir ?? 'no folder chosen'}
            </span>
            <label htmlFor="server-host">The server's address (host:port) for the new plugin wrapper</label>
            <input id="server-host" className="mono" spellCheck={false} value={serverHost} onChange={(e) => setServerHost(e.target.value)} />
          </div>
        )}
        <label>
          <input type="radio" name="src" checked={mode === 'server'} onChange={() => setMode('server')} /> The backup server itself
          (online)
        </label>
        {mode === 'server' && (
          <div className="stack">
            <label htmlFor="server-addr">Server (SID@HOST:PORT)</label>
            <input id="server-addr" className="mono" spellCheck={false} value={address} onChange={(e) => setAddress(e.target.value)} />
            <label className={online ? 'online-switch on' : 'online-switch'}>
              <input type="checkbox" checked={online} onChange={(e) => setOnline(e.target.checked)} /> Online mode for this action:
              allow this one connection to the server (Noise_XK, encrypted). Everything else stays offline.
            </label>
          </div>
        )}
        <button type="submit" onClick={() => void find()} disabled={(mode === 'dir' && !dir) || (mode === 'server' && !address.trim())}>
          Find my entries
        </button>
      </fieldset>

      {searchJob && (
        <fieldset>
          <legend>2. Entries on the server</legend>
          <ProgressBar status={search} onCancel={() => searchJob && void run(() => call(api().job.cancel({ jobId: searchJob })))} />
          {live && (
            <p className="hint" data-testid="live-counts">
              {live.checked.toLocaleString('en-US')} of {live.total.toLocaleString('en-US')} checked · {live.ours} ours ·{' '}
              {live.notOurs.toLocaleString('en-US')} not ours · {live.invalid} invalid
            </p>
          )}
          {result && (
            <>
              <p role="status" data-testid="search-summary">
                {result.sources.map((s) => `${s.label}: ${s.records} entries, ${s.archives} archives`).join('; ')}. Found{' '}
                {result.candidates.length} backup{result.candidates.length === 1 ? '' : 's'} of this node.
              </p>
              {entriesTotal > 0 && <EntriesList key={searchJob} total={entriesTotal} />}
            </>
          )}
        </fieldset>
      )}

      {result && result.candidates.length > 0 && (
        <fieldset>
          <legend>3. Which backup?</legend>
          <table className="channels" data-testid="candidates">
            <thead>
              <tr>
                <th />
                <th>client id</th>
                <th>data_version</th>
                <th>last write</th>
                <th>increments</th>
                <th>found by</th>
                <th>notes</th>
              </tr>
            </thead>
            <tbody>
              {result.candidates.map((c, i) => (
                <tr key={`${c.clientId}-${i}`}>
                  <td>
                    <input
                      type="radio"
                      name="cand"
                      aria-label={`use backup ${c.clientId}`}
                      checked={chosen === c.clientId}
                      disabled={Boolean(c.error)}
                      onChange={() => setChosen(c.clientId)}
                    />
                  </td>
                  <td className="mono small">{c.clientId}</td>
                  <td>{c.dataVersion ?? '—'}</td>
                  <td>{when(c.time, c.timeBasis)}</td>
                  <td>{c.increments ?? '—'}</td>
                  <td>{c.via === 'code' ? 'recognition code' : 'opening the archive'}</td>
                  <td>
                    {i === result.freshest && <span className="pill ours">freshest</span>} {c.error?.message}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </fieldset>
      )}

      {result && result.candidates.length === 0 && (
        <p className="verdict bad" role="alert">
          No backup of this node was found there. Check that this is the right hsm_secret (node id above) and the right server; if
          the backup is lost, use the SCB path.
        </p>
      )}

      {chosen && (
        <fieldset>
          <legend>4. Rebuild</legend>
          <div className="row">
            <button type="button" onClick={() => void run(() => call(api().recover.chooseLightningDir({}))).then((r) => r && setTarget(r.path))}>
              Choose the lightning directory…
            </button>
            <span className="mono small" data-testid="lightning-dir">
              {target ?? 'not chosen (an existing lightningd.sqlite3 there is never overwritten)'}
            </span>
          </div>
          <label htmlFor="last-dv">The last data_version you know of (optional; from logs or monitoring)</label>
          <input id="last-dv" className="short" inputMode="numeric" value={lastDv} onChange={(e) => setLastDv(e.target.value)} />
          <button type="submit" disabled={!target} onClick={() => void start()}>
            Rebuild and verify
          </button>
          {rebuildJob && <ProgressBar status={rebuild} onCancel={() => void run(() => call(api().job.cancel({ jobId: rebuildJob })))} />}
          {rebuild?.state === 'failed' && (
            <p className="verdict bad" role="alert">
              {rebuild.error?.message}
            </p>
          )}
        </fieldset>
      )}

      {verdict && (
        <section className="verdict-panel" data-testid="verdict">
          <h2>5. Verdict</h2>
          {verdict.stale ? (
            <div className="verdict bad" role="alert">
              <strong>The state may be stale.</strong> {verdict.staleReasons.join(' ')} {verdict.staleAdvice}
              <button type="button" className="link" onClick={() => go('scb')}>
                Go to the SCB path
              </button>
            </div>
          ) : (
            <p className={verdict.ok ? 'verdict ok' : 'verdict bad'}>
              {verdict.ok ? 'Rebuilt and verified: integrity ok, data_version matches the last increment.' : 'Rebuilt, but see the warnings.'}
            </p>
          )}
          <dl className="facts">
            <dt>data_version</dt>
            <dd data-testid="verdict-dv">{verdict.dataVersion}</dd>
            <dt>last write</dt>
            <dd>{when(verdict.time, verdict.timeBasis)}</dd>
            <dt>increments replayed</dt>
            <dd>
              {verdict.increments} ({verdict.statements.toLocaleString('en-US')} statements) on a snapshot at data_version {verdict.snapshotDataVersion}
            </dd>
            <dt>integrity</dt>
            <dd>{verdict.integrity.join(', ')}</dd>
            <dt>chain</dt>
            <dd>{verdict.chain === 'v1' ? 'v1 (every increment chained and timed)' : verdict.chain}</dd>
            <dt>client id</dt>
            <dd className="mono small">{verdict.clientId}</dd>
            <dt>written</dt>
            <dd className="mono small">
              {verdict.database.path}
              {verdict.wrapper ? ` and ${verdict.wrapper.path}` : ''}
            </dd>
            <dt>timings</dt>
            <dd>{verdict.timings.map((t) => `${t.step} ${(t.ms / 1000).toFixed(2)} s`).join(' · ')}</dd>
          </dl>
          {verdict.warnings.length > 0 && (
            <ul className="warnings">
              {verdict.warnings.map((w, i) => (
                <li key={i} className={w.severity}>
                  {w.message}
                </li>
              ))}
            </ul>
          )}
          <SaveReportButtons run={run} save={(format) => api().recover.saveReport({ format })} onSaved={setSaved} />
          {saved && (
            <p role="status" className="verdict ok">
              Saved to {saved}
            </p>
          )}
        </section>
      )}
    </section>
  );
}

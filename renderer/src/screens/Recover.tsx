import { useEffect, useRef, useState } from 'react';
import type { SearchProgressView, SearchView, VerdictView } from '../../../shared/ipc/contract';
import { parseDataVersionText } from '../../../shared/recovery/dataVersion';
import type { ScreenProps } from '../App';
import { api, call } from '../api';
import { ActionError, ResultRegion, useAction } from '../components/Feedback';
import { GoalSteps } from '../components/Goal';
import { GroupedId, NodeIdDisplay } from '../components/NodeIdDisplay';
import { useOnlineWhile } from '../components/Online';
import { ProgressBar, useJob } from '../components/Progress';
import { EntriesList } from '../components/EntriesList';
import { SaveReportButtons } from '../components/SaveReportButtons';
import { conclusion, SourceOutcomes } from '../components/SourceOutcomes';
import { AfterRecoveryPanel } from '../components/AfterRecovery';
import { anyServer, FIRST_SOURCES, searchRequest, SourceListFields, sourcesReady, type SourceListState } from '../components/SourceList';
import { FreshnessPanel } from '../components/Freshness';
import { when } from '../components/time';


/** The search's outcome in one sentence, with the next step (never a dead end). */
function SearchConclusionView({
  result,
  onRetry,
  onScb,
  onCheckNode,
}: {
  result: SearchView;
  onRetry(): void;
  onScb(): void;
  onCheckNode(): void;
}) {
  const c = conclusion(result);
  const failed = result.sources.filter((s) => s.error);
  const entries = result.sources.reduce((a, s) => a + s.records, 0);
  const archives = result.sources.reduce((a, s) => a + s.archives, 0);
  if (c === 'found')
    return (
      <p className="verdict ok" role="status" data-testid="search-summary">
        {result.sources.map((s) => `${s.label}: ${s.records} entries, ${s.archives} archives`).join('; ')}.
        Found {result.candidates.length} backup
        {result.candidates.length === 1 ? '' : 's'} of this node.
        {failed.length > 0 &&
          ` ${failed.length} source(s) could not be read: a newer backup may be there (see above).`}
      </p>
    );
  if (c === 'sources-failed')
    return (
      <div className="callout bad" role="alert" data-testid="search-summary">
        <p>
          <strong>
            {failed.length === result.sources.length
              ? 'The source could not be read'
              : `${failed.length} of ${result.sources.length} sources could not be read`}
            : this does not mean the backup is lost.
          </strong>{' '}
          Nothing was found on what could be read, but the backup may be on the source that failed. Fix what
          its message says (the address, the folder, the network) and search again. Do not go to the SCB path
          because of this.
        </p>
        <div className="row">
          <button type="button" onClick={onRetry}>
            Search again
          </button>
        </div>
      </div>
    );
  return (
    <div className="callout bad" role="alert" data-testid="search-summary">
      <p>
        <strong>No backup of this node was found.</strong> Every source was read (
        {entries.toLocaleString('en-US')} entries, {archives.toLocaleString('en-US')} archives) and none is a
        backup of this node. Check that this is the right hsm_secret (the node id above) and the right server.
        If the backup is lost, the SCB path gets the channel funds back.
      </p>
      <div className="row">
        <button type="button" onClick={onCheckNode}>
          Check the node id
        </button>
        <button type="button" onClick={onScb}>
          Go to the SCB path
        </button>
      </div>
    </div>
  );
}

function CandidatesTable({
  result,
  chosen,
  onChoose,
}: {
  result: SearchView;
  chosen: string | null;
  onChoose(clientId: string): void;
}) {
  return (
    <table className="channels stack-narrow" data-testid="candidates">
      <thead>
        <tr>
          <th>use</th>
          <th>source</th>
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
            <td data-label="use">
              <input
                type="radio"
                name="cand"
                aria-label={`use backup ${c.clientId}`}
                checked={chosen === c.clientId}
                disabled={Boolean(c.error)}
                onChange={() => onChoose(c.clientId)}
              />
            </td>
            <td data-label="source" className="mono small">
              {c.sourceLabel}
            </td>
            <td data-label="client id" className="small">
              <GroupedId id={c.clientId} />
            </td>
            <td data-label="data_version">{c.dataVersion ?? '—'}</td>
            <td data-label="last write">{when(c.time, c.timeBasis)}</td>
            <td data-label="increments">{c.increments ?? '—'}</td>
            <td data-label="found by">{c.via === 'code' ? 'recognition code' : 'opening the archive'}</td>
            <td data-label="notes">
              {i === result.freshest && <span className="pill ours">freshest</span>} {c.error?.message}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function VerdictFacts({ verdict }: { verdict: VerdictView }) {
  return (
    <dl className="facts">
      <dt>data_version</dt>
      <dd data-testid="verdict-dv">{verdict.dataVersion}</dd>
      <dt>last write</dt>
      <dd>{when(verdict.time, verdict.timeBasis)}</dd>
      <dt>increments replayed</dt>
      <dd>
        {verdict.increments} ({verdict.statements.toLocaleString('en-US')} statements) on a snapshot at
        data_version {verdict.snapshotDataVersion}
      </dd>
      <dt>integrity</dt>
      <dd>{verdict.integrity.join(', ')}</dd>
      <dt>chain</dt>
      <dd>{verdict.chain === 'v1' ? 'v1 (every increment chained and timed)' : verdict.chain}</dd>
      <dt>client id</dt>
      <dd className="small">
        <GroupedId id={verdict.clientId} />
      </dd>
      <dt>timings</dt>
      <dd>{verdict.timings.map((t) => `${t.step} ${(t.ms / 1000).toFixed(2)} s`).join(' · ')}</dd>
    </dl>
  );
}

/**
 * The verdict in one line. "Verified" only with a proof of freshness: a rebuild whose sources do not
 * prove it is the newest says "checked", and one set aside because it is not proven says what to
 * read next — never the SCB path first, when more servers can settle it.
 */
function VerdictHeadline({ verdict, onScb, onAddSource }: { verdict: VerdictView; onScb(): void; onAddSource(): void }) {
  const f = verdict.freshness;
  const onlyNotProven = verdict.stale && f.state === 'not-proven' && f.policy !== undefined && verdict.staleReasons.every((r) => r.startsWith('Not proven'));
  if (onlyNotProven)
    return (
      <div className="verdict bad" role="alert" data-testid="verdict-headline">
        <strong>Not proven to be the newest state — the database was set aside</strong> as {verdict.database.path} (lightningd does not open
        that name). Do not start lightningd on it: {f.needed !== undefined && f.needed > f.answered ? `read ${f.needed - f.answered} more of the node's servers` : "read the node's other servers"}{' '}
        and recover again; only if none can be read, the SCB path.{' '}
        <button type="button" className="link" onClick={onAddSource}>
          Add a source
        </button>
      </div>
    );
  if (verdict.stale)
    return (
      <div className="verdict bad" role="alert" data-testid="verdict-headline">
        <strong>The state may be stale.</strong> {verdict.staleReasons.join(' ')} {verdict.staleAdvice}{' '}
        <button type="button" className="link" onClick={onScb}>
          Go to the SCB path
        </button>
      </div>
    );
  if (!verdict.ok)
    return (
      <p className="verdict bad" data-testid="verdict-headline">
        Rebuilt, but see the warnings.
      </p>
    );
  return f.state === 'proven' ? (
    <p className="verdict ok" data-testid="verdict-headline">
      Rebuilt, verified and proven fresh: integrity ok, data_version {verdict.dataVersion} matches the last increment, and {f.answered} of the
      node&apos;s {f.policy?.servers} servers answered.
    </p>
  ) : (
    <p className="verdict warn" data-testid="verdict-headline">
      Rebuilt and checked: integrity ok, data_version {verdict.dataVersion} matches the last increment. Not proven to be the newest state (below):
      compare its data_version and last write with what you know of the node before starting it.
    </p>
  );
}

export function Recover({ secret, go, goal, setGoal }: ScreenProps) {
  const [src, setSrc] = useState<SourceListState>(FIRST_SOURCES);
  const online = src.online && anyServer(src);
  const [searchJob, setSearchJob] = useState<string | null>(null);
  const search = useJob<SearchView>(searchJob);
  const [live, setLive] = useState<SearchProgressView | null>(null);
  const [entriesTotal, setEntriesTotal] = useState(0);
  const [picked, setChosen] = useState<string | null>(null);
  const [target, setTarget] = useState<string | null>(null);
  const [lastDv, setLastDv] = useState('');
  const [dvError, setDvError] = useState<string | null>(null);
  const [rebuildJob, setRebuildJob] = useState<string | null>(null);
  const rebuild = useJob<VerdictView>(rebuildJob);
  const [saved, setSaved] = useState<string | null>(null);
  const findAction = useAction();
  const dirAction = useAction();
  const rebuildAction = useAction();
  const dvField = useRef<HTMLInputElement | null>(null);
  useOnlineWhile(
    online && (search?.state === 'running' || rebuild?.state === 'running'),
    'contacting the backup server',
  );

  // Live counts while the codes are checked; the full list once the search is done.
  useEffect(() => {
    if (!searchJob || search?.state !== 'running') return;
    const t = window.setInterval(
      () => void call(api().recover.searchProgress({})).then(setLive, () => undefined),
      200,
    );
    return () => window.clearInterval(t);
  }, [searchJob, search?.state]);
  useEffect(() => {
    if (search?.state !== 'done' || !search.result) return;
    void call(api().recover.entries({ offset: 0, limit: 1 })).then(
      (p) => setEntriesTotal(p.total),
      () => undefined,
    );
  }, [search?.state, search?.result]);

  if (!secret) return null;
  const result = search?.state === 'done' ? search.result : undefined;
  const verdict = rebuild?.state === 'done' ? rebuild.result : undefined;
  // The freshest backup is chosen unless the operator picks another.
  const chosen = picked ?? (result ? (result.candidates[result.freshest]?.clientId ?? null) : null);
  const toScb = () => {
    setGoal('scb');
    go('scb');
  };

  const find = async () => {
    setRebuildJob(null);
    setChosen(null);
    setLive(null);
    setEntriesTotal(0);
    setSearchJob(null);
    const r = await findAction.run(() => call(api().recover.startSearch(searchRequest(src))));
    if (r) setSearchJob(r.jobId);
  };
  const canFind = sourcesReady(src);
  /** Back to the source list to add a server the proof still needs. */
  const addSourceAgain = () => {
    const add = document.getElementById('add-source');
    add?.scrollIntoView({ block: 'center' });
    add?.focus();
  };
  const start = async () => {
    // The staleness check is only as good as this number: refuse what does not parse, never drop it.
    const dv = parseDataVersionText(lastDv);
    if (!dv.ok) {
      setDvError(dv.message);
      dvField.current?.focus();
      return;
    }
    setDvError(null);
    setSaved(null);
    const r = await rebuildAction.run(() =>
      call(
        api().recover.startRebuild({
          ...(chosen ? { clientId: chosen } : {}),
          ...(dv.value !== undefined ? { lastKnownDataVersion: dv.value } : {}),
          online,
        }),
      ),
    );
    if (r) setRebuildJob(r.jobId);
  };

  return (
    <section aria-labelledby="recover-title">
      <GoalSteps
        goal={goal === 'recover' ? 'recover' : null}
        current={verdict ? 3 : 2}
        onLeave={() => setGoal(null)}
      />
      <h1 id="recover-title" tabIndex={-1}>
        Recover the channel database
      </h1>
      <NodeIdDisplay nodeId={secret.nodeId} label="Recovering for node" />

      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (canFind) void find();
        }}
      >
        <fieldset>
          <legend>1. Where is the backup?</legend>
          <SourceListFields
            value={src}
            onChange={setSrc}
            onChooseDir={(key) =>
              void dirAction
                .run(() => call(api().recover.chooseServerDir({ slot: key })))
                .then((r) => r && setSrc((v) => ({ ...v, rows: v.rows.map((x) => (x.key === key ? { ...x, dir: r.path } : x)) })))
            }
            dirError={<ActionError action={dirAction} />}
          />
          <button type="submit" disabled={!canFind}>
            Find my entries
          </button>
          <ActionError action={findAction} />
        </fieldset>
      </form>

      {searchJob && (
        <fieldset>
          <legend>2. Entries on the {src.rows.length > 1 ? 'sources' : 'server'}</legend>
          <ProgressBar
            status={search}
            onCancel={() => void findAction.run(() => call(api().job.cancel({ jobId: searchJob })))}
          />
          {search?.state === 'failed' && (
            <p className="verdict bad" role="alert">
              {search.error?.message}
            </p>
          )}
          {live && (
            <p className="hint" data-testid="live-counts">
              {live.checked.toLocaleString('en-US')} of {live.total.toLocaleString('en-US')} checked ·{' '}
              {live.ours} ours · {live.notOurs.toLocaleString('en-US')} not ours · {live.invalid} invalid
            </p>
          )}
          {result && (
            <ResultRegion show={result} label="Search result">
              <SourceOutcomes result={result} />
              <SearchConclusionView
                result={result}
                onRetry={() => void find()}
                onScb={toScb}
                onCheckNode={() => go('nodeid')}
              />
              {entriesTotal > 0 && <EntriesList key={searchJob} total={entriesTotal} />}
            </ResultRegion>
          )}
        </fieldset>
      )}

      {result && result.candidates.length > 0 && (
        <fieldset>
          <legend>3. Which backup?</legend>
          <CandidatesTable result={result} chosen={chosen} onChoose={setChosen} />
        </fieldset>
      )}

      {chosen && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (target) void start();
          }}
        >
          <fieldset>
            <legend>4. Rebuild</legend>
            <div className="row">
              <button
                type="button"
                onClick={() =>
                  void dirAction
                    .run(() => call(api().recover.chooseLightningDir({})))
                    .then((r) => r && setTarget(r.path))
                }
              >
                Choose the lightning directory…
              </button>
              <span className="mono small" data-testid="lightning-dir">
                {target ?? 'not chosen (an existing lightningd.sqlite3 there is never overwritten)'}
              </span>
            </div>
            <div className="field">
              <label htmlFor="last-dv">
                The last data_version you know of (optional; from logs or monitoring)
              </label>
              <input
                id="last-dv"
                ref={dvField}
                className="short mono"
                inputMode="numeric"
                autoComplete="off"
                value={lastDv}
                aria-invalid={dvError ? true : undefined}
                aria-describedby="last-dv-help"
                onChange={(e) => {
                  setLastDv(e.target.value);
                  setDvError(null);
                }}
              />
              <p
                id="last-dv-help"
                className={dvError ? 'error-banner' : 'hint'}
                role={dvError ? 'alert' : undefined}
                data-testid="last-dv-help"
              >
                {dvError ??
                  'If the backup ends before it, the rebuild is written aside (lightningd.sqlite3.stale-<data_version>) and you are led to the SCB path.'}
              </p>
            </div>
            <button type="submit" disabled={!target}>
              Rebuild and verify
            </button>
            <ActionError action={rebuildAction} />
            {rebuildJob && (
              <ProgressBar
                status={rebuild}
                onCancel={() => void rebuildAction.run(() => call(api().job.cancel({ jobId: rebuildJob })))}
              />
            )}
            {rebuild?.state === 'failed' && (
              <ResultRegion show={rebuild.error}>
                <p className="verdict bad" role="alert">
                  {rebuild.error?.message}
                </p>
              </ResultRegion>
            )}
          </fieldset>
        </form>
      )}

      {verdict && (
        <ResultRegion show={verdict} className="verdict-panel" testId="verdict" label="Verdict">
          <h2>5. Verdict</h2>
          <VerdictHeadline verdict={verdict} onScb={toScb} onAddSource={addSourceAgain} />
          <FreshnessPanel verdict={verdict} />
          <VerdictFacts verdict={verdict} />
          {verdict.warnings.length > 0 && (
            <ul className="warnings">
              {verdict.warnings.map((w, i) => (
                <li key={i} className={w.severity}>
                  {w.message}
                </li>
              ))}
            </ul>
          )}
          <AfterRecoveryPanel verdict={verdict} onScb={toScb} />
          <h3>The recovery report</h3>
          <SaveReportButtons
            save={(format) => api().recover.saveReport({ format })}
            print={() => api().recover.printReport({})}
            onSaved={setSaved}
          />
          {saved && (
            <p role="status" className="verdict ok">
              Saved to {saved}
            </p>
          )}
        </ResultRegion>
      )}
    </section>
  );
}

import { useEffect, useState } from 'react';
import type { DrillHistoryView, DrillView } from '../../../shared/ipc/contract';
import { parseDataVersionText } from '../../../shared/recovery/dataVersion';
import type { ScreenProps } from '../App';
import { api, call } from '../api';
import { ActionError, ResultRegion, useAction } from '../components/Feedback';
import { useOnlineWhile } from '../components/Online';
import { ProgressBar, useJob } from '../components/Progress';
import { SaveReportButtons } from '../components/SaveReportButtons';
import { BackupSourceFields, EMPTY_SOURCE, sourceReady, type BackupSourceState } from '../components/BackupSource';

const day = (t: number) => new Date(t * 1000).toISOString().slice(0, 10);

function DueLine({ history }: { history: DrillHistoryView | null }) {
  if (!history) return null;
  if (!history.lastPass)
    return (
      <p className="verdict warn" data-testid="drill-due">
        No drill of your node has passed yet: run one now.
      </p>
    );
  return (
    <p className={history.overdue ? 'verdict bad' : 'verdict ok'} data-testid="drill-due">
      Last passing drill {day(history.lastPass.finishedAt)}; next drill due {day(history.nextDueAt!)}
      {history.overdue ? ' — OVERDUE: run one now.' : '.'}
    </p>
  );
}

function History({ history }: { history: DrillHistoryView | null }) {
  if (!history || history.entries.length === 0) return <p className="hint">No drills yet.</p>;
  return (
    <ul className="history" data-testid="drill-history">
      {history.entries.slice(0, 12).map((e, i) => (
        <li key={i}>
          <span className={e.kind === 'demo' ? 'pill demo' : e.pass ? 'pill ours' : 'pill failed'}>{e.kind === 'demo' ? 'demo' : e.pass ? 'pass' : 'fail'}</span>{' '}
          {new Date(e.finishedAt * 1000).toISOString().replace('T', ' ').slice(0, 16)} UTC — {e.summary}
        </li>
      ))}
    </ul>
  );
}

function Report({ report }: { report: DrillView }) {
  const demo = report.kind === 'demo';
  return (
    <>
      <p className={demo ? 'verdict demo' : report.pass ? 'verdict ok' : 'verdict bad'} role="status">
        {demo
          ? `DEMO ${report.pass ? 'PASSED' : 'FAILED'} on the bundled data — this shows the program works on this laptop. It is not a drill of your node and does not count towards the next due date.`
          : `${report.pass ? 'PASS' : 'FAIL'} — your node's backup ${report.pass ? 'restores' : 'did not restore'}; next drill due ${day(report.history.nextDueAt ?? report.nextDueAt)}.`}
      </p>
      {report.failure && <p className="verdict bad">{report.failure.message}</p>}
      <table className="channels stack-narrow">
        <thead>
          <tr>
            <th>step</th>
            <th>result</th>
            <th>time</th>
          </tr>
        </thead>
        <tbody>
          {report.steps.map((s, i) => (
            <tr key={i}>
              <td data-label="step">{s.name}</td>
              <td data-label="result">
                {s.ok ? '✓' : '✗'} {s.detail}
              </td>
              <td data-label="time">{(s.ms / 1000).toFixed(2)} s</td>
            </tr>
          ))}
        </tbody>
      </table>
      {report.comparisons.map((c, i) => (
        <p key={i}>
          {c.name}: {c.identical ? `identical to ${c.against}` : `differs from ${c.against}`} ({c.tables} tables, {c.rows.toLocaleString('en-US')} rows)
          {c.aheadBy ? ` — the other is ${c.aheadBy} data_version(s) ahead` : ''}
        </p>
      ))}
      {report.notes.length > 0 && (
        <ul className="hint">
          {report.notes.map((n, i) => (
            <li key={i}>{n}</li>
          ))}
        </ul>
      )}
    </>
  );
}

export function Drill({ secret, go }: ScreenProps) {
  const [jobId, setJobId] = useState<string | null>(null);
  const job = useJob<DrillView>(jobId);
  const [stored, setStored] = useState<DrillHistoryView | null>(null);
  const [src, setSrc] = useState<BackupSourceState>(EMPTY_SOURCE);
  const { mode, address, online } = src;
  const [compare, setCompare] = useState(false);
  const [liveDir, setLiveDir] = useState<string | null>(null);
  const [lastDv, setLastDv] = useState('');
  const [saved, setSaved] = useState<string | null>(null);
  const liveAction = useAction();
  const demoAction = useAction();
  const report = job?.state === 'done' ? job.result : undefined;
  const running = job?.state === 'running';
  useOnlineWhile(online && mode === 'server' && running, 'drill: contacting the backup server');

  useEffect(() => {
    void call(api().drill.history({})).then(setStored, () => undefined);
  }, []);
  // The history as the last drill left it, else as stored when the screen opened.
  const history = report?.history ?? stored;

  const runLive = async () => {
    const dv = parseDataVersionText(lastDv);
    if (!dv.ok) {
      liveAction.fail({ code: 'bad_input', message: dv.message });
      return;
    }
    setSaved(null);
    const r = await liveAction.run(() =>
      call(
        api().drill.startLive({
          source: mode,
          ...(mode === 'server' ? { address: address.trim() } : {}),
          online,
          compareLive: compare,
          ...(dv.value !== undefined ? { lastKnownDataVersion: dv.value } : {}),
        }),
      ),
    );
    if (r) setJobId(r.jobId);
  };
  const runDemo = async () => {
    setSaved(null);
    const r = await demoAction.run(() => call(api().drill.startDemo({})));
    if (r) setJobId(r.jobId);
  };
  const canRun = Boolean(secret) && sourceReady(src) && (!compare || Boolean(liveDir));

  return (
    <section aria-labelledby="drill-title">
      <h1 id="drill-title" tabIndex={-1}>
        Disaster-recovery drill
      </h1>
      <p>
        A drill proves, every quarter, that your node's backup really restores. It never touches your lightning directory: the backup is
        rebuilt in a scratch folder, checked, optionally compared row by row with your live database (read-only), and each step is timed.
      </p>
      <DueLine history={history} />

      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (canRun) void runLive();
        }}
      >
        <fieldset>
          <legend>Drill my node</legend>
          {!secret ? (
            <div className="row">
              <p className="hint">A drill finds your backup with your node's key: import the hsm_secret first.</p>
              <button type="button" onClick={() => go('import')}>
                Import secret
              </button>
            </div>
          ) : (
            <>
              <p className="hint">
                Node {secret.nodeId.slice(0, 8)}…{secret.nodeId.slice(-6)}.
              </p>
              <BackupSourceFields
                id="drill"
                value={src}
                onChange={setSrc}
                chooseLabel="Choose the server directory…"
                onChooseDir={() => void liveAction.run(() => call(api().drill.chooseServerDir({}))).then((r) => r && setSrc((v) => ({ ...v, dir: r.path })))}
              />
              <label>
                <input type="checkbox" checked={compare} onChange={(e) => setCompare(e.target.checked)} /> Compare with my node's live database
                (read with SQLite's backup API; a running lightningd is not disturbed)
              </label>
              {compare && (
                <div className="row">
                  <button type="button" onClick={() => void liveAction.run(() => call(api().drill.chooseLiveDir({}))).then((r) => r && setLiveDir(r.path))}>
                    Choose my lightning directory…
                  </button>
                  <span className="mono small" data-testid="drill-live-dir">
                    {liveDir ?? 'not chosen'}
                  </span>
                </div>
              )}
              <div className="field">
                <label htmlFor="drill-dv">The node's current data_version, if you know it (optional)</label>
                <input id="drill-dv" className="short mono" inputMode="numeric" value={lastDv} onChange={(e) => setLastDv(e.target.value)} />
              </div>
              <button type="submit" disabled={!canRun || running}>
                Run the drill
              </button>
            </>
          )}
          <ActionError action={liveAction} />
        </fieldset>
      </form>

      {jobId && <ProgressBar status={job} onCancel={() => void liveAction.run(() => call(api().job.cancel({ jobId })))} />}
      {job?.state === 'failed' && (
        <p className="verdict bad" role="alert">
          {job.error?.message}
        </p>
      )}
      {report && (
        <ResultRegion show={report} testId="drill-report" label="Drill report">
          <Report report={report} />
          <SaveReportButtons save={(format) => api().drill.saveReport({ format })} print={() => api().drill.printReport({})} onSaved={setSaved} />
          {saved && <p className="verdict ok">Saved to {saved}</p>}
        </ResultRegion>
      )}

      <h2>History</h2>
      <History history={history} />
      {history?.storedIn && <p className="hint">Kept in {history.storedIn} (no secrets: dates, results, node id).</p>}

      <fieldset>
        <legend>Demo (bundled data — not your node)</legend>
        <p className="hint">
          Runs the whole chain on a bundled trace of a real lightningd (v26.06): its hsm_secret, a backup server and the plugin on this
          machine's loopback, the trace played like lightningd, then the entries, the recovery and a row-by-row comparison. It shows the
          program works here; it proves nothing about your node's backup.
        </p>
        <button type="button" disabled={running} onClick={() => void runDemo()}>
          Run the demo drill
        </button>
        <ActionError action={demoAction} />
      </fieldset>
    </section>
  );
}

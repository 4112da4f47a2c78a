import { useState } from 'react';
import type { DrillView } from '../../../shared/ipc/contract';
import type { ScreenProps } from '../App';
import { api, call } from '../api';
import { ProgressBar, useJob } from '../components/Progress';
import { SaveReportButtons } from '../components/SaveReportButtons';

const day = (t: number) => new Date(t * 1000).toISOString().slice(0, 10);

export function Drill({ run, go }: ScreenProps) {
  const [jobId, setJobId] = useState<string | null>(null);
  const job = useJob<DrillView>(jobId);
  const [saved, setSaved] = useState<string | null>(null);
  const report = job?.state === 'done' ? job.result : undefined;
  return (
    <section aria-labelledby="drill-title">
      <h1 id="drill-title" tabIndex={-1}>
        Disaster-recovery drill
      </h1>
      <p>
        A drill proves, every quarter, that your backup really restores. It never touches a real lightning directory: everything
        happens in a scratch folder, each step is timed, and it ends with pass or fail and the date the next drill is due.
      </p>
      <fieldset>
        <legend>Demo drill</legend>
        <p className="hint">
          Runs the whole chain on a bundled trace of a real lightningd (v26.06): its hsm_secret, a backup server and the plugin on
          this machine's loopback, the trace played like lightningd, then the entries, the recovery and a row-by-row comparison.
        </p>
        <button type="submit" disabled={job?.state === 'running'} onClick={() => void run(() => call(api().drill.startDemo({}))).then((r) => r && setJobId(r.jobId))}>
          Run the demo drill
        </button>
        {jobId && <ProgressBar status={job} onCancel={() => void run(() => call(api().job.cancel({ jobId })))} />}
        {job?.state === 'failed' && (
          <p className="verdict bad" role="alert">
            {job.error?.message}
          </p>
        )}
      </fieldset>
      <p>
        For a drill of your own node's backup, import its hsm_secret and use{' '}
        <button type="button" className="link" onClick={() => go('recover')}>
          Recover
        </button>{' '}
        into an empty scratch folder, or run <code>cldcb-client drill --lightning-dir=… --from=…</code>.
      </p>
      {report && (
        <section data-testid="drill-report">
          <p className={report.pass ? 'verdict ok' : 'verdict bad'} role="status">
            {report.pass ? 'PASS' : 'FAIL'} — next drill due {day(report.nextDueAt)}
          </p>
          <table className="channels">
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
                  <td>{s.name}</td>
                  <td>
                    {s.ok ? '✓' : '✗'} {s.detail}
                  </td>
                  <td>{(s.ms / 1000).toFixed(2)} s</td>
                </tr>
              ))}
            </tbody>
          </table>
          {report.comparisons.map((c, i) => (
            <p key={i}>
              {c.name}: {c.identical ? `identical to ${c.against}` : `differs from ${c.against}`} ({c.tables} tables, {c.rows.toLocaleString('en-US')} rows)
            </p>
          ))}
          <SaveReportButtons run={run} save={(format) => api().drill.saveReport({ format })} onSaved={setSaved} />
          {saved && <p className="verdict ok">Saved to {saved}</p>}
        </section>
      )}
    </section>
  );
}

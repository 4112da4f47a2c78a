/**
 * Backup status (issue 11): where each of a node's backup servers stands — the last data_version
 * it acknowledged, when, and how far that is behind lightningd's database — read from the node's
 * lightning directory (or a copy of it), as `cldcb-client status` shows it. Nothing is written and
 * no server is contacted; no secret is needed.
 */
import { useState } from 'react';
import type { BackupStatusView } from '../../../shared/ipc/contract';
import type { ScreenProps } from '../App';
import { api, call } from '../api';
import { ActionError, ResultRegion, useAction } from '../components/Feedback';
import { when } from '../components/time';

const STANDING_PILL: Record<BackupStatusView['servers'][number]['standing'], string> = {
  current: 'pill read',
  behind: 'pill failed',
  ahead: 'pill failed',
  none: 'pill waiting_for_peer',
  unbound: 'pill waiting_for_peer',
  unknown: 'pill not_ours',
};

function Summary({ st }: { st: BackupStatusView }) {
  const n = st.servers.length;
  const db = st.database.dataVersion !== null ? `lightningd's database is at data_version ${st.database.dataVersion}` : `the database's data_version is unknown: ${st.database.error}`;
  if (n === 1) {
    const s = st.servers[0]!;
    const ok = s.standing === 'current';
    return (
      <p className={ok ? 'verdict ok' : 'verdict bad'} data-testid="status-summary">
        One backup server; {db}. {ok ? 'The server holds it.' : `The server: ${s.standingText}.`}
      </p>
    );
  }
  const enough = st.current !== null && st.current >= st.quorum;
  return (
    <p className={st.current === n ? 'verdict ok' : enough ? 'verdict warn' : 'verdict bad'} data-testid="status-summary">
      {n} backup servers, k = {st.quorum}: lightningd commits a write once {st.quorum} of them stored it; {db}.{' '}
      {st.current === null
        ? 'How many servers are current is unknown.'
        : `${st.current} of ${n} ${st.current === 1 ? 'is' : 'are'} current${st.current < n ? ` — ${n - st.current === 1 ? 'the other catches' : 'the others catch'} up in the background while lightningd runs` : ''}.`}
      {st.current !== null && st.current < st.quorum && ' Fewer than k are current: lightningd cannot commit a write until more of them answer.'}
    </p>
  );
}

export function BackupStatus(_props: ScreenProps) {
  const [dir, setDir] = useState<string | null>(null);
  const [status, setStatus] = useState<BackupStatusView | null>(null);
  const action = useAction();
  const read = () =>
    void action.run(() => call(api().status.read({}))).then((v) => {
      if (v) setStatus(v);
    });
  return (
    <section aria-labelledby="status-title">
      <h1 id="status-title" tabIndex={-1}>
        Backup status
      </h1>
      <p>
        Where each of the node&apos;s backup servers stands: the last data_version it acknowledged, when, and how far that is behind lightningd&apos;s
        database. Choose the node&apos;s lightning directory (the one holding lightningd.sqlite3 and the plugin wrapper), or a copy of it. It is only
        read — nothing there changes and no server is contacted (as <code>cldcb-client status</code>). Whether a server still holds what it
        acknowledged only a drill shows.
      </p>
      <div className="row">
        <button
          type="button"
          onClick={() =>
            void action.run(() => call(api().status.chooseLightningDir({}))).then((r) => {
              if (!r) return;
              setDir(r.path);
              setStatus(null);
              read();
            })
          }
        >
          Choose the lightning directory…
        </button>
        <span className="mono small" data-testid="status-dir">
          {dir ?? 'not chosen'}
        </span>
        {dir && (
          <button type="button" onClick={read}>
            Read again
          </button>
        )}
      </div>
      <ActionError action={action} />
      {status && (
        <ResultRegion show={status} testId="status-result" label="Backup status">
          <Summary st={status} />
          <table className="channels stack-narrow" data-testid="status-servers">
            <thead>
              <tr>
                <th>server</th>
                <th>acknowledged data_version</th>
                <th>when</th>
                <th>lag</th>
                <th>standing</th>
              </tr>
            </thead>
            <tbody>
              {status.servers.map((s) => (
                <tr key={s.index} data-testid="status-server">
                  <td data-label="server" className="mono small">
                    {status.servers.length > 1 ? `${s.index}. ` : ''}
                    {s.serverId.slice(0, 12)}…@{s.address}
                    {s.proxy ? ` (through ${s.proxy})` : ''}
                  </td>
                  <td data-label="acknowledged data_version">{s.dataVersion ?? '—'}</td>
                  <td data-label="when">{s.acknowledgedAt !== null ? when(s.acknowledgedAt) : '—'}</td>
                  <td data-label="lag">{s.lag ?? '—'}</td>
                  <td data-label="standing">
                    <span className={STANDING_PILL[s.standing]}>{s.standing}</span> {s.standing === 'current' ? '' : s.standingText}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {status.lastStop && (
            <p className={status.lastStop.warning ? 'verdict warn' : 'hint'} data-testid="status-last-stop">
              {status.lastStop.message}
            </p>
          )}
          {status.afterStopRunning && (
            <p className="verdict warn">lightningd stopped a moment ago and the after-stop check is still running: read again when it is done.</p>
          )}
        </ResultRegion>
      )}
    </section>
  );
}

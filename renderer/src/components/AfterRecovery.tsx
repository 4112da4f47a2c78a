/**
 * The end of a recovery (issue 12 §2, §6): where the files went — a possibly stale database is
 * named so lightningd never opens it — and what to do now, as a checklist the operator can print.
 * The steps come from the backend (shared/recovery/afterRecovery.ts), the same text it prints.
 */
import { useState } from 'react';
import type { VerdictView } from '../../../shared/ipc/contract';
import { api, call } from '../api';
import { ActionError, useAction } from './Feedback';

export function AfterRecoveryPanel({ verdict, onScb }: { verdict: VerdictView; onScb(): void }) {
  const a = verdict.afterRecovery;
  const action = useAction();
  const [outcome, setOutcome] = useState<string | null>(null);
  const print = () =>
    void action.run(() => call(api().recover.printChecklist({}))).then((r) => r !== undefined && setOutcome(r ? 'The checklist was sent to the printer.' : 'Printing cancelled.'));
  const save = () => void action.run(() => call(api().recover.saveChecklist({}))).then((r) => r && setOutcome(`Checklist saved to ${r.path}.`));
  return (
    <section className={verdict.stale ? 'callout bad' : 'callout'} data-testid="after-recovery" aria-labelledby="after-title">
      <h2 id="after-title">{verdict.stale ? 'Where the files went — and why not to start lightningd' : 'What to do now'}</h2>
      <dl className="facts" data-testid="files-written">
        <dt>database</dt>
        <dd className="mono small">
          {verdict.database.path}
          {a.databaseAside && ' — set aside: lightningd does not open this name'}
          {a.staleInPlace && ' — DANGER: lightningd opens this name; move it aside first (step 1)'}
        </dd>
        <dt>plugin wrapper</dt>
        <dd className="mono small">{verdict.wrapper ? verdict.wrapper.path : 'not written'}</dd>
        {verdict.pluginState && (
          <>
            <dt>plugin chain state</dt>
            <dd className="mono small">
              {verdict.pluginState.path} (continues the backup from data_version {verdict.pluginState.dataVersion})
            </dd>
          </>
        )}
        {verdict.clientKeyFile && (
          <>
            <dt>client key</dt>
            <dd className="mono small">{verdict.clientKeyFile}</dd>
          </>
        )}
        <dt>lightning directory</dt>
        <dd className="mono small">{a.lightningDir}</dd>
      </dl>
      <ol className="checklist" data-testid="after-steps">
        {a.steps.map((s) => (
          <li key={s.id} className={s.warning ? 'warn' : undefined}>
            {s.title && <strong>{s.title}</strong>}
            <p>{s.detail}</p>
            {s.command && <pre className="command">{s.command}</pre>}
            {s.id === 'scb' && (
              <button type="button" className="primary" onClick={onScb}>
                Go to the SCB path
              </button>
            )}
          </li>
        ))}
      </ol>
      <div className="row">
        <button type="button" onClick={print}>
          Print this checklist…
        </button>
        <button type="button" onClick={save}>
          Save the checklist as PDF…
        </button>
      </div>
      <ActionError action={action} />
      {outcome && (
        <p role="status" className="verdict ok">
          {outcome}
        </p>
      )}
    </section>
  );
}

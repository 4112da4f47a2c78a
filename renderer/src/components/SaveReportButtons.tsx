/**
 * The "Print… / Save report as PDF… / JSON…" row of the recovery, SCB and drill screens: asks the
 * backend to print or save its report (it opens the dialog) and says what happened right here.
 */
import { useState } from 'react';
import type { ChoosePathResult } from '../../../shared/ipc/contract';
import type { Result } from '../../../shared/errors';
import { call } from '../api';
import { ActionError, useAction } from './Feedback';

export type ReportFormat = 'pdf' | 'json';

export function SaveReportButtons({
  save,
  print,
  onSaved,
  what = 'report',
}: {
  /** The screen's `*.saveReport` call. */
  save: (format: ReportFormat) => Promise<Result<ChoosePathResult | null>>;
  /** The screen's `*.printReport` call. */
  print?: () => Promise<Result<{ printed: true } | null>>;
  /** Called with the path once the operator chose one (not when the dialog was cancelled). */
  onSaved: (path: string) => void;
  what?: string;
}) {
  const action = useAction();
  const [printed, setPrinted] = useState<string | null>(null);
  const saveAs = (format: ReportFormat) => {
    setPrinted(null);
    void action.run(() => call(save(format))).then((r) => r && onSaved(r.path));
  };
  const doPrint = () => {
    if (!print) return;
    setPrinted(null);
    void action.run(() => call(print())).then((r) => r !== undefined && setPrinted(r ? `The ${what} was sent to the printer.` : 'Printing cancelled.'));
  };
  return (
    <>
      <div className="row">
        {print && (
          <button type="button" onClick={doPrint}>
            Print {what}…
          </button>
        )}
        <button type="button" onClick={() => saveAs('pdf')}>
          Save {what} as PDF…
        </button>
        <button type="button" onClick={() => saveAs('json')}>
          Save {what} as JSON…
        </button>
      </div>
      <ActionError action={action} />
      {printed && (
        <p role="status" className="verdict ok">
          {printed}
        </p>
      )}
    </>
  );
}

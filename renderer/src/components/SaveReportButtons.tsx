/**
 * The "Save report as PDF… / JSON…" row of the recovery, SCB and drill screens: asks the
 * backend to save its report (it opens the save dialog) and reports the chosen path.
 */
import type { ChoosePathResult } from '../../../shared/ipc/contract';
import type { Result } from '../../../shared/errors';
import type { ScreenProps } from '../App';
import { call } from '../api';

export type ReportFormat = 'pdf' | 'json';

export function SaveReportButtons({
  run,
  save,
  onSaved,
}: {
  run: ScreenProps['run'];
  /** The screen's `*.saveReport` call. */
  save: (format: ReportFormat) => Promise<Result<ChoosePathResult | null>>;
  /** Called with the path once the operator chose one (not when the dialog was cancelled). */
  onSaved: (path: string) => void;
}) {
  const saveAs = (format: ReportFormat) => void run(() => call(save(format))).then((r) => r && onSaved(r.path));
  return (
    <div className="row">
      <button type="button" onClick={() => saveAs('pdf')}>
        Save report as PDF…
      </button>
      <button type="button" onClick={() => saveAs('json')}>
        Save report as JSON…
      </button>
    </div>
  );
}

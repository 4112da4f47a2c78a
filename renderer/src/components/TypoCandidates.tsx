/**
 * The result of a typo search, with each change placed where the operator finds it on the paper:
 * "line 1, group 2, digit 3 of 4" for hex (the sheet's 4 × 4 layout), "word 7" for words. Each
 * candidate offers one action (apply it to the copy, or load it as the secret); nothing is
 * corrected without the operator choosing it.
 */
import type { TypoCandidateView } from '../../../shared/ipc/contract';
import { describeDigit } from '../../../shared/paper/copyText';

export interface RepairResult {
  candidates: TypoCandidateView[];
  searched: number;
  ms: number;
  exact?: boolean;
}

export function describeChange(kind: 'hex' | 'words', ch: TypoCandidateView['changes'][number]): string {
  return kind === 'hex' ? `${describeDigit(ch.position)}: "${ch.from}" → "${ch.to}"` : `word ${ch.position + 1}: "${ch.from}" → "${ch.to}"`;
}

export function TypoCandidates({
  result,
  kind,
  actionLabel,
  onApply,
}: {
  result: RepairResult;
  kind: 'hex' | 'words';
  actionLabel: string;
  onApply(index: number): void;
}) {
  const what = kind === 'hex' ? 'digits' : 'words';
  return (
    <>
      <p role="status">
        {result.exact
          ? 'The copy as typed already gives this node id.'
          : result.candidates.length === 0
            ? `No correction of up to two ${what} gives this node id (${result.searched.toLocaleString('en-US')} candidates in ${(result.ms / 1000).toFixed(1)} s). Check the node id, or the copy has more errors.`
            : `${result.candidates.length} correction(s) give this node id:`}
      </p>
      <ol>
        {result.candidates.map((c, i) => (
          <li key={i}>
            <span>
              {c.kind}: {c.changes.map((ch) => describeChange(kind, ch)).join('; ')}
            </span>
            <div className="row">
              <button type="button" onClick={() => onApply(i)}>
                {actionLabel}
              </button>
            </div>
          </li>
        ))}
      </ol>
    </>
  );
}

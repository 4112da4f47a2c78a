/**
 * What the recovery warns about: the chain planner's warnings (shared/cldcb/chain.ts) and its
 * own, about the archive file and the recovery as a whole.
 */
import type { ChainWarningKind, WarningSeverity } from '../../cldcb/chain';

export type { WarningSeverity, ReplayPlan, SnapshotSummary, IncrementSummary } from '../../cldcb/chain';

export type RecoveryWarningKind =
  // archive content (shared/cldcb/chain.ts)
  | ChainWarningKind
  // archive file (archiveScan)
  | 'torn_tail'
  | 'footer_damaged'
  // recovery as a whole (engine)
  | 'mtime_time'
  | 'no_time'
  | 'found_by_archive'
  | 'code_not_ours'
  | 'other_entries'
  | 'source_served_less'
  | 'source_failed'
  | 'older_than_known'
  | 'stopping_unconfirmed'
  | 'ends_at_stop'
  | 'fk_violations'
  | 'synthesized_bump'
  | 'wrapper'
  | 'plugin_state'
  | 'cleaned_up'
  | 'chosen_not_freshest';

export interface RecoveryWarning {
  readonly kind: RecoveryWarningKind;
  readonly severity: WarningSeverity;
  /** Plain sentence for the operator; never contains SQL data values or secrets. */
  readonly message: string;
  /** Increment position in the archive, when about one increment. */
  readonly index?: number;
  readonly dataVersion?: number;
}


/**
 * The heavy jobs that run in worker_threads (style.md §10), by name. Each job
 * gets its input (structured-clone data) and a context to report progress and
 * to see whether the operator cancelled. Add a job: import it and list it here.
 */
import { typoRepairSlice } from '../../shared/node/typoRepair';
import { rebuildJob, type RebuildInput } from '../../shared/node/recovery/rebuild';
import { recognizeSliceJob } from '../../shared/node/recovery/recognize';
import { deriveStreamKeysJob } from '../../shared/node/recovery/keys';
import { feedJob } from '../../shared/node/recovery/pipeline';
import type { JobContext } from '../../shared/node/workerPool';
export type { JobContext };

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- inputs/outputs are structured-clone data checked by each job
export type JobFn = (input: any, ctx: JobContext) => unknown;

export const jobs: Record<string, JobFn> = {
  /** A trivial job used by the pool's own tests: counts to `n`, reporting progress. */
  count: (input: { n: number }, ctx) => {
    let i = 0;
    for (; i < input.n; i++) {
      if (ctx.cancelled()) break;
      if (i % 1000 === 0) ctx.progress(i, input.n);
    }
    ctx.progress(i, input.n); // the final report (done = total) is never throttled away
    return i;
  },
  /** One slice of a paper-copy typo search (shared/node/typoRepair.ts). Returns matches: secret, for the caller only. */
  typoRepairSlice,
  /** Recovery: one slice of the recognition-code search (shared/node/recovery/recognize.ts). */
  'recovery.recognize': recognizeSliceJob,
  /** Recovery: unseal, verify and plan one archive, no database (shared/node/recovery/rebuild.ts). */
  'recovery.analyze': (input: RebuildInput, ctx) => rebuildJob({ ...input, analyzeOnly: true }, ctx),
  /** Recovery: rebuild the database from an archive into a temp file, check, commit. */
  'recovery.rebuild': rebuildJob,
  /** Recovery: one slice of the per-increment stream keys (shared/node/recovery/keys.ts). */
  'recovery.keys': deriveStreamKeysJob,
  /** Recovery: the unsealing half of the pipelined rebuild (shared/node/recovery/pipeline.ts). */
  'recovery.feed': feedJob,
};

/**
 * worker_threads entry for the pipelined rebuild's feeder alone (bundled to
 * build/electron/feeder.mjs). It runs the same job as worker.ts's 'recovery.feed', from a
 * bundle about half the size: the feeder's boot lies on the rebuild's critical path, and
 * it took ~45 ms with the full worker bundle against ~25 ms with this one
 * (scripts/bench/recover.bench.ts). workerData has worker.ts's shape; all output goes
 * through the job's MessagePort (pipeline.ts), never parentPort.
 */
import { workerData } from 'node:worker_threads';
import { feedJob, type FeedInput } from '../../shared/node/recovery/pipeline';

try {
  feedJob((workerData as { input: FeedInput }).input);
} catch {
  // feedJob reports its own errors through its port; nothing else can be told from here.
}

/**
 * worker_threads entry (bundled to build/electron/worker.mjs). Messages:
 *   in : { job, input, cancel: SharedArrayBuffer(4) }
 *   out: { type: 'progress', done, total, note } | { type: 'done', result } | { type: 'error', error: ErrorData, trace? }
 * Cancellation is a shared flag (Atomics) because a CPU-bound job never yields
 * to the event loop to read a message.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { CldcbError, developerTrace, toErrorData } from '../../shared/errors';
import { jobs, type JobContext } from './jobs';
import { restrictUnscopedToLoopback } from '../../shared/node/networkGuard';

// A worker computes; it never needs the network, and the action's network scope does not
// cross threads (networkGuard.ts), so any connection attempted here is refused.
restrictUnscopedToLoopback();

interface Start {
  job: string;
  input: unknown;
  cancel: SharedArrayBuffer;
}

async function main(start: Start): Promise<void> {
  const port = parentPort!;
  const flag = new Int32Array(start.cancel);
  let lastProgress = 0;
  const ctx: JobContext = {
    cancelled: () => Atomics.load(flag, 0) !== 0,
    progress: (done, total, note) => {
      const now = Date.now();
      // At most one report per 50 ms; the final one (done = total) always goes out. total ≤ 0: unknown, no final.
      if (now - lastProgress < 50 && (total <= 0 || done < total)) return;
      lastProgress = now;
      port.postMessage({ type: 'progress', done, total, note });
    },
  };
  try {
    const fn = jobs[start.job];
    if (!fn) throw new CldcbError('internal', `Unknown worker job "${start.job}".`);
    const result = await fn(start.input, ctx);
    if (ctx.cancelled()) throw new CldcbError('cancelled', 'Cancelled. Nothing was written.');
    port.postMessage({ type: 'done', result });
  } catch (e) {
    // A bug's trace (no message: developerTrace) goes back with the error for the host's developer log.
    port.postMessage({ type: 'error', error: toErrorData(e), ...(e instanceof CldcbError ? {} : { trace: developerTrace(e) }) });
  }
}

void main(workerData as Start);

/**
 * Run a named job (electron/worker/jobs.ts) in a worker thread, with progress
 * and cancel; or several slices of one search at once, one thread per core.
 */
import { Worker, type TransferListItem } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CldcbError, developerTrace, logDeveloperTrace, type ErrorData } from '../errors';

/**
 * What a job gets beside its input (defined here, beside the pool that provides it, so the
 * jobs themselves need nothing from electron/worker/).
 */
export interface JobContext {
  /** Report progress; cheap to call often (throttled by the pool). */
  progress(done: number, total: number, note?: string): void;
  /** True once the operator cancelled. Long loops must check it and stop. */
  cancelled(): boolean;
}

export interface JobOptions {
  onProgress?: (done: number, total: number, note?: string) => void;
  signal?: AbortSignal;
  /** Objects in `input` to move rather than copy (e.g. a MessagePort). */
  transfer?: readonly TransferListItem[];
}

let workerScript: string | undefined;

/** Where the bundled worker lives; found next to the running bundle or in build/. */
export function findWorkerScript(): string {
  if (workerScript) return workerScript;
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [
    path.join(here, 'worker.mjs'), // running from build/electron/main.mjs
    path.join(here, 'electron', 'worker.mjs'), // running from build/cldcb-*.mjs
    path.join(here, '..', '..', 'build', 'electron', 'worker.mjs'), // running from source (tests)
  ];
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new CldcbError('internal', 'The worker bundle is missing: run `npm run build` first.');
  workerScript = found;
  return found;
}

export function setWorkerScript(file: string): void {
  workerScript = file;
}

/**
 * The feeder-only bundle beside the worker bundle (electron/worker/feeder.ts), or the worker
 * bundle itself, which runs the same job as 'recovery.feed'.
 */
export function findFeederScript(): string {
  const worker = findWorkerScript();
  const feeder = path.join(path.dirname(worker), 'feeder.mjs');
  return existsSync(feeder) ? feeder : worker;
}

/** Run `job` with `input` in a new worker thread. Rejects with CldcbError (code 'cancelled' on abort). */
export function runJob<T>(job: string, input: unknown, opts: JobOptions = {}): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (opts.signal?.aborted) return reject(new CldcbError('cancelled', 'Cancelled. Nothing was written.'));
    const cancel = new SharedArrayBuffer(4);
    const worker = new Worker(findWorkerScript(), { workerData: { job, input, cancel }, ...(opts.transfer ? { transferList: [...opts.transfer] } : {}) });
    const onAbort = () => Atomics.store(new Int32Array(cancel), 0, 1);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      fn();
      void worker.terminate();
    };
    worker.on('message', (m: { type: string; done?: number; total?: number; note?: string; result?: T; error?: ErrorData; trace?: string }) => {
      if (m.type === 'progress') opts.onProgress?.(m.done!, m.total!, m.note);
      else if (m.type === 'done') settle(() => resolve(m.result as T));
      else if (m.type === 'error') {
        if (m.trace) logDeveloperTrace(`in worker job "${job}": ${m.trace}`);
        settle(() => reject(new CldcbError(m.error!.code, m.error!.message)));
      }
    });
    worker.on('error', (e) => {
      logDeveloperTrace(`worker job "${job}" crashed: ${developerTrace(e)}`);
      settle(() => reject(new CldcbError('internal', `Worker job "${job}" crashed (a bug in CLDCB).`)));
    });
    worker.on('exit', (code) => {
      if (!settled) settle(() => reject(new CldcbError('internal', `Worker job "${job}" exited early (code ${code}).`)));
    });
  });
}

/** How many threads a parallel search should use: one per core. */
export const coreCount = (): number => Math.max(1, availableParallelism());

/**
 * Run one job per input slice at the same time; progress is summed over the
 * slices. Cancelling (or any slice failing) stops every slice.
 */
export async function runJobParallel<T>(job: string, inputs: unknown[], opts: JobOptions = {}): Promise<T[]> {
  const inner = new AbortController();
  const forward = () => inner.abort();
  opts.signal?.addEventListener('abort', forward, { once: true });
  const done = new Array<number>(inputs.length).fill(0);
  const total = new Array<number>(inputs.length).fill(0);
  try {
    return await Promise.all(
      inputs.map((input, i) =>
        runJob<T>(job, input, {
          signal: inner.signal,
          onProgress: (d, t, note) => {
            done[i] = d;
            total[i] = t;
            opts.onProgress?.(
              done.reduce((a, b) => a + b, 0),
              total.reduce((a, b) => a + b, 0),
              note,
            );
          },
        }).catch((e: unknown) => {
          inner.abort();
          throw e;
        }),
      ),
    );
  } finally {
    opts.signal?.removeEventListener('abort', forward);
  }
}

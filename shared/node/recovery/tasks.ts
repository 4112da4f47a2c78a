/**
 * The engine's heavy steps as jobs: in a worker thread (electron/worker/jobs.ts), or inline in
 * this thread (tests, `inline: true`). Shared by the search (search.ts) and the rebuild (engine.ts).
 */
import type { TransferListItem } from 'node:worker_threads';
import { CldcbError, toErrorData } from '../../errors';
import { runJob } from '../workerPool';
import { deriveStreamKeysJob, type KeysInput } from './keys';
import { rebuildJob, type RebuildInput } from './rebuild';
import { recognizeSliceJob } from './recognize';

export type JobName = 'recovery.recognize' | 'recovery.analyze' | 'recovery.rebuild' | 'recovery.keys';

type Progress = (done: number, total: number, note?: string) => void;

function inlineJob(name: JobName, input: unknown, ctx: { progress: Progress; cancelled(): boolean }): unknown {
  if (name === 'recovery.recognize') return recognizeSliceJob(input as Parameters<typeof recognizeSliceJob>[0], ctx);
  if (name === 'recovery.analyze') return rebuildJob({ ...(input as RebuildInput), analyzeOnly: true }, ctx);
  if (name === 'recovery.keys') return deriveStreamKeysJob(input as KeysInput, ctx);
  return rebuildJob(input as RebuildInput, ctx);
}

export const cancelled = (): CldcbError => new CldcbError('cancelled', 'Cancelled. Nothing was written.');

export function checkAbort(signal?: AbortSignal): void {
  if (signal?.aborted) throw cancelled();
}

/** Run a job in a worker thread, or inline (yielding to the event loop first). */
export async function runTask<T>(
  name: JobName,
  input: unknown,
  inline: boolean,
  onProgress: Progress,
  signal?: AbortSignal,
  transfer?: readonly TransferListItem[],
): Promise<T> {
  checkAbort(signal);
  if (inline) {
    await new Promise((r) => setImmediate(r));
    return inlineJob(name, input, { progress: onProgress, cancelled: () => signal?.aborted === true }) as T;
  }
  return runJob<T>(name, input, { onProgress, ...(signal ? { signal } : {}), ...(transfer ? { transfer } : {}) });
}

/** An error as the code and message a source or candidate records. */
export function errData(e: unknown): { code: string; message: string } {
  const d = toErrorData(e);
  return { code: d.code, message: d.message };
}

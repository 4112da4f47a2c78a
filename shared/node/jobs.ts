/**
 * Long-running jobs the UI follows by polling (`job.status`) and can cancel
 * (`job.cancel`). Polling keeps one request/response path for Electron and for
 * the e2e harness alike; there is no push channel to secure.
 */
import { CldcbError, toErrorData } from '../errors';
import type { JobStatus } from '../ipc/contract';

export interface JobControl {
  onProgress(done: number, total: number, note?: string): void;
  signal: AbortSignal;
}

interface Entry {
  status: JobStatus;
  abort: AbortController;
}

export class JobRegistry {
  private next = 1;
  private readonly entries = new Map<string, Entry>();
  constructor(
    private readonly now: () => number = Date.now,
    private readonly keep = 50,
  ) {}

  start<T>(kind: string, run: (ctl: JobControl) => Promise<T>): string {
    const id = `job-${this.next++}`;
    const abort = new AbortController();
    const status: JobStatus = { id, kind, state: 'running', done: 0, total: 0, startedAt: this.now(), elapsedMs: 0 };
    this.entries.set(id, { status, abort });
    this.prune();
    const ctl: JobControl = {
      signal: abort.signal,
      onProgress: (done, total, note) => {
        status.done = done;
        status.total = total;
        if (note !== undefined) status.note = note;
      },
    };
    run(ctl).then(
      (result) => {
        status.elapsedMs = this.now() - status.startedAt;
        if (abort.signal.aborted) status.state = 'cancelled';
        else {
          status.state = 'done';
          status.result = result;
        }
      },
      (e: unknown) => {
        status.elapsedMs = this.now() - status.startedAt;
        const err = toErrorData(e);
        status.state = err.code === 'cancelled' || abort.signal.aborted ? 'cancelled' : 'failed';
        status.error = err;
      },
    );
    return id;
  }

  status(id: string): JobStatus {
    const e = this.entries.get(id);
    if (!e) throw new CldcbError('not_found', `No job ${id}: it finished long ago or never existed.`);
    if (e.status.state === 'running') e.status.elapsedMs = this.now() - e.status.startedAt;
    return { ...e.status };
  }

  cancel(id: string): void {
    const e = this.entries.get(id);
    if (!e) throw new CldcbError('not_found', `No job ${id}.`);
    e.abort.abort();
  }

  /** Forget finished jobs beyond the newest `keep` (their results may hold secrets). */
  private prune(): void {
    if (this.entries.size <= this.keep) return;
    for (const [id, e] of this.entries) {
      if (this.entries.size <= this.keep) break;
      if (e.status.state !== 'running') this.entries.delete(id);
    }
  }

  /** Cancel everything and forget all results (on quit, or when the secret is forgotten). */
  clear(): void {
    for (const e of this.entries.values()) e.abort.abort();
    this.entries.clear();
  }
}

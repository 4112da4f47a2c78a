import { useEffect, useRef, useState } from 'react';
import type { JobStatus } from '../../../shared/ipc/contract';
import { api, call } from '../api';

/** Follow a backend job by polling; returns its latest status. */
export function useJob<T>(jobId: string | null): JobStatus<T> | null {
  const [status, setStatus] = useState<JobStatus<T> | null>(null);
  const timer = useRef<number | null>(null);
  useEffect(() => {
    if (!jobId) return;
    let stopped = false;
    const tick = async () => {
      try {
        const s = (await call(api().job.status({ jobId }))) as JobStatus<T>;
        if (stopped) return;
        setStatus(s);
        if (s.state === 'running') timer.current = window.setTimeout(tick, 120);
      } catch {
        /* the job vanished: keep the last status */
      }
    };
    void tick();
    return () => {
      stopped = true;
      if (timer.current) window.clearTimeout(timer.current);
    };
  }, [jobId]);
  return jobId ? status : null;
}

export function ProgressBar({ status, onCancel }: { status: JobStatus | null; onCancel?: () => void }) {
  if (!status) return null;
  const pct = status.state === 'done' ? 100 : status.total > 0 ? Math.min(100, Math.floor((100 * status.done) / status.total)) : 0;
  return (
    <div className="progress" aria-live="polite">
      <progress max={100} value={pct} aria-label="Progress" />
      <span>
        {status.state === 'running' ? `${pct}%` : status.state}
        {status.note ? ` — ${status.note}` : ''} ({(status.elapsedMs / 1000).toFixed(1)} s)
      </span>
      {status.state === 'running' && onCancel && (
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      )}
    </div>
  );
}

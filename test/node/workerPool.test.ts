import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { runJob, runJobParallel } from '../../shared/node/workerPool';
import { setDeveloperLog } from '../../shared/errors';

beforeAll(() => {
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
});

describe('worker pool', () => {
  it('runs a job and reports progress', async () => {
    const seen: number[] = [];
    const result = await runJob<number>('count', { n: 100_000 }, { onProgress: (d) => seen.push(d) });
    expect(result).toBe(100_000);
    expect(seen.length).toBeGreaterThan(0);
  });
  it('cancels a CPU-bound job through the shared flag', async () => {
    const ac = new AbortController();
    const p = runJob<number>('count', { n: 1e12 }, { signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    await expect(p).rejects.toMatchObject({ code: 'cancelled' });
  });
  it("a bug in a worker job is an internal error, and its trace (no message) reaches the host's developer log", async () => {
    const traces: string[] = [];
    setDeveloperLog((t) => traces.push(t));
    try {
      // null input: the job's `input.n` throws a TypeError inside the worker thread.
      await expect(runJob('count', null)).rejects.toMatchObject({ code: 'internal' });
    } finally {
      setDeveloperLog(null);
    }
    expect(traces).toHaveLength(1);
    expect(traces[0]).toMatch(/^in worker job "count": TypeError\n\s+at /);
    expect(traces[0]).not.toMatch(/Cannot read|null/);
  });
  it('reports an unknown job as an error, not a crash', async () => {
    await expect(runJob('no-such-job', {})).rejects.toMatchObject({ code: 'internal' });
  });
  it('runs slices in parallel and sums progress', async () => {
    const reports: [done: number, total: number][] = [];
    const r = await runJobParallel<number>('count', [{ n: 50_000 }, { n: 70_000 }], { onProgress: (d, t) => reports.push([d, t]) });
    expect(r).toEqual([50_000, 70_000]);
    // The worker throttles progress to one report per 50 ms but always sends a slice's final
    // (n, n). Summed over both slices, the last report is therefore (50,000 + 70,000) twice, and
    // the total never exceeds the slices' sum.
    expect(reports.at(-1)).toEqual([120_000, 120_000]);
    expect(Math.max(...reports.map(([, t]) => t))).toBe(120_000);
    for (const [d, t] of reports) expect(d).toBeLessThanOrEqual(t);
  });
});

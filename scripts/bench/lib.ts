/**
 * Tiny benchmark helpers. Figures are reported as ratios against a reference
 * measured in the same run (the machine is shared and noisy: absolute numbers
 * mean little, ratios travel).
 */
export interface Row {
  name: string;
  value: number;
  unit: string;
  /** Reference value measured in the same run, when the figure is a ratio. */
  reference?: { name: string; value: number };
  /** Goal, as text ("≥ 1.0×", "< 1 s"). */
  goal?: string;
  pass?: boolean;
}

/** Run `fn` repeatedly for at least `minMs`; return operations per second. */
export async function opsPerSecond(fn: () => unknown | Promise<unknown>, minMs = 1000, batch = 1): Promise<number> {
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < minMs) {
    for (let i = 0; i < batch; i++) await fn();
    n += batch;
    t = performance.now();
  }
  return (n * 1000) / (t - t0);
}

export async function timeMs<T>(fn: () => T | Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** Print rows as one JSON line (collected by scripts/bench.mjs) and a readable table. */
export function report(suite: string, rows: Row[]): void {
  process.stdout.write(`BENCH ${JSON.stringify({ suite, rows })}\n`);
}

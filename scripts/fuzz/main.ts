/**
 * The fuzz run (bundled and started by scripts/fuzz.mjs). The main thread plans the budget
 * over the targets (scripts/fuzz/targets.ts) and watches a worker thread that runs them: a
 * worker whose heartbeat stops for --hang-ms is a hang (an input that loops or blocks); it
 * is recorded, the worker is ended and a new one goes on with the next input. Any throw that
 * is not a CldcbError (or an error the target documents) is a crash. The report names each
 * finding with its input (base64) so it can be turned into a regression test.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { mutateBytes, mutateJson, mutateText, outcomeKey, Rng } from './engine';
import { TARGETS, type Input, type Target } from './targets';

interface Plan {
  readonly seed: number;
  readonly hangMs: number;
  /** [target index, inputs] */
  readonly work: [number, number][];
  /** Resume: skip this many inputs of the first target. */
  readonly skip: number;
  /** An input slower than this is reported (not a failure unless it is a hang). */
  readonly slowMs: number;
}

interface Finding {
  target: string;
  kind: 'crash' | 'hang' | 'slow';
  error: string;
  stack?: string;
  inputB64: string;
  inputLength: number;
  count: number;
}

interface TargetResult {
  target: string;
  inputs: number;
  ms: number;
  /** The slowest input's time (ms). */
  slowestMs: number;
  outcomes: number;
  corpus: number;
}

type FromWorker =
  { type: 'done'; result: TargetResult } | { type: 'finding'; finding: Finding } | { type: 'end' };

const encodeInput = (x: Input): { b64: string; length: number } => {
  const b =
    x instanceof Uint8Array
      ? Buffer.from(x)
      : Buffer.from(typeof x === 'string' ? x : (JSON.stringify(x.json) ?? 'undefined'), 'utf8');
  return { b64: b.toString('base64'), length: b.length };
};

// ---------------------------------------------------------------------------------------------
// Worker

async function runWorker(plan: Plan, beat: Int32Array): Promise<void> {
  const post = (m: FromWorker): void => parentPort!.postMessage(m);
  for (const [wi, [ti, count]] of plan.work.entries()) {
    const t = TARGETS[ti]!;
    Atomics.store(beat, 0, ti);
    const rng = new Rng(plan.seed ^ Math.imul(ti + 1, 0x9e3779b1));
    const corpus: Input[] = t.seeds();
    const seen = new Set<string>();
    const crashes = new Map<string, Finding>();
    let slowest: { ms: number; input: Input | undefined } = { ms: 0, input: undefined };
    const t0 = performance.now();
    const start = wi === 0 ? plan.skip : 0;
    for (let i = 0; i < count; i++) {
      const input = next(t, rng, corpus, i);
      if (i < start) continue; // keep the generator in step when resuming after a hang
      Atomics.store(beat, 1, i);
      Atomics.add(beat, 2, 1);
      let error: unknown;
      const started = performance.now();
      try {
        const r = t.run(input);
        if (r instanceof Promise) await withTimeout(r, plan.hangMs, t.name);
      } catch (e) {
        error = e;
      }
      const took = performance.now() - started;
      if (took > slowest.ms) slowest = { ms: took, input };
      if (error instanceof HangError) {
        post({
          type: 'finding',
          finding: { target: t.name, kind: 'hang', error: error.message, ...pack(input), count: 1 },
        });
        continue;
      }
      const crashed =
        error !== undefined &&
        !(error instanceof Error && error.name === 'CldcbError') &&
        !t.allowed?.(error);
      if (crashed) {
        const err = error as Error;
        const key = `${err?.name}:${String(err?.message)
          .replace(/[0-9]+/g, '#')
          .slice(0, 80)}`;
        const f = crashes.get(key);
        if (f) f.count++;
        else {
          const finding: Finding = {
            target: t.name,
            kind: 'crash',
            error: `${err?.name}: ${String(err?.message).slice(0, 300)}`,
            stack: String(err?.stack ?? '')
              .split('\n')
              .slice(1, 6)
              .join('\n'),
            ...pack(input),
            count: 1,
          };
          crashes.set(key, finding);
        }
        continue;
      }
      const k = outcomeKey(error);
      if (!seen.has(k)) {
        seen.add(k);
        if (corpus.length < 400) corpus.push(input);
      }
    }
    for (const f of crashes.values()) post({ type: 'finding', finding: f });
    if (slowest.ms > plan.slowMs && slowest.input !== undefined)
      post({
        type: 'finding',
        finding: {
          target: t.name,
          kind: 'slow',
          error: `slowest input took ${slowest.ms.toFixed(0)} ms`,
          ...pack(slowest.input),
          count: 1,
        },
      });
    post({
      type: 'done',
      result: {
        target: t.name,
        inputs: count - start,
        ms: performance.now() - t0,
        slowestMs: slowest.ms,
        outcomes: seen.size,
        corpus: corpus.length,
      },
    });
  }
  post({ type: 'end' });
}

const pack = (x: Input): { inputB64: string; inputLength: number } => {
  const e = encodeInput(x);
  return { inputB64: e.b64, inputLength: e.length };
};

class HangError extends Error {}

function withTimeout(p: Promise<unknown>, ms: number, what: string): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise(
      (_, reject) =>
        (timer = setTimeout(() => reject(new HangError(`${what}: no answer within ${ms} ms`)), ms)),
    ),
  ]).finally(() => clearTimeout(timer));
}

/** Input i of a target: its seeds first, then mutations of the corpus (and some fresh random input). */
function next(t: Target, rng: Rng, corpus: Input[], i: number): Input {
  const seeds = corpus.length;
  if (i < seeds && i < 50) return corpus[i]!;
  const base = rng.pick(corpus);
  const other = rng.pick(corpus);
  const dict = t.dict ?? [];
  if (t.kind === 'json')
    return {
      json: mutateJson(rng, (base as { json: unknown }).json, (other as { json: unknown }).json, dict),
    };
  if (t.kind === 'text') {
    if (rng.chance(0.02))
      return String.fromCharCode(...Array.from({ length: rng.int(200) }, () => rng.int(0x250)));
    return mutateText(rng, base as string, other as string, dict, t.maxLen);
  }
  if (rng.chance(0.02)) return rng.bytes(rng.int(Math.min(t.maxLen, 4096)));
  const enc = new TextEncoder();
  return mutateBytes(
    rng,
    base as Uint8Array,
    other as Uint8Array,
    dict.map((d) => enc.encode(d)),
    t.maxLen,
  );
}

// ---------------------------------------------------------------------------------------------
// Main thread

function usage(): never {
  process.stdout
    .write(`usage: node scripts/fuzz.mjs [--budget=N] [--seed=N] [--only=TEXT] [--hang-ms=N] [--report=FILE] [--list]
  --budget=N    inputs in total, shared by the targets by weight (default 1000000)
  --seed=N      repeat a run exactly (default: random, printed)
  --only=TEXT   only targets whose name contains TEXT
  --hang-ms=N   an input that takes longer is a hang (default 10000)
  --slow-ms=N   report a target's slowest input when it took longer (default 1000; not a failure)
  --report=FILE write the findings (with their inputs, base64) and figures as JSON
  --input=B64   run one input (base64, as a report gives it) through the chosen targets
`);
  process.exit(0);
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) usage();
  const opt = (n: string): string | undefined =>
    args.find((a) => a.startsWith(`--${n}=`))?.slice(n.length + 3);
  const num = (n: string, def: number): number => {
    const v = opt(n);
    if (v === undefined) return def;
    if (!/^\d+$/.test(v)) {
      process.stderr.write(`--${n}: expected a whole number, got "${v}"\n`);
      process.exit(2);
    }
    return Number(v);
  };
  const budget = num('budget', 1_000_000);
  const seed = num('seed', Math.floor(Math.random() * 0xffffffff));
  const hangMs = num('hang-ms', 10_000);
  const slowMs = num('slow-ms', 1000);
  const only = opt('only');
  const chosen = TARGETS.map((t, i) => [t, i] as const).filter(
    ([t]) => only === undefined || t.name.toLowerCase().includes(only.toLowerCase()),
  );
  const replay = opt('input');
  if (replay !== undefined) {
    // One input (base64, as the report gives it) to each chosen target: its outcome and time.
    const bytes = Buffer.from(replay, 'base64');
    for (const [t] of chosen) {
      const input: Input = t.kind === 'bytes' ? new Uint8Array(bytes) : t.kind === 'text' ? bytes.toString('utf8') : { json: JSON.parse(bytes.toString('utf8')) as unknown };
      const t0 = performance.now();
      let outcome = 'ok';
      try {
        await t.run(input);
      } catch (e) {
        outcome = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      }
      process.stdout.write(`${t.name}: ${(performance.now() - t0).toFixed(1)} ms, ${outcome.slice(0, 300)}\n`);
    }
    return 0;
  }
  if (args.includes('--list')) {
    for (const [t] of chosen) process.stdout.write(`${t.name} (weight ${t.weight})\n`);
    return 0;
  }
  if (chosen.length === 0) {
    process.stderr.write(`no target matches "${only}"\n`);
    return 2;
  }
  const total = chosen.reduce((n, [t]) => n + t.weight, 0);
  const work: [number, number][] = chosen.map(([t, i]) => [
    i,
    Math.max(1, Math.round((budget * t.weight) / total)),
  ]);
  process.stdout.write(
    `fuzz: ${work.reduce((n, [, c]) => n + c, 0)} inputs over ${work.length} targets, seed ${seed}, hang limit ${hangMs} ms\n`,
  );

  const results: TargetResult[] = [];
  const findings: Finding[] = [];
  const t0 = performance.now();
  let remaining = work;
  let skip = 0;
  while (remaining.length > 0) {
    const beat = new Int32Array(new SharedArrayBuffer(12));
    const plan: Plan = { seed, hangMs, work: remaining, skip, slowMs };
    const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { plan, beat } });
    const outcome = await new Promise<{ hang?: { target: number; input: number } }>((resolve) => {
      let last = -1;
      let lastChange = Date.now();
      let lastPrint = Date.now();
      const watch = setInterval(() => {
        const now = Atomics.load(beat, 2);
        if (now !== last) {
          last = now;
          lastChange = Date.now();
        } else if (Date.now() - lastChange > hangMs) {
          clearInterval(watch);
          resolve({ hang: { target: Atomics.load(beat, 0), input: Atomics.load(beat, 1) } });
        }
        if (Date.now() - lastPrint > 10_000) {
          lastPrint = Date.now();
          process.stdout.write(
            `  … ${TARGETS[Atomics.load(beat, 0)]!.name}: input ${Atomics.load(beat, 1)}\n`,
          );
        }
      }, 250);
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'finding') findings.push(m.finding);
        if (m.type === 'done') {
          results.push(m.result);
          const r = m.result;
          process.stdout.write(
            `  ${r.target}: ${r.inputs} inputs in ${(r.ms / 1000).toFixed(1)} s (slowest ${r.slowestMs.toFixed(1)} ms), ${r.outcomes} distinct outcomes\n`,
          );
        }
        if (m.type === 'end') {
          clearInterval(watch);
          resolve({});
        }
      });
      worker.on('error', (e) => {
        clearInterval(watch);
        findings.push({
          target: TARGETS[Atomics.load(beat, 0)]!.name,
          kind: 'crash',
          error: `worker died: ${String(e)}`,
          inputB64: '',
          inputLength: 0,
          count: 1,
        });
        resolve({ hang: { target: Atomics.load(beat, 0), input: Atomics.load(beat, 1) } });
      });
    });
    await worker.terminate();
    if (!outcome.hang) break;
    // A hang: record it (the input is regenerated from the seed by the report's replay) and go on after it.
    const { target, input } = outcome.hang;
    const at = remaining.findIndex(([ti]) => ti === target);
    findings.push({
      target: TARGETS[target]!.name,
      kind: 'hang',
      error: `no progress for ${hangMs} ms at input ${input} (replay: --seed=${seed} --only="${TARGETS[target]!.name}")`,
      inputB64: '',
      inputLength: 0,
      count: 1,
    });
    results.push({
      target: TARGETS[target]!.name,
      inputs: input + 1 - (at === 0 ? skip : 0),
      ms: 0,
      slowestMs: hangMs,
      outcomes: 0,
      corpus: 0,
    });
    remaining = remaining.slice(Math.max(0, at));
    skip = input + 1;
    if (remaining[0] && skip >= remaining[0][1]) {
      remaining = remaining.slice(1);
      skip = 0;
    }
  }
  const secs = (performance.now() - t0) / 1000;
  const inputs = results.reduce((n, r) => n + r.inputs, 0);
  const crashes = findings.filter((f) => f.kind === 'crash');
  const hangs = findings.filter((f) => f.kind === 'hang');
  const slow = findings.filter((f) => f.kind === 'slow');
  process.stdout.write(
    `\nfuzz: ${inputs} inputs, ${results.length} target runs, ${secs.toFixed(0)} s; ${crashes.length} distinct crashes (${crashes.reduce((n, f) => n + f.count, 0)} inputs), ${hangs.length} hangs, ${slow.length} targets with an input over ${slowMs} ms (seed ${seed})\n`,
  );
  for (const f of findings)
    process.stdout.write(
      `  ${f.kind.toUpperCase()} in ${f.target} ×${f.count}: ${f.error}\n${f.stack ? f.stack.replace(/^/gm, '      ') + '\n' : ''}      input (${f.inputLength} bytes, base64): ${f.inputB64.slice(0, 200)}${f.inputB64.length > 200 ? '…' : ''}\n`,
    );
  const report = opt('report');
  if (report)
    writeFileSync(
      report,
      JSON.stringify({ seed, budget, seconds: secs, inputs, results, findings }, null, 2),
    );
  return crashes.length + hangs.length > 0 ? 1 : 0;
}

if (isMainThread) {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`fuzz: ${String(e)}\n`);
      process.exit(70);
    },
  );
} else {
  const { plan, beat } = workerData as { plan: Plan; beat: Int32Array };
  void runWorker(plan, beat);
}

/**
 * How the tier's tests are declared, so that a skipped test never vanishes and always says
 * why (GUIDE "Skipped tests are counted and shown in npm test's summary, each with its
 * reason"). The reason is data: it goes into the test's `meta.skipReason`, which vitest's
 * JSON report carries and scripts/test.mjs prints above the summary line.
 *
 *  - No lightningd (CLDCB_CLN_DIR unset, binaries missing or not runnable): every tier test
 *    is skipped with that reason — or fails with it when CLDCB_CLN_REQUIRED=1 (CI).
 *  - A scenario that fails on main because of a known product defect is declared with
 *    `pending: 'issue N defect M — …'`: skipped with "pending fix: …" until the fix lands.
 *    CLDCB_TIER_RUN_PENDING=1 runs pending tests as ordinary tests (to watch them fail for
 *    the stated reason, or pass once fixed — then delete the `pending`).
 *  - `steps()`: tests that continue one story (one network). When a step fails, the later
 *    steps are skipped with "an earlier step failed: …" instead of failing for no reason of
 *    their own.
 */
import { afterAll, beforeAll, beforeEach, it, type TestContext } from 'vitest';
import { CLN_REQUIRED_ENV, findCln } from './harness/cln';
import { Network } from './harness/network';
import { backedUpPair, type BackedUpPair, type PairOptions } from './harness/scenario';

declare module '@vitest/runner' {
  interface TaskMeta {
    /** Why the test was skipped (read by scripts/test.mjs). */
    skipReason?: string;
  }
}

export const RUN_PENDING_ENV = 'CLDCB_TIER_RUN_PENDING';

const cln = findCln();
/** Whether the tier can run here; `why` is the skip reason when not. */
export const tierAvailable = cln.ok;
export const tierUnavailableReason = cln.ok ? undefined : cln.reason;

export interface TierTestOptions {
  /** The defect that makes this test fail today: "issue 10 defect 1 — …". */
  readonly pending?: string;
  readonly timeout?: number;
}

type Body = (ctx: TestContext) => Promise<void> | void;

/** Declare a tier test (see the module comment for skips). */
export function tierTest(title: string, body: Body, opts: TierTestOptions = {}): void {
  const timeout = opts.timeout;
  if (!cln.ok) {
    if (process.env[CLN_REQUIRED_ENV] === '1')
      it(title, () => {
        throw new Error(`${cln.reason} — and ${CLN_REQUIRED_ENV}=1 says this run must have it`);
      });
    else it(title, { skip: true, meta: { skipReason: cln.reason } }, () => {});
    return;
  }
  if (opts.pending && process.env[RUN_PENDING_ENV] !== '1') {
    it(title, { skip: true, meta: { skipReason: `pending fix: ${opts.pending}` } }, () => {});
    return;
  }
  it(title, { ...(timeout ? { timeout } : {}) }, body);
}

/**
 * Tests that continue one story, run in order. A failed step makes the later ones skip at
 * run time with the reason recorded.
 */
export function steps(): (title: string, body: Body, opts?: TierTestOptions) => void {
  let failedStep: string | undefined;
  return (title, body, opts = {}) =>
    tierTest(
      title,
      async (ctx) => {
        if (failedStep !== undefined) {
          ctx.task.meta.skipReason = `an earlier step failed: ${failedStep}`;
          ctx.skip(ctx.task.meta.skipReason);
          return;
        }
        try {
          await body(ctx);
        } catch (e) {
          // A pending step fails for its own, known reason; the story goes on without it.
          if (!opts.pending) failedStep = title;
          throw e;
        }
      },
      opts,
    );
}

/**
 * One network per test file: created before the first test (only where the tier can run),
 * kept on disk when a test failed (its path is printed), and always torn down — every
 * lightningd and cldcb-server it started is killed.
 */
export function useNetwork(): () => Network {
  let net: Network | undefined;
  beforeAll(async () => {
    if (tierAvailable) net = await Network.create();
  });
  beforeEach((ctx) => {
    ctx.onTestFailed(() => net?.keep());
  });
  afterAll(async () => {
    const kept = await net?.close();
    if (kept)
      console.log(
        `lightningd tier: kept ${kept} for inspection (logs: <node>/log, <node>/stderr.log, <server>.log)`,
      );
  });
  return () => {
    if (!net) throw new Error('no network: the tier is not available here');
    return net;
  };
}

/**
 * `useNetwork()` plus the backed-up pair (harness/scenario.ts) set up before the first test;
 * `take` receives both (the scenario files keep them in module variables).
 */
export function useBackedUpPair(
  opts: PairOptions,
  take: (c: { net: Network; pair: BackedUpPair }) => void,
): void {
  const network = useNetwork();
  beforeAll(async () => {
    if (!tierAvailable) return;
    const net = network();
    take({ net, pair: await backedUpPair(net, opts) });
  });
}

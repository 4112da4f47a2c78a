/**
 * Payment time on live lightningd nodes, with the cldcb plugin against without it
 * (`npm run bench -- lightningd`; issue 10: today +30 % mean, goal ≤ +10 %).
 *
 * One fake chain (test/lightningd harness), two identical pairs set up the same way: A–B
 * where A runs our plugin (installed the README's way, our server on loopback) and C–D
 * without it, each pair with a channel opened from each side. Each round times N `pay`
 * calls in each direction on both pairs (the invoice is made before the clock starts); the
 * pairs alternate which goes first, so drift over the run cancels. Figures are ratios of the
 * plugin pair to the reference pair, the mean of the per-round ratios with their min–max.
 * Both run at lightningd's and the server's default log level (info).
 *
 * Needs CLDCB_CLN_DIR (test/lightningd/README.md). CLDCB_BENCH_LN_ROUNDS (default 6) and
 * CLDCB_BENCH_LN_PAYS (default 40 per direction and pair per round) size the run.
 */
import { findCln } from '../../test/lightningd/harness/cln';
import { Network } from '../../test/lightningd/harness/network';
import type { LightningNode } from '../../test/lightningd/harness/node';
import { backedUpPair, channelsBothWays } from '../../test/lightningd/harness/scenario';
import { percentile, report, type Row } from './lib';

const SUITE = 'lightningd payments (plugin vs none)';
const ROUNDS = Number(process.env.CLDCB_BENCH_LN_ROUNDS ?? 6);
const PAYS = Number(process.env.CLDCB_BENCH_LN_PAYS ?? 40);
const GOAL = 1.1;

interface Stats {
  mean: number;
  p95: number;
}

function stats(ms: number[]): Stats {
  const sorted = [...ms].sort((x, y) => x - y);
  return { mean: ms.reduce((s, v) => s + v, 0) / ms.length, p95: percentile(sorted, 95) };
}

async function timePays(net: Network, from: LightningNode, to: LightningNode, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const inv = await net.invoice(to, 1_000_000 + i);
    const t0 = performance.now();
    const r = await from.call<{ status: string }>('pay', { bolt11: inv.bolt11 }, 60_000);
    out.push(performance.now() - t0);
    if (r.status !== 'complete') throw new Error(`pay ${from.name}→${to.name}: ${r.status}`);
  }
  return out;
}

async function main(): Promise<void> {
  const cln = findCln();
  if (!cln.ok) {
    console.log(`skipped: ${cln.reason}`);
    report(SUITE, [{ name: `skipped — ${cln.reason}`, value: NaN, unit: '' }]);
    return;
  }
  const net = await Network.create();
  try {
    const info = { logLevel: 'info' };
    const pair = await backedUpPair(net, {
      names: ['a', 'b'],
      aStart: info,
      bStart: info,
      serverLogLevel: 'info',
    });
    const c = await net.addNode('c');
    const d = await net.addNode('d');
    await Promise.all([c.start(info), d.start(info)]);
    await channelsBothWays(net, c, d);
    const configs = {
      plugin: { fwd: [pair.a, pair.b], back: [pair.b, pair.a] },
      none: { fwd: [c, d], back: [d, c] },
    } as const;
    // Warm-up: both directions, both pairs (route caches, JIT, connections).
    for (const cfg of Object.values(configs))
      for (const [from, to] of [cfg.fwd, cfg.back]) await timePays(net, from, to, Math.min(10, PAYS));

    type Dir = 'fwd' | 'back';
    const ratios: Record<Dir, { mean: number[]; p95: number[] }> = {
      fwd: { mean: [], p95: [] },
      back: { mean: [], p95: [] },
    };
    const all: Record<'plugin' | 'none', Record<Dir, number[]>> = {
      plugin: { fwd: [], back: [] },
      none: { fwd: [], back: [] },
    };
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? (['plugin', 'none'] as const) : (['none', 'plugin'] as const);
      const got: Record<'plugin' | 'none', Record<Dir, Stats>> = {} as never;
      for (const name of order) {
        const cfg = configs[name];
        const fwd = await timePays(net, cfg.fwd[0], cfg.fwd[1], PAYS);
        const back = await timePays(net, cfg.back[0], cfg.back[1], PAYS);
        all[name].fwd.push(...fwd);
        all[name].back.push(...back);
        got[name] = { fwd: stats(fwd), back: stats(back) };
      }
      for (const dir of ['fwd', 'back'] as const) {
        ratios[dir].mean.push(got.plugin[dir].mean / got.none[dir].mean);
        ratios[dir].p95.push(got.plugin[dir].p95 / got.none[dir].p95);
      }
      console.log(
        `round ${round + 1}/${ROUNDS}: A→B ${got.plugin.fwd.mean.toFixed(1)} ms vs C→D ${got.none.fwd.mean.toFixed(1)} ms; B→A ${got.plugin.back.mean.toFixed(1)} ms vs D→C ${got.none.back.mean.toFixed(1)} ms (means)`,
      );
    }
    const rows: Row[] = [];
    const label = { fwd: 'A→B', back: 'B→A' } as const;
    for (const dir of ['fwd', 'back'] as const) {
      for (const kind of ['mean', 'p95'] as const) {
        const rs = ratios[dir][kind];
        const value = rs.reduce((s, v) => s + v, 0) / rs.length;
        const ref = stats(all.none[dir])[kind];
        rows.push({
          name: `pay ${label[dir]} ${kind} with plugin / without (rounds ${Math.min(...rs).toFixed(2)}–${Math.max(...rs).toFixed(2)})`,
          value,
          unit: '×',
          reference: { name: `${kind} ms without plugin`, value: ref },
          ...(kind === 'mean' ? { goal: `≤ ${GOAL.toFixed(2)}×`, pass: value <= GOAL } : {}),
        });
      }
      rows.push({
        name: `pay ${label[dir]} mean with plugin (ms, ${all.plugin[dir].length} payments)`,
        value: stats(all.plugin[dir]).mean,
        unit: 'ms',
      });
    }
    for (const r of rows) console.log(`${r.name}: ${r.value.toFixed(3)} ${r.unit}`);
    report(SUITE, rows);
  } finally {
    await net.close();
  }
}

await main();

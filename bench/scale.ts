/**
 * Scale bench: the processor's drain with the stores grown to each size of a series (default
 * 10 thousand, 100 thousand and 10 million stored conversions). Each size gets a fresh database
 * whose stores are generated in Postgres directly (lib/store.ts: clicks, conversions, postbacks,
 * outcomes and ledger entries, then indexes and VACUUM ANALYZE), then the drain bench (drain.ts)
 * runs on it: the same number of fresh postbacks pre-produced and drained by the built processor,
 * then a paced phase at 70 % of the drain's rate for the decision latency at that size.
 *
 *   BENCH_SCALE_MAX=1000000 node_modules/.bin/ts-node -r tsconfig-paths/register --transpile-only bench/scale.ts
 *
 * Env: BENCH_SCALE (stored sizes, default 10000,100000,10000000), BENCH_SCALE_MAX (sizes above it
 * become it: a quick run), BENCH_SCALE_DRAIN (fresh postbacks per drain, default 100000),
 * BENCH_PACED_SECONDS (paced phase, default 10; 0 leaves it out), BENCH_SKIP_BUILD=1.
 *
 * Targets (issue #17): decisions/s at the largest size at least 0.8 of those at the smallest;
 * processor peak RSS at the largest at most 1.2 x that at 100 thousand; the ledger topic never
 * more than 1 s behind the table, at every size.
 */
import { drainMarkdown, type DrainResult, runDrainBench } from './drain';
import { envInt, fmt, formatTable, writeResults } from './lib/stats';
import { runBenchMain } from './lib/system';
import { ratioOf, type Target, targetsMarkdown } from './lib/targets';

export interface ScaleOptions {
  sizes?: number[];
  drainN?: number;
  pacedSeconds?: number;
  log?: (line: string) => void;
}

export interface ScaleResult {
  sizes: number[];
  drainN: number;
  series: DrainResult[];
}

/** The stored sizes: BENCH_SCALE, each capped at BENCH_SCALE_MAX, in order, without repeats. */
export function scaleSizes(): number[] {
  const raw = process.env.BENCH_SCALE?.trim() || '10000,100000,10000000';
  const max = envInt('BENCH_SCALE_MAX', 100_000_000, 1, 100_000_000);
  const sizes = raw.split(',').map((s) => Number(s.trim()));
  if (sizes.some((x) => !Number.isInteger(x) || x < 1 || x > 100_000_000))
    throw new Error(
      `BENCH_SCALE must be comma-separated stored sizes from 1 to 100000000 (got ${JSON.stringify(raw)})`,
    );
  return [...new Set(sizes.map((x) => Math.min(x, max)))].sort((a, b) => a - b);
}

export async function runScaleBench(opts: ScaleOptions = {}): Promise<ScaleResult> {
  const sizes = opts.sizes ?? scaleSizes();
  const drainN = opts.drainN ?? envInt('BENCH_SCALE_DRAIN', 100_000, 1, 10_000_000);
  const pacedSeconds = opts.pacedSeconds ?? envInt('BENCH_PACED_SECONDS', 10, 0, 600);
  const log = opts.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  const series: DrainResult[] = [];
  for (const stored of sizes) {
    log(`== scale: ${fmt(stored)} stored conversions, drain of ${fmt(drainN)} fresh postbacks`);
    series.push(await runDrainBench({ n: drainN, stored, pacedSeconds, log }));
  }
  return { sizes, drainN, series };
}

const bySize = (series: DrainResult[], size: number) => series.find((d) => d.stored === size);

/** The three scale targets over a series (sizes in increasing order). */
export function scaleTargets(series: DrainResult[]): Target[] {
  const smallest = series[0];
  const largest = series[series.length - 1];
  const rssBase = bySize(series, 100_000) ?? (series.length > 1 ? series[1] : smallest);
  const many = series.length > 1;
  const worst = series.reduce<DrainResult | undefined>(
    (a, d) => (!a || d.relayMaxLagSeconds > a.relayMaxLagSeconds ? d : a),
    undefined,
  );
  const per = (d: DrainResult | undefined, f: (d: DrainResult) => string) => (d ? f(d) : 'not run');
  return [
    {
      name: `decisions/s with ${per(largest, (d) => fmt(d.stored))} conversions stored ÷ with ${per(smallest, (d) => fmt(d.stored))}`,
      ours: per(largest, (d) => `${fmt(d.decisionsPerSecond)}/s`),
      reference: per(smallest, (d) => `${fmt(d.decisionsPerSecond)}/s`),
      ratio: many ? ratioOf(largest?.decisionsPerSecond, smallest?.decisionsPerSecond) : NaN,
      bound: { min: 0.8 },
      note: `the drain of ${per(largest, (d) => fmt(d.n))} fresh postbacks by the built processor on each store (drain.ts)`,
    },
    {
      name: `processor peak RSS with ${per(largest, (d) => fmt(d.stored))} stored ÷ with ${per(rssBase, (d) => fmt(d.stored))}`,
      ours: per(largest, (d) => `${fmt(d.peakRssMiB.processor ?? NaN)} MiB`),
      reference: per(rssBase, (d) => `${fmt(d.peakRssMiB.processor ?? NaN)} MiB`),
      ratio:
        many && rssBase !== largest
          ? ratioOf(largest?.peakRssMiB.processor, rssBase?.peakRssMiB.processor)
          : NaN,
      bound: { max: 1.2 },
      note: 'peak of the 500 ms samples over the drain (boot to the last entry published), before the paced phase',
    },
    {
      name: 'ledger topic behind the table, worst size (s ÷ 1 s)',
      ours: per(worst, (d) => `${fmt(d.relayMaxLagSeconds, 2)} s at ${fmt(d.stored)} stored`),
      reference: '1 s',
      ratio: worst ? worst.relayMaxLagSeconds : NaN,
      bound: { max: 1 },
      note:
        'at each 200 ms poll of the processor counters (postback_decisions_total, ledger_entries_published_total), how long ago ' +
        'the oldest decided but unpublished entry was decided; the most over the drain, an upper bound to one poll. ' +
        `After the last decision: ${series.map((d) => `${fmt(d.topicAfterLastDecisionSeconds, 2)} s at ${fmt(d.stored)}`).join(', ')}`,
    },
  ];
}

export function scaleRows(series: DrainResult[]): Record<string, string>[] {
  const first = series[0];
  return series.map((d) => ({
    'stored conversions': fmt(d.stored),
    'store generated in (s)': d.store ? fmt(d.store.seconds) : 'n/a',
    'store size (MiB)': d.store ? fmt(d.store.sizeMiB) : 'n/a',
    'decisions/s': fmt(d.decisionsPerSecond),
    'vs smallest': first ? fmt(ratioOf(d.decisionsPerSecond, first.decisionsPerSecond), 2) : 'n/a',
    'processor RSS booted → 10 % → 50 % → 100 % (MiB)': [
      d.rssIdleMiB,
      d.rssAtTenthsMiB[0],
      d.rssAtTenthsMiB[4],
      d.rssAtTenthsMiB[9],
    ]
      .map((x) => fmt(x ?? NaN, 0))
      .join(' → '),
    'processor peak RSS (MiB)': fmt(d.peakRssMiB.processor ?? NaN),
    'topic behind table max / after last decision (s)': `${fmt(d.relayMaxLagSeconds, 2)} / ${fmt(d.topicAfterLastDecisionSeconds, 2)}`,
    'paced decision latency p50 / p99 (ms)': d.paced
      ? `${fmt(d.paced.e2eMs.p50)} / ${fmt(d.paced.e2eMs.p99)} at ${fmt(d.paced.rate)}/s`
      : 'not run',
    correct: d.verify.problems.length ? `NO: ${d.verify.problems.join('; ')}` : 'yes',
  }));
}

export function scaleMarkdown(r: ScaleResult): string {
  return [
    `# Scale: the processor's drain with the stores at ${r.sizes.map((s) => fmt(s)).join(', ')} conversions (${new Date().toISOString()})`,
    '',
    `Each size: a fresh database grown in Postgres (bench/lib/store.ts), then ${fmt(r.drainN)} fresh postbacks drained by the built processor (drain.ts), then a paced phase at 70 % of that drain's rate.`,
    '',
    formatTable(scaleRows(r.series)),
    '',
    targetsMarkdown(scaleTargets(r.series)),
    drainMarkdown(r.series),
  ].join('\n');
}

async function main(): Promise<void> {
  const r = await runScaleBench();
  writeResults('scale', scaleMarkdown(r));
  if (r.series.some((d) => d.verify.problems.length)) process.exitCode = 1;
}

if (require.main === module) runBenchMain('scale bench', main);

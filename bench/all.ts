/**
 * `npm run bench`: every bench in one go on this machine, the targets of issue #17 as ratios of
 * figures measured in this same run, and one summary.
 *
 *   1. references (reference.ts): raw kafkajs produce and consume, raw Postgres batched insert,
 *      the minimal gateway (under the gateway bench's load) and the minimal pipeline (on the
 *      drain bench's backlog size);
 *   2. the gateway bench (gateway.ts), right after the minimal gateway, the two as a pair
 *      BENCH_GATEWAY_PAIRS times (default 3): the gateway targets take the median pair;
 *   3. the pipeline bench (pipeline.ts) closed loop, then open loop at 70 % of the closed loop's
 *      end-to-end rate for the p99;
 *   4. the scale bench (scale.ts): the processor's drain with the stores grown to each size.
 *
 * Prints the targets table (target, our figure, the reference figure, ratio, required, met or
 * missed) and the summary, writes them with every bench's tables to bench/results/<date>.md (and
 * each bench's own <date>-<name>.md), and puts them into README.md's "Latest figures" section.
 *
 * Env: BENCH_ONLY (comma-separated subset of reference,gateway,pipeline,scale; default all),
 * BENCH_REF_N (raw references' messages and rows, default 100000), BENCH_PIPELINE_N (default
 * 50000), BENCH_SECONDS / BENCH_WARMUP_SECONDS / BENCH_CONNECTIONS (gateway and minimal gateway),
 * BENCH_SCALE, BENCH_SCALE_MAX, BENCH_SCALE_DRAIN (also the minimal pipeline's size),
 * BENCH_PACED_SECONDS, BENCH_GATEWAY_PAIRS (default 3), BENCH_SKIP_BUILD=1.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type DrainResult } from './drain';
import { gatewayMarkdown, type GatewayBenchResult, runGatewayBench } from './gateway';
import { envInt, fmt, formatTable, machineLine, RESULTS_DIR, writeResults } from './lib/stats';
import { BROKER, runBenchMain, SELF } from './lib/system';
import { medianPair, ratioOf, type Target, targetsMarkdown, verdict } from './lib/targets';
import { pipelineMarkdown, type PipelineBenchResult, runPipelineBench } from './pipeline';
import {
  type MinimalGatewayResult,
  minimalMarkdown,
  type MinimalPipelineResult,
  referenceMarkdown,
  type ReferenceResult,
  runMinimalGateway,
  runMinimalPipeline,
  runReference,
} from './reference';
import { runScaleBench, type ScaleResult, scaleMarkdown, scaleRows, scaleTargets } from './scale';

const README = join(__dirname, '..', 'README.md');
const PARTS = ['reference', 'gateway', 'pipeline', 'scale'] as const;
type Part = (typeof PARTS)[number];
/** The open-loop run offers this share of the closed loop's end-to-end rate. */
const OPEN_LOOP_SHARE = 0.7;

function selected(): Set<Part> {
  const raw = process.env.BENCH_ONLY?.trim();
  if (!raw) return new Set(PARTS);
  const parts = raw.split(',').map((s) => s.trim());
  for (const p of parts)
    if (!(PARTS as readonly string[]).includes(p))
      throw new Error(`BENCH_ONLY: unknown part ${JSON.stringify(p)} (use ${PARTS.join(',')})`);
  return new Set(parts as Part[]);
}

interface GatewayPair {
  minimal: MinimalGatewayResult;
  gateway: GatewayBenchResult;
}

interface AllResults {
  reference?: ReferenceResult;
  /** The minimal gateway and ours, back to back, BENCH_GATEWAY_PAIRS times (when both ran). */
  gatewayPairs?: GatewayPair[];
  /** The pair of the median throughput ratio, or the one run of each. */
  minimalGateway?: MinimalGatewayResult;
  minimalPipeline?: MinimalPipelineResult;
  gateway?: GatewayBenchResult;
  pipeline?: PipelineBenchResult;
  openLoop?: PipelineBenchResult;
  scale?: ScaleResult;
}

const ratio = (ours: number, ref: number | undefined) => {
  const r = ratioOf(ours, ref);
  return Number.isFinite(r) ? `${fmt(r, 2)}x` : 'n/a';
};
const mib = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? 'n/a' : `${fmt(x, 0)} MiB`);
const rps = (x: number | undefined, unit: string) =>
  x === undefined || !Number.isFinite(x) ? 'not run' : `${fmt(x)} ${unit}`;
const msOf = (x: number | undefined) =>
  x === undefined || !Number.isFinite(x) ? 'not run' : `${fmt(x, 1)} ms`;

interface GatewayTarget {
  name: string;
  figure: (x: { run: GatewayBenchResult['run'] }) => number;
  show: (x: number | undefined) => string;
  bound: Target['bound'];
}

/** The gateway's two targets, each a ratio of one figure of ours to the minimal gateway's. */
const GATEWAY_TARGETS: readonly [GatewayTarget, GatewayTarget] = [
  {
    name: 'gateway req/s ÷ minimal gateway',
    figure: (x) => x.run.reqPerSecMean,
    show: (x) => rps(x, 'req/s'),
    bound: { min: 0.85 },
  },
  {
    name: 'gateway p99 ÷ minimal gateway p99',
    figure: (x) => x.run.latencyMs.p99,
    show: msOf,
    bound: { max: 1 },
  },
];

/** The median pair for one gateway target; a pair where ours answered anything but 2xx has no ratio. */
function gatewayMedian(pairs: readonly GatewayPair[], t: GatewayTarget) {
  return medianPair(
    pairs,
    (p) => (p.gateway.run.non2xx === 0 ? ratioOf(t.figure(p.gateway), t.figure(p.minimal)) : NaN),
    t.bound,
  );
}

/** Every target of issue #17, from what this run measured. */
export function targets(r: AllResults): Target[] {
  const mg = r.minimalGateway;
  const mp = r.minimalPipeline;
  const g = r.gateway;
  const p = r.pipeline;
  const o = r.openLoop;
  const series = r.scale?.series ?? [];
  const drain: DrainResult | undefined = series[0];
  const ok = (t: { verify: { problems: string[] } } | undefined) =>
    t !== undefined && t.verify.problems.length === 0;
  const pairs = r.gatewayPairs ?? (g && mg ? [{ minimal: mg, gateway: g }] : []);
  const load = `the same autocannon load (${g?.connections ?? mg?.connections ?? '?'} connections, ${fmt(g?.run.seconds ?? mg?.run.seconds ?? NaN)} s after a warm-up)`;
  // Each gateway target from the pairs: the median pair's ratio, every pair's ratio in the note.
  const paired = (t: GatewayTarget): Target => {
    const m = gatewayMedian(pairs, t);
    // Without a ratio (a part not run), the figures that were measured.
    const shown: { gateway?: GatewayBenchResult; minimal?: MinimalGatewayResult } = m?.pair ?? {
      gateway: g,
      minimal: mg,
    };
    return {
      name: t.name,
      ours: t.show(shown.gateway && t.figure(shown.gateway)),
      reference: t.show(shown.minimal && t.figure(shown.minimal)),
      ratio: m?.ratio ?? NaN,
      bound: t.bound,
      note:
        pairs.length > 1
          ? `the median of ${pairs.length} pairs, each the minimal gateway then ours under ${load}; the pairs' ratios in run order: ${(m?.ratios ?? []).map((x) => (Number.isFinite(x) ? fmt(x, 2) : 'n/a (non-2xx answers)')).join(', ')}`
          : `both under ${load}, one after the other`,
    };
  };
  return [
    ...GATEWAY_TARGETS.map(paired),
    {
      name: 'processor drain ÷ minimal pipeline',
      ours: drain ? `${fmt(drain.decisionsPerSecond)} decisions/s` : 'not run',
      reference: rps(mp?.perSecond, 'msg/s'),
      ratio: ok(drain) ? ratioOf(drain?.decisionsPerSecond, mp?.perSecond) : NaN,
      bound: { min: 0.5 },
      note: drain
        ? `the drain of ${fmt(drain.n)} fresh postbacks with ${fmt(drain.stored)} conversions stored (the scale bench's smallest size); the minimal pipeline drains ${fmt(mp?.count ?? NaN)} of the same postbacks`
        : undefined,
    },
    {
      name: 'end to end ÷ minimal pipeline',
      ours: rps(p?.pipeline.throughputPerSecond, 'conversions/s'),
      reference: rps(mp?.perSecond, 'msg/s'),
      ratio: ok(p) ? ratioOf(p?.pipeline.throughputPerSecond, mp?.perSecond) : NaN,
      bound: { min: 0.25 },
      note: p
        ? `the pipeline bench closed loop: ${fmt(p.n)} signed postbacks through gateway, Kafka and processor, first 2xx to the N-th outcome`
        : undefined,
    },
    {
      name: `end-to-end p99 at ${fmt(OPEN_LOOP_SHARE * 100)} % of the closed-loop rate, open loop (÷ 1 s)`,
      ours: o ? `${fmt(o.e2eMs.p99)} ms at ${fmt(o.rate ?? NaN)}/s offered` : 'not run',
      reference: '1,000 ms',
      ratio: ok(o) ? (o?.e2eMs.p99 ?? NaN) / 1000 : NaN,
      bound: { max: 1 },
      note:
        `"70 % of that rate" is read as 70 % of the end-to-end (closed-loop) rate measured in this run, not of 0.25 x the minimal pipeline; ` +
        'p99 of ledger_entries.recorded_at - occurred_at (the gateway accepting the postback to the processor deciding it) over every postback of the open-loop run',
    },
    ...scaleTargets(series),
  ];
}

/** Our figures as ratios of this run's raw references, with latency and peak memory per process. */
export function summaryRows(r: AllResults): Record<string, string>[] {
  const produce = r.reference?.produce.perSecond;
  const consume = r.reference?.consume.perSecond;
  const insert = r.reference?.postgres.perSecond;
  const rows: Record<string, string>[] = [];
  if (r.reference)
    rows.push({
      what: 'references: raw kafkajs produce / consume (msg/s), raw Postgres batched insert (rows/s)',
      throughput: `${fmt(produce ?? NaN)} / ${fmt(consume ?? NaN)} / ${fmt(insert ?? NaN)}`,
      'p50 / p99 (ms)': `produce batch ${fmt(r.reference.produce.batchLatencyMs.p50, 0)} / ${fmt(r.reference.produce.batchLatencyMs.p99, 0)}`,
      '÷ produce': '1x',
      '÷ consume': '1x',
      '÷ PG insert': '1x',
      'peak RSS per process': `bench ${mib(r.reference.peakRssMiB['bench process'])}`,
    });
  if (r.minimalGateway) {
    const g = r.minimalGateway;
    rows.push({
      what: `minimal gateway: Fastify + v1 HMAC + batched kafkajs, ${g.connections} connections, 2xx after acks=all`,
      throughput: `${fmt(g.run.reqPerSecMean)} req/s (${fmt(g.run.non2xx)} non-2xx)`,
      'p50 / p99 (ms)': `${fmt(g.run.latencyMs.p50, 0)} / ${fmt(g.run.latencyMs.p99, 0)}`,
      '÷ produce': ratio(g.run.reqPerSecMean, produce),
      '÷ consume': '',
      '÷ PG insert': '',
      'peak RSS per process': `server ${mib(g.peakRssMiB['minimal gateway'])}`,
    });
  }
  if (r.gateway) {
    const g = r.gateway;
    rows.push({
      what: `gateway: signed GET postbacks, ${g.connections} connections, 2xx after acks=all`,
      throughput: `${fmt(g.run.reqPerSecMean)} req/s (${fmt(g.run.non2xx)} non-2xx)`,
      'p50 / p99 (ms)': `${fmt(g.run.latencyMs.p50, 0)} / ${fmt(g.run.latencyMs.p99, 0)}`,
      '÷ produce': ratio(g.run.reqPerSecMean, produce),
      '÷ consume': '',
      '÷ PG insert': '',
      'peak RSS per process': `gateway ${mib(g.peakRssMiB.gateway)}, load generator ${mib(g.peakRssMiB[SELF])}${g.peakRssMiB[BROKER] !== undefined ? `, broker ${mib(g.peakRssMiB[BROKER])}` : ''}`,
    });
  }
  if (r.minimalPipeline) {
    const m = r.minimalPipeline;
    rows.push({
      what: `minimal pipeline: ${fmt(m.count)} pre-produced postbacks, eachBatch, 1 PG tx per batch, offsets after`,
      throughput: `${fmt(m.perSecond)} msg/s`,
      'p50 / p99 (ms)': `batch ${fmt(m.batchMs.p50, 0)} / ${fmt(m.batchMs.p99, 0)}`,
      '÷ produce': '',
      '÷ consume': ratio(m.perSecond, consume),
      '÷ PG insert': ratio(m.perSecond, insert),
      'peak RSS per process': `bench ${mib(m.peakRssMiB['bench process'])}`,
    });
  }
  for (const p of [r.pipeline, r.openLoop].filter((x): x is PipelineBenchResult => x !== undefined))
    rows.push({
      what: `pipeline: ${fmt(p.n)} postbacks, gateway to ledger entry (${p.rate !== undefined ? `open loop at ${fmt(p.rate)}/s` : 'closed loop'})${p.verify.problems.length ? ' WRONG RESULTS' : ''}`,
      throughput: `${fmt(p.pipeline.throughputPerSecond)} conversions/s (gateway ${fmt(p.load.reqPerSecOverall)} req/s)`,
      'p50 / p99 (ms)': `end to end ${fmt(p.e2eMs.p50, 0)} / ${fmt(p.e2eMs.p99, 0)}; HTTP ${fmt(p.load.latencyMs.p50, 0)} / ${fmt(p.load.latencyMs.p99, 0)}`,
      '÷ produce': ratio(p.pipeline.throughputPerSecond, produce),
      '÷ consume': ratio(p.pipeline.throughputPerSecond, consume),
      '÷ PG insert': ratio(p.pipeline.throughputPerSecond, insert),
      'peak RSS per process': `gateway ${mib(p.peakRssMiB.gateway)}, processor ${mib(p.peakRssMiB.processor)}, load generator ${mib(p.peakRssMiB[SELF])}${p.peakRssMiB[BROKER] !== undefined ? `, broker ${mib(p.peakRssMiB[BROKER])}` : ''}`,
    });
  for (const d of r.scale?.series ?? [])
    rows.push({
      what: `processor drain of ${fmt(d.n)} pre-produced postbacks, ${fmt(d.stored)} conversions stored${d.verify.problems.length ? ' WRONG RESULTS' : ''}`,
      throughput: `${fmt(d.decisionsPerSecond)} decisions/s`,
      'p50 / p99 (ms)': d.paced
        ? `paced at ${fmt(d.paced.rate)}/s: ${fmt(d.paced.e2eMs.p50, 0)} / ${fmt(d.paced.e2eMs.p99, 0)}`
        : 'n/a (a backlog)',
      '÷ produce': '',
      '÷ consume': ratio(d.decisionsPerSecond, consume),
      '÷ PG insert': ratio(d.decisionsPerSecond, insert),
      'peak RSS per process': `processor ${mib(d.peakRssMiB.processor)}, bench ${mib(d.peakRssMiB['bench process'])}`,
    });
  return rows;
}

export function summaryMarkdown(r: AllResults, date: string): string {
  const lines = [
    `Measured ${date} on one 2-core box (${machineLine()}): load generator, apps, Kafka and Postgres share it, so every figure is a floor; ratios to the references of the same run travel better than absolutes.`,
    '',
    'Targets (issue #17), each a ratio of two figures of this run:',
    '',
    targetsMarkdown(targets(r)),
    formatTable(summaryRows(r)),
    '',
  ];
  if (r.scale?.series.length)
    lines.push(
      `Scale (the processor's drain of ${fmt(r.scale.drainN)} fresh postbacks with the stores grown in Postgres to each size):`,
      '',
      formatTable(scaleRows(r.scale.series)),
      '',
    );
  return lines.join('\n');
}

/** Every gateway pair: both figures and the ratios, in run order. */
export function gatewayPairsMarkdown(pairs: readonly GatewayPair[]): string {
  return [
    `Gateway pairs (the minimal gateway, then ours, ${pairs.length} times; the targets take the median ratio; the tables above are the median pair's):`,
    '',
    formatTable(
      pairs.map((p, i) => ({
        pair: i + 1,
        'minimal req/s': fmt(p.minimal.run.reqPerSecMean),
        'ours req/s': fmt(p.gateway.run.reqPerSecMean),
        'req/s ratio': fmt(ratioOf(p.gateway.run.reqPerSecMean, p.minimal.run.reqPerSecMean), 2),
        'minimal p99 (ms)': fmt(p.minimal.run.latencyMs.p99, 1),
        'ours p99 (ms)': fmt(p.gateway.run.latencyMs.p99, 1),
        'p99 ratio': fmt(ratioOf(p.gateway.run.latencyMs.p99, p.minimal.run.latencyMs.p99), 2),
        'ours non-2xx': fmt(p.gateway.run.non2xx),
      })),
    ),
    '',
  ].join('\n');
}

/** Replaces the body of README.md's "## Latest figures" section (up to the next "## " heading). */
export function updateReadme(summary: string, resultsFile: string): void {
  const text = readFileSync(README, 'utf8');
  const start = text.indexOf('\n## Latest figures\n');
  if (start < 0) throw new Error('README.md has no "## Latest figures" section');
  const bodyStart = start + '\n## Latest figures\n'.length;
  const next = text.indexOf('\n## ', bodyStart);
  const body = `\n\`npm run bench\` writes this section (full tables: [${resultsFile}](${resultsFile})).\n\n${summary}`;
  writeFileSync(README, text.slice(0, bodyStart) + body + (next < 0 ? '' : text.slice(next)));
}

async function main(): Promise<void> {
  const parts = selected();
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const r: AllResults = {};
  const sections: string[] = [];
  const drainN = envInt('BENCH_SCALE_DRAIN', 100_000, 1, 10_000_000);
  const add = (name: string, markdown: string) => {
    sections.push(markdown);
    writeResults(name, markdown);
  };
  if (parts.has('reference')) {
    log('== references: raw produce, consume, insert');
    const n = envInt('BENCH_REF_N', 100_000, 1, 10_000_000);
    r.reference = await runReference({ n, pgRows: n });
    add('reference', referenceMarkdown(r.reference));
  }
  if (parts.has('reference') && parts.has('gateway')) {
    // Back to back, several times: a shared box's speed drifts by tens of percent over minutes,
    // and a pair run together sees the same drift.
    const count = envInt('BENCH_GATEWAY_PAIRS', 3, 1, 9);
    r.gatewayPairs = [];
    for (let i = 1; i <= count; i++) {
      log(`== gateway pair ${i} of ${count}: minimal gateway, then ours`);
      const minimal = await runMinimalGateway();
      const gateway = await runGatewayBench();
      r.gatewayPairs.push({ minimal, gateway });
    }
    // The tables printed are those of the pair the throughput target takes.
    const pick = gatewayMedian(r.gatewayPairs, GATEWAY_TARGETS[0])?.pair ?? r.gatewayPairs[0]!;
    r.minimalGateway = pick.minimal;
    r.gateway = pick.gateway;
    add('gateway', `${gatewayMarkdown(r.gateway)}\n${gatewayPairsMarkdown(r.gatewayPairs)}`);
  } else if (parts.has('reference')) {
    log('== reference: minimal gateway');
    r.minimalGateway = await runMinimalGateway();
  } else if (parts.has('gateway')) {
    log('== gateway');
    r.gateway = await runGatewayBench();
    add('gateway', gatewayMarkdown(r.gateway));
  }
  if (parts.has('reference')) {
    log(`== reference: minimal pipeline (${fmt(drainN)} postbacks)`);
    r.minimalPipeline = await runMinimalPipeline({ n: drainN });
    add('reference-minimal', minimalMarkdown(r.minimalGateway, r.minimalPipeline));
  }
  if (parts.has('pipeline')) {
    const n = envInt('BENCH_PIPELINE_N', 50_000, 1, 10_000_000);
    log('== pipeline, closed loop');
    r.pipeline = await runPipelineBench({ n });
    add('pipeline', pipelineMarkdown(r.pipeline));
    const rate = Math.round(OPEN_LOOP_SHARE * r.pipeline.pipeline.throughputPerSecond);
    if (Number.isFinite(rate) && rate > 0) {
      log(
        `== pipeline, open loop at ${fmt(rate)}/s (${fmt(OPEN_LOOP_SHARE * 100)} % of the closed loop's end-to-end rate)`,
      );
      r.openLoop = await runPipelineBench({ n, rate });
      add('pipeline-open-loop', pipelineMarkdown(r.openLoop));
    } else log('the closed loop gave no end-to-end rate: no open-loop run');
  }
  if (parts.has('scale')) {
    r.scale = await runScaleBench({ drainN });
    add('scale', scaleMarkdown(r.scale));
  }
  const date = new Date().toISOString().slice(0, 10);
  const summary = summaryMarkdown(r, date);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${date}.md`);
  writeFileSync(file, [`# Benchmarks (${new Date().toISOString()})`, '', summary, ...sections].join('\n'));
  updateReadme(summary, `bench/results/${date}.md`);
  process.stdout.write(`\n${summary}\n(written to ${file}; README.md "Latest figures" updated)\n`);
  const missed = targets(r).filter((t) => verdict(t) === 'missed');
  if (missed.length) process.stderr.write(`targets missed: ${missed.map((t) => t.name).join('; ')}\n`);
  const wrong = [
    ...(r.pipeline?.verify.problems ?? []),
    ...(r.openLoop?.verify.problems ?? []),
    ...(r.scale?.series ?? []).flatMap((d) => d.verify.problems),
    ...(r.gatewayPairs ?? (r.gateway ? [{ gateway: r.gateway, minimal: r.minimalGateway }] : [])).flatMap(
      (p, i) => [
        ...(p.gateway.run.non2xx > 0 ? [`gateway (pair ${i + 1}): non-2xx answers`] : []),
        ...(p.minimal && p.minimal.run.non2xx > 0
          ? [`minimal gateway (pair ${i + 1}): non-2xx answers`]
          : []),
      ],
    ),
    ...(!r.gateway && r.minimalGateway && r.minimalGateway.run.non2xx > 0
      ? ['minimal gateway: non-2xx answers']
      : []),
  ];
  if (wrong.length) {
    process.stderr.write(`WRONG RESULTS:\n${wrong.map((w) => `  - ${w}`).join('\n')}\n`);
    process.exitCode = 1;
  }
}

if (require.main === module) runBenchMain('bench', main);

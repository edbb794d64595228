/**
 * `npm run bench`: every bench in one go on this machine, then one summary.
 *
 *   1. the same-box references (raw kafkajs produce and consume of postback-sized messages, raw
 *      Postgres batched insert of ledger-shaped rows: reference.ts);
 *   2. the gateway bench (signed postbacks, answered after acks=all: gateway.ts);
 *   3. the pipeline bench (postbacks through gateway, Kafka, processor, Postgres and the ledger
 *      topic: pipeline.ts);
 *   4. the scale series: a processor-only drain of pre-produced postbacks at each size of
 *      BENCH_SCALE (drain.ts). 1M postbacks through the whole pipeline would take far too long on
 *      the 2-core box, so the series measures the processor alone, and says so.
 *
 * Prints a table of our figures as ratios of the references, the peak memory of each process,
 * and how throughput and memory move across the series; writes it all to
 * bench/results/<date>.md (and each bench's own <date>-<name>.md) and puts the summary into
 * README.md's "Latest figures" section.
 *
 * Env: BENCH_ONLY (comma-separated subset of reference,gateway,pipeline,scale; default all),
 * BENCH_SCALE (default 10000,100000,1000000), BENCH_REF_N (reference messages and rows, default
 * 100000), BENCH_PIPELINE_N (default 50000), BENCH_SECONDS (gateway, default 20), BENCH_SKIP_BUILD=1.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { drainMarkdown, type DrainResult, runDrainBench } from './drain';
import { gatewayMarkdown, type GatewayBenchResult, runGatewayBench } from './gateway';
import { envInt, fmt, formatTable, machineLine, RESULTS_DIR, writeResults } from './lib/stats';
import { BROKER, runBenchMain, SELF } from './lib/system';
import { pipelineMarkdown, type PipelineBenchResult, runPipelineBench } from './pipeline';
import { referenceMarkdown, type ReferenceResult, runReference } from './reference';

const README = join(__dirname, '..', 'README.md');
const PARTS = ['reference', 'gateway', 'pipeline', 'scale'] as const;
type Part = (typeof PARTS)[number];

function selected(): Set<Part> {
  const raw = process.env.BENCH_ONLY?.trim();
  if (!raw) return new Set(PARTS);
  const parts = raw.split(',').map((s) => s.trim());
  for (const p of parts)
    if (!(PARTS as readonly string[]).includes(p))
      throw new Error(`BENCH_ONLY: unknown part ${JSON.stringify(p)} (use ${PARTS.join(',')})`);
  return new Set(parts as Part[]);
}

function scaleSeries(): number[] {
  const raw = process.env.BENCH_SCALE?.trim() || '10000,100000,1000000';
  const sizes = raw.split(',').map((s) => Number(s.trim()));
  if (sizes.some((x) => !Number.isInteger(x) || x < 1 || x > 10_000_000))
    throw new Error(
      `BENCH_SCALE must be comma-separated integers from 1 to 10000000 (got ${JSON.stringify(raw)})`,
    );
  return sizes;
}

interface AllResults {
  reference?: ReferenceResult;
  gateway?: GatewayBenchResult;
  pipeline?: PipelineBenchResult;
  scale: DrainResult[];
}

const ratio = (ours: number, ref: number | undefined) =>
  ref === undefined || !Number.isFinite(ref) || ref <= 0 || !Number.isFinite(ours)
    ? 'n/a'
    : `${fmt(ours / ref, 2)}x`;
const mib = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? 'n/a' : `${fmt(x, 0)} MiB`);

/** Our figures as ratios of this run's references, with latency and peak memory per process. */
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
  if (r.pipeline) {
    const p = r.pipeline;
    rows.push({
      what: `pipeline: ${fmt(p.n)} postbacks, gateway to ledger entry (${p.mode})${p.verify.problems.length ? ' WRONG RESULTS' : ''}`,
      throughput: `${fmt(p.pipeline.throughputPerSecond)} conversions/s (gateway ${fmt(p.load.reqPerSecOverall)} req/s)`,
      'p50 / p99 (ms)': `end to end ${fmt(p.e2eMs.p50, 0)} / ${fmt(p.e2eMs.p99, 0)}; HTTP ${fmt(p.load.latencyMs.p50, 0)} / ${fmt(p.load.latencyMs.p99, 0)}`,
      '÷ produce': ratio(p.pipeline.throughputPerSecond, produce),
      '÷ consume': ratio(p.pipeline.throughputPerSecond, consume),
      '÷ PG insert': ratio(p.pipeline.throughputPerSecond, insert),
      'peak RSS per process': `gateway ${mib(p.peakRssMiB.gateway)}, processor ${mib(p.peakRssMiB.processor)}, load generator ${mib(p.peakRssMiB[SELF])}${p.peakRssMiB[BROKER] !== undefined ? `, broker ${mib(p.peakRssMiB[BROKER])}` : ''}`,
    });
  }
  for (const d of r.scale)
    rows.push({
      what: `processor drain of ${fmt(d.n)} pre-produced postbacks${d.verify.problems.length ? ' WRONG RESULTS' : ''}`,
      throughput: `${fmt(d.decisionsPerSecond)} decisions/s`,
      'p50 / p99 (ms)': 'n/a (a backlog)',
      '÷ produce': '',
      '÷ consume': ratio(d.decisionsPerSecond, consume),
      '÷ PG insert': ratio(d.decisionsPerSecond, insert),
      'peak RSS per process': `processor ${mib(d.peakRssMiB.processor)}, bench ${mib(d.peakRssMiB['bench process'])}`,
    });
  return rows;
}

/** How throughput and processor memory move across the scale series. */
export function scaleRows(series: DrainResult[]): Record<string, string>[] {
  const first = series[0];
  return series.map((d) => ({
    postbacks: fmt(d.n),
    'decisions/s': fmt(d.decisionsPerSecond),
    'vs smallest': first ? ratio(d.decisionsPerSecond, first.decisionsPerSecond) : 'n/a',
    'processor RSS booted → at 10 % → 50 % → 100 % (MiB)': [
      d.rssIdleMiB,
      d.rssAtTenthsMiB[0],
      d.rssAtTenthsMiB[4],
      d.rssAtTenthsMiB[9],
    ]
      .map((x) => fmt(x ?? NaN, 0))
      .join(' → '),
    'processor peak RSS': mib(d.peakRssMiB.processor),
    'peak vs smallest': first ? ratio(d.peakRssMiB.processor ?? NaN, first.peakRssMiB.processor) : 'n/a',
    correct: d.verify.problems.length ? `NO: ${d.verify.problems.join('; ')}` : 'yes',
  }));
}

/** Memory over the largest run of the series, and its peak against the smallest run's: a leak climbs with N. */
export function flatness(series: DrainResult[]): string {
  const largest = series.reduce<DrainResult | undefined>((a, d) => (!a || d.n > a.n ? d : a), undefined);
  const smallest = series.reduce<DrainResult | undefined>((a, d) => (!a || d.n < a.n ? d : a), undefined);
  if (!largest || !smallest) return '';
  const t = largest.rssAtTenthsMiB.filter(Number.isFinite);
  return (
    `Largest run (${fmt(largest.n)}): processor RSS ${fmt(t[0] ?? NaN, 0)} MiB at 10 % and ${fmt(t[t.length - 1] ?? NaN, 0)} MiB at 100 % ` +
    `(tenths between ${fmt(Math.min(...t), 0)} and ${fmt(Math.max(...t), 0)} MiB); peak ${mib(largest.peakRssMiB.processor)}, ` +
    `${ratio(largest.peakRssMiB.processor ?? NaN, smallest.peakRssMiB.processor)} the ${fmt(smallest.n)} run's for ${fmt(largest.n / smallest.n, 0)}x the events.`
  );
}

export function summaryMarkdown(r: AllResults, date: string): string {
  const lines = [
    `Measured ${date} on one 2-core box (${machineLine()}): load generator, apps, Kafka and Postgres share it, so every figure is a floor; ratios to the references of the same run travel better than absolutes.`,
    '',
    formatTable(summaryRows(r)),
    '',
  ];
  if (r.scale.length)
    lines.push(
      `Scale series (processor-only drain of pre-produced postbacks; 1M through the gateway would take far too long on this box, and the processor is the stage that holds state). Memory should stay flat:`,
      '',
      formatTable(scaleRows(r.scale)),
      '',
      flatness(r.scale),
      '',
    );
  return lines.join('\n');
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
  const r: AllResults = { scale: [] };
  const sections: string[] = [];
  if (parts.has('reference')) {
    log('== reference');
    const n = envInt('BENCH_REF_N', 100_000, 1, 10_000_000);
    r.reference = await runReference({ n, pgRows: n });
    sections.push(referenceMarkdown(r.reference));
    writeResults('reference', sections[sections.length - 1]!);
  }
  if (parts.has('gateway')) {
    log('== gateway');
    r.gateway = await runGatewayBench();
    sections.push(gatewayMarkdown(r.gateway));
    writeResults('gateway', sections[sections.length - 1]!);
  }
  if (parts.has('pipeline')) {
    log('== pipeline');
    r.pipeline = await runPipelineBench({ n: envInt('BENCH_PIPELINE_N', 50_000, 1, 10_000_000) });
    sections.push(pipelineMarkdown(r.pipeline));
    writeResults('pipeline', sections[sections.length - 1]!);
  }
  if (parts.has('scale')) {
    for (const n of scaleSeries()) {
      log(`== scale: processor drain of ${fmt(n)}`);
      r.scale.push(await runDrainBench({ n }));
    }
    sections.push(drainMarkdown(r.scale));
    writeResults('drain', sections[sections.length - 1]!);
  }
  const date = new Date().toISOString().slice(0, 10);
  const summary = summaryMarkdown(r, date);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${date}.md`);
  writeFileSync(file, [`# Benchmarks (${new Date().toISOString()})`, '', summary, ...sections].join('\n'));
  updateReadme(summary, `bench/results/${date}.md`);
  process.stdout.write(`\n${summary}\n(written to ${file}; README.md "Latest figures" updated)\n`);
  const wrong = [
    ...(r.pipeline?.verify.problems ?? []),
    ...r.scale.flatMap((d) => d.verify.problems),
    ...(r.gateway && r.gateway.run.non2xx > 0 ? ['gateway: non-2xx answers'] : []),
  ];
  if (wrong.length) {
    process.stderr.write(`WRONG RESULTS:\n${wrong.map((w) => `  - ${w}`).join('\n')}\n`);
    process.exitCode = 1;
  }
}

if (require.main === module) runBenchMain('bench', main);

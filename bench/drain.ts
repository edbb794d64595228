/**
 * Processor drain bench: N postbacks pre-produced to Kafka (as the gateway would have produced
 * them), then the built processor started on the backlog and timed until it decided them all.
 * It measures the processor alone (no gateway, no load generator competing for the CPU) and is
 * how the scale series (10k, 100k, 1M) is run: 1M postbacks through the gateway takes far too
 * long on the 2-core box, while the processor is the stage that holds state.
 *
 * Steps: a fresh migrated database and topics under a fresh prefix; one offer (1.50 USD);
 * BENCH_DRAIN_CLICKS clicks produced and stored by a first processor run (then stopped), so
 * every postback finds its click; N approved postbacks with unique transaction ids produced in
 * batches of 1,000 (generated on the fly, never all in memory); then the processor is started
 * again and its `postback_decisions_total` (GET /metrics, cheap) is polled every 200 ms until it
 * reaches N. Its resident memory is sampled every 500 ms and noted at each tenth of the way, so a
 * leak shows as a climb. The result is checked: N outcomes, N approved entries summing to
 * N x 1.50, and N entries on `conversions.ledger`.
 *
 *   BENCH_N=100000 node_modules/.bin/ts-node -r tsconfig-paths/register --transpile-only bench/drain.ts
 *
 * Env: BENCH_N (default 100000), BENCH_DRAIN_CLICKS (2000), BENCH_MAX_SECONDS (time bound of the
 * drain, default 1800), BENCH_SKIP_BUILD=1, KAFKA_BROKERS, DATABASE_URL.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { Topics, topicName } from '@app/contracts';
import {
  type AppProcess,
  clickEvent,
  createTestDatabase,
  createTestTopics,
  freePort,
  postbackEvent,
  produceEvents,
  seedOffer,
  spawnApp,
  TEST_BROKERS,
  type TestDatabase,
  topicMessageCount,
  uniquePrefix,
  waitReady,
} from '@app/testing';
import { envInt, fmt, formatTable, machineLine, readRssBytes, RssSampler, writeResults } from './lib/stats';
import {
  ensureGatewayBuilt,
  runBenchMain,
  sleep,
  stopApp,
  throwIfInterrupted,
  trapInterrupt,
} from './lib/system';

const ROOT = join(__dirname, '..');
const PROCESSOR_ENTRY = join(ROOT, 'dist', 'apps', 'processor', 'src', 'main.js');
const PAYOUT_MICROS = 1_500_000n;
const MIB = 1024 * 1024;
/** The decision counter is read this often: fine enough for a 10k drain of a few seconds, cheap (no SQL). */
const POLL_MS = 200;

export interface DrainOptions {
  n?: number;
  clicks?: number;
  maxSeconds?: number;
  brokers?: string[];
  build?: boolean;
  log?: (line: string) => void;
}

export interface DrainResult {
  n: number;
  clicks: number;
  produceSeconds: number;
  produceRate: number;
  /** Processor start (spawn) to its first decision. */
  bootSeconds: number;
  /** First decision to the N-th. */
  drainSeconds: number;
  decisionsPerSecond: number;
  /** Processor start to all N entries on the ledger topic. */
  topicSeconds: number;
  drained: boolean;
  /** Processor RSS (MiB) at its first /metrics answer (booted), then at 10 %, 20 %, ... 100 % of the drain. */
  rssIdleMiB: number;
  rssAtTenthsMiB: number[];
  /**
   * V8 heap in use (MiB) at the same tenths: what the process holds in JS objects. RSS also
   * counts what V8 and the allocator reserved and have not given back; a leak grows this one.
   */
  heapAtTenthsMiB: number[];
  peakRssMiB: Record<string, number>;
  verify: {
    outcomes: number;
    approvedEntries: number;
    amountMicros: string;
    onTopic: number;
    problems: string[];
  };
}

/** Sum of a counter over its label sets, from Prometheus text. */
function counterSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n'))
    if (line.startsWith(name) && (line[name.length] === '{' || line[name.length] === ' '))
      sum += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
  return sum;
}

/** Decisions so far and the V8 heap in use (prom-client's default process metrics), from /metrics. */
async function readProcessor(
  healthPort: number,
): Promise<{ decisions: number; heapUsed: number } | undefined> {
  try {
    const r = await fetch(`http://127.0.0.1:${healthPort}/metrics`, { signal: AbortSignal.timeout(5000) });
    if (!r.ok) return undefined;
    const text = await r.text();
    return {
      decisions: counterSum(text, 'postback_decisions_total'),
      heapUsed: counterSum(text, 'nodejs_heap_size_used_bytes'),
    };
  } catch {
    return undefined;
  }
}

export async function runDrainBench(opts: DrainOptions = {}): Promise<DrainResult> {
  const n = opts.n ?? envInt('BENCH_N', 100_000, 1, 10_000_000);
  const clickCount = opts.clicks ?? envInt('BENCH_DRAIN_CLICKS', 2000, 1, 100_000);
  const maxSeconds = opts.maxSeconds ?? envInt('BENCH_MAX_SECONDS', 1800, 10, 7200);
  const brokers = opts.brokers ?? TEST_BROKERS;
  const log = opts.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  ensureGatewayBuilt(opts.build ?? process.env.BENCH_SKIP_BUILD !== '1', log);
  if (!existsSync(PROCESSOR_ENTRY))
    throw new Error(`${PROCESSOR_ENTRY} is missing: run \`npm run build\` first`);

  const prefix = uniquePrefix('bench-drain');
  const tag = Date.now().toString(36);
  const offer = 'o-drain';
  let db: TestDatabase | undefined;
  let topics: { drop(): Promise<void> } | undefined;
  let processor: AppProcess | undefined;
  const untrap = trapInterrupt(log);
  const rss = new RssSampler({}, 'bench process', 500);
  try {
    db = await createTestDatabase();
    const database = db;
    topics = await createTestTopics(prefix, brokers);
    await seedOffer(db.ds, { id: offer, payout: String(PAYOUT_MICROS) });
    const healthPort = await freePort();
    const env = {
      DATABASE_URL: db.url,
      KAFKA_BROKERS: brokers.join(','),
      TOPIC_PREFIX: prefix,
      HEALTH_PORT: String(healthPort),
      LOG_LEVEL: 'warn',
    };
    const start = async () => {
      const p = spawnApp('processor', env);
      await waitReady(p, `http://127.0.0.1:${healthPort}/health/ready`, 90_000);
      return p;
    };

    // Clicks first, stored by a processor run of their own, so the drain is postbacks only.
    const clicks = Array.from({ length: clickCount }, () => clickEvent(offer, 'pub-drain'));
    await produceEvents(topicName(Topics.clicksRecorded, prefix), clicks, brokers);
    processor = await start();
    const stored = await waitFor(async () => {
      const [r] = await database.ds.query<[{ n: number }]>('SELECT count(*)::int AS n FROM clicks');
      return r.n >= clickCount;
    }, 120_000);
    if (!stored) throw new Error(`the ${clickCount} clicks were not stored within 120 s`);
    await stopApp(processor);
    processor = undefined;
    throwIfInterrupted();

    log(`producing ${fmt(n)} postbacks to ${prefix}postbacks.received`);
    const producer = new Kafka({ clientId: 'bench-drain', brokers, logLevel: logLevel.NOTHING }).producer({
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    const t0 = Date.now();
    try {
      for (let i = 0; i < n; i += 1000) {
        const messages = [];
        for (let j = i; j < Math.min(n, i + 1000); j++) {
          const e = postbackEvent('pd', clicks[j % clickCount]!.id, `${tag}-${j}`, 'approved');
          messages.push({ key: e.key, value: JSON.stringify(e) });
        }
        await producer.send({ topic: topicName(Topics.postbacksReceived, prefix), acks: -1, messages });
        if (i % 100_000 === 0 && i > 0) log(`  produced ${fmt(i)}`);
        throwIfInterrupted();
      }
    } finally {
      await producer.disconnect();
    }
    const produceSeconds = (Date.now() - t0) / 1000;
    log(`produced in ${fmt(produceSeconds, 1)} s; starting the processor on the backlog`);

    const spawnedAt = Date.now();
    processor = spawnApp('processor', env);
    const pid = processor.proc.pid;
    if (pid !== undefined) rss.add('processor', pid);
    rss.start();
    let rssIdleMiB = NaN;
    let firstAt: number | undefined;
    let doneAt: number | undefined;
    const tenths: number[] = [];
    const heapTenths: number[] = [];
    const deadline = Date.now() + maxSeconds * 1000;
    let lastLog = Date.now();
    for (;;) {
      throwIfInterrupted();
      if (processor.proc.exitCode !== null) throw new Error(`the processor exited:\n${processor.logs()}`);
      const read = await readProcessor(healthPort);
      if (read !== undefined) {
        const d = read.decisions;
        if (Number.isNaN(rssIdleMiB) && pid !== undefined)
          rssIdleMiB = ((await readRssBytes(pid)) ?? NaN) / MIB;
        if (d > 0 && firstAt === undefined) firstAt = Date.now();
        while (tenths.length < 10 && d >= (n * (tenths.length + 1)) / 10) {
          const bytes = pid !== undefined ? await readRssBytes(pid) : undefined;
          tenths.push(Math.round(((bytes ?? NaN) / MIB) * 10) / 10);
          heapTenths.push(Math.round((read.heapUsed / MIB) * 10) / 10);
        }
        if (Date.now() - lastLog > 10_000) {
          lastLog = Date.now();
          log(`  ${fmt(d)} / ${fmt(n)} decided`);
        }
        if (d >= n) {
          doneAt = Date.now();
          break;
        }
      }
      if (Date.now() > deadline) break;
      await sleep(POLL_MS);
    }
    const ledgerTopic = topicName(Topics.conversionsLedger, prefix);
    const onTopic =
      (await waitFor(async () => {
        const c = await topicMessageCount(ledgerTopic, brokers);
        return c >= n ? c : false;
      }, 300_000)) || (await topicMessageCount(ledgerTopic, brokers));
    const topicAt = Date.now();
    const peakRssMiB = await rss.stop();
    // The tenths are read between the sampler's ticks: the peak is the higher of both.
    peakRssMiB.processor = Math.max(peakRssMiB.processor ?? 0, ...tenths.filter(Number.isFinite));
    const [v] = await database.ds.query<[{ outcomes: number; approved: number; micros: string }]>(
      `SELECT (SELECT count(*)::int FROM postback_outcomes) AS outcomes,
              count(*) FILTER (WHERE entry_type = 'approved')::int AS approved,
              coalesce(sum(amount_micros), 0)::text AS micros FROM ledger_entries`,
    );
    const problems: string[] = [];
    if (doneAt === undefined) problems.push(`not drained within ${maxSeconds} s`);
    if (v.outcomes !== n) problems.push(`${v.outcomes} outcomes, expected ${n}`);
    if (v.approved !== n) problems.push(`${v.approved} approved entries, expected ${n}`);
    if (v.micros !== String(BigInt(n) * PAYOUT_MICROS))
      problems.push(`${v.micros} micros, expected ${BigInt(n) * PAYOUT_MICROS}`);
    if (onTopic < n) problems.push(`${onTopic} entries on the ledger topic, expected ${n}`);
    const drainSeconds = firstAt !== undefined && doneAt !== undefined ? (doneAt - firstAt) / 1000 : NaN;
    return {
      n,
      clicks: clickCount,
      produceSeconds,
      produceRate: n / produceSeconds,
      bootSeconds: firstAt !== undefined ? (firstAt - spawnedAt) / 1000 : NaN,
      drainSeconds,
      decisionsPerSecond: n / drainSeconds,
      topicSeconds: (topicAt - spawnedAt) / 1000,
      drained: doneAt !== undefined,
      rssIdleMiB: Math.round(rssIdleMiB * 10) / 10,
      rssAtTenthsMiB: tenths,
      heapAtTenthsMiB: heapTenths,
      peakRssMiB,
      verify: {
        outcomes: v.outcomes,
        approvedEntries: v.approved,
        amountMicros: v.micros,
        onTopic,
        problems,
      },
    };
  } finally {
    untrap();
    await rss.stop();
    if (processor) await stopApp(processor);
    await db?.drop().catch((e: unknown) => log(`could not drop database ${db?.name}: ${String(e)}`));
    await topics?.drop().catch((e: unknown) => log(`could not delete topics ${prefix}*: ${String(e)}`));
  }
}

async function waitFor<T>(read: () => Promise<T | false>, timeoutMs: number): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read().catch(() => false as const);
    if (v !== false) return v;
    if (Date.now() > deadline) return undefined;
    await sleep(1000);
  }
}

export function drainRows(results: DrainResult[]): Record<string, string | number>[] {
  return results.map((r) => ({
    postbacks: fmt(r.n),
    'decisions/s': fmt(r.decisionsPerSecond),
    'drain (s)': fmt(r.drainSeconds, 1),
    'boot (s)': fmt(r.bootSeconds, 1),
    'all on ledger topic (s)': fmt(r.topicSeconds, 1),
    'processor RSS booted (MiB)': fmt(r.rssIdleMiB, 0),
    'processor RSS at 10 %, 50 %, 100 % (MiB)': [0, 4, 9]
      .map((i) => fmt(r.rssAtTenthsMiB[i] ?? NaN, 0))
      .join(' / '),
    'processor peak RSS (MiB)': fmt(r.peakRssMiB.processor ?? NaN, 0),
    'processor V8 heap used at 10 %, 50 %, 100 % (MiB)': [0, 4, 9]
      .map((i) => fmt(r.heapAtTenthsMiB[i] ?? NaN, 0))
      .join(' / '),
    'bench peak RSS (MiB)': fmt(r.peakRssMiB['bench process'] ?? NaN, 0),
    correct: r.verify.problems.length ? `NO: ${r.verify.problems.join('; ')}` : 'yes',
  }));
}

export function drainMarkdown(results: DrainResult[]): string {
  return [
    `# Processor drain (${new Date().toISOString()})`,
    '',
    `Machine: ${machineLine()}. Postbacks pre-produced straight to Kafka, then one processor started on the backlog (no gateway).`,
    '',
    formatTable(drainRows(results)),
    '',
    'Processor RSS at each tenth of the drain (MiB):',
    '',
    ...results.map((r) => `- ${fmt(r.n)}: ${r.rssAtTenthsMiB.map((x) => fmt(x, 0)).join(', ')}`),
    '',
    'Processor V8 heap in use at each tenth (MiB): what it holds in JS objects; RSS also counts memory V8 and the allocator keep reserved.',
    '',
    ...results.map((r) => `- ${fmt(r.n)}: ${r.heapAtTenthsMiB.map((x) => fmt(x, 0)).join(', ')}`),
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const r = await runDrainBench();
  writeResults('drain', drainMarkdown([r]));
  if (r.verify.problems.length) process.exitCode = 1;
}

if (require.main === module) runBenchMain('drain bench', main);

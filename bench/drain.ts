/**
 * Processor drain bench: N postbacks pre-produced to Kafka (as the gateway would have produced
 * them), then the built processor started on the backlog and timed until it decided them all.
 * It measures the processor alone (no gateway, no load generator competing for the CPU); the
 * scale bench (scale.ts) runs it with the stores grown to each size of its series.
 *
 * Steps: a fresh migrated database and topics under a fresh prefix; one offer (1.50 USD);
 * optionally BENCH_DRAIN_STORED conversions generated in Postgres (lib/store.ts); then
 * BENCH_DRAIN_CLICKS clicks produced and stored by a first processor run (then stopped), so
 * every postback finds its click; N approved postbacks with unique transaction ids produced in
 * batches of 1,000 (lib/backlog.ts, generated on the fly, never all in memory); then the processor
 * is started again and its counters (GET /metrics: `postback_decisions_total`,
 * `ledger_entries_published_total`, cheap) are polled every 200 ms until it decided N and the
 * relay published N. Decisions per second count from the first poll that saw a decision to the
 * N-th (the decisions that first poll saw are left out). The relay's lag: at each poll, how long
 * ago the oldest decided but unpublished entry was decided (the most over the drain), and the
 * time from the N-th decision to the N-th entry published. Resident memory is sampled every
 * 500 ms and noted at each tenth of the way, so a leak shows as a climb. With
 * BENCH_PACED_SECONDS > 0, postbacks are then produced at 70 % of the drain's rate for that long,
 * each stamped when produced, for the decision latency (p50/p99 of recorded_at - occurred_at).
 * The result is checked: every outcome, every approved entry summing to 1.50 each (stored ones
 * included), and every new entry on `conversions.ledger`.
 *
 *   BENCH_N=100000 node_modules/.bin/ts-node -r tsconfig-paths/register --transpile-only bench/drain.ts
 *
 * Env: BENCH_N (default 100000), BENCH_DRAIN_CLICKS (2000), BENCH_DRAIN_STORED (0),
 * BENCH_PACED_SECONDS (0), BENCH_MAX_SECONDS (time bound of the drain, default 1800),
 * BENCH_SKIP_BUILD=1, KAFKA_BROKERS, DATABASE_URL.
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
import { BACKLOG_PARTNER, producePostbackBacklog } from './lib/backlog';
import {
  BackendCpu,
  envInt,
  fmt,
  formatTable,
  type LatencySummary,
  machineLine,
  readCpuSeconds,
  readRssBytes,
  RssSampler,
  writeResults,
} from './lib/stats';
import { generateStore, type StoreResult } from './lib/store';
import {
  ensureGatewayBuilt,
  runBenchMain,
  sleep,
  stopApp,
  throwIfInterrupted,
  trapInterrupt,
  ablationEnv,
} from './lib/system';

const ROOT = join(__dirname, '..');
const PROCESSOR_ENTRY = join(ROOT, 'dist', 'apps', 'processor', 'src', 'main.js');
const PAYOUT_MICROS = 1_500_000n;
const MIB = 1024 * 1024;
/** The decision counter is read this often: fine enough for a 10k drain of a few seconds, cheap (no SQL). */
const POLL_MS = 200;
/** Tables whose size per decision the drain reports (they grow with every decision). */
const STORAGE_TABLES = ['ledger_entries', 'ledger_postings', 'conversions', 'postback_outcomes', 'postbacks'];

export interface DrainOptions {
  n?: number;
  clicks?: number;
  /**
   * Conversions stored before the drain, generated in Postgres (lib/store.ts); default
   * BENCH_DRAIN_STORED or 0.
   */
  stored?: number;
  /**
   * After the drain, postbacks paced at 70 % of the drain's rate for this many seconds, for the
   * latency at this store size (default BENCH_PACED_SECONDS or 0: none).
   */
  pacedSeconds?: number;
  maxSeconds?: number;
  brokers?: string[];
  build?: boolean;
  log?: (line: string) => void;
}

export interface DrainResult {
  n: number;
  clicks: number;
  /** Conversions stored before the drain, and how they were generated. */
  stored: number;
  store: StoreResult | undefined;
  produceSeconds: number;
  produceRate: number;
  /** Processor start (spawn) to its first decision. */
  bootSeconds: number;
  /** First decision to the N-th. */
  drainSeconds: number;
  decisionsPerSecond: number;
  /** Processor start to all N entries on the ledger topic. */
  topicSeconds: number;
  /** The N-th decision to the N-th entry on the topic (the relay's ledger_entries_published_total; 200 ms polls). */
  topicAfterLastDecisionSeconds: number;
  /**
   * The most the topic was behind the table during the drain, in seconds: at each poll, how long
   * ago the oldest decided-but-unpublished entry was decided (an upper bound, to one poll).
   */
  relayMaxLagSeconds: number;
  /** The paced phase (pacedSeconds > 0): offered rate, count, and decision latency from the rows. */
  paced:
    { rate: number; n: number; decidedSeconds: number; e2eMs: LatencySummary; drained: boolean } | undefined;
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
  /**
   * CPU per decision (µs) between the first poll that saw a decision and the N-th decision: the
   * processor's own, and the Postgres backends' serving the bench's database (sampled every 500 ms).
   */
  cpuMicrosPerDecision: { processor: number; postgres: number };
  /** Bytes per decision (heap, TOAST, indexes) of each table that grows with decisions, and of the database. */
  bytesPerDecision: Record<string, number>;
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
): Promise<{ decisions: number; published: number; heapUsed: number } | undefined> {
  try {
    const r = await fetch(`http://127.0.0.1:${healthPort}/metrics`, { signal: AbortSignal.timeout(5000) });
    if (!r.ok) return undefined;
    const text = await r.text();
    return {
      decisions: counterSum(text, 'postback_decisions_total'),
      published: counterSum(text, 'ledger_entries_published_total'),
      heapUsed: counterSum(text, 'nodejs_heap_size_used_bytes'),
    };
  } catch {
    return undefined;
  }
}

export async function runDrainBench(opts: DrainOptions = {}): Promise<DrainResult> {
  const n = opts.n ?? envInt('BENCH_N', 100_000, 1, 10_000_000);
  const clickCount = opts.clicks ?? envInt('BENCH_DRAIN_CLICKS', 2000, 1, 100_000);
  const storedCount = opts.stored ?? envInt('BENCH_DRAIN_STORED', 0, 0, 100_000_000);
  const pacedSeconds = opts.pacedSeconds ?? envInt('BENCH_PACED_SECONDS', 0, 0, 600);
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
    const store =
      storedCount > 0
        ? await generateStore(db.ownerUrl, {
            count: storedCount,
            offerId: offer,
            publisherId: 'pub-drain',
            log,
          })
        : undefined;
    throwIfInterrupted();
    const healthPort = await freePort();
    const env = {
      DATABASE_URL: db.url,
      KAFKA_BROKERS: brokers.join(','),
      TOPIC_PREFIX: prefix,
      HEALTH_PORT: String(healthPort),
      LOG_LEVEL: 'warn',
      // Settings of the processor for an ablation (e.g. LEDGER_TOPIC_VERSIONS=2), space-separated.
      ...ablationEnv('BENCH_PROCESSOR_ENV'),
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
    const postbacksTopic = topicName(Topics.postbacksReceived, prefix);
    const clickIds = clicks.map((c) => c.id);
    const produceSeconds = await producePostbackBacklog(postbacksTopic, n, clickIds, `${tag}-`, brokers, log);
    log(`produced in ${fmt(produceSeconds, 1)} s; starting the processor on the backlog`);

    const pgCpu = await new BackendCpu(db.name).start();
    const spawnedAt = Date.now();
    processor = spawnApp('processor', env);
    const pid = processor.proc.pid;
    /** CPU seconds (processor, Postgres backends) at the first poll that saw a decision and at the N-th. */
    let cpuAtFirst: [number, number] | undefined;
    let cpuAtDone: [number, number] | undefined;
    const cpuNow = async (): Promise<[number, number]> => [
      pid !== undefined ? ((await readCpuSeconds(pid)) ?? NaN) : NaN,
      await pgCpu.seconds(),
    ];
    if (pid !== undefined) rss.add('processor', pid);
    rss.start();
    let rssIdleMiB = NaN;
    let firstAt: number | undefined;
    /** Decisions already made at the first poll that saw any, and the last poll that saw none. */
    let firstCount = 0;
    let lastZeroAt: number | undefined;
    let doneAt: number | undefined;
    const tenths: number[] = [];
    const heapTenths: number[] = [];
    /** Poll times (ms) and the decisions and published entries then, for the relay's lag. */
    const samples: Array<{ t: number; d: number; p: number }> = [];
    let relayMaxLagMs = 0;
    const deadline = Date.now() + maxSeconds * 1000;
    let lastLog = Date.now();
    for (;;) {
      throwIfInterrupted();
      if (processor.proc.exitCode !== null) throw new Error(`the processor exited:\n${processor.logs()}`);
      const read = await readProcessor(healthPort);
      if (read !== undefined) {
        const d = read.decisions;
        const now = Date.now();
        samples.push({ t: now, d, p: read.published });
        if (read.published < d) {
          // The oldest unpublished entry (number published + 1) was decided after the last poll that had fewer decisions.
          let j = samples.length - 1;
          while (j > 0 && samples[j - 1]!.d > read.published) j--;
          relayMaxLagMs = Math.max(relayMaxLagMs, now - (j > 0 ? samples[j - 1]!.t : spawnedAt));
        }
        if (Number.isNaN(rssIdleMiB) && pid !== undefined)
          rssIdleMiB = ((await readRssBytes(pid)) ?? NaN) / MIB;
        if (d === 0) lastZeroAt = Date.now();
        if (d > 0 && firstAt === undefined) {
          firstAt = Date.now();
          firstCount = d;
          cpuAtFirst = await cpuNow();
        }
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
          cpuAtDone = await cpuNow();
          break;
        }
      }
      if (Date.now() > deadline) break;
      await sleep(POLL_MS);
    }
    // Until the relay published all N (polled as often as the decisions were), then the topic itself.
    let publishedAt: number | undefined;
    const publishDeadline = Date.now() + 300_000;
    while (doneAt !== undefined && Date.now() < publishDeadline) {
      throwIfInterrupted();
      const read = await readProcessor(healthPort);
      if (read !== undefined) {
        const now = Date.now();
        samples.push({ t: now, d: read.decisions, p: read.published });
        if (read.published < read.decisions) {
          let j = samples.length - 1;
          while (j > 0 && samples[j - 1]!.d > read.published) j--;
          relayMaxLagMs = Math.max(relayMaxLagMs, now - (j > 0 ? samples[j - 1]!.t : spawnedAt));
        }
        if (read.published >= n) {
          publishedAt = now;
          break;
        }
      }
      await sleep(POLL_MS);
    }
    const ledgerTopic = topicName(Topics.conversionsLedger, prefix);
    const topicAt = publishedAt ?? Date.now();
    // The drain's memory, before the paced phase.
    const peakRssMiB = rss.peaksMiB();
    // The tenths are read between the sampler's ticks: the peak is the higher of both.
    peakRssMiB.processor = Math.max(peakRssMiB.processor ?? 0, ...tenths.filter(Number.isFinite));
    const drainSecondsNow = firstAt !== undefined && doneAt !== undefined ? (doneAt - firstAt) / 1000 : NaN;
    // The decisions after the first poll that saw any, over the time from there: the first poll may
    // already see many. When it saw them all, the drain was shorter than a poll: from the last poll
    // that saw none (a lower bound of the rate).
    const decisionsPerSecond =
      firstCount < n
        ? (n - firstCount) / drainSecondsNow
        : doneAt !== undefined && lastZeroAt !== undefined
          ? n / ((doneAt - lastZeroAt) / 1000)
          : NaN;

    // Paced postbacks at 70 % of the drain's rate: the decision latency at this store size.
    let paced: DrainResult['paced'];
    let pacedN = 0;
    if (pacedSeconds > 0 && doneAt !== undefined && Number.isFinite(decisionsPerSecond)) {
      const rate = Math.max(1, Math.round(0.7 * decisionsPerSecond));
      pacedN = Math.max(1, Math.round(rate * pacedSeconds));
      const [{ s: seqBefore }] = await database.ds.query<[{ s: string }]>(
        `SELECT coalesce(max(seq), 0)::text AS s FROM ledger_entries`,
      );
      log(
        `paced: ${fmt(pacedN)} postbacks at ${fmt(rate)}/s (70 % of the drain's rate) for ${pacedSeconds} s`,
      );
      await producePaced(postbacksTopic, pacedN, rate, clickIds, `${tag}-p-`, brokers);
      const pacedStart = Date.now();
      let decided = false;
      const pacedDeadline = Date.now() + maxSeconds * 1000;
      while (Date.now() < pacedDeadline) {
        throwIfInterrupted();
        const read = await readProcessor(healthPort);
        if (read !== undefined && read.decisions >= n + pacedN) {
          decided = true;
          break;
        }
        await sleep(POLL_MS);
      }
      const [r] = await database.ds.query<
        [{ n: number; p: number[] | null; max: number | null; mean: number | null }]
      >(
        `SELECT count(*)::int AS n, percentile_cont(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY ms) AS p,
                max(ms) AS max, avg(ms) AS mean
           FROM (SELECT extract(epoch FROM recorded_at - occurred_at)::float8 * 1000 AS ms
                   FROM ledger_entries WHERE seq > $1::bigint) s`,
        [seqBefore],
      );
      const pc = (r.p ?? []).map(Number);
      paced = {
        rate,
        n: pacedN,
        decidedSeconds: (Date.now() - pacedStart) / 1000,
        e2eMs: {
          count: r.n,
          p50: pc[0] ?? NaN,
          p90: pc[1] ?? NaN,
          p99: pc[2] ?? NaN,
          max: r.max === null ? NaN : Number(r.max),
          mean: r.mean === null ? NaN : Number(r.mean),
        },
        drained: decided,
      };
    }
    const onTopic =
      (await waitFor(async () => {
        const c = await topicMessageCount(ledgerTopic, brokers);
        return c >= n + pacedN ? c : false;
      }, 300_000)) || (await topicMessageCount(ledgerTopic, brokers));
    await rss.stop();
    // Counted over the whole tables, the generated store included (every stored row is one approved 1.50 USD entry).
    log('verifying');
    const [v] = await database.ds.query<[{ outcomes: number; approved: number; micros: string }]>(
      `SELECT (SELECT count(*)::int FROM postback_outcomes) AS outcomes,
              count(*) FILTER (WHERE entry_type = 'approved')::int AS approved,
              coalesce(sum(amount_micros), 0)::text AS micros FROM ledger_entries`,
    );
    const expected = storedCount + n + pacedN;
    // Storage per decision (each decision here is one conversion with one approved entry), for
    // the capacity model (docs/deployment.md): heap, TOAST and indexes, not vacuumed. Tables an
    // older build does not have (an A/B run against it) are left out.
    const sizes = await database.ds.query<Array<{ name: string; bytes: string }>>(
      `SELECT t AS name, pg_total_relation_size(t)::text AS bytes FROM unnest($1::text[]) t
        WHERE to_regclass(t) IS NOT NULL
       UNION ALL SELECT 'whole database', pg_database_size(current_database())::text`,
      [STORAGE_TABLES],
    );
    const bytesPerDecision = Object.fromEntries(sizes.map((r) => [r.name, Number(r.bytes) / expected]));
    const problems: string[] = [];
    if (doneAt === undefined) problems.push(`not drained within ${maxSeconds} s`);
    if (paced && !paced.drained)
      problems.push(`the paced postbacks were not all decided within ${maxSeconds} s`);
    if (v.outcomes !== expected) problems.push(`${v.outcomes} outcomes, expected ${expected}`);
    if (v.approved !== expected) problems.push(`${v.approved} approved entries, expected ${expected}`);
    if (v.micros !== String(BigInt(expected) * PAYOUT_MICROS))
      problems.push(`${v.micros} micros, expected ${BigInt(expected) * PAYOUT_MICROS}`);
    if (onTopic < n + pacedN) problems.push(`${onTopic} entries on the ledger topic, expected ${n + pacedN}`);
    const drainSeconds = drainSecondsNow;
    const decided = n - firstCount;
    const cpuMicros = (i: 0 | 1): number =>
      cpuAtFirst && cpuAtDone && decided > 0 ? ((cpuAtDone[i] - cpuAtFirst[i]) / decided) * 1e6 : NaN;
    await pgCpu.stop();
    return {
      n,
      clicks: clickCount,
      stored: storedCount,
      store,
      produceSeconds,
      produceRate: n / produceSeconds,
      bootSeconds: firstAt !== undefined ? (firstAt - spawnedAt) / 1000 : NaN,
      drainSeconds,
      decisionsPerSecond,
      topicSeconds: (topicAt - spawnedAt) / 1000,
      topicAfterLastDecisionSeconds:
        doneAt !== undefined && publishedAt !== undefined ? Math.max(0, publishedAt - doneAt) / 1000 : NaN,
      relayMaxLagSeconds: relayMaxLagMs / 1000,
      paced,
      drained: doneAt !== undefined,
      rssIdleMiB: Math.round(rssIdleMiB * 10) / 10,
      rssAtTenthsMiB: tenths,
      heapAtTenthsMiB: heapTenths,
      peakRssMiB,
      cpuMicrosPerDecision: { processor: cpuMicros(0), postgres: cpuMicros(1) },
      bytesPerDecision,
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

/**
 * `count` approved postbacks at `rate` per second (open loop: every 50 ms what is due by then is
 * sent, however long the previous send took), each stamped with the moment it is produced.
 */
async function producePaced(
  topic: string,
  count: number,
  rate: number,
  clickIds: readonly string[],
  txPrefix: string,
  brokers: string[],
): Promise<void> {
  const producer = new Kafka({ clientId: 'bench-paced', brokers, logLevel: logLevel.NOTHING }).producer({
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  try {
    const start = Date.now();
    let sent = 0;
    while (sent < count) {
      throwIfInterrupted();
      const due = Math.min(count, Math.floor(((Date.now() - start) / 1000) * rate) + 1);
      while (due > sent) {
        const messages = [];
        const upTo = Math.min(due, sent + 1000);
        for (let j = sent; j < upTo; j++) {
          const e = postbackEvent(
            BACKLOG_PARTNER,
            clickIds[j % clickIds.length]!,
            `${txPrefix}${j}`,
            'approved',
          );
          messages.push({ key: e.key, value: JSON.stringify(e) });
        }
        await producer.send({ topic, acks: -1, messages });
        sent = upTo;
      }
      await sleep(50);
    }
  } finally {
    await producer.disconnect();
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
    'stored conversions': fmt(r.stored),
    postbacks: fmt(r.n),
    'decisions/s': fmt(r.decisionsPerSecond),
    'drain (s)': fmt(r.drainSeconds, 1),
    'boot (s)': fmt(r.bootSeconds, 1),
    'all on ledger topic (s)': fmt(r.topicSeconds, 1),
    'topic after last decision (s)': fmt(r.topicAfterLastDecisionSeconds, 2),
    'topic behind table, max (s)': fmt(r.relayMaxLagSeconds, 2),
    'paced: rate, decision latency p50 / p99 (ms)': r.paced
      ? `${fmt(r.paced.rate)}/s x ${fmt(r.paced.n)}: ${fmt(r.paced.e2eMs.p50, 0)} / ${fmt(r.paced.e2eMs.p99, 0)}`
      : 'not run',
    'processor RSS booted (MiB)': fmt(r.rssIdleMiB, 0),
    'processor RSS at 10 %, 50 %, 100 % (MiB)': [0, 4, 9]
      .map((i) => fmt(r.rssAtTenthsMiB[i] ?? NaN, 0))
      .join(' / '),
    'processor peak RSS (MiB)': fmt(r.peakRssMiB.processor ?? NaN, 0),
    'processor V8 heap used at 10 %, 50 %, 100 % (MiB)': [0, 4, 9]
      .map((i) => fmt(r.heapAtTenthsMiB[i] ?? NaN, 0))
      .join(' / '),
    'bench peak RSS (MiB)': fmt(r.peakRssMiB['bench process'] ?? NaN, 0),
    'CPU per decision, processor / Postgres (µs)': `${fmt(r.cpuMicrosPerDecision.processor, 0)} / ${fmt(r.cpuMicrosPerDecision.postgres, 0)}`,
    correct: r.verify.problems.length ? `NO: ${r.verify.problems.join('; ')}` : 'yes',
  }));
}

export function drainMarkdown(results: DrainResult[]): string {
  return [
    `# Processor drain (${new Date().toISOString()})`,
    '',
    `Machine: ${machineLine()}. Postbacks pre-produced straight to Kafka, then one processor started on the backlog (no gateway).`,
    'Stored conversions are generated in Postgres before the drain (bench/lib/store.ts). "Topic behind table" is, at each 200 ms poll of ' +
      "the processor's counters, how long ago the oldest decided but not yet published entry was decided (an upper bound, to one poll). " +
      "Paced: after the drain, postbacks produced at 70 % of the drain's rate, each stamped when produced; latency to its decision " +
      '(ledger_entries.recorded_at - occurred_at) over every paced entry.',
    '',
    formatTable(drainRows(results)),
    '',
    'Storage per decision (bytes: heap, TOAST and indexes, not vacuumed; stored conversions count as decisions):',
    '',
    ...results.map(
      (r) =>
        `- ${fmt(r.n)} postbacks, ${fmt(r.stored)} stored: ` +
        Object.entries(r.bytesPerDecision)
          .map(([t, b]) => `${t} ${fmt(b, 0)}`)
          .join(', '),
    ),
    '',
    'Processor RSS at each tenth of the drain (MiB):',
    '',
    ...results.map(
      (r) =>
        `- ${fmt(r.n)} postbacks, ${fmt(r.stored)} stored: ${r.rssAtTenthsMiB.map((x) => fmt(x, 0)).join(', ')}`,
    ),
    '',
    'Processor V8 heap in use at each tenth (MiB): what it holds in JS objects; RSS also counts memory V8 and the allocator keep reserved.',
    '',
    ...results.map(
      (r) =>
        `- ${fmt(r.n)} postbacks, ${fmt(r.stored)} stored: ${r.heapAtTenthsMiB.map((x) => fmt(x, 0)).join(', ')}`,
    ),
    '',
    ...(results.some((r) => r.store)
      ? [
          'Store generation:',
          '',
          ...results
            .filter((r) => r.store)
            .map(
              (r) =>
                `- ${fmt(r.stored)} conversions: ${fmt(r.store!.seconds, 1)} s, ${fmt(r.store!.sizeMiB)} MiB with indexes (` +
                Object.entries(r.store!.steps)
                  .map(([k, v]) => `${k} ${fmt(v, 1)} s`)
                  .join(', ') +
                ')',
            ),
          '',
        ]
      : []),
  ].join('\n');
}

async function main(): Promise<void> {
  const r = await runDrainBench();
  writeResults('drain', drainMarkdown([r]));
  if (r.verify.problems.length) process.exitCode = 1;
}

if (require.main === module) runBenchMain('drain bench', main);

/**
 * Pipeline bench: signed postbacks through the whole system, from the gateway's HTTP answer to
 * the ledger entry in Postgres and on `conversions.ledger`.
 *
 * Starts its own system (a fresh migrated database, topics under a fresh prefix, the built
 * gateway and processor as real processes), sets up a publisher, an offer and an HMAC partner
 * through the admin API, mints clicks and waits until the processor stored them all, then sends
 * exactly N signed postbacks (unique transaction ids, status=approved) with autocannon at fixed
 * concurrency and times how long the processor takes to decide them all and the relay to put
 * every ledger entry on the topic. The results are checked (N accepted outcomes, N approved
 * entries, N distinct entry ids on the topic) and a wrong result fails the bench loudly.
 * Everything it started is stopped and dropped at the end, also on failure or Ctrl-C.
 *
 *   node_modules/.bin/ts-node -r tsconfig-paths/register --transpile-only bench/pipeline.ts
 *
 * Env: BENCH_N (default 50000), BENCH_CONNECTIONS (default 64), BENCH_RATE (open loop: requests/s in all; default unset = closed loop),
 * BENCH_CLICKS (default 2000),
 * BENCH_MAX_SECONDS (default 300: how long to wait for the pipeline to drain after the load),
 * BENCH_BACKLOG=1 (the processor is stopped during the load and works off the backlog after it;
 * results in <date>-pipeline-backlog.md), BENCH_SKIP_BUILD=1 (use dist/ as it is), KAFKA_BROKERS,
 * DATABASE_URL (the server; the bench creates its own database on it).
 */
import { existsSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { Topics, topicName } from '@app/contracts';
import {
  type AppProcess,
  createTestDatabase,
  createTestTopics,
  freePort,
  spawnApp,
  TEST_BROKERS,
  type TestDatabase,
  topicMessageCount,
  uniquePrefix,
  waitReady,
} from '@app/testing';
import {
  BackendCpu,
  CpuMeter,
  envInt,
  fmt,
  formatTable,
  type LatencySummary,
  localBrokerPid,
  machine,
  percentile,
  readCpuSeconds,
  RssSampler,
  WHOLE_BOX,
  writeResults,
} from './lib/stats';
import {
  type BenchCatalog,
  BROKER,
  ensureGatewayBuilt,
  ablationEnv,
  mintClicks,
  probePostback,
  runBenchMain,
  SELF,
  sendPostbacks,
  setUpCatalog,
  sleep,
  spawnGateway,
  stopApp,
  throwIfInterrupted,
  trapInterrupt,
  wasInterrupted,
} from './lib/system';

const ROOT = join(__dirname, '..');
const PROCESSOR_ENTRY = join(ROOT, 'dist', 'apps', 'processor', 'src', 'main.js');
const POLL_MS = 100;
const SLOW_POLL_MS = 1000;
const STALL_SECONDS = 10;
const PG = 'postgres backends (bench database)';
const TARGET_PER_SECOND = 5000;
const TARGET_P99_MS = 1000;
const PAYOUT_MICROS = 1_500_000n;

export interface PipelineBenchOptions {
  /** Postbacks sent (each a new conversion). */
  n?: number;
  connections?: number;
  /**
   * Open loop: this many requests per second in all (autocannon's overallRate), however fast
   * the system answers. Unset: closed loop, each connection sends as soon as it has its answer.
   * A sustained-rate target is read from an open-loop run: closed loop lets the gateway take
   * the CPU the processor needs and measures a queue, not the pipeline.
   */
  rate?: number;
  clicks?: number;
  /** How long to wait for the pipeline to drain after the last answer, in seconds. */
  maxSeconds?: number;
  brokers?: string[];
  /** Run infra's ensure_build first (default: unless BENCH_SKIP_BUILD=1). */
  build?: boolean;
  /**
   * Backlog mode: the processor is stopped during the load and started again after it, so the
   * gateway runs without it and the processor's own rate is measured on a backlog of N.
   */
  backlog?: boolean;
  /** Extra environment for the apps (experiments: PARTITIONS_CONCURRENCY, PRODUCE_LINGER_MS, ...). */
  gatewayEnv?: Record<string, string>;
  processorEnv?: Record<string, string>;
  log?: (line: string) => void;
}

/** Percentiles of a figure over rows (the shape of lib/stats' LatencySummary). */
export type Percentiles = LatencySummary;

export interface PipelineBenchResult {
  mode: 'concurrent' | 'backlog';
  n: number;
  connections: number;
  /** Requests per second asked of autocannon (open loop); undefined for closed loop. */
  rate: number | undefined;
  clicks: number;
  extraEnv: { gateway: Record<string, string>; processor: Record<string, string> };
  load: {
    seconds: number;
    requests: number;
    ok2xx: number;
    non2xx: number;
    errors: number;
    timeouts: number;
    /** Mean of autocannon's per-second samples. */
    reqPerSecMean: number;
    /** 2xx answers over the load's wall time. */
    reqPerSecOverall: number;
    latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
    statusCodes: Record<string, number>;
    non2xxSamples: Array<{ status: number; body: string }>;
  };
  pipeline: {
    /** First 2xx to the last answer. */
    loadSeconds: number;
    /** Outcomes stored when the last answer came back. */
    outcomesAtLoadEnd: number;
    /** First 2xx until all N outcomes are stored (NaN when they never were). */
    outcomesSeconds: number;
    /** N / outcomesSeconds. */
    throughputPerSecond: number;
    /** First 2xx until all N entries are on conversions.ledger. */
    topicSeconds: number;
    topicThroughputPerSecond: number;
    /** The processor's rate while the load ran, and while it worked off what was left after. */
    rateDuringLoad: number;
    rateAfterLoad: number;
    /** Whether everything arrived within the time bound. */
    drained: boolean;
    /** The outcome-count polls: how many, their mean duration, and their share of the run's wall time. */
    outcomePolls: { reads: number; meanMs: number; busyPercent: number };
    /** Backlog mode: processor start to its first outcome, and its rate from there to the N-th. */
    processorBootSeconds: number;
    backlogRatePerSecond: number;
  };
  /** ledger_entries.recorded_at - occurred_at, and its parts (see the markdown). */
  e2eMs: Percentiles;
  toTxStartMs: Percentiles;
  txStartToDecisionMs: Percentiles;
  /** Decision transactions (one per partition batch): entries per batch. */
  batches: Percentiles & { partitions: number };
  peakRssMiB: Record<string, number>;
  /** Other processes on the box: those that used at least 1 % of a core over the whole run, and all of them together. */
  others: { top: Array<{ name: string; percent: number }>; totalPercent: number };
  cpuPercent: { load: Record<string, number>; drain: Record<string, number>; total: Record<string, number> };
  verify: {
    outcomes: number;
    outcomesByKind: Record<string, number>;
    entries: number;
    distinctEntries: number;
    approvedEntries: number;
    amountMicros: string;
    outcomesLinkedToEntries: number;
    outboxLeft: number;
    topicMessagesForRun: number;
    topicDistinctEntryIds: number;
    topicIdsMissingFromDb: number;
    dbIdsMissingFromTopic: number;
    /** Where the entries missing from the topic sit, when some are. */
    missingDetail: string;
    problems: string[];
  };
  /** Warnings and errors the apps printed during the run (LOG_LEVEL=warn). */
  logTail: { gateway: string; processor: string };
  machine: ReturnType<typeof machine>;
}

/** Polls `read` until it returns a truthy value or the time is up; undefined on timeout. */
async function waitFor<T>(
  read: () => Promise<T | undefined | false>,
  timeoutMs: number,
  everyMs = 200,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read().catch(() => undefined);
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline || wasInterrupted()) return undefined;
    await sleep(everyMs);
  }
}

/**
 * Polls a count every POLL_MS (one read at a time) until it reaches `target`; `reachedNs` is the
 * hrtime at which the read that first saw it was issued (the state it reports is at least that new).
 *
 * With a `near` gate, the full read is made every POLL_MS only while the gate says the target may
 * have been reached (or nothing has moved yet), and every SLOW_POLL_MS otherwise: a count(*) over
 * tens of thousands of rows costs Postgres 10-20 ms, which every 100 ms would be a sizeable share
 * of the CPU of the box under test. The gate must never be false once the count reached the target.
 */
class CountWatch {
  latest = 0;
  /** When a read first saw more than 0, and when it first saw the target. */
  firstMoveNs: bigint | undefined;
  firstMoveCount = 0;
  reachedNs: bigint | undefined;
  /** Reads made and their total wall time (what the polling itself costs). */
  reads = 0;
  readMs = 0;
  private stopped = false;
  readonly done: Promise<void>;

  constructor(
    private readonly read: () => Promise<number>,
    private readonly target: number,
    private readonly deadline: () => number,
    private readonly near?: () => Promise<boolean> | boolean,
  ) {
    this.done = this.loop();
  }

  private async loop(): Promise<void> {
    let lastFull = 0;
    while (!this.stopped && !wasInterrupted() && Date.now() < this.deadline()) {
      if (
        this.near &&
        this.firstMoveNs !== undefined &&
        Date.now() - lastFull < SLOW_POLL_MS &&
        !(await Promise.resolve(this.near()).catch(() => true))
      ) {
        await sleep(POLL_MS);
        continue;
      }
      lastFull = Date.now();
      const at = process.hrtime.bigint();
      const n = await this.read().catch(() => undefined);
      this.reads++;
      this.readMs += Number(process.hrtime.bigint() - at) / 1e6;
      if (n !== undefined) {
        this.latest = n;
        if (n > 0 && this.firstMoveNs === undefined) {
          this.firstMoveNs = at;
          this.firstMoveCount = n;
        }
        if (n >= this.target) {
          this.reachedNs = at;
          return;
        }
      }
      await sleep(POLL_MS);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

/** CPU seconds of every process on the box now, with a short name (for "who else used the CPU"). */
interface CensusEntry {
  /** Short, for grouping. */
  name: string;
  /** The whole command line (or process title), space-separated. */
  cmd: string;
  /** User + system CPU seconds. */
  seconds: number;
}

async function cpuCensus(): Promise<Map<number, CensusEntry>> {
  const out = new Map<number, CensusEntry>();
  for (const d of await fsp.readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(d)) continue;
    const pid = Number(d);
    const seconds = await readCpuSeconds(pid);
    if (seconds === undefined) continue;
    const cmd = (await fsp.readFile(`/proc/${d}/cmdline`, 'utf8').catch(() => ''))
      .split('\0')
      .filter((x) => x !== '');
    let name: string;
    if (cmd.length === 0)
      name = `[${(await fsp.readFile(`/proc/${d}/comm`, 'utf8').catch(() => '?')).trim()}]`;
    else if (cmd[0]!.startsWith('postgres: '))
      // A backend's title names its client ("127.0.0.1(54654)" or "[local]"); background processes' do not.
      name = / \S+\(\d+\)| \[local\]/.test(cmd.join(' ')) ? 'postgres: client backends' : cmd.join(' ');
    else if (/java$/.test(cmd[0]!)) name = `java ${cmd[cmd.length - 2] ?? ''} ${cmd[cmd.length - 1] ?? ''}`;
    else
      name = cmd
        .slice(0, 4)
        .map((a) => a.replace(/^.*\/(node_modules\/)/, '$1'))
        .join(' ');
    out.set(pid, { name: name.slice(0, 90), cmd: cmd.join(' '), seconds });
  }
  return out;
}

/**
 * The processes that used the most CPU between two censuses, grouped by name, except the excluded
 * pids. Only processes alive at the end are seen (their own CPU, not their children's): what the
 * whole box used beyond them is left unattributed (processes that exited meanwhile, the kernel).
 */
function otherProcesses(
  before: Map<number, CensusEntry>,
  after: Map<number, CensusEntry>,
  exclude: (pid: number, cmd: string) => boolean,
  wallSeconds: number,
  count = 6,
): { top: Array<{ name: string; percent: number }>; totalPercent: number } {
  const byName = new Map<string, number>();
  let total = 0;
  for (const [pid, a] of after) {
    if (exclude(pid, a.cmd)) continue;
    const b = before.get(pid);
    const used = a.seconds - (b?.seconds ?? 0);
    if (used <= 0) continue;
    total += used;
    byName.set(a.name, (byName.get(a.name) ?? 0) + used);
  }
  const pct = (sec: number) => Math.round((sec / wallSeconds) * 1000) / 10;
  return {
    top: [...byName]
      .map(([name, sec]) => ({ name, percent: pct(sec) }))
      .filter((x) => x.percent >= 1)
      .sort((a, b) => b.percent - a.percent)
      .slice(0, count),
    totalPercent: pct(total),
  };
}

interface LoadRun {
  result: PipelineBenchResult['load'];
  first2xxNs: bigint | undefined;
  endNs: bigint;
}

/** Exactly n signed GET postbacks at fixed concurrency; transaction ids `<txPrefix><i>`. */
async function drive(
  base: string,
  cat: BenchCatalog,
  clicks: readonly string[],
  txPrefix: string,
  n: number,
  connections: number,
  rate: number | undefined,
): Promise<LoadRun> {
  const load = await sendPostbacks(base, cat, clicks, (i) => `${txPrefix}${i}`, {
    connections: Math.min(connections, n),
    amount: n,
    ...(rate !== undefined ? { overallRate: rate } : {}),
  });
  const { result, first2xxNs, startNs, endNs } = load;
  const wall = Number(endNs - (first2xxNs ?? startNs)) / 1e9;
  return {
    first2xxNs,
    endNs,
    result: {
      seconds: Number(endNs - startNs) / 1e9,
      requests: result.requests.total,
      ok2xx: result['2xx'],
      non2xx: load.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
      reqPerSecMean: result.requests.average,
      reqPerSecOverall: wall > 0 ? result['2xx'] / wall : NaN,
      latencyMs: load.latencyMs,
      statusCodes: load.statusCodes,
      non2xxSamples: load.non2xxSamples,
    },
  };
}

const alive = (app: AppProcess) => app.proc.exitCode === null && app.proc.signalCode === null;

/** Percentiles of `ms` over the rows of a query (SQL percentile_cont, so interpolated). */
async function sqlPercentiles(db: TestDatabase, from: string, ms: string, params: unknown[]) {
  const [r] = await db.ds.query<[{ n: number; p: number[] | null; max: number | null; mean: number | null }]>(
    `SELECT count(*)::int AS n,
            percentile_cont(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY ms) AS p,
            max(ms) AS max, avg(ms) AS mean
       FROM (SELECT (${ms})::float8 AS ms ${from}) s`,
    params,
  );
  const p = (r.p ?? []).map(Number);
  return {
    count: r.n,
    p50: p[0] ?? NaN,
    p90: p[1] ?? NaN,
    p99: p[2] ?? NaN,
    max: r.max === null ? NaN : Number(r.max),
    mean: r.mean === null ? NaN : Number(r.mean),
  } satisfies Percentiles;
}

/** Every message on a topic, from the beginning, until `expected` are seen or the time is up. */
async function readLedgerTopic(
  brokers: string[],
  topic: string,
  groupId: string,
  expected: number,
  timeoutMs: number,
): Promise<Array<{ entry_id?: unknown; transaction_id?: unknown }>> {
  const kafka = new Kafka({ clientId: 'bench-pipeline-verify', brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId });
  const out: Array<{ entry_id?: unknown; transaction_id?: unknown }> = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, timeoutMs);
      consumer
        .run({
          eachBatch: async ({ batch }) => {
            for (const m of batch.messages) {
              try {
                out.push(JSON.parse(m.value?.toString() ?? 'null') ?? {});
              } catch {
                out.push({});
              }
            }
            if (out.length >= expected) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return out;
}

/** Deletes the consumer groups under the bench's prefix (the processor's and the verifier's). */
async function dropGroups(brokers: string[], prefix: string): Promise<void> {
  const admin = new Kafka({ clientId: 'bench-cleanup', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const mine = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(prefix));
    if (mine.length)
      await admin.deleteGroups(mine).catch((e: unknown) => {
        // A group that went away meanwhile (e.g. with its topics) is fine; anything else is reported.
        const failed = (
          (e as { groups?: Array<{ groupId: string; error?: { type?: string } }> }).groups ?? []
        )
          .filter((g) => g.error && g.error.type !== 'GROUP_ID_NOT_FOUND')
          .map((g) => `${g.groupId}: ${g.error?.type ?? 'unknown'}`);
        if (failed.length || !(e as { groups?: unknown }).groups)
          throw new Error(failed.join(', ') || String(e));
      });
  } finally {
    await admin.disconnect();
  }
}

const ANSI_COLOURS = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

/**
 * What an app printed besides Nest's LOG/DEBUG/VERBOSE lines (LOG_LEVEL is validated but, at the
 * time of writing, not applied to Nest's logger, so the startup lines are printed anyway).
 */
function warnLines(logs: string): string {
  return logs
    .replace(ANSI_COLOURS, '')
    .split('\n')
    .filter((l) => l.trim() !== '' && !/^\[Nest\] \d+\s+-.*?\s(LOG|DEBUG|VERBOSE)\s/.test(l))
    .slice(-20)
    .join('\n');
}

/** Starts the system, sends N postbacks, waits for the pipeline to drain, verifies, tears everything down. */
export async function runPipelineBench(opts: PipelineBenchOptions = {}): Promise<PipelineBenchResult> {
  const n = opts.n ?? envInt('BENCH_N', 50_000, 1, 10_000_000);
  const connections = opts.connections ?? envInt('BENCH_CONNECTIONS', 64, 1, 1000);
  const rate = opts.rate ?? (process.env.BENCH_RATE ? envInt('BENCH_RATE', 5000, 1, 1_000_000) : undefined);
  const clickCount = opts.clicks ?? envInt('BENCH_CLICKS', 2000, 1, 100_000);
  const maxSeconds = opts.maxSeconds ?? envInt('BENCH_MAX_SECONDS', 300, 10, 3600);
  const backlog = opts.backlog ?? process.env.BENCH_BACKLOG === '1';
  const brokers = opts.brokers ?? TEST_BROKERS;
  const gatewayEnv = opts.gatewayEnv ?? {};
  const processorEnv = opts.processorEnv ?? {};
  const log = opts.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  ensureGatewayBuilt(opts.build ?? process.env.BENCH_SKIP_BUILD !== '1', log);
  if (!existsSync(PROCESSOR_ENTRY))
    throw new Error(`${PROCESSOR_ENTRY} is missing: run \`npm run build\` first`);

  const tag = Date.now().toString(36);
  const txPrefix = `${tag}-r-`;
  const txLike = `${txPrefix}%`;
  const prefix = uniquePrefix('bench-pl');
  const ledgerTopic = topicName(Topics.conversionsLedger, prefix);
  let db: TestDatabase | undefined;
  let topics: { drop(): Promise<void> } | undefined;
  let gateway: AppProcess | undefined;
  let processor: AppProcess | undefined;
  let pgCpu: BackendCpu | undefined;
  const watches: CountWatch[] = [];
  const rss = new RssSampler({}, SELF);
  const untrapInterrupt = trapInterrupt(log);
  const check = () => {
    throwIfInterrupted();
    for (const app of [gateway, processor])
      if (app && !alive(app))
        throw new Error(`the ${app.name} exited (${app.proc.exitCode ?? app.proc.signalCode})`);
  };
  try {
    db = await createTestDatabase();
    const database = db;
    log(`database ${db.name} (migrated)`);
    topics = await createTestTopics(prefix, brokers);
    log(`topics under ${prefix}`);
    check();
    const [port, healthPort] = [await freePort(), await freePort()];
    const base = `http://127.0.0.1:${port}`;
    gateway = spawnGateway(db, brokers, prefix, port, gatewayEnv);
    const processorFullEnv = {
      DATABASE_URL: db.url,
      KAFKA_BROKERS: brokers.join(','),
      TOPIC_PREFIX: prefix,
      HEALTH_PORT: String(healthPort),
      LOG_LEVEL: 'warn',
      ...ablationEnv('BENCH_PROCESSOR_ENV'),
      ...processorEnv,
    };
    processor = spawnApp('processor', processorFullEnv);
    log(
      `gateway pid ${gateway.proc.pid ?? '?'} on ${base}, processor pid ${processor.proc.pid ?? '?'} ` +
        `(health :${healthPort}); waiting for /health/ready`,
    );
    await Promise.all([
      waitReady(gateway, `${base}/health/ready`, 90_000),
      waitReady(processor, `http://127.0.0.1:${healthPort}/health/ready`, 90_000),
    ]);
    const brokerPid = brokers.length === 1 ? localBrokerPid(brokers[0]!) : undefined;
    const pids = { gateway: gateway.proc.pid, processor: processor.proc.pid, [BROKER]: brokerPid };
    for (const [label, pid] of Object.entries(pids)) if (pid !== undefined) rss.add(label, pid);
    check();

    const cat = await setUpCatalog(base, tag);
    const clicks = await mintClicks(base, cat, clickCount);
    log(`minted ${fmt(clicks.length)} clicks; waiting until the processor stored them`);
    const stored = await waitFor(async () => {
      const [r] = await database.ds.query<[{ n: number }]>(`SELECT count(*)::int AS n FROM clicks`);
      return r.n >= clicks.length ? r.n : undefined;
    }, 60_000);
    if (stored === undefined)
      throw new Error(`the ${fmt(clicks.length)} clicks were not all stored within 60 s`);
    check();

    // One postback by hand, followed to the topic: a clear message when any stage is not what we expect.
    const probeTx = `${tag}-probe`;
    await probePostback(base, cat, clicks[0]!, probeTx);
    const probeOutcome = await waitFor(async () => {
      const [r] = await database.ds.query<
        { outcome: string; reason_code: string | null; detail: string | null }[]
      >(`SELECT outcome, reason_code, detail FROM postback_outcomes WHERE transaction_id = $1`, [probeTx]);
      return r && r.outcome !== 'retry_scheduled' ? r : undefined;
    }, 30_000);
    if (!probeOutcome) throw new Error('the probe postback got no final outcome within 30 s');
    if (probeOutcome.outcome !== 'accepted')
      throw new Error(
        `the probe postback was ${probeOutcome.outcome} (${probeOutcome.reason_code ?? ''}: ${probeOutcome.detail ?? ''})`,
      );
    const topicBase = await waitFor(async () => {
      const c = await topicMessageCount(ledgerTopic, brokers);
      return c >= 1 ? c : undefined;
    }, 30_000);
    if (topicBase === undefined)
      throw new Error(`the probe's ledger entry did not reach ${ledgerTopic} within 30 s`);
    const [{ n: outcomesBase }] = await database.ds.query<[{ n: number }]>(
      `SELECT count(*)::int AS n FROM postback_outcomes`,
    );
    check();
    const earlierLogs = processor.logs();
    if (backlog) {
      log('backlog mode: stopping the processor for the load');
      await stopApp(processor);
    }

    // The load, with the outcome count and the topic's watermarks polled from its start.
    let deadlineAt = Number.POSITIVE_INFINITY;
    // Gates (see CountWatch): every run entry gets its own seq above seqBase in the transaction
    // that stores its outcome, so N accepted outcomes imply max(seq) >= seqBase + N (an index
    // lookup); and an entry reaches the topic only after its outcome is stored.
    const [{ s: seqBaseText }] = await database.ds.query<[{ s: string }]>(
      `SELECT coalesce(max(seq), 0)::text AS s FROM ledger_entries`,
    );
    const seqTarget = BigInt(seqBaseText) + BigInt(n);
    const outcomesWatch = new CountWatch(
      async () =>
        (await database.ds.query<[{ n: number }]>(`SELECT count(*)::int AS n FROM postback_outcomes`))[0].n -
        outcomesBase,
      n,
      () => deadlineAt,
      async () => {
        const [{ s: top }] = await database.ds.query<[{ s: string | null }]>(
          `SELECT max(seq)::text AS s FROM ledger_entries`,
        );
        return top !== null && BigInt(top) >= seqTarget;
      },
    );
    const topicWatch = new CountWatch(
      async () => (await topicMessageCount(ledgerTopic, brokers)) - topicBase,
      n,
      () => deadlineAt,
      () => outcomesWatch.reachedNs !== undefined,
    );
    watches.push(outcomesWatch, topicWatch);
    log(
      `load: ${fmt(n)} postbacks at ${connections} connections` +
        (rate !== undefined ? `, open loop at ${fmt(rate)}/s` : ', closed loop'),
    );
    rss.start();
    const census0 = await cpuCensus();
    const loadStartNs = process.hrtime.bigint();
    pgCpu = await new BackendCpu(db.name).start();
    const cpuLoad = await new CpuMeter(pids, SELF).start();
    const cpuTotal = await new CpuMeter(pids, SELF).start();
    const run = await drive(base, cat, clicks, txPrefix, n, connections, rate);
    const cpuLoadPct = await cpuLoad.stop();
    const pgLoadSeconds = await pgCpu.seconds();
    let respawnNs: bigint | undefined;
    const processorPids = [processor.proc.pid];
    if (backlog) {
      respawnNs = process.hrtime.bigint();
      processor = spawnApp('processor', processorFullEnv);
      processorPids.push(processor.proc.pid);
      if (processor.proc.pid !== undefined) rss.add('processor', processor.proc.pid);
      log(`backlog mode: processor started again (pid ${processor.proc.pid ?? '?'})`);
    }
    const cpuDrain = await new CpuMeter({ ...pids, processor: processor.proc.pid }, SELF).start();
    const [{ n: outcomesAtLoadEndRaw }] = await database.ds.query<[{ n: number }]>(
      `SELECT count(*)::int AS n FROM postback_outcomes`,
    );
    const outcomesAtLoadEnd = outcomesAtLoadEndRaw - outcomesBase;
    check();
    log(
      `load done in ${fmt(run.result.seconds, 1)} s (${fmt(run.result.ok2xx)} 2xx, ${fmt(run.result.non2xx)} non-2xx); ` +
        `${fmt(outcomesAtLoadEnd)} outcomes stored so far; waiting for the rest (at most ${maxSeconds} s)`,
    );
    deadlineAt = Date.now() + maxSeconds * 1000;
    const expectOk = run.result.ok2xx === n;
    if (!expectOk) {
      // Fewer accepted postbacks than N: the counts can never reach N; wait a little for what was accepted.
      deadlineAt = Math.min(deadlineAt, Date.now() + 15_000);
    }
    await outcomesWatch.done;
    // When every outcome is stored, the outbox is empty and the topic has not moved for
    // STALL_SECONDS, nothing more will arrive: stop waiting (the checks below say what is missing).
    let lastTopic = -1;
    let lastMoveAt = Date.now();
    let stalled = false;
    while (topicWatch.reachedNs === undefined && Date.now() < deadlineAt && !wasInterrupted()) {
      if (topicWatch.latest !== lastTopic) {
        lastTopic = topicWatch.latest;
        lastMoveAt = Date.now();
      } else if (Date.now() - lastMoveAt > STALL_SECONDS * 1000) {
        const [{ n: waiting }] = await database.ds.query<[{ n: number }]>(
          `SELECT count(*)::int AS n FROM ledger_outbox`,
        );
        if (waiting === 0) {
          log(`the topic has not moved for ${STALL_SECONDS} s and the outbox is empty: not waiting longer`);
          deadlineAt = Date.now();
          stalled = true;
          break;
        }
        lastMoveAt = Date.now();
      }
      await sleep(POLL_MS);
    }
    await topicWatch.done;
    const drainEndNs = process.hrtime.bigint();
    const cpuDrainPct = await cpuDrain.stop();
    const cpuTotalPct = await cpuTotal.stop();
    const pgTotalSeconds = await pgCpu.stop();
    pgCpu = undefined;
    const peakRssMiB = await rss.stop();
    const census1 = await cpuCensus();
    const drained = outcomesWatch.reachedNs !== undefined && topicWatch.reachedNs !== undefined;
    log(
      drained
        ? `drained: ${fmt(n)} outcomes and ${fmt(n)} entries on the topic`
        : `NOT drained: ${fmt(outcomesWatch.latest)} outcomes, ${fmt(topicWatch.latest)} entries on the topic`,
    );
    throwIfInterrupted();

    // Timings, from the first 2xx.
    const t0 = run.first2xxNs ?? run.endNs;
    const since = (ns: bigint | undefined) => (ns === undefined ? NaN : Number(ns - t0) / 1e9);
    const loadSeconds = since(run.endNs);
    const outcomesSeconds = since(outcomesWatch.reachedNs);
    const topicSeconds = since(topicWatch.reachedNs);
    const loadWall = Number(run.endNs - t0) / 1e9;
    const afterWall = Number((outcomesWatch.reachedNs ?? drainEndNs) - run.endNs) / 1e9;
    const cpuPhase = (pct: Record<string, number>, pgSeconds: number, wall: number) => ({
      ...pct,
      [PG]: wall > 0 ? Math.round((pgSeconds / wall) * 1000) / 10 : NaN,
    });
    const drainWall = Number(drainEndNs - run.endNs) / 1e9;
    const totalWall = Number(drainEndNs - loadStartNs) / 1e9;
    const ours = new Set(
      [gateway.proc.pid, ...processorPids, brokerPid, process.pid].filter((x) => x !== undefined),
    );
    const others = otherProcesses(
      census0,
      census1,
      (pid, cmd) => ours.has(pid) || (cmd.startsWith('postgres: ') && cmd.includes(` ${database.name} `)),
      totalWall,
    );
    const processorBootSeconds =
      respawnNs !== undefined && outcomesWatch.firstMoveNs !== undefined
        ? Number(outcomesWatch.firstMoveNs - respawnNs) / 1e9
        : NaN;
    const backlogSpan =
      outcomesWatch.firstMoveNs !== undefined && outcomesWatch.reachedNs !== undefined
        ? Number(outcomesWatch.reachedNs - outcomesWatch.firstMoveNs) / 1e9
        : NaN;
    const backlogRatePerSecond = backlog ? (n - outcomesWatch.firstMoveCount) / backlogSpan : NaN;

    // Latency, from the rows themselves.
    log('measuring latency and verifying');
    const e2eMs = await sqlPercentiles(
      database,
      'FROM ledger_entries WHERE transaction_id LIKE $1',
      'extract(epoch FROM recorded_at - occurred_at) * 1000',
      [txLike],
    );
    const joined =
      'FROM ledger_entries e JOIN postbacks p ON p.event_id = e.source_event_id WHERE e.transaction_id LIKE $1';
    const toTxStartMs = await sqlPercentiles(
      database,
      joined,
      'extract(epoch FROM p.stored_at - e.occurred_at) * 1000',
      [txLike],
    );
    const txStartToDecisionMs = await sqlPercentiles(
      database,
      joined,
      'extract(epoch FROM e.recorded_at - p.stored_at) * 1000',
      [txLike],
    );
    const batchRows = await database.ds.query<{ partition: number; n: number }[]>(
      `SELECT p.kafka_partition AS partition, count(*)::int AS n ${joined} GROUP BY p.kafka_partition, e.recorded_at`,
      [txLike],
    );
    const sizes = batchRows.map((r) => r.n).sort((a, b) => a - b);
    const batches = {
      count: sizes.length,
      p50: percentile(sizes, 50),
      p90: percentile(sizes, 90),
      p99: percentile(sizes, 99),
      max: sizes.length ? sizes[sizes.length - 1]! : NaN,
      mean: sizes.length ? sizes.reduce((a, b) => a + b, 0) / sizes.length : NaN,
      partitions: new Set(batchRows.map((r) => r.partition)).size,
    };

    // Correctness.
    const kinds = await database.ds.query<{ outcome: string; n: number }[]>(
      `SELECT outcome, count(*)::int AS n FROM postback_outcomes WHERE transaction_id LIKE $1 GROUP BY outcome ORDER BY 1`,
      [txLike],
    );
    const outcomesByKind: Record<string, number> = {};
    for (const k of kinds) outcomesByKind[k.outcome] = k.n;
    const outcomes = kinds.reduce((a, k) => a + k.n, 0);
    const [e] = await database.ds.query<
      [{ n: number; d: number; approved: number; amount: string | null; linked: number }]
    >(
      `SELECT count(*)::int AS n, count(DISTINCT entry_id)::int AS d,
              count(*) FILTER (WHERE entry_type = 'approved' AND conversion_status = 'approved')::int AS approved,
              sum(amount_micros)::text AS amount,
              (SELECT count(*)::int FROM postback_outcomes o JOIN ledger_entries l ON l.entry_id = o.entry_id
                WHERE o.transaction_id LIKE $1) AS linked
         FROM ledger_entries WHERE transaction_id LIKE $1`,
      [txLike],
    );
    const [{ n: outboxLeft }] = await database.ds.query<[{ n: number }]>(
      `SELECT count(*)::int AS n FROM ledger_outbox`,
    );
    const dbIds = new Set(
      (
        await database.ds.query<{ entry_id: string }[]>(
          `SELECT entry_id FROM ledger_entries WHERE transaction_id LIKE $1`,
          [txLike],
        )
      ).map((r) => r.entry_id),
    );
    const onTopic = await readLedgerTopic(
      brokers,
      ledgerTopic,
      `${prefix}bench-verify`,
      topicBase + Math.max(topicWatch.latest, 0),
      60_000,
    );
    const runMessages = onTopic.filter(
      (m) => typeof m.transaction_id === 'string' && m.transaction_id.startsWith(txPrefix),
    );
    const topicIds = new Set(runMessages.map((m) => String(m.entry_id)));
    let topicIdsMissingFromDb = 0;
    for (const id of topicIds) if (!dbIds.has(id)) topicIdsMissingFromDb++;
    const missing = [...dbIds].filter((id) => !topicIds.has(id));
    const dbIdsMissingFromTopic = missing.length;
    let missingDetail = '';
    if (missing.length) {
      // Where the lost entries sit in commit (seq) order, and how many decision batches they come from.
      const [d] = await database.ds.query<
        [{ batches: number; min_seq: string; max_seq: string; below: number; max_all: string }]
      >(
        `SELECT count(DISTINCT (p.kafka_partition, e.recorded_at))::int AS batches,
                min(e.seq)::text AS min_seq, max(e.seq)::text AS max_seq,
                count(*) FILTER (WHERE e.seq < (SELECT max(seq) FROM ledger_entries))::int AS below,
                (SELECT max(seq) FROM ledger_entries)::text AS max_all
           FROM ledger_entries e JOIN postbacks p ON p.event_id = e.source_event_id
          WHERE e.entry_id = ANY($1)`,
        [missing],
      );
      missingDetail =
        `${fmt(missing.length)} entries in ledger_entries never reached the topic although the outbox is empty: ` +
        `they come from ${fmt(d.batches)} decision batch(es), seq ${d.min_seq} to ${d.max_seq} ` +
        `(${fmt(d.below)} of them below the highest seq ${d.max_all}, i.e. entries that later-numbered ones overtook).`;
    }

    const problems: string[] = [];
    const expect = (ok: boolean, what: string) => {
      if (!ok) problems.push(what);
    };
    const r = run.result;
    expect(r.ok2xx === n, `${fmt(r.ok2xx)} of ${fmt(n)} postbacks answered 2xx`);
    expect(r.non2xx === 0, `${fmt(r.non2xx)} non-2xx answers`);
    expect(
      r.errors === 0 && r.timeouts === 0,
      `${fmt(r.errors)} connection errors, ${fmt(r.timeouts)} timeouts`,
    );
    expect(
      drained,
      stalled
        ? `the pipeline did not drain: the topic stopped at ${fmt(topicWatch.latest)} of ${fmt(n)} entries with an empty outbox`
        : `the pipeline did not drain within ${maxSeconds} s of the last answer`,
    );
    expect(outcomes === n, `${fmt(outcomes)} outcomes for ${fmt(n)} postbacks`);
    expect(
      (outcomesByKind.accepted ?? 0) === n,
      `${fmt(outcomesByKind.accepted ?? 0)} accepted outcomes of ${fmt(n)} (${JSON.stringify(outcomesByKind)})`,
    );
    expect(
      e.n === n && e.d === n,
      `${fmt(e.n)} ledger entries (${fmt(e.d)} distinct) for ${fmt(n)} postbacks`,
    );
    expect(e.approved === n, `${fmt(e.approved)} approved entries of ${fmt(n)}`);
    const wantAmount = (PAYOUT_MICROS * BigInt(n)).toString();
    expect(e.amount === wantAmount, `ledger amount ${e.amount ?? 'null'} micros, expected ${wantAmount}`);
    expect(e.linked === n, `${fmt(e.linked)} outcomes point at their ledger entry, expected ${fmt(n)}`);
    expect(outboxLeft === 0, `${fmt(outboxLeft)} entries still in the outbox`);
    expect(
      topicIds.size === n,
      `${fmt(topicIds.size)} distinct entry ids on ${ledgerTopic}, expected ${fmt(n)}`,
    );
    expect(
      topicIdsMissingFromDb === 0 && dbIdsMissingFromTopic === 0,
      `topic and ledger_entries differ: ${fmt(topicIdsMissingFromDb)} ids only on the topic, ${fmt(dbIdsMissingFromTopic)} only in the table` +
        (missingDetail ? `. ${missingDetail}` : ''),
    );
    expect(alive(gateway) && alive(processor), 'an app exited during the run');

    return {
      mode: backlog ? 'backlog' : 'concurrent',
      n,
      connections,
      rate,
      clicks: clicks.length,
      extraEnv: { gateway: gatewayEnv, processor: processorEnv },
      load: r,
      pipeline: {
        loadSeconds,
        outcomesAtLoadEnd,
        outcomesSeconds,
        throughputPerSecond: n / outcomesSeconds,
        topicSeconds,
        topicThroughputPerSecond: n / topicSeconds,
        rateDuringLoad: loadWall > 0 ? outcomesAtLoadEnd / loadWall : NaN,
        rateAfterLoad: afterWall > 0 ? (outcomesWatch.latest - outcomesAtLoadEnd) / afterWall : NaN,
        drained,
        outcomePolls: {
          reads: outcomesWatch.reads,
          meanMs: outcomesWatch.readMs / Math.max(1, outcomesWatch.reads),
          busyPercent: Math.round((outcomesWatch.readMs / 1000 / totalWall) * 1000) / 10,
        },
        processorBootSeconds,
        backlogRatePerSecond,
      },
      e2eMs,
      toTxStartMs,
      txStartToDecisionMs,
      batches,
      peakRssMiB,
      others,
      cpuPercent: {
        load: cpuPhase(cpuLoadPct, pgLoadSeconds, Number(run.endNs - loadStartNs) / 1e9),
        // Under a second (the processor kept up) the figures would be noise.
        drain: drainWall >= 1 ? cpuPhase(cpuDrainPct, pgTotalSeconds - pgLoadSeconds, drainWall) : {},
        total: cpuPhase(
          // Backlog mode: the processor ran only after the load; spread its figure over the whole run.
          backlog && cpuDrainPct.processor !== undefined
            ? {
                ...cpuTotalPct,
                processor: Math.round(((cpuDrainPct.processor * drainWall) / totalWall) * 10) / 10,
              }
            : cpuTotalPct,
          pgTotalSeconds,
          totalWall,
        ),
      },
      verify: {
        outcomes,
        outcomesByKind,
        entries: e.n,
        distinctEntries: e.d,
        approvedEntries: e.approved,
        amountMicros: e.amount ?? '0',
        outcomesLinkedToEntries: e.linked,
        outboxLeft,
        topicMessagesForRun: runMessages.length,
        topicDistinctEntryIds: topicIds.size,
        topicIdsMissingFromDb,
        dbIdsMissingFromTopic,
        missingDetail,
        problems,
      },
      logTail: {
        gateway: warnLines(gateway.logs()),
        processor: warnLines(backlog ? `${earlierLogs}\n${processor.logs()}` : processor.logs()),
      },
      machine: machine(),
    };
  } catch (e) {
    if (!wasInterrupted())
      for (const app of [gateway, processor]) {
        const logs = app?.logs().trim();
        if (logs) log(`--- ${app!.name} output (last 3000 characters) ---\n${logs.slice(-3000)}\n---`);
      }
    throw e;
  } finally {
    untrapInterrupt();
    await Promise.all(watches.map((w) => w.stop()));
    await pgCpu?.stop();
    await rss.stop();
    const apps = [gateway, processor].filter((a): a is AppProcess => a !== undefined);
    await Promise.all(
      apps.map((app) =>
        stopApp(app).catch((e: unknown) => log(`could not stop the ${app.name}: ${String(e)}`)),
      ),
    );
    await db?.drop().catch((e: unknown) => log(`could not drop database ${db?.name}: ${String(e)}`));
    await topics?.drop().catch((e: unknown) => log(`could not delete topics ${prefix}*: ${String(e)}`));
    await dropGroups(brokers, prefix).catch((e: unknown) =>
      log(`could not delete consumer groups ${prefix}*: ${String(e)}`),
    );
  }
}

const ms = (v: number) => fmt(v, v < 100 ? 1 : 0);

function pctRow(what: string, p: Percentiles): Record<string, string> {
  return {
    what,
    rows: fmt(p.count),
    'p50 ms': ms(p.p50),
    'p90 ms': ms(p.p90),
    'p99 ms': ms(p.p99),
    'max ms': ms(p.max),
    'mean ms': ms(p.mean),
  };
}

/** Who else used the box's CPU over the whole run. */
function othersLine(r: PipelineBenchResult): string {
  const t = r.cpuPercent.total;
  const ours = ['gateway', 'processor', PG, BROKER, SELF].reduce((a, k) => a + (t[k] ?? 0), 0);
  const box = t[WHOLE_BOX] ?? NaN;
  const unattributed = box - ours - r.others.totalPercent;
  const top = r.others.top.map((o) => `\`${o.name.replace(/`/g, "'")}\`: ${fmt(o.percent, 1)} %`).join('; ');
  return (
    `Over the whole run the box used ${fmt(box)} % of a core: the processes above ${fmt(ours)} %, other processes ` +
    `${fmt(r.others.totalPercent)} %${top ? ` (at least 1 % each: ${top})` : ''}, and ${fmt(Math.max(0, unattributed))} % ` +
    'unattributed (processes that exited before the end of the run, such as short test runs, and the kernel). ' +
    'Anything other than this bench competes with it for the two cores.'
  );
}

export function pipelineMarkdown(r: PipelineBenchResult): string {
  const m = r.machine;
  const p = r.pipeline;
  const v = r.verify;
  const wrong = v.problems.length > 0;
  const backlog = r.mode === 'backlog';
  const extra = [
    ...Object.entries(r.extraEnv.gateway).map(([k, val]) => `gateway ${k}=${val}`),
    ...Object.entries(r.extraEnv.processor).map(([k, val]) => `processor ${k}=${val}`),
  ];
  const lines: string[] = [`# Pipeline bench: postbacks to ledger entries (${new Date().toISOString()})`, ''];
  if (wrong)
    lines.push(
      '> **WRONG RESULTS: this run did not produce the expected ledger, so its figures measure something else.**',
      '>',
      ...v.problems.map((x) => `> - ${x}`),
      '',
    );
  lines.push(
    `Machine: ${m.cores} cores (${m.model}), ${fmt(m.memGiB, 1)} GiB RAM, Node ${m.node}, Linux ${m.kernel}. ` +
      'The load generator, the gateway, the processor, Kafka and Postgres all share this box, so the figures are a floor.',
    '',
    `Load: exactly ${fmt(r.n)} signed GET /v1/postbacks/<partner> (unique transaction_id, status=approved, payout 1.50 USD, ` +
      `spread over ${fmt(r.clicks)} clicks the processor had already stored) from autocannon at ${r.connections} connections${r.rate !== undefined ? `, open loop at ${fmt(r.rate)} requests/s` : ', closed loop'}. ` +
      `Apps: the built gateway and processor, their defaults, LOG_LEVEL=warn${extra.length ? `, ${extra.join(', ')}` : ''}. ` +
      'Each postback is a new conversion: one accepted outcome and one approved ledger entry.',
    '',
    ...(backlog
      ? [
          '**Backlog mode**: the processor was stopped during the load and started again after the last answer, ' +
            'so the gateway ran without it and the processor worked off a backlog of N alone. The end-to-end latencies ' +
            'below include that wait by design and say nothing about a live system.',
          '',
        ]
      : []),
    '## Against the targets',
    '',
    formatTable([
      backlog
        ? {
            figure: `processor alone, working off a backlog of ${fmt(r.n)} (first to N-th stored outcome)`,
            measured: `${fmt(p.backlogRatePerSecond)} conversions/s`,
            target: `${fmt(TARGET_PER_SECOND)} conversions/s`,
            '': p.backlogRatePerSecond >= TARGET_PER_SECOND ? 'met' : 'missed',
          }
        : {
            figure: 'sustained pipeline throughput (first 2xx to the N-th stored outcome)',
            measured: `${fmt(p.throughputPerSecond)} conversions/s`,
            target: `${fmt(TARGET_PER_SECOND)} conversions/s`,
            '': p.throughputPerSecond >= TARGET_PER_SECOND ? 'met' : 'missed',
          },
      backlog
        ? {
            figure: 'gateway alone (no processor running), 2xx over the load',
            measured: `${fmt(r.load.reqPerSecOverall)} postbacks/s`,
            target: `${fmt(TARGET_PER_SECOND)} postbacks/s`,
            '': r.load.reqPerSecOverall >= TARGET_PER_SECOND ? 'met' : 'missed',
          }
        : {
            figure: 'end-to-end latency p99 (gateway accept to ledger entry)',
            measured: `${ms(r.e2eMs.p99)} ms`,
            target: `< ${fmt(TARGET_P99_MS)} ms`,
            '': r.e2eMs.p99 < TARGET_P99_MS ? 'met' : 'missed',
          },
    ]),
    '',
    '## Timeline (seconds from the first 2xx)',
    '',
    formatTable([
      {
        event: 'last HTTP answer (load done)',
        seconds: fmt(p.loadSeconds, 2),
        rate: `gateway ${fmt(r.load.reqPerSecOverall)} req/s (2xx over this span)`,
      },
      ...(backlog
        ? [
            {
              event: 'processor started again; its first outcome',
              seconds: fmt(p.loadSeconds + p.processorBootSeconds, 2),
              rate: `${fmt(p.processorBootSeconds, 2)} s after its start (boot, group join, first batch)`,
            },
          ]
        : []),
      {
        event: `all ${fmt(r.n)} outcomes stored`,
        seconds: fmt(p.outcomesSeconds, 2),
        rate: `${fmt(p.throughputPerSecond)} conversions/s`,
      },
      {
        event: `all ${fmt(r.n)} entries on conversions.ledger`,
        seconds: fmt(p.topicSeconds, 2),
        rate: `${fmt(p.topicThroughputPerSecond)} entries/s`,
      },
    ]),
    '',
    (backlog
      ? `The processor worked off the backlog at ${fmt(p.backlogRatePerSecond)}/s (from its first stored outcome to the N-th). `
      : `When the load ended the processor had stored ${fmt(p.outcomesAtLoadEnd)} outcomes ` +
        `(${fmt((p.outcomesAtLoadEnd / r.n) * 100, 1)} %): it decided ${fmt(p.rateDuringLoad)}/s while the load ran` +
        (p.outcomesAtLoadEnd < r.n
          ? ` and ${fmt(p.rateAfterLoad)}/s working off the remaining ${fmt(r.n - p.outcomesAtLoadEnd)} alone. `
          : ', so it kept up with the gateway and the gateway set the pace. ')) +
      `The counts were polled every ${POLL_MS} ms (outcomes: \`SELECT count(*) FROM postback_outcomes\`; topic: high watermarks), ` +
      `each only while a cheap check said it may be complete (\`max(ledger_entries.seq)\`; all outcomes stored) and every ` +
      `${fmt(SLOW_POLL_MS / 1000)} s otherwise, because the \`count(*)\` costs Postgres 10-20 ms at this size: ` +
      `${fmt(p.outcomePolls.reads)} \`count(*)\` reads of ${fmt(p.outcomePolls.meanMs, 1)} ms on average ` +
      `(a Postgres backend busy about ${fmt(p.outcomePolls.busyPercent, 1)} % of the run, counted in the Postgres row below).` +
      (p.drained ? '' : ' **The pipeline did not drain** (see the correctness checks).'),
    '',
    '## Gateway under the load',
    '',
    formatTable([
      {
        requests: fmt(r.load.requests),
        '2xx': fmt(r.load.ok2xx),
        'non-2xx': fmt(r.load.non2xx),
        errors: fmt(r.load.errors),
        timeouts: fmt(r.load.timeouts),
        seconds: fmt(r.load.seconds, 2),
        'req/s (mean of 1 s samples)': fmt(r.load.reqPerSecMean),
        'p50 ms': ms(r.load.latencyMs.p50),
        'p90 ms': ms(r.load.latencyMs.p90),
        'p99 ms': ms(r.load.latencyMs.p99),
        'max ms': ms(r.load.latencyMs.max),
      },
    ]),
    '',
    `Status codes: ${
      Object.entries(r.load.statusCodes)
        .map(([k, c]) => `${k}: ${fmt(c)}`)
        .join(', ') || 'none'
    }. A 200 is sent after Kafka acknowledged the event (acks=all); latency is the client's.`,
    '',
    '## End-to-end latency per postback',
    '',
    formatTable([
      pctRow('gateway accept to decision (recorded_at - occurred_at)', r.e2eMs),
      pctRow('part 1: accept to the processor transaction start', r.toTxStartMs),
      pctRow('part 2: transaction start to decision', r.txStartToDecisionMs),
    ]),
    '',
    "Over every ledger entry of the run (SQL percentile_cont). occurred_at is the gateway's received_at (taken " +
      'after auth and parsing, before the Kafka send); recorded_at is taken by the processor when it decides the batch, ' +
      "after the inbox insert and its locks and before the batch's writes and commit, so the commit comes a few ms " +
      'later. The transaction start is postbacks.stored_at (now() of the decision transaction): the first part is Kafka ' +
      'produce + the wait in the topic until the consumer takes the batch, the second the inbox insert and locks.',
    '',
    '## Decision batches',
    '',
    formatTable([
      {
        'decision transactions': fmt(r.batches.count),
        partitions: fmt(r.batches.partitions),
        'entries per batch p50': fmt(r.batches.p50),
        p90: fmt(r.batches.p90),
        p99: fmt(r.batches.p99),
        max: fmt(r.batches.max),
        mean: fmt(r.batches.mean, 1),
      },
    ]),
    '',
    'One transaction per partition batch (kafkajs eachBatch); counted as the entries sharing a partition and a recorded_at.',
    '',
    '## Resources',
    '',
    formatTable(
      ['gateway', 'processor', PG, BROKER, SELF, WHOLE_BOX]
        .filter((k) => r.cpuPercent.total[k] !== undefined || r.peakRssMiB[k] !== undefined)
        .map((k) => ({
          process: k,
          'peak RSS (MiB)': r.peakRssMiB[k] === undefined ? '' : fmt(r.peakRssMiB[k], 1),
          'CPU during load (%)': fmt(r.cpuPercent.load[k] ?? NaN),
          'CPU after load (%)': fmt(r.cpuPercent.drain[k] ?? NaN),
          'CPU whole run (%)': fmt(r.cpuPercent.total[k] ?? NaN),
        })),
    ),
    '',
    `CPU is user + system time as a percentage of one core over each span (${m.cores} cores: ${m.cores * 100} % in all): ` +
      "during load = first request to last answer; after load = last answer to the last entry on the topic (n/a when under a second). The Postgres row sums the backends serving the bench's database (not the server's shared background processes); " +
      'the whole-box row counts every process on the box. ' +
      'Peak RSS is the highest of 200 ms samples.',
    '',
    othersLine(r),
    '',
    '## Correctness',
    '',
    formatTable([
      { check: 'postbacks answered 2xx', expected: fmt(r.n), got: fmt(r.load.ok2xx) },
      { check: 'outcomes', expected: fmt(r.n), got: fmt(v.outcomes) },
      {
        check: 'outcomes by kind',
        expected: `accepted: ${fmt(r.n)}`,
        got:
          Object.entries(v.outcomesByKind)
            .map(([k, c]) => `${k}: ${fmt(c)}`)
            .join(', ') || 'none',
      },
      {
        check: 'ledger entries (distinct entry_id)',
        expected: fmt(r.n),
        got: `${fmt(v.entries)} (${fmt(v.distinctEntries)})`,
      },
      { check: 'approved entries', expected: fmt(r.n), got: fmt(v.approvedEntries) },
      {
        check: 'ledger amount (micros)',
        expected: (PAYOUT_MICROS * BigInt(r.n)).toString(),
        got: v.amountMicros,
      },
      { check: 'outcomes linked to their entry', expected: fmt(r.n), got: fmt(v.outcomesLinkedToEntries) },
      { check: 'outbox left', expected: '0', got: fmt(v.outboxLeft) },
      {
        check: 'distinct entry_ids on conversions.ledger (messages)',
        expected: fmt(r.n),
        got: `${fmt(v.topicDistinctEntryIds)} (${fmt(v.topicMessagesForRun)})`,
      },
      {
        check: 'entry ids only on the topic / only in the table',
        expected: '0 / 0',
        got: `${fmt(v.topicIdsMissingFromDb)} / ${fmt(v.dbIdsMissingFromTopic)}`,
      },
    ]),
    '',
    wrong ? `**${v.problems.length} check(s) failed; see the top of this file.**` : 'All checks passed.',
  );
  if (r.load.non2xxSamples.length)
    lines.push(
      '',
      'First non-2xx bodies:',
      '',
      ...r.load.non2xxSamples.map((s) => `- ${s.status}: \`${s.body.replace(/`/g, "'")}\``),
    );
  for (const [name, tail] of Object.entries(r.logTail))
    if (tail) lines.push('', `Last lines the ${name} printed (warn and above):`, '', '```', tail, '```');
  lines.push('');
  return lines.join('\n');
}

async function main(): Promise<void> {
  const r = await runPipelineBench();
  writeResults(r.mode === 'backlog' ? 'pipeline-backlog' : 'pipeline', pipelineMarkdown(r));
  if (r.verify.problems.length > 0) {
    console.error(
      `\npipeline bench: WRONG RESULTS (${r.verify.problems.length} check(s) failed):\n` +
        r.verify.problems.map((x) => `  - ${x}`).join('\n'),
    );
    process.exitCode = 1;
  }
}

if (require.main === module) runBenchMain('pipeline bench', main);

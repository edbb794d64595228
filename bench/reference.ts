/**
 * Same-box reference figures, measured in this run on a fresh topic prefix and a fresh database:
 *   (a) raw kafkajs produce: idempotent producer, acks=-1, ~450-byte JSON messages, awaited
 *       sendBatch calls of 1,000 messages;
 *   (b) raw kafkajs consume of the same topic with eachBatch (a consumer group of one);
 *   (c) raw Postgres batched insert: 1,000 ledger-shaped rows per
 *       `INSERT ... SELECT FROM unnest(...) ON CONFLICT DO NOTHING`, one transaction per batch;
 *   (d) the minimal gateway (issue #17): lib/minimal-gateway-server.ts in its own process
 *       (Fastify, the v1 HMAC check over the sorted query, batched kafkajs with acks=all, each
 *       answer after its own acknowledgement) under exactly the gateway bench's load
 *       (runPostbackLoad: same connections, warm-up and seconds);
 *   (e) the minimal pipeline (issue #17): the drain bench's backlog of N postbacks read by one
 *       kafkajs consumer with eachBatch, one Postgres transaction per batch with two
 *       `INSERT ... SELECT FROM unnest(...) ON CONFLICT DO NOTHING`, offsets committed after.
 * Other benches divide their own figures by these to report ratios; all.ts holds the gateway
 * against (d) and the processor and the whole pipeline against (e) in its targets table.
 *
 *   node_modules/.bin/ts-node -r tsconfig-paths/register --transpile-only bench/reference.ts
 *
 * Env: BENCH_N (messages, and the minimal pipeline's postbacks, default 100000), BENCH_PG_ROWS
 * (rows, default BENCH_N), BENCH_MAX_SECONDS (time bound per phase, default 180),
 * BENCH_CONNECTIONS / BENCH_SECONDS / BENCH_WARMUP_SECONDS (the minimal gateway's load, as the
 * gateway bench's: 50 / 20 / 5), KAFKA_BROKERS, DATABASE_URL.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Kafka, logLevel, type Message, Partitioners } from 'kafkajs';
import { Client } from 'pg';
import { Topics, topicName } from '@app/contracts';
import { ulidFactory } from '@app/domain';
import {
  type AppProcess,
  createTestDatabase,
  createTestTopics,
  freePort,
  TEST_BROKERS,
  type TestDatabase,
  uniquePrefix,
  waitReady,
} from '@app/testing';
import { producePostbackBacklog } from './lib/backlog';
import {
  CpuMeter,
  envInt,
  exitAfterFlush,
  fmt,
  formatTable,
  LatencyRecorder,
  type LatencySummary,
  localBrokerPid,
  machineLine,
  RssSampler,
  secondsSince,
  writeResults,
} from './lib/stats';
import {
  type BenchCatalog,
  BROKER,
  probePostback,
  type RunFigures,
  runPostbackLoad,
  SELF,
  stopApp,
  throwIfInterrupted,
  trapInterrupt,
} from './lib/system';

export interface ReferenceOptions {
  /** Messages produced and consumed (default BENCH_N or 100,000). */
  n?: number;
  /** Rows inserted into Postgres (default BENCH_PG_ROWS or n). */
  pgRows?: number;
  /** Messages per sendBatch and rows per insert (default 1,000). */
  batchSize?: number;
  /** Upper bound of each phase in seconds; a phase that hits it reports what it did (default 180). */
  maxSeconds?: number;
  brokers?: string[];
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
}

export interface Rate {
  count: number;
  seconds: number;
  perSecond: number;
  /** True when the phase stopped at maxSeconds before reaching its count. */
  cutShort: boolean;
}

export interface ReferenceResult {
  messageBytes: number;
  batchSize: number;
  topic: string;
  partitions: number;
  produce: Rate & { batchLatencyMs: LatencySummary };
  consume: Rate & { joinSeconds: number; totalSeconds: number };
  postgres: Rate & { batchLatencyMs: LatencySummary; columns: number };
  peakRssMiB: Record<string, number>;
}

const TARGET_MESSAGE_BYTES = 450;
const PARTNERS = 50;

/** A postback.received-like envelope of about 450 bytes; the key spreads over partitions as the gateway's does. */
export function postbackLikeMessage(i: number, runTag: string): Message {
  const partner = `network-${i % PARTNERS}`;
  const txn = `${runTag}-txn-${i.toString().padStart(9, '0')}`;
  const now = new Date().toISOString();
  const envelope = {
    id: `01J${runTag.toUpperCase().padEnd(8, '0').slice(0, 8)}${i.toString(36).toUpperCase().padStart(15, '0')}`,
    type: 'postback.received',
    version: 1,
    occurred_at: now,
    payload: {
      partner_id: partner,
      click_id: `01JCLICK${i.toString(36).toUpperCase().padStart(18, '0')}`,
      transaction_id: txn,
      status: 'approved',
      offer_id: 'offer-123',
      payout_micros: '1500000',
      currency: 'USD',
      event: 'install',
      reason: null,
      extra: { sub1: 'placement-a' } as Record<string, string>,
      source_ip: '203.0.113.7',
      received_at: now,
    },
  };
  let value = JSON.stringify(envelope);
  const pad = TARGET_MESSAGE_BYTES - Buffer.byteLength(value);
  if (pad > 12) {
    envelope.payload.extra.pad = 'x'.repeat(pad - 12);
    value = JSON.stringify(envelope);
  }
  return { key: `${partner}:${txn}`, value };
}

const rate = (count: number, seconds: number, cutShort: boolean): Rate => ({
  count,
  seconds,
  perSecond: seconds > 0 ? count / seconds : NaN,
  cutShort,
});

async function produce(
  kafka: Kafka,
  topic: string,
  n: number,
  batchSize: number,
  maxSeconds: number,
  runTag: string,
  log: (s: string) => void,
): Promise<{ rate: Rate; latency: LatencySummary; bytes: number; sent: number }> {
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const latency = new LatencyRecorder();
  let sent = 0;
  let bytes = 0;
  try {
    // One untimed batch first: metadata, producer id and connections are set up outside the clock.
    // Its messages are part of n (they are consumed later like the others).
    const warm = Array.from({ length: Math.min(batchSize, n) }, (_, k) => postbackLikeMessage(k, runTag));
    await producer.sendBatch({ acks: -1, topicMessages: [{ topic, messages: warm }] });
    sent = warm.length;
    for (const m of warm) bytes += Buffer.byteLength(m.value as string);
    let timed = 0;
    const start = process.hrtime.bigint();
    let lastLog = Date.now();
    while (sent < n && secondsSince(start) < maxSeconds) {
      const size = Math.min(batchSize, n - sent);
      const messages = Array.from({ length: size }, (_, k) => postbackLikeMessage(sent + k, runTag));
      await latency.time(() => producer.sendBatch({ acks: -1, topicMessages: [{ topic, messages }] }));
      for (const m of messages) bytes += Buffer.byteLength(m.value as string);
      sent += size;
      timed += size;
      if (Date.now() - lastLog > 5000) {
        lastLog = Date.now();
        log(`  produced ${fmt(sent)} / ${fmt(n)}`);
      }
    }
    const seconds = secondsSince(start);
    return { rate: rate(timed, seconds, sent < n), latency: latency.summary(), bytes, sent };
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
}

async function consume(
  kafka: Kafka,
  topic: string,
  groupId: string,
  expect: number,
  maxSeconds: number,
  log: (s: string) => void,
): Promise<Rate & { joinSeconds: number; totalSeconds: number }> {
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
  await consumer.connect();
  let count = 0;
  let touched = 0;
  let joinedNs: bigint | undefined;
  let firstBatchNs: bigint | undefined;
  let lastBatchNs: bigint | undefined;
  const runStart = process.hrtime.bigint();
  let lastLog = Date.now();
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const timer = setTimeout(() => finish(), maxSeconds * 1000);
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    // The clock starts when the member has joined (fetching begins), so the first fetch is counted.
    consumer.on(consumer.events.GROUP_JOIN, () => (joinedNs ??= process.hrtime.bigint()));
    await consumer.run({
      eachBatch: async ({ batch }) => {
        firstBatchNs ??= process.hrtime.bigint();
        // Touch every value, as a real handler at least reads its input.
        for (const m of batch.messages) touched += m.value?.length ?? 0;
        count += batch.messages.length;
        lastBatchNs = process.hrtime.bigint();
        if (Date.now() - lastLog > 5000) {
          lastLog = Date.now();
          log(`  consumed ${fmt(count)} / ${fmt(expect)}`);
        }
        if (count >= expect) finish();
      },
    });
    await done;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
  }
  if (touched === 0 && count > 0) log('  (consumed messages had no values)');
  const from = joinedNs ?? firstBatchNs;
  const seconds = from !== undefined && lastBatchNs !== undefined ? Number(lastBatchNs - from) / 1e9 : NaN;
  const joinSeconds = from !== undefined ? Number(from - runStart) / 1e9 : NaN;
  const totalSeconds = lastBatchNs !== undefined ? Number(lastBatchNs - runStart) / 1e9 : NaN;
  return { ...rate(count, seconds, count < expect), joinSeconds, totalSeconds };
}

/** A ledger-shaped table: 15 columns of text, bigint and timestamptz, a primary key and a unique key. */
const LEDGER_DDL = `
  CREATE TABLE bench_ledger (
    conversion_id   text        PRIMARY KEY,
    partner_id      text        NOT NULL,
    transaction_id  text        NOT NULL,
    click_id        text        NOT NULL,
    offer_id        text        NOT NULL,
    publisher_id    text        NOT NULL,
    status          text        NOT NULL,
    goal            text        NOT NULL,
    payout_micros   bigint      NOT NULL,
    currency        text        NOT NULL,
    sequence        bigint      NOT NULL,
    source_ip       text,
    sub1            text,
    occurred_at     timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL,
    UNIQUE (partner_id, transaction_id, status)
  )`;
const LEDGER_COLUMNS = 15;

const INSERT_SQL = `
  INSERT INTO bench_ledger (conversion_id, partner_id, transaction_id, click_id, offer_id, publisher_id,
    status, goal, payout_micros, currency, sequence, source_ip, sub1, occurred_at, recorded_at)
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
    $7::text[], $8::text[], $9::bigint[], $10::text[], $11::bigint[], $12::text[], $13::text[],
    $14::timestamptz[], $15::timestamptz[])
  ON CONFLICT DO NOTHING`;

function ledgerBatch(from: number, size: number, runTag: string): unknown[][] {
  const cols: unknown[][] = Array.from({ length: LEDGER_COLUMNS }, () => new Array<unknown>(size));
  const now = new Date().toISOString();
  for (let k = 0; k < size; k++) {
    const i = from + k;
    const row = [
      `${runTag}-conv-${i}`,
      `network-${i % PARTNERS}`,
      `${runTag}-txn-${i}`,
      `01JCLICK${i.toString(36).toUpperCase().padStart(18, '0')}`,
      'offer-123',
      `pub-${i % 20}`,
      'approved',
      'install',
      '1500000',
      'USD',
      String(i),
      '203.0.113.7',
      'placement-a',
      now,
      now,
    ];
    for (let c = 0; c < LEDGER_COLUMNS; c++) cols[c]![k] = row[c];
  }
  return cols;
}

async function insertRows(
  db: TestDatabase,
  rows: number,
  batchSize: number,
  maxSeconds: number,
  runTag: string,
  log: (s: string) => void,
): Promise<{ rate: Rate; latency: LatencySummary; stored: number }> {
  const client = new Client({ connectionString: db.ownerUrl, application_name: 'bench-reference' });
  await client.connect();
  try {
    await client.query(LEDGER_DDL);
    const latency = new LatencyRecorder();
    let done = 0;
    let inserted = 0;
    const start = process.hrtime.bigint();
    let lastLog = Date.now();
    while (done < rows && secondsSince(start) < maxSeconds) {
      const size = Math.min(batchSize, rows - done);
      const params = ledgerBatch(done, size, runTag);
      await latency.time(async () => {
        await client.query('BEGIN');
        try {
          const r = await client.query(INSERT_SQL, params);
          inserted += r.rowCount ?? 0;
          await client.query('COMMIT');
        } catch (e) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw e;
        }
      });
      done += size;
      if (Date.now() - lastLog > 5000) {
        lastLog = Date.now();
        log(`  inserted ${fmt(done)} / ${fmt(rows)}`);
      }
    }
    const seconds = secondsSince(start);
    const stored = Number(
      (await client.query<{ n: string }>('SELECT count(*)::text AS n FROM bench_ledger')).rows[0]?.n ?? 0,
    );
    if (inserted !== done) log(`  note: ${fmt(done - inserted)} rows were conflicts (expected none)`);
    return { rate: rate(done, seconds, done < rows), latency: latency.summary(), stored };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Runs the three reference measurements on fresh topics and a fresh database, and cleans up. */
export async function runReference(opts: ReferenceOptions = {}): Promise<ReferenceResult> {
  const n = opts.n ?? envInt('BENCH_N', 100_000, 1, 10_000_000);
  const pgRows = opts.pgRows ?? envInt('BENCH_PG_ROWS', n, 1, 10_000_000);
  const batchSize = opts.batchSize ?? 1000;
  const maxSeconds = opts.maxSeconds ?? envInt('BENCH_MAX_SECONDS', 180, 1, 3600);
  const brokers = opts.brokers ?? TEST_BROKERS;
  const log = opts.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  const runTag = Date.now().toString(36);

  const prefix = uniquePrefix('bench-ref');
  const topic = `${prefix}${Topics.postbacksReceived}`;
  const groupId = `${prefix}bench-reference`;
  const rss = new RssSampler({}, 'bench process').start();
  const kafka = new Kafka({ clientId: 'bench-reference', brokers, logLevel: logLevel.WARN });

  log(`reference: topics under ${prefix} on ${brokers.join(',')}`);
  const topics = await createTestTopics(prefix, brokers);
  let db: TestDatabase | undefined;
  try {
    const admin = kafka.admin();
    await admin.connect();
    let partitions = 0;
    try {
      const meta = await admin.fetchTopicMetadata({ topics: [topic] });
      partitions = meta.topics[0]?.partitions.length ?? 0;
    } finally {
      await admin.disconnect();
    }

    log(`(a) produce ${fmt(n)} messages to ${topic} (${partitions} partitions), ${batchSize} per sendBatch`);
    const p = await produce(kafka, topic, n, batchSize, maxSeconds, runTag, log);
    const produced = p.sent;
    const messageBytes = Math.round(p.bytes / Math.max(1, produced));

    log(`(b) consume them back with eachBatch (group ${groupId})`);
    const c = await consume(kafka, topic, groupId, produced, maxSeconds, log);
    const cleanup = kafka.admin();
    await cleanup.connect();
    await cleanup.deleteGroups([groupId]).catch(() => undefined);
    await cleanup.disconnect();

    log(`(c) insert ${fmt(pgRows)} ledger rows into a fresh database, ${batchSize} per transaction`);
    db = await createTestDatabase({ migrate: false });
    const g = await insertRows(db, pgRows, batchSize, maxSeconds, runTag, log);
    if (g.stored !== g.rate.count) log(`  note: ${fmt(g.stored)} rows stored of ${fmt(g.rate.count)} sent`);

    return {
      messageBytes,
      batchSize,
      topic,
      partitions,
      produce: { ...p.rate, batchLatencyMs: p.latency },
      consume: c,
      postgres: { ...g.rate, batchLatencyMs: g.latency, columns: LEDGER_COLUMNS },
      peakRssMiB: await rss.stop(),
    };
  } finally {
    await rss.stop();
    await db?.drop().catch((e: unknown) => log(`could not drop database ${db?.name}: ${String(e)}`));
    await topics.drop().catch((e: unknown) => log(`could not delete topics ${prefix}*: ${String(e)}`));
  }
}

// ---------------------------------------------------------------------------------------------
// The minimal gateway and the minimal pipeline (issue #17): what the real gateway and processor are
// held against, measured in the same run on the same box.

const ROOT = join(__dirname, '..');
const MINIMAL_GATEWAY_SERVER = join(__dirname, 'lib', 'minimal-gateway-server.ts');

export interface MinimalGatewayOptions {
  /** As the gateway bench: BENCH_CONNECTIONS (50), BENCH_SECONDS (20), BENCH_WARMUP_SECONDS (5). */
  connections?: number;
  seconds?: number;
  warmupSeconds?: number;
  brokers?: string[];
  log?: (line: string) => void;
}

export interface MinimalGatewayResult {
  connections: number;
  warmup: RunFigures;
  run: RunFigures;
  peakRssMiB: Record<string, number>;
  /** CPU over the measured run, percent of one core per process. */
  cpuPercent: Record<string, number>;
}

/** Starts lib/minimal-gateway-server.ts as its own process (ts-node), like spawnApp does for the apps. */
function spawnMinimalGateway(env: Record<string, string>): AppProcess {
  const tsNode = require.resolve('ts-node/dist/bin.js');
  // APP_NODE_OPTIONS (e.g. --cpu-prof --cpu-prof-dir=...) reaches it as it reaches the apps (spawnApp).
  const flags = (process.env.APP_NODE_OPTIONS ?? '').split(/\s+/).filter(Boolean);
  const proc = spawn(
    process.execPath,
    [...flags, tsNode, '-r', 'tsconfig-paths/register', '--transpile-only', MINIMAL_GATEWAY_SERVER],
    { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  const collect = (b: Buffer) => {
    out += b.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  proc.stdout?.on('data', collect);
  proc.stderr?.on('data', collect);
  return {
    name: 'minimal gateway',
    proc,
    logs: () => out,
    stop: (signal = 'SIGTERM') =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill(signal);
      }),
  };
}

const MINIMAL_GATEWAY = 'minimal gateway';

/**
 * The minimal gateway under exactly the gateway bench's load (runPostbackLoad: same connections,
 * same warm-up and measured seconds, same signed GET postbacks), on topics under a fresh prefix.
 */
export async function runMinimalGateway(opts: MinimalGatewayOptions = {}): Promise<MinimalGatewayResult> {
  const connections = opts.connections ?? envInt('BENCH_CONNECTIONS', 50, 1, 1000);
  const seconds = opts.seconds ?? envInt('BENCH_SECONDS', 20, 1, 600);
  const warmupSeconds = opts.warmupSeconds ?? envInt('BENCH_WARMUP_SECONDS', 5, 1, 120);
  const brokers = opts.brokers ?? TEST_BROKERS;
  const log = opts.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  const tag = Date.now().toString(36);
  const prefix = uniquePrefix('bench-mingw');
  const cat: BenchCatalog = {
    publisherId: `bench-pub-${tag}`,
    offerId: `bench-offer-${tag}`,
    partnerId: `bench-partner-${tag}`,
    secret: randomBytes(24).toString('hex'),
  };
  const mint = ulidFactory();
  const clicks = Array.from({ length: 1000 }, () => mint());
  const rss = new RssSampler({}, SELF);
  const untrap = trapInterrupt(log);
  let topics: { drop(): Promise<void> } | undefined;
  let app: AppProcess | undefined;
  try {
    topics = await createTestTopics(prefix, brokers);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    app = spawnMinimalGateway({
      MINIMAL_PORT: String(port),
      MINIMAL_TOPIC: topicName(Topics.postbacksReceived, prefix),
      MINIMAL_PARTNER: cat.partnerId,
      MINIMAL_SECRET: cat.secret,
      KAFKA_BROKERS: brokers.join(','),
    });
    log(`minimal gateway pid ${app.proc.pid ?? '?'} on ${base}, topics under ${prefix}`);
    await waitReady(app, `${base}/health`, 90_000);
    if (app.proc.pid !== undefined) rss.add(MINIMAL_GATEWAY, app.proc.pid);
    const brokerPid = brokers.length === 1 ? localBrokerPid(brokers[0]!) : undefined;
    if (brokerPid !== undefined) rss.add(BROKER, brokerPid);
    await probePostback(base, cat, clicks[0]!, `${tag}-probe`);
    throwIfInterrupted();
    log(`minimal gateway warm-up: ${warmupSeconds} s at ${connections} connections`);
    const warmup = await runPostbackLoad(base, cat, clicks, `${tag}-w`, connections, warmupSeconds);
    throwIfInterrupted();
    log(`minimal gateway measured run: ${seconds} s at ${connections} connections`);
    rss.start();
    const cpu = await new CpuMeter({ [MINIMAL_GATEWAY]: app.proc.pid, [BROKER]: brokerPid }, SELF).start();
    const run = await runPostbackLoad(base, cat, clicks, `${tag}-r`, connections, seconds);
    const cpuPercent = await cpu.stop();
    const peakRssMiB = await rss.stop();
    throwIfInterrupted();
    if (app.proc.exitCode !== null || app.proc.signalCode !== null)
      throw new Error(`the minimal gateway exited during the run:\n${app.logs().slice(-4000)}`);
    return { connections, warmup, run, peakRssMiB, cpuPercent };
  } catch (e) {
    const logs = app?.logs().trim();
    if (logs) log(`--- minimal gateway output (last 3000 characters) ---\n${logs.slice(-3000)}\n---`);
    throw e;
  } finally {
    untrap();
    await rss.stop();
    if (app)
      await stopApp(app).catch((e: unknown) => log(`could not stop the minimal gateway: ${String(e)}`));
    await topics?.drop().catch((e: unknown) => log(`could not delete topics ${prefix}*: ${String(e)}`));
  }
}

export interface MinimalPipelineOptions {
  /** Postbacks drained (default BENCH_N or 100,000: the drain bench's size). */
  n?: number;
  maxSeconds?: number;
  brokers?: string[];
  log?: (line: string) => void;
}

export interface MinimalPipelineResult extends Rate {
  produceSeconds: number;
  /** run() to the member's join, and run() to the last commit. */
  joinSeconds: number;
  totalSeconds: number;
  /** Messages per kafkajs batch, and the time of one batch (parse, transaction, commit), in ms. */
  batchSizes: LatencySummary;
  batchMs: LatencySummary;
  /** Rows in the two tables at the end (both must be n). */
  inboxRows: number;
  outcomeRows: number;
  peakRssMiB: Record<string, number>;
}

const MINIMAL_TABLES = `
  CREATE TABLE inbox (
    event_id        varchar(26)  PRIMARY KEY,
    partner_id      varchar(64)  NOT NULL,
    click_id        varchar(128) NOT NULL,
    transaction_id  varchar(128) NOT NULL,
    status          varchar(16)  NOT NULL,
    source_ip       varchar(45)  NOT NULL,
    received_at     timestamptz  NOT NULL,
    extra           jsonb        NOT NULL,
    kafka_partition integer      NOT NULL,
    kafka_offset    bigint       NOT NULL,
    stored_at       timestamptz  NOT NULL DEFAULT now()
  );
  CREATE INDEX inbox_partner_tx_idx ON inbox (partner_id, transaction_id);
  CREATE TABLE outcome (
    event_id        varchar(26)  PRIMARY KEY,
    partner_id      varchar(64)  NOT NULL,
    transaction_id  varchar(128) NOT NULL,
    outcome         varchar(16)  NOT NULL,
    received_at     timestamptz  NOT NULL,
    decided_at      timestamptz  NOT NULL
  )`;

const INBOX_INSERT = `
  INSERT INTO inbox (event_id, partner_id, click_id, transaction_id, status, source_ip, received_at, extra,
                     kafka_partition, kafka_offset)
  SELECT e, p, c, t, s, ip, r, x, $9, o
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[],
                $8::jsonb[], $10::bigint[]) AS u(e, p, c, t, s, ip, r, x, o)
  ON CONFLICT DO NOTHING`;

const OUTCOME_INSERT = `
  INSERT INTO outcome (event_id, partner_id, transaction_id, outcome, received_at, decided_at)
  SELECT e, p, t, 'accepted', r, now()
    FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) AS u(e, p, t, r)
  ON CONFLICT DO NOTHING`;

interface BacklogEvent {
  id: string;
  payload: {
    partner_id: string;
    click_id: string;
    transaction_id: string;
    status: string;
    source_ip: string;
    received_at: string;
    extra: unknown;
  };
}

/**
 * The minimal pipeline: the drain bench's backlog (N approved postbacks, same envelope and keys,
 * lib/backlog.ts) read by one kafkajs consumer with eachBatch; per batch one Postgres
 * transaction with two `INSERT ... SELECT FROM unnest(...) ON CONFLICT DO NOTHING` (an inbox-like
 * and an outcome-like table), and the batch's offset committed after the commit. The clock runs
 * from the member's join to the last commit.
 */
export async function runMinimalPipeline(opts: MinimalPipelineOptions = {}): Promise<MinimalPipelineResult> {
  const n = opts.n ?? envInt('BENCH_N', 100_000, 1, 10_000_000);
  const maxSeconds = opts.maxSeconds ?? envInt('BENCH_MAX_SECONDS', 180, 1, 3600);
  const brokers = opts.brokers ?? TEST_BROKERS;
  const log = opts.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  const tag = Date.now().toString(36);
  const prefix = uniquePrefix('bench-minpl');
  const topic = topicName(Topics.postbacksReceived, prefix);
  const groupId = `${prefix}bench-minimal-pipeline`;
  const mint = ulidFactory();
  const clicks = Array.from({ length: 2000 }, () => mint());
  const rss = new RssSampler({}, 'bench process').start();
  const untrap = trapInterrupt(log);
  let topics: { drop(): Promise<void> } | undefined;
  let db: TestDatabase | undefined;
  let client: Client | undefined;
  const kafka = new Kafka({ clientId: 'bench-minimal-pipeline', brokers, logLevel: logLevel.WARN });
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
  try {
    topics = await createTestTopics(prefix, brokers);
    db = await createTestDatabase({ migrate: false });
    client = new Client({ connectionString: db.ownerUrl, application_name: 'bench-minimal-pipeline' });
    await client.connect();
    await client.query(MINIMAL_TABLES);
    log(`minimal pipeline: producing ${fmt(n)} postbacks to ${topic}`);
    const produceSeconds = await producePostbackBacklog(topic, n, clicks, `${tag}-`, brokers, log);
    log(`produced in ${fmt(produceSeconds, 1)} s; consuming into database ${db.name}`);

    const pg = client;
    const sizes = new LatencyRecorder();
    const batchMs = new LatencyRecorder();
    let count = 0;
    let joinedNs: bigint | undefined;
    let lastNs: bigint | undefined;
    let failure: unknown;
    let finish: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (finish = resolve));
    const timer = setTimeout(() => finish(), maxSeconds * 1000);
    let lastLog = Date.now();
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    consumer.on(consumer.events.GROUP_JOIN, () => (joinedNs ??= process.hrtime.bigint()));
    const runStart = process.hrtime.bigint();
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async (payload) => {
        const { batch } = payload;
        if (batch.messages.length === 0) return;
        const started = process.hrtime.bigint();
        try {
          const events = batch.messages.map((m) => JSON.parse(m.value?.toString() ?? 'null') as BacklogEvent);
          const col = <T>(f: (e: BacklogEvent) => T) => events.map(f);
          await pg.query('BEGIN');
          await pg.query(INBOX_INSERT, [
            col((e) => e.id),
            col((e) => e.payload.partner_id),
            col((e) => e.payload.click_id),
            col((e) => e.payload.transaction_id),
            col((e) => e.payload.status),
            col((e) => e.payload.source_ip),
            col((e) => e.payload.received_at),
            col((e) => JSON.stringify(e.payload.extra ?? {})),
            batch.partition,
            batch.messages.map((m) => m.offset),
          ]);
          await pg.query(OUTCOME_INSERT, [
            col((e) => e.id),
            col((e) => e.payload.partner_id),
            col((e) => e.payload.transaction_id),
            col((e) => e.payload.received_at),
          ]);
          await pg.query('COMMIT');
        } catch (e) {
          await pg.query('ROLLBACK').catch(() => undefined);
          failure = e;
          finish();
          throw e;
        }
        const last = batch.messages[batch.messages.length - 1]!.offset;
        await consumer.commitOffsets([
          { topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() },
        ]);
        // The next fetch starts from the resolved offset, not the committed one: without this,
        // kafkajs fetches the partition's first batch again and again (each a cheap ON CONFLICT
        // no-op), which inflated this reference until 2026-12-06.
        payload.resolveOffset(last);
        await payload.heartbeat();
        lastNs = process.hrtime.bigint();
        sizes.record(batch.messages.length);
        batchMs.record(Number(lastNs - started) / 1e6);
        count += batch.messages.length;
        if (Date.now() - lastLog > 5000) {
          lastLog = Date.now();
          log(`  ${fmt(count)} / ${fmt(n)} stored`);
        }
        if (count >= n) finish();
      },
    });
    await done;
    clearTimeout(timer);
    await consumer.stop();
    if (failure) throw failure instanceof Error ? failure : new Error(JSON.stringify(failure));
    const from = joinedNs ?? runStart;
    const seconds = lastNs !== undefined ? Number(lastNs - from) / 1e9 : NaN;
    const [{ i, o }] = (
      await pg.query<{ i: number; o: number }>(
        'SELECT (SELECT count(*)::int FROM inbox) AS i, (SELECT count(*)::int FROM outcome) AS o',
      )
    ).rows as [{ i: number; o: number }];
    // Every postback produced must be stored once: a figure from anything else (batches read
    // twice, a run cut short) is no reference to hold the processor against.
    if (count >= n && (i !== n || o !== n))
      throw new Error(
        `minimal pipeline: ${fmt(i)} inbox and ${fmt(o)} outcome rows for ${fmt(n)} postbacks produced (${fmt(count)} messages read): not a valid reference`,
      );
    return {
      ...rate(count, seconds, count < n),
      produceSeconds,
      joinSeconds: Number(from - runStart) / 1e9,
      totalSeconds: lastNs !== undefined ? Number(lastNs - runStart) / 1e9 : NaN,
      batchSizes: sizes.summary(),
      batchMs: batchMs.summary(),
      inboxRows: i,
      outcomeRows: o,
      peakRssMiB: await rss.stop(),
    };
  } finally {
    untrap();
    await rss.stop();
    await consumer.disconnect().catch(() => undefined);
    await client?.end().catch(() => undefined);
    await db?.drop().catch((e: unknown) => log(`could not drop database ${db?.name}: ${String(e)}`));
    await topics?.drop().catch((e: unknown) => log(`could not delete topics ${prefix}*: ${String(e)}`));
    const admin = kafka.admin();
    await admin
      .connect()
      .then(() => admin.deleteGroups([groupId]))
      .catch(() => undefined)
      .finally(() => admin.disconnect());
  }
}

export function minimalRows(
  g: MinimalGatewayResult | undefined,
  p: MinimalPipelineResult | undefined,
): Record<string, string | number>[] {
  const rows: Record<string, string | number>[] = [];
  if (g)
    rows.push({
      what: `minimal gateway: Fastify, v1 HMAC over the sorted query, kafkajs batched (2 ms or 500), each 200 after its acks=all; the gateway bench's load (${g.connections} connections, ${fmt(g.run.seconds)} s)`,
      rate: `${fmt(g.run.reqPerSecMean)} req/s (${fmt(g.run.non2xx)} non-2xx, ${fmt(g.run.errors)} errors)`,
      'p50 / p99 (ms)': `${fmt(g.run.latencyMs.p50, 1)} / ${fmt(g.run.latencyMs.p99, 1)}`,
      'CPU (% of a core)': `server ${fmt(g.cpuPercent[MINIMAL_GATEWAY] ?? NaN)}, load generator ${fmt(g.cpuPercent[SELF] ?? NaN)}`,
      'peak RSS (MiB)': `server ${fmt(g.peakRssMiB[MINIMAL_GATEWAY] ?? NaN)}`,
    });
  if (p)
    rows.push({
      what: `minimal pipeline: ${fmt(p.count)} pre-produced postbacks, one consumer, eachBatch, 1 PG tx per batch (2 x INSERT ... SELECT FROM unnest ON CONFLICT DO NOTHING), offsets committed after`,
      rate: `${fmt(p.perSecond)} msg/s${p.cutShort ? ' (stopped at the time bound)' : ''}`,
      'p50 / p99 (ms)': `per batch ${fmt(p.batchMs.p50, 1)} / ${fmt(p.batchMs.p99, 1)} (${fmt(p.batchSizes.p50)} messages p50, ${fmt(p.batchSizes.max)} max)`,
      'CPU (% of a core)': 'n/a (in the bench process)',
      'peak RSS (MiB)': `bench ${fmt(p.peakRssMiB['bench process'] ?? NaN)}`,
    });
  return rows;
}

export function minimalMarkdown(
  g: MinimalGatewayResult | undefined,
  p: MinimalPipelineResult | undefined,
): string {
  const lines = [
    `# Minimal gateway and minimal pipeline (${new Date().toISOString()})`,
    '',
    `Machine: ${machineLine()}. The references our gateway and processor are held against (issue #17), measured in this run.`,
    '',
    formatTable(minimalRows(g, p)),
    '',
  ];
  if (p && (p.inboxRows !== p.count || p.outcomeRows !== p.count))
    lines.push(
      `**minimal pipeline: ${fmt(p.inboxRows)} inbox and ${fmt(p.outcomeRows)} outcome rows for ${fmt(p.count)} messages.**`,
      '',
    );
  return lines.join('\n');
}

/** The reference figures as markdown rows (also used by run-all). */
export function referenceRows(r: ReferenceResult): Record<string, string | number>[] {
  const cut = (x: Rate) => (x.cutShort ? ' (stopped at the time bound)' : '');
  return [
    {
      what: `kafkajs produce, idempotent, acks=-1, ${fmt(r.batchSize)} x ~${r.messageBytes} B per awaited sendBatch`,
      count: fmt(r.produce.count),
      seconds: fmt(r.produce.seconds, 2),
      rate: `${fmt(r.produce.perSecond)} msg/s${cut(r.produce)}`,
      'per batch p50 / p99 (ms)': `${fmt(r.produce.batchLatencyMs.p50, 1)} / ${fmt(r.produce.batchLatencyMs.p99, 1)}`,
      'KAFKA.md spike': '~30,000 msg/s',
    },
    {
      what: `kafkajs consume, eachBatch, same topic (${r.partitions} partitions), group joined to last batch`,
      count: fmt(r.consume.count),
      seconds: fmt(r.consume.seconds, 2),
      rate: `${fmt(r.consume.perSecond)} msg/s${cut(r.consume)}`,
      'per batch p50 / p99 (ms)': `join ${fmt(r.consume.joinSeconds, 2)} s; run() to last batch ${fmt(r.consume.totalSeconds, 2)} s`,
      'KAFKA.md spike': '~54,000 msg/s',
    },
    {
      what: `Postgres: ${fmt(r.batchSize)} rows x ${r.postgres.columns} columns per INSERT ... SELECT FROM unnest ON CONFLICT DO NOTHING, 1 tx per batch`,
      count: fmt(r.postgres.count),
      seconds: fmt(r.postgres.seconds, 2),
      rate: `${fmt(r.postgres.perSecond)} rows/s${cut(r.postgres)}`,
      'per batch p50 / p99 (ms)': `${fmt(r.postgres.batchLatencyMs.p50, 1)} / ${fmt(r.postgres.batchLatencyMs.p99, 1)}`,
      'KAFKA.md spike': 'n/a',
    },
  ];
}

export function referenceMarkdown(r: ReferenceResult): string {
  return [
    `# Same-box reference figures (${new Date().toISOString()})`,
    '',
    `Machine: ${machineLine()}. Kafka at ${TEST_BROKERS.join(',')}, single broker; Postgres from DATABASE_URL.`,
    'The load generator is this same process on the same box, so these are floors, not capacities.',
    '',
    formatTable(referenceRows(r)),
    '',
    `Peak RSS of the bench process: ${fmt(r.peakRssMiB['bench process'] ?? NaN, 1)} MiB.`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const r = await runReference();
  const g = await runMinimalGateway();
  const p = await runMinimalPipeline();
  writeResults('reference', `${referenceMarkdown(r)}\n${minimalMarkdown(g, p)}`);
}

if (require.main === module) {
  main().then(
    () => exitAfterFlush(0),
    (e: unknown) => {
      console.error('reference bench failed:', e instanceof Error ? (e.stack ?? e.message) : e);
      exitAfterFlush(1);
    },
  );
}

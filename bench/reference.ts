/**
 * Same-box reference figures, measured in this run on a fresh topic prefix and a fresh database:
 *   (a) raw kafkajs produce: idempotent producer, acks=-1, ~450-byte JSON messages, awaited
 *       sendBatch calls of 1,000 messages;
 *   (b) raw kafkajs consume of the same topic with eachBatch (a consumer group of one);
 *   (c) raw Postgres batched insert: 1,000 ledger-shaped rows per
 *       `INSERT ... SELECT FROM unnest(...) ON CONFLICT DO NOTHING`, one transaction per batch.
 * Other benches divide their own figures by these to report ratios.
 *
 *   node_modules/.bin/ts-node -r tsconfig-paths/register --transpile-only bench/reference.ts
 *
 * Env: BENCH_N (messages, default 100000), BENCH_PG_ROWS (rows, default BENCH_N),
 * BENCH_MAX_SECONDS (time bound per phase, default 180), KAFKA_BROKERS, DATABASE_URL.
 */
import { Kafka, logLevel, type Message, Partitioners } from 'kafkajs';
import { Client } from 'pg';
import { Topics } from '@app/contracts';
import {
  createTestDatabase,
  createTestTopics,
  TEST_BROKERS,
  type TestDatabase,
  uniquePrefix,
} from '@app/testing';
import {
  envInt,
  exitAfterFlush,
  fmt,
  formatTable,
  LatencyRecorder,
  type LatencySummary,
  machineLine,
  RssSampler,
  secondsSince,
  writeResults,
} from './lib/stats';

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
  const client = new Client({ connectionString: db.url, application_name: 'bench-reference' });
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
  writeResults('reference', referenceMarkdown(r));
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

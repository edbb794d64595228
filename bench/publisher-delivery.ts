/**
 * Publisher delivery bench: ledger entries on `conversions.ledger.v2` to signed HTTP postbacks at a
 * local receiver, through the built notifier (real Kafka, real Postgres).
 *
 * Starts its own system (a fresh migrated database, topics under a fresh prefix, the built
 * notifier as a real process), a local HTTP receiver on 127.0.0.1 that answers 200 and dedupes by
 * Idempotency-Key, and one publisher with a postback template. Two phases:
 *   1. backlog: N approved entries produced at once; deliveries/s from the first call to the N-th
 *      distinct entry at the receiver;
 *   2. paced: entries produced at a fixed rate for a while; the delay from the entry's
 *      recorded_at to its first call at the receiver, p50/p90/p99.
 * Every entry must reach the receiver (a wrong count fails the bench loudly). Everything it
 * started is stopped and dropped at the end, also on failure or Ctrl-C.
 *
 *   node_modules/.bin/ts-node -r tsconfig-paths/register --transpile-only bench/publisher-delivery.ts
 *
 * Env: BENCH_N (default 5000), BENCH_RATE (entries/s in the paced phase, default 200),
 * BENCH_SECONDS (paced phase, default 10), BENCH_CONCURRENCY (the notifier's DELIVERY_CONCURRENCY,
 * default 16), BENCH_MAX_SECONDS (time bound per phase, default 180), BENCH_SKIP_BUILD=1,
 * KAFKA_BROKERS, DATABASE_URL (the server; the bench creates its own database on it).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { secretBoxFromEnv } from '@app/config';
import { type LedgerEntryV1, Topics, topicName } from '@app/contracts';
import { entryPostingsV2, ledgerEntryV2 } from '@app/ledger';
import { secretContext } from '@app/persistence';
import {
  type AppProcess,
  createTestDatabase,
  createTestTopics,
  freePort,
  spawnApp,
  TEST_BROKERS,
  type TestDatabase,
  uniquePrefix,
  waitReady,
} from '@app/testing';
import { CpuMeter, envInt, fmt, formatTable, LatencyRecorder, machineLine, writeResults } from './lib/stats';
import {
  ensureGatewayBuilt,
  runBenchMain,
  sleep,
  stopApp,
  trapInterrupt,
  wasInterrupted,
} from './lib/system';

const PUBLISHER = 'bench-pub';
const SECRET = 'bench-publisher-secret-0123456789';

class Receiver {
  server!: Server;
  port = 0;
  /** First arrival per Idempotency-Key (ms since epoch). */
  readonly firstAt = new Map<string, number>();
  requests = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.requests++;
      const key = String(req.headers['idempotency-key'] ?? '');
      if (!this.firstAt.has(key)) this.firstAt.set(key, Date.now());
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
    this.server.keepAliveTimeout = 30_000;
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

let seq = 0;
function entry(run: string): LedgerEntryV1 {
  const i = seq++;
  const now = new Date().toISOString();
  return {
    schema_version: 1,
    entry_id: `le_${run}${String(i).padStart(10, '0')}`,
    entry_type: 'approved',
    conversion_id: `cv_${run}${String(i).padStart(10, '0')}`,
    conversion_status: 'approved',
    click_id: `click-${i}`,
    transaction_id: `tx-${i}`,
    offer_id: 'bench-offer',
    publisher_id: PUBLISHER,
    partner_id: 'bench-partner',
    goal: 'default',
    amount_micros: '1500000',
    currency: 'USD',
    reason_bucket: null,
    reason_code: null,
    sub1: 'src',
    sub2: null,
    sub3: null,
    sub4: null,
    sub5: null,
    placement: 'wall',
    geo: 'US',
    device: 'mobile',
    clicked_at: now,
    occurred_at: now,
    recorded_at: now,
    late: false,
    postback_delay_ms: null,
    source_event_id: `ev-${i}`,
    operator: null,
    note: null,
  };
}

/** The entry as the relay publishes it on conversions.ledger.v2 (the topic the notifier reads): a 70 % payout, its postings. */
function v2Message(e: LedgerEntryV1): string {
  const payoutMicros = (BigInt(e.amount_micros) * 7n) / 10n;
  const postings = entryPostingsV2(e, payoutMicros);
  return JSON.stringify(
    ledgerEntryV2({
      payload: e,
      payout_micros: payoutMicros.toString(),
      reward_amount: null,
      reward_currency: null,
      payout_rule_id: null,
      reward_rule_id: null,
      postings,
    }),
  );
}

async function produce(producer: Producer, topic: string, entries: LedgerEntryV1[]): Promise<void> {
  for (let i = 0; i < entries.length; i += 500)
    await producer.send({
      topic,
      acks: -1,
      messages: entries.slice(i, i + 500).map((e) => ({ key: e.conversion_id, value: v2Message(e) })),
    });
}

async function waitCount(r: Receiver, keys: readonly string[], maxMs: number): Promise<boolean> {
  const deadline = Date.now() + maxMs;
  while (Date.now() < deadline && !wasInterrupted()) {
    if (keys.every((k) => r.firstAt.has(k))) return true;
    await sleep(50);
  }
  return keys.every((k) => r.firstAt.has(k));
}

async function main(): Promise<void> {
  const log = (s: string) => console.error(`[publisher-delivery] ${s}`);
  const n = envInt('BENCH_N', 5000, 1, 1_000_000);
  const rate = envInt('BENCH_RATE', 200, 1, 100_000);
  const seconds = envInt('BENCH_SECONDS', 10, 1, 3600);
  const concurrency = envInt('BENCH_CONCURRENCY', 16, 1, 1000);
  const maxMs = envInt('BENCH_MAX_SECONDS', 180, 10, 3600) * 1000;
  ensureGatewayBuilt(process.env.BENCH_SKIP_BUILD !== '1', log);
  const untrap = trapInterrupt(log);
  const receiver = new Receiver();
  let db: TestDatabase | undefined;
  let topics: { drop(): Promise<void> } | undefined;
  let notifier: AppProcess | undefined;
  let producer: Producer | undefined;
  try {
    await receiver.start();
    const prefix = uniquePrefix('bench-pubd');
    db = await createTestDatabase();
    topics = await createTestTopics(prefix, TEST_BROKERS);
    await db.ds.query(`INSERT INTO publishers (id, name) VALUES ($1, $1)`, [PUBLISHER]);
    await db.ds.query(`INSERT INTO publisher_postbacks (publisher_id, url, secrets) VALUES ($1, $2, $3)`, [
      PUBLISHER,
      `http://127.0.0.1:${receiver.port}/pb?click={click_id}&tx={transaction_id}&status={status}&amount={payout}&cur={currency}&s1={sub1}`,
      // Sealed as the admin API stores it (the notifier runs on the development key).
      [secretBoxFromEnv({}).seal(SECRET, secretContext.publisherSigning(PUBLISHER))],
    ]);
    const healthPort = await freePort();
    notifier = spawnApp('notifier', {
      DATABASE_URL: db.url,
      KAFKA_BROKERS: TEST_BROKERS.join(','),
      TOPIC_PREFIX: prefix,
      HEALTH_PORT: String(healthPort),
      LOG_LEVEL: 'warn',
      DELIVERY_CONCURRENCY: String(concurrency),
      // One publisher on loopback: every slot is its own, and the allowlist lets the calls out.
      PUBLISHER_CONCURRENCY: String(concurrency),
      PUBLISHER_URL_ALLOW: '127.0.0.1',
    });
    await waitReady(notifier, `http://127.0.0.1:${healthPort}/health/ready`);
    producer = new Kafka({
      clientId: 'bench-ledger',
      brokers: TEST_BROKERS,
      logLevel: logLevel.NOTHING,
    }).producer({
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    const topic = topicName(Topics.conversionsLedgerV2, prefix);
    const run = Date.now().toString(36).slice(-6);

    // Phase 1: a backlog of n.
    log(`backlog: producing ${fmt(n)} approved entries`);
    const backlog = Array.from({ length: n }, () => entry(run));
    const cpu = await new CpuMeter({ notifier: notifier.proc.pid }).start();
    await produce(producer, topic, backlog);
    const keys = backlog.map((e) => e.entry_id);
    const drained = await waitCount(receiver, keys, maxMs);
    const cpuBacklog = await cpu.stop();
    if (!drained)
      throw new Error(`backlog: ${keys.filter((k) => receiver.firstAt.has(k)).length} of ${n} delivered`);
    const arrivals = keys.map((k) => receiver.firstAt.get(k)!).sort((a, b) => a - b);
    const span = (arrivals[arrivals.length - 1]! - arrivals[0]!) / 1000;
    const produced = Date.parse(backlog[0]!.recorded_at);
    const backlogRate = n / Math.max(span, 0.001);
    const toLast = (arrivals[arrivals.length - 1]! - produced) / 1000;

    // Phase 2: paced, for the delay.
    log(`paced: ${rate}/s for ${seconds} s`);
    const paced: LedgerEntryV1[] = [];
    const tickMs = 50;
    const perTick = Math.max(1, Math.round((rate * tickMs) / 1000));
    const start = Date.now();
    while (Date.now() - start < seconds * 1000 && !wasInterrupted()) {
      const t0 = Date.now();
      const chunk = Array.from({ length: perTick }, () => entry(run));
      paced.push(...chunk);
      await produce(producer, topic, chunk);
      await sleep(Math.max(0, tickMs - (Date.now() - t0)));
    }
    const pacedKeys = paced.map((e) => e.entry_id);
    if (!(await waitCount(receiver, pacedKeys, maxMs))) throw new Error('paced: not every entry delivered');
    const delay = new LatencyRecorder();
    for (const e of paced) delay.record(receiver.firstAt.get(e.entry_id)! - Date.parse(e.recorded_at));
    const d = delay.summary();

    const [check] = await db.ds.query<[{ delivered: number; attempts: number }]>(
      `SELECT (SELECT count(*)::int FROM publisher_deliveries WHERE status = 'delivered') AS delivered,
              (SELECT count(*)::int FROM publisher_delivery_attempts) AS attempts`,
    );
    const total = n + paced.length;
    const md = [
      `# Publisher delivery bench (${new Date().toISOString()})`,
      '',
      `Machine: ${machineLine()}. The producer, the notifier, the receiver, Kafka and Postgres share this box, so the figures are a floor.`,
      '',
      `Setup: the built notifier (DELIVERY_CONCURRENCY=${concurrency}, other settings default, LOG_LEVEL=warn) consumes approved ledger entries (v2, 70 % payout) produced straight onto conversions.ledger.v2 (acks=all), writes one delivery row per entry, and calls a local HTTP receiver (127.0.0.1, answers 200, keep-alive) with a signed GET per entry. The receiver records the first call per Idempotency-Key.`,
      '',
      formatTable([
        {
          phase: 'backlog',
          entries: n,
          figure: `${fmt(backlogRate)} deliveries/s (first to last call, ${fmt(span, 2)} s); last call ${fmt(toLast, 2)} s after the produce started`,
          'notifier CPU %': cpuBacklog.notifier ?? NaN,
        },
        {
          phase: `paced ${rate}/s for ${seconds} s`,
          entries: paced.length,
          figure: `delay recorded_at to call: p50 ${fmt(d.p50)} ms, p90 ${fmt(d.p90)} ms, p99 ${fmt(d.p99)} ms, max ${fmt(d.max)} ms`,
          'notifier CPU %': NaN,
        },
      ]),
      '',
      `Checks: ${fmt(receiver.firstAt.size)} distinct entries at the receiver (expected ${fmt(total)}), ${fmt(receiver.requests)} calls, ${fmt(check.delivered)} deliveries delivered, ${fmt(check.attempts)} attempts logged.`,
    ].join('\n');
    if (receiver.firstAt.size !== total || check.delivered !== total) throw new Error(`wrong result:\n${md}`);
    writeResults('publisher-delivery', md);
  } finally {
    untrap();
    await producer?.disconnect().catch(() => undefined);
    if (notifier) await stopApp(notifier);
    await receiver.stop().catch(() => undefined);
    await topics?.drop().catch(() => undefined);
    await db?.drop().catch(() => undefined);
  }
}

runBenchMain('publisher-delivery bench', main);

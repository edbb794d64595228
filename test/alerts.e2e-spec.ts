import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { Kafka, logLevel } from 'kafkajs';
import type { ClickRecorded, PostbackReceived } from '@app/contracts';
import { verifySignature } from '@app/domain';
import {
  type AppProcess,
  clickEvent,
  freePort,
  poll,
  postbackEvent,
  produceEvents,
  seedOffer,
  spawnApp,
  TEST_BROKERS,
  topicMessageCount,
  waitReady,
} from '@app/testing';
import { ADMIN_TOKEN, type RunningSystem, startSystem } from './support';

/**
 * Issue 7 (alerts): the processor evaluates the rules over real traffic, lists what fires through
 * the admin API with evidence, notifies a webhook (signed, retried after a 500, one accepted
 * delivery per event) and resolves an alert when its condition clears.
 */

const HOUR = 3_600_000;
const SECRET = 'alert-webhook-secret-0123456789';

interface Delivery {
  key: string;
  event: string;
  idempotencyKey: string;
  answered: number;
  signatureOk: boolean;
  body: { event: string; alert: { key: string; status: string; evidence: Record<string, unknown> } };
}

/** A webhook receiver that answers 500 to the first attempt of each event, then 200. */
class Receiver {
  readonly deliveries: Delivery[] = [];
  private server!: Server;
  url = '';
  private port = 0;
  private readonly seen = new Set<string>();

  async start(): Promise<void> {
    const seen = this.seen;
    this.server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
      req.on('end', () => {
        const idem = String(req.headers['idempotency-key'] ?? '');
        const answered = seen.has(idem) ? 200 : 500;
        seen.add(idem);
        const check = verifySignature({
          secrets: [SECRET],
          timestamp: req.headers['x-signature-timestamp'] as string | undefined,
          signature: req.headers['x-signature'] as string | undefined,
          payload: raw,
          nowSeconds: Date.now() / 1000,
          toleranceSeconds: 300,
        });
        const body = JSON.parse(raw) as Delivery['body'];
        this.deliveries.push({
          key: body.alert.key,
          event: body.event,
          idempotencyKey: idem,
          answered,
          signatureOk: check.ok,
          body,
        });
        res.writeHead(answered, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => this.server.listen(this.port, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${this.port}/hooks/alerts`;
  }

  accepted(key: string, event: string): Delivery[] {
    return this.deliveries.filter((d) => d.key === key && d.event === event && d.answered === 200);
  }

  attempts(key: string, event: string): Delivery[] {
    return this.deliveries.filter((d) => d.key === key && d.event === event);
  }

  /** Down: connections refused until start() again (on the same port). */
  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

describe('alerts', () => {
  let sys: RunningSystem;
  const receiver = new Receiver();
  let tx = 0;
  const now = new Date();

  const alerts = async (status = 'firing') => {
    const r = await sys.admin('GET', `/v1/admin/alerts?status=${status}`);
    expect(r.status).toBe(200);
    return r.body.alerts as {
      key: string;
      rule: string;
      severity: string;
      status: string;
      summary: string;
      evidence: Record<string, any>;
      notifications: { event: string; status: string; attempts: number }[];
    }[];
  };
  const approvals = (partner: string, clicks: ClickRecorded[]): PostbackReceived[] =>
    clicks.map((c) => postbackEvent(partner, c.id, `tx-${++tx}`, 'approved'));

  let alertEnv: Record<string, string>;
  let restarted: AppProcess | undefined;

  beforeAll(async () => {
    await receiver.start();
    alertEnv = {
      ALERT_EVAL_MS: '500',
      METRICS_REFRESH_MS: '500',
      ALERT_LATENCY_P99_MS: String(HOUR),
      ALERT_LATENCY_MIN_CONVERSIONS: '4',
      ALERT_LATE_RATE: '0.2',
      ALERT_LATE_MIN_ENTRIES: '4',
      ALERT_SOFT_REJECT_RATE: '0.3',
      ALERT_SOFT_REJECT_MIN_POSTBACKS: '4',
      ALERT_ACCEPTANCE_MIN_POSTBACKS: '100000',
      ALERT_LAG_FLOOR: '1000000',
      ALERT_WEBHOOK_URL: receiver.url,
      ALERT_WEBHOOK_SECRET: SECRET,
      ALERT_WEBHOOK_BACKOFF_MS: '300',
      // Clicks sent after their postbacks are "not visible yet" (retried: a soft reject).
      RETRY_DELAYS_MS: '1000,1500,2500',
      CLICK_WATERMARK_MARGIN_MS: '600000',
      SOURCE_MIN_DECISIONS: '0',
    };
    sys = await startSystem('alerts', { env: alertEnv });
    await seedOffer(sys.db.ds, { id: 'al-late-offer' });
    await seedOffer(sys.db.ds, { id: 'al-soft-offer' });
  }, 120_000);
  afterAll(async () => {
    await restarted?.stop();
    await sys?.stop();
    await receiver.stop();
  });

  const FIRED = [
    'late_callbacks:al-late',
    'latency_p99:al-late-offer',
    'soft_reject_rate:al-soft/wall',
    'dead_letters:dead.letters',
  ];

  it('fires late-callback, latency, soft-reject and dead-letter alerts with their evidence', async () => {
    // Five conversions 2.5 hours after their clicks: late (LATE_AFTER_MS 1 h), p99 above 1 h.
    const old = Array.from({ length: 5 }, () =>
      clickEvent('al-late-offer', 'al-pub', new Date(now.getTime() - 2.5 * HOUR)),
    );
    await produceEvents(`${sys.prefix}clicks.recorded`, old);
    await poll('old clicks stored', async () =>
      (await sys.db.ds.query(`SELECT count(*)::int AS n FROM clicks`))[0].n === old.length ? true : undefined,
    );
    await produceEvents(`${sys.prefix}postbacks.received`, approvals('al-late', old));

    // Four postbacks before their clicks: parked for a retry, then approved once the clicks come.
    const fresh = Array.from({ length: 4 }, () =>
      clickEvent('al-soft-offer', 'al-pub', new Date(), { placement: 'wall' }),
    );
    await produceEvents(`${sys.prefix}postbacks.received`, approvals('al-soft', fresh));
    await poll('soft postbacks parked', async () =>
      (await sys.db.ds.query(`SELECT count(*)::int AS n FROM parked_postbacks`))[0].n === 4
        ? true
        : undefined,
    );
    await produceEvents(`${sys.prefix}clicks.recorded`, fresh);

    // A poison message: dead-lettered.
    const producer = new Kafka({ brokers: TEST_BROKERS, logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    await producer.send({
      topic: `${sys.prefix}postbacks.received`,
      acks: -1,
      messages: [{ key: 'poison', value: '{"not":"a postback"' }],
    });
    await producer.disconnect();

    const firing = await poll(
      'every expected alert firing',
      async () => {
        const list = await alerts();
        return FIRED.every((k) => list.some((a) => a.key === k)) ? list : undefined;
      },
      60_000,
      300,
    );
    expect(firing.map((a) => a.key).sort()).toEqual([...FIRED].sort());
    const byKey = new Map(firing.map((a) => [a.key, a]));
    expect(byKey.get('late_callbacks:al-late')).toMatchObject({
      rule: 'late_callbacks',
      severity: 'warning',
      status: 'firing',
      evidence: { late: 5, entries: 5, rate: 1, threshold: 0.2, source: 'recon_daily' },
    });
    expect(byKey.get('late_callbacks:al-late')!.evidence.window.day).toBe(now.toISOString().slice(0, 10));
    expect(byKey.get('latency_p99:al-late-offer')!.evidence).toMatchObject({
      conversions: 5,
      threshold_ms: HOUR,
      buckets: { '10800000': 5 },
    });
    expect(byKey.get('latency_p99:al-late-offer')!.evidence.p99_ms).toBeGreaterThan(2 * HOUR);
    expect(byKey.get('soft_reject_rate:al-soft/wall')!.evidence).toMatchObject({
      partner_id: 'al-soft',
      placement: 'wall',
      soft_retried: 4,
      postbacks: 4,
      rate: 1,
    });
    expect(byKey.get('dead_letters:dead.letters')!.evidence).toMatchObject({
      unreplayed: 1,
      replay_group: 'dead-letter-replay',
    });
    for (const a of firing) expect(a.summary.length).toBeGreaterThan(10);
    // The same alerts as Prometheus gauges, for users who route alerts through Prometheus.
    await poll('alerts_firing gauges', async () => {
      const text = await (await fetch(`${sys.processorUrl}/metrics`)).text();
      return [
        'alerts_firing{rule="late_callbacks",severity="warning",app="processor"} 1',
        'alerts_firing{rule="latency_p99",severity="warning",app="processor"} 1',
        'alerts_firing{rule="acceptance_drop",severity="critical",app="processor"} 0',
      ].every((line) => text.includes(line))
        ? true
        : undefined;
    });
  }, 120_000);

  it('notifies the webhook once per fired alert, signed, after retrying a 500', async () => {
    await poll(
      'every firing event accepted by the receiver',
      async () => FIRED.every((k) => receiver.accepted(k, 'firing').length === 1),
      30_000,
    );
    for (const key of FIRED) {
      const tries = receiver.attempts(key, 'firing');
      expect(tries[0]!.answered).toBe(500);
      expect(receiver.accepted(key, 'firing')).toHaveLength(1);
      expect(tries.every((t) => t.signatureOk)).toBe(true);
      expect(new Set(tries.map((t) => t.idempotencyKey)).size).toBe(1);
      expect(tries[0]!.idempotencyKey).toMatch(
        new RegExp(`^${key.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}@\\d+:firing$`),
      );
      expect(tries[0]!.body.alert.status).toBe('firing');
    }
    // Delivery state is recorded on the alert, once the notifier has stored the answer it got
    // (the receiver sees the request before that commit).
    const recorded = (l: Awaited<ReturnType<typeof alerts>>) =>
      l
        .filter((x) => FIRED.includes(x.key))
        .every((a) => a.notifications.some((n) => n.status !== 'pending'));
    const list = await poll('the deliveries recorded on the alerts', async () => {
      const l = await alerts();
      return recorded(l) ? l : undefined;
    });
    for (const a of list.filter((x) => FIRED.includes(x.key)))
      expect(a.notifications).toEqual([
        expect.objectContaining({ event: 'firing', status: 'delivered', attempts: 2 }),
      ]);
  }, 90_000);

  it('resolves an alert when its condition clears, once, and notifies that too', async () => {
    // Ten more al-soft postbacks with visible clicks: 4 soft retries of 14 is under 30%.
    const visible = Array.from({ length: 10 }, () =>
      clickEvent('al-soft-offer', 'al-pub', new Date(Date.now() - 60_000), { placement: 'wall' }),
    );
    await produceEvents(`${sys.prefix}clicks.recorded`, visible);
    await poll('visible clicks stored', async () =>
      (
        await sys.db.ds.query(`SELECT count(*)::int AS n FROM clicks WHERE click_id = ANY($1)`, [
          visible.map((c) => c.id),
        ])
      )[0].n === 10
        ? true
        : undefined,
    );
    await produceEvents(`${sys.prefix}postbacks.received`, approvals('al-soft', visible));

    // The dead letter is handled: the replay group moves past it (as `dead-letters replay` would).
    const admin = new Kafka({ brokers: TEST_BROKERS, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const topic = `${sys.prefix}dead.letters`;
    expect(await topicMessageCount(topic)).toBe(1);
    const ends = await admin.fetchTopicOffsets(topic);
    await admin.setOffsets({
      groupId: 'dead-letter-replay',
      topic,
      partitions: ends.map((e) => ({ partition: e.partition, offset: e.high })),
    });
    await admin.disconnect();

    const resolvedKeys = ['soft_reject_rate:al-soft/wall', 'dead_letters:dead.letters'];
    await poll(
      'soft-reject and dead-letter alerts resolved',
      async () => {
        const list = await alerts();
        return resolvedKeys.every((k) => !list.some((a) => a.key === k)) ? true : undefined;
      },
      60_000,
      300,
    );
    const all = await alerts('all');
    for (const key of resolvedKeys) {
      const rows = all.filter((a) => a.key === key);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ status: 'resolved' });
    }
    // Evidence of a resolved alert: the last evaluation that still held the condition.
    expect(all.find((a) => a.key === 'soft_reject_rate:al-soft/wall')!.evidence.rate).toBeGreaterThan(0.3);
    // The others still fire, still once.
    expect((await alerts()).map((a) => a.key).sort()).toEqual([
      'late_callbacks:al-late',
      'latency_p99:al-late-offer',
    ]);

    await poll(
      'resolved events accepted by the receiver',
      async () => resolvedKeys.every((k) => receiver.accepted(k, 'resolved').length === 1),
      30_000,
    );
    // A few more evaluations change nothing: no second firing, no second resolve.
    await new Promise((r) => setTimeout(r, 2000));
    for (const key of resolvedKeys) {
      expect(receiver.accepted(key, 'resolved')).toHaveLength(1);
      expect(receiver.attempts(key, 'resolved')[0]!.answered).toBe(500);
      expect(receiver.attempts(key, 'resolved').every((t) => t.signatureOk)).toBe(true);
    }
    for (const key of FIRED) expect(receiver.accepted(key, 'firing')).toHaveLength(1);
    expect(receiver.deliveries.filter((d) => d.answered === 200)).toHaveLength(
      FIRED.length + resolvedKeys.length,
    );
  }, 120_000);

  it('fires again as a new episode, and delivers it after a processor crash and a receiver outage', async () => {
    await receiver.stop();
    const producer = new Kafka({ brokers: TEST_BROKERS, logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    await producer.send({
      topic: `${sys.prefix}postbacks.received`,
      acks: -1,
      messages: [{ key: 'poison-2', value: 'still not JSON' }],
    });
    await producer.disconnect();
    const key = 'dead_letters:dead.letters';
    // Fired again (a new row), its delivery failing while the receiver is down.
    const failing = await poll(
      'second episode fired, delivery failing',
      async () => {
        const rows = await sys.db.ds.query<
          { id: string; attempts: number; attempt_log: { error?: string }[] }[]
        >(
          `SELECT n.id, n.attempts, n.attempt_log FROM alert_notifications n JOIN alerts a ON a.id = n.alert_id
            WHERE a.key = $1 AND a.status = 'firing' AND n.event = 'firing' AND n.status = 'pending' AND n.attempts >= 1`,
          [key],
        );
        return rows[0];
      },
      30_000,
    );
    expect(failing.attempt_log[0]!.error).toMatch(/ECONNREFUSED|fetch failed/);
    await sys.processor.stop('SIGKILL');
    await receiver.start();
    const healthPort = await freePort();
    restarted = spawnApp('processor', {
      DATABASE_URL: sys.db.url,
      KAFKA_BROKERS: TEST_BROKERS.join(','),
      TOPIC_PREFIX: sys.prefix,
      LOG_LEVEL: 'log',
      ADMIN_TOKEN,
      CATALOG_REFRESH_MS: '200',
      HEALTH_PORT: String(healthPort),
      ...alertEnv,
    });
    await waitReady(restarted, `http://127.0.0.1:${healthPort}/health/ready`);
    const accepted = await poll(
      'the pending notification delivered by the new processor',
      async () => {
        const got = receiver.accepted(key, 'firing');
        return got.length === 2 ? got : undefined;
      },
      60_000,
    );
    // Two episodes, two distinct idempotency keys, one accepted delivery each.
    expect(new Set(accepted.map((d) => d.idempotencyKey)).size).toBe(2);
    expect(accepted.every((d) => d.signatureOk)).toBe(true);
    // The receiver records its answer before the processor writes the outcome, so wait for the row.
    const row = await poll(
      'the notification row marked delivered',
      async () => {
        const [r] = await sys.db.ds.query<{ status: string; attempts: number }[]>(
          `SELECT status, attempts FROM alert_notifications WHERE id = $1`,
          [failing.id],
        );
        return r?.status === 'delivered' ? r : undefined;
      },
      10_000,
    );
    expect(row.attempts).toBeGreaterThanOrEqual(2);
    const all = await alerts('all');
    expect(all.filter((a) => a.key === key).map((a) => a.status)).toEqual(['firing', 'resolved']);
  }, 120_000);

  it('answers a bad status with a 400 naming it', async () => {
    const r = await sys.admin('GET', '/v1/admin/alerts?status=maybe');
    expect(r.status).toBe(400);
    expect(r.body.error.field).toBe('status');
  });
});

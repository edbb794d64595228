import { secretBoxFromEnv } from '@app/config';
import { secretContext } from '@app/persistence';
import { httpJson, ownKafka, ownPostgres, poll, topicMessageCount, waitForKafkaReady } from '@app/testing';
import {
  DedupingPublisher,
  FAULT_CATALOG,
  faultPlan,
  faultSystem,
  producePlan,
  progressed,
  sendThroughGateway,
  sleep,
  verifyFaultRun,
  withSystem,
  FAULT_EVENTS_AT_LEAST,
  FAULT_TRANSACTIONS,
  LONG_RETRIES,
} from './fault-support';

/**
 * Exactly-once effect under at-least-once delivery, one fault per test, each during at least
 * 50,000 events (23,000 clicks and ~27,600 postbacks: 5% start pending, 3% are reversed, 10% are
 * sent twice). The processor scenarios produce straight to Kafka as the gateway would; the
 * gateway-crash and Kafka-outage scenarios go through the real gateway with a client that
 * retries what got no answer, as partners do. The notifier scenario also delivers every approval
 * and reversal to a publisher endpoint that dedupes by Idempotency-Key, with two notifiers and
 * kills. Every scenario heals and then ends with the same
 * checks (fault-support.ts): every 2xx has exactly one outcome, every other copy is a duplicate,
 * each conversion's entries in the planned order, no entry or revenue twice, every entry on the
 * ledger topic, read models equal to a rebuild. The whole suite is bounded for CI (about 5 min).
 */
const random = (min: number, max: number) => min + Math.random() * (max - min);

describe('fault suite', () => {
  it('kill -9 of the processor four times at random moments loses nothing and pays nothing twice', async () => {
    const sys = await faultSystem('kill-proc');
    await withSystem(sys, async () => {
      const plan = faultPlan(FAULT_TRANSACTIONS, 11);
      await sys.seed();
      await sys.spawnProcessor();
      const events = await producePlan(sys, plan);
      expect(events).toBeGreaterThanOrEqual(FAULT_EVENTS_AT_LEAST);
      for (let k = 0; k < 4; k++) {
        await sleep(random(400, 1600));
        await sys.processors[sys.processors.length - 1]!.stop('SIGKILL');
        await sys.spawnProcessor();
      }
      await verifyFaultRun(sys, {
        label: `kill -9 processor x4 (${events} events)`,
        plan,
        received: plan.postbacks,
      });
    });
  }, 300_000);

  it('kill -9 of the gateway three times mid-traffic: every 2xx has exactly one outcome', async () => {
    const sys = await faultSystem('kill-gw', { processorEnv: LONG_RETRIES });
    await withSystem(sys, async () => {
      const plan = faultPlan(FAULT_TRANSACTIONS, 17);
      await sys.spawnGateway();
      await sys.spawnProcessor();
      await sys.seed();
      const run = sendThroughGateway(sys, plan);
      const moments = [random(0.1, 0.3), random(0.35, 0.6), random(0.65, 0.9)];
      for (const m of moments) {
        await progressed(run, m);
        await sys.gateways[sys.gateways.length - 1]!.stop('SIGKILL');
        await sys.spawnGateway();
      }
      await run.done;
      console.log(
        `kill -9 gateway x3 at ${moments.map((m) => `${Math.round(m * 100)}%`).join(', ')}: ${run.answered} answers, ` +
          `${run.stats.networkErrors} requests retried after no answer, ${run.stats.retried503} after 503`,
      );
      expect(run.failures.slice(0, 5)).toEqual([]);
      expect(run.clicks + run.acceptedIds.length).toBeGreaterThanOrEqual(FAULT_EVENTS_AT_LEAST);
      expect(run.stats.networkErrors).toBeGreaterThan(0);
      const received = await topicMessageCount(`${sys.prefix}postbacks.received`, sys.brokers);
      await verifyFaultRun(sys, {
        label: `kill -9 gateway x3 (${run.clicks} clicks, ${run.acceptedIds.length} postbacks answered 2xx)`,
        plan,
        received,
        acceptedIds: run.acceptedIds,
        clickIds: run.clickIds,
      });
    });
  }, 300_000);

  it('two processors in one group with rebalances mid-stream give the same ledger', async () => {
    const sys = await faultSystem('rebalance');
    await withSystem(sys, async () => {
      const plan = faultPlan(FAULT_TRANSACTIONS, 23);
      await sys.seed();
      const first = await sys.spawnProcessor();
      const events = await producePlan(sys, plan);
      expect(events).toBeGreaterThanOrEqual(FAULT_EVENTS_AT_LEAST);
      await sleep(500);
      await sys.spawnProcessor(); // joins: rebalance
      await sleep(1500);
      await first.stop('SIGTERM'); // leaves: rebalance again
      await verifyFaultRun(sys, { label: `rebalance (${events} events)`, plan, received: plan.postbacks });
    });
  }, 300_000);

  it('two notifiers, one killed -9 three times mid-delivery: every approval and reversal reaches the publisher once, in order', async () => {
    const publisherSecret = 'fault-publisher-secret-0123456789';
    const receiver = new DedupingPublisher(publisherSecret);
    await receiver.start();
    const sys = await faultSystem('kill-notifier', {
      notifierEnv: {
        DELIVERY_CONCURRENCY: '64',
        // One publisher, on loopback: all 64 slots are its own, and the allowlist lets the calls out.
        PUBLISHER_CONCURRENCY: '64',
        PUBLISHER_URL_ALLOW: '127.0.0.1',
        DELIVERY_TIMEOUT_MS: '2000',
        DELIVERY_LEASE_MARGIN_MS: '1000',
        DELIVERY_BACKOFF_BASE_MS: '200',
        DELIVERY_BACKOFF_MAX_MS: '1000',
        DELIVERY_POLL_MS: '100',
      },
    });
    try {
      await withSystem(sys, async () => {
        const plan = faultPlan(FAULT_TRANSACTIONS, 29);
        await sys.seed();
        await sys.db.ds.query(
          `INSERT INTO publisher_postbacks (publisher_id, url, secrets) VALUES ($1, $2, $3)`,
          [
            FAULT_CATALOG.publisher,
            `${receiver.url}?tx={transaction_id}&status={status}&click={click_id}`,
            // Stored sealed, as the admin API stores it (the notifier runs on the development key).
            [
              secretBoxFromEnv({}).seal(
                publisherSecret,
                secretContext.publisherSigning(FAULT_CATALOG.publisher),
              ),
            ],
          ],
        );
        await sys.spawnProcessor();
        await sys.spawnNotifier();
        await sys.spawnNotifier(); // two in the notifier's group: the ledger's partitions split
        const events = await producePlan(sys, plan);
        expect(events).toBeGreaterThanOrEqual(FAULT_EVENTS_AT_LEAST);
        const expectedDeliveries = [...plan.expected.values()].reduce(
          (n, s) => n + s.filter((t) => t === 'approved' || t === 'reversed').length,
          0,
        );
        // Kill the newest instance while deliveries are in flight; its replacement joins (rebalance).
        const killedAt: number[] = [];
        for (let k = 0; k < 3; k++) {
          const at = expectedDeliveries * random(0.1 + 0.25 * k, 0.3 + 0.25 * k);
          await poll(
            'deliveries under way',
            async () => {
              const [r] = await sys.db.ds.query<[{ n: number }]>(
                `SELECT count(*)::int AS n FROM publisher_deliveries WHERE status = 'delivered'`,
              );
              return r.n >= at ? true : undefined;
            },
            120_000,
            50,
          );
          killedAt.push(receiver.accepted.size);
          await sys.notifiers[sys.notifiers.length - 1]!.stop('SIGKILL');
          await sys.spawnNotifier();
        }
        await verifyFaultRun(sys, {
          label: `kill -9 notifier x3 (${events} events)`,
          plan,
          received: plan.postbacks,
        });
        const delivered = await poll(
          'every delivery delivered',
          async () => {
            const [r] = await sys.db.ds.query<[{ delivered: number; all: number }]>(
              `SELECT count(*) FILTER (WHERE status = 'delivered')::int AS delivered, count(*)::int AS all FROM publisher_deliveries`,
            );
            return r.delivered === expectedDeliveries ? r : undefined;
          },
          180_000,
          250,
        );
        const entries = await sys.db.ds.query<{ entry_id: string }[]>(
          `SELECT entry_id FROM ledger_entries WHERE entry_type IN ('approved', 'reversed')`,
        );
        const outOfOrder = [...receiver.statusesByTx].filter(
          ([tx, got]) =>
            got.join(',') !==
            plan.expected
              .get(tx)!
              .filter((t) => t === 'approved' || t === 'reversed')
              .join(','),
        );
        console.log(
          `kill -9 notifier x3 (after ${killedAt.join(', ')} acted on): ${receiver.requests} requests, ` +
            `${receiver.accepted.size} acted on (expected ${expectedDeliveries}), ` +
            `${receiver.requests - receiver.accepted.size} repeats dropped by Idempotency-Key, ` +
            `${receiver.badSignatures} bad signatures, ${outOfOrder.length} transactions out of order; ` +
            `${delivered.all} delivery rows, ${delivered.delivered} delivered`,
        );
        expect(delivered.all).toBe(expectedDeliveries);
        expect(receiver.badSignatures).toBe(0);
        expect(new Set(receiver.accepted.keys())).toEqual(new Set(entries.map((e) => e.entry_id)));
        expect(receiver.statusesByTx.size).toBe(plan.expected.size);
        expect(outOfOrder.slice(0, 5)).toEqual([]);
      });
    } finally {
      await receiver.stop();
    }
  }, 420_000);

  it('Kafka broker stopped for 20 s: the gateway answers 503, clients retry, nothing lost', async () => {
    const kafka = await ownKafka('suite');
    try {
      kafka.start();
      await waitForKafkaReady(kafka.brokers);
      const sys = await faultSystem('kafka-down', {
        brokers: kafka.brokers,
        gatewayEnv: { PRODUCE_TIMEOUT_MS: '2000' },
        processorEnv: LONG_RETRIES,
      });
      await withSystem(sys, async () => {
        const plan = faultPlan(FAULT_TRANSACTIONS, 31);
        await sys.spawnGateway();
        await sys.spawnProcessor();
        await sys.seed();
        const run = sendThroughGateway(sys, plan);
        await progressed(run, random(0.2, 0.4));
        const at = run.answered;
        kafka.stop();
        const stoppedAt = Date.now();
        const during = await httpJson(`${sys.gatewayUrl}/v1/clicks`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ offer_id: 'o-fault', publisher_id: 'pub-f' }),
        });
        await sleep(20_000 - (Date.now() - stoppedAt));
        const answeredWhileDown = run.answered - at;
        const retried503 = run.stats.retried503;
        kafka.start();
        await run.done;
        console.log(
          `Kafka down 20 s after ${at} answers: a click meanwhile got ${during.status} (Retry-After ${during.headers.get('retry-after')}); ` +
            `${answeredWhileDown} requests answered during the outage (cut before it), ${retried503} retried after 503, ` +
            `${run.stats.networkErrors} after no answer; ${run.answered} answers in all`,
        );
        expect(during.status).toBe(503);
        expect(during.headers.get('retry-after')).toBeTruthy();
        expect(retried503).toBeGreaterThan(0);
        expect(run.failures.slice(0, 5)).toEqual([]);
        expect(run.clicks + run.acceptedIds.length).toBeGreaterThanOrEqual(FAULT_EVENTS_AT_LEAST);
        const received = await topicMessageCount(`${sys.prefix}postbacks.received`, sys.brokers);
        await verifyFaultRun(sys, {
          label: `Kafka down 20 s (${run.clicks} clicks, ${run.acceptedIds.length} postbacks answered 2xx)`,
          plan,
          received,
          acceptedIds: run.acceptedIds,
          clickIds: run.clickIds,
        });
        expect(sys.gateways).toHaveLength(1);
        expect(sys.gateways[0]!.proc.exitCode).toBeNull();
        expect(sys.processors[0]!.proc.exitCode).toBeNull();
      });
    } finally {
      kafka.destroy();
    }
  }, 300_000);

  it('Postgres stopped for 30 s: soft rejects, retries with back-off, nothing lost', async () => {
    const pg = await ownPostgres('suite');
    try {
      pg.start();
      const sys = await faultSystem('pg-down', { databaseBaseUrl: pg.url });
      await withSystem(sys, async () => {
        const plan = faultPlan(FAULT_TRANSACTIONS, 37);
        await sys.seed();
        await sys.spawnProcessor();
        const events = await producePlan(sys, plan);
        expect(events).toBeGreaterThanOrEqual(FAULT_EVENTS_AT_LEAST);
        await sleep(800);
        pg.stop();
        await sleep(30_000);
        pg.start();
        await verifyFaultRun(sys, {
          label: `Postgres down 30 s (${events} events)`,
          plan,
          received: plan.postbacks,
        });
        expect(sys.processors[0]!.proc.exitCode).toBeNull();
        // The batches that failed meanwhile were soft rejects, counted per postback and try, and
        // their postbacks' outcomes count those tries (soft_retried in the read model).
        const metrics = await (await fetch(`${sys.processors[0]!.url}/metrics`)).text();
        const soft = (reason: string) =>
          Number(
            new RegExp(`^postback_soft_rejects_total\\{[^}]*reason="${reason}"[^}]*\\} (\\d+)`, 'm').exec(
              metrics,
            )?.[1] ?? 0,
          );
        const [retried] = await sys.db.ds.query<{ n: number }[]>(
          `SELECT coalesce(sum(soft_retried), 0)::int AS n FROM recon_daily`,
        );
        console.log(
          `Postgres down 30 s: soft rejects dependency_unavailable ${soft('dependency_unavailable')}, ` +
            `timeout ${soft('timeout')}; postbacks soft-retried ${retried!.n}`,
        );
        expect(soft('dependency_unavailable') + soft('timeout')).toBeGreaterThan(0);
        expect(retried!.n).toBeGreaterThan(0);
      });
    } finally {
      pg.destroy();
    }
  }, 300_000);
});

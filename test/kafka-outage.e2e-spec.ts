import { httpJson, ownKafka, type OwnKafka, poll, waitForKafkaReady } from '@app/testing';
import { type RunningSystem, seedCatalog, startSystem } from './support';

/**
 * Foundation "done when": stopping Kafka makes readiness fail with a clear reason, and starting
 * it again recovers without restarting the apps. Runs against a broker of its own.
 */
describe('Kafka outage and recovery (own broker)', () => {
  let kafka: OwnKafka;
  let sys: RunningSystem | undefined;

  beforeAll(async () => {
    kafka = await ownKafka('outage');
    kafka.start();
    await waitForKafkaReady(kafka.brokers);
    sys = await startSystem('outage', { brokers: kafka.brokers, env: { PRODUCE_TIMEOUT_MS: '2000' } });
  });
  afterAll(async () => {
    await sys?.stop();
    kafka?.destroy();
  });

  it('fails readiness with the reason while Kafka is down, answers 503, and recovers by itself', async () => {
    const s = sys!;
    const ids = await seedCatalog(s);
    const click = async () =>
      httpJson(`${s.gatewayUrl}/v1/clicks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ offer_id: ids.offer, publisher_id: ids.publisher }),
      });
    expect((await click()).status).toBe(201);

    kafka.stop();
    const gw = await poll('gateway not ready', async () => {
      const r = await httpJson(`${s.gatewayUrl}/health/ready`);
      return r.status === 503 ? r : undefined;
    });
    expect(JSON.stringify(gw.body)).toMatch(/Kafka unreachable/);
    const proc = await poll('processor not ready', async () => {
      const r = await httpJson(`${s.processorUrl}/health/ready`);
      return r.status === 503 ? r : undefined;
    });
    expect((proc.body as { checks: { kafka: { ok: boolean } } }).checks.kafka.ok).toBe(false);

    const during = await click();
    expect(during.status).toBe(503);
    expect(during.headers.get('retry-after')).toBe('5');
    expect(during.body).toMatchObject({ error: { code: 'unavailable' } });

    kafka.start();
    let lastReady: unknown;
    await poll(
      'gateway ready again',
      async () => {
        const r = await httpJson(`${s.gatewayUrl}/health/ready`);
        lastReady = r.body;
        return r.status === 200;
      },
      90000,
      500,
    ).catch((e: unknown) => {
      // Once failed in a CI run with no clue left: what the gateway said and logged.
      throw new Error(
        `${e instanceof Error ? e.message : String(e)}\nlast readiness: ${JSON.stringify(lastReady)}\n` +
          `gateway log (end):\n${s.gateway.logs().slice(-4000)}`,
      );
    });
    await poll(
      'processor ready again',
      async () => (await httpJson(`${s.processorUrl}/health/ready`)).status === 200,
      90000,
      500,
    );

    // Traffic flows end to end again, with the same processes.
    const after = await poll(
      'click accepted after recovery',
      async () => {
        const r = await click();
        return r.status === 201 ? (r.body as { click_id: string }).click_id : undefined;
      },
      60000,
      500,
    );
    await poll(
      'click stored after recovery',
      async () => (await s.db.ds.query('SELECT 1 FROM clicks WHERE click_id = $1', [after]))[0],
      60000,
    );
    expect(s.gateway.proc.exitCode).toBeNull();
    expect(s.processor.proc.exitCode).toBeNull();
  });
});

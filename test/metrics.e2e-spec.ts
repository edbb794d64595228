import { Kafka, logLevel } from 'kafkajs';
import { ulid } from 'ulid';
import { poll, signedPostbackUrl, TEST_BROKERS } from '@app/testing';
import { ADMIN_TOKEN, type RunningSystem, seedCatalog, startSystem } from './support';

type Samples = Map<string, number>;

/** Parses Prometheus text format strictly enough to fail on anything a scraper would refuse. */
function parseExposition(text: string): Samples {
  const samples: Samples = new Map();
  const typed = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line);
    if (meta) {
      if (meta[1] === 'TYPE') {
        expect(['counter', 'gauge', 'histogram', 'summary', 'untyped']).toContain(meta[3]);
        typed.add(meta[2]!);
      }
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (\S+)$/.exec(
      line,
    );
    if (!m) throw new Error(`not Prometheus text format: ${line}`);
    const base = m[1]!.replace(/_(bucket|sum|count)$/, '');
    if (!typed.has(m[1]!) && !typed.has(base)) throw new Error(`sample without # TYPE: ${line}`);
    const value = Number(m[3] === '+Inf' ? Infinity : m[3]);
    if (Number.isNaN(value) && m[3] !== 'NaN') throw new Error(`bad value: ${line}`);
    samples.set(`${m[1]}${m[2] ?? ''}`, value);
  }
  return samples;
}

/** Sum of the samples of `name` whose labels include every given label (order-insensitive). */
function sum(samples: Samples, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  let found = false;
  for (const [key, v] of samples) {
    const brace = key.indexOf('{');
    if ((brace < 0 ? key : key.slice(0, brace)) !== name) continue;
    const text = brace < 0 ? '' : key.slice(brace);
    if (Object.entries(labels).every(([k, val]) => text.includes(`${k}="${val}"`))) {
      total += v;
      found = true;
    }
  }
  return found ? total : NaN;
}

/**
 * GET /metrics, on the gateway's port (behind an operator token: that port faces partners) and on
 * the processor's health port, end to end.
 */
describe('metrics and logs', () => {
  let sys: RunningSystem;
  let ids: Awaited<ReturnType<typeof seedCatalog>>;
  const N = 3;
  const eventIds: string[] = [];
  const signature = (h: Record<string, string>) => h['x-postback-signature']!;
  const sentSignatures: string[] = [];
  const scrape = async (base: string) => {
    const r = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(r.status).toBe(200);
    return { contentType: r.headers.get('content-type'), text: await r.text() };
  };

  beforeAll(async () => {
    sys = await startSystem('metrics', {
      env: {
        METRICS_REFRESH_MS: '300',
        LOG_LEVEL: 'debug',
        LOG_FORMAT: 'json',
        // The one retried postback stays parked for the whole test: one retry scheduled, at attempt 1.
        RETRY_DELAYS_MS: '600000',
      },
    });
    ids = await seedCatalog(sys, 'm');
    await sys.db.ds.query(`UPDATE offers SET daily_cap = 100, updated_at = now() WHERE id = $1`, [ids.offer]);
    // The processor picks catalog changes up within CATALOG_REFRESH_MS (200 ms in tests).
    await new Promise((r) => setTimeout(r, 1500));

    for (let i = 0; i < N; i++) {
      const click = await fetch(`${sys.gatewayUrl}/v1/clicks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ offer_id: ids.offer, publisher_id: ids.publisher, sub1: 'src-1' }),
      });
      expect(click.status).toBe(201);
      const { click_id } = (await click.json()) as { click_id: string };
      const pb = signedPostbackUrl(sys.gatewayUrl, ids.partner, ids.secret, {
        click_id,
        transaction_id: `tx-m-${i}`,
        status: 'approved',
      });
      sentSignatures.push(signature(pb.headers));
      // The click must be stored before its postback is decided, or the postback waits for a retry.
      await poll(
        'click stored',
        async () => (await sys.db.ds.query(`SELECT 1 FROM clicks WHERE click_id = $1`, [click_id]))[0],
      );
      const r = await fetch(pb.url, { headers: pb.headers });
      expect(r.status).toBe(200);
      eventIds.push(((await r.json()) as { id: string }).id);
    }

    // A click id minted now that no click has: not visible yet, so a retry is scheduled.
    const early = signedPostbackUrl(sys.gatewayUrl, ids.partner, ids.secret, {
      click_id: ulid(),
      transaction_id: 'tx-m-early',
      status: 'approved',
    });
    sentSignatures.push(signature(early.headers));
    expect((await fetch(early.url, { headers: early.headers })).status).toBe(200);

    // Refused: a wrong secret (bad_signature) and a partner the catalog does not know.
    const forged = signedPostbackUrl(sys.gatewayUrl, ids.partner, 'not-the-secret-0123456789', {
      click_id: ulid(),
      transaction_id: 'tx-m-forged',
      status: 'approved',
    });
    sentSignatures.push(signature(forged.headers));
    expect((await fetch(forged.url, { headers: forged.headers })).status).toBe(401);
    const stranger = signedPostbackUrl(sys.gatewayUrl, 'nobody-xyz', ids.secret, {
      click_id: ulid(),
      transaction_id: 'tx-m-stranger',
      status: 'approved',
    });
    expect((await fetch(stranger.url, { headers: stranger.headers })).status).toBe(403);

    // One message no worker can ever decode: dead-lettered.
    const producer = new Kafka({ brokers: TEST_BROKERS, logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    await producer.send({
      topic: `${sys.prefix}postbacks.received`,
      acks: -1,
      messages: [{ key: 'k', value: 'not json' }],
    });
    await producer.disconnect();
  });
  afterAll(async () => {
    await sys?.stop();
  });

  it('the gateway exposes its partner traffic, HTTP, Kafka, pool and process metrics', async () => {
    const { contentType, text } = await scrape(sys.gatewayUrl);
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const s = parseExposition(text);
    const gw = { app: 'gateway' };
    expect(sum(s, 'postbacks_accepted_total', { ...gw, partner_id: ids.partner })).toBe(N + 1);
    expect(sum(s, 'postbacks_refused_total', { partner_id: ids.partner, reason: 'bad_signature' })).toBe(1);
    expect(sum(s, 'postbacks_refused_total', { partner_id: '_unknown', reason: 'unknown_partner' })).toBe(1);
    // Ids a caller made up never become label values.
    expect(text).not.toContain('nobody-xyz');
    expect(sum(s, 'clicks_recorded_total', { offer_id: ids.offer })).toBe(N);
    expect(
      sum(s, 'http_request_duration_seconds_count', {
        method: 'GET',
        route: '/v1/postbacks/:partnerId',
        status_class: '2xx',
      }),
    ).toBe(N + 1);
    expect(
      sum(s, 'http_request_duration_seconds_count', {
        route: '/v1/postbacks/:partnerId',
        status_class: '4xx',
      }),
    ).toBe(2);
    expect(sum(s, 'kafka_produced_messages_total', { topic: `${sys.prefix}postbacks.received` })).toBe(N + 1);
    expect(sum(s, 'kafka_produce_duration_seconds_count', { result: 'ok' })).toBeGreaterThan(0);
    expect(sum(s, 'kafka_produce_errors_total')).toBeNaN(); // no failed produce: no series yet
    expect(sum(s, 'db_pool_connections', { state: 'total' })).toBeGreaterThan(0);
    expect(sum(s, 'db_pool_waiting_clients')).toBe(0);
    expect(sum(s, 'process_cpu_seconds_total', gw)).toBeGreaterThan(0);
    expect(sum(s, 'nodejs_eventloop_lag_seconds', gw)).toBeGreaterThanOrEqual(0);
  });

  it('the processor exposes decisions, retries, ledger, lag, outbox, caps and dead letters', async () => {
    const proc = { app: 'processor' };
    const s = await poll(
      'processor metrics caught up',
      async () => {
        const m = parseExposition((await scrape(sys.processorUrl)).text);
        const lag = sum(m, 'kafka_consumer_lag', { topic: `${sys.prefix}postbacks.received` });
        return sum(m, 'ledger_entries_published_total', { entry_type: 'approved' }) === N &&
          lag === 0 &&
          sum(m, 'ledger_outbox_depth') === 0 &&
          sum(m, 'projection_queue_depth') === 0 &&
          sum(m, 'offer_daily_conversions', { offer_id: ids.offer }) === N
          ? m
          : undefined;
      },
      30000,
      300,
    );
    const { contentType } = await scrape(sys.processorUrl);
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(
      sum(s, 'postback_decisions_total', {
        ...proc,
        partner_id: ids.partner,
        outcome: 'accepted',
        reason: 'none',
      }),
    ).toBe(N);
    expect(
      sum(s, 'postback_decisions_total', { outcome: 'retry_scheduled', reason: 'click_not_found_yet' }),
    ).toBe(1);
    expect(sum(s, 'postback_retries_scheduled_total', { attempt: '1' })).toBe(1);
    expect(sum(s, 'ledger_entries_published_total', { entry_type: 'approved' })).toBe(N);
    // One processor, holding the relay role before the first postback: every entry it published
    // went out as its writer rendered it, kept in memory, none rendered again from its row.
    expect(sum(s, 'ledger_relay_messages_total', { source: 'memory' })).toBe(
      sum(s, 'ledger_entries_published_total'),
    );
    expect(sum(s, 'ledger_relay_messages_total', { source: 'entry_row' })).toBeNaN(); // no series
    // Its projector, likewise, took each entry and each accepted postback's outcome as its writers
    // handed them over, without reading them back.
    expect(sum(s, 'read_model_items_projected_total', { source: 'memory' })).toBeGreaterThanOrEqual(2 * N);
    // The sizer's current size: within its bounds (how far it moved depends on the box's speed).
    const size = sum(s, 'postback_decision_transaction_size', proc);
    expect(size).toBeGreaterThanOrEqual(50);
    expect(size).toBeLessThanOrEqual(500);
    expect(sum(s, 'kafka_dead_letters_published_total', { source_topic: 'postbacks.received' })).toBe(1);
    expect(sum(s, 'kafka_consumer_batch_size_count', { handler: 'postbacks.received' })).toBeGreaterThan(0);
    expect(sum(s, 'kafka_consumer_batch_size_sum', { handler: 'postbacks.received' })).toBe(N + 2);
    expect(
      sum(s, 'kafka_consumer_batch_duration_seconds_count', { handler: 'clicks.recorded', result: 'ok' }),
    ).toBeGreaterThan(0);
    expect(sum(s, 'kafka_consumer_lag', { topic: `${sys.prefix}clicks.recorded` })).toBe(0);
    expect(sum(s, 'offer_cap_usage_ratio', { offer_id: ids.offer, cap: 'conversions' })).toBeCloseTo(N / 100);
    expect(sum(s, 'ledger_outbox_oldest_age_seconds')).toBe(0);
    expect(sum(s, 'db_pool_connections', { ...proc, state: 'total' })).toBeGreaterThan(0);
    expect(sum(s, 'kafka_produced_messages_total', { topic: `${sys.prefix}conversions.ledger` })).toBe(N);
    expect(sum(s, 'process_resident_memory_bytes', proc)).toBeGreaterThan(0);
    expect(sum(s, 'kafka_consumer_lag_refresh_errors_total')).toBe(0);
    expect(sum(s, 'ledger_gauges_refresh_errors_total')).toBe(0);
    expect(sys.processor.logs()).not.toContain('refresh failed');
  });

  it('one grep of a correlation id over both apps finds the postback, its decision and its ledger entry', async () => {
    const lines = (log: string) =>
      log
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { level: string; context?: string; message: unknown });
    const id = eventIds[0]!;
    const found = await poll('decision and publish logged', async () => {
      const all = [...lines(sys.gateway.logs()), ...lines(sys.processor.logs())].filter((l) =>
        JSON.stringify(l).includes(id),
      );
      return all.length >= 3 ? all : undefined;
    });
    const messages = found.map((l) => l.message as Record<string, unknown>);
    expect(messages.map((m) => m.msg).sort()).toEqual([
      'ledger entry published',
      'postback accepted',
      'postback decided',
    ]);
    for (const m of messages) expect(m.correlation_id).toBe(id);
    const decided = messages.find((m) => m.msg === 'postback decided')!;
    const published = messages.find((m) => m.msg === 'ledger entry published')!;
    expect(decided.entry_id).toBe(published.entry_id);
    expect(published.entry_type).toBe('approved');
  });

  it('never logs a secret, a token or a signature', () => {
    const logs = sys.gateway.logs() + sys.processor.logs();
    expect(logs).toContain('postback refused');
    expect(logs).not.toContain(ids.secret);
    for (const sig of sentSignatures) expect(logs).not.toContain(sig.slice(3, 19));
    expect(logs).not.toContain('test-admin-token');
  });
});

import { httpJson, poll, signedPostbackUrl } from '@app/testing';
import { type RunningSystem, seedCatalog, startSystem } from './support';

describe('walking skeleton: gateway -> Kafka -> processor -> Postgres', () => {
  let sys: RunningSystem;
  let ids: Awaited<ReturnType<typeof seedCatalog>>;
  beforeAll(async () => {
    sys = await startSystem('skeleton');
    ids = await seedCatalog(sys);
  });
  afterAll(async () => {
    await sys?.stop();
  });

  const postClick = (body: unknown) =>
    httpJson(`${sys.gatewayUrl}/v1/clicks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('stores a click and its signed postback in Postgres', async () => {
    const click = await postClick({
      offer_id: ids.offer,
      publisher_id: ids.publisher,
      sub1: 'src-a',
      placement: 'wall-top',
      geo: 'us',
      device: 'mobile',
    });
    expect(click.status).toBe(201);
    const clickId = (click.body as { click_id: string }).click_id;
    expect(clickId).toMatch(/^[0-7][0-9A-HJKMNP-TV-Z]{25}$/);

    const s = signedPostbackUrl(sys.gatewayUrl, ids.partner, ids.secret, {
      clickid: clickId,
      txid: 'tx-1',
      status: '1',
      payout: '1.25',
      currency: 'usd',
      goal: 'install',
    });
    const pb = await httpJson(s.url, { headers: s.headers });
    expect(pb.status).toBe(200);

    const row = await poll(
      'click row',
      async () => (await sys.db.ds.query('SELECT * FROM clicks WHERE click_id = $1', [clickId]))[0],
    );
    expect(row).toMatchObject({
      offer_id: ids.offer,
      publisher_id: ids.publisher,
      sub1: 'src-a',
      placement: 'wall-top',
      geo: 'US',
      device: 'mobile',
    });
    const p = await poll(
      'postback row',
      async () => (await sys.db.ds.query('SELECT * FROM postbacks WHERE transaction_id = $1', ['tx-1']))[0],
    );
    expect(p).toMatchObject({
      partner_id: ids.partner,
      click_id: clickId,
      status: 'approved',
      payout_micros: '1250000',
      currency: 'USD',
      event: 'install',
    });
    const cp = await sys.db.ds.query(
      `SELECT sum(next_offset)::int AS n FROM projection_checkpoints WHERE projection = 'click-store'`,
    );
    expect(cp[0].n).toBe(1);
  });

  it('refuses a malformed click with 400 naming the field and stores nothing', async () => {
    const before = (await sys.db.ds.query('SELECT count(*)::int AS n FROM clicks'))[0].n;
    const r = await postClick({ offer_id: 5, publisher_id: [] });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: { code: 'invalid_field', field: 'offer_id' } });
    const bad = await postClick('{nope');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: { code: 'invalid_body' } });
    // A good click sent after them is stored; the refused ones never are.
    const ok = await postClick({ offer_id: ids.offer, publisher_id: ids.publisher });
    const id = (ok.body as { click_id: string }).click_id;
    await poll(
      'good click',
      async () => (await sys.db.ds.query('SELECT 1 FROM clicks WHERE click_id = $1', [id]))[0],
    );
    expect((await sys.db.ds.query('SELECT count(*)::int AS n FROM clicks'))[0].n).toBe(before + 1);
  });

  it('reports readiness per dependency', async () => {
    const g = await httpJson(`${sys.gatewayUrl}/health/ready`);
    expect(g).toMatchObject({
      status: 200,
      body: {
        status: 'ready',
        checks: { kafka: { ok: true }, kafka_producer: { ok: true }, catalog: { ok: true } },
      },
    });
    const p = await httpJson(`${sys.processorUrl}/health/ready`);
    expect(p).toMatchObject({
      status: 200,
      body: {
        status: 'ready',
        checks: { kafka: { ok: true }, kafka_consumer: { ok: true }, postgres: { ok: true } },
      },
    });
    expect((await httpJson(`${sys.gatewayUrl}/health/live`)).status).toBe(200);
  });
});

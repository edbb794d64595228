import { httpJson, poll } from '@app/testing';
import { type RunningSystem, startSystem } from './support';

describe('walking skeleton: gateway -> Kafka -> processor -> Postgres', () => {
  let sys: RunningSystem;
  beforeAll(async () => {
    sys = await startSystem('skeleton');
  });
  afterAll(async () => {
    await sys?.stop();
  });

  it('stores a click and its postback in Postgres', async () => {
    const click = await httpJson(`${sys.gatewayUrl}/v1/clicks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        offer_id: 'offer-1',
        publisher_id: 'pub-1',
        sub1: 'src-a',
        placement: 'wall-top',
        geo: 'us',
        device: 'mobile',
      }),
    });
    expect(click.status).toBe(201);
    const clickId = (click.body as { click_id: string }).click_id;
    expect(clickId).toMatch(/^[0-7][0-9A-HJKMNP-TV-Z]{25}$/);

    const pb = await httpJson(
      `${sys.gatewayUrl}/v1/postbacks/partner-1?clickid=${clickId}&txid=tx-1&status=1&payout=1.25&currency=usd&goal=install`,
    );
    expect(pb.status).toBe(200);

    const row = await poll(
      'click row',
      async () => (await sys.db.ds.query('SELECT * FROM clicks WHERE click_id = $1', [clickId]))[0],
    );
    expect(row).toMatchObject({
      offer_id: 'offer-1',
      publisher_id: 'pub-1',
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
      partner_id: 'partner-1',
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
    const r = await httpJson(`${sys.gatewayUrl}/v1/clicks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ offer_id: 5, publisher_id: [] }),
    });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: { code: 'invalid_field', field: 'offer_id' } });
    const bad = await httpJson(`${sys.gatewayUrl}/v1/clicks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{nope',
    });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: { code: 'invalid_body' } });
    // A good click sent after them is stored; the refused ones never are.
    const ok = await httpJson(`${sys.gatewayUrl}/v1/clicks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ offer_id: 'offer-1', publisher_id: 'pub-1' }),
    });
    const id = (ok.body as { click_id: string }).click_id;
    await poll(
      'good click',
      async () => (await sys.db.ds.query('SELECT 1 FROM clicks WHERE click_id = $1', [id]))[0],
    );
    expect((await sys.db.ds.query('SELECT count(*)::int AS n FROM clicks'))[0].n).toBe(before + 1);
  });

  it('refuses a postback with a bad payout, naming the field', async () => {
    const r = await httpJson(
      `${sys.gatewayUrl}/v1/postbacks/partner-1?click_id=x&transaction_id=t&status=approved&payout=1e3`,
    );
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: { field: 'payout' } });
  });

  it('reports readiness per dependency', async () => {
    const g = await httpJson(`${sys.gatewayUrl}/health/ready`);
    expect(g).toMatchObject({
      status: 200,
      body: { status: 'ready', checks: { kafka: { ok: true }, kafka_producer: { ok: true } } },
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

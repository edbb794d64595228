import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signingPayload, verifySignature } from '@app/domain';
import {
  type AppProcess,
  clickEvent,
  freePort,
  poll,
  postbackEvent,
  produceEvents,
  seedOffer,
  spawnApp,
  waitReady,
} from '@app/testing';
import { type RunningSystem, startSystem } from './support';

/**
 * A wall's postback as walls want it (issue 16): the wall macros and an HMAC-SHA1 over the URL,
 * sent by the real notifier for a conversion the real processor approved, checked by a receiver
 * that verifies the hash the way the wall does: over the URL it received, minus `&sig=...`.
 */
describe('publisher postbacks as walls send them', () => {
  let sys: RunningSystem;
  let notifier: AppProcess;
  let server: Server;
  let port = 0;
  const received: { url: string; headers: Record<string, string | string[] | undefined> }[] = [];
  const PUBLISHER = 'pub-wall';
  const SECRET = 'pub-wall-signing-secret-0123456789abcdef';
  // The wall's documented HMAC-SHA1 key (issue 16).
  const WALL_KEY = 'JLOIAUNMHFli7ZJOQVEzm98rzqnm9';
  const topic = (t: string) => `${sys.prefix}${t}`;

  beforeAll(async () => {
    server = createServer((req, res) => {
      // What the wall's server sees: its Host header and the request target.
      received.push({ url: `http://${req.headers.host}${req.url}`, headers: req.headers });
      res.writeHead(200).end('1');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    sys = await startSystem('wallm', { env: { PUBLISHER_URL_ALLOW: '127.0.0.1' } });
    const healthPort = await freePort();
    notifier = spawnApp('notifier', {
      DATABASE_URL: sys.db.url,
      KAFKA_BROKERS: process.env.KAFKA_BROKERS || '127.0.0.1:9092',
      TOPIC_PREFIX: sys.prefix,
      HEALTH_PORT: String(healthPort),
      LOG_LEVEL: 'log',
      DELIVERY_POLL_MS: '100',
      PUBLISHER_URL_ALLOW: '127.0.0.1',
    });
    await waitReady(notifier, `http://127.0.0.1:${healthPort}/health/ready`);
    await seedOffer(sys.db.ds, { id: 'o-wall', payout: '1450000', currency: 'USD' });
    expect((await sys.admin('POST', '/v1/admin/publishers', { id: PUBLISHER, name: 'Wall' })).status).toBe(
      201,
    );
  });

  afterAll(async () => {
    await notifier?.stop('SIGKILL');
    await sys?.stop();
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
  });

  it('configures hmac-sha1-url without fields, and answers 400 naming what does not fit', async () => {
    const url = `http://127.0.0.1:${port}/complete?uid={uid}&user={user_id}&payout={payout}&revenue={revenue}&share={revenue_share}&val={reward}&rc={reward_currency}&cur={currency}&click={click_id}&status={status}`;
    const withFields = await sys.admin('PUT', `/v1/admin/publishers/${PUBLISHER}/postback`, {
      url,
      secret: SECRET,
      legacy_hash: { algorithm: 'hmac-sha1-url', param: 'sig', fields: ['click_id'], secret: WALL_KEY },
    });
    expect(withFields.status).toBe(400);
    expect(withFields.body.error).toMatchObject({
      field: 'legacy_hash.fields',
      message: 'fields: hmac-sha1-url signs the whole URL; give no fields',
    });
    const sha1WithoutFields = await sys.admin('PUT', `/v1/admin/publishers/${PUBLISHER}/postback`, {
      url,
      secret: SECRET,
      legacy_hash: { algorithm: 'sha1', param: 'sig', secret: WALL_KEY },
    });
    expect(sha1WithoutFields.status).toBe(400);
    expect(sha1WithoutFields.body.error.field).toBe('legacy_hash.fields');

    const put = await sys.admin('PUT', `/v1/admin/publishers/${PUBLISHER}/postback`, {
      url,
      secret: SECRET,
      legacy_hash: { algorithm: 'hmac-sha1-url', param: 'sig', secret: WALL_KEY },
    });
    expect(put.status).toBe(200);
    expect(put.body.legacy_hash).toEqual({
      algorithm: 'hmac-sha1-url',
      param: 'sig',
      fields: [],
      separator: '',
      secret_configured: true,
    });
    expect(JSON.stringify(put.body)).not.toContain(WALL_KEY);
  });

  it('delivers an approval with the wall macros and a URL hash the wall can check', async () => {
    // The publisher earns 60 % and its users 100 coins per unit of payout, from now on.
    await sys.db.ds.query(
      `INSERT INTO payout_rules (offer_id, kind, share_bp, effective_from) VALUES ('o-wall', 'share', 6000, now())`,
    );
    await sys.db.ds.query(
      `INSERT INTO reward_rules (publisher_id, currency_name, units_per_unit_micros, rounding, minimum, effective_from)
       VALUES ($1, 'coins', 100000000, 'floor', 1, now())`,
      [PUBLISHER],
    );
    const click = clickEvent('o-wall', PUBLISHER, new Date(), { user_id: 'wall-user-7' });
    await produceEvents(topic('clicks.recorded'), [click]);
    await poll(
      'click stored',
      async () => (await sys.db.ds.query(`SELECT 1 FROM clicks WHERE click_id = $1`, [click.id]))[0],
    );
    await produceEvents(topic('postbacks.received'), [
      postbackEvent('partner-wall', click.id, 'tx-wall-1', 'approved'),
    ]);
    const call = await poll('the wall called', async () => received[0], 60000);

    // The wall's check: HMAC-SHA1(key, the URL it received up to `&sig=`).
    const at = call.url.lastIndexOf('&sig=');
    expect(at).toBeGreaterThan(0);
    const signed = call.url.slice(0, at);
    expect(call.url.slice(at + '&sig='.length)).toBe(
      createHmac('sha1', WALL_KEY).update(signed, 'utf8').digest('hex'),
    );

    const q = new URL(call.url).searchParams;
    // The publisher is told its own payout (60 % of 1.45), the revenue, the share, its user's
    // reward (87 coins) and the user id from the click.
    expect(Object.fromEntries(q)).toMatchObject({
      payout: '0.87',
      revenue: '1.45',
      share: '60',
      cur: 'USD',
      click: click.id,
      status: 'approved',
      uid: 'wall-user-7',
      user: 'wall-user-7',
      val: '87',
      rc: 'coins',
    });
    // The signature headers still cover every parameter, the hash included.
    expect(
      verifySignature({
        secrets: [SECRET],
        timestamp: call.headers['x-postback-timestamp'] as string,
        signature: call.headers['x-postback-signature'] as string,
        payload: signingPayload(call.url),
        nowSeconds: Date.now() / 1000,
        toleranceSeconds: 60,
      }),
    ).toEqual({ ok: true });

    // The attempt log keeps the URL without the hash.
    const [attempt] = await poll('attempt logged', async () => {
      const rows = (await sys.db.ds.query(
        `SELECT url, outcome FROM publisher_delivery_attempts WHERE publisher_id = $1`,
        [PUBLISHER],
      )) as { url: string; outcome: string }[];
      return rows.length ? rows : undefined;
    });
    expect(attempt!.outcome).toBe('delivered');
    expect(attempt!.url).not.toContain(call.url.slice(at + '&sig='.length));
  });
});

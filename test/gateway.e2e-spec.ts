import { signatureHeader } from '@app/domain';
import {
  httpJson,
  poll,
  readTopic,
  signedPostbackUrl,
  spawnApp,
  freePort,
  topicMessageCount,
  waitReady,
} from '@app/testing';
import { ADMIN_TOKEN, type RunningSystem, seedCatalog, startSystem } from './support';

/** The gateway contract (PRODUCT.md, gateway issue) over real Kafka and Postgres. */
describe('gateway', () => {
  let sys: RunningSystem;
  let ids: Awaited<ReturnType<typeof seedCatalog>>;
  beforeAll(async () => {
    sys = await startSystem('gateway');
    ids = await seedCatalog(sys);
  });
  afterAll(async () => {
    await sys?.stop();
  });

  const click = async (extra: Record<string, unknown> = {}): Promise<{ status: number; body: any }> => {
    const r = await httpJson(`${sys.gatewayUrl}/v1/clicks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ offer_id: ids.offer, publisher_id: ids.publisher, ...extra }),
    });
    return r;
  };
  const signedGet = async (
    partner: string,
    secret: string,
    params: Record<string, string>,
    ts?: number,
  ): Promise<{ status: number; body: any; headers: Headers }> => {
    const s = signedPostbackUrl(sys.gatewayUrl, partner, secret, params, ts);
    return httpJson(s.url, { headers: s.headers });
  };
  const base = (tx: string) => ({
    click_id: '01ARZ3NDEKTSV4RRFFQ69G5FAV',
    transaction_id: tx,
    status: 'approved',
  });

  describe('admin API', () => {
    it('refuses calls without the bearer token', async () => {
      const r = await httpJson(`${sys.gatewayUrl}/v1/admin/offers`, {
        method: 'POST',
        body: '{}',
        headers: { 'content-type': 'application/json' },
      });
      expect(r.status).toBe(401);
      const wrong = await httpJson(`${sys.gatewayUrl}/v1/admin/offers`, {
        headers: { authorization: 'Bearer nope' },
      });
      expect(wrong.status).toBe(401);
    });

    it('creates, reads, updates, pauses and resumes an offer; duplicates are 409', async () => {
      const created = await sys.admin('POST', '/v1/admin/offers', {
        id: 'offer-crud',
        name: 'CRUD',
        landing_url: 'https://adv.example/?c={click_id}',
        payout: '2.50',
        currency: 'EUR',
        allowed_geos: ['DE'],
        daily_cap: 100,
        goals: ['install', 'purchase'],
      });
      expect(created).toMatchObject({
        status: 201,
        body: {
          id: 'offer-crud',
          payout: '2.5',
          currency: 'EUR',
          status: 'active',
          goals: ['install', 'purchase'],
        },
      });
      const dup = await sys.admin('POST', '/v1/admin/offers', {
        id: 'offer-crud',
        name: 'again',
        landing_url: 'https://adv.example/',
        payout: '1',
        currency: 'USD',
      });
      expect(dup).toMatchObject({ status: 409, body: { error: { code: 'offer_exists', field: 'id' } } });
      const patched = await sys.admin('PATCH', '/v1/admin/offers/offer-crud', {
        payout: '3.000001',
        daily_cap: null,
      });
      expect(patched.body).toMatchObject({ payout: '3.000001', daily_cap: null, currency: 'EUR' });
      expect((await sys.admin('POST', '/v1/admin/offers/offer-crud/pause')).body.status).toBe('paused');
      const r = await httpJson(`${sys.gatewayUrl}/v1/clicks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ offer_id: 'offer-crud', publisher_id: ids.publisher }),
      });
      expect(r).toMatchObject({ status: 404, body: { error: { code: 'unknown_offer', field: 'offer_id' } } });
      expect((await sys.admin('POST', '/v1/admin/offers/offer-crud/resume')).body.status).toBe('active');
      expect((await sys.admin('GET', '/v1/admin/offers/offer-crud')).body.status).toBe('active');
      expect((await sys.admin('GET', '/v1/admin/offers/nope')).status).toBe(404);
    });

    it.each([
      [{ payout: '1e3' }, 'payout'],
      [{ payout: '-1' }, 'payout'],
      [{ currency: 'XXZ' }, 'currency'],
      [{ landing_url: 'javascript:alert(1)' }, 'landing_url'],
      [{ landing_url: 'https://user:pw@adv.example/' }, 'landing_url'],
      [{ allowed_geos: ['usa'] }, 'allowed_geos'],
      [{ id: 'has space' }, 'id'],
      [{ surprise: 1 }, 'surprise'],
    ])('refuses a bad offer %j with 400 naming %s', async (patch, field) => {
      const good = {
        id: `offer-bad-${field}`,
        name: 'x',
        landing_url: 'https://a.example/',
        payout: '1',
        currency: 'USD',
      };
      const r = await sys.admin('POST', '/v1/admin/offers', { ...good, ...patch });
      expect(r.status).toBe(400);
      expect(r.body.error.field).toBe(field);
    });

    it('never returns partner secrets or tokens', async () => {
      const secret = 'very-secret-value-123456-abcdef0123456789';
      const token = 'legacy-token-value-123456';
      const r = await sys.admin('POST', '/v1/admin/partners', {
        id: 'p-secret',
        name: 'S',
        auth: { mode: ['hmac', 'token'], secret, token },
      });
      expect(r.status).toBe(201);
      for (const body of [
        r.body,
        (await sys.admin('GET', '/v1/admin/partners/p-secret')).body,
        (await sys.admin('GET', '/v1/admin/partners')).body,
      ]) {
        const text = JSON.stringify(body);
        expect(text).not.toContain(secret);
        expect(text).not.toContain(token);
      }
      expect(r.body.auth).toMatchObject({
        modes: ['hmac', 'token'],
        secrets_configured: 1,
        token_configured: true,
      });
      expect(sys.gateway.logs()).not.toContain(secret);
    });

    it('refuses a partner whose mode lacks its credential', async () => {
      const r = await sys.admin('POST', '/v1/admin/partners', {
        id: 'p-nosecret',
        name: 'N',
        auth: { mode: 'hmac' },
      });
      expect(r).toMatchObject({ status: 400, body: { error: { field: 'auth.secret' } } });
      const ips = await sys.admin('POST', '/v1/admin/partners', {
        id: 'p-badip',
        name: 'N',
        auth: { mode: 'ip', ips: ['300.1.1.1'] },
      });
      expect(ips).toMatchObject({ status: 400, body: { error: { field: 'auth.ips' } } });
    });

    it('reaches another gateway instance without a restart', async () => {
      const port = await freePort();
      const other = spawnApp('gateway', {
        DATABASE_URL: sys.db.url,
        TOPIC_PREFIX: sys.prefix,
        KAFKA_BROKERS: process.env.KAFKA_BROKERS || '127.0.0.1:9092',
        PORT: String(port),
        ADMIN_TOKEN,
        CATALOG_REFRESH_MS: '200',
      });
      try {
        await waitReady(other, `http://127.0.0.1:${port}/health/ready`);
        await sys.admin('POST', '/v1/admin/partners', {
          id: 'p-late',
          name: 'Late',
          auth: { mode: 'hmac', secret: 'late-secret-0123456789-abcdef0123456789' },
        });
        const s = signedPostbackUrl(
          `http://127.0.0.1:${port}`,
          'p-late',
          'late-secret-0123456789-abcdef0123456789',
          base('tx-late'),
        );
        const r = await poll(
          'partner visible on the other instance',
          async () => {
            const res = await httpJson(s.url, { headers: s.headers });
            return res.status === 200 ? res : undefined;
          },
          10000,
        );
        expect(r.status).toBe(200);
      } finally {
        await other.stop();
      }
    });
  });

  describe('clicks', () => {
    it('redirects with macros filled and percent-encoded, and ignores unknown link parameters', async () => {
      const r = await fetch(
        `${sys.gatewayUrl}/c/${ids.offer}?pub=${ids.publisher}&sub1=a%20b%26c&utm_source=x&geo=de`,
        { redirect: 'manual' },
      );
      expect(r.status).toBe(302);
      const loc = r.headers.get('location')!;
      const m = /^https:\/\/adv\.example\/land\?c=([0-9A-Z]{26})&p=(.+)&s=(.+)$/.exec(loc);
      expect(m?.[2]).toBe(ids.publisher);
      expect(m?.[3]).toBe('a%20b%26c');
      const row = await poll(
        'redirect click stored',
        async () => (await sys.db.ds.query('SELECT * FROM clicks WHERE click_id = $1', [m![1]]))[0],
      );
      expect(row).toMatchObject({ sub1: 'a b&c', geo: 'DE' });
    });

    it('answers 404 JSON for an unknown offer or publisher and publishes nothing', async () => {
      const before = await topicMessageCount(`${sys.prefix}clicks.recorded`);
      const a = await httpJson(`${sys.gatewayUrl}/c/no-such-offer?pub=${ids.publisher}`, {
        redirect: 'manual',
      });
      expect(a).toMatchObject({ status: 404, body: { error: { code: 'unknown_offer' } } });
      const b = await click({ publisher_id: 'nobody' });
      expect(b).toMatchObject({
        status: 404,
        body: { error: { code: 'unknown_publisher', field: 'publisher_id' } },
      });
      const c = await httpJson(`${sys.gatewayUrl}/c/${ids.offer}`, { redirect: 'manual' });
      expect(c).toMatchObject({ status: 400, body: { error: { field: 'publisher_id' } } });
      expect(await topicMessageCount(`${sys.prefix}clicks.recorded`)).toBe(before);
    });

    it('derives the device class from the user agent when not given', async () => {
      const r = await click({
        user_agent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148',
      });
      const id = r.body.click_id as string;
      const row = await poll(
        'click',
        async () => (await sys.db.ds.query('SELECT device FROM clicks WHERE click_id = $1', [id]))[0],
      );
      expect(row.device).toBe('mobile');
    });
  });

  describe('postback auth', () => {
    it('accepts signatures in headers or in ts/sig parameters, and either secret during a rotation', async () => {
      await sys.admin('POST', '/v1/admin/partners', {
        id: 'p-rot',
        name: 'Rotating',
        auth: {
          mode: 'hmac',
          secrets: ['old-secret-0123456789-abcdef0123456789', 'new-secret-0123456789-abcdef0123456789'],
        },
      });
      expect((await signedGet('p-rot', 'old-secret-0123456789-abcdef0123456789', base('tx-r1'))).status).toBe(
        200,
      );
      expect((await signedGet('p-rot', 'new-secret-0123456789-abcdef0123456789', base('tx-r2'))).status).toBe(
        200,
      );
      expect((await signedGet('p-rot', 'other-secret-0123456789', base('tx-r3'))).status).toBe(401);
      const ts = Math.floor(Date.now() / 1000);
      const canonical = `click_id=01ARZ3NDEKTSV4RRFFQ69G5FAV&status=approved&transaction_id=tx-r4`;
      const sig = signatureHeader('new-secret-0123456789-abcdef0123456789', ts, canonical).slice(3);
      const r = await httpJson(`${sys.gatewayUrl}/v1/postbacks/p-rot?${canonical}&ts=${ts}&sig=${sig}`);
      expect(r.status).toBe(200);
    });

    it('refuses stale and future timestamps, and tampered parameters', async () => {
      const old = Math.floor(Date.now() / 1000) - 301;
      expect((await signedGet(ids.partner, ids.secret, base('tx-s1'), old)).body.error.code).toBe(
        'stale_timestamp',
      );
      expect((await signedGet(ids.partner, ids.secret, base('tx-s2'), old + 700)).status).toBe(401);
      const s = signedPostbackUrl(sys.gatewayUrl, ids.partner, ids.secret, { ...base('tx-s3'), payout: '1' });
      const tampered = await httpJson(s.url.replace('payout=1', 'payout=100'), { headers: s.headers });
      expect(tampered).toMatchObject({ status: 401, body: { error: { code: 'bad_signature' } } });
    });

    it('verifies POST JSON and form bodies over the raw bytes', async () => {
      const ts = Math.floor(Date.now() / 1000);
      const json = JSON.stringify(base('tx-p1'));
      const r1 = await httpJson(`${sys.gatewayUrl}/v1/postbacks/${ids.partner}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-postback-timestamp': String(ts),
          'x-postback-signature': signatureHeader(ids.secret, ts, json),
        },
        body: json,
      });
      expect(r1.status).toBe(200);
      const form = 'clickid=01ARZ3NDEKTSV4RRFFQ69G5FAV&txid=tx-p2&status=2';
      const r2 = await httpJson(`${sys.gatewayUrl}/v1/postbacks/${ids.partner}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-postback-timestamp': String(ts),
          'x-postback-signature': signatureHeader(ids.secret, ts, form),
        },
        body: form,
      });
      expect(r2.status).toBe(200);
      const r3 = await httpJson(`${sys.gatewayUrl}/v1/postbacks/${ids.partner}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-postback-timestamp': String(ts),
          'x-postback-signature': signatureHeader(ids.secret, ts, json),
        },
        body: json.replace('approved', 'reversed'),
      });
      expect(r3.status).toBe(401);
    });

    it('supports legacy tokens and IP allowlists, combinable, and keeps credentials out of the event', async () => {
      await sys.admin('POST', '/v1/admin/partners', {
        id: 'p-token',
        name: 'T',
        auth: { mode: 'token', token: 'tok-0123456789abcdef', token_param: 'key' },
      });
      const ok = await httpJson(
        `${sys.gatewayUrl}/v1/postbacks/p-token?click_id=01ARZ3NDEKTSV4RRFFQ69G5FAV&transaction_id=tx-t1&status=approved&key=tok-0123456789abcdef`,
      );
      expect(ok.status).toBe(200);
      const bad = await httpJson(
        `${sys.gatewayUrl}/v1/postbacks/p-token?click_id=x&transaction_id=tx-t2&status=approved&key=nope`,
      );
      expect(bad).toMatchObject({ status: 401, body: { error: { code: 'bad_token' } } });
      const row = await poll(
        'token postback stored',
        async () => (await sys.db.ds.query(`SELECT extra FROM postbacks WHERE transaction_id = 'tx-t1'`))[0],
      );
      expect(JSON.stringify(row.extra)).not.toContain('tok-0123456789abcdef');

      await sys.admin('POST', '/v1/admin/partners', {
        id: 'p-ip-no',
        name: 'I',
        auth: { mode: 'ip', ips: ['10.0.0.0/8'] },
      });
      const no = await httpJson(
        `${sys.gatewayUrl}/v1/postbacks/p-ip-no?click_id=x&transaction_id=t&status=approved`,
      );
      expect(no).toMatchObject({ status: 403, body: { error: { code: 'ip_not_allowed' } } });
      // X-Forwarded-For is ignored unless the direct peer is a trusted proxy.
      const spoof = await httpJson(
        `${sys.gatewayUrl}/v1/postbacks/p-ip-no?click_id=x&transaction_id=t&status=approved`,
        { headers: { 'x-forwarded-for': '10.1.2.3' } },
      );
      expect(spoof.status).toBe(403);
      await sys.admin('POST', '/v1/admin/partners', {
        id: 'p-ip-hmac',
        name: 'IH',
        auth: {
          mode: ['ip', 'hmac'],
          ips: ['127.0.0.1/32', '::1'],
          secret: 'iphmac-secret-0123456789-abcdef0123456789',
        },
      });
      expect(
        (await signedGet('p-ip-hmac', 'iphmac-secret-0123456789-abcdef0123456789', base('tx-ih1'))).status,
      ).toBe(200);
      expect(
        (
          await httpJson(
            `${sys.gatewayUrl}/v1/postbacks/p-ip-hmac?click_id=x&transaction_id=t&status=approved`,
          )
        ).status,
      ).toBe(401);
    });

    it('applies the partner key dictionary and status map before validation', async () => {
      await sys.admin('POST', '/v1/admin/partners', {
        id: 'p-dict',
        name: 'D',
        auth: { mode: 'hmac', secret: 'dict-secret-0123456789-abcdef0123456789' },
        key_map: { click_id: ['s2'], transaction_id: ['conv'], payout: ['rev'] },
        status_map: { A: 'approved', R: 'reversed' },
      });
      const r = await signedGet('p-dict', 'dict-secret-0123456789-abcdef0123456789', {
        s2: '01ARZ3NDEKTSV4RRFFQ69G5FAV',
        conv: 'tx-d1',
        status: 'R',
        rev: '0.5',
      });
      expect(r.status).toBe(200);
      const row = await poll(
        'mapped postback',
        async () => (await sys.db.ds.query(`SELECT * FROM postbacks WHERE transaction_id = 'tx-d1'`))[0],
      );
      expect(row).toMatchObject({
        status: 'reversed',
        payout_micros: '500000',
        click_id: '01ARZ3NDEKTSV4RRFFQ69G5FAV',
      });
    });

    it("does not let forged requests spend a partner's rate", async () => {
      await sys.admin('POST', '/v1/admin/partners', {
        id: 'p-guarded',
        name: 'G',
        auth: { mode: 'hmac', secret: 'guarded-secret-0123456789-abcdef0123456789' },
        rate_limit_per_second: 3,
      });
      const forged = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          signedGet('p-guarded', 'not-the-secret-0123456789', base(`tx-forged-${i}`)),
        ),
      );
      expect(forged.every((r) => r.status === 401)).toBe(true);
      const real = await Promise.all(
        [0, 1, 2].map((i) =>
          signedGet('p-guarded', 'guarded-secret-0123456789-abcdef0123456789', base(`tx-real-${i}`)),
        ),
      );
      expect(real.map((r) => r.status)).toEqual([200, 200, 200]);
    });

    it('answers 403 for unknown and paused partners, and 429 over the rate with Retry-After', async () => {
      expect((await signedGet('nobody-here', 'x'.repeat(20), base('tx-u'))).body.error.code).toBe(
        'unknown_partner',
      );
      await sys.admin('POST', '/v1/admin/partners', {
        id: 'p-slow',
        name: 'S',
        auth: { mode: 'hmac', secret: 'slow-secret-0123456789-abcdef0123456789' },
        rate_limit_per_second: 3,
      });
      const answers = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          signedGet('p-slow', 'slow-secret-0123456789-abcdef0123456789', base(`tx-rl-${i}`)),
        ),
      );
      const limited = answers.filter((a) => a.status === 429);
      expect(answers.filter((a) => a.status === 200).length).toBeGreaterThanOrEqual(3);
      expect(limited.length).toBeGreaterThan(0);
      expect(limited[0]!.headers.get('retry-after')).toBe('1');
      await sys.admin('POST', '/v1/admin/partners/p-slow/pause');
      await new Promise((r) => setTimeout(r, 1100));
      expect(
        (await signedGet('p-slow', 'slow-secret-0123456789-abcdef0123456789', base('tx-paused'))).body.error
          .code,
      ).toBe('partner_paused');
    });

    it('records every refusal on postbacks.refused with its code, never the secret', async () => {
      await signedGet('ghost-partner', 'x'.repeat(20), base('tx-ghost'));
      await signedGet(ids.partner, 'wrong-secret-0123456789', base('tx-wrong'));
      const refused = (await readTopic(`${sys.prefix}postbacks.refused`, 1000, 5000)) as {
        payload: { partner_id: string; code: string };
      }[];
      const codes = refused.map((e) => `${e.payload.partner_id}:${e.payload.code}`);
      expect(codes).toContain('ghost-partner:unknown_partner');
      expect(codes).toContain(`${ids.partner}:bad_signature`);
      expect(JSON.stringify(refused)).not.toContain(ids.secret);
    });
  });

  describe('limits and docs', () => {
    it('answers 413 for a body over the limit and keeps serving', async () => {
      const r = await httpJson(`${sys.gatewayUrl}/v1/postbacks/${ids.partner}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: 'x'.repeat(1024 * 1024),
      });
      expect(r).toMatchObject({ status: 413, body: { error: { code: 'payload_too_large' } } });
      expect((await httpJson(`${sys.gatewayUrl}/health/live`)).status).toBe(200);
    });

    it('lets a client sending a too-large body hear the 413, never a reset connection', async () => {
      // Answering mid-upload made Node close the socket under the sender ("fetch failed" now and then).
      const outcomes: string[] = [];
      for (let i = 0; i < 15; i++) {
        try {
          const r = await fetch(`${sys.gatewayUrl}/v1/postbacks/${ids.partner}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: 'x'.repeat(5 * 1024 * 1024),
          });
          outcomes.push(String(r.status));
          await r.text();
        } catch (e) {
          outcomes.push(
            `error: ${(e as Error & { cause?: { code?: string } }).cause?.code ?? (e as Error).message}`,
          );
        }
      }
      expect(outcomes).toEqual(Array(15).fill('413'));
    });

    it('answers a URL over the header limit with 431 in its error shape and closes that connection', async () => {
      const big = `${sys.gatewayUrl}/v1/postbacks/${ids.partner}?click_id=${'a'.repeat(20_000)}`;
      const r = await fetch(big);
      expect(r.status).toBe(431);
      // Without Connection: close a kept-alive client may send its next request into the socket
      // the gateway is closing (the shared contract check saw "1 5xx" now and then from that).
      expect(r.headers.get('connection')).toBe('close');
      expect(await r.json()).toEqual({ error: { code: 'headers_too_large', message: expect.any(String) } });
      const outcomes = new Map<string, number>();
      for (let i = 0; i < 150; i++) {
        for (const send of [
          () => fetch(big),
          () =>
            fetch(`${sys.gatewayUrl}/v1/postbacks/${ids.partner}?x=1`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: '{}',
            }),
        ]) {
          let k: string;
          try {
            const res = await send();
            await res.arrayBuffer();
            k = String(res.status);
          } catch (e) {
            k = `error: ${(e as Error & { cause?: { code?: string } }).cause?.code ?? (e as Error).message}`;
          }
          outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
        }
      }
      expect(Object.fromEntries(outcomes)).toEqual({ '431': 150, '401': 150 });
      // They never reach the routes, so they have their own counter.
      const metrics = await (
        await fetch(`${sys.gatewayUrl}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
      ).text();
      const counted = /^http_parser_refused_total\{code="headers_too_large"[^}]*\} (\d+)$/m.exec(metrics);
      expect(Number(counted?.[1])).toBeGreaterThanOrEqual(151);
    });

    it('serves OpenAPI docs: partner-facing routes to anyone, every endpoint to operators', async () => {
      const open = await httpJson(`${sys.gatewayUrl}/docs/openapi.json`);
      expect(open.status).toBe(200);
      const openPaths = Object.keys((open.body as { paths: object }).paths);
      expect(openPaths).toEqual(
        expect.arrayContaining(['/v1/clicks', '/c/{offerId}', '/v1/postbacks/{partnerId}']),
      );
      expect(openPaths.filter((p) => /^\/v1\/(admin|reports)/.test(p))).toEqual([]);
      expect((await fetch(`${sys.gatewayUrl}/docs`)).status).toBeLessThan(400);
      expect((await httpJson(`${sys.gatewayUrl}/docs/admin/openapi.json`)).status).toBe(401);
      const r = await httpJson(`${sys.gatewayUrl}/docs/admin/openapi.json`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      expect(r.status).toBe(200);
      const paths = Object.keys((r.body as { paths: object }).paths);
      for (const p of [
        '/v1/clicks',
        '/c/{offerId}',
        '/v1/postbacks/{partnerId}',
        '/v1/admin/offers',
        '/v1/admin/partners/{id}',
        '/v1/admin/publishers',
      ]) {
        expect(paths).toContain(p);
      }
      expect(
        (await fetch(`${sys.gatewayUrl}/docs/admin`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }))
          .status,
      ).toBeLessThan(400);
    });
  });
});

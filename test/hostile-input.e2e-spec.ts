import fc from 'fast-check';
import { canonicalQuery, signatureHeader } from '@app/domain';
import { httpJson, isErrorBody, signedPostbackUrl, topicMessageCount } from '@app/testing';
import {
  adminOperations,
  adminRequest,
  type HostileRequest,
  type Operation,
  pool,
  Problems,
  publicRequest,
  send,
} from './hostile-requests';
import { ADMIN_TOKEN, type RunningSystem, seedCatalog, startSystem } from './support';

/**
 * Over 10,000 malformed requests: every answer is a 4xx with a JSON error (or a 2xx for the
 * rare generated request that is valid), never a 5xx; the process keeps serving; and nothing
 * reaches postbacks.received except what was answered 2xx. Every admin and report route is
 * taken from the gateway's own OpenAPI document, so a new route is fuzzed without editing this.
 */
describe('hostile input', () => {
  let sys: RunningSystem;
  let ids: Awaited<ReturnType<typeof seedCatalog>>;
  /** A catalog the fuzz never names (it may pause or rewrite `ids`): the flood and the final checks use it. */
  let kept: Awaited<ReturnType<typeof seedCatalog>>;
  /** Requests sent by this file (the bar: 10,000). */
  let sent = 0;
  const counts: Record<string, number> = {};
  // The gateway trusts 127.0.0.1 as a proxy, so each fuzz request comes "from" its own address
  // (the per-address limits stay low for the flood part and do not hide the fuzz behind 429s).
  let addresses = 0;
  const nextAddress = () => {
    const n = ++addresses;
    return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
  };
  const CLICK_RATE = 20;
  const REFUSAL_RATE = 5;
  beforeAll(async () => {
    sys = await startSystem('hostile', {
      env: {
        CLICK_RATE_PER_ADDRESS: String(CLICK_RATE),
        REFUSAL_RATE_PER_ADDRESS: String(REFUSAL_RATE),
        TRUSTED_PROXIES: '127.0.0.1/32',
      },
    });
    ids = await seedCatalog(sys);
    kept = await seedCatalog(sys, 'kept');
  });
  afterAll(async () => {
    await sys?.stop();
  });

  const nasty = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.constantFrom(
      "' OR 1=1 --",
      '{{7*7}}',
      '${jndi:ldap://x}',
      '<script>alert(1)</script>',
      '%',
      '%ZZ',
      '%00',
      '\u0000',
      '1e3',
      '-1',
      'NaN',
      'Infinity',
      '0x10',
      '1,5',
      '1.1234567',
      '99999999999999999999',
      '',
      ' ',
      '😀'.repeat(200),
      'a'.repeat(5000),
      'approved',
      'USD',
      '01ARZ3NDEKTSV4RRFFQ69G5FAV',
    ),
  );
  const key = fc.oneof(
    fc.constantFrom(
      'click_id',
      'clickid',
      'cid',
      'transaction_id',
      'txid',
      'tid',
      'status',
      'payout',
      'amount',
      'currency',
      'offer_id',
      'event',
      'goal',
      'reason',
      'ts',
      'sig',
    ),
    fc.string({ maxLength: 20 }),
  );
  const request = fc.record({
    method: fc.constantFrom('GET', 'GET', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH'),
    partner: fc.oneof(
      fc.constant('OWN'),
      fc.constant('OWN'),
      nasty.filter((s) => s.length > 0 && s.length < 300),
    ),
    params: fc.array(fc.tuple(key, nasty), { maxLength: 12 }),
    signed: fc.boolean(),
    bodyKind: fc.constantFrom('json', 'form', 'raw', 'none', 'array', 'nested'),
    contentType: fc.constantFrom(
      'application/json',
      'application/x-www-form-urlencoded',
      'text/plain',
      'application/xml',
      'multipart/form-data',
      '',
    ),
    raw: nasty,
  });

  it('never answers 5xx or non-JSON errors, and publishes only what it accepted', async () => {
    const topic = `${sys.prefix}postbacks.received`;
    const before = await topicMessageCount(topic);
    let accepted = 0;
    const bad: string[] = [];
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const partner = r.partner === 'OWN' ? ids.partner : r.partner;
        const query = canonicalQuery(r.params);
        let body: string | undefined;
        if (r.method !== 'GET' && r.bodyKind !== 'none') {
          const obj = Object.fromEntries(r.params);
          body =
            r.bodyKind === 'json'
              ? JSON.stringify(obj)
              : r.bodyKind === 'form'
                ? query
                : r.bodyKind === 'array'
                  ? JSON.stringify(r.params)
                  : r.bodyKind === 'nested'
                    ? JSON.stringify({ click_id: { $gt: '' }, transaction_id: [1, 2], status: null })
                    : r.raw;
        }
        const ts = Math.floor(Date.now() / 1000);
        const headers: Record<string, string> = { 'x-forwarded-for': nextAddress() };
        if (r.contentType && body !== undefined) headers['content-type'] = r.contentType;
        if (r.signed) {
          headers['x-postback-timestamp'] = String(ts);
          headers['x-postback-signature'] = signatureHeader(
            ids.secret,
            ts,
            body && r.method === 'POST' ? body : query,
          );
        }
        let res;
        sent++;
        try {
          res = await httpJson(`${sys.gatewayUrl}/v1/postbacks/${encodeURIComponent(partner)}?${query}`, {
            method: r.method,
            headers,
            body,
          });
        } catch (e) {
          // The client refused to build this request (e.g. an illegal header); nothing was sent.
          if (e instanceof TypeError) return;
          throw e;
        }
        if (res.status >= 200 && res.status < 300) accepted++;
        else if (res.status >= 500)
          bad.push(`${res.status} for ${JSON.stringify(r).slice(0, 300)}: ${JSON.stringify(res.body)}`);
        else if (!isErrorBody(res.body))
          bad.push(`non-JSON ${res.status}: ${String(res.body).slice(0, 100)}`);
      }),
      { numRuns: 1500, seed: 20261124 },
    );
    counts['postbacks (signed and unsigned junk)'] = 1500;
    expect(bad).toEqual([]);
    expect((await httpJson(`${sys.gatewayUrl}/health/live`)).status).toBe(200);
    // Every 2xx is on the topic, and nothing else is.
    const deadline = Date.now() + 10000;
    while ((await topicMessageCount(topic)) - before < accepted && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    expect((await topicMessageCount(topic)) - before).toBe(accepted);
  });

  it('survives malformed clicks and admin bodies the same way', async () => {
    const bad: string[] = [];
    const body = fc.oneof(
      fc.json(),
      fc.string({ maxLength: 200 }),
      fc.record(
        { offer_id: nasty, publisher_id: nasty, sub1: nasty, geo: nasty, device: nasty, ip: nasty },
        { requiredKeys: [] },
      ),
      fc.record(
        { id: nasty, name: nasty, landing_url: nasty, payout: nasty, currency: nasty, auth: fc.anything() },
        { requiredKeys: [] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/v1/clicks', '/v1/admin/offers', '/v1/admin/partners', '/v1/admin/publishers'),
        body,
        async (path, b) => {
          sent++;
          const res = await httpJson(`${sys.gatewayUrl}${path}`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              authorization: `Bearer ${ADMIN_TOKEN}`,
              'x-forwarded-for': nextAddress(),
            },
            body: typeof b === 'string' ? b : JSON.stringify(b),
          });
          if (res.status >= 500 || (res.status >= 400 && !isErrorBody(res.body))) {
            bad.push(
              `${path} ${res.status} ${JSON.stringify(b).slice(0, 200)} -> ${JSON.stringify(res.body).slice(0, 200)}`,
            );
          }
        },
      ),
      { numRuns: 800, seed: 42 },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(key, nasty), { maxLength: 8 }), async (params) => {
        let res;
        sent++;
        try {
          res = await httpJson(
            `${sys.gatewayUrl}/c/${ids.offer}?pub=${ids.publisher}&${canonicalQuery(params)}`,
            { redirect: 'manual', headers: { 'x-forwarded-for': nextAddress() } },
          );
        } catch (e) {
          if (e instanceof TypeError) return;
          throw e;
        }
        if (res.status >= 500 || (res.status >= 400 && !isErrorBody(res.body)))
          bad.push(`/c ${res.status} ${JSON.stringify(res.body)}`);
      }),
      { numRuns: 400, seed: 7 },
    );
    counts['clicks and catalog bodies (sequential)'] = 800;
    counts['/c/:offerId query junk'] = 400;
    expect(bad).toEqual([]);
  });

  /** Sends `reqs` 24 at a time; the problems found (grouped), and the answers by status. */
  const fire = async (reqs: HostileRequest[], fromOwnAddress = true) => {
    const problems = new Problems();
    const statuses: Record<number, number> = {};
    await pool(reqs, 24, async (r) => {
      const req = fromOwnAddress ? { ...r, headers: { ...r.headers, 'x-forwarded-for': nextAddress() } } : r;
      const a = await send(sys.gatewayUrl, req);
      sent++;
      if (!a) return;
      statuses[a.status] = (statuses[a.status] ?? 0) + 1;
      problems.add(req, a);
    });
    return { bad: problems.list(), statuses };
  };

  it('fuzzes every admin and report route of the OpenAPI document, with and without a token', async () => {
    const unauth = await httpJson(`${sys.gatewayUrl}/docs/admin/openapi.json`);
    expect(unauth.status).toBe(401);
    expect(isErrorBody(unauth.body)).toBe(true);
    const doc = await httpJson(`${sys.gatewayUrl}/docs/admin/openapi.json`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(doc.status).toBe(200);
    const ops: Operation[] = adminOperations(doc.body);
    const routes = ops.map((o) => `${o.method} ${o.path}`);
    // The document is the list: a sanity floor and a few routes that must be in it.
    expect(ops.length).toBeGreaterThanOrEqual(50);
    expect(routes).toEqual(
      expect.arrayContaining([
        'POST /v1/admin/offers',
        'PATCH /v1/admin/offers/{id}',
        'GET /v1/admin/audit',
        'GET /v1/admin/whoami',
        'POST /v1/admin/disputes',
        'GET /v1/reports/reconciliation',
      ]),
    );

    // Each route refuses a missing or wrong token with 401 and the JSON error shape.
    const fill = (o: Operation) => o.path.replace(/\{[^}]+\}/g, 'x1');
    const noToken: HostileRequest[] = ops.flatMap((o) =>
      [undefined, 'Bearer wrong-token-0123456789', 'Basic Og=='].map((authorization) => ({
        method: o.method,
        url: fill(o),
        headers: {
          ...(authorization ? { authorization } : {}),
          ...(o.method === 'GET' || o.method === 'DELETE' ? {} : { 'content-type': 'application/json' }),
        },
        body: o.method === 'GET' || o.method === 'DELETE' ? undefined : JSON.stringify(o.base),
      })),
    );
    const refused = await fire(noToken);
    expect(refused.bad).toEqual([]);
    expect(refused.statuses).toEqual({ 401: noToken.length });

    // Near-valid bodies from the document's own examples, with the admin token, once per route.
    const base = await fire(
      ops.map((o) => ({
        method: o.method,
        url: fill(o),
        headers: {
          authorization: `Bearer ${ADMIN_TOKEN}`,
          ...(o.method === 'GET' || o.method === 'DELETE' ? {} : { 'content-type': 'application/json' }),
        },
        body: o.method === 'GET' || o.method === 'DELETE' ? undefined : JSON.stringify(o.base),
      })),
    );
    expect(base.bad).toEqual([]);

    const N = 4800;
    const reqs = fc.sample(adminRequest(ops, ADMIN_TOKEN), { numRuns: N, seed: 20261205 });
    const perRoute = new Map<string, number>();
    for (const r of reqs) perRoute.set(r.route!, (perRoute.get(r.route!) ?? 0) + 1);
    // Every route of the document gets its share of the fuzz.
    expect(routes.filter((r) => !perRoute.has(r))).toEqual([]);
    const fuzz = await fire(reqs);
    console.log(`admin fuzz answers by status: ${JSON.stringify(fuzz.statuses)}`);
    counts[`admin and report routes (${ops.length} in the document): no/wrong token`] = noToken.length;
    counts['admin and report routes: near-valid bodies'] = ops.length;
    counts['admin and report routes: fuzz'] = N;
    expect(fuzz.bad).toEqual([]);
    // The fuzz reached past the token check and validation, not only 401s.
    expect(fuzz.statuses[400]).toBeGreaterThan(N / 10);
    expect(Object.keys(fuzz.statuses).some((s) => s.startsWith('2'))).toBe(true);
  });

  it('refuses 15- and 20-digit amounts on offers with 400 naming the field, never 500', async () => {
    const offer = (extra: Record<string, unknown>, id: string) => ({
      id,
      name: 'Big money',
      landing_url: 'https://adv.example/land?c={click_id}',
      payout: '1.25',
      currency: 'USD',
      ...extra,
    });
    const bad: string[] = [];
    let n = 0;
    for (const field of ['payout', 'payout_cap', 'hold_payout_above', 'max_payout'])
      for (const value of ['123456789012345', '12345678901234567890', '123456789012345.5', 123456789012345]) {
        n++;
        const created = await sys.admin('POST', '/v1/admin/offers', offer({ [field]: value }, `big-${n}`));
        const patched = await sys.admin('PATCH', `/v1/admin/offers/${ids.offer}`, { [field]: value });
        sent += 2;
        for (const [what, r] of [
          ['POST', created],
          ['PATCH', patched],
        ] as const)
          if (r.status !== 400 || r.body?.error?.field !== field)
            bad.push(`${what} ${field}=${JSON.stringify(value)}: ${r.status} ${JSON.stringify(r.body)}`);
      }
    expect(bad).toEqual([]);
    const exact = await sys.admin('POST', '/v1/admin/offers', offer({ payout: '123456789012345' }, 'big-x'));
    sent++;
    expect(exact.status).toBe(400);
    expect(exact.body.error).toEqual(expect.objectContaining({ code: 'invalid_field', field: 'payout' }));
    expect(exact.body.error.message).toMatch(/payout/);
    counts['15/20-digit amounts on offers (POST and PATCH)'] = 2 * n + 1;
  });

  it('fuzzes the public routes: clicks, redirects, postbacks, docs, health', async () => {
    const N = 1500;
    const reqs = fc.sample(publicRequest(ids), { numRuns: N, seed: 20261206 });
    const { bad, statuses } = await fire(reqs);
    console.log(`public fuzz answers by status: ${JSON.stringify(statuses)}`);
    counts['public routes fuzz'] = N;
    expect(bad).toEqual([]);
  });

  it('answers floods from one address with 429, JSON and Retry-After, and keeps serving others', async () => {
    const clickFrom = '203.0.113.7';
    const refusedFrom = '203.0.113.8';
    const clicks: HostileRequest[] = Array.from({ length: 2000 }, (_, i) => ({
      method: i % 2 ? 'POST' : 'GET',
      url: i % 2 ? '/v1/clicks' : `/c/${kept.offer}?pub=${kept.publisher}&sub1=flood-${i}`,
      headers: {
        'x-forwarded-for': clickFrom,
        ...(i % 2 ? { 'content-type': 'application/json' } : {}),
      },
      body: i % 2 ? JSON.stringify({ offer_id: kept.offer, publisher_id: kept.publisher }) : undefined,
    }));
    const postbacks: HostileRequest[] = Array.from({ length: 2000 }, (_, i) => ({
      method: i % 2 ? 'POST' : 'GET',
      url: `/v1/postbacks/${i % 3 ? kept.partner : 'no-such-partner'}?click_id=x&transaction_id=t${i}&sig=bad`,
      headers: {
        'x-forwarded-for': refusedFrom,
        ...(i % 2 ? { 'content-type': 'application/json' } : {}),
      },
      body: i % 2 ? JSON.stringify({ status: 'approved', payout: '123456789012345' }) : undefined,
    }));
    const limited: string[] = [];
    const check = async (r: HostileRequest, statuses: Record<number, number>, problems: Problems) => {
      const a = await send(sys.gatewayUrl, r);
      sent++;
      if (!a) return;
      statuses[a.status] = (statuses[a.status] ?? 0) + 1;
      problems.add(r, a);
      if (a.status === 429) {
        const retryAfter = Number(a.headers.get('retry-after'));
        const code = (a.body as { error?: { code?: string } }).error?.code;
        if (!(Number.isInteger(retryAfter) && retryAfter >= 1) || code !== 'rate_limited')
          limited.push(
            `429 without Retry-After or code: ${a.headers.get('retry-after')} ${JSON.stringify(a.body)}`,
          );
      }
    };
    const started = Date.now();
    const clickStatuses: Record<number, number> = {};
    const postbackStatuses: Record<number, number> = {};
    const problems = new Problems();
    await Promise.all([
      pool(clicks, 16, (r) => check(r, clickStatuses, problems)),
      pool(postbacks, 16, (r) => check(r, postbackStatuses, problems)),
    ]);
    const elapsedS = (Date.now() - started) / 1000;
    expect(problems.list()).toEqual([]);
    expect(limited).toEqual([]);
    // A token bucket lets through its burst plus its rate over the flood's duration, no more.
    const passedClicks = (clickStatuses[201] ?? 0) + (clickStatuses[302] ?? 0);
    expect(passedClicks).toBeGreaterThan(0);
    expect(passedClicks).toBeLessThanOrEqual(2 * CLICK_RATE + Math.ceil(CLICK_RATE * elapsedS) + 1);
    expect(clickStatuses[429]).toBeGreaterThanOrEqual(2000 - passedClicks - (clickStatuses[404] ?? 0));
    expect(postbackStatuses[429]).toBeGreaterThan(1000);
    expect(Object.keys(postbackStatuses).filter((s) => s.startsWith('2'))).toEqual([]);
    counts['flood: clicks from one address'] = clicks.length;
    counts['flood: refused postbacks from one address'] = postbacks.length;
    console.log(
      `flood (${elapsedS.toFixed(1)} s): clicks ${JSON.stringify(clickStatuses)}, postbacks ${JSON.stringify(postbackStatuses)}`,
    );

    // Another address is not held back by the flood.
    const other = await httpJson(`${sys.gatewayUrl}/v1/clicks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.20' },
      body: JSON.stringify({ offer_id: kept.offer, publisher_id: kept.publisher }),
    });
    sent++;
    expect(other.status).toBe(201);
  });

  it('still serves after all of it: ready, a valid signed postback, a valid offer', async () => {
    expect((await httpJson(`${sys.gatewayUrl}/health/ready`)).status).toBe(200);
    const click = await httpJson(`${sys.gatewayUrl}/v1/clicks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.21' },
      body: JSON.stringify({ offer_id: kept.offer, publisher_id: kept.publisher, sub1: 'after-fuzz' }),
    });
    expect(click.status).toBe(201);
    const s = signedPostbackUrl(sys.gatewayUrl, kept.partner, kept.secret, {
      click_id: click.body.click_id,
      transaction_id: 'after-fuzz-1',
      status: 'approved',
      payout: '1.25',
    });
    const pb = await httpJson(s.url, { headers: { ...s.headers, 'x-forwarded-for': '198.51.100.22' } });
    expect(pb.status).toBe(200);
    expect(pb.body.status).toBe('accepted');
    const created = await sys.admin('POST', '/v1/admin/offers', {
      id: 'after-fuzz-offer',
      name: 'Still works',
      landing_url: 'https://adv.example/land?c={click_id}',
      payout: '999999999.999999',
      payout_cap: '500.00',
      hold_payout_above: '50.00',
      max_payout: '1000.00',
      currency: 'USD',
    });
    expect(created.status).toBe(201);
    sent += 4;
    console.log(`hostile requests sent: ${sent} ${JSON.stringify(counts, null, 1)}`);
    expect(sent).toBeGreaterThanOrEqual(10_000);
  });
});

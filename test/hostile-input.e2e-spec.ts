import fc from 'fast-check';
import { canonicalQuery, signatureHeader } from '@app/domain';
import { httpJson, isErrorBody, topicMessageCount } from '@app/testing';
import { type RunningSystem, seedCatalog, startSystem } from './support';

/**
 * Thousands of malformed requests: every answer is a 4xx with a JSON error (or a 2xx for the
 * rare generated request that is valid), never a 5xx; the process keeps serving; and nothing
 * reaches postbacks.received except what was answered 2xx.
 */
describe('hostile input', () => {
  let sys: RunningSystem;
  let ids: Awaited<ReturnType<typeof seedCatalog>>;
  beforeAll(async () => {
    sys = await startSystem('hostile');
    ids = await seedCatalog(sys);
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
        const headers: Record<string, string> = {};
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
          const res = await httpJson(`${sys.gatewayUrl}${path}`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              authorization: 'Bearer test-admin-token-0123456789',
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
        try {
          res = await httpJson(
            `${sys.gatewayUrl}/c/${ids.offer}?pub=${ids.publisher}&${canonicalQuery(params)}`,
            { redirect: 'manual' },
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
    expect(bad).toEqual([]);
  });
});

import { createHash, createHmac } from 'node:crypto';
import { verifySignature } from '../signature';
import {
  appendQueryParam,
  backoffDelay,
  buildPostback,
  checkTemplate,
  classifyAttempt,
  legacyHash,
  macroValues,
  nextAttemptDelay,
  parseRetryAfter,
  type PublisherPostbackFacts,
  renderTemplate,
  signingPayload,
} from './index';

const facts = (over: Partial<PublisherPostbackFacts> = {}): PublisherPostbackFacts => ({
  entry_id: 'le_01JD7Q3W5T9YV6KX2M8N4R1B0C',
  entry_type: 'approved',
  conversion_id: 'cv_01JD7Q3W5T9YV6KX2M8N4R1B0D',
  click_id: '01JD7Q3W5T9YV6KX2M8N4R1B0C',
  transaction_id: 'order 5521',
  offer_id: 'offer-1',
  goal: 'purchase',
  amount_micros: '2500000',
  currency: 'USD',
  sub1: 'a&b=c',
  sub2: null,
  sub3: null,
  sub4: null,
  sub5: null,
  placement: 'wall',
  geo: 'US',
  ...over,
});

describe('postback URL templates', () => {
  it('accepts http(s) URLs with known macros', () => {
    expect(checkTemplate('https://wall.example/pb?c={click_id}&p={payout}&s={status}&x={sub5}')).toEqual({
      ok: true,
    });
    expect(checkTemplate('http://10.0.0.1:8080/pb/{conversion_id}?geo={geo}')).toEqual({ ok: true });
  });

  it.each([
    ['https://wall.example/pb?c={clickid}', 'unknown macro {clickid}'],
    ['https://wall.example/pb?c={}', 'unknown macro {}'],
    ['https://wall.example/pb?c={click_id', 'unbalanced'],
    ['ftp://wall.example/pb', 'http or https'],
    ['https://user:pw@wall.example/pb', 'credentials'],
    ['https://{sub1}.wall.example/pb', 'scheme, host or port'],
    ['https://wall.example:{sub1}/pb', 'scheme, host or port'],
    ['not a url', 'not a valid URL'],
    ['', 'non-empty'],
  ])('refuses %s, naming why', (t, why) => {
    const c = checkTemplate(t);
    expect(c.ok).toBe(false);
    expect(!c.ok && c.message).toContain(why);
  });

  it('percent-encodes every value, so a sub id can never add a parameter', () => {
    const url = renderTemplate(
      'https://wall.example/pb?c={click_id}&tx={transaction_id}&s={sub1}&s2={sub2}&p={payout}',
      macroValues(facts()),
    );
    expect(url).toBe(
      'https://wall.example/pb?c=01JD7Q3W5T9YV6KX2M8N4R1B0C&tx=order%205521&s=a%26b%3Dc&s2=&p=2.5',
    );
    expect(new URL(url).searchParams.get('s')).toBe('a&b=c');
  });

  it('renders payout from micros without floats, and the status publishers see', () => {
    expect(macroValues(facts({ amount_micros: '1' })).payout).toBe('0.000001');
    expect(macroValues(facts({ amount_micros: '900719925474099312' })).payout).toBe('900719925474.099312');
    expect(macroValues(facts({ entry_type: 'released' })).status).toBe('approved');
    expect(macroValues(facts({ entry_type: 'reversed' })).status).toBe('reversed');
    expect(() => macroValues(facts({ entry_type: 'held' }))).toThrow();
  });
});

describe('legacy hash', () => {
  it('md5 over the values then the secret; hmac-sha256 keyed by the secret', () => {
    const v = macroValues(facts());
    expect(legacyHash({ algorithm: 'md5', fields: ['click_id', 'payout'], secret: 's3cret' }, v)).toBe(
      createHash('md5').update('01JD7Q3W5T9YV6KX2M8N4R1B0C2.5s3cret').digest('hex'),
    );
    expect(legacyHash({ algorithm: 'hmac-sha256', fields: ['transaction_id'], secret: 's3cret' }, v)).toBe(
      createHmac('sha256', 's3cret').update('order 5521').digest('hex'),
    );
  });

  it('is appended as a query parameter, before a fragment', () => {
    expect(appendQueryParam('https://w.example/pb', 'hash', 'ab')).toBe('https://w.example/pb?hash=ab');
    expect(appendQueryParam('https://w.example/pb?a=1#f', 'hash', 'ab')).toBe(
      'https://w.example/pb?a=1&hash=ab#f',
    );
  });
});

describe('signed request', () => {
  const config = {
    url: 'https://wall.example/pb?c={click_id}&tx={transaction_id}&status={status}',
    approvedUrl: null,
    reversedUrl: 'https://wall.example/rev?c={click_id}',
    secrets: ['old-secret-0123456789', 'new-secret-0123456789'],
    legacyHash: {
      algorithm: 'md5' as const,
      param: 'hash',
      fields: ['click_id' as const],
      secret: 'legacy-secret',
    },
  };

  it('signs the canonical query with every secret, and carries the entry id as idempotency key', () => {
    const req = buildPostback(config, facts(), 1795536000)!;
    expect(req.headers['idempotency-key']).toBe('le_01JD7Q3W5T9YV6KX2M8N4R1B0C');
    expect(req.headers['x-postback-timestamp']).toBe('1795536000');
    for (const secret of config.secrets)
      expect(
        verifySignature({
          secrets: [secret],
          timestamp: req.headers['x-postback-timestamp'],
          signature: req.headers['x-postback-signature'],
          payload: signingPayload(req.url),
          nowSeconds: 1795536000,
          toleranceSeconds: 300,
        }),
      ).toEqual({ ok: true });
    expect(new URL(req.url).searchParams.get('hash')).toMatch(/^[0-9a-f]{32}$/);
  });

  it('uses the per-status template, and none for entries publishers are not told', () => {
    expect(buildPostback(config, facts({ entry_type: 'reversed' }), 1)!.url).toMatch(
      /^https:\/\/wall\.example\/rev\?/,
    );
    expect(buildPostback(config, facts({ entry_type: 'held' }), 1)).toBeUndefined();
    expect(buildPostback({ ...config, url: null }, facts(), 1)).toBeUndefined();
  });
});

describe('answers and retries', () => {
  it.each([
    [200, 'delivered'],
    [204, 'delivered'],
    [400, 'rejected_by_publisher'],
    [404, 'rejected_by_publisher'],
    [408, 'retry'],
    [429, 'retry'],
    [500, 'retry'],
    [503, 'retry'],
    [302, 'retry'],
    [undefined, 'retry'],
  ])('HTTP %s is %s', (status, cls) => {
    expect(classifyAttempt(status)).toBe(cls);
  });

  it('backs off exponentially with ±20 % jitter, capped', () => {
    const o = { baseMs: 10_000, maxMs: 3_600_000 };
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, o, () => 0.5))).toEqual([10_000, 20_000, 40_000, 80_000]);
    expect(backoffDelay(1, o, () => 0)).toBe(8_000);
    expect(backoffDelay(1, o, () => 0.999999)).toBeLessThanOrEqual(12_000);
    expect(backoffDelay(30, o, () => 1)).toBe(3_600_000);
    for (let n = 1; n < 60; n++) {
      const d = backoffDelay(n, o);
      expect(d).toBeGreaterThan(0);
      expect(d).toBeLessThanOrEqual(3_600_000);
    }
  });

  it('retries for the whole window (72 h by default) and then gives up', () => {
    const o = { baseMs: 10_000, maxMs: 3_600_000, maxAgeMs: 72 * 3_600_000 };
    let now = 0;
    let attempt = 1;
    for (;;) {
      const d = nextAttemptDelay(attempt, 0, now, o, () => 0.5);
      if (d === undefined) break;
      now += d;
      attempt++;
    }
    expect(now).toBe(72 * 3_600_000);
    expect(attempt).toBeGreaterThan(70);
    expect(attempt).toBeLessThan(90);
  });

  it("honours a publisher's Retry-After up to the cap", () => {
    const o = { baseMs: 1000, maxMs: 60_000, maxAgeMs: 3_600_000 };
    expect(nextAttemptDelay(1, 0, 0, { ...o, retryAfterMs: 30_000 }, () => 0.5)).toBe(30_000);
    expect(nextAttemptDelay(1, 0, 0, { ...o, retryAfterMs: 999_000 }, () => 0.5)).toBe(60_000);
    expect(parseRetryAfter('120', 0)).toBe(120_000);
    expect(parseRetryAfter('Thu, 01 Jan 1970 00:01:00 GMT', 0)).toBe(60_000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
  });
});

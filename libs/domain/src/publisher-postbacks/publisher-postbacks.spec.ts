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
  postbackFacts,
  type PublisherPostbackFacts,
  renderTemplate,
  revenueShare,
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

describe('wall macros', () => {
  const v2 = facts({
    amount_micros: '2000000',
    payout_micros: '1450000',
    revenue_micros: '2000000',
    reward_amount: '145',
    reward_currency: 'coins',
    user_id: '8cc877ee-af19-488d-b28d-216fb866b996',
  });

  it('v2: payout, revenue and their share, the reward and the user id as the entry has them', () => {
    const url = renderTemplate(
      'https://wall.example/pb?uid={uid}&u={user_id}&p={payout}&r={revenue}&share={revenue_share}&coins={reward}&cur={reward_currency}',
      macroValues(v2),
    );
    expect(url).toBe(
      'https://wall.example/pb?uid=8cc877ee-af19-488d-b28d-216fb866b996&u=8cc877ee-af19-488d-b28d-216fb866b996&p=1.45&r=2&share=72.5&coins=145&cur=coins',
    );
    expect(checkTemplate(url.replace(/=[^&]*/g, '={revenue_share}'))).toEqual({ ok: true });
  });

  it('v1: the amount is both payout and revenue (as before v2), the wall fields empty', () => {
    const v = macroValues(facts());
    expect(v).toMatchObject({
      payout: '2.5',
      revenue: '2.5',
      revenue_share: '100',
      reward: '',
      reward_currency: '',
      uid: '',
      user_id: '',
    });
    expect(macroValues(facts({ payout_micros: null, revenue_micros: null })).payout).toBe('2.5');
  });

  it.each([
    ['1400000', '2000000', '70'],
    ['1450000', '2000000', '72.5'],
    ['1000000', '3000000', '33.33'],
    ['2000000', '3000000', '66.67'],
    ['1', '20000', '0.01'], // 0.005 rounds half up
    ['1', '30000', '0'],
    ['2500000', '2000000', '125'],
    ['0', '2000000', '0'],
    ['1400000', '0', ''],
    ['-1400000', '2000000', '-70'],
    ['900719925474099312', '900719925474099313', '100'],
  ])('revenue share of payout %s over revenue %s is "%s" (exact, 2 decimals at most)', (p, r, share) => {
    expect(revenueShare(BigInt(p), BigInt(r))).toBe(share);
    expect(macroValues(facts({ payout_micros: p, revenue_micros: r })).revenue_share).toBe(share);
  });

  it('the notifier keeps the wall fields of an entry stored as JSON, and nothing else', () => {
    const stored = JSON.parse(
      JSON.stringify({ ...v2, schema_version: 2, partner_id: 'p', note: null }),
    ) as PublisherPostbackFacts;
    expect(postbackFacts(stored)).toEqual(v2);
    const v1 = JSON.parse(JSON.stringify({ ...facts(), schema_version: 1 })) as PublisherPostbackFacts;
    expect(postbackFacts(v1)).toEqual({
      ...facts(),
      payout_micros: null,
      revenue_micros: null,
      reward_amount: null,
      reward_currency: null,
      user_id: null,
    });
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

  // Expected values are published vectors (RFC 1321, FIPS 180, RFC 2202, RFC 4231, a wall's
  // documented example) or computed with openssl/md5sum/sha1sum, never with this code.
  const withTx = (tx: string, sub1: string | null = null) => macroValues(facts({ transaction_id: tx, sub1 }));

  it.each([
    // RFC 1321: md5("message digest"), as value + " " + secret.
    ['md5', ['transaction_id'], ' ', 'digest', withTx('message'), 'f96b697d7cb7938d525a2f31aaf161d0'],
    // FIPS 180: sha1("abc").
    ['sha1', ['transaction_id'], undefined, 'c', withTx('ab'), 'a9993e364706816aba3e25717850c26c9cd0d89d'],
    // RFC 2202 case 2: HMAC-SHA1("Jefe", "what do ya want for nothing?"), the data split over two fields.
    [
      'hmac-sha1',
      ['transaction_id', 'sub1'],
      ' ',
      'Jefe',
      withTx('what do ya', 'want for nothing?'),
      'effcdf6ae5eb2fa2d27416d5f184df9c259a7c79',
    ],
    // RFC 4231 case 2: HMAC-SHA256("Jefe", "what do ya want for nothing?").
    [
      'hmac-sha256',
      ['transaction_id'],
      undefined,
      'Jefe',
      withTx('what do ya want for nothing?'),
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    ],
  ] as const)(
    '%s over %j (separator %j) matches its published vector',
    (algorithm, fields, separator, secret, values, hex) => {
      expect(legacyHash({ algorithm, fields: [...fields], separator, secret }, values)).toBe(hex);
    },
  );

  it('walls that hash a:b:c:secret (md5, sha1) or HMAC the joined values (hmac-sha1)', () => {
    const v = macroValues(
      facts({ payout_micros: '1450000', reward_amount: '145', reward_currency: 'coins', user_id: 'user-42' }),
    );
    const md5 = {
      algorithm: 'md5' as const,
      fields: ['click_id' as const, 'payout' as const, 'currency' as const],
    };
    // printf '%s' '01JD7Q3W5T9YV6KX2M8N4R1B0C:1.45:USD:wall-secret' | md5sum (and sha1sum)
    expect(legacyHash({ ...md5, separator: ':', secret: 'wall-secret' }, v)).toBe(
      'daf005faab588848c0dfcbb0f599aef5',
    );
    expect(legacyHash({ ...md5, algorithm: 'sha1', separator: ':', secret: 'wall-secret' }, v)).toBe(
      '4f61a8923bbd2e0970226e29b49591460e8161e5',
    );
    // printf '%s' 'user-42|145|coins' | openssl dgst -sha1 -hmac wall-secret
    expect(
      legacyHash(
        {
          algorithm: 'hmac-sha1',
          fields: ['uid', 'reward', 'reward_currency'],
          separator: '|',
          secret: 'wall-secret',
        },
        v,
      ),
    ).toBe('dfd95b81df5267935ed037febb11b31bc98c288a');
  });

  const urlConfig = (url: string) => ({
    url,
    approvedUrl: null,
    reversedUrl: null,
    secrets: [],
    legacyHash: {
      algorithm: 'hmac-sha1-url' as const,
      param: 'sig',
      fields: [],
      secret: 'JLOIAUNMHFli7ZJOQVEzm98rzqnm9',
    },
  });

  it('hmac-sha1-url: the published vector, over the URL exactly as rendered, appended last', () => {
    expect(
      legacyHash(
        { algorithm: 'hmac-sha1-url', fields: [], secret: 'JLOIAUNMHFli7ZJOQVEzm98rzqnm9' },
        macroValues(facts()),
        'https://publisher.com/complete?uid=8cc877ee-af19-488d-b28d-216fb866b996&val=500',
      ),
    ).toBe('dbcd6bb8ca677344592842a52b4fca9bec36cd4b');
    const req = buildPostback(
      urlConfig('https://publisher.com/complete?uid={uid}&val={reward}'),
      facts({ user_id: '8cc877ee-af19-488d-b28d-216fb866b996', reward_amount: '500' }),
      1,
    )!;
    expect(req.url).toBe(
      'https://publisher.com/complete?uid=8cc877ee-af19-488d-b28d-216fb866b996&val=500&sig=dbcd6bb8ca677344592842a52b4fca9bec36cd4b',
    );
    expect(() =>
      legacyHash({ algorithm: 'hmac-sha1-url', fields: [], secret: 'x' }, macroValues(facts())),
    ).toThrow();
  });

  it('hmac-sha1-url covers the URL as the server sees it: host lower-cased, path "/", no default port or fragment', () => {
    const req = buildPostback(
      urlConfig('https://Publisher.COM:443?uid={uid}#top'),
      facts({ user_id: 'u 1' }),
      1,
    )!;
    // printf '%s' 'https://publisher.com/?uid=u%201' | openssl dgst -sha1 -hmac JLOIAUNMHFli7ZJOQVEzm98rzqnm9
    expect(req.url).toBe('https://publisher.com/?uid=u%201&sig=d50da43130995390872eb743c8e9e045db449c9b');
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

import { createHmac } from 'crypto';
import fc from 'fast-check';
import {
  canonicalQuery,
  rfc3986,
  requestSignatureHeader,
  requestSigningString,
  signatureSchemes,
  signatureHeader,
  SignatureCheck,
  signPayload,
  verifySignature,
  VerifySignatureOptions,
} from './signature';

const utf16 = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) });

// Independent RFC 3986 encoder: walk the UTF-8 bytes, keep only unreserved characters.
function referenceEncode(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

describe('worked example (pins the scheme)', () => {
  const secret = 's3cr3t';
  const timestamp = '1767225600'; // 2026-01-01T00:00:00Z
  const params: Array<[string, string]> = [
    ['click_id', '01ARZ3NDEKTSV4RRFFQ69G5FAV'],
    ['transaction_id', 'tx 1'],
    ['status', 'approved'],
    ['payout', '1.25'],
  ];
  const canonical = 'click_id=01ARZ3NDEKTSV4RRFFQ69G5FAV&payout=1.25&status=approved&transaction_id=tx%201';
  // Computed once with crypto.createHmac (and cross-checked with Python's hmac) and written down here.
  const expectedHex = '82e5345e42a9df8e49b1b3f735239d6bf962e0a6963cb6180a3c71059f23130d';

  it('builds the canonical query string', () => {
    expect(canonicalQuery(params)).toBe(canonical);
  });

  it('ignores ts and sig when they travel in the query', () => {
    expect(canonicalQuery([...params, ['ts', timestamp], ['sig', `v1=${expectedHex}`]])).toBe(canonical);
  });

  it('signs `${timestamp}.${payload}` with HMAC-SHA256', () => {
    const independent = createHmac('sha256', secret).update(`${timestamp}.${canonical}`).digest('hex');
    expect(independent).toBe(expectedHex);
    expect(signPayload(secret, timestamp, canonical)).toBe(expectedHex);
    expect(signPayload(secret, 1767225600, canonical)).toBe(expectedHex);
    expect(signatureHeader(secret, timestamp, canonical)).toBe(`v1=${expectedHex}`);
  });

  it('verifies the worked example', () => {
    expect(
      verifySignature({
        secrets: [secret],
        timestamp,
        signature: `v1=${expectedHex}`,
        payload: canonical,
        nowSeconds: 1767225600 + 30,
        toleranceSeconds: 300,
      }),
    ).toEqual({ ok: true });
  });

  it('signs a POST body verbatim', () => {
    const body = '{"click_id":"01ARZ3NDEKTSV4RRFFQ69G5FAV","payout":"1.25"}';
    expect(signPayload(secret, timestamp, body)).toBe(
      '040f9ce98fa9c92fd5599cc45ecefe0ac8c2df15a16e79aeb516d28b69c494dc',
    );
    // One extra space in the body is a different payload.
    expect(signPayload(secret, timestamp, `${body} `)).not.toBe(
      '040f9ce98fa9c92fd5599cc45ecefe0ac8c2df15a16e79aeb516d28b69c494dc',
    );
  });
});

describe('rfc3986', () => {
  it.each([
    ['abcXYZ019', 'abcXYZ019'],
    ['-._~', '-._~'],
    [' ', '%20'],
    ['+', '%2B'],
    ['&=?#/', '%26%3D%3F%23%2F'],
    ["!'()*", '%21%27%28%29%2A'],
    ['é', '%C3%A9'],
    ['😀', '%F0%9F%98%80'],
    ['%', '%25'],
    ['', ''],
  ])('encodes %j as %j', (raw, enc) => {
    expect(rfc3986(raw)).toBe(enc);
  });

  it('encodes every ASCII character, alone and among others, as the full encoding does', () => {
    const full = (s: string) =>
      encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
    for (let c = 0; c < 128; c++) {
      const ch = String.fromCharCode(c);
      for (const s of [ch, `a${ch}`, `${ch}z-9`, `AZ~.${ch}_`]) expect(rfc3986(s)).toBe(full(s));
    }
  });

  it('replaces lone surrogates with U+FFFD instead of throwing', () => {
    expect(rfc3986('a\uD800b')).toBe('a%EF%BF%BDb');
    expect(rfc3986('\uDC00')).toBe('%EF%BF%BD');
  });

  it('matches an independent byte-wise encoder on well-formed text', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => rfc3986(s) === referenceEncode(s)));
  });

  it('never throws and only emits unreserved characters and %XX', () => {
    fc.assert(fc.property(utf16, (s) => /^([A-Za-z0-9\-._~]|%[0-9A-F]{2})*$/.test(rfc3986(s))));
  });

  it('decodes back to the input for well-formed text', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => decodeURIComponent(rfc3986(s)) === s));
  });
});

describe('canonicalQuery', () => {
  it('returns an empty string for no parameters', () => {
    expect(canonicalQuery([])).toBe('');
    expect(
      canonicalQuery([
        ['ts', '1'],
        ['sig', 'x'],
      ]),
    ).toBe('');
  });

  it('drops only the exact names ts and sig', () => {
    expect(
      canonicalQuery([
        ['TS', '1'],
        ['Sig', '2'],
        ['ts2', '3'],
      ]),
    ).toBe('Sig=2&TS=1&ts2=3');
  });

  it('sorts repeated names by value', () => {
    expect(
      canonicalQuery([
        ['a', 'z'],
        ['a', 'b'],
        ['a', 'm'],
      ]),
    ).toBe('a=b&a=m&a=z');
  });

  it('keeps empty values and exact duplicates', () => {
    expect(
      canonicalQuery([
        ['b', ''],
        ['a', 'x'],
        ['a', 'x'],
      ]),
    ).toBe('a=x&a=x&b=');
  });

  it('sorts by the encoded names (byte order), not raw UTF-16 order', () => {
    // Raw "-" (0x2D) sorts before "/" (0x2F), but encoded "/" is "%2F" and "%" (0x25) sorts first.
    expect(
      canonicalQuery([
        ['a-', '1'],
        ['a/', '2'],
      ]),
    ).toBe('a%2F=2&a-=1');
    // U+FF61 is EF BD A1 in UTF-8, U+1F600 is F0 9F 98 80: byte order puts the BMP character first.
    expect(
      canonicalQuery([
        ['\u{1F600}', '1'],
        ['\uFF61', '2'],
      ]),
    ).toBe('%EF%BD%A1=2&%F0%9F%98%80=1');
  });

  it('is independent of input order', () => {
    const pairs = fc.array(fc.tuple(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 })), {
      maxLength: 8,
    });
    fc.assert(
      fc.property(
        pairs.chain((p) =>
          fc.tuple(fc.constant(p), fc.shuffledSubarray(p, { minLength: p.length, maxLength: p.length })),
        ),
        ([a, b]) => canonicalQuery(a) === canonicalQuery(b),
      ),
    );
  });

  it('never throws on arbitrary pairs', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(utf16, utf16), { maxLength: 6 }),
        (p) => typeof canonicalQuery(p) === 'string',
      ),
    );
  });
});

describe('verifySignature', () => {
  const now = 1_767_225_600;
  const payload = 'click_id=abc&payout=1';
  const base = (over: Partial<VerifySignatureOptions> = {}): VerifySignatureOptions => ({
    secrets: ['current'],
    timestamp: String(now),
    signature: signatureHeader('current', now, payload),
    payload,
    nowSeconds: now,
    toleranceSeconds: 300,
    ...over,
  });
  const code = (r: SignatureCheck) => (r.ok ? 'ok' : r.code);

  it('accepts a good signature', () => {
    expect(verifySignature(base())).toEqual({ ok: true });
  });

  it('accepts uppercase hex and surrounding whitespace', () => {
    const hex = signPayload('current', now, payload).toUpperCase();
    expect(code(verifySignature(base({ signature: ` v1=${hex} ` })))).toBe('ok');
  });

  it('accepts a bare hex signature (sig query parameter)', () => {
    expect(code(verifySignature(base({ signature: signPayload('current', now, payload) })))).toBe('ok');
  });

  describe('secret rotation', () => {
    it('accepts when any presented value matches any secret', () => {
      const sigOld = signatureHeader('old', now, payload);
      const sigNew = signatureHeader('new', now, payload);
      const junk = `v1=${'0'.repeat(64)}`;
      for (const signature of [
        `${junk},${sigOld}`,
        `${sigNew},${junk}`,
        `${sigOld},${sigNew}`,
        `${junk}, ${sigNew}`,
      ]) {
        expect(code(verifySignature(base({ secrets: ['new', 'old'], signature })))).toBe('ok');
      }
    });

    it('rejects when no presented value matches any secret', () => {
      const signature = `${signatureHeader('other', now, payload)},${signatureHeader('another', now, payload)}`;
      expect(code(verifySignature(base({ secrets: ['new', 'old'], signature })))).toBe('bad_signature');
    });

    it('skips values of other scheme versions', () => {
      const good = signPayload('current', now, payload);
      expect(code(verifySignature(base({ signature: `v0=${good}` })))).toBe('bad_signature');
      expect(code(verifySignature(base({ signature: `v2=abc,v1=${good}` })))).toBe('ok');
    });
  });

  describe('missing_signature', () => {
    it.each([undefined, '', '   '])('when the signature is %j', (signature) => {
      expect(code(verifySignature(base({ signature })))).toBe('missing_signature');
    });
    it.each([undefined, '', ' '])('when the timestamp is %j', (timestamp) => {
      expect(code(verifySignature(base({ timestamp })))).toBe('missing_signature');
    });
  });

  describe('bad_timestamp', () => {
    it.each([
      'abc',
      '-1',
      '+1767225600',
      '1767225600.5',
      '1e9',
      '0x10',
      ' 1767225600',
      '1767225600 ',
      '１',
      '1234567890123',
    ])('for %j', (timestamp) => {
      expect(code(verifySignature(base({ timestamp })))).toBe('bad_timestamp');
    });
  });

  describe('stale_timestamp', () => {
    it('accepts exactly at the tolerance edge, both directions', () => {
      for (const ts of [now - 300, now + 300]) {
        const r = verifySignature(
          base({ timestamp: String(ts), signature: signatureHeader('current', ts, payload) }),
        );
        expect(r).toEqual({ ok: true });
      }
    });
    it.each([now - 301, now + 301, 0, 999_999_999_999])('rejects %p', (ts) => {
      const r = verifySignature(
        base({ timestamp: String(ts), signature: signatureHeader('current', ts, payload) }),
      );
      expect(code(r)).toBe('stale_timestamp');
    });
    it('signs the timestamp string as sent (leading zeros are part of the payload)', () => {
      const ts = `00${now}`;
      expect(
        code(verifySignature(base({ timestamp: ts, signature: signatureHeader('current', ts, payload) }))),
      ).toBe('ok');
      expect(code(verifySignature(base({ timestamp: ts })))).toBe('bad_signature');
    });
    it('refuses when the clock or tolerance is unusable', () => {
      expect(code(verifySignature(base({ nowSeconds: NaN })))).toBe('stale_timestamp');
      expect(code(verifySignature(base({ toleranceSeconds: -1 })))).toBe('stale_timestamp');
    });
  });

  describe('bad_signature', () => {
    const good = signPayload('current', now, payload);
    it.each([
      ['wrong secret', signatureHeader('wrong', now, payload)],
      ['63 hex', `v1=${good.slice(1)}`],
      ['65 hex', `v1=${good}0`],
      ['non-hex', `v1=${'g'.repeat(64)}`],
      ['base64', `v1=${Buffer.from(good, 'hex').toString('base64')}`],
      ['empty v1', 'v1='],
      ['only commas', ',,,'],
      ['huge header', `v1=${'a'.repeat(2000)}`],
    ])('%s', (_name, signature) => {
      expect(code(verifySignature(base({ signature })))).toBe('bad_signature');
    });

    it('when the payload differs by one character', () => {
      expect(code(verifySignature(base({ payload: `${payload} ` })))).toBe('bad_signature');
    });

    it('when the timestamp was changed after signing', () => {
      expect(code(verifySignature(base({ timestamp: String(now + 1) })))).toBe('bad_signature');
    });

    it('when no usable secret is configured', () => {
      expect(code(verifySignature(base({ secrets: [] })))).toBe('bad_signature');
      // An empty secret would make signatures forgeable by anyone.
      const sig = signatureHeader('', now, payload);
      expect(code(verifySignature(base({ secrets: [''], signature: sig })))).toBe('bad_signature');
    });
  });

  it('never leaks secrets or the presented signature in messages', () => {
    const secret = 'SUPER-SECRET-VALUE';
    const presented = 'f'.repeat(64);
    const cases: Array<Partial<VerifySignatureOptions>> = [
      { secrets: [secret], signature: `v1=${presented}` },
      { secrets: [secret], signature: `v1=${presented}`, timestamp: 'x' },
      { secrets: [secret], signature: `v1=${presented}`, timestamp: '1' },
      { secrets: [secret], signature: `junk-${presented}` },
      { secrets: [secret], signature: undefined },
    ];
    for (const c of cases) {
      const r = verifySignature(base(c));
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.message).not.toContain(secret);
        expect(r.message).not.toContain(presented);
      }
    }
  });

  it('never throws on arbitrary input and only accepts the true signature', () => {
    fc.assert(
      fc.property(utf16, fc.option(utf16, { nil: undefined }), utf16, (sig, ts, body) => {
        const r = verifySignature({
          secrets: ['k1', 'k2'],
          timestamp: ts,
          signature: sig,
          payload: body,
          nowSeconds: now,
          toleranceSeconds: 300,
        });
        return !r.ok && r.message.length > 0;
      }),
    );
  });

  it('round-trips sign → verify for arbitrary secrets, payloads and times within tolerance', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }),
        utf16,
        fc.integer({ min: -300, max: 300 }),
        (secret, body, skew) => {
          const ts = now + skew;
          return verifySignature({
            secrets: ['unrelated', secret],
            timestamp: String(ts),
            signature: signatureHeader(secret, ts, body),
            payload: body,
            nowSeconds: now,
            toleranceSeconds: 300,
          }).ok;
        },
      ),
    );
  });
});

describe('scheme v2: the signature covers the method, the path, the canonical query and the raw body', () => {
  // Computed independently with node:crypto (sha256 of the body, then HMAC of the five lines).
  const secret = 's3cr3t-network-1-0123456789abcdef';
  const body =
    '{"click_id":"01JD7Q3W5T9YV6KX2M8N4R1B0C","transaction_id":"order-5522","status":"approved","payout":"2.50","currency":"USD"}';
  const req = {
    method: 'POST',
    path: '/v1/postbacks/network-1',
    query: [['goal', 'purchase']] as [string, string][],
    body,
  };
  const check = (signature: string, r = req) =>
    verifySignature({
      secrets: [secret],
      timestamp: '1732406400',
      signature,
      payload: requestSigningString('1732406400', r),
      nowSeconds: 1732406400,
      toleranceSeconds: 300,
      scheme: 'v2',
    });

  it('signs exactly the documented string (test vector)', () => {
    expect(requestSigningString(1732406400, req)).toBe(
      '1732406400\nPOST\n/v1/postbacks/network-1\ngoal=purchase\n75ea5d3b3998117087d43c734a2d099f60f71c6c90edf67e8ff4917206069908',
    );
    expect(requestSignatureHeader(secret, 1732406400, req)).toBe(
      'v2=780b2bd38419bb04ec7e93ecbba8eb4a0856b9310c32ee4e8b8052edb337474a',
    );
    expect(check('v2=780b2bd38419bb04ec7e93ecbba8eb4a0856b9310c32ee4e8b8052edb337474a')).toEqual({
      ok: true,
    });
  });

  it.each<[string, Partial<typeof req>]>([
    ['a query parameter added', { query: [...req.query, ['payout', '5000']] }],
    ['the query changed', { query: [['goal', 'install']] }],
    ['another path', { path: '/v1/postbacks/network-2' }],
    ['another method', { method: 'GET' }],
    ['one byte of the body changed', { body: body.replace('2.50', '2.51') }],
  ])('refuses the signed request with %s', (_what, change) => {
    const header = requestSignatureHeader(secret, 1732406400, req);
    expect(check(header, { ...req, ...change })).toMatchObject({ ok: false, code: 'bad_signature' });
  });

  it('tells the schemes a header presents apart; a v1 value is not a v2 signature', () => {
    expect(signatureSchemes('v1=' + 'a'.repeat(64))).toEqual({ v1: true, v2: false });
    expect(signatureSchemes('v2=' + 'a'.repeat(64) + ',v1=' + 'b'.repeat(64))).toEqual({
      v1: true,
      v2: true,
    });
    expect(check(signatureHeader(secret, 1732406400, body))).toMatchObject({
      ok: false,
      code: 'bad_signature',
    });
  });
});

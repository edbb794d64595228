import { REDACTED, redactHeaders, redactQuery } from '@app/config';

const SIG = 'v1=' + 'ab'.repeat(32);

describe('redaction', () => {
  it('never lets a signature, token or authorization header through, in any spelling', () => {
    const out = redactHeaders({
      'x-postback-signature': SIG,
      'X-Postback-Signature': SIG,
      authorization: 'Bearer s3cr3t-admin-token',
      cookie: 'sid=abc',
      'x-api-key': 'k-123',
      'x-postback-timestamp': '1795537576',
      'user-agent': 'partner/1.0',
      accept: ['a', 'b'],
      absent: undefined,
    });
    const text = JSON.stringify(out);
    expect(text).not.toContain('ab'.repeat(8));
    expect(text).not.toContain('s3cr3t');
    expect(text).not.toContain('sid=abc');
    expect(text).not.toContain('k-123');
    expect(out['x-postback-signature']).toBe(`${REDACTED} (${SIG.length} chars)`);
    expect(out.authorization).toBe(REDACTED);
    // What helps debugging stays.
    expect(out['x-postback-timestamp']).toBe('1795537576');
    expect(out['user-agent']).toBe('partner/1.0');
    expect(out.accept).toEqual(['a', 'b']);
    expect('absent' in out).toBe(false);
  });

  it('redacts sig, token-like and partner-named token parameters in a URL, keeping order and data', () => {
    const url = `/v1/postbacks/p1?click_id=c1&sig=${'cd'.repeat(32)}&token=t0k3n&pb_token=x9&pass=zz&key=k1&status=1&click_id=c2`;
    const out = redactQuery(url, ['key']);
    expect(out).not.toContain('cd'.repeat(4));
    for (const secret of ['t0k3n', 'x9', 'zz', 'k1']) expect(out).not.toContain(`=${secret}`);
    expect(out.startsWith('/v1/postbacks/p1?click_id=c1&sig=')).toBe(true);
    expect(out).toContain('status=1&click_id=c2');
    expect(out).toContain(`token=${encodeURIComponent(REDACTED)}`);
  });

  it('takes query pairs too, and leaves a URL without a query alone', () => {
    expect(
      redactQuery([
        ['secret', 'x'],
        ['a', 'b'],
      ]),
    ).toBe(`secret=${encodeURIComponent(REDACTED)}&a=b`);
    expect(redactQuery('/v1/clicks')).toBe('/v1/clicks');
  });
});

import {
  buildPostback,
  legacyHash,
  macroValues,
  type PublisherPostbackFacts,
  signingPayload,
  verifySignature,
} from '@app/domain';
import { docExample, docText } from '@app/testing/doc-example';

const block = (name: string) => docExample('docs/publishers/postbacks.md', name);

describe('publisher guide worked example', () => {
  const ex = block('publisher-signing-example');
  const given = Object.fromEntries(
    ex.entry!.split(', ').map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]),
  );
  const facts: PublisherPostbackFacts = {
    entry_id: given.entry_id!,
    entry_type: given.entry_type!,
    conversion_id: 'cv_x',
    click_id: given.click_id!,
    transaction_id: given.transaction_id!,
    offer_id: 'offer-123',
    goal: 'purchase',
    amount_micros: given.amount_micros!,
    currency: given.currency!,
    sub1: given.sub1 ?? null,
    sub2: null,
    sub3: null,
    sub4: null,
    sub5: null,
    placement: null,
    geo: null,
  };

  it('URL, canonical payload, signature and idempotency key are exactly what the notifier sends', () => {
    const config = {
      url: ex.template!,
      approvedUrl: null,
      reversedUrl: null,
      secrets: [ex.secret!],
      legacyHash: null,
    };
    const req = buildPostback(config, facts, Number(ex.timestamp))!;
    expect(req.url).toBe(ex.url);
    expect(signingPayload(req.url)).toBe(ex.canonical);
    expect(`${ex.timestamp}.${ex.canonical}`).toBe(ex.signed);
    expect(req.headers['x-postback-signature']).toBe(ex.signature);
    expect(req.headers['idempotency-key']).toBe(ex['idempotency-key']);
    expect(
      verifySignature({
        secrets: [ex.secret!],
        timestamp: ex.timestamp,
        signature: ex.signature,
        payload: ex.canonical!,
        nowSeconds: Number(ex.timestamp),
        toleranceSeconds: 300,
      }),
    ).toEqual({ ok: true });
  });

  it('the legacy md5 example matches', () => {
    expect(
      legacyHash(
        { algorithm: 'md5', fields: ['click_id', 'payout'], secret: 'wall_md5_secret' },
        macroValues(facts),
      ),
    ).toBe('ce84283afef1f9f14b58443215925ea3');
    expect(docText('docs/publishers/postbacks.md')).toContain('`ce84283afef1f9f14b58443215925ea3`');
  });

  it('the hmac-sha1-url example is the URL the notifier sends', () => {
    const sent =
      'https://publisher.com/complete?uid=8cc877ee-af19-488d-b28d-216fb866b996&val=500&sig=dbcd6bb8ca677344592842a52b4fca9bec36cd4b';
    const req = buildPostback(
      {
        url: 'https://publisher.com/complete?uid={uid}&val={reward}',
        approvedUrl: null,
        reversedUrl: null,
        secrets: [],
        legacyHash: {
          algorithm: 'hmac-sha1-url',
          param: 'sig',
          fields: [],
          secret: 'JLOIAUNMHFli7ZJOQVEzm98rzqnm9',
        },
      },
      { ...facts, user_id: '8cc877ee-af19-488d-b28d-216fb866b996', reward_amount: '500' },
      Number(ex.timestamp),
    )!;
    expect(req.url).toBe(sent);
    const doc = docText('docs/publishers/postbacks.md');
    expect(doc).toContain(sent);
    expect(doc).toContain('`https://publisher.com/complete?uid={uid}&val={reward}`');
  });
});

import {
  canonicalQuery,
  requestSignatureHeader,
  requestSigningString,
  signatureHeader,
  verifySignature,
} from '@app/domain';
import { docExample } from '@app/testing/doc-example';

const block = (name: string) => docExample('docs/partners/postbacks.md', name);

describe('partner guide worked examples', () => {
  it('GET: canonical string, signed string and signature are exactly what we compute and accept', () => {
    const ex = block('signing-example');
    const params = ex.params!.split(', ').map((p): [string, string] => {
      const i = p.indexOf('=');
      return [p.slice(0, i), p.slice(i + 1)];
    });
    const canonical = canonicalQuery(params);
    expect(canonical).toBe(ex.canonical);
    expect(`${ex.timestamp}.${canonical}`).toBe(ex.signed);
    expect(signatureHeader(ex.secret!, ex.timestamp!, canonical)).toBe(ex.signature);
    const check = verifySignature({
      secrets: [ex.secret!],
      timestamp: ex.timestamp,
      signature: ex.signature,
      payload: canonical,
      nowSeconds: Number(ex.timestamp),
      toleranceSeconds: 300,
    });
    expect(check).toEqual({ ok: true });
  });

  it('POST: the signature over the raw body matches', () => {
    const ex = block('signing-example-post');
    expect(signatureHeader(ex.secret!, ex.timestamp!, ex.body!)).toBe(ex.signature);
  });
});

describe('partner guide: the v2 worked example', () => {
  it('body hash and signature are exactly what we compute and accept', () => {
    const ex = docExample('docs/partners/postbacks.md', 'signing-example-v2');
    const req = {
      method: ex.method!,
      path: ex.path!,
      query: ex.query!.split('&').map((kv): [string, string] => kv.split('=') as [string, string]),
      body: ex.body!,
    };
    const string = requestSigningString(ex.timestamp!, req);
    expect(string.split('\n')[4]).toBe(ex['body hash']);
    expect(requestSignatureHeader(ex.secret!, ex.timestamp!, req)).toBe(ex.signature);
    expect(
      verifySignature({
        secrets: [ex.secret!],
        timestamp: ex.timestamp,
        signature: ex.signature,
        payload: string,
        nowSeconds: Number(ex.timestamp),
        toleranceSeconds: 300,
        scheme: 'v2',
      }),
    ).toEqual({ ok: true });
  });
});

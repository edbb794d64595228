import { canonicalQuery, signatureHeader, verifySignature } from '@app/domain';
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

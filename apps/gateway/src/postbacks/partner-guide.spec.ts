import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalQuery, signatureHeader, verifySignature } from '@app/domain';

/** The partner guide's worked examples must match what the gateway verifies. */
const guide = readFileSync(join(__dirname, '../../../../docs/partners/postbacks.md'), 'utf8');

function block(name: string): Record<string, string> {
  const m = new RegExp(`<!-- ${name}:start -->\\s*\`\`\`\\n([\\s\\S]*?)\`\`\`\\s*<!-- ${name}:end -->`).exec(
    guide,
  );
  if (!m?.[1]) throw new Error(`no ${name} block in the guide`);
  return Object.fromEntries(
    m[1]
      .trim()
      .split('\n')
      .map((l) => {
        const i = l.indexOf(':');
        return [l.slice(0, i).trim(), l.slice(i + 1).trim()];
      }),
  );
}

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

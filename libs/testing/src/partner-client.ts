import { canonicalQuery, signatureHeader } from '@app/domain';

/** Calls the admin API as an operator would. */
export function adminClient(baseUrl: string, token: string) {
  return async (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
    const r = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : undefined };
  };
}

/** A GET postback signed as a partner signs it (docs/partners/postbacks.md). */
export function signedPostbackUrl(
  baseUrl: string,
  partnerId: string,
  secret: string,
  params: Record<string, string>,
  ts = Math.floor(Date.now() / 1000),
): { url: string; headers: Record<string, string> } {
  const canonical = canonicalQuery(Object.entries(params));
  return {
    url: `${baseUrl}/v1/postbacks/${partnerId}?${canonical}`,
    headers: {
      'x-postback-timestamp': String(ts),
      'x-postback-signature': signatureHeader(secret, ts, canonical),
    },
  };
}

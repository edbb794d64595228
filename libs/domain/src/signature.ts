import { createHash, createHmac, timingSafeEqual } from 'crypto';

// Partner HMAC scheme v1:
//   X-Postback-Timestamp: <unix seconds>
//   X-Postback-Signature: v1=<hex>[,v1=<hex>...]   (several values allowed during secret rotation)
//   hex = lowercase hex HMAC-SHA256(secret, `${timestamp}.${payload}`)
// payload = raw body for POST; canonicalQuery(query) for GET. GET-only partners may send `ts` and `sig`
// as query parameters instead of the headers.
//
// Scheme v2 covers the whole request, for POST above all (where v1 left the query unsigned):
//   X-Postback-Signature: v2=<hex>[,v2=<hex>...]
//   hex = lowercase hex HMAC-SHA256(secret, requestSigningString(...)), that string being the lines
//     <timestamp> \n <METHOD> \n <path> \n <canonicalQuery(query)> \n <lowercase hex SHA-256 of the raw body>
//   (no trailing newline; the body hash of an empty body is that of zero bytes).

export const TIMESTAMP_HEADER = 'x-postback-timestamp';
export const SIGNATURE_HEADER = 'x-postback-signature';
export const TIMESTAMP_PARAM = 'ts';
export const SIGNATURE_PARAM = 'sig';

const HEX_LENGTH = 64;
const MAX_TIMESTAMP_DIGITS = 12;
// Generous for a few rotated signatures; bounds the work an attacker can ask for.
const MAX_SIGNATURE_HEADER_LENGTH = 1024;
const MAX_CANDIDATES = 8;

export type SignatureErrorCode = 'missing_signature' | 'bad_timestamp' | 'stale_timestamp' | 'bad_signature';
export type SignatureCheck = { ok: true } | { ok: false; code: SignatureErrorCode; message: string };

export interface VerifySignatureOptions {
  secrets: readonly string[];
  timestamp: string | undefined;
  signature: string | undefined;
  payload: string;
  nowSeconds: number;
  toleranceSeconds: number;
  /** Which scheme to verify: v1 (the payload is signed as is) or v2 (the payload is a requestSigningString). */
  scheme?: 'v1' | 'v2';
}

// Lone surrogates cannot be percent-encoded (encodeURIComponent throws); they become U+FFFD, which is
// also what any UTF-8 query decoder yields for them.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

const UNRESERVED = /^[A-Za-z0-9\-._~]*$/;

/** RFC 3986 percent-encoding: everything but A-Z a-z 0-9 - . _ ~ is encoded as UTF-8 %XX (uppercase hex). */
export function rfc3986(s: string): string {
  // Ids, codes and amounts are mostly unreserved characters already: nothing to encode.
  if (typeof s === 'string' && UNRESERVED.test(s)) return s;
  return encodeURIComponent(String(s).replace(LONE_SURROGATE, '\uFFFD')).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * GET signing payload: all parameters except `ts` and `sig`, each encoded as `rfc3986(name)=rfc3986(value)`,
 * sorted by encoded name then encoded value, joined by `&`.
 */
export function canonicalQuery(params: Array<[string, string]>): string {
  // Sorting the encoded (pure ASCII) strings by code unit gives the same order as a byte-wise sort in any
  // language, which raw UTF-16 order would not.
  const list = Array.isArray(params) ? params.filter((p) => Array.isArray(p)) : [];
  const encoded = list
    .filter(([name]) => name !== TIMESTAMP_PARAM && name !== SIGNATURE_PARAM)
    .map(([name, value]) => [rfc3986(name), rfc3986(value)] as const);
  encoded.sort(([an, av], [bn, bv]) => (an < bn ? -1 : an > bn ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return encoded.map(([n, v]) => `${n}=${v}`).join('&');
}

/** Lowercase hex HMAC-SHA256(secret, `${timestamp}.${payload}`). */
export function signPayload(secret: string, timestamp: number | string, payload: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${payload}`, 'utf8').digest('hex');
}

/** Value for the X-Postback-Signature header: `v1=<hex>`. */
export function signatureHeader(secret: string, timestamp: number | string, payload: string): string {
  return `v1=${signPayload(secret, timestamp, payload)}`;
}

const fail = (code: SignatureErrorCode, message: string): SignatureCheck => ({ ok: false, code, message });

/** What a v2 signature covers: the method, the path, the canonical query and the raw body. */
export function requestSigningString(
  timestamp: number | string,
  req: { method: string; path: string; query: Array<[string, string]>; body: Buffer | string },
): string {
  const bodyHash = createHash('sha256').update(req.body).digest('hex');
  return [String(timestamp), req.method.toUpperCase(), req.path, canonicalQuery(req.query), bodyHash].join(
    '\n',
  );
}

/** Value for the X-Postback-Signature header in scheme v2: `v2=<hex>`. */
export function requestSignatureHeader(
  secret: string,
  timestamp: number | string,
  req: Parameters<typeof requestSigningString>[1],
): string {
  const hex = createHmac('sha256', secret).update(requestSigningString(timestamp, req), 'utf8').digest('hex');
  return `v2=${hex}`;
}

/** Which schemes a signature value presents (`v1=`, `v2=`; a bare hex counts as v1). */
export function signatureSchemes(signature: string | undefined): { v1: boolean; v2: boolean } {
  return {
    v1: candidates(signature ?? '', 'v1').length > 0,
    v2: candidates(signature ?? '', 'v2').length > 0,
  };
}

/** Extracts well-formed 64-hex candidates of one scheme from `v1=<hex>[,v2=<hex>]` (bare `<hex>` counts as v1, for `sig`). */
function candidates(signature: string, scheme: 'v1' | 'v2' = 'v1'): string[] {
  const out: string[] = [];
  for (const part of signature.split(',')) {
    const p = part.trim();
    const eq = p.indexOf('=');
    let hex: string;
    if (eq === -1) {
      if (scheme !== 'v1') continue;
      hex = p;
    } else if (p.slice(0, eq).trim().toLowerCase() === scheme) hex = p.slice(eq + 1).trim();
    else continue; // other scheme versions are not judged here
    if (hex.length === HEX_LENGTH && /^[0-9a-fA-F]+$/.test(hex)) out.push(hex.toLowerCase());
    if (out.length >= MAX_CANDIDATES) break;
  }
  return out;
}

/**
 * Verifies a v1 signature against any of the partner's secrets. Never throws, and never puts secrets or
 * the presented signature into messages.
 */
export function verifySignature(opts: VerifySignatureOptions): SignatureCheck {
  const { secrets, timestamp, signature, payload, nowSeconds, toleranceSeconds } = opts;

  if (typeof signature !== 'string' || signature.trim() === '') {
    return fail('missing_signature', 'signature is missing (X-Postback-Signature header or sig parameter)');
  }
  if (typeof timestamp !== 'string' || timestamp.trim() === '') {
    return fail('missing_signature', 'timestamp is missing (X-Postback-Timestamp header or ts parameter)');
  }
  if (!/^\d+$/.test(timestamp) || timestamp.length > MAX_TIMESTAMP_DIGITS) {
    return fail('bad_timestamp', `timestamp must be unix seconds: 1 to ${MAX_TIMESTAMP_DIGITS} digits only`);
  }
  const ts = Number(timestamp);
  if (!Number.isFinite(nowSeconds) || !Number.isFinite(toleranceSeconds) || toleranceSeconds < 0) {
    return fail(
      'stale_timestamp',
      'timestamp cannot be checked: server clock or tolerance is not configured',
    );
  }
  if (Math.abs(nowSeconds - ts) > toleranceSeconds) {
    return fail(
      'stale_timestamp',
      `timestamp ${timestamp} is more than ${toleranceSeconds}s away from server time ${Math.floor(nowSeconds)}`,
    );
  }
  if (signature.length > MAX_SIGNATURE_HEADER_LENGTH) {
    return fail('bad_signature', `signature is longer than ${MAX_SIGNATURE_HEADER_LENGTH} characters`);
  }
  const scheme = opts.scheme ?? 'v1';
  const presented = candidates(signature, scheme);
  if (presented.length === 0) {
    return fail(
      'bad_signature',
      `signature must be ${scheme}=<64 hex characters> (comma-separated for several)`,
    );
  }
  const usable = Array.isArray(secrets)
    ? secrets.filter((s): s is string => typeof s === 'string' && s !== '')
    : [];
  if (usable.length === 0) {
    return fail('bad_signature', 'no signing secret is configured for this partner');
  }
  if (typeof payload !== 'string') {
    return fail('bad_signature', 'signature does not match');
  }

  let matched = false;
  for (const secret of usable) {
    const hex =
      scheme === 'v2'
        ? createHmac('sha256', secret).update(payload, 'utf8').digest('hex')
        : signPayload(secret, timestamp, payload);
    const expected = Buffer.from(hex, 'utf8');
    for (const hex of presented) {
      // Both sides are exactly 64 ASCII bytes, as timingSafeEqual requires. No early exit.
      if (timingSafeEqual(expected, Buffer.from(hex, 'utf8'))) matched = true;
    }
  }
  return matched ? { ok: true } : fail('bad_signature', 'signature does not match');
}

/**
 * Redaction for anything a request carries that may be logged: credentials never reach a log
 * line, not even in part. A signature is replaced by its length only (a prefix of an HMAC is
 * useless for debugging and still a partial secret).
 */
export const REDACTED = '[redacted]';

/** Names that carry credentials, however a partner spells them (sig, X-Postback-Signature, pb_token, Authorization...). */
const SENSITIVE = /sig|token|secret|passw|^pass$|pwd|auth|api[-_]?key|cookie|session|credential/i;

export function isSensitiveName(name: string, extra: readonly string[] = []): boolean {
  return SENSITIVE.test(name) || extra.some((x) => x.toLowerCase() === name.toLowerCase());
}

function redactValue(name: string, value: string, extra: readonly string[]): string {
  if (!isSensitiveName(name, extra)) return value;
  return /sig/i.test(name) ? `${REDACTED} (${value.length} chars)` : REDACTED;
}

/** Headers with credential values replaced. `extra`: more names to treat as secret. */
export function redactHeaders(
  headers: Record<string, string | string[] | undefined>,
  extra: readonly string[] = [],
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    out[k] = Array.isArray(v) ? v.map((x) => redactValue(k, x, extra)) : redactValue(k, v, extra);
  }
  return out;
}

/**
 * A URL (or its query pairs) with credential parameters redacted, order and repeats kept. Pass
 * the partner's own token parameter name in `extra` when it is not self-describing.
 */
export function redactQuery(
  urlOrPairs: string | Array<[string, string]>,
  extra: readonly string[] = [],
): string {
  let path = '';
  let pairs: Array<[string, string]>;
  if (typeof urlOrPairs === 'string') {
    const q = urlOrPairs.indexOf('?');
    path = q < 0 ? urlOrPairs : urlOrPairs.slice(0, q);
    pairs = q < 0 ? [] : [...new URLSearchParams(urlOrPairs.slice(q + 1))];
  } else pairs = urlOrPairs;
  if (pairs.length === 0) return path;
  const query = pairs
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(redactValue(k, v, extra))}`)
    .join('&');
  return typeof urlOrPairs === 'string' ? `${path}?${query}` : query;
}

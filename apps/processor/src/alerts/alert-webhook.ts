import { signatureHeader } from '@app/domain';

export const WEBHOOK_TIMESTAMP_HEADER = 'X-Signature-Timestamp';
export const WEBHOOK_SIGNATURE_HEADER = 'X-Signature';
export const WEBHOOK_IDEMPOTENCY_HEADER = 'Idempotency-Key';
const MAX_DELAY_MS = 600_000;

/**
 * Headers of one delivery attempt: signed like partner postbacks (v1 = hex HMAC-SHA256 of
 * `<unix seconds>.<raw body>`), with a fresh timestamp per attempt so receivers can reject old
 * replays, and the same Idempotency-Key on every attempt so they can drop repeats.
 */
export function webhookHeaders(
  secret: string,
  body: string,
  idempotencyKey: string,
  nowSeconds: number,
): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': 'conversion-ledger-alerts/1',
    [WEBHOOK_TIMESTAMP_HEADER]: String(nowSeconds),
    [WEBHOOK_SIGNATURE_HEADER]: signatureHeader(secret, nowSeconds, body),
    [WEBHOOK_IDEMPOTENCY_HEADER]: idempotencyKey,
  };
}

export type AttemptOutcome =
  | { kind: 'delivered'; status: number }
  /** Worth trying again: network error, timeout, 408, 429, 5xx. */
  | { kind: 'retry'; status?: number; error: string }
  /** The receiver refused it for good (other 4xx, a redirect we do not follow). */
  | { kind: 'refused'; status: number; error: string };

export function classifyStatus(status: number): AttemptOutcome {
  if (status >= 200 && status < 300) return { kind: 'delivered', status };
  if (status === 408 || status === 429 || status >= 500)
    return { kind: 'retry', status, error: `HTTP ${status}` };
  return { kind: 'refused', status, error: `HTTP ${status}` };
}

/**
 * Delay before attempt `attempts + 1` after `attempts` failed ones: base x 2^(attempts-1),
 * capped at 10 minutes, jittered ±20% so a receiver coming back is not hit by every alert at once.
 */
export function backoffMs(attempts: number, baseMs: number, random: () => number = Math.random): number {
  const exp = Math.min(MAX_DELAY_MS, baseMs * 2 ** Math.max(0, Math.min(30, attempts - 1)));
  return Math.round(exp * (0.8 + 0.4 * random()));
}

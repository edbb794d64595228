/** How one HTTP attempt to a publisher ended, and what happens next. */
export type AttemptClass = 'delivered' | 'rejected_by_publisher' | 'retry';

/**
 * 2xx ends a delivery. 4xx other than 408/429 ends it as rejected by the publisher (a retry
 * would get the same answer). Timeouts, network errors, 408, 429, 5xx, and redirects (not
 * followed: a postback URL that moves is a configuration problem, and retries make it visible)
 * are retried. `status` undefined means no answer (network error or timeout).
 */
export function classifyAttempt(status: number | undefined): AttemptClass {
  if (status === undefined) return 'retry';
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 408 || status === 429) return 'retry';
  if (status >= 400 && status < 500) return 'rejected_by_publisher';
  return 'retry';
}

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** Jitter as a fraction: 0.2 spreads each delay over ±20 %. */
  jitter?: number;
}

/** Delay before attempt `attempt + 1` after `attempt` failed (1-based): base·2^(attempt-1), capped, jittered. */
export function backoffDelay(attempt: number, o: BackoffOptions, random: () => number = Math.random): number {
  const exp = Math.min(o.maxMs, o.baseMs * 2 ** Math.min(Math.max(attempt - 1, 0), 40));
  const j = o.jitter ?? 0.2;
  const jittered = exp * (1 - j + 2 * j * random());
  return Math.max(1, Math.min(o.maxMs, Math.round(jittered)));
}

/** A Retry-After header (seconds, or an HTTP date) as milliseconds from now; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d{1,9}$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/**
 * When the next attempt goes, or undefined when the delivery is spent: the retry window (from
 * the first attempt) is over. A publisher's Retry-After is honoured up to the backoff cap.
 */
export function nextAttemptDelay(
  attempt: number,
  firstAttemptAtMs: number,
  nowMs: number,
  o: BackoffOptions & { maxAgeMs: number; retryAfterMs?: number },
  random: () => number = Math.random,
): number | undefined {
  if (nowMs - firstAttemptAtMs >= o.maxAgeMs) return undefined;
  const delay = Math.max(backoffDelay(attempt, o, random), Math.min(o.retryAfterMs ?? 0, o.maxMs));
  // The last attempt is at the end of the window, not past it.
  return Math.min(delay, Math.max(1, firstAttemptAtMs + o.maxAgeMs - nowMs));
}

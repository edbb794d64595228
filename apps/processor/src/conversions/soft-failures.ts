import { Injectable } from '@nestjs/common';

/** The soft-reject reasons of a batch that could not be decided at all (PRODUCT.md). */
export type DependencyReason = 'dependency_unavailable' | 'timeout';

/** One failed try of a postback, as kept in its error history (`errors` of a parked row and of `postbacks.dead`). */
export interface SoftFailure {
  at: string;
  reason: DependencyReason;
  detail: string;
}

// Postgres: query_canceled (statement_timeout), lock_not_available (lock_timeout),
// idle_in_transaction_session_timeout.
const PG_TIMEOUT_CODES = new Set(['57014', '55P03', '25P03']);

/**
 * Why a batch failed, for a failure that is not the data's fault (those go to dead letters):
 * a timeout (a statement or lock timeout in Postgres, a Kafka request timeout, a connection
 * attempt that timed out) or, for anything else, an unavailable dependency.
 */
export function classifyDependencyFailure(e: unknown): DependencyReason {
  const err = e as {
    code?: unknown;
    driverError?: { code?: unknown };
    name?: unknown;
    message?: unknown;
  } | null;
  const code = err?.driverError?.code ?? err?.code;
  if (typeof code === 'string' && PG_TIMEOUT_CODES.has(code)) return 'timeout';
  if (err?.name === 'KafkaJSRequestTimeoutError' || code === 'ETIMEDOUT') return 'timeout';
  const message = typeof err?.message === 'string' ? err.message : '';
  return /\btime(d)? ?out\b/i.test(message) ? 'timeout' : 'dependency_unavailable';
}

/**
 * Failed tries of postbacks not decided yet, in memory, until their batch commits. A batch
 * that fails is fetched again by the consumer after a back-off; when it finally commits, each
 * postback's outcome counts these tries (`attempts`, hence `soft_retried` per partner and
 * placement) and a postback that goes on to the retry queue carries them in its error history.
 * Bounded: a process restart, or more than `limit` postbacks failing at once, forgets the
 * oldest histories (the decisions do not depend on them).
 */
@Injectable()
export class SoftFailureLog {
  private readonly byEvent = new Map<string, SoftFailure[]>();
  /** Most postbacks kept; the oldest histories go first. */
  limit = 100_000;

  record(eventIds: readonly string[], failure: SoftFailure): void {
    for (const id of eventIds) {
      const list = this.byEvent.get(id);
      if (list) list.push(failure);
      else this.byEvent.set(id, [failure]);
    }
    for (const id of this.byEvent.keys()) {
      if (this.byEvent.size <= this.limit) break;
      this.byEvent.delete(id);
    }
  }

  of(eventId: string): readonly SoftFailure[] {
    return this.byEvent.get(eventId) ?? [];
  }

  forget(eventIds: readonly string[]): void {
    for (const id of eventIds) this.byEvent.delete(id);
  }

  get size(): number {
    return this.byEvent.size;
  }
}

import type { EntityManager } from 'typeorm';

/**
 * Operator actions on publisher postbacks, shared by the admin API and the CLI. The notifier
 * reads the same rows on every claim, so a change takes effect on its next poll.
 */

export interface EndpointState {
  publisher_id: string;
  delivery_state: 'active' | 'paused';
  paused_at: string | null;
  paused_reason: string | null;
  consecutive_failures: number;
  failing_since: string | null;
  deliveries: Record<'pending' | 'delivered' | 'rejected_by_publisher' | 'dead', number>;
  oldest_pending_at: string | null;
}

export async function endpointState(
  em: EntityManager,
  publisherId: string,
): Promise<EndpointState | undefined> {
  const [row] = await em.query<
    {
      publisher_id: string;
      delivery_state: 'active' | 'paused';
      paused_at: Date | null;
      paused_reason: string | null;
      consecutive_failures: number;
      failing_since: Date | null;
    }[]
  >(
    `SELECT publisher_id, delivery_state, paused_at, paused_reason, consecutive_failures, failing_since
       FROM publisher_postbacks WHERE publisher_id = $1`,
    [publisherId],
  );
  if (!row) return undefined;
  const counts = await em.query<{ status: string; n: number; oldest: Date | null }[]>(
    `SELECT status, count(*)::int AS n, min(created_at) AS oldest FROM publisher_deliveries
      WHERE publisher_id = $1 GROUP BY status`,
    [publisherId],
  );
  const deliveries = { pending: 0, delivered: 0, rejected_by_publisher: 0, dead: 0 };
  let oldest: Date | null = null;
  for (const c of counts) {
    if (c.status in deliveries) deliveries[c.status as keyof typeof deliveries] = c.n;
    if (c.status === 'pending') oldest = c.oldest;
  }
  return {
    publisher_id: row.publisher_id,
    delivery_state: row.delivery_state,
    paused_at: row.paused_at?.toISOString() ?? null,
    paused_reason: row.paused_reason,
    consecutive_failures: row.consecutive_failures,
    failing_since: row.failing_since?.toISOString() ?? null,
    deliveries,
    oldest_pending_at: oldest?.toISOString() ?? null,
  };
}

/**
 * Resumes a paused endpoint: its failure count restarts, and every delivery waiting for it is due
 * now with a fresh retry window. Returns how many deliveries were waiting, or undefined when the
 * publisher has no postback configured.
 */
export async function resumeEndpoint(em: EntityManager, publisherId: string): Promise<number | undefined> {
  const updated = await em.query<[unknown[], number]>(
    `UPDATE publisher_postbacks SET delivery_state = 'active', paused_at = NULL, paused_reason = NULL,
            consecutive_failures = 0, failing_since = NULL, updated_at = now()
      WHERE publisher_id = $1`,
    [publisherId],
  );
  if (updated[1] === 0) return undefined;
  const [, n] = await em.query<[unknown[], number]>(
    `UPDATE publisher_deliveries SET next_attempt_at = now(), first_attempt_at = NULL
      WHERE publisher_id = $1 AND status = 'pending'`,
    [publisherId],
  );
  return n;
}

/**
 * Sends dead deliveries again (after the cause is fixed): each becomes pending, due now, with a
 * fresh retry window. Filters: a publisher, or some entry ids. A delivery that is not dead is left
 * alone, so replaying twice is harmless. Returns the entry ids re-armed.
 */
export async function replayDeadDeliveries(
  em: EntityManager,
  filter: { publisherId?: string; entryIds?: string[] },
): Promise<string[]> {
  // An UPDATE answers [rows, count] through TypeORM's postgres driver.
  const [rows] = await em.query<[{ entry_id: string }[], number]>(
    `UPDATE publisher_deliveries SET status = 'pending', next_attempt_at = now(), first_attempt_at = NULL,
            finished_at = NULL
      WHERE status = 'dead' AND ($1::varchar IS NULL OR publisher_id = $1)
        AND ($2::varchar[] IS NULL OR entry_id = ANY($2))
      RETURNING entry_id`,
    [filter.publisherId ?? null, filter.entryIds ?? null],
  );
  return rows.map((r) => r.entry_id);
}

export interface DeliveryView {
  entry_id: string;
  publisher_id: string;
  conversion_id: string;
  entry_type: string;
  status: string;
  attempts: number;
  next_attempt_at: string | null;
  first_attempt_at: string | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  finished_at: string | null;
}

export async function listDeliveries(
  em: EntityManager,
  q: { publisherId?: string; status?: string; limit: number },
): Promise<DeliveryView[]> {
  const rows = await em.query<Record<string, unknown>[]>(
    `SELECT entry_id, publisher_id, conversion_id, entry_type, status, attempts,
            CASE WHEN status = 'pending' THEN next_attempt_at END AS next_attempt_at, first_attempt_at,
            last_status_code, last_error, created_at, finished_at
       FROM publisher_deliveries
      WHERE ($1::varchar IS NULL OR publisher_id = $1) AND ($2::varchar IS NULL OR status = $2)
      ORDER BY seq DESC LIMIT $3`,
    [q.publisherId ?? null, q.status ?? null, q.limit],
  );
  const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : null);
  return rows.map((r) => ({
    entry_id: r.entry_id as string,
    publisher_id: r.publisher_id as string,
    conversion_id: r.conversion_id as string,
    entry_type: r.entry_type as string,
    status: r.status as string,
    attempts: r.attempts as number,
    next_attempt_at: iso(r.next_attempt_at),
    first_attempt_at: iso(r.first_attempt_at),
    last_status_code: (r.last_status_code as number | null) ?? null,
    last_error: (r.last_error as string | null) ?? null,
    created_at: iso(r.created_at) ?? '',
    finished_at: iso(r.finished_at),
  }));
}

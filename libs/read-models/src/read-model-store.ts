import type { DataSource, EntityManager } from 'typeorm';
import { appendedEntries, Handover } from '@app/ledger';
import {
  emptyDelta,
  type ProjectedEntry,
  type ProjectedOutcome,
  type ProjectionDelta,
  projectEntry,
  projectOutcome,
  RECON_COUNTS,
  RECON_MONEY,
} from './projection';

/** Advisory lock held by whoever writes the read models (the projector, or a rebuild). */
export const PROJECTOR_LOCK = 7_331_002;
export const READ_MODEL_TABLES = [
  'recon_daily',
  'recon_daily_reasons',
  'recon_daily_rewards',
  'latency_daily',
  'review_queue',
] as const;
const CHECKPOINT = { projection: 'read_models', topic: 'projection_queue', partition: 0 };

const ENTRY_SELECT = `
  SELECT e.seq, e.entry_id, e.entry_type, e.conversion_id, e.partner_id, e.offer_id, e.publisher_id, e.transaction_id,
         e.click_id, e.sub1, e.placement, e.geo, e.currency, e.amount_micros,
         COALESCE(e.payout_micros, 0)::text AS payout_micros, e.reward_amount::text AS reward_amount, e.reward_currency,
         e.reason_bucket, e.reason_code,
         e.occurred_at, e.clicked_at, e.late, e.postback_delay_ms, e.payload->>'operator' AS operator,
         e.seq = (SELECT min(f.seq) FROM ledger_entries f WHERE f.conversion_id = e.conversion_id) AS first,
         c.first_received_at
    FROM ledger_entries e LEFT JOIN conversions c ON c.conversion_id = e.conversion_id`;

const OUTCOME_SELECT = `
  SELECT o.event_id, o.partner_id, o.offer_id, o.publisher_id, o.sub1, o.placement, o.geo,
         COALESCE(e.currency, c.currency, '') AS currency, o.outcome, o.reason_bucket, o.reason_code, o.entry_id,
         o.attempts, o.received_at
    FROM postback_outcomes o
    LEFT JOIN ledger_entries e ON e.entry_id = o.entry_id
    LEFT JOIN conversions c ON c.conversion_id = o.conversion_id`;

/** Writes a delta: counters added cell by cell (in key order), review queue rows replaced. */
export async function applyDelta(em: EntityManager, d: ProjectionDelta): Promise<void> {
  const sorted = <T>(m: Map<string, T>) =>
    [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, v]) => v);
  const json = (rows: object[]) =>
    JSON.stringify(rows, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  const cell = `day date, partner_id text, offer_id text, publisher_id text, source text, placement text, geo text, currency text`;
  const cellCols = `day, partner_id, offer_id, publisher_id, source, placement, geo, currency`;
  if (d.recon.size) {
    const cols = [...RECON_COUNTS, ...RECON_MONEY];
    await em.query(
      `INSERT INTO recon_daily (${cellCols}, ${cols.join(', ')})
       SELECT ${cellCols}, ${cols.join(', ')}
         FROM jsonb_to_recordset($1::jsonb) AS x(${cell}, ${RECON_COUNTS.map((c) => `${c} int`).join(', ')},
           ${RECON_MONEY.map((c) => `${c} bigint`).join(', ')})
       ON CONFLICT (${cellCols}) DO UPDATE SET ${cols.map((c) => `${c} = recon_daily.${c} + EXCLUDED.${c}`).join(', ')}`,
      [json(sorted(d.recon))],
    );
  }
  if (d.reasons.size) {
    await em.query(
      `INSERT INTO recon_daily_reasons (${cellCols}, reason_bucket, reason_code, count)
       SELECT ${cellCols}, reason_bucket, reason_code, count
         FROM jsonb_to_recordset($1::jsonb) AS x(${cell}, reason_bucket text, reason_code text, count int)
       ON CONFLICT (${cellCols}, reason_bucket, reason_code) DO UPDATE SET count = recon_daily_reasons.count + EXCLUDED.count`,
      [json(sorted(d.reasons))],
    );
  }
  if (d.rewards.size) {
    await em.query(
      `INSERT INTO recon_daily_rewards (${cellCols}, reward_currency, issued, reversed)
       SELECT ${cellCols}, reward_currency, issued, reversed
         FROM jsonb_to_recordset($1::jsonb) AS x(${cell}, reward_currency text, issued bigint, reversed bigint)
       ON CONFLICT (${cellCols}, reward_currency) DO UPDATE SET issued = recon_daily_rewards.issued + EXCLUDED.issued,
         reversed = recon_daily_rewards.reversed + EXCLUDED.reversed`,
      [json(sorted(d.rewards))],
    );
  }
  if (d.latency.size) {
    const seg = `day, partner_id, offer_id, publisher_id, placement, geo, metric, le_ms`;
    await em.query(
      `INSERT INTO latency_daily (${seg}, count, sum_ms)
       SELECT ${seg}, count, sum_ms
         FROM jsonb_to_recordset($1::jsonb) AS x(day date, partner_id text, offer_id text, publisher_id text,
           placement text, geo text, metric text, le_ms bigint, count int, sum_ms bigint)
       ON CONFLICT (${seg}) DO UPDATE SET count = latency_daily.count + EXCLUDED.count,
         sum_ms = latency_daily.sum_ms + EXCLUDED.sum_ms`,
      [json(sorted(d.latency))],
    );
  }
  if (d.review.size) {
    await em.query(`DELETE FROM review_queue WHERE conversion_id = ANY($1)`, [[...d.review.keys()]]);
    const held = [...d.review.values()].filter((r) => r !== null);
    if (held.length)
      await em.query(
        `INSERT INTO review_queue (conversion_id, held_entry_id, held_at, reason_code, amount_micros, currency, partner_id,
           offer_id, publisher_id, transaction_id, click_id, sub1, placement, geo, clicked_at, postback_delay_ms)
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(conversion_id text, held_entry_id text, held_at timestamptz,
           reason_code text, amount_micros bigint, currency text, partner_id text, offer_id text, publisher_id text,
           transaction_id text, click_id text, sub1 text, placement text, geo text, clicked_at timestamptz,
           postback_delay_ms bigint)`,
        [json(held)],
      );
  }
}

function deltaOf(entries: ProjectedEntry[], outcomes: ProjectedOutcome[]): ProjectionDelta {
  const d = emptyDelta();
  for (const e of entries) projectEntry(d, e);
  for (const o of outcomes) projectOutcome(d, o);
  return d;
}

/** Where the projector found the rows of the items it took: handed over in memory, or read back. */
export interface ProjectionSources {
  memory: number;
  store: number;
}

/**
 * Final outcomes this process has just written, as the projector would read them back
 * (`OUTCOME_SELECT`): handed over in memory, keyed by event id and fenced by the outcome's
 * `projection_queue` sequence number (see `Handover`). The processor fills it (postback-writer.ts).
 */
export const decidedOutcomes = new Handover<ProjectedOutcome>();

/** Ledger entries as the projector reads them back from Postgres. */
export const readEntriesBack = (em: EntityManager, entryIds: readonly string[]) =>
  em.query<ProjectedEntry[]>(`${ENTRY_SELECT} WHERE e.entry_id = ANY($1)`, [entryIds]);

/** Final outcomes as the projector reads them back from Postgres. */
export const readOutcomesBack = (em: EntityManager, eventIds: readonly string[]) =>
  em.query<ProjectedOutcome[]>(`${OUTCOME_SELECT} WHERE o.event_id = ANY($1)`, [eventIds]);

const bySeq = (a: { seq: string }, b: { seq: string }) => {
  const x = BigInt(a.seq);
  const y = BigInt(b.seq);
  return x < y ? -1 : x > y ? 1 : 0;
};

/**
 * The entries and outcomes of the queue rows taken, entries in ledger order: what this process's
 * writers handed over for exactly those rows (`appendedEntries`, `decidedOutcomes`), and the rest
 * read back from Postgres, to the same rows (read-model-store.int-spec.ts).
 */
export async function readQueued(
  em: EntityManager,
  taken: readonly { seq: string; entry_id: string | null; event_id: string | null }[],
  sources: ProjectionSources = { memory: 0, store: 0 },
): Promise<{ entries: ProjectedEntry[]; outcomes: ProjectedOutcome[] }> {
  const entries: ProjectedEntry[] = [];
  const outcomes: ProjectedOutcome[] = [];
  const entryIds: string[] = [];
  const eventIds: string[] = [];
  for (const t of taken) {
    const seq = String(t.seq);
    if (t.entry_id) {
      const e = appendedEntries.get(t.entry_id, seq);
      if (e) entries.push(e);
      else entryIds.push(t.entry_id);
    }
    if (t.event_id) {
      const o = decidedOutcomes.get(t.event_id, seq);
      if (o) outcomes.push(o);
      else eventIds.push(t.event_id);
    }
  }
  sources.memory += entries.length + outcomes.length;
  sources.store += entryIds.length + eventIds.length;
  appendedEntries.forget(taken.flatMap((t) => (t.entry_id ? [t.entry_id] : [])));
  decidedOutcomes.forget(taken.flatMap((t) => (t.event_id ? [t.event_id] : [])));
  if (entryIds.length) entries.push(...(await readEntriesBack(em, entryIds)));
  if (eventIds.length) outcomes.push(...(await readOutcomesBack(em, eventIds)));
  entries.sort(bySeq);
  return { entries, outcomes };
}

/**
 * Projects up to `limit` queued items in the caller's transaction. The queue rows are deleted
 * in the same transaction as the read-model writes (the checkpoint), so a crash anywhere
 * replays the batch whole or not at all. Returns how many items it took; 0 when another
 * projector holds the lock. `sources` counts where their rows came from (`readQueued`).
 */
export async function projectQueued(
  em: EntityManager,
  limit = 5000,
  sources: ProjectionSources = { memory: 0, store: 0 },
): Promise<number> {
  const [{ locked }] = await em.query<[{ locked: boolean }]>(
    `SELECT pg_try_advisory_xact_lock($1) AS locked`,
    [PROJECTOR_LOCK],
  );
  if (!locked) return 0;
  const [taken] = await em.query<
    [{ seq: string; entry_id: string | null; event_id: string | null }[], number]
  >(
    `DELETE FROM projection_queue WHERE seq IN (SELECT seq FROM projection_queue ORDER BY seq LIMIT $1)
     RETURNING seq, entry_id, event_id`,
    [limit],
  );
  if (taken.length === 0) return 0;
  const { entries, outcomes } = await readQueued(em, taken, sources);
  await applyDelta(em, deltaOf(entries, outcomes));
  const last = taken.reduce((m, t) => (BigInt(t.seq) > m ? BigInt(t.seq) : m), 0n);
  await em.query(
    `INSERT INTO projection_checkpoints (projection, topic, partition, next_offset, updated_at)
     VALUES ($1, $2, $3, $4, now())
     ON CONFLICT (projection, topic, partition) DO UPDATE
       SET next_offset = GREATEST(projection_checkpoints.next_offset, EXCLUDED.next_offset), updated_at = now()`,
    [CHECKPOINT.projection, CHECKPOINT.topic, CHECKPOINT.partition, (last + 1n).toString()],
  );
  return taken.length;
}

export interface RebuildProgress {
  entries: number;
  outcomes: number;
}

/**
 * Runs `fn` in a REPEATABLE READ transaction whose snapshot is taken after the projector's lock
 * is held (a session lock taken before BEGIN), then commits it or, with `commit: false`, rolls it
 * back. The order matters for a rebuild: with the lock taken inside the transaction, the snapshot
 * predates the wait for it, so what the projector applied and dequeued meanwhile was truncated by
 * the rebuild and skipped as "still queued": lost (CI saw 181 of 3,000 postbacks go missing).
 */
export async function inRebuildTransaction<T>(
  ds: DataSource,
  fn: (em: EntityManager) => Promise<T>,
  opts: { commit: boolean },
): Promise<T> {
  const qr = ds.createQueryRunner();
  await qr.connect();
  try {
    await qr.query(`SELECT pg_advisory_lock($1)`, [PROJECTOR_LOCK]);
    try {
      await qr.startTransaction('REPEATABLE READ');
      try {
        const result = await fn(qr.manager);
        if (opts.commit) await qr.commitTransaction();
        else await qr.rollbackTransaction();
        return result;
      } catch (e) {
        if (qr.isTransactionActive) await qr.rollbackTransaction();
        throw e;
      }
    } finally {
      await qr.query(`SELECT pg_advisory_unlock($1)`, [PROJECTOR_LOCK]);
    }
  } finally {
    await qr.release();
  }
}

/**
 * Drops every read model and replays it from the ledger (and the final postback outcomes) in
 * the caller's transaction (REPEATABLE READ, so it reads one snapshot), holding the projector's
 * lock so nothing is projected meanwhile. Items still queued are left to the projector, which
 * will add them exactly once. Run it through `inRebuildTransaction`, which takes the lock before
 * the snapshot.
 */
export async function rebuildReadModels(
  em: EntityManager,
  onProgress: (p: RebuildProgress) => void = () => undefined,
  chunk = 5000,
): Promise<RebuildProgress> {
  // One snapshot for the whole rebuild: an entry committed meanwhile is neither replayed here nor
  // missing from the queue read below, so the projector adds it exactly once afterwards.
  const [{ level }] = await em.query<[{ level: string }]>(
    `SELECT current_setting('transaction_isolation') AS level`,
  );
  if (level !== 'repeatable read' && level !== 'serializable')
    throw new Error(`rebuildReadModels needs a REPEATABLE READ transaction (got ${level})`);
  await em.query(`SET LOCAL statement_timeout = '30min'`);
  await em.query(`SELECT pg_advisory_xact_lock($1)`, [PROJECTOR_LOCK]);
  await em.query(`TRUNCATE ${READ_MODEL_TABLES.join(', ')}`);
  const queued = await em.query<{ entry_id: string | null; event_id: string | null }[]>(
    `SELECT entry_id, event_id FROM projection_queue`,
  );
  const queuedEntries = new Set(queued.flatMap((q) => (q.entry_id ? [q.entry_id] : [])));
  const queuedEvents = new Set(queued.flatMap((q) => (q.event_id ? [q.event_id] : [])));
  const progress: RebuildProgress = { entries: 0, outcomes: 0 };

  let afterSeq = '0';
  for (;;) {
    const rows = await em.query<ProjectedEntry[]>(
      `${ENTRY_SELECT} WHERE e.seq > $1 ORDER BY e.seq LIMIT $2`,
      [afterSeq, chunk],
    );
    if (rows.length === 0) break;
    afterSeq = rows[rows.length - 1]!.seq;
    const todo = rows.filter((r) => !queuedEntries.has(r.entry_id));
    await applyDelta(em, deltaOf(todo, []));
    progress.entries += todo.length;
    onProgress(progress);
  }
  let afterEvent = '';
  for (;;) {
    const rows = await em.query<ProjectedOutcome[]>(
      `${OUTCOME_SELECT} WHERE o.outcome <> 'retry_scheduled' AND o.event_id > $1 ORDER BY o.event_id LIMIT $2`,
      [afterEvent, chunk],
    );
    if (rows.length === 0) break;
    afterEvent = rows[rows.length - 1]!.event_id;
    const todo = rows.filter((r) => !queuedEvents.has(r.event_id));
    await applyDelta(em, deltaOf([], todo));
    progress.outcomes += todo.length;
    onProgress(progress);
  }
  return progress;
}

/** A content hash per read-model table (order-independent), to compare a rebuild with what was there. */
export async function readModelHashes(
  em: EntityManager,
): Promise<Record<string, { rows: number; hash: string }>> {
  const out: Record<string, { rows: number; hash: string }> = {};
  for (const t of READ_MODEL_TABLES) {
    const [r] = await em.query<[{ rows: number; hash: string | null }]>(
      `SELECT count(*)::int AS rows, md5(string_agg(md5(t::text), '' ORDER BY md5(t::text))) AS hash FROM ${t} t`,
    );
    out[t] = { rows: r.rows, hash: r.hash ?? 'empty' };
  }
  return out;
}

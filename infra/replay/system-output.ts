import type { Client } from 'pg';
import { bump } from './reference';
import { stripNamespace } from './traffic-file';

export interface ObservedRow {
  event_id: string;
  outcome: string;
  reason_code: string | null;
  late: boolean;
  entry_id: string | null;
}

export interface LedgerRow {
  entry_id: string;
  entry_type: string;
  amount_micros: string;
  currency: string;
  source_event_id: string;
  payout_micros: string | null;
  reward_amount: string | null;
  reward_currency: string | null;
}

/** Metrics per reconciliation cell (day|offer|publisher|sub1|placement|geo), as `expectedCells` makes them. */
export type Cells = Map<string, Map<string, bigint>>;

/**
 * Where the per-cell numbers come from. The verifier reads two and compares each with the
 * reference: `SqlReconciliation` (SQL over the decision tables `postback_outcomes` and
 * `ledger_entries`, restricted to the replay's postbacks) and `ReadModelReconciliation` (the
 * projected read models `recon_daily` and `recon_daily_reasons`, restricted to the replay's
 * partners; they carry only part of the metrics, see `readModelSubset`).
 */
export interface ReconciliationSource {
  cells(eventIds: string[]): Promise<Cells>;
}

export class SqlReconciliation implements ReconciliationSource {
  constructor(
    private readonly db: Client,
    private readonly namespace: string,
  ) {}

  async cells(eventIds: string[]): Promise<Cells> {
    const cells: Cells = new Map();
    const dims = `to_char(%s AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, coalesce(nullif(offer_id, '-'), '-') AS offer_id,
                  coalesce(publisher_id, '-') AS publisher_id, coalesce(sub1, '-') AS sub1,
                  coalesce(placement, '-') AS placement, coalesce(geo, '-') AS geo`;
    const groupBy = 'day, offer_id, publisher_id, sub1, placement, geo';
    const outcomes = await this.db.query<
      CellRow & { outcome: string; reason_bucket: string | null; reason_code: string | null; n: string }
    >(
      `SELECT ${dims.replace('%s', 'received_at')}, outcome, reason_bucket, reason_code, count(*) AS n
         FROM postback_outcomes WHERE event_id = ANY($1) GROUP BY ${groupBy}, outcome, reason_bucket, reason_code`,
      [eventIds],
    );
    for (const r of outcomes.rows) {
      const key = this.cellKey(r);
      bump(cells, key, 'postbacks', BigInt(r.n));
      bump(cells, key, `outcome:${r.outcome}`, BigInt(r.n));
      if (r.reason_code && r.outcome !== 'duplicate')
        bump(cells, key, `reason:${r.reason_bucket}:${r.reason_code}`, BigInt(r.n));
    }
    const money = await this.db.query<
      CellRow & { entry_type: string; currency: string; n: string; micros: string }
    >(
      `SELECT ${dims.replace('%s', 'occurred_at')}, entry_type, currency, count(*) AS n, sum(amount_micros) AS micros
         FROM ledger_entries WHERE source_event_id = ANY($1) AND entry_type IN ('approved', 'reversed')
        GROUP BY ${groupBy}, entry_type, currency`,
      [eventIds],
    );
    for (const r of money.rows) {
      const key = this.cellKey(r);
      bump(cells, key, r.entry_type, BigInt(r.n));
      bump(cells, key, `${r.entry_type}_micros:${r.currency}`, BigInt(r.micros));
    }
    return cells;
  }

  private cellKey(r: CellRow): string {
    const ns = this.namespace;
    return [
      r.day,
      stripNamespace(ns, r.offer_id),
      stripNamespace(ns, r.publisher_id),
      r.sub1,
      r.placement,
      r.geo,
    ].join('|');
  }
}

interface CellRow {
  day: string;
  offer_id: string;
  publisher_id: string;
  sub1: string;
  placement: string;
  geo: string;
}

/** What the processor decided for these postbacks (the replay recorded their event ids). */
export async function observedOutcomes(db: Client, eventIds: string[]): Promise<Map<string, ObservedRow>> {
  const r = await db.query<ObservedRow>(
    `SELECT event_id, outcome, reason_code, late, entry_id FROM postback_outcomes WHERE event_id = ANY($1)`,
    [eventIds],
  );
  return new Map(r.rows.map((x) => [x.event_id, x]));
}

export async function ledgerRows(db: Client, eventIds: string[]): Promise<LedgerRow[]> {
  const r = await db.query<LedgerRow>(
    `SELECT entry_id, entry_type, amount_micros::text AS amount_micros, currency, source_event_id,
            payout_micros::text AS payout_micros, reward_amount::text AS reward_amount, reward_currency
       FROM ledger_entries WHERE source_event_id = ANY($1)`,
    [eventIds],
  );
  return r.rows;
}

/** Postbacks not decided yet: no outcome, or waiting for a retry. */
export async function undecided(db: Client, eventIds: string[]): Promise<number> {
  const r = await db.query<{ n: number }>(
    `SELECT ($2::int - count(*) FILTER (WHERE outcome <> 'retry_scheduled'))::int AS n
       FROM postback_outcomes WHERE event_id = ANY($1)`,
    [eventIds, eventIds.length],
  );
  return r.rows[0]?.n ?? eventIds.length;
}

/** Ledger entries of these postbacks committed but not yet published to the topic. */
export async function unpublished(db: Client, eventIds: string[]): Promise<number> {
  const r = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ledger_outbox o JOIN ledger_entries e ON e.entry_id = o.entry_id
      WHERE e.source_event_id = ANY($1)`,
    [eventIds],
  );
  return r.rows[0]?.n ?? 0;
}

/** Decisions and ledger entries of these postbacks still waiting in `projection_queue` (not in the read models yet). */
export async function unprojected(db: Client, eventIds: string[]): Promise<number> {
  const r = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM projection_queue q
      WHERE q.event_id = ANY($1)
         OR q.entry_id IN (SELECT entry_id FROM ledger_entries WHERE source_event_id = ANY($1))`,
    [eventIds],
  );
  return r.rows[0]?.n ?? 0;
}

/**
 * Whether a metric of `expectedCells` is one the read models carry, so the read-model comparison
 * can hold it to the reference:
 *
 * - `postbacks` <- `recon_daily.postbacks` (final outcomes; `retry_scheduled` is never projected,
 *   and the reference has no such outcome: the verifier waits for every postback to be decided);
 * - `outcome:accepted|held|duplicate|rejected` <- `accepted`, `held_postbacks`, `duplicates`,
 *   `rejected_postbacks`;
 * - `approved`, `reversed` and `approved_micros:CUR`, `reversed_micros:CUR` <- the columns of the
 *   same name, per row currency;
 * - `reason:hard:*`, `reason:soft:*` <- `recon_daily_reasons`, which holds every `rejected` ledger
 *   entry plus the rejected postbacks that made no entry (`invalid_transition`): together, every
 *   rejected postback by its reason (a replay has no operator decisions, whose rejects would be
 *   entries without a postback).
 *
 * Left out: `reason:manual:*`. In the reference those are the holds (`fraud_suspected`), whose
 * reason the read models keep only in `review_queue`, per conversion and only while the hold is
 * open, not per cell; the holds themselves are still compared through `outcome:held`.
 */
export function isReadModelMetric(metric: string): boolean {
  return (
    READ_MODEL_METRICS.has(metric) ||
    /^(approved|reversed)_micros:/.test(metric) ||
    metric.startsWith('reason:hard:') ||
    metric.startsWith('reason:soft:')
  );
}

const READ_MODEL_METRICS = new Set([
  'postbacks',
  'outcome:accepted',
  'outcome:held',
  'outcome:duplicate',
  'outcome:rejected',
  'approved',
  'reversed',
]);

/** The cells restricted to the metrics the read models carry; a cell left with none is dropped. */
export function readModelSubset(cells: Cells): Cells {
  const out: Cells = new Map();
  for (const [key, metrics] of cells) {
    const kept = new Map([...metrics].filter(([m]) => isReadModelMetric(m)));
    if (kept.size) out.set(key, kept);
  }
  return out;
}

/** The dimensions of a `recon_daily` / `recon_daily_reasons` row ('' = unknown). */
export interface ReadModelCellRow {
  day: string;
  partner_id: string;
  offer_id: string;
  publisher_id: string;
  /** sub1 */
  source: string;
  placement: string;
  geo: string;
  currency: string;
}

export interface ReconDailyRow extends ReadModelCellRow {
  postbacks: number;
  accepted: number;
  held_postbacks: number;
  duplicates: number;
  rejected_postbacks: number;
  approved: number;
  approved_micros: string;
  reversed: number;
  reversed_micros: string;
}

export interface ReconReasonRow extends ReadModelCellRow {
  reason_bucket: string;
  reason_code: string;
  count: number;
}

/**
 * Read-model rows as verifier cells: partner and currency summed over (micros stay per currency),
 * '' shown as '-', the namespace stripped from offer and publisher ids.
 */
export function readModelCells(ns: string, recon: ReconDailyRow[], reasons: ReconReasonRow[]): Cells {
  const cells: Cells = new Map();
  const dim = (v: string) => (v === '' ? '-' : v);
  const keyOf = (r: ReadModelCellRow) =>
    [
      r.day,
      stripNamespace(ns, dim(r.offer_id)),
      stripNamespace(ns, dim(r.publisher_id)),
      dim(r.source),
      dim(r.placement),
      dim(r.geo),
    ].join('|');
  const add = (key: string, metric: string, v: bigint) => {
    if (v !== 0n) bump(cells, key, metric, v);
  };
  for (const r of recon) {
    const key = keyOf(r);
    add(key, 'postbacks', BigInt(r.postbacks));
    add(key, 'outcome:accepted', BigInt(r.accepted));
    add(key, 'outcome:held', BigInt(r.held_postbacks));
    add(key, 'outcome:duplicate', BigInt(r.duplicates));
    add(key, 'outcome:rejected', BigInt(r.rejected_postbacks));
    add(key, 'approved', BigInt(r.approved));
    add(key, `approved_micros:${r.currency}`, BigInt(r.approved_micros));
    add(key, 'reversed', BigInt(r.reversed));
    add(key, `reversed_micros:${r.currency}`, BigInt(r.reversed_micros));
  }
  for (const r of reasons) add(keyOf(r), `reason:${r.reason_bucket}:${r.reason_code}`, BigInt(r.count));
  return cells;
}

/**
 * The read models' cells: `recon_daily` and `recon_daily_reasons`, as the projector left them.
 * They are per cell, not per postback, so they are restricted to the replay by its partners (the
 * replay namespaces partner ids, and every row has its partner, also the rows of an unknown offer
 * or click); the namespace makes these partners the replay's own. The caller waits for
 * `projection_queue` to hold none of the replay's decisions first (`unprojected`). Days are as in
 * `SqlReconciliation`: postbacks by receipt, entries by `occurred_at`.
 */
export class ReadModelReconciliation implements ReconciliationSource {
  constructor(
    private readonly db: Client,
    private readonly namespace: string,
    /** The replay's partner ids, as the system knows them (namespaced). */
    private readonly partnerIds: string[],
  ) {}

  async cells(): Promise<Cells> {
    const dims = `to_char(day, 'YYYY-MM-DD') AS day, partner_id, offer_id, publisher_id, source, placement, geo, currency`;
    const recon = await this.db.query<ReconDailyRow>(
      `SELECT ${dims}, postbacks, accepted, held_postbacks, duplicates, rejected_postbacks,
              approved, approved_micros::text AS approved_micros, reversed, reversed_micros::text AS reversed_micros
         FROM recon_daily WHERE partner_id = ANY($1)`,
      [this.partnerIds],
    );
    const reasons = await this.db.query<ReconReasonRow>(
      `SELECT ${dims}, reason_bucket, reason_code, count FROM recon_daily_reasons WHERE partner_id = ANY($1)`,
      [this.partnerIds],
    );
    return readModelCells(this.namespace, recon.rows, reasons.rows);
  }
}

/**
 * The double entry of these postbacks' ledger entries, checked against the entries themselves:
 * every entry that moves money has postings, they sum to zero, the advertiser's leg is its
 * revenue and the publisher's its payout (signed as MONEY.md says). One line per problem.
 */
export async function postingProblems(db: Client, eventIds: string[]): Promise<string[]> {
  const r = await db.query<{ entry_id: string; problem: string }>(
    `WITH e AS (
       SELECT entry_id, entry_type, publisher_id,
              CASE WHEN entry_type = 'reversed' THEN -1 ELSE 1 END * amount_micros AS revenue,
              CASE WHEN entry_type = 'reversed' THEN -1 ELSE 1 END * coalesce(payout_micros, 0) AS payout
         FROM ledger_entries WHERE source_event_id = ANY($1)),
     p AS (
       SELECT e.entry_id, count(l.posting_id) AS legs, coalesce(sum(l.amount_micros), 0) AS total,
              coalesce(sum(l.amount_micros) FILTER (WHERE l.account LIKE 'advertiser_receivable:%'), 0) AS receivable,
              coalesce(-sum(l.amount_micros) FILTER (WHERE l.account LIKE 'publisher_payable:%'), 0) AS payable
         FROM e LEFT JOIN ledger_postings l ON l.entry_id = e.entry_id GROUP BY e.entry_id)
     SELECT e.entry_id,
            CASE WHEN p.total <> 0 THEN 'postings do not sum to zero (' || p.total || ')'
                 WHEN e.entry_type IN ('approved', 'released', 'reversed', 'adjusted') AND e.revenue <> p.receivable
                   THEN 'advertiser receivable ' || p.receivable || ', revenue ' || e.revenue
                 WHEN e.entry_type IN ('approved', 'released', 'reversed', 'adjusted') AND e.publisher_id IS NOT NULL
                      AND e.payout <> p.payable THEN 'publisher payable ' || p.payable || ', payout ' || e.payout
                 WHEN e.entry_type NOT IN ('approved', 'released', 'reversed', 'adjusted') AND p.legs > 0
                   THEN e.entry_type || ' entry has postings' END AS problem
       FROM e JOIN p USING (entry_id)`,
    [eventIds],
  );
  return r.rows.filter((x) => x.problem !== null).map((x) => `entry ${x.entry_id}: ${x.problem}`);
}

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
}

/** Metrics per reconciliation cell (day|offer|publisher|sub1|placement|geo), as `expectedCells` makes them. */
export type Cells = Map<string, Map<string, bigint>>;

/**
 * Where the per-cell numbers come from. Today: SQL over `postback_outcomes` and `ledger_entries`;
 * once `GET /v1/reports/reconciliation` exists, an implementation over it replaces this one
 * (its rows map onto the same metrics: postbacks, accepted, duplicates, rejected_by_reason,
 * held, approved/reversed counts and micros per currency).
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
    `SELECT entry_id, entry_type, amount_micros::text AS amount_micros, currency, source_event_id
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

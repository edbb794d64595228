import type { EntityManager } from 'typeorm';
import type { ConversionState, PostbackStatus, ReasonCode } from '@app/domain';

/** A `conversions` row as the writers read it under lock. */
export interface ConversionRow {
  conversion_id: string;
  offer_id: string;
  transaction_id: string;
  goal: string;
  partner_id: string;
  click_id: string;
  publisher_id: string | null;
  status: ConversionState['status'];
  requested: PostbackStatus;
  amount_micros: string;
  currency: string;
  reason_code: string | null;
  sub1: string | null;
  sub2: string | null;
  sub3: string | null;
  sub4: string | null;
  sub5: string | null;
  placement: string | null;
  geo: string | null;
  device: string | null;
  clicked_at: Date | null;
  first_received_at: Date;
  entries: number;
}

export interface LockedConversion {
  row: ConversionRow;
  state: ConversionState;
}

export function stateOf(r: ConversionRow): ConversionState {
  return {
    conversionId: r.conversion_id,
    partnerId: r.partner_id,
    status: r.status,
    requested: r.requested,
    amountMicros: BigInt(r.amount_micros),
    currency: r.currency,
    reason: r.reason_code as ReasonCode | null,
    firstReceivedAt: r.first_received_at,
    entries: r.entries,
  };
}

/**
 * Takes the lock of each conversion key (offer + transaction + goal, as its id) for the rest of
 * the caller's transaction, then reads the conversions that exist. Every writer of the ledger
 * takes it before reading the state it decides on: the processor (any partition, any instance),
 * operator review, dispute adjustments and replays. A transaction-scoped advisory lock covers a
 * conversion that has no row yet, so two partners reporting one transaction at the same moment
 * are decided one after the other. Locks are taken in the order of their keys, so writers never
 * deadlock on them (and a processor takes them only after its partner-transaction locks).
 */
export async function lockConversions(
  em: EntityManager,
  conversionIds: readonly string[],
): Promise<Map<string, LockedConversion>> {
  const ids = [...new Set(conversionIds)].sort();
  if (ids.length === 0) return new Map();
  await em.query(
    `SELECT pg_advisory_xact_lock(${LOCK_NAMESPACE}, h) FROM (SELECT DISTINCT hashtext(id) AS h FROM unnest($1::text[]) id ORDER BY 1) s`,
    [ids],
  );
  const rows = await em.query<ConversionRow[]>(
    `SELECT conversion_id, offer_id, transaction_id, goal, partner_id, click_id, publisher_id, status, requested,
            amount_micros, currency, reason_code, sub1, sub2, sub3, sub4, sub5, placement, geo, device, clicked_at,
            first_received_at, entries
       FROM conversions WHERE conversion_id = ANY($1) ORDER BY conversion_id FOR UPDATE`,
    [ids],
  );
  return new Map(rows.map((r) => [r.conversion_id, { row: r, state: stateOf(r) }]));
}

/** The advisory-lock namespace of conversion keys (two-key form: never meets another lock of ours). */
export const LOCK_NAMESPACE = 7_100;

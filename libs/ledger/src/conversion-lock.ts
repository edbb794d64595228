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
  payout_micros: string | null;
  reward_amount: string | null;
  reward_currency: string | null;
  payout_rule_id: string | null;
  reward_rule_id: string | null;
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
    payoutMicros: r.payout_micros === null ? undefined : BigInt(r.payout_micros),
    rewardAmount: r.reward_amount === null ? null : BigInt(r.reward_amount),
    rewardCurrency: r.reward_currency,
    payoutRuleId: r.payout_rule_id === null ? null : String(r.payout_rule_id),
    rewardRuleId: r.reward_rule_id === null ? null : String(r.reward_rule_id),
  };
}

/** A conversion key to lock: its id, and the partner transaction id it was reported under. */
export interface ConversionLockKey {
  conversionId: string;
  transactionId: string;
}

/**
 * The ledger's lock: one transaction-scoped advisory lock per transaction id, taken in key order
 * (so writers never deadlock on them) for the rest of the caller's transaction. Every conversion
 * key (offer + transaction + goal) and every partner transaction (partner + transaction) holds
 * one transaction id, so one lock serialises both: two partners reporting one conversion, and
 * one partner's postbacks of a transaction across the consumer, the retry queue and instances.
 * Unrelated postbacks that share a transaction id wait for each other, which is rare and only
 * costs time. One lock per postback matters: Postgres keeps every transaction's locks in one
 * shared table (max_locks_per_transaction x max_connections).
 */
export async function lockTransactions(em: EntityManager, transactionIds: readonly string[]): Promise<void> {
  const ids = [...new Set(transactionIds)];
  if (ids.length === 0) return;
  await em.query(
    `SELECT pg_advisory_xact_lock(${LOCK_NAMESPACE}, h) FROM (SELECT DISTINCT hashtext(id) AS h FROM unnest($1::text[]) id ORDER BY 1) s`,
    [ids],
  );
}

/**
 * Takes the ledger's lock for each conversion key (`lockTransactions`), then reads the
 * conversions that exist, `FOR UPDATE`. Every writer of the ledger takes it before reading the
 * state it decides on: the processor (any partition, any instance), operator review, dispute
 * adjustments and replays. An advisory lock also covers a conversion that has no row yet, so two
 * partners reporting one transaction at the same moment are decided one after the other.
 */
export async function lockConversions(
  em: EntityManager,
  keys: readonly ConversionLockKey[],
): Promise<Map<string, LockedConversion>> {
  if (keys.length === 0) return new Map();
  await lockTransactions(
    em,
    keys.map((k) => k.transactionId),
  );
  const ids = [...new Set(keys.map((k) => k.conversionId))].sort();
  const rows = await em.query<ConversionRow[]>(
    `SELECT conversion_id, offer_id, transaction_id, goal, partner_id, click_id, publisher_id, status, requested,
            amount_micros, currency, reason_code, sub1, sub2, sub3, sub4, sub5, placement, geo, device, clicked_at,
            first_received_at, entries, payout_micros, reward_amount, reward_currency, payout_rule_id, reward_rule_id
       FROM conversions WHERE conversion_id = ANY($1) ORDER BY conversion_id FOR UPDATE`,
    [ids],
  );
  return new Map(rows.map((r) => [r.conversion_id, { row: r, state: stateOf(r) }]));
}

/** The advisory-lock namespace of the ledger's lock (two-key form: never meets another lock of ours). */
export const LOCK_NAMESPACE = 7_100;

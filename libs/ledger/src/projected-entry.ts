import type { LedgerEntryV1 } from '@app/contracts';
import type { EntryMoney } from '@app/domain';
import { Handover } from './handover';

/** A ledger entry as the projector reads it (joined with what it needs to know about its conversion). */
export interface ProjectedEntry {
  seq: string;
  entry_id: string;
  entry_type: string;
  conversion_id: string;
  partner_id: string;
  offer_id: string;
  publisher_id: string | null;
  transaction_id: string;
  click_id: string;
  sub1: string | null;
  placement: string | null;
  geo: string | null;
  currency: string;
  amount_micros: string;
  /** The publisher's payout the entry moves, signed like amount_micros (0 when none). */
  payout_micros: string;
  /** The user's reward in whole units of reward_currency (null: none). */
  reward_amount: string | null;
  reward_currency: string | null;
  reason_bucket: string | null;
  reason_code: string | null;
  occurred_at: Date;
  clicked_at: Date | null;
  late: boolean;
  postback_delay_ms: string | null;
  operator: string | null;
  /** The conversion's first entry (its first postback). */
  first: boolean;
  /** When the conversion was first reported. */
  first_received_at: Date | null;
}

/**
 * The entries this process has just appended, as the read-model projector would read them back
 * (`ENTRY_SELECT` in libs/read-models): handed over in memory (`Handover`), keyed by entry id and
 * fenced by the entry's `projection_queue` sequence number. The projector reads from Postgres
 * what it does not find here, to the same rows (read-model-store.int-spec.ts).
 */
export const appendedEntries = new Handover<ProjectedEntry>();

/**
 * An appended entry as the projector reads it: `first` when it is its conversion's first entry,
 * `firstReceivedAt` its conversion's `first_received_at`.
 */
export function projectedEntry(
  e: LedgerEntryV1,
  money: EntryMoney,
  seq: string,
  first: boolean,
  firstReceivedAt: Date,
): ProjectedEntry {
  return {
    seq,
    entry_id: e.entry_id,
    entry_type: e.entry_type,
    conversion_id: e.conversion_id,
    partner_id: e.partner_id,
    offer_id: e.offer_id,
    publisher_id: e.publisher_id,
    transaction_id: e.transaction_id,
    click_id: e.click_id,
    sub1: e.sub1,
    placement: e.placement,
    geo: e.geo,
    currency: e.currency,
    amount_micros: e.amount_micros,
    payout_micros: money.payoutMicros.toString(),
    reward_amount: money.rewardAmount?.toString() ?? null,
    reward_currency: money.rewardCurrency,
    reason_bucket: e.reason_bucket,
    reason_code: e.reason_code,
    occurred_at: new Date(e.occurred_at),
    clicked_at: e.clicked_at === null ? null : new Date(e.clicked_at),
    late: e.late,
    postback_delay_ms: e.postback_delay_ms === null ? null : String(e.postback_delay_ms),
    operator: e.operator ?? null,
    first,
    first_received_at: firstReceivedAt,
  };
}

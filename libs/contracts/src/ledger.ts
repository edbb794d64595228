/**
 * One entry on `conversions.ledger` (key: conversion_id): an immutable fact billing consumes.
 * Dedupe on `entry_id` (re-processing the same input yields the same id). Corrections are new
 * entries: a reversal is an entry of type `reversed` carrying the amount it takes back.
 */
export interface LedgerEntryV1 {
  schema_version: 1;
  entry_id: string;
  entry_type: 'pending' | 'approved' | 'rejected' | 'held' | 'released' | 'reversed' | 'adjusted';
  conversion_id: string;
  /** The conversion's status after this entry. */
  conversion_status: 'pending' | 'approved' | 'rejected' | 'reversed' | 'held';
  click_id: string;
  transaction_id: string;
  offer_id: string;
  publisher_id: string | null;
  partner_id: string;
  goal: string;
  /** Integer micros as a string (1 unit = 1,000,000). approved: revenue; reversed: revenue taken back; held: at stake. */
  amount_micros: string;
  currency: string;
  reason_bucket: 'hard' | 'soft' | 'manual' | null;
  reason_code: string | null;
  sub1: string | null;
  sub2: string | null;
  sub3: string | null;
  sub4: string | null;
  sub5: string | null;
  placement: string | null;
  geo: string | null;
  device: string | null;
  clicked_at: string | null;
  /** When the postback (or operator decision) behind this entry arrived. */
  occurred_at: string;
  recorded_at: string;
  /** A first-time postback that arrived long after its click: valid, flagged. */
  late: boolean;
  postback_delay_ms: number | null;
  /** The postback event (or operator action) this entry comes from. */
  source_event_id: string;
  operator: string | null;
  note: string | null;
}

/** One double-entry leg of a ledger entry (v2): debit > 0, credit < 0, never 0. */
export interface LedgerPostingV2 {
  posting_id: string;
  account: string;
  currency: string;
  amount_micros: string;
}

/**
 * One entry on `conversions.ledger.v2`: every field of version 1 with the same meaning, plus its
 * money, its origin and its postings. The same entries (same entry_id, key, order) as on
 * `conversions.ledger`, which keeps carrying version 1 for its consumers (docs/ledger.md).
 */
export interface LedgerEntryV2 extends Omit<LedgerEntryV1, 'schema_version'> {
  schema_version: 2;
  /** Equal to amount_micros. */
  revenue_micros: string;
  payout_micros: string;
  margin_micros: string;
  reward_amount: string | null;
  reward_currency: string | null;
  payout_rule_id: string | null;
  reward_rule_id: string | null;
  user_id: string | null;
  original_amount_micros: string | null;
  original_currency: string | null;
  fx_rate: string | null;
  fx_date: string | null;
  postings: LedgerPostingV2[];
}

export type LedgerEntry = LedgerEntryV1 | LedgerEntryV2;

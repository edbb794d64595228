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

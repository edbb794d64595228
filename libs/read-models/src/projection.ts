import type { ProjectedEntry } from '@app/ledger';
import { latencyBucket, type LatencyMetric } from './latency';

export type { ProjectedEntry };

/** A final postback outcome as the projector reads it. */
export interface ProjectedOutcome {
  event_id: string;
  partner_id: string;
  offer_id: string | null;
  publisher_id: string | null;
  sub1: string | null;
  placement: string | null;
  geo: string | null;
  /** The currency of its entry, else of its conversion, else ''. */
  currency: string;
  outcome: string;
  reason_bucket: string | null;
  reason_code: string | null;
  entry_id: string | null;
  attempts: number;
  received_at: Date;
}

export interface ReconCellKey {
  day: string;
  partner_id: string;
  offer_id: string;
  publisher_id: string;
  source: string;
  placement: string;
  geo: string;
  currency: string;
}

export const RECON_COUNTS = [
  'postbacks',
  'accepted',
  'held_postbacks',
  'duplicates',
  'rejected_postbacks',
  'soft_retried',
  'late',
  'pending',
  'approved',
  'held',
  'released',
  'rejected',
  'reversed',
  'adjusted',
] as const;
export const RECON_MONEY = [
  'approved_micros',
  'held_micros',
  'released_micros',
  'reversed_micros',
  'adjusted_micros',
  // The publisher's payout, per entry type like the revenue above.
  'approved_payout_micros',
  'released_payout_micros',
  'reversed_payout_micros',
  'adjusted_payout_micros',
] as const;
export type ReconCount = (typeof RECON_COUNTS)[number];
export type ReconMoney = (typeof RECON_MONEY)[number];
export type ReconDelta = ReconCellKey & Record<ReconCount, number> & Record<ReconMoney, bigint>;
export type ReasonDelta = ReconCellKey & { reason_bucket: string; reason_code: string; count: number };
/** User rewards per cell and virtual currency (whole units): issued by approvals and releases (and signed adjustments), taken back by reversals. */
export type RewardDelta = ReconCellKey & { reward_currency: string; issued: bigint; reversed: bigint };

export interface LatencyDelta {
  day: string;
  partner_id: string;
  offer_id: string;
  publisher_id: string;
  placement: string;
  geo: string;
  metric: LatencyMetric;
  le_ms: number;
  count: number;
  sum_ms: bigint;
}

/** A held conversion in the review queue: the hold's entry fields, named for the queue. */
export type ReviewRow = Pick<
  ProjectedEntry,
  | 'conversion_id'
  | 'amount_micros'
  | 'currency'
  | 'partner_id'
  | 'offer_id'
  | 'publisher_id'
  | 'transaction_id'
  | 'click_id'
  | 'sub1'
  | 'placement'
  | 'geo'
  | 'clicked_at'
  | 'postback_delay_ms'
> & { held_entry_id: string; held_at: Date; reason_code: string };

export interface ProjectionDelta {
  recon: Map<string, ReconDelta>;
  reasons: Map<string, ReasonDelta>;
  rewards: Map<string, RewardDelta>;
  latency: Map<string, LatencyDelta>;
  /** Per conversion: the row it now has in the review queue, or null to take it out. */
  review: Map<string, ReviewRow | null>;
}

const utcDay = (d: Date) => d.toISOString().slice(0, 10);
/** Offer '-' (a postback naming no known offer) and missing tags share the '' cell value. */
const dim = (v: string | null) => (v === null || v === '-' ? '' : v);

export function emptyDelta(): ProjectionDelta {
  return { recon: new Map(), reasons: new Map(), rewards: new Map(), latency: new Map(), review: new Map() };
}

function cellOf(
  at: Date,
  r: Pick<
    ProjectedOutcome,
    'partner_id' | 'offer_id' | 'publisher_id' | 'sub1' | 'placement' | 'geo' | 'currency'
  >,
): ReconCellKey {
  return {
    day: utcDay(at),
    partner_id: r.partner_id,
    offer_id: dim(r.offer_id),
    publisher_id: dim(r.publisher_id),
    source: dim(r.sub1),
    placement: dim(r.placement),
    geo: dim(r.geo),
    currency: r.currency,
  };
}

const keyOf = (c: ReconCellKey) =>
  JSON.stringify([c.day, c.partner_id, c.offer_id, c.publisher_id, c.source, c.placement, c.geo, c.currency]);

function reconRow(d: ProjectionDelta, c: ReconCellKey): ReconDelta {
  const k = keyOf(c);
  let row = d.recon.get(k);
  if (!row) {
    row = { ...c } as ReconDelta;
    for (const f of RECON_COUNTS) row[f] = 0;
    for (const f of RECON_MONEY) row[f] = 0n;
    d.recon.set(k, row);
  }
  return row;
}

function addReason(d: ProjectionDelta, c: ReconCellKey, bucket: string | null, code: string | null): void {
  const k = JSON.stringify([keyOf(c), bucket, code]);
  const row = d.reasons.get(k) ?? { ...c, reason_bucket: bucket ?? '', reason_code: code ?? '', count: 0 };
  row.count++;
  d.reasons.set(k, row);
}

function addReward(d: ProjectionDelta, c: ReconCellKey, e: ProjectedEntry, sign: 1n | -1n): void {
  const units = e.reward_amount === null ? 0n : BigInt(e.reward_amount);
  if (units === 0n || !e.reward_currency) return;
  const k = JSON.stringify([keyOf(c), e.reward_currency]);
  const row = d.rewards.get(k) ?? { ...c, reward_currency: e.reward_currency, issued: 0n, reversed: 0n };
  if (sign === 1n) row.issued += units;
  else row.reversed += units;
  d.rewards.set(k, row);
}

function addLatency(d: ProjectionDelta, e: ProjectedEntry, metric: LatencyMetric, ms: number): void {
  const seg = {
    day: utcDay(e.occurred_at),
    partner_id: e.partner_id,
    offer_id: dim(e.offer_id),
    publisher_id: dim(e.publisher_id),
    placement: dim(e.placement),
    geo: dim(e.geo),
    metric,
    le_ms: latencyBucket(ms),
  };
  const k = JSON.stringify(Object.values(seg));
  const row = d.latency.get(k) ?? { ...seg, count: 0, sum_ms: 0n };
  row.count++;
  row.sum_ms += BigInt(Math.max(0, Math.round(ms)));
  d.latency.set(k, row);
}

/** Adds one ledger entry's effect to the delta. Entries of one conversion must come in ledger order. */
export function projectEntry(d: ProjectionDelta, e: ProjectedEntry): void {
  const cell = cellOf(e.occurred_at, e);
  const row = reconRow(d, cell);
  const amount = BigInt(e.amount_micros);
  const payout = BigInt(e.payout_micros);
  switch (e.entry_type) {
    case 'pending':
      row.pending++;
      break;
    case 'approved':
      row.approved++;
      row.approved_micros += amount;
      row.approved_payout_micros += payout;
      addReward(d, cell, e, 1n);
      break;
    case 'held':
      row.held++;
      row.held_micros += amount;
      break;
    case 'released':
      row.released++;
      row.released_micros += amount;
      row.released_payout_micros += payout;
      addReward(d, cell, e, 1n);
      break;
    case 'rejected':
      row.rejected++;
      addReason(d, cell, e.reason_bucket, e.reason_code);
      break;
    case 'reversed':
      row.reversed++;
      row.reversed_micros += amount;
      row.reversed_payout_micros += payout;
      addReward(d, cell, e, -1n);
      break;
    case 'adjusted':
      row.adjusted++;
      row.adjusted_micros += amount;
      row.adjusted_payout_micros += payout;
      // An adjustment moves no reward today (priceEntry); one that did would be signed like its amount.
      addReward(d, cell, e, 1n);
      break;
  }
  if (e.late) row.late++;

  // Latency: a conversion's first postback measures click to conversion; later partner
  // postbacks (approval after pending, reversal) measure how long the status took.
  if (e.operator === null && e.clicked_at) {
    if (e.first) addLatency(d, e, 'click_to_conversion', e.occurred_at.getTime() - e.clicked_at.getTime());
    else if (e.first_received_at)
      addLatency(d, e, 'postback_delay', e.occurred_at.getTime() - e.first_received_at.getTime());
  }

  d.review.set(
    e.conversion_id,
    e.entry_type === 'held'
      ? {
          conversion_id: e.conversion_id,
          held_entry_id: e.entry_id,
          held_at: e.occurred_at,
          reason_code: e.reason_code ?? '',
          amount_micros: e.amount_micros,
          currency: e.currency,
          partner_id: e.partner_id,
          offer_id: e.offer_id,
          publisher_id: e.publisher_id,
          transaction_id: e.transaction_id,
          click_id: e.click_id,
          sub1: e.sub1,
          placement: e.placement,
          geo: e.geo,
          clicked_at: e.clicked_at,
          postback_delay_ms: e.postback_delay_ms,
        }
      : null,
  );
}

/** Adds one final postback outcome to the delta (its entry, if any, is projected on its own). */
export function projectOutcome(d: ProjectionDelta, o: ProjectedOutcome): void {
  const cell = cellOf(o.received_at, o);
  const row = reconRow(d, cell);
  row.postbacks++;
  if (o.attempts > 0) row.soft_retried++;
  switch (o.outcome) {
    case 'accepted':
      row.accepted++;
      break;
    case 'held':
      row.held_postbacks++;
      break;
    case 'duplicate':
      row.duplicates++;
      break;
    case 'rejected':
      row.rejected_postbacks++;
      // A reject that made no ledger entry (invalid transition) still counts under its reason.
      if (o.entry_id === null) addReason(d, cell, o.reason_bucket, o.reason_code);
      break;
  }
}

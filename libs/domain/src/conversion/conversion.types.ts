import type { EntryMoney } from '../payouts/payout-rules';
import type { PostbackStatus } from '../key-dictionary';

/** Where a conversion stands. `held` waits for an operator; rejected and reversed are terminal. */
export type ConversionStatus = 'pending' | 'approved' | 'rejected' | 'reversed' | 'held';

/** Ledger entry types: immutable facts. Corrections are new entries, never edits. */
export type EntryType = 'pending' | 'approved' | 'rejected' | 'held' | 'released' | 'reversed' | 'adjusted';

export type ReasonBucket = 'hard' | 'soft' | 'manual';

export const HARD_REASONS = [
  'offer_mismatch',
  'unknown_click',
  'unknown_offer',
  'click_expired',
  'blocked_geo',
  'blocked_source',
  'traffic_quality',
  'cap_exceeded',
  'invalid_goal',
  'invalid_transition',
  'duplicate',
  'advertiser_rejected',
  'operator_rejected',
  'partner_not_allowed',
  'currency_mismatch',
  'payout_above_max',
  'invalid_payload',
] as const;
export const SOFT_REASONS = [
  'click_not_found_yet',
  'exchange_rate_missing',
  'dependency_unavailable',
  'timeout',
  'retry_exhausted',
] as const;
export const MANUAL_REASONS = ['fraud_suspected', 'compliance_review', 'payout_above_threshold'] as const;

export type HardReason = (typeof HARD_REASONS)[number];
export type SoftReason = (typeof SOFT_REASONS)[number];
export type ManualReason = (typeof MANUAL_REASONS)[number];
export type ReasonCode = HardReason | SoftReason | ManualReason;

export function bucketOf(code: ReasonCode): ReasonBucket {
  if ((HARD_REASONS as readonly string[]).includes(code)) return 'hard';
  if ((SOFT_REASONS as readonly string[]).includes(code)) return 'soft';
  return 'manual';
}

/** A postback as the processor sees it (already authenticated and normalised by the gateway). */
export interface PostbackFacts {
  eventId: string;
  partnerId: string;
  clickId: string;
  transactionId: string;
  status: PostbackStatus;
  offerId: string | null;
  payoutMicros: bigint | null;
  currency: string | null;
  event: string | null;
  receivedAt: Date;
}

export interface ClickFacts {
  clickId: string;
  offerId: string;
  publisherId: string;
  sub1: string | null;
  sub2: string | null;
  sub3: string | null;
  sub4: string | null;
  sub5: string | null;
  placement: string | null;
  geo: string | null;
  device: string | null;
  clickedAt: Date;
  /** The wall's user id sent with the click (`uid`); null or absent when none was sent. */
  userId?: string | null;
}

export interface OfferFacts {
  id: string;
  status: 'active' | 'paused';
  payoutMicros: bigint;
  currency: string;
  allowedGeos: readonly string[] | null;
  dailyCap: number | null;
  payoutCapMicros: bigint | null;
  attributionWindowHours: number;
  goals: readonly string[];
  /** Faster click-to-conversion than this is held as fraud_suspected. */
  minConversionSeconds: number | null;
  /** A payout above this is held as payout_above_threshold. */
  holdPayoutAboveMicros: bigint | null;
  /** Clicks from these geos convert only after a compliance review (compliance_review hold). */
  reviewGeos: readonly string[] | null;
  /** More than `maxConversions` new conversions from one source within `windowSeconds` are held (fraud_suspected). */
  burst: { maxConversions: number; windowSeconds: number } | null;
  /** The partners allowed to report it; null: any active partner. */
  partnerIds?: readonly string[] | null;
  /** An approval above this is refused (payout_above_max); null: no maximum. */
  maxPayoutMicros?: bigint | null;
}

export interface ConversionState {
  conversionId: string;
  /** The partner whose postback created it: only that partner's postbacks change it. */
  partnerId: string;
  status: ConversionStatus;
  /** Approved: the revenue it carries; held: the amount at stake; otherwise 0. */
  amountMicros: bigint;
  currency: string;
  /** The latest status the partner sent that was applied: repeats of it are duplicates. */
  requested: PostbackStatus;
  /** Why it is rejected or held, if it is. */
  reason: ReasonCode | null;
  /** When the conversion was first reported: click-to-conversion time is measured to it. */
  firstReceivedAt?: Date;
  /** Ledger entries it has so far, where known. */
  entries?: number;
  /** Approved: the publisher's payout it carries; held: at stake; otherwise 0 (undefined where not known). */
  payoutMicros?: bigint;
  /** The user's reward its approval (or hold) carries, in `rewardCurrency`. */
  rewardAmount?: bigint | null;
  rewardCurrency?: string | null;
  payoutRuleId?: string | null;
  rewardRuleId?: string | null;
}

/**
 * What one ledger entry says about its conversion: all `evolve` needs, whether the entry is being
 * written now or read back from `ledger_entries` when rebuilding.
 */
export interface EntryFacts {
  conversionId: string;
  entryType: EntryType;
  amountMicros: bigint;
  currency: string;
  reason: ReasonCode | null;
  /** The partner status this entry applied; null for an operator's entry, which leaves it as it was. */
  requested: PostbackStatus | null;
  partnerId: string;
  occurredAt: Date;
  /** The entry's money besides revenue (entries written before payout rules have none). */
  money?: EntryMoney;
}

/** What the offer has used on the conversion's UTC day, for caps. */
export interface CapUsage {
  conversions: number;
  payoutMicros: bigint;
}

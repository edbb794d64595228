import type { ConversionState, EntryType } from '../conversion/conversion.types';
import { divideHalfEven } from '../exchange-rate';

/** 100 % in basis points of a percent (72.5 % = 7250). */
export const FULL_SHARE_BP = 10_000;

/**
 * What the publisher earns on an offer's conversions (MONEY.md): a share of the advertiser's
 * revenue or a fixed amount in the offer's currency. `goal` and `publisherId` null apply to every
 * goal and every publisher; a rule naming the publisher (an override) beats one that does not,
 * then one naming the goal; among rules alike, the latest `effectiveFrom` not after the
 * conversion wins. Rules are never edited: a change is a new rule from a later time.
 */
export interface PayoutRule {
  id: string;
  offerId: string;
  goal: string | null;
  publisherId: string | null;
  kind: 'share' | 'fixed';
  /** kind share: basis points of a percent, 0..10000. */
  shareBp: number | null;
  /** kind fixed: micros in the offer's currency. */
  amountMicros: bigint | null;
  effectiveFrom: Date;
}

/**
 * The user's reward in a publisher app's virtual currency: `unitsPerUnit` of it per one unit
 * (1,000,000 micros) of the publisher's payout, rounded to whole units by `rounding`, at least
 * `minimum` when there is any payout. Not our money: recorded on the entry, in no account.
 */
export interface RewardRule {
  id: string;
  publisherId: string;
  currencyName: string;
  /** Decimal, up to 6 places, scaled by 1,000,000 (100 coins per unit = 100_000_000n). */
  unitsPerUnitMicros: bigint;
  rounding: 'floor' | 'round' | 'ceil';
  minimum: bigint;
  effectiveFrom: Date;
}

/** The money of one ledger entry besides its revenue (`amount_micros`). */
export interface EntryMoney {
  /** The publisher's payout this entry moves, signed like the entry's amount (a reversal's is what it takes back). */
  payoutMicros: bigint;
  rewardAmount: bigint | null;
  rewardCurrency: string | null;
  payoutRuleId: string | null;
  rewardRuleId: string | null;
}

export const NO_MONEY: EntryMoney = {
  payoutMicros: 0n,
  rewardAmount: null,
  rewardCurrency: null,
  payoutRuleId: null,
  rewardRuleId: null,
};

export function pickPayoutRule(
  rules: readonly PayoutRule[],
  q: { offerId: string; goal: string; publisherId: string | null; at: Date },
): PayoutRule | undefined {
  let best: PayoutRule | undefined;
  let bestRank = -1;
  for (const r of rules) {
    if (r.offerId !== q.offerId || r.effectiveFrom.getTime() > q.at.getTime()) continue;
    if (r.goal !== null && r.goal !== q.goal) continue;
    if (r.publisherId !== null && r.publisherId !== q.publisherId) continue;
    const rank = (r.publisherId !== null ? 2 : 0) + (r.goal !== null ? 1 : 0);
    if (
      rank > bestRank ||
      (rank === bestRank && best && r.effectiveFrom.getTime() > best.effectiveFrom.getTime())
    ) {
      best = r;
      bestRank = rank;
    }
  }
  return best;
}

export function pickRewardRule(
  rules: readonly RewardRule[],
  q: { publisherId: string | null; at: Date },
): RewardRule | undefined {
  let best: RewardRule | undefined;
  for (const r of rules)
    if (
      r.publisherId === q.publisherId &&
      r.effectiveFrom.getTime() <= q.at.getTime() &&
      (!best || r.effectiveFrom.getTime() > best.effectiveFrom.getTime())
    )
      best = r;
  return best;
}

/** The publisher's payout on `revenueMicros` under a rule; without one, the whole revenue (as before rules existed). */
export function payoutOf(rule: PayoutRule | undefined, revenueMicros: bigint): bigint {
  if (!rule) return revenueMicros;
  if (rule.kind === 'fixed') return rule.amountMicros ?? 0n;
  return divideHalfEven(revenueMicros * BigInt(rule.shareBp ?? 0), BigInt(FULL_SHARE_BP));
}

export function rewardOf(rule: RewardRule, payoutMicros: bigint): bigint {
  if (payoutMicros <= 0n) return 0n;
  const n = payoutMicros * rule.unitsPerUnitMicros;
  const d = 1_000_000n * 1_000_000n;
  let units = n / d;
  if (rule.rounding === 'ceil' && n % d !== 0n) units += 1n;
  if (rule.rounding === 'round') units = divideHalfEven(n, d);
  return units < rule.minimum ? rule.minimum : units;
}

export interface PricingInput {
  entryType: EntryType;
  /** The entry's revenue (`amount_micros`). */
  amountMicros: bigint;
  offerId: string;
  goal: string;
  publisherId: string | null;
  /** When the conversion happened (the postback's arrival): the rules in force then apply. */
  at: Date;
  /** The conversion before this entry. */
  state: ConversionState | undefined;
  payoutRules: readonly PayoutRule[];
  rewardRules: readonly RewardRule[];
}

/**
 * The payout and reward of one entry. An approval (or a hold, the money at stake) is priced by
 * the rules in force at `at`; a release carries what its hold was priced at; a reversal takes
 * back exactly what the approval gave; an adjustment moves the payout in proportion to the
 * approval's share of revenue; the other entries move no money.
 */
export function priceEntry(p: PricingInput): EntryMoney {
  const s = p.state;
  switch (p.entryType) {
    case 'approved':
    case 'held': {
      if (p.amountMicros === 0n) return NO_MONEY;
      if (p.publisherId === null) return NO_MONEY;
      const rule = pickPayoutRule(p.payoutRules, p);
      const payoutMicros = payoutOf(rule, p.amountMicros);
      const reward = pickRewardRule(p.rewardRules, p);
      return {
        payoutMicros,
        rewardAmount: reward ? rewardOf(reward, payoutMicros) : null,
        rewardCurrency: reward?.currencyName ?? null,
        payoutRuleId: rule?.id ?? null,
        rewardRuleId: reward?.id ?? null,
      };
    }
    case 'released':
      if (s?.payoutMicros !== undefined && s.status === 'held')
        return {
          payoutMicros: s.payoutMicros,
          rewardAmount: s.rewardAmount ?? null,
          rewardCurrency: s.rewardCurrency ?? null,
          payoutRuleId: s.payoutRuleId ?? null,
          rewardRuleId: s.rewardRuleId ?? null,
        };
      return priceEntry({ ...p, entryType: 'approved' });
    case 'reversed':
      return {
        payoutMicros: s?.payoutMicros ?? (p.publisherId === null ? 0n : p.amountMicros),
        rewardAmount: s?.rewardAmount ?? null,
        rewardCurrency: s?.rewardCurrency ?? null,
        payoutRuleId: s?.payoutRuleId ?? null,
        rewardRuleId: s?.rewardRuleId ?? null,
      };
    case 'adjusted': {
      const revenue = s?.amountMicros ?? 0n;
      const payout = s?.payoutMicros ?? 0n;
      return {
        ...NO_MONEY,
        payoutMicros: revenue === 0n ? 0n : divideHalfEven(p.amountMicros * payout, revenue),
        payoutRuleId: s?.payoutRuleId ?? null,
      };
    }
    case 'pending':
    case 'rejected':
      return NO_MONEY;
  }
}

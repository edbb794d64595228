import type { EntityManager } from 'typeorm';
import type { PayoutRule, RewardRule } from '@app/domain';

/** A `payout_rules` row as Postgres returns it. */
export interface PayoutRuleRow {
  rule_id: string;
  offer_id: string;
  goal: string | null;
  publisher_id: string | null;
  kind: 'share' | 'fixed';
  share_bp: number | null;
  amount_micros: string | null;
  effective_from: Date;
}

/** A `reward_rules` row as Postgres returns it. */
export interface RewardRuleRow {
  rule_id: string;
  publisher_id: string;
  currency_name: string;
  units_per_unit_micros: string;
  rounding: 'floor' | 'round' | 'ceil';
  minimum: string;
  effective_from: Date;
}

export const payoutRuleOf = (r: PayoutRuleRow): PayoutRule => ({
  id: String(r.rule_id),
  offerId: r.offer_id,
  goal: r.goal,
  publisherId: r.publisher_id,
  kind: r.kind,
  shareBp: r.share_bp,
  amountMicros: r.amount_micros === null ? null : BigInt(r.amount_micros),
  effectiveFrom: r.effective_from,
});

export const rewardRuleOf = (r: RewardRuleRow): RewardRule => ({
  id: String(r.rule_id),
  publisherId: r.publisher_id,
  currencyName: r.currency_name,
  unitsPerUnitMicros: BigInt(r.units_per_unit_micros),
  rounding: r.rounding,
  minimum: BigInt(r.minimum),
  effectiveFrom: r.effective_from,
});

export interface MoneyRules {
  payoutRules: PayoutRule[];
  rewardRules: RewardRule[];
}

/**
 * The payout rules of these offers and the reward rules of these publishers, read in the caller's
 * transaction (not from a cache): a rule committed before the decision applies to it at once.
 * Rules are never edited nor dated back over a written entry, so deciding again prices the same.
 */
export async function loadMoneyRules(
  em: EntityManager,
  offerIds: readonly (string | null | undefined)[],
  publisherIds: readonly (string | null | undefined)[],
): Promise<MoneyRules> {
  const offers = [...new Set(offerIds.filter((x): x is string => !!x))].sort();
  const publishers = [...new Set(publisherIds.filter((x): x is string => !!x))].sort();
  // Shared with every other decision, exclusive with a rule being added for the same offer or
  // publisher (the MoneyModel migration's trigger): a rule either committed before these reads,
  // or waits for this transaction's entries and then refuses to reach back over them.
  if (offers.length || publishers.length)
    await em.query(
      `SELECT pg_advisory_xact_lock_shared(ns, hashtext(k)) FROM (
         SELECT 7300 AS ns, k FROM unnest($1::text[]) k UNION ALL SELECT 7301, k FROM unnest($2::text[]) k
         ORDER BY 1, 2) s`,
      [offers, publishers],
    );
  const [payout, reward] = await Promise.all([
    offers.length
      ? em.query<PayoutRuleRow[]>(
          `SELECT rule_id, offer_id, goal, publisher_id, kind, share_bp, amount_micros, effective_from
             FROM payout_rules WHERE offer_id = ANY($1)`,
          [offers],
        )
      : [],
    publishers.length
      ? em.query<RewardRuleRow[]>(
          `SELECT rule_id, publisher_id, currency_name, units_per_unit_micros, rounding, minimum, effective_from
             FROM reward_rules WHERE publisher_id = ANY($1)`,
          [publishers],
        )
      : [],
  ]);
  return { payoutRules: payout.map(payoutRuleOf), rewardRules: reward.map(rewardRuleOf) };
}

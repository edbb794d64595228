import type { EntityManager } from 'typeorm';
import type { PayoutRule, RewardRule } from '@app/domain';

export interface MoneyRules {
  payoutRules: PayoutRule[];
  rewardRules: RewardRule[];
}

/**
 * The payout rules of these offers and the reward rules of these publishers, read in the caller's
 * transaction (not from a cache): a rule committed before the decision applies to it at once.
 * Rules are never edited nor dated in the past, so deciding again later prices the same.
 */
export async function loadMoneyRules(
  em: EntityManager,
  offerIds: readonly (string | null | undefined)[],
  publisherIds: readonly (string | null | undefined)[],
): Promise<MoneyRules> {
  const offers = [...new Set(offerIds.filter((x): x is string => !!x))];
  const publishers = [...new Set(publisherIds.filter((x): x is string => !!x))];
  const [payout, reward] = await Promise.all([
    offers.length
      ? em.query<
          {
            rule_id: string;
            offer_id: string;
            goal: string | null;
            publisher_id: string | null;
            kind: 'share' | 'fixed';
            share_bp: number | null;
            amount_micros: string | null;
            effective_from: Date;
          }[]
        >(
          `SELECT rule_id, offer_id, goal, publisher_id, kind, share_bp, amount_micros, effective_from
             FROM payout_rules WHERE offer_id = ANY($1)`,
          [offers],
        )
      : [],
    publishers.length
      ? em.query<
          {
            rule_id: string;
            publisher_id: string;
            currency_name: string;
            units_per_unit_micros: string;
            rounding: 'floor' | 'round' | 'ceil';
            minimum: string;
            effective_from: Date;
          }[]
        >(
          `SELECT rule_id, publisher_id, currency_name, units_per_unit_micros, rounding, minimum, effective_from
             FROM reward_rules WHERE publisher_id = ANY($1)`,
          [publishers],
        )
      : [],
  ]);
  return {
    payoutRules: payout.map((r) => ({
      id: String(r.rule_id),
      offerId: r.offer_id,
      goal: r.goal,
      publisherId: r.publisher_id,
      kind: r.kind,
      shareBp: r.share_bp,
      amountMicros: r.amount_micros === null ? null : BigInt(r.amount_micros),
      effectiveFrom: r.effective_from,
    })),
    rewardRules: reward.map((r) => ({
      id: String(r.rule_id),
      publisherId: r.publisher_id,
      currencyName: r.currency_name,
      unitsPerUnitMicros: BigInt(r.units_per_unit_micros),
      rounding: r.rounding,
      minimum: BigInt(r.minimum),
      effectiveFrom: r.effective_from,
    })),
  };
}

/**
 * The payout_rules and reward_rules tables: adding a rule (the only write: rules are never edited,
 * deleted or dated back over an entry already written, and the database refuses it anyway) and listing them with the
 * rule in force at a time, chosen by the same functions that price ledger entries.
 */
import type { EntityManager } from 'typeorm';
import { payoutRuleOf, rewardRuleOf } from '@app/ledger';
import { formatMicros, type PayoutRule, pickPayoutRule, pickRewardRule, type RewardRule } from '@app/domain';
import {
  formatShareBp,
  formatUnits,
  type PayoutKind,
  type PayoutRuleInput,
  type RewardRounding,
  type RewardRuleInput,
  reachesBack,
  ruleStart,
  RuleRefused,
} from './rule-input';

/** A listing holds at most this many rules (then `truncated`). */
export const MAX_LISTED_RULES = 10_000;

export interface PayoutRuleView {
  rule_id: string;
  offer_id: string;
  /** null: every goal. */
  goal: string | null;
  /** null: every publisher; else an override for this one. */
  publisher_id: string | null;
  kind: PayoutKind;
  /** kind share: the percentage of revenue ("70", "72.5") and the same in basis points. */
  share_percent: string | null;
  share_bp: number | null;
  /** kind fixed: the payout in the offer's currency, and in micros. */
  amount: string | null;
  amount_micros: string | null;
  currency: string | null;
  effective_from: string;
  note: string | null;
  created_by: string | null;
  created_at: string;
  /** The rule its offer, goal and publisher follow at the listing's `at` (not superseded, not future). */
  in_force?: boolean;
}

export interface RewardRuleView {
  rule_id: string;
  publisher_id: string;
  currency_name: string;
  /** Reward units per 1 unit of payout ("100"), and in millionths. */
  units_per_unit: string;
  units_per_unit_micros: string;
  rounding: RewardRounding;
  minimum: number;
  effective_from: string;
  note: string | null;
  created_by: string | null;
  created_at: string;
  in_force?: boolean;
}

interface PayoutRow {
  rule_id: string;
  offer_id: string;
  goal: string | null;
  publisher_id: string | null;
  kind: PayoutKind;
  share_bp: number | null;
  amount_micros: string | null;
  effective_from: Date;
  note: string | null;
  created_by: string | null;
  created_at: Date;
  currency: string | null;
}

interface RewardRow {
  rule_id: string;
  publisher_id: string;
  currency_name: string;
  units_per_unit_micros: string;
  rounding: RewardRounding;
  minimum: string;
  effective_from: Date;
  note: string | null;
  created_by: string | null;
  created_at: Date;
}

const PAYOUT_SELECT = `SELECT r.rule_id::text AS rule_id, r.offer_id, r.goal, r.publisher_id, r.kind, r.share_bp,
       r.amount_micros::text AS amount_micros, r.effective_from, r.note, r.created_by, r.created_at, o.currency
  FROM payout_rules r LEFT JOIN offers o ON o.id = r.offer_id`;
const REWARD_SELECT = `SELECT rule_id::text AS rule_id, publisher_id, currency_name,
       units_per_unit_micros::text AS units_per_unit_micros, rounding, minimum::text AS minimum,
       effective_from, note, created_by, created_at
  FROM reward_rules`;

const payoutView = (r: PayoutRow): PayoutRuleView => ({
  rule_id: r.rule_id,
  offer_id: r.offer_id,
  goal: r.goal,
  publisher_id: r.publisher_id,
  kind: r.kind,
  share_percent: r.share_bp === null ? null : formatShareBp(r.share_bp),
  share_bp: r.share_bp,
  amount: r.amount_micros === null ? null : formatMicros(BigInt(r.amount_micros)),
  amount_micros: r.amount_micros,
  currency: r.currency,
  effective_from: r.effective_from.toISOString(),
  note: r.note,
  created_by: r.created_by,
  created_at: r.created_at.toISOString(),
});

const rewardView = (r: RewardRow): RewardRuleView => ({
  rule_id: r.rule_id,
  publisher_id: r.publisher_id,
  currency_name: r.currency_name,
  units_per_unit: formatUnits(r.units_per_unit_micros),
  units_per_unit_micros: r.units_per_unit_micros,
  rounding: r.rounding,
  minimum: Number(r.minimum),
  effective_from: r.effective_from.toISOString(),
  note: r.note,
  created_by: r.created_by,
  created_at: r.created_at.toISOString(),
});

const asPayoutRule = payoutRuleOf;
const asRewardRule = rewardRuleOf;

/** The database's clock: the one the rules' trigger compares effective_from with. */
async function databaseNow(em: EntityManager): Promise<Date> {
  const [row] = await em.query<{ now: Date }[]>(`SELECT now() AS now`);
  return row!.now;
}

async function requirePublisher(em: EntityManager, publisherId: string): Promise<void> {
  const [p] = await em.query<unknown[]>(`SELECT 1 FROM publishers WHERE id = $1`, [publisherId]);
  if (!p)
    throw new RuleRefused('unknown', 'unknown_publisher', 'publisher_id', `no publisher ${publisherId}`);
}

/** Runs a rule's INSERT; the trigger's refusal of a rule reaching back over entries is a 409. */
async function insertRule(em: EntityManager, sql: string, params: unknown[]): Promise<{ rule_id: string }[]> {
  try {
    return await em.query<{ rule_id: string }[]>(sql, params);
  } catch (e) {
    throw reachesBack(e) ?? e;
  }
}

const conflict = (what: string) =>
  new RuleRefused(
    'conflict',
    'rule_exists',
    'effective_from',
    `${what} already has a rule starting at that time; rules are never edited: add one from another time`,
  );

/**
 * Adds a payout rule: its offer must exist (and name the goal), and its publisher. Call it in a
 * transaction (the caller writes the audit record in it); the rule starts at the database's now
 * unless another start is asked for.
 */
export async function addPayoutRule(
  em: EntityManager,
  input: PayoutRuleInput,
  createdBy: string,
): Promise<PayoutRuleView> {
  const [offer] = await em.query<{ goals: string[] }[]>(`SELECT goals FROM offers WHERE id = $1`, [
    input.offerId,
  ]);
  if (!offer) throw new RuleRefused('unknown', 'unknown_offer', 'offer_id', `no offer ${input.offerId}`);
  if (input.goal !== null && !offer.goals.includes(input.goal))
    throw new RuleRefused(
      'invalid',
      'unknown_goal',
      'goal',
      `goal ${input.goal} is not one of offer ${input.offerId}'s goals (${offer.goals.join(', ')})`,
    );
  if (input.publisherId !== null) await requirePublisher(em, input.publisherId);
  const start = ruleStart(input.effectiveFrom, await databaseNow(em));
  // DO NOTHING: a rule for the same offer, goal, publisher and start is a 409, not an aborted transaction.
  const [inserted] = await insertRule(
    em,
    `INSERT INTO payout_rules (offer_id, goal, publisher_id, kind, share_bp, amount_micros, effective_from, note, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING RETURNING rule_id::text AS rule_id`,
    [
      input.offerId,
      input.goal,
      input.publisherId,
      input.kind,
      input.shareBp,
      input.amountMicros?.toString() ?? null,
      start,
      input.note,
      createdBy.slice(0, 64),
    ],
  );
  if (!inserted)
    throw conflict(
      `offer ${input.offerId}, goal ${input.goal ?? '(every goal)'}, publisher ${input.publisherId ?? '(every publisher)'}`,
    );
  const [row] = await em.query<PayoutRow[]>(`${PAYOUT_SELECT} WHERE r.rule_id = $1`, [inserted.rule_id]);
  return payoutView(row!);
}

/** Adds a reward rule for a publisher that exists; as addPayoutRule for the transaction and the start. */
export async function addRewardRule(
  em: EntityManager,
  input: RewardRuleInput,
  createdBy: string,
): Promise<RewardRuleView> {
  await requirePublisher(em, input.publisherId);
  const start = ruleStart(input.effectiveFrom, await databaseNow(em));
  const [inserted] = await insertRule(
    em,
    `INSERT INTO reward_rules (publisher_id, currency_name, units_per_unit_micros, rounding, minimum, effective_from, note, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING RETURNING rule_id::text AS rule_id`,
    [
      input.publisherId,
      input.currencyName,
      input.unitsPerUnitMicros.toString(),
      input.rounding,
      input.minimum.toString(),
      start,
      input.note,
      createdBy.slice(0, 64),
    ],
  );
  if (!inserted) throw conflict(`publisher ${input.publisherId}`);
  const [row] = await em.query<RewardRow[]>(`${REWARD_SELECT} WHERE rule_id = $1`, [inserted.rule_id]);
  return rewardView(row!);
}

/** What pays a publisher on one goal of an offer at `at`: a rule, or none (the whole revenue). */
export interface PayoutInForce {
  goal: string;
  /** null: every publisher without an override of its own. */
  publisher_id: string | null;
  rule_id: string | null;
  kind: PayoutKind | null;
  share_percent: string | null;
  amount: string | null;
}

export interface PayoutRuleList {
  at: string;
  items: PayoutRuleView[];
  /** With an offer: per goal and publisher (each with an override, and every other one), the rule that applies at `at`. */
  applies?: PayoutInForce[];
  truncated: boolean;
}

const keyOf = (r: PayoutRule) => JSON.stringify([r.offerId, r.goal, r.publisherId]);

/**
 * Payout rules, by offer and goal and publisher, newest start first. `publisherId` lists the
 * rules that can apply to that publisher: its overrides and the rules for every publisher.
 */
export async function listPayoutRules(
  em: EntityManager,
  q: { offerId?: string; publisherId?: string; at: Date },
): Promise<PayoutRuleList> {
  const rows = await em.query<PayoutRow[]>(
    `${PAYOUT_SELECT}
      WHERE ($1::varchar IS NULL OR r.offer_id = $1)
        AND ($2::varchar IS NULL OR r.publisher_id = $2 OR r.publisher_id IS NULL)
      ORDER BY r.offer_id, r.goal NULLS FIRST, r.publisher_id NULLS FIRST, r.effective_from DESC, r.rule_id DESC
      LIMIT ${MAX_LISTED_RULES + 1}`,
    [q.offerId ?? null, q.publisherId ?? null],
  );
  const truncated = rows.length > MAX_LISTED_RULES;
  const kept = rows.slice(0, MAX_LISTED_RULES);
  const rules = kept.map(asPayoutRule);
  // Per offer, goal and publisher, the rule in force at `at`: the latest start not after it.
  const byKey = new Map<string, PayoutRule[]>();
  for (const r of rules) {
    const same = byKey.get(keyOf(r));
    if (same) same.push(r);
    else byKey.set(keyOf(r), [r]);
  }
  const inForce = new Set<string>();
  for (const same of byKey.values()) {
    const [r] = same;
    const current = pickPayoutRule(same, {
      offerId: r!.offerId,
      goal: r!.goal ?? '',
      publisherId: r!.publisherId,
      at: q.at,
    });
    if (current) inForce.add(current.id);
  }
  const items = kept.map((row) => ({ ...payoutView(row), in_force: inForce.has(row.rule_id) }));
  const list: PayoutRuleList = { at: q.at.toISOString(), items, truncated };
  if (q.offerId !== undefined) {
    const [offer] = await em.query<{ goals: string[] }[]>(`SELECT goals FROM offers WHERE id = $1`, [
      q.offerId,
    ]);
    const publishers =
      q.publisherId !== undefined
        ? [q.publisherId]
        : [null, ...new Set(rules.flatMap((r) => (r.publisherId === null ? [] : [r.publisherId])))];
    list.applies = (offer?.goals ?? []).flatMap((goal) =>
      publishers.map((publisherId) => {
        const r = pickPayoutRule(rules, { offerId: q.offerId!, goal, publisherId, at: q.at });
        return {
          goal,
          publisher_id: publisherId,
          rule_id: r?.id ?? null,
          kind: r?.kind ?? null,
          share_percent: r?.shareBp == null ? null : formatShareBp(r.shareBp),
          amount: r?.amountMicros == null ? null : formatMicros(r.amountMicros),
        };
      }),
    );
  }
  return list;
}

export interface RewardRuleList {
  at: string;
  items: RewardRuleView[];
  truncated: boolean;
}

/** Reward rules, by publisher, newest start first, each marked when it is the one in force at `at`. */
export async function listRewardRules(
  em: EntityManager,
  q: { publisherId?: string; at: Date },
): Promise<RewardRuleList> {
  const rows = await em.query<RewardRow[]>(
    `${REWARD_SELECT} WHERE ($1::varchar IS NULL OR publisher_id = $1)
      ORDER BY publisher_id, effective_from DESC, rule_id DESC LIMIT ${MAX_LISTED_RULES + 1}`,
    [q.publisherId ?? null],
  );
  const kept = rows.slice(0, MAX_LISTED_RULES);
  const byPublisher = new Map<string, RewardRule[]>();
  for (const r of kept.map(asRewardRule)) {
    const same = byPublisher.get(r.publisherId);
    if (same) same.push(r);
    else byPublisher.set(r.publisherId, [r]);
  }
  const inForce = new Set<string>();
  for (const [publisherId, same] of byPublisher) {
    const current = pickRewardRule(same, { publisherId, at: q.at });
    if (current) inForce.add(current.id);
  }
  return {
    at: q.at.toISOString(),
    items: kept.map((row) => ({ ...rewardView(row), in_force: inForce.has(row.rule_id) })),
    truncated: rows.length > MAX_LISTED_RULES,
  };
}

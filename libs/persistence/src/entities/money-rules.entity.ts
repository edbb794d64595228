import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * What publishers earn per offer from a time on (libs/domain payouts). Never edited nor dated in
 * the past (a trigger refuses it): a change is a new rule from a later time.
 */
@Entity({ name: 'payout_rules' })
@Check('payout_rules_kind', `"kind" IN ('share', 'fixed')`)
@Check('payout_rules_share', `"share_bp" BETWEEN 0 AND 10000`)
@Check('payout_rules_amount', `"amount_micros" >= 0`)
@Check(
  'payout_rules_kind_amount',
  `("kind" = 'share' AND "share_bp" IS NOT NULL AND "amount_micros" IS NULL) OR ("kind" = 'fixed' AND "amount_micros" IS NOT NULL AND "share_bp" IS NULL)`,
)
// One rule per offer, goal, publisher and start (nulls alike): an expression index the migration makes.
@Index('payout_rules_key', { synchronize: false })
@Index('payout_rules_offer_idx', ['offerId'])
export class PayoutRuleEntity {
  @PrimaryGeneratedColumn('identity', { name: 'rule_id', type: 'bigint', generatedIdentity: 'BY DEFAULT' })
  ruleId!: string;
  @Column({ name: 'offer_id', type: 'varchar', length: 64 }) offerId!: string;
  @Column({ name: 'goal', type: 'varchar', length: 64, nullable: true }) goal!: string | null;
  @Column({ name: 'publisher_id', type: 'varchar', length: 64, nullable: true }) publisherId!: string | null;
  @Column({ name: 'kind', type: 'varchar', length: 8 }) kind!: 'share' | 'fixed';
  @Column({ name: 'share_bp', type: 'int', nullable: true }) shareBp!: number | null;
  @Column({ name: 'amount_micros', type: 'bigint', nullable: true }) amountMicros!: string | null;
  @Column({ name: 'effective_from', type: 'timestamptz' }) effectiveFrom!: Date;
  @Column({ name: 'note', type: 'varchar', length: 256, nullable: true }) note!: string | null;
  @Column({ name: 'created_by', type: 'varchar', length: 64, nullable: true }) createdBy!: string | null;
  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' }) createdAt!: Date;
}

/** User rewards per publisher app from a time on, in its virtual currency. Never edited. */
@Entity({ name: 'reward_rules' })
@Check('reward_rules_currency_name', `length(btrim("currency_name")) > 0`)
@Check('reward_rules_rate', `"units_per_unit_micros" > 0`)
@Check('reward_rules_rounding', `"rounding" IN ('floor', 'round', 'ceil')`)
@Check('reward_rules_minimum', `"minimum" >= 0`)
@Index('reward_rules_key', ['publisherId', 'effectiveFrom'], { unique: true })
export class RewardRuleEntity {
  @PrimaryGeneratedColumn('identity', { name: 'rule_id', type: 'bigint', generatedIdentity: 'BY DEFAULT' })
  ruleId!: string;
  @Column({ name: 'publisher_id', type: 'varchar', length: 64 }) publisherId!: string;
  @Column({ name: 'currency_name', type: 'varchar', length: 32 }) currencyName!: string;
  @Column({ name: 'units_per_unit_micros', type: 'bigint' }) unitsPerUnitMicros!: string;
  @Column({ name: 'rounding', type: 'varchar', length: 8 }) rounding!: 'floor' | 'round' | 'ceil';
  @Column({ name: 'minimum', type: 'bigint', default: 0 }) minimum!: string;
  @Column({ name: 'effective_from', type: 'timestamptz' }) effectiveFrom!: Date;
  @Column({ name: 'note', type: 'varchar', length: 256, nullable: true }) note!: string | null;
  @Column({ name: 'created_by', type: 'varchar', length: 64, nullable: true }) createdBy!: string | null;
  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' }) createdAt!: Date;
}

/**
 * Double entry of the ledger: each entry's legs sum to zero per currency (debit > 0, credit < 0).
 * Append-only; a statement whose postings do not balance is refused (see the migration).
 */
@Entity({ name: 'ledger_postings' })
@Check('ledger_postings_nonzero', `"amount_micros" <> 0`)
@Index('ledger_postings_entry_idx', ['entryId'])
export class LedgerPostingEntity {
  @Column({ name: 'posting_id', type: 'varchar', length: 40, primary: true }) postingId!: string;
  @Column({ name: 'entry_id', type: 'varchar', length: 32 }) entryId!: string;
  @Column({ name: 'account', type: 'varchar', length: 160 }) account!: string;
  @Column({ name: 'currency', type: 'char', length: 3 }) currency!: string;
  @Column({ name: 'amount_micros', type: 'bigint' }) amountMicros!: string;
  @Column({ name: 'recorded_at', type: 'timestamptz', default: () => 'now()' }) recordedAt!: Date;
}

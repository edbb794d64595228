import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * The append-only ledger: one row per entry published on `conversions.ledger`, exactly once
 * (entry_id). The database refuses UPDATE, DELETE and TRUNCATE on it (see the migration).
 */
@Entity({ name: 'ledger_entries' })
@Index('ledger_entries_seq_uq', ['seq'], { unique: true })
@Index('ledger_entries_conversion_idx', ['conversionId', 'seq'])
@Index('ledger_entries_occurred_idx', ['occurredAt'])
// One approval (approved or released) and at most one reversal per conversion, ever.
@Index('ledger_one_approval', ['conversionId'], {
  unique: true,
  where: "entry_type IN ('approved', 'released')",
})
@Index('ledger_one_reversal', ['conversionId'], { unique: true, where: "entry_type = 'reversed'" })
export class LedgerEntryEntity {
  @PrimaryColumn({ name: 'entry_id', type: 'varchar', length: 32 }) entryId!: string;
  /** Commit order: the order entries are published in. */
  @Column({ name: 'seq', type: 'bigint', generated: 'increment' }) seq!: string;
  @Column({ name: 'entry_type', type: 'varchar', length: 16 }) entryType!: string;
  @Column({ name: 'conversion_id', type: 'varchar', length: 32 }) conversionId!: string;
  @Column({ name: 'conversion_status', type: 'varchar', length: 16 }) conversionStatus!: string;
  @Column({ name: 'click_id', type: 'varchar', length: 128 }) clickId!: string;
  @Column({ name: 'transaction_id', type: 'varchar', length: 128 }) transactionId!: string;
  @Column({ name: 'offer_id', type: 'varchar', length: 64 }) offerId!: string;
  @Column({ name: 'publisher_id', type: 'varchar', length: 64, nullable: true }) publisherId!: string | null;
  @Column({ name: 'partner_id', type: 'varchar', length: 64 }) partnerId!: string;
  @Column({ name: 'goal', type: 'varchar', length: 64 }) goal!: string;
  @Column({ name: 'amount_micros', type: 'bigint' }) amountMicros!: string;
  @Column({ name: 'currency', type: 'char', length: 3 }) currency!: string;
  @Column({ name: 'reason_bucket', type: 'varchar', length: 16, nullable: true }) reasonBucket!:
    string | null;
  @Column({ name: 'reason_code', type: 'varchar', length: 32, nullable: true }) reasonCode!: string | null;
  @Column({ name: 'sub1', type: 'varchar', length: 256, nullable: true }) sub1!: string | null;
  @Column({ name: 'sub2', type: 'varchar', length: 256, nullable: true }) sub2!: string | null;
  @Column({ name: 'sub3', type: 'varchar', length: 256, nullable: true }) sub3!: string | null;
  @Column({ name: 'sub4', type: 'varchar', length: 256, nullable: true }) sub4!: string | null;
  @Column({ name: 'sub5', type: 'varchar', length: 256, nullable: true }) sub5!: string | null;
  @Column({ name: 'placement', type: 'varchar', length: 128, nullable: true }) placement!: string | null;
  @Column({ name: 'geo', type: 'char', length: 2, nullable: true }) geo!: string | null;
  @Column({ name: 'device', type: 'varchar', length: 16, nullable: true }) device!: string | null;
  @Column({ name: 'clicked_at', type: 'timestamptz', nullable: true }) clickedAt!: Date | null;
  /** When the postback (or operator decision) that caused it arrived. */
  @Column({ name: 'occurred_at', type: 'timestamptz' }) occurredAt!: Date;
  @Column({ name: 'recorded_at', type: 'timestamptz' }) recordedAt!: Date;
  @Column({ name: 'late', type: 'boolean' }) late!: boolean;
  /** Click to postback, in ms (null without a click). */
  @Column({ name: 'postback_delay_ms', type: 'bigint', nullable: true }) postbackDelayMs!: string | null;
  @Column({ name: 'source_event_id', type: 'varchar', length: 32 }) sourceEventId!: string;
  @Column({ name: 'schema_version', type: 'int' }) schemaVersion!: number;
  /** The partner status the entry applied (pending, approved, ...); null for an operator's entry. Not published. */
  @Column({ name: 'requested_status', type: 'varchar', length: 16, nullable: true }) requestedStatus!:
    string | null;
  /** Publisher payout this entry moves, signed like amount_micros; margin = amount - payout. */
  @Column({ name: 'payout_micros', type: 'bigint', nullable: true }) payoutMicros!: string | null;
  @Column({ name: 'reward_amount', type: 'bigint', nullable: true }) rewardAmount!: string | null;
  @Column({ name: 'reward_currency', type: 'varchar', length: 32, nullable: true }) rewardCurrency!:
    string | null;
  @Column({ name: 'payout_rule_id', type: 'bigint', nullable: true }) payoutRuleId!: string | null;
  @Column({ name: 'reward_rule_id', type: 'bigint', nullable: true }) rewardRuleId!: string | null;
  /** The wall's user id from the click (uid). */
  @Column({ name: 'user_id', type: 'varchar', length: 128, nullable: true }) userId!: string | null;
  /** A postback amount in another currency, converted into `currency` at `fx_rate` of `fx_date`. */
  @Column({ name: 'original_amount_micros', type: 'bigint', nullable: true }) originalAmountMicros!:
    string | null;
  @Column({ name: 'original_currency', type: 'char', length: 3, nullable: true }) originalCurrency!:
    string | null;
  /** Units of `currency` per unit of `original_currency`. */
  @Column({ name: 'fx_rate', type: 'numeric', precision: 30, scale: 12, nullable: true }) fxRate!:
    string | null;
  /** YYYY-MM-DD (UTC day). */
  @Column({ name: 'fx_date', type: 'date', nullable: true }) fxDate!: string | null;
  /** The exact JSON published on conversions.ledger. */
  @Column({ name: 'payload', type: 'jsonb' }) payload!: Record<string, unknown>;
}

import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * Current state per conversion (offer + transaction + goal), written in the same transaction
 * as the ledger entries that changed it. A projection of the ledger: rebuildable from it.
 */
@Entity({ name: 'conversions' })
@Index('conversions_offer_tx_goal_uq', ['offerId', 'transactionId', 'goal'], { unique: true })
@Index('conversions_click_idx', ['clickId'])
@Index('conversions_source_time_idx', ['publisherId', 'sub1', 'firstReceivedAt'])
export class ConversionEntity {
  @PrimaryColumn({ name: 'conversion_id', type: 'varchar', length: 32 })
  conversionId!: string;

  @Column({ name: 'offer_id', type: 'varchar', length: 64 }) offerId!: string;
  @Column({ name: 'transaction_id', type: 'varchar', length: 128 }) transactionId!: string;
  @Column({ name: 'goal', type: 'varchar', length: 64 }) goal!: string;
  @Column({ name: 'partner_id', type: 'varchar', length: 64 }) partnerId!: string;
  @Column({ name: 'click_id', type: 'varchar', length: 128 }) clickId!: string;
  @Column({ name: 'publisher_id', type: 'varchar', length: 64, nullable: true }) publisherId!: string | null;
  /** pending | approved | rejected | reversed | held */
  @Column({ name: 'status', type: 'varchar', length: 16 }) status!: string;
  /** The latest partner status applied; a repeat of it is a duplicate. */
  @Column({ name: 'requested', type: 'varchar', length: 16 }) requested!: string;
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
  @Column({ name: 'first_received_at', type: 'timestamptz' }) firstReceivedAt!: Date;
  @Column({ name: 'last_received_at', type: 'timestamptz' }) lastReceivedAt!: Date;
  @Column({ name: 'last_entry_id', type: 'varchar', length: 32 }) lastEntryId!: string;
  @Column({ name: 'entries', type: 'int' }) entries!: number;
  /** Publisher payout and user reward its approval (or hold) carries. */
  @Column({ name: 'payout_micros', type: 'bigint', nullable: true }) payoutMicros!: string | null;
  @Column({ name: 'reward_amount', type: 'bigint', nullable: true }) rewardAmount!: string | null;
  @Column({ name: 'reward_currency', type: 'varchar', length: 32, nullable: true }) rewardCurrency!:
    string | null;
  @Column({ name: 'payout_rule_id', type: 'bigint', nullable: true }) payoutRuleId!: string | null;
  @Column({ name: 'reward_rule_id', type: 'bigint', nullable: true }) rewardRuleId!: string | null;
  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' }) updatedAt!: Date;
}

import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

/**
 * Work for the read-model projector, written in the same transaction as the ledger entry or
 * the final postback outcome it names. The projector deletes the rows it applies in the
 * transaction that applies them: that deletion is its checkpoint, so nothing counts twice.
 */
@Entity({ name: 'projection_queue' })
export class ProjectionQueueEntity {
  @PrimaryGeneratedColumn({ name: 'seq', type: 'bigint' }) seq!: string;
  /** A ledger entry to project (`ledger_entries.entry_id`). */
  @Column({ name: 'entry_id', type: 'varchar', length: 32, nullable: true }) entryId!: string | null;
  /** A final postback outcome to project (`postback_outcomes.event_id`). */
  @Column({ name: 'event_id', type: 'varchar', length: 26, nullable: true }) eventId!: string | null;
}

/** The reconciliation cell: UTC day x partner x offer x publisher x source x placement x geo x currency ('' = unknown). */
abstract class ReconCell {
  @PrimaryColumn({ name: 'day', type: 'date' }) day!: string;
  @PrimaryColumn({ name: 'partner_id', type: 'varchar', length: 64 }) partnerId!: string;
  @PrimaryColumn({ name: 'offer_id', type: 'varchar', length: 64 }) offerId!: string;
  @PrimaryColumn({ name: 'publisher_id', type: 'varchar', length: 64 }) publisherId!: string;
  /** sub1, the publisher's traffic source. */
  @PrimaryColumn({ name: 'source', type: 'varchar', length: 256 }) source!: string;
  @PrimaryColumn({ name: 'placement', type: 'varchar', length: 128 }) placement!: string;
  @PrimaryColumn({ name: 'geo', type: 'varchar', length: 2 }) geo!: string;
  @PrimaryColumn({ name: 'currency', type: 'varchar', length: 3 }) currency!: string;
}

/** Reconciliation per cell: postback outcomes and ledger entries with their money. */
@Entity({ name: 'recon_daily' })
export class ReconDailyEntity extends ReconCell {
  /** Partner postbacks decided (final outcome) in the cell. */
  @Column({ name: 'postbacks', type: 'int', default: 0 }) postbacks!: number;
  @Column({ name: 'accepted', type: 'int', default: 0 }) accepted!: number;
  @Column({ name: 'held_postbacks', type: 'int', default: 0 }) heldPostbacks!: number;
  @Column({ name: 'duplicates', type: 'int', default: 0 }) duplicates!: number;
  @Column({ name: 'rejected_postbacks', type: 'int', default: 0 }) rejectedPostbacks!: number;
  /** Postbacks that waited for a retry (soft reject) before their final outcome. */
  @Column({ name: 'soft_retried', type: 'int', default: 0 }) softRetried!: number;
  @Column({ name: 'late', type: 'int', default: 0 }) late!: number;
  @Column({ name: 'pending', type: 'int', default: 0 }) pending!: number;
  @Column({ name: 'approved', type: 'int', default: 0 }) approved!: number;
  @Column({ name: 'approved_micros', type: 'bigint', default: 0 }) approvedMicros!: string;
  @Column({ name: 'held', type: 'int', default: 0 }) held!: number;
  @Column({ name: 'held_micros', type: 'bigint', default: 0 }) heldMicros!: string;
  @Column({ name: 'released', type: 'int', default: 0 }) released!: number;
  @Column({ name: 'released_micros', type: 'bigint', default: 0 }) releasedMicros!: string;
  @Column({ name: 'rejected', type: 'int', default: 0 }) rejected!: number;
  @Column({ name: 'reversed', type: 'int', default: 0 }) reversed!: number;
  @Column({ name: 'reversed_micros', type: 'bigint', default: 0 }) reversedMicros!: string;
  @Column({ name: 'adjusted', type: 'int', default: 0 }) adjusted!: number;
  @Column({ name: 'adjusted_micros', type: 'bigint', default: 0 }) adjustedMicros!: string;
  /** The publisher's payout moved by the approved, released, reversed and adjusted entries (as their revenue above). */
  @Column({ name: 'approved_payout_micros', type: 'bigint', default: 0 }) approvedPayoutMicros!: string;
  @Column({ name: 'released_payout_micros', type: 'bigint', default: 0 }) releasedPayoutMicros!: string;
  @Column({ name: 'reversed_payout_micros', type: 'bigint', default: 0 }) reversedPayoutMicros!: string;
  @Column({ name: 'adjusted_payout_micros', type: 'bigint', default: 0 }) adjustedPayoutMicros!: string;
}

/** User rewards per cell and virtual currency, in whole units (not our money, never added across currencies). */
@Entity({ name: 'recon_daily_rewards' })
export class ReconDailyRewardEntity extends ReconCell {
  @PrimaryColumn({ name: 'reward_currency', type: 'varchar', length: 32 }) rewardCurrency!: string;
  /** Rewards of approved and released entries (plus signed adjustments). */
  @Column({ name: 'issued', type: 'bigint', default: 0 }) issued!: string;
  /** Rewards that reversals took back. */
  @Column({ name: 'reversed', type: 'bigint', default: 0 }) reversed!: string;
}

/** Rejections per cell by reason: rejected ledger entries and rejected postbacks that made none. */
@Entity({ name: 'recon_daily_reasons' })
export class ReconDailyReasonEntity extends ReconCell {
  @PrimaryColumn({ name: 'reason_bucket', type: 'varchar', length: 8 }) reasonBucket!: string;
  @PrimaryColumn({ name: 'reason_code', type: 'varchar', length: 32 }) reasonCode!: string;
  @Column({ name: 'count', type: 'int', default: 0 }) count!: number;
}

/** Latency histograms per UTC day and segment: `le_ms` is the bucket's upper bound (-1 = above the last). */
@Entity({ name: 'latency_daily' })
export class LatencyDailyEntity {
  @PrimaryColumn({ name: 'day', type: 'date' }) day!: string;
  @PrimaryColumn({ name: 'partner_id', type: 'varchar', length: 64 }) partnerId!: string;
  @PrimaryColumn({ name: 'offer_id', type: 'varchar', length: 64 }) offerId!: string;
  @PrimaryColumn({ name: 'publisher_id', type: 'varchar', length: 64 }) publisherId!: string;
  @PrimaryColumn({ name: 'placement', type: 'varchar', length: 128 }) placement!: string;
  @PrimaryColumn({ name: 'geo', type: 'varchar', length: 2 }) geo!: string;
  /** click_to_conversion | postback_delay */
  @PrimaryColumn({ name: 'metric', type: 'varchar', length: 24 }) metric!: string;
  @PrimaryColumn({ name: 'le_ms', type: 'bigint' }) leMs!: string;
  @Column({ name: 'count', type: 'int', default: 0 }) count!: number;
  @Column({ name: 'sum_ms', type: 'bigint', default: 0 }) sumMs!: string;
}

/** Held conversions waiting for an operator, with what the hold was about. */
@Entity({ name: 'review_queue' })
@Index('review_queue_held_at_idx', ['heldAt'])
export class ReviewQueueEntity {
  @PrimaryColumn({ name: 'conversion_id', type: 'varchar', length: 32 }) conversionId!: string;
  @Column({ name: 'held_entry_id', type: 'varchar', length: 32 }) heldEntryId!: string;
  @Column({ name: 'held_at', type: 'timestamptz' }) heldAt!: Date;
  @Column({ name: 'reason_code', type: 'varchar', length: 32 }) reasonCode!: string;
  @Column({ name: 'amount_micros', type: 'bigint' }) amountMicros!: string;
  @Column({ name: 'currency', type: 'char', length: 3 }) currency!: string;
  @Column({ name: 'partner_id', type: 'varchar', length: 64 }) partnerId!: string;
  @Column({ name: 'offer_id', type: 'varchar', length: 64 }) offerId!: string;
  @Column({ name: 'publisher_id', type: 'varchar', length: 64, nullable: true }) publisherId!: string | null;
  @Column({ name: 'transaction_id', type: 'varchar', length: 128 }) transactionId!: string;
  @Column({ name: 'click_id', type: 'varchar', length: 128 }) clickId!: string;
  @Column({ name: 'sub1', type: 'varchar', length: 256, nullable: true }) sub1!: string | null;
  @Column({ name: 'placement', type: 'varchar', length: 128, nullable: true }) placement!: string | null;
  @Column({ name: 'geo', type: 'char', length: 2, nullable: true }) geo!: string | null;
  @Column({ name: 'clicked_at', type: 'timestamptz', nullable: true }) clickedAt!: Date | null;
  @Column({ name: 'postback_delay_ms', type: 'bigint', nullable: true }) postbackDelayMs!: string | null;
}

import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * Exactly one outcome per accepted postback (its gateway event id): accepted, duplicate,
 * rejected (with reason), held, or retry_scheduled until a retry decides it. Decided in the
 * same transaction as the ledger entries, so a replayed postback is recognised and skipped.
 */
@Entity({ name: 'postback_outcomes' })
@Index('postback_outcomes_received_idx', ['receivedAt'])
@Index('postback_outcomes_conversion_idx', ['conversionId'])
export class PostbackOutcomeEntity {
  @PrimaryColumn({ name: 'event_id', type: 'varchar', length: 26 }) eventId!: string;
  @Column({ name: 'partner_id', type: 'varchar', length: 64 }) partnerId!: string;
  @Column({ name: 'click_id', type: 'varchar', length: 128 }) clickId!: string;
  @Column({ name: 'transaction_id', type: 'varchar', length: 128 }) transactionId!: string;
  @Column({ name: 'status', type: 'varchar', length: 16 }) status!: string;
  @Column({ name: 'conversion_id', type: 'varchar', length: 32, nullable: true }) conversionId!:
    string | null;
  @Column({ name: 'offer_id', type: 'varchar', length: 64, nullable: true }) offerId!: string | null;
  @Column({ name: 'publisher_id', type: 'varchar', length: 64, nullable: true }) publisherId!: string | null;
  @Column({ name: 'sub1', type: 'varchar', length: 256, nullable: true }) sub1!: string | null;
  @Column({ name: 'placement', type: 'varchar', length: 128, nullable: true }) placement!: string | null;
  @Column({ name: 'geo', type: 'char', length: 2, nullable: true }) geo!: string | null;
  /** accepted | duplicate | rejected | held | retry_scheduled */
  @Column({ name: 'outcome', type: 'varchar', length: 16 }) outcome!: string;
  @Column({ name: 'reason_bucket', type: 'varchar', length: 16, nullable: true }) reasonBucket!:
    string | null;
  @Column({ name: 'reason_code', type: 'varchar', length: 32, nullable: true }) reasonCode!: string | null;
  @Column({ name: 'detail', type: 'varchar', length: 256, nullable: true }) detail!: string | null;
  @Column({ name: 'entry_id', type: 'varchar', length: 32, nullable: true }) entryId!: string | null;
  @Column({ name: 'attempts', type: 'int' }) attempts!: number;
  @Column({ name: 'late', type: 'boolean' }) late!: boolean;
  @Column({ name: 'postback_delay_ms', type: 'bigint', nullable: true }) postbackDelayMs!: string | null;
  @Column({ name: 'received_at', type: 'timestamptz' }) receivedAt!: Date;
  @Column({ name: 'decided_at', type: 'timestamptz' }) decidedAt!: Date;
}

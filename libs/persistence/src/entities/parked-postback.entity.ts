import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * Postbacks waiting for a retry (soft rejects), and those queued behind them for the same
 * partner transaction, so a later status never overtakes an earlier one.
 */
@Entity({ name: 'parked_postbacks' })
@Index('parked_postbacks_due_idx', ['dueAt'])
@Index('parked_postbacks_chain_idx', ['partnerId', 'transactionId', 'seq'])
@Index('parked_postbacks_click_idx', ['clickId'], { where: "reason = 'click_not_found_yet'" })
export class ParkedPostbackEntity {
  @PrimaryColumn({ name: 'event_id', type: 'varchar', length: 26 }) eventId!: string;
  @Column({ name: 'seq', type: 'bigint', generated: 'increment' }) seq!: string;
  @Column({ name: 'partner_id', type: 'varchar', length: 64 }) partnerId!: string;
  @Column({ name: 'transaction_id', type: 'varchar', length: 128 }) transactionId!: string;
  /** The original postback.received event. */
  @Column({ name: 'event', type: 'jsonb' }) event!: Record<string, unknown>;
  @Column({ name: 'attempts', type: 'int' }) attempts!: number;
  /** When it is retried; 'infinity' for one queued behind an earlier postback. */
  @Column({ name: 'due_at', type: 'timestamptz' }) dueAt!: Date;
  @Column({ name: 'reason', type: 'varchar', length: 32 }) reason!: string;
  /** The event's click id: storing that click wakes a postback parked for click_not_found_yet. */
  @Column({ name: 'click_id', type: 'varchar', length: 128, nullable: true }) clickId!: string | null;
  /** [{at, reason}] per attempt. */
  @Column({ name: 'errors', type: 'jsonb' }) errors!: unknown[];
  @Column({ name: 'parked_at', type: 'timestamptz' }) parkedAt!: Date;
}

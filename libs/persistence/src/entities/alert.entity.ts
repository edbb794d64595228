import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

/**
 * One firing episode of an alert rule for one subject. The key (`rule:subject`) fires once:
 * at most one firing row per key (partial unique index); it is updated while the condition
 * holds and resolved when it stops. Firing again later is a new row.
 */
@Entity({ name: 'alerts' })
@Index('alerts_firing_key_idx', ['key'], { unique: true, where: `"status" = 'firing'` })
@Index('alerts_status_resolved_idx', ['status', 'resolvedAt'])
export class AlertEntity {
  @PrimaryGeneratedColumn({ name: 'id', type: 'bigint' }) id!: string;
  /** `<rule>:<subject>`, e.g. `latency_p99:offer-1`. */
  @Column({ name: 'key', type: 'varchar', length: 400 }) key!: string;
  @Column({ name: 'rule', type: 'varchar', length: 32 }) rule!: string;
  @Column({ name: 'subject', type: 'varchar', length: 360 }) subject!: string;
  /** warning | critical */
  @Column({ name: 'severity', type: 'varchar', length: 8 }) severity!: string;
  /** firing | resolved */
  @Column({ name: 'status', type: 'varchar', length: 8 }) status!: string;
  @Column({ name: 'summary', type: 'varchar', length: 512 }) summary!: string;
  /** The numbers, thresholds and query window of the last evaluation that held the condition. */
  @Column({ name: 'evidence', type: 'jsonb' }) evidence!: Record<string, unknown>;
  @Column({ name: 'first_fired_at', type: 'timestamptz' }) firstFiredAt!: Date;
  @Column({ name: 'last_evaluated_at', type: 'timestamptz' }) lastEvaluatedAt!: Date;
  @Column({ name: 'resolved_at', type: 'timestamptz', nullable: true }) resolvedAt!: Date | null;
  /** Last webhook delivery the receiver accepted (null: none yet, or no webhook configured). */
  @Column({ name: 'notified_at', type: 'timestamptz', nullable: true }) notifiedAt!: Date | null;
}

/**
 * Webhook deliveries: one row per alert event (firing, resolved), written in the evaluation's
 * transaction, delivered by the notifier with retries. A processor restart resumes the pending ones.
 */
@Entity({ name: 'alert_notifications' })
@Index('alert_notifications_due_idx', ['status', 'nextAttemptAt'])
@Index('alert_notifications_alert_idx', ['alertId'])
export class AlertNotificationEntity {
  @PrimaryGeneratedColumn({ name: 'id', type: 'bigint' }) id!: string;
  @Column({ name: 'alert_id', type: 'bigint' }) alertId!: string;
  /** firing | resolved */
  @Column({ name: 'event', type: 'varchar', length: 8 }) event!: string;
  /** Sent as the Idempotency-Key header: `<key>@<first fired at>:<event>`; the same on every attempt. */
  @Column({ name: 'idempotency_key', type: 'varchar', length: 460, unique: true }) idempotencyKey!: string;
  /** The JSON body, frozen when the event happened. */
  @Column({ name: 'payload', type: 'jsonb' }) payload!: Record<string, unknown>;
  /** pending | delivered | failed */
  @Column({ name: 'status', type: 'varchar', length: 10 }) status!: string;
  @Column({ name: 'attempts', type: 'int', default: 0 }) attempts!: number;
  @Column({ name: 'next_attempt_at', type: 'timestamptz' }) nextAttemptAt!: Date;
  /** [{at, status?, error?, ms}] per attempt (bounded by ALERT_WEBHOOK_MAX_ATTEMPTS). */
  @Column({ name: 'attempt_log', type: 'jsonb', default: () => `'[]'` }) attemptLog!: unknown[];
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column({ name: 'delivered_at', type: 'timestamptz', nullable: true }) deliveredAt!: Date | null;
}

/** Values some rules compare over time (consumer lag per group), one row per evaluation; pruned. */
@Entity({ name: 'alert_samples' })
export class AlertSampleEntity {
  @PrimaryColumn({ name: 'series', type: 'varchar', length: 200 }) series!: string;
  @PrimaryColumn({ name: 'at', type: 'timestamptz' }) at!: Date;
  @Column({ name: 'value', type: 'bigint' }) value!: string;
}

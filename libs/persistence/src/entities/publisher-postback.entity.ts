import { Check, Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

export type PublisherDeliveryState = 'active' | 'paused';
export type PublisherDeliveryStatus = 'pending' | 'delivered' | 'rejected_by_publisher' | 'dead';

/**
 * A legacy hash is whole or absent: a known algorithm, its parameter and secret, and fields for
 * every algorithm but the URL hash. (Keep in line with LEGACY_HASH_ALGORITHMS in @app/domain.)
 */
export const PUBLISHER_LEGACY_HASH_CHECK = `"legacy_hash_algorithm" IS NULL OR ("legacy_hash_algorithm" IN ('md5', 'sha1', 'hmac-sha256', 'hmac-sha1', 'hmac-sha1-url') AND "legacy_hash_param" IS NOT NULL AND "legacy_hash_secret" IS NOT NULL AND ("legacy_hash_algorithm" = 'hmac-sha1-url' OR coalesce(cardinality("legacy_hash_fields"), 0) > 0))`;

/**
 * A publisher's postback configuration (admin API) and its endpoint's health (the notifier).
 * The two halves are written by different apps and never in the same statement.
 */
@Entity({ name: 'publisher_postbacks' })
@Check('publisher_postbacks_legacy_hash_check', PUBLISHER_LEGACY_HASH_CHECK)
export class PublisherPostbackEntity {
  @PrimaryColumn({ name: 'publisher_id', type: 'varchar', length: 64 }) publisherId!: string;
  /** Template for every status without its own. */
  @Column({ name: 'url', type: 'varchar', length: 2048, nullable: true }) url!: string | null;
  @Column({ name: 'approved_url', type: 'varchar', length: 2048, nullable: true })
  approvedUrl!: string | null;
  @Column({ name: 'reversed_url', type: 'varchar', length: 2048, nullable: true })
  reversedUrl!: string | null;
  /**
   * Signing secrets (1, or 2 during a rotation), sealed (context publisher_postbacks.secrets:<id>).
   * Credentials: write-only in the API.
   */
  @Column({ name: 'secrets', type: 'text', array: true }) secrets!: string[];
  /**
   * Legacy hash for walls: md5, sha1, hmac-sha256, hmac-sha1 (over fields joined by the
   * separator) or hmac-sha1-url (over the URL; no fields), the parameter, its own secret.
   */
  @Column({ name: 'legacy_hash_algorithm', type: 'varchar', length: 16, nullable: true })
  legacyHashAlgorithm!: string | null;
  @Column({ name: 'legacy_hash_param', type: 'varchar', length: 64, nullable: true })
  legacyHashParam!: string | null;
  @Column({ name: 'legacy_hash_fields', type: 'text', array: true, nullable: true })
  legacyHashFields!: string[] | null;
  /** Sealed (context publisher_postbacks.legacy_hash_secret:<id>). */
  @Column({ name: 'legacy_hash_secret', type: 'varchar', length: 1024, nullable: true })
  legacyHashSecret!: string | null;
  /** Joins the hashed values (and the secret, for md5 and sha1); '' by default. */
  @Column({ name: 'legacy_hash_separator', type: 'varchar', length: 8, default: '' })
  legacyHashSeparator!: string;
  /** paused: the endpoint kept failing; deliveries wait until an operator resumes it. */
  @Column({ name: 'delivery_state', type: 'varchar', length: 16, default: 'active' })
  deliveryState!: PublisherDeliveryState;
  @Column({ name: 'paused_at', type: 'timestamptz', nullable: true }) pausedAt!: Date | null;
  @Column({ name: 'paused_reason', type: 'varchar', length: 512, nullable: true })
  pausedReason!: string | null;
  /** Failed attempts in a row (a 2xx or a 4xx answer resets it) and since when. */
  @Column({ name: 'consecutive_failures', type: 'int', default: 0 }) consecutiveFailures!: number;
  @Column({ name: 'failing_since', type: 'timestamptz', nullable: true }) failingSince!: Date | null;
  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' }) createdAt!: Date;
  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' }) updatedAt!: Date;
}

/**
 * One postback owed to a publisher for one ledger entry (idempotent on entry_id). `seq` is the
 * ledger order within a conversion: a delivery waits while an earlier one of its conversion is
 * pending or dead.
 */
@Entity({ name: 'publisher_deliveries' })
@Index('publisher_deliveries_due_idx', ['nextAttemptAt'], { where: `"status" = 'pending'` })
@Index('publisher_deliveries_conversion_idx', ['conversionId', 'seq'])
@Index('publisher_deliveries_publisher_idx', ['publisherId', 'status'])
@Index('publisher_deliveries_publisher_due_idx', ['publisherId', 'nextAttemptAt'], {
  where: `"status" = 'pending'`,
})
export class PublisherDeliveryEntity {
  @PrimaryColumn({ name: 'entry_id', type: 'varchar', length: 32 }) entryId!: string;
  @Column({ name: 'seq', type: 'bigint', generated: 'increment' }) seq!: string;
  @Column({ name: 'publisher_id', type: 'varchar', length: 64 }) publisherId!: string;
  @Column({ name: 'conversion_id', type: 'varchar', length: 32 }) conversionId!: string;
  @Column({ name: 'entry_type', type: 'varchar', length: 16 }) entryType!: string;
  /** The ledger entry as published. */
  @Column({ name: 'entry', type: 'jsonb' }) entry!: Record<string, unknown>;
  @Column({ name: 'status', type: 'varchar', length: 24, default: 'pending' })
  status!: PublisherDeliveryStatus;
  /** Attempts started (a crash mid-request counts one without a log row). */
  @Column({ name: 'attempts', type: 'int', default: 0 }) attempts!: number;
  /** Due time; while an attempt is in flight, the end of its lease. */
  @Column({ name: 'next_attempt_at', type: 'timestamptz', default: () => 'now()' }) nextAttemptAt!: Date;
  @Column({ name: 'first_attempt_at', type: 'timestamptz', nullable: true }) firstAttemptAt!: Date | null;
  @Column({ name: 'last_status_code', type: 'int', nullable: true }) lastStatusCode!: number | null;
  @Column({ name: 'last_error', type: 'varchar', length: 512, nullable: true }) lastError!: string | null;
  /** When the ledger entry was recorded, and when this row was written. */
  @Column({ name: 'entry_recorded_at', type: 'timestamptz' }) entryRecordedAt!: Date;
  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' }) createdAt!: Date;
  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true }) finishedAt!: Date | null;
}

/** Every HTTP attempt, for analysts: answer, latency, error, and when the next one is due. */
@Entity({ name: 'publisher_delivery_attempts' })
@Index('publisher_delivery_attempts_entry_idx', ['entryId', 'attempt'], { unique: true })
@Index('publisher_delivery_attempts_publisher_idx', ['publisherId', 'attemptedAt'])
export class PublisherDeliveryAttemptEntity {
  @PrimaryGeneratedColumn({ name: 'id', type: 'bigint' }) id!: string;
  @Column({ name: 'entry_id', type: 'varchar', length: 32 }) entryId!: string;
  @Column({ name: 'attempt', type: 'int' }) attempt!: number;
  @Column({ name: 'publisher_id', type: 'varchar', length: 64 }) publisherId!: string;
  /** The URL called, credential-like parameters redacted. */
  @Column({ name: 'url', type: 'varchar', length: 4096 }) url!: string;
  @Column({ name: 'status_code', type: 'int', nullable: true }) statusCode!: number | null;
  @Column({ name: 'latency_ms', type: 'int' }) latencyMs!: number;
  @Column({ name: 'error', type: 'varchar', length: 512, nullable: true }) error!: string | null;
  /** delivered, rejected_by_publisher, retry, dead */
  @Column({ name: 'outcome', type: 'varchar', length: 24 }) outcome!: string;
  @Column({ name: 'next_attempt_at', type: 'timestamptz', nullable: true }) nextAttemptAt!: Date | null;
  @Column({ name: 'attempted_at', type: 'timestamptz' }) attemptedAt!: Date;
}

import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

/** Decisions, rejections and approvals per traffic source (publisher + sub1, publisher + placement) per UTC day. */
@Entity({ name: 'source_daily_stats' })
export class SourceDailyStatsEntity {
  /** sub1 | placement */
  @PrimaryColumn({ name: 'kind', type: 'varchar', length: 16 }) kind!: string;
  @PrimaryColumn({ name: 'publisher_id', type: 'varchar', length: 64 }) publisherId!: string;
  @PrimaryColumn({ name: 'value', type: 'varchar', length: 256 }) value!: string;
  @PrimaryColumn({ name: 'day', type: 'date' }) day!: string;
  @Column({ name: 'decided', type: 'int', default: 0 }) decided!: number;
  @Column({ name: 'rejected', type: 'int', default: 0 }) rejected!: number;
  /** New conversions approved or held (what a source's reduced cap counts). */
  @Column({ name: 'approved', type: 'int', default: 0 }) approved!: number;
}

/**
 * A routing control in force on a source: `block` (new conversions rejected blocked_source),
 * `hold` (held for review, fraud_suspected) or `cap` (at most daily_cap approvals per UTC day,
 * then cap_exceeded). Set automatically when the source crosses the policy's rejection
 * threshold (`origin` auto), or by an operator (`origin` operator).
 */
@Entity({ name: 'source_controls' })
export class SourceControlEntity {
  @PrimaryColumn({ name: 'kind', type: 'varchar', length: 16 }) kind!: string;
  @PrimaryColumn({ name: 'publisher_id', type: 'varchar', length: 64 }) publisherId!: string;
  @PrimaryColumn({ name: 'value', type: 'varchar', length: 256 }) value!: string;
  @Column({ name: 'action', type: 'varchar', length: 8, default: 'block' }) action!: 'block' | 'hold' | 'cap';
  @Column({ name: 'daily_cap', type: 'int', nullable: true }) dailyCap!: number | null;
  @Column({ name: 'origin', type: 'varchar', length: 8, default: 'auto' }) origin!: 'auto' | 'operator';
  @Column({ name: 'since', type: 'timestamptz' }) since!: Date;
  /** The day's counts when it was set automatically. */
  @Column({ name: 'decided', type: 'int', nullable: true }) decided!: number | null;
  @Column({ name: 'rejected', type: 'int', nullable: true }) rejected!: number | null;
  @Column({ name: 'reason', type: 'varchar', length: 256 }) reason!: string;
}

/** The automatic routing policy (one row): past `min_decisions` new conversions in a UTC day and a hard-reject share of `reject_rate`, a source gets `action`. */
@Entity({ name: 'source_policy' })
export class SourcePolicyEntity {
  @PrimaryColumn({ name: 'id', type: 'int', default: 1 }) id!: number;
  /** 0 turns automatic controls off. */
  @Column({ name: 'min_decisions', type: 'int', default: 50 }) minDecisions!: number;
  @Column({ name: 'reject_rate', type: 'float8', default: 0.5 }) rejectRate!: number;
  @Column({ name: 'action', type: 'varchar', length: 8, default: 'block' }) action!: 'block' | 'hold' | 'cap';
  @Column({ name: 'daily_cap', type: 'int', nullable: true }) dailyCap!: number | null;
  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' }) updatedAt!: Date;
}

/** Traffic-quality deny rules: a click from a matching IP range or user agent is rejected traffic_quality. */
@Entity({ name: 'traffic_rules' })
@Index('traffic_rules_kind_value_uq', ['kind', 'value'], { unique: true })
export class TrafficRuleEntity {
  @PrimaryGeneratedColumn({ name: 'id', type: 'int' }) id!: number;
  /** ip (an address or CIDR range) | user_agent (a case-insensitive substring) */
  @Column({ name: 'kind', type: 'varchar', length: 16 }) kind!: 'ip' | 'user_agent';
  @Column({ name: 'value', type: 'varchar', length: 256 }) value!: string;
  @Column({ name: 'note', type: 'varchar', length: 256, nullable: true }) note!: string | null;
  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' }) createdAt!: Date;
}

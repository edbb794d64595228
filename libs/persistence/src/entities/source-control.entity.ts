import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Decisions and rejections per traffic source (publisher + sub1, publisher + placement) per UTC day. */
@Entity({ name: 'source_daily_stats' })
export class SourceDailyStatsEntity {
  /** sub1 | placement */
  @PrimaryColumn({ name: 'kind', type: 'varchar', length: 16 }) kind!: string;
  @PrimaryColumn({ name: 'publisher_id', type: 'varchar', length: 64 }) publisherId!: string;
  @PrimaryColumn({ name: 'value', type: 'varchar', length: 256 }) value!: string;
  @PrimaryColumn({ name: 'day', type: 'date' }) day!: string;
  @Column({ name: 'decided', type: 'int', default: 0 }) decided!: number;
  @Column({ name: 'rejected', type: 'int', default: 0 }) rejected!: number;
}

/** A source whose rejection rate crossed the threshold: its new conversions are refused (blocked_source). */
@Entity({ name: 'source_blocks' })
export class SourceBlockEntity {
  @PrimaryColumn({ name: 'kind', type: 'varchar', length: 16 }) kind!: string;
  @PrimaryColumn({ name: 'publisher_id', type: 'varchar', length: 64 }) publisherId!: string;
  @PrimaryColumn({ name: 'value', type: 'varchar', length: 256 }) value!: string;
  @Column({ name: 'blocked_at', type: 'timestamptz' }) blockedAt!: Date;
  @Column({ name: 'decided', type: 'int' }) decided!: number;
  @Column({ name: 'rejected', type: 'int' }) rejected!: number;
  @Column({ name: 'reason', type: 'varchar', length: 256 }) reason!: string;
}

import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Where each projection stands per topic partition, written in the same transaction as the
 * projection's rows: a replayed batch at or below `next_offset` is recognised and skipped.
 * `watermark` is the newest event time of the last batch stored for that partition.
 */
@Entity({ name: 'projection_checkpoints' })
export class ProjectionCheckpointEntity {
  @PrimaryColumn({ name: 'projection', type: 'varchar', length: 64 })
  projection!: string;

  @PrimaryColumn({ name: 'topic', type: 'varchar', length: 128 })
  topic!: string;

  @PrimaryColumn({ name: 'partition', type: 'int' })
  partition!: number;

  @Column({ name: 'next_offset', type: 'bigint' })
  nextOffset!: string;

  @Column({ name: 'watermark', type: 'timestamptz', nullable: true })
  watermark!: Date | null;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}

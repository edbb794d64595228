import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Acceptance criteria checked before a partner's or an offer's volume is raised. One `default`
 * row (subject ''); `partner` and `offer` rows override it field by field (null: inherit).
 */
@Entity({ name: 'launch_criteria' })
export class LaunchCriteriaEntity {
  /** default | partner | offer */
  @PrimaryColumn({ name: 'scope', type: 'varchar', length: 8 }) scope!: string;
  @PrimaryColumn({ name: 'subject', type: 'varchar', length: 64 }) subject!: string;
  @Column({ name: 'min_postbacks', type: 'int', nullable: true }) minPostbacks!: number | null;
  @Column({ name: 'min_acceptance_rate', type: 'float8', nullable: true }) minAcceptanceRate!: number | null;
  @Column({ name: 'max_duplicate_rate', type: 'float8', nullable: true }) maxDuplicateRate!: number | null;
  @Column({ name: 'max_soft_reject_rate', type: 'float8', nullable: true }) maxSoftRejectRate!: number | null;
  @Column({ name: 'max_latency_p99_seconds', type: 'int', nullable: true }) maxLatencyP99Seconds!:
    number | null;
  @Column({ name: 'max_late_rate', type: 'float8', nullable: true }) maxLateRate!: number | null;
  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' }) updatedAt!: Date;
}

import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** A counterparty's own conversion file, diffed against the ledger per transaction. */
@Entity({ name: 'disputes' })
export class DisputeEntity {
  @PrimaryColumn({ name: 'id', type: 'varchar', length: 26 }) id!: string;
  /** partner | publisher */
  @Column({ name: 'counterparty_kind', type: 'varchar', length: 16 }) counterpartyKind!: string;
  @Column({ name: 'counterparty_id', type: 'varchar', length: 64 }) counterpartyId!: string;
  @Column({ name: 'file_name', type: 'varchar', length: 256, nullable: true }) fileName!: string | null;
  @Column({ name: 'rows', type: 'int' }) rows!: number;
  @Column({ name: 'from_day', type: 'date' }) fromDay!: string;
  @Column({ name: 'to_day', type: 'date' }) toDay!: string;
  @Column({ name: 'summary', type: 'jsonb' }) summary!: unknown;
  @Column({ name: 'created_by', type: 'varchar', length: 64 }) createdBy!: string;
  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' }) createdAt!: Date;
}

/** Their file's rows as read (evidence), one per line. */
@Entity({ name: 'dispute_rows' })
export class DisputeRowEntity {
  @PrimaryColumn({ name: 'dispute_id', type: 'varchar', length: 26 }) disputeId!: string;
  @PrimaryColumn({ name: 'line', type: 'int' }) line!: number;
  @Column({ name: 'transaction_id', type: 'varchar', length: 128 }) transactionId!: string;
  @Column({ name: 'offer_id', type: 'varchar', length: 64, nullable: true }) offerId!: string | null;
  @Column({ name: 'status', type: 'varchar', length: 16 }) status!: string;
  @Column({ name: 'payout_micros', type: 'bigint' }) payoutMicros!: string;
  @Column({ name: 'currency', type: 'char', length: 3 }) currency!: string;
  @Column({ name: 'day', type: 'date' }) day!: string;
}

/** One difference: missing_ours, missing_theirs, status_differs, amount_differs, duplicate_theirs. */
@Entity({ name: 'dispute_items' })
@Index('dispute_items_conversion_idx', ['conversionId'])
export class DisputeItemEntity {
  @PrimaryColumn({ name: 'dispute_id', type: 'varchar', length: 26 }) disputeId!: string;
  @PrimaryColumn({ name: 'item', type: 'int' }) item!: number;
  @Column({ name: 'kind', type: 'varchar', length: 24 }) kind!: string;
  @Column({ name: 'transaction_id', type: 'varchar', length: 128 }) transactionId!: string;
  @Column({ name: 'offer_id', type: 'varchar', length: 64, nullable: true }) offerId!: string | null;
  @Column({ name: 'conversion_id', type: 'varchar', length: 32, nullable: true }) conversionId!:
    string | null;
  @Column({ name: 'ours', type: 'jsonb', nullable: true }) ours!: unknown;
  @Column({ name: 'theirs', type: 'jsonb', nullable: true }) theirs!: unknown;
  /** adjusted | dismissed */
  @Column({ name: 'resolution', type: 'varchar', length: 16, nullable: true }) resolution!: string | null;
  @Column({ name: 'entry_id', type: 'varchar', length: 32, nullable: true }) entryId!: string | null;
  @Column({ name: 'resolved_by', type: 'varchar', length: 64, nullable: true }) resolvedBy!: string | null;
  @Column({ name: 'note', type: 'varchar', length: 1000, nullable: true }) note!: string | null;
  @Column({ name: 'resolved_at', type: 'timestamptz', nullable: true }) resolvedAt!: Date | null;
}

import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Ledger entries committed but not yet acknowledged by Kafka; the relay drains it in seq order. */
@Entity({ name: 'ledger_outbox' })
export class LedgerOutboxEntity {
  @PrimaryColumn({ name: 'seq', type: 'bigint' }) seq!: string;
  @Column({ name: 'entry_id', type: 'varchar', length: 32 }) entryId!: string;
}

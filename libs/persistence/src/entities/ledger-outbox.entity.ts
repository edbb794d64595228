import { Column, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

/** Ledger entries committed but not yet acknowledged by Kafka; the relay drains it in seq order. */
@Entity({ name: 'ledger_outbox' })
export class LedgerOutboxEntity {
  @PrimaryColumn({ name: 'seq', type: 'bigint' }) seq!: string;
  @Column({ name: 'entry_id', type: 'varchar', length: 32 }) entryId!: string;
  /** The message key and both versions of the message as published (null: written before 2026-12). */
  @Column({ name: 'message_key', type: 'text', nullable: true }) messageKey!: string | null;
  @Column({ name: 'entry_type', type: 'text', nullable: true }) entryType!: string | null;
  @Column({ name: 'v1', type: 'text', nullable: true }) v1!: string | null;
  @Column({ name: 'v2', type: 'text', nullable: true }) v2!: string | null;
}

/**
 * Postbacks whose retry budget ran out, waiting to be published to `postbacks.dead` (the
 * message itself, `PostbackDeadV1`). Written in the transaction that decided them; the ledger
 * relay publishes and deletes them, so none is lost and a crash at worst publishes one twice.
 */
@Entity({ name: 'postback_dead_outbox' })
export class PostbackDeadOutboxEntity {
  @PrimaryGeneratedColumn({ name: 'seq', type: 'bigint' }) seq!: string;
  @Column({ name: 'event_id', type: 'varchar', length: 26 }) eventId!: string;
  /** `<partner_id>:<transaction_id>`, the message key. */
  @Column({ name: 'key', type: 'varchar', length: 200 }) key!: string;
  @Column({ name: 'payload', type: 'jsonb' }) payload!: object;
}

import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * The postback inbox: every postback the gateway accepted, exactly once (keyed by the
 * gateway's event id), with where it sat on Kafka. Raw evidence for disputes and replays.
 */
@Entity({ name: 'postbacks' })
@Index('postbacks_partner_tx_idx', ['partnerId', 'transactionId'])
@Index('postbacks_click_idx', ['clickId'])
export class PostbackEntity {
  @PrimaryColumn({ name: 'event_id', type: 'varchar', length: 26 })
  eventId!: string;

  @Column({ name: 'partner_id', type: 'varchar', length: 64 })
  partnerId!: string;

  @Column({ name: 'click_id', type: 'varchar', length: 128 })
  clickId!: string;

  @Column({ name: 'transaction_id', type: 'varchar', length: 128 })
  transactionId!: string;

  @Column({ name: 'status', type: 'varchar', length: 16 })
  status!: string;

  @Column({ name: 'offer_id', type: 'varchar', length: 64, nullable: true })
  offerId!: string | null;

  /** Integer micros; bigint comes back from pg as a string, never a float. */
  @Column({ name: 'payout_micros', type: 'bigint', nullable: true })
  payoutMicros!: string | null;

  @Column({ name: 'currency', type: 'char', length: 3, nullable: true })
  currency!: string | null;

  @Column({ name: 'event', type: 'varchar', length: 64, nullable: true })
  event!: string | null;

  @Column({ name: 'reason', type: 'varchar', length: 512, nullable: true })
  reason!: string | null;

  @Column({ name: 'source_ip', type: 'varchar', length: 45 })
  sourceIp!: string;

  @Column({ name: 'received_at', type: 'timestamptz' })
  receivedAt!: Date;

  @Column({ name: 'extra', type: 'jsonb' })
  extra!: Record<string, string>;

  @Column({ name: 'kafka_partition', type: 'int' })
  kafkaPartition!: number;

  @Column({ name: 'kafka_offset', type: 'bigint' })
  kafkaOffset!: string;

  /** The gateway's request id (x-request-id of its answer); null before it existed. */
  @Column({ name: 'request_id', type: 'varchar', length: 64, nullable: true })
  requestId!: string | null;

  @Column({ name: 'stored_at', type: 'timestamptz', default: () => 'now()' })
  storedAt!: Date;
}

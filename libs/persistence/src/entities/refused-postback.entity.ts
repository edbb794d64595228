import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * The refused half of the postback log: the sample of refused postbacks the gateway published to
 * postbacks.refused (keyed by its event id), kept REFUSED_RETENTION_DAYS then deleted.
 */
@Entity({ name: 'refused_postbacks' })
@Index('refused_postbacks_partner_received_idx', ['partnerId', 'receivedAt'])
@Index('refused_postbacks_partner_tx_idx', ['partnerId', 'transactionId'])
@Index('refused_postbacks_received_idx', ['receivedAt'])
export class RefusedPostbackEntity {
  @PrimaryColumn({ name: 'event_id', type: 'varchar', length: 26 }) eventId!: string;
  @Column({ name: 'partner_id', type: 'varchar', length: 64 }) partnerId!: string;
  @Column({ name: 'http_status', type: 'int' }) httpStatus!: number;
  @Column({ name: 'code', type: 'varchar', length: 64 }) code!: string;
  @Column({ name: 'field', type: 'varchar', length: 64, nullable: true }) field!: string | null;
  @Column({ name: 'message', type: 'varchar', length: 512 }) message!: string;
  @Column({ name: 'transaction_id', type: 'varchar', length: 128, nullable: true }) transactionId!:
    string | null;
  @Column({ name: 'click_id', type: 'varchar', length: 128, nullable: true }) clickId!: string | null;
  @Column({ name: 'request_id', type: 'varchar', length: 64, nullable: true }) requestId!: string | null;
  @Column({ name: 'source_ip', type: 'varchar', length: 45 }) sourceIp!: string;
  @Column({ name: 'received_at', type: 'timestamptz' }) receivedAt!: Date;
  @Column({ name: 'stored_at', type: 'timestamptz', default: () => 'now()' }) storedAt!: Date;
}

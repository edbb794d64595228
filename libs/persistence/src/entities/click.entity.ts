import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * The click store: every click the gateway recorded, projected from `clicks.recorded`.
 * Partitioned by month of clicked_at (the ClickPartitions migration); the key includes it.
 */
@Entity({ name: 'clicks' })
@Index('clicks_offer_clicked_at_idx', ['offerId', 'clickedAt'])
export class ClickEntity {
  @PrimaryColumn({ name: 'click_id', type: 'varchar', length: 26 })
  clickId!: string;

  @Column({ name: 'event_id', type: 'varchar', length: 26 })
  eventId!: string;

  @Column({ name: 'offer_id', type: 'varchar', length: 64 })
  offerId!: string;

  @Column({ name: 'publisher_id', type: 'varchar', length: 64 })
  publisherId!: string;

  @Column({ name: 'sub1', type: 'varchar', length: 256, nullable: true })
  sub1!: string | null;

  @Column({ name: 'sub2', type: 'varchar', length: 256, nullable: true })
  sub2!: string | null;

  @Column({ name: 'sub3', type: 'varchar', length: 256, nullable: true })
  sub3!: string | null;

  @Column({ name: 'sub4', type: 'varchar', length: 256, nullable: true })
  sub4!: string | null;

  @Column({ name: 'sub5', type: 'varchar', length: 256, nullable: true })
  sub5!: string | null;

  @Column({ name: 'placement', type: 'varchar', length: 128, nullable: true })
  placement!: string | null;

  @Column({ name: 'geo', type: 'char', length: 2, nullable: true })
  geo!: string | null;

  @Column({ name: 'device', type: 'varchar', length: 16, nullable: true })
  device!: string | null;

  @Column({ name: 'ip', type: 'varchar', length: 45, nullable: true })
  ip!: string | null;

  @Column({ name: 'user_agent', type: 'varchar', length: 512, nullable: true })
  userAgent!: string | null;

  /** The wall's user id (`uid`), as the publisher sent it. */
  @Column({ name: 'user_id', type: 'varchar', length: 128, nullable: true })
  userId!: string | null;

  @PrimaryColumn({ name: 'clicked_at', type: 'timestamptz' })
  clickedAt!: Date;

  @Column({ name: 'stored_at', type: 'timestamptz', default: () => 'now()' })
  storedAt!: Date;
}

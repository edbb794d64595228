import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

export type CatalogStatus = 'active' | 'paused';

/** An advertiser offer: where clicks land, what a conversion pays, and its routing limits. */
@Entity({ name: 'offers' })
@Index('offers_updated_at_idx', ['updatedAt'])
export class OfferEntity {
  @PrimaryColumn({ name: 'id', type: 'varchar', length: 64 })
  id!: string;

  @Column({ name: 'name', type: 'varchar', length: 200 })
  name!: string;

  /** http(s) URL with macros: {click_id} {pub} {sub1}..{sub5} {offer_id} {placement} {geo}. */
  @Column({ name: 'landing_url', type: 'varchar', length: 2048 })
  landingUrl!: string;

  @Column({ name: 'payout_micros', type: 'bigint' })
  payoutMicros!: string;

  @Column({ name: 'currency', type: 'char', length: 3 })
  currency!: string;

  /** ISO 3166-1 alpha-2 codes; null means every geo is allowed. */
  @Column({ name: 'allowed_geos', type: 'text', array: true, nullable: true })
  allowedGeos!: string[] | null;

  @Column({ name: 'daily_cap', type: 'int', nullable: true })
  dailyCap!: number | null;

  @Column({ name: 'payout_cap_micros', type: 'bigint', nullable: true })
  payoutCapMicros!: string | null;

  @Column({ name: 'attribution_window_hours', type: 'int', default: 720 })
  attributionWindowHours!: number;

  /** Goals that convert; the first is the default when a postback names none. */
  /** The partners allowed to report it; null: any active partner. */
  @Column({ name: 'partner_ids', type: 'text', array: true, nullable: true })
  partnerIds!: string[] | null;

  /** Approvals above this are refused (payout_above_max); null: no maximum. */
  @Column({ name: 'max_payout_micros', type: 'bigint', nullable: true })
  maxPayoutMicros!: string | null;

  @Column({ name: 'goals', type: 'text', array: true, default: () => "'{default}'" })
  goals!: string[];

  /** A conversion faster than this after its click is held for review (fraud_suspected). */
  @Column({ name: 'min_conversion_seconds', type: 'int', nullable: true })
  minConversionSeconds!: number | null;

  /** A payout above this is held for review (payout_above_threshold). */
  @Column({ name: 'hold_payout_above_micros', type: 'bigint', nullable: true })
  holdPayoutAboveMicros!: string | null;

  /** Clicks from these geos are held for compliance review (compliance_review); null: none. */
  @Column({ name: 'review_geos', type: 'text', array: true, nullable: true })
  reviewGeos!: string[] | null;

  /** More new conversions than this from one source within burst_window_seconds are held (fraud_suspected). */
  @Column({ name: 'burst_max_conversions', type: 'int', nullable: true })
  burstMaxConversions!: number | null;

  @Column({ name: 'burst_window_seconds', type: 'int', nullable: true })
  burstWindowSeconds!: number | null;

  @Column({ name: 'status', type: 'varchar', length: 16, default: 'active' })
  status!: CatalogStatus;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}

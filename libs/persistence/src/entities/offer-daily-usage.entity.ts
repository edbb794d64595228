import { Column, Entity, PrimaryColumn } from 'typeorm';

/** What each offer has used of its caps per UTC day; locked row by row when deciding. */
@Entity({ name: 'offer_daily_usage' })
export class OfferDailyUsageEntity {
  @PrimaryColumn({ name: 'offer_id', type: 'varchar', length: 64 }) offerId!: string;
  @PrimaryColumn({ name: 'day', type: 'date' }) day!: string;
  @Column({ name: 'conversions', type: 'int', default: 0 }) conversions!: number;
  @Column({ name: 'payout_micros', type: 'bigint', default: 0 }) payoutMicros!: string;
}

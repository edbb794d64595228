import { Check, Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * One exchange rate per UTC day and pair: 1 unit of `base` is `rate` units of `quote`. A postback
 * in another currency than its offer's is converted at the rate of its day (direct pair, else
 * the reverse one divided); the ledger entry keeps the rate it used, so a replaced rate changes
 * no recorded entry.
 */
@Entity({ name: 'exchange_rates' })
@Check('exchange_rates_rate_positive', `"rate" > 0`)
@Check('exchange_rates_pair_distinct', `"base" <> "quote"`)
@Check('exchange_rates_codes', `"base" ~ '^[A-Z]{3}$' AND "quote" ~ '^[A-Z]{3}$'`)
@Check('exchange_rates_source_not_empty', `"source" <> ''`)
export class ExchangeRateEntity {
  /** YYYY-MM-DD (UTC day). */
  @PrimaryColumn({ name: 'day', type: 'date' }) day!: string;
  @PrimaryColumn({ name: 'base', type: 'char', length: 3 }) base!: string;
  @PrimaryColumn({ name: 'quote', type: 'char', length: 3 }) quote!: string;
  /** Exact decimal, as Postgres prints it ("0.920000000000"). */
  @Column({ name: 'rate', type: 'numeric', precision: 30, scale: 12 }) rate!: string;
  @Column({ name: 'source', type: 'varchar', length: 64 }) source!: string;
  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' }) createdAt!: Date;
}

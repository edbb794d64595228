import type { MigrationInterface, QueryRunner } from 'typeorm';

const COMMENTS: Record<string, string> = {
  day: 'the UTC day the rate applies to: a postback is converted at the rate of its own day, never an earlier one',
  base: 'ISO 4217 code of the unit priced (1 base = rate quote)',
  quote: 'ISO 4217 code the rate is expressed in',
  rate: 'units of quote per unit of base, exact (at most 12 decimals)',
  source: 'where the rate comes from (e.g. ecb, openexchangerates, manual)',
  created_at:
    'when the row got its current rate (a replace sets it again; the admin audit log keeps the old one)',
};

/**
 * Exchange rates (issue 16): one per UTC day and currency pair, imported by the admin API and
 * `ledger rates import`. Entries converted at a rate record it, so replacing a rate rewrites no
 * money; the apps' role may insert and replace rates but not delete them.
 */
export class ExchangeRates1795563200000 implements MigrationInterface {
  name = 'ExchangeRates1795563200000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "exchange_rates" ("day" date NOT NULL, "base" character(3) NOT NULL, "quote" character(3) NOT NULL, "rate" numeric(30,12) NOT NULL, "source" character varying(64) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "exchange_rates_source_not_empty" CHECK ("source" <> ''), CONSTRAINT "exchange_rates_codes" CHECK ("base" ~ '^[A-Z]{3}$' AND "quote" ~ '^[A-Z]{3}$'), CONSTRAINT "exchange_rates_pair_distinct" CHECK ("base" <> "quote"), CONSTRAINT "exchange_rates_rate_positive" CHECK ("rate" > 0), CONSTRAINT "PK_ebd25800aa2ba758823a377ed6b" PRIMARY KEY ("day", "base", "quote"))`,
    );
    await queryRunner.query(
      `COMMENT ON TABLE "exchange_rates" IS 'Exchange rates per UTC day and pair: 1 base = rate quote. Ledger entries converted at one record it; docs/tables.md (exchange_rates).'`,
    );
    for (const [column, text] of Object.entries(COMMENTS))
      await queryRunner.query(
        `COMMENT ON COLUMN "exchange_rates"."${column}" IS '${text.replace(/'/g, "''")}'`,
      );
    // ledger_app's other grants come from the default privileges (LedgerIntegrity1795557000000).
    await queryRunner.query(`DO $$ BEGIN
      IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ledger_app') THEN
        REVOKE DELETE, TRUNCATE ON exchange_rates FROM ledger_app;
      END IF;
      IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ledger_analyst') THEN
        GRANT SELECT ON exchange_rates TO ledger_analyst;
      END IF;
    END $$`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "exchange_rates"');
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

const MICROS = 'integer micros (1 unit = 1,000,000)';
const CELL: Record<string, string> = {
  day: 'UTC day',
  partner_id: "the partner ('' = unknown)",
  offer_id: "the offer ('' = unknown: click never found, or no offer we know)",
  publisher_id: "the publisher ('' = unknown)",
  source: "sub1, the publisher's traffic source ('' = none)",
  placement: "the placement ('' = none)",
  geo: "the click's country, ISO 3166-1 alpha-2 ('' = unknown)",
  currency: "ISO 4217 currency of the entries' money ('' = unknown)",
};
const COMMENTS: Record<string, string> = {
  // Was "effective payout = ...": that sum is the revenue, now that payouts differ from it.
  'COLUMN "recon_daily"."adjusted_micros"': `signed revenue of adjustments (e.g. resolved disputes), ${MICROS}; revenue = approved + released - reversed + adjusted`,
  'COLUMN "recon_daily"."approved_payout_micros"': `publisher payout of the approved entries, ${MICROS}`,
  'COLUMN "recon_daily"."released_payout_micros"': `publisher payout written when holds were released, ${MICROS}`,
  'COLUMN "recon_daily"."reversed_payout_micros"': `publisher payout taken back by reversals, ${MICROS}`,
  'COLUMN "recon_daily"."adjusted_payout_micros"': `signed publisher payout of adjustments, ${MICROS}; payout = approved + released - reversed + adjusted, margin = revenue - payout`,
  'TABLE "recon_daily_rewards"':
    'User rewards per reconciliation cell and virtual currency (whole units, not our money; never added across currencies), projected from the ledger; rebuildable (docs/read-models.md).',
  ...Object.fromEntries(Object.entries(CELL).map(([c, t]) => [`COLUMN "recon_daily_rewards"."${c}"`, t])),
  'COLUMN "recon_daily_rewards"."reward_currency"':
    "the publisher app's virtual currency (ledger_entries.reward_currency)",
  'COLUMN "recon_daily_rewards"."issued"':
    'reward units of the approved and released entries (plus signed adjustments, if any)',
  'COLUMN "recon_daily_rewards"."reversed"':
    'reward units that reversals took back; rewards issued, net = issued - reversed',
};

/**
 * Reconciliation money (issue 16): each `recon_daily` cell gets the publisher's payout per entry
 * type (beside the revenue columns), and `recon_daily_rewards` holds the users' rewards per cell
 * and virtual currency.
 *
 * Existing rows get 0 payouts and no rewards, which a rebuild from the ledger then fills. After
 * deploying, an operator runs, with DATABASE_URL set:
 *   npm run ledger -- projections rebuild   # replays every read model from the ledger
 *   npm run ledger -- projections check     # exit 0: the tables equal a rebuild
 * (the live projector pauses meanwhile; decisions queue up and are applied once afterwards).
 * Until then `projections check` reports recon_daily as DIFFERENT where the ledger moved money.
 */
export class ReconMoney1795563500000 implements MigrationInterface {
  name = 'ReconMoney1795563500000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    const q = (sql: string) => queryRunner.query(sql);
    for (const c of ['approved', 'released', 'reversed', 'adjusted'])
      await q(`ALTER TABLE "recon_daily" ADD "${c}_payout_micros" bigint NOT NULL DEFAULT '0'`);
    await q(
      `CREATE TABLE "recon_daily_rewards" ("day" date NOT NULL, "partner_id" character varying(64) NOT NULL, "offer_id" character varying(64) NOT NULL, "publisher_id" character varying(64) NOT NULL, "source" character varying(256) NOT NULL, "placement" character varying(128) NOT NULL, "geo" character varying(2) NOT NULL, "currency" character varying(3) NOT NULL, "reward_currency" character varying(32) NOT NULL, "issued" bigint NOT NULL DEFAULT '0', "reversed" bigint NOT NULL DEFAULT '0', CONSTRAINT "PK_dba67734d94f0dfe0d206e9f930" PRIMARY KEY ("day", "partner_id", "offer_id", "publisher_id", "source", "placement", "geo", "currency", "reward_currency"))`,
    );
    for (const [target, text] of Object.entries(COMMENTS))
      await q(`COMMENT ON ${target} IS '${text.replace(/'/g, "''")}'`);
    // Like the other read models: the projector and the rebuild write it, analysts read it.
    await q(`DO $$ BEGIN
      IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ledger_app') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON "recon_daily_rewards" TO ledger_app;
      END IF;
      IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ledger_analyst') THEN
        GRANT SELECT ON "recon_daily_rewards" TO ledger_analyst;
      END IF;
    END $$`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "recon_daily_rewards"');
    for (const c of ['adjusted', 'reversed', 'released', 'approved'])
      await queryRunner.query(`ALTER TABLE "recon_daily" DROP COLUMN "${c}_payout_micros"`);
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Routing controls grow from "blocked" to a policy per source (block, hold for review, reduced
 * cap), set automatically or by an operator; the automatic policy becomes a row operators edit;
 * traffic-quality deny rules; offer review geos and burst limits. source_blocks is renamed, not
 * dropped, so blocks in force survive the upgrade.
 */
export class SourcePolicies1795550000000 implements MigrationInterface {
  name = 'SourcePolicies1795550000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "source_blocks" RENAME TO "source_controls"');
    await queryRunner.query(
      'ALTER TABLE "source_controls" RENAME CONSTRAINT "PK_b48170d5cdd5e00f37c9ddb2981" TO "PK_source_controls"',
    );
    await queryRunner.query('ALTER TABLE "source_controls" RENAME COLUMN "blocked_at" TO "since"');
    await queryRunner.query(
      `ALTER TABLE "source_controls" ADD "action" character varying(8) NOT NULL DEFAULT 'block'`,
    );
    await queryRunner.query('ALTER TABLE "source_controls" ADD "daily_cap" integer');
    await queryRunner.query(
      `ALTER TABLE "source_controls" ADD "origin" character varying(8) NOT NULL DEFAULT 'auto'`,
    );
    await queryRunner.query('ALTER TABLE "source_controls" ALTER COLUMN "decided" DROP NOT NULL');
    await queryRunner.query('ALTER TABLE "source_controls" ALTER COLUMN "rejected" DROP NOT NULL');
    await queryRunner.query('ALTER TABLE "source_daily_stats" ADD "approved" integer NOT NULL DEFAULT \'0\'');
    await queryRunner.query(
      `CREATE TABLE "source_policy" ("id" integer NOT NULL DEFAULT '1', "min_decisions" integer NOT NULL DEFAULT '50', "reject_rate" double precision NOT NULL DEFAULT '0.5', "action" character varying(8) NOT NULL DEFAULT 'block', "daily_cap" integer, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_source_policy" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query('INSERT INTO "source_policy" ("id") VALUES (1)');
    await queryRunner.query(
      'CREATE TABLE "traffic_rules" ("id" SERIAL NOT NULL, "kind" character varying(16) NOT NULL, "value" character varying(256) NOT NULL, "note" character varying(256), "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_traffic_rules" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "traffic_rules_kind_value_uq" ON "traffic_rules" ("kind", "value") ',
    );
    await queryRunner.query('ALTER TABLE "offers" ADD "review_geos" text array');
    await queryRunner.query('ALTER TABLE "offers" ADD "burst_max_conversions" integer');
    await queryRunner.query('ALTER TABLE "offers" ADD "burst_window_seconds" integer');
    await queryRunner.query(
      'CREATE INDEX "conversions_source_time_idx" ON "conversions" ("publisher_id", "sub1", "first_received_at") ',
    );
    await queryRunner.query(
      'GRANT SELECT, INSERT, UPDATE, DELETE ON "source_policy", "traffic_rules" TO ledger_app',
    );
    await queryRunner.query('GRANT USAGE, SELECT ON SEQUENCE "traffic_rules_id_seq" TO ledger_app');
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "public"."conversions_source_time_idx"');
    await queryRunner.query('ALTER TABLE "offers" DROP COLUMN "burst_window_seconds"');
    await queryRunner.query('ALTER TABLE "offers" DROP COLUMN "burst_max_conversions"');
    await queryRunner.query('ALTER TABLE "offers" DROP COLUMN "review_geos"');
    await queryRunner.query('DROP TABLE "traffic_rules"');
    await queryRunner.query('DROP TABLE "source_policy"');
    await queryRunner.query('ALTER TABLE "source_daily_stats" DROP COLUMN "approved"');
    await queryRunner.query(`DELETE FROM "source_controls" WHERE "action" <> 'block' OR "decided" IS NULL`);
    await queryRunner.query('ALTER TABLE "source_controls" ALTER COLUMN "rejected" SET NOT NULL');
    await queryRunner.query('ALTER TABLE "source_controls" ALTER COLUMN "decided" SET NOT NULL');
    await queryRunner.query('ALTER TABLE "source_controls" DROP COLUMN "origin"');
    await queryRunner.query('ALTER TABLE "source_controls" DROP COLUMN "daily_cap"');
    await queryRunner.query('ALTER TABLE "source_controls" DROP COLUMN "action"');
    await queryRunner.query('ALTER TABLE "source_controls" RENAME COLUMN "since" TO "blocked_at"');
    await queryRunner.query(
      'ALTER TABLE "source_controls" RENAME CONSTRAINT "PK_source_controls" TO "PK_b48170d5cdd5e00f37c9ddb2981"',
    );
    await queryRunner.query('ALTER TABLE "source_controls" RENAME TO "source_blocks"');
  }
}

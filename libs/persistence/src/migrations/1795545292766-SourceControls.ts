import type { MigrationInterface, QueryRunner } from 'typeorm';

export class SourceControls1795545292766 implements MigrationInterface {
  name = 'SourceControls1795545292766';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "source_daily_stats" ("kind" character varying(16) NOT NULL, "publisher_id" character varying(64) NOT NULL, "value" character varying(256) NOT NULL, "day" date NOT NULL, "decided" integer NOT NULL DEFAULT \'0\', "rejected" integer NOT NULL DEFAULT \'0\', CONSTRAINT "PK_bc06a1c28446fa6e69920896f99" PRIMARY KEY ("kind", "publisher_id", "value", "day"))',
    );
    await queryRunner.query(
      'CREATE TABLE "source_blocks" ("kind" character varying(16) NOT NULL, "publisher_id" character varying(64) NOT NULL, "value" character varying(256) NOT NULL, "blocked_at" TIMESTAMP WITH TIME ZONE NOT NULL, "decided" integer NOT NULL, "rejected" integer NOT NULL, "reason" character varying(256) NOT NULL, CONSTRAINT "PK_b48170d5cdd5e00f37c9ddb2981" PRIMARY KEY ("kind", "publisher_id", "value"))',
    );
    await queryRunner.query(
      'GRANT SELECT, INSERT, UPDATE, DELETE ON "source_daily_stats", "source_blocks" TO ledger_app',
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "source_blocks"');
    await queryRunner.query('DROP TABLE "source_daily_stats"');
  }
}

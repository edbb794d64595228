import type { MigrationInterface, QueryRunner } from 'typeorm';

export class LaunchCriteria1795551000000 implements MigrationInterface {
  name = 'LaunchCriteria1795551000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "launch_criteria" ("scope" character varying(8) NOT NULL, "subject" character varying(64) NOT NULL, "min_postbacks" integer, "min_acceptance_rate" double precision, "max_duplicate_rate" double precision, "max_soft_reject_rate" double precision, "max_latency_p99_seconds" integer, "max_late_rate" double precision, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_27a2971742a1652fde058dabafb" PRIMARY KEY ("scope", "subject"))',
    );
    // The documented defaults; partners and offers override them field by field.
    await queryRunner.query(
      `INSERT INTO "launch_criteria" ("scope", "subject", "min_postbacks", "min_acceptance_rate", "max_duplicate_rate", "max_soft_reject_rate", "max_latency_p99_seconds", "max_late_rate") VALUES ('default', '', 100, 0.9, 0.05, 0.05, 259200, 0.1)`,
    );
    await queryRunner.query('GRANT SELECT, INSERT, UPDATE, DELETE ON "launch_criteria" TO ledger_app');
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "launch_criteria"');
  }
}

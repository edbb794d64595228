import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Alerts1795553000000 implements MigrationInterface {
  name = 'Alerts1795553000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "alerts" ("id" BIGSERIAL NOT NULL, "key" character varying(400) NOT NULL, "rule" character varying(32) NOT NULL, "subject" character varying(360) NOT NULL, "severity" character varying(8) NOT NULL, "status" character varying(8) NOT NULL, "summary" character varying(512) NOT NULL, "evidence" jsonb NOT NULL, "first_fired_at" TIMESTAMP WITH TIME ZONE NOT NULL, "last_evaluated_at" TIMESTAMP WITH TIME ZONE NOT NULL, "resolved_at" TIMESTAMP WITH TIME ZONE, "notified_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_60f895662df096bfcdfab7f4b96" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "alerts_status_resolved_idx" ON "alerts"  ("status", "resolved_at") ',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "alerts_firing_key_idx" ON "alerts"  ("key") WHERE "status" = \'firing\'',
    );
    await queryRunner.query(
      'CREATE TABLE "alert_notifications" ("id" BIGSERIAL NOT NULL, "alert_id" bigint NOT NULL, "event" character varying(8) NOT NULL, "idempotency_key" character varying(460) NOT NULL, "payload" jsonb NOT NULL, "status" character varying(10) NOT NULL, "attempts" integer NOT NULL DEFAULT \'0\', "next_attempt_at" TIMESTAMP WITH TIME ZONE NOT NULL, "attempt_log" jsonb NOT NULL DEFAULT \'[]\', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "delivered_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "UQ_9d4ca4832a7d2df6ef49d1d31fc" UNIQUE ("idempotency_key"), CONSTRAINT "PK_4e0b86df24774d1111c4a02b9c9" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "alert_notifications_alert_idx" ON "alert_notifications"  ("alert_id") ',
    );
    await queryRunner.query(
      'CREATE INDEX "alert_notifications_due_idx" ON "alert_notifications"  ("status", "next_attempt_at") ',
    );
    await queryRunner.query(
      'CREATE TABLE "alert_samples" ("series" character varying(200) NOT NULL, "at" TIMESTAMP WITH TIME ZONE NOT NULL, "value" bigint NOT NULL, CONSTRAINT "PK_00082bcf44befd5b510fd6da208" PRIMARY KEY ("series", "at"))',
    );
    await queryRunner.query(
      'GRANT SELECT, INSERT, UPDATE, DELETE ON "alerts", "alert_notifications", "alert_samples" TO ledger_app',
    );
    await queryRunner.query(
      'GRANT USAGE, SELECT ON SEQUENCE "alerts_id_seq", "alert_notifications_id_seq" TO ledger_app',
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "alert_samples"');
    await queryRunner.query('DROP INDEX "public"."alert_notifications_due_idx"');
    await queryRunner.query('DROP INDEX "public"."alert_notifications_alert_idx"');
    await queryRunner.query('DROP TABLE "alert_notifications"');
    await queryRunner.query('DROP INDEX "public"."alerts_firing_key_idx"');
    await queryRunner.query('DROP INDEX "public"."alerts_status_resolved_idx"');
    await queryRunner.query('DROP TABLE "alerts"');
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Publisher postbacks: each publisher's URL templates, signing secrets and endpoint health; one
 * delivery row per ledger entry owed to a publisher (idempotent on entry_id); every HTTP attempt.
 */
export class PublisherPostbacks1795554000000 implements MigrationInterface {
  name = 'PublisherPostbacks1795554000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "publisher_postbacks" ("publisher_id" character varying(64) NOT NULL, "url" character varying(2048), "approved_url" character varying(2048), "reversed_url" character varying(2048), "secrets" text array NOT NULL, "legacy_hash_algorithm" character varying(16), "legacy_hash_param" character varying(64), "legacy_hash_fields" text array, "legacy_hash_secret" character varying(256), "delivery_state" character varying(16) NOT NULL DEFAULT \'active\', "paused_at" TIMESTAMP WITH TIME ZONE, "paused_reason" character varying(512), "consecutive_failures" integer NOT NULL DEFAULT \'0\', "failing_since" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_c659d9a8e34f768b2cb07b44597" PRIMARY KEY ("publisher_id"))',
    );
    await queryRunner.query(
      'CREATE TABLE "publisher_deliveries" ("entry_id" character varying(32) NOT NULL, "seq" BIGSERIAL NOT NULL, "publisher_id" character varying(64) NOT NULL, "conversion_id" character varying(32) NOT NULL, "entry_type" character varying(16) NOT NULL, "entry" jsonb NOT NULL, "status" character varying(24) NOT NULL DEFAULT \'pending\', "attempts" integer NOT NULL DEFAULT \'0\', "next_attempt_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "first_attempt_at" TIMESTAMP WITH TIME ZONE, "last_status_code" integer, "last_error" character varying(512), "entry_recorded_at" TIMESTAMP WITH TIME ZONE NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "finished_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_40a454689cbd893224ceb10b491" PRIMARY KEY ("entry_id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "publisher_deliveries_publisher_idx" ON "publisher_deliveries"  ("publisher_id", "status") ',
    );
    await queryRunner.query(
      'CREATE INDEX "publisher_deliveries_conversion_idx" ON "publisher_deliveries"  ("conversion_id", "seq") ',
    );
    await queryRunner.query(
      'CREATE INDEX "publisher_deliveries_due_idx" ON "publisher_deliveries"  ("next_attempt_at") WHERE "status" = \'pending\'',
    );
    await queryRunner.query(
      'CREATE TABLE "publisher_delivery_attempts" ("id" BIGSERIAL NOT NULL, "entry_id" character varying(32) NOT NULL, "attempt" integer NOT NULL, "publisher_id" character varying(64) NOT NULL, "url" character varying(4096) NOT NULL, "status_code" integer, "latency_ms" integer NOT NULL, "error" character varying(512), "outcome" character varying(24) NOT NULL, "next_attempt_at" TIMESTAMP WITH TIME ZONE, "attempted_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_a0ddd1f0ccadafa69f95e44227f" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "publisher_delivery_attempts_publisher_idx" ON "publisher_delivery_attempts"  ("publisher_id", "attempted_at") ',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "publisher_delivery_attempts_entry_idx" ON "publisher_delivery_attempts"  ("entry_id", "attempt") ',
    );
    await queryRunner.query(
      'GRANT SELECT, INSERT, UPDATE, DELETE ON "publisher_postbacks", "publisher_deliveries", "publisher_delivery_attempts" TO ledger_app',
    );
    await queryRunner.query(
      'GRANT USAGE, SELECT ON SEQUENCE "publisher_deliveries_seq_seq", "publisher_delivery_attempts_id_seq" TO ledger_app',
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "public"."publisher_delivery_attempts_entry_idx"');
    await queryRunner.query('DROP INDEX "public"."publisher_delivery_attempts_publisher_idx"');
    await queryRunner.query('DROP TABLE "publisher_delivery_attempts"');
    await queryRunner.query('DROP INDEX "public"."publisher_deliveries_due_idx"');
    await queryRunner.query('DROP INDEX "public"."publisher_deliveries_conversion_idx"');
    await queryRunner.query('DROP INDEX "public"."publisher_deliveries_publisher_idx"');
    await queryRunner.query('DROP TABLE "publisher_deliveries"');
    await queryRunner.query('DROP TABLE "publisher_postbacks"');
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ReadModels1795548311467 implements MigrationInterface {
  name = 'ReadModels1795548311467';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "projection_queue" ("seq" BIGSERIAL NOT NULL, "entry_id" character varying(32), "event_id" character varying(26), CONSTRAINT "PK_8c73c800cfa00f1915dd7b98029" PRIMARY KEY ("seq"))',
    );
    await queryRunner.query(
      'CREATE TABLE "recon_daily" ("day" date NOT NULL, "partner_id" character varying(64) NOT NULL, "offer_id" character varying(64) NOT NULL, "publisher_id" character varying(64) NOT NULL, "source" character varying(256) NOT NULL, "placement" character varying(128) NOT NULL, "geo" character varying(2) NOT NULL, "currency" character varying(3) NOT NULL, "postbacks" integer NOT NULL DEFAULT \'0\', "accepted" integer NOT NULL DEFAULT \'0\', "held_postbacks" integer NOT NULL DEFAULT \'0\', "duplicates" integer NOT NULL DEFAULT \'0\', "rejected_postbacks" integer NOT NULL DEFAULT \'0\', "soft_retried" integer NOT NULL DEFAULT \'0\', "late" integer NOT NULL DEFAULT \'0\', "pending" integer NOT NULL DEFAULT \'0\', "approved" integer NOT NULL DEFAULT \'0\', "approved_micros" bigint NOT NULL DEFAULT \'0\', "held" integer NOT NULL DEFAULT \'0\', "held_micros" bigint NOT NULL DEFAULT \'0\', "released" integer NOT NULL DEFAULT \'0\', "released_micros" bigint NOT NULL DEFAULT \'0\', "rejected" integer NOT NULL DEFAULT \'0\', "reversed" integer NOT NULL DEFAULT \'0\', "reversed_micros" bigint NOT NULL DEFAULT \'0\', "adjusted" integer NOT NULL DEFAULT \'0\', "adjusted_micros" bigint NOT NULL DEFAULT \'0\', CONSTRAINT "PK_b2fc0f6056cbc4a32f3b11a7a1b" PRIMARY KEY ("day", "partner_id", "offer_id", "publisher_id", "source", "placement", "geo", "currency"))',
    );
    await queryRunner.query(
      'CREATE TABLE "recon_daily_reasons" ("day" date NOT NULL, "partner_id" character varying(64) NOT NULL, "offer_id" character varying(64) NOT NULL, "publisher_id" character varying(64) NOT NULL, "source" character varying(256) NOT NULL, "placement" character varying(128) NOT NULL, "geo" character varying(2) NOT NULL, "currency" character varying(3) NOT NULL, "reason_bucket" character varying(8) NOT NULL, "reason_code" character varying(32) NOT NULL, "count" integer NOT NULL DEFAULT \'0\', CONSTRAINT "PK_26eefbf7e8efb0502e2b2c5fa9e" PRIMARY KEY ("day", "partner_id", "offer_id", "publisher_id", "source", "placement", "geo", "currency", "reason_bucket", "reason_code"))',
    );
    await queryRunner.query(
      'CREATE TABLE "latency_daily" ("day" date NOT NULL, "partner_id" character varying(64) NOT NULL, "offer_id" character varying(64) NOT NULL, "publisher_id" character varying(64) NOT NULL, "placement" character varying(128) NOT NULL, "geo" character varying(2) NOT NULL, "metric" character varying(24) NOT NULL, "le_ms" bigint NOT NULL, "count" integer NOT NULL DEFAULT \'0\', "sum_ms" bigint NOT NULL DEFAULT \'0\', CONSTRAINT "PK_8c5b29e2d5925993a570848e24d" PRIMARY KEY ("day", "partner_id", "offer_id", "publisher_id", "placement", "geo", "metric", "le_ms"))',
    );
    await queryRunner.query(
      'CREATE TABLE "review_queue" ("conversion_id" character varying(32) NOT NULL, "held_entry_id" character varying(32) NOT NULL, "held_at" TIMESTAMP WITH TIME ZONE NOT NULL, "reason_code" character varying(32) NOT NULL, "amount_micros" bigint NOT NULL, "currency" character(3) NOT NULL, "partner_id" character varying(64) NOT NULL, "offer_id" character varying(64) NOT NULL, "publisher_id" character varying(64), "transaction_id" character varying(128) NOT NULL, "click_id" character varying(128) NOT NULL, "sub1" character varying(256), "placement" character varying(128), "geo" character(2), "clicked_at" TIMESTAMP WITH TIME ZONE, "postback_delay_ms" bigint, CONSTRAINT "PK_17f6a79a9d2599671c8376be018" PRIMARY KEY ("conversion_id"))',
    );
    await queryRunner.query('CREATE INDEX "review_queue_held_at_idx" ON "review_queue"  ("held_at") ');
    await queryRunner.query(
      'GRANT SELECT, INSERT, UPDATE, DELETE ON "projection_queue", "recon_daily", "recon_daily_reasons", "latency_daily", "review_queue" TO ledger_app',
    );
    await queryRunner.query('GRANT USAGE, SELECT ON SEQUENCE "projection_queue_seq_seq" TO ledger_app');
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "public"."review_queue_held_at_idx"');
    await queryRunner.query('DROP TABLE "review_queue"');
    await queryRunner.query('DROP TABLE "latency_daily"');
    await queryRunner.query('DROP TABLE "recon_daily_reasons"');
    await queryRunner.query('DROP TABLE "recon_daily"');
    await queryRunner.query('DROP TABLE "projection_queue"');
  }
}

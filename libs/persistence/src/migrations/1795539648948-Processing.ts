import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Processing1795539648948 implements MigrationInterface {
  name = 'Processing1795539648948';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "conversions" ("conversion_id" character varying(32) NOT NULL, "offer_id" character varying(64) NOT NULL, "transaction_id" character varying(128) NOT NULL, "goal" character varying(64) NOT NULL, "partner_id" character varying(64) NOT NULL, "click_id" character varying(128) NOT NULL, "publisher_id" character varying(64), "status" character varying(16) NOT NULL, "requested" character varying(16) NOT NULL, "amount_micros" bigint NOT NULL, "currency" character(3) NOT NULL, "reason_bucket" character varying(16), "reason_code" character varying(32), "sub1" character varying(256), "sub2" character varying(256), "sub3" character varying(256), "sub4" character varying(256), "sub5" character varying(256), "placement" character varying(128), "geo" character(2), "device" character varying(16), "clicked_at" TIMESTAMP WITH TIME ZONE, "first_received_at" TIMESTAMP WITH TIME ZONE NOT NULL, "last_received_at" TIMESTAMP WITH TIME ZONE NOT NULL, "last_entry_id" character varying(32) NOT NULL, "entries" integer NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_3a929757f94ce341c70c6b48e06" PRIMARY KEY ("conversion_id"))',
    );
    await queryRunner.query('CREATE INDEX "conversions_click_idx" ON "conversions"  ("click_id") ');
    await queryRunner.query(
      'CREATE UNIQUE INDEX "conversions_offer_tx_goal_uq" ON "conversions"  ("offer_id", "transaction_id", "goal") ',
    );
    await queryRunner.query(
      'CREATE TABLE "ledger_entries" ("entry_id" character varying(32) NOT NULL, "seq" BIGSERIAL NOT NULL, "entry_type" character varying(16) NOT NULL, "conversion_id" character varying(32) NOT NULL, "conversion_status" character varying(16) NOT NULL, "click_id" character varying(128) NOT NULL, "transaction_id" character varying(128) NOT NULL, "offer_id" character varying(64) NOT NULL, "publisher_id" character varying(64), "partner_id" character varying(64) NOT NULL, "goal" character varying(64) NOT NULL, "amount_micros" bigint NOT NULL, "currency" character(3) NOT NULL, "reason_bucket" character varying(16), "reason_code" character varying(32), "sub1" character varying(256), "sub2" character varying(256), "sub3" character varying(256), "sub4" character varying(256), "sub5" character varying(256), "placement" character varying(128), "geo" character(2), "device" character varying(16), "clicked_at" TIMESTAMP WITH TIME ZONE, "occurred_at" TIMESTAMP WITH TIME ZONE NOT NULL, "recorded_at" TIMESTAMP WITH TIME ZONE NOT NULL, "late" boolean NOT NULL, "postback_delay_ms" bigint, "source_event_id" character varying(32) NOT NULL, "schema_version" integer NOT NULL, "payload" jsonb NOT NULL, CONSTRAINT "PK_66c3443046dcaa388ac51f6171a" PRIMARY KEY ("entry_id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "ledger_entries_occurred_idx" ON "ledger_entries"  ("occurred_at") ',
    );
    await queryRunner.query(
      'CREATE INDEX "ledger_entries_conversion_idx" ON "ledger_entries"  ("conversion_id") ',
    );
    await queryRunner.query('CREATE UNIQUE INDEX "ledger_entries_seq_uq" ON "ledger_entries"  ("seq") ');
    await queryRunner.query(
      'CREATE TABLE "ledger_outbox" ("seq" bigint NOT NULL, "entry_id" character varying(32) NOT NULL, CONSTRAINT "PK_6a6c464a6d4c792fd267d0c0971" PRIMARY KEY ("seq"))',
    );
    await queryRunner.query(
      'CREATE TABLE "offer_daily_usage" ("offer_id" character varying(64) NOT NULL, "day" date NOT NULL, "conversions" integer NOT NULL DEFAULT \'0\', "payout_micros" bigint NOT NULL DEFAULT \'0\', CONSTRAINT "PK_ae263aae9681f08ab7b452c6b1e" PRIMARY KEY ("offer_id", "day"))',
    );
    await queryRunner.query(
      'CREATE TABLE "parked_postbacks" ("event_id" character varying(26) NOT NULL, "seq" BIGSERIAL NOT NULL, "partner_id" character varying(64) NOT NULL, "transaction_id" character varying(128) NOT NULL, "event" jsonb NOT NULL, "attempts" integer NOT NULL, "due_at" TIMESTAMP WITH TIME ZONE NOT NULL, "reason" character varying(32) NOT NULL, "errors" jsonb NOT NULL, "parked_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_eb736e74fa0bc5945c4a191a91a" PRIMARY KEY ("event_id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "parked_postbacks_chain_idx" ON "parked_postbacks"  ("partner_id", "transaction_id", "seq") ',
    );
    await queryRunner.query('CREATE INDEX "parked_postbacks_due_idx" ON "parked_postbacks"  ("due_at") ');
    await queryRunner.query(
      'CREATE TABLE "postback_outcomes" ("event_id" character varying(26) NOT NULL, "partner_id" character varying(64) NOT NULL, "click_id" character varying(128) NOT NULL, "transaction_id" character varying(128) NOT NULL, "status" character varying(16) NOT NULL, "conversion_id" character varying(32), "offer_id" character varying(64), "publisher_id" character varying(64), "sub1" character varying(256), "placement" character varying(128), "geo" character(2), "outcome" character varying(16) NOT NULL, "reason_bucket" character varying(16), "reason_code" character varying(32), "detail" character varying(256), "entry_id" character varying(32), "attempts" integer NOT NULL, "late" boolean NOT NULL, "postback_delay_ms" bigint, "received_at" TIMESTAMP WITH TIME ZONE NOT NULL, "decided_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_25f539db273708f98bbe84c92cf" PRIMARY KEY ("event_id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "postback_outcomes_conversion_idx" ON "postback_outcomes"  ("conversion_id") ',
    );
    await queryRunner.query(
      'CREATE INDEX "postback_outcomes_received_idx" ON "postback_outcomes"  ("received_at") ',
    );
    await queryRunner.query('ALTER TABLE "offers" ADD "min_conversion_seconds" integer');
    await queryRunner.query('ALTER TABLE "offers" ADD "hold_payout_above_micros" bigint');
    // The ledger is append-only, enforced by the database itself: corrections are new entries.
    await queryRunner.query(`CREATE FUNCTION ledger_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'ledger_entries is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await queryRunner.query(
      'CREATE TRIGGER ledger_entries_no_update_delete BEFORE UPDATE OR DELETE ON "ledger_entries" FOR EACH ROW EXECUTE FUNCTION ledger_entries_append_only()',
    );
    await queryRunner.query(
      'CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON "ledger_entries" FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_append_only()',
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TRIGGER IF EXISTS ledger_entries_no_truncate ON "ledger_entries"');
    await queryRunner.query('DROP TRIGGER IF EXISTS ledger_entries_no_update_delete ON "ledger_entries"');
    await queryRunner.query('DROP FUNCTION IF EXISTS ledger_entries_append_only()');
    await queryRunner.query('ALTER TABLE "offers" DROP COLUMN "hold_payout_above_micros"');
    await queryRunner.query('ALTER TABLE "offers" DROP COLUMN "min_conversion_seconds"');
    await queryRunner.query('DROP INDEX "public"."postback_outcomes_received_idx"');
    await queryRunner.query('DROP INDEX "public"."postback_outcomes_conversion_idx"');
    await queryRunner.query('DROP TABLE "postback_outcomes"');
    await queryRunner.query('DROP INDEX "public"."parked_postbacks_due_idx"');
    await queryRunner.query('DROP INDEX "public"."parked_postbacks_chain_idx"');
    await queryRunner.query('DROP TABLE "parked_postbacks"');
    await queryRunner.query('DROP TABLE "offer_daily_usage"');
    await queryRunner.query('DROP TABLE "ledger_outbox"');
    await queryRunner.query('DROP INDEX "public"."ledger_entries_seq_uq"');
    await queryRunner.query('DROP INDEX "public"."ledger_entries_conversion_idx"');
    await queryRunner.query('DROP INDEX "public"."ledger_entries_occurred_idx"');
    await queryRunner.query('DROP TABLE "ledger_entries"');
    await queryRunner.query('DROP INDEX "public"."conversions_offer_tx_goal_uq"');
    await queryRunner.query('DROP INDEX "public"."conversions_click_idx"');
    await queryRunner.query('DROP TABLE "conversions"');
  }
}

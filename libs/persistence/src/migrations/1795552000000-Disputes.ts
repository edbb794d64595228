import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Disputes1795552000000 implements MigrationInterface {
  name = 'Disputes1795552000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "disputes" ("id" character varying(26) NOT NULL, "counterparty_kind" character varying(16) NOT NULL, "counterparty_id" character varying(64) NOT NULL, "file_name" character varying(256), "rows" integer NOT NULL, "from_day" date NOT NULL, "to_day" date NOT NULL, "summary" jsonb NOT NULL, "created_by" character varying(64) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_3c97580d01c1a4b0b345c42a107" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE TABLE "dispute_rows" ("dispute_id" character varying(26) NOT NULL, "line" integer NOT NULL, "transaction_id" character varying(128) NOT NULL, "offer_id" character varying(64), "status" character varying(16) NOT NULL, "payout_micros" bigint NOT NULL, "currency" character(3) NOT NULL, "day" date NOT NULL, CONSTRAINT "PK_d5760619d056f96fd8ed5446175" PRIMARY KEY ("dispute_id", "line"))',
    );
    await queryRunner.query(
      'CREATE TABLE "dispute_items" ("dispute_id" character varying(26) NOT NULL, "item" integer NOT NULL, "kind" character varying(24) NOT NULL, "transaction_id" character varying(128) NOT NULL, "offer_id" character varying(64), "conversion_id" character varying(32), "ours" jsonb, "theirs" jsonb, "resolution" character varying(16), "entry_id" character varying(32), "resolved_by" character varying(64), "note" character varying(1000), "resolved_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_a9f366646744a1a47267c6470d1" PRIMARY KEY ("dispute_id", "item"))',
    );
    await queryRunner.query(
      'CREATE INDEX "dispute_items_conversion_idx" ON "dispute_items"  ("conversion_id") ',
    );
    await queryRunner.query(
      'GRANT SELECT, INSERT, UPDATE, DELETE ON "disputes", "dispute_rows", "dispute_items" TO ledger_app',
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "public"."dispute_items_conversion_idx"');
    await queryRunner.query('DROP TABLE "dispute_items"');
    await queryRunner.query('DROP TABLE "dispute_rows"');
    await queryRunner.query('DROP TABLE "disputes"');
  }
}

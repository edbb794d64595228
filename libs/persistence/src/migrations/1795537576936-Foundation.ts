import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Foundation1795537576936 implements MigrationInterface {
  name = 'Foundation1795537576936';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "clicks" ("click_id" character varying(26) NOT NULL, "event_id" character varying(26) NOT NULL, "offer_id" character varying(64) NOT NULL, "publisher_id" character varying(64) NOT NULL, "sub1" character varying(256), "sub2" character varying(256), "sub3" character varying(256), "sub4" character varying(256), "sub5" character varying(256), "placement" character varying(128), "geo" character(2), "device" character varying(16), "ip" character varying(45), "user_agent" character varying(512), "clicked_at" TIMESTAMP WITH TIME ZONE NOT NULL, "stored_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_4cac83227d02568797e1eec1c2e" PRIMARY KEY ("click_id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "clicks_offer_clicked_at_idx" ON "clicks"  ("offer_id", "clicked_at") ',
    );
    await queryRunner.query(
      'CREATE TABLE "postbacks" ("event_id" character varying(26) NOT NULL, "partner_id" character varying(64) NOT NULL, "click_id" character varying(128) NOT NULL, "transaction_id" character varying(128) NOT NULL, "status" character varying(16) NOT NULL, "offer_id" character varying(64), "payout_micros" bigint, "currency" character(3), "event" character varying(64), "reason" character varying(512), "source_ip" character varying(45) NOT NULL, "received_at" TIMESTAMP WITH TIME ZONE NOT NULL, "extra" jsonb NOT NULL, "kafka_partition" integer NOT NULL, "kafka_offset" bigint NOT NULL, "stored_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_3b3cd03684f3dbed178ce50721d" PRIMARY KEY ("event_id"))',
    );
    await queryRunner.query('CREATE INDEX "postbacks_click_idx" ON "postbacks"  ("click_id") ');
    await queryRunner.query(
      'CREATE INDEX "postbacks_partner_tx_idx" ON "postbacks"  ("partner_id", "transaction_id") ',
    );
    await queryRunner.query(
      'CREATE TABLE "projection_checkpoints" ("projection" character varying(64) NOT NULL, "topic" character varying(128) NOT NULL, "partition" integer NOT NULL, "next_offset" bigint NOT NULL, "watermark" TIMESTAMP WITH TIME ZONE, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_ce2a148cc3959a72b58789fc5e2" PRIMARY KEY ("projection", "topic", "partition"))',
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "projection_checkpoints"');
    await queryRunner.query('DROP INDEX "public"."postbacks_partner_tx_idx"');
    await queryRunner.query('DROP INDEX "public"."postbacks_click_idx"');
    await queryRunner.query('DROP TABLE "postbacks"');
    await queryRunner.query('DROP INDEX "public"."clicks_offer_clicked_at_idx"');
    await queryRunner.query('DROP TABLE "clicks"');
  }
}

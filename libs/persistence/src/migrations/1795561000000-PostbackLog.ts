import type { MigrationInterface, QueryRunner } from 'typeorm';

const REFUSED_COMMENTS: Record<string, string> = {
  event_id: 'the postbacks.refused event id',
  partner_id: 'the partner id in the URL (it may name no partner we know)',
  http_status: 'the HTTP status the gateway answered (4xx)',
  code: 'the error code of the answer (docs/partners/postbacks.md)',
  field: 'the field at fault, when one was',
  message: 'the error message of the answer',
  transaction_id: "the transaction id as sent (after the partner's key dictionary), when readable",
  click_id: "the click id as sent (after the partner's key dictionary), when readable",
  request_id: "the gateway's request id: the x-request-id header of its answer",
  source_ip: "the caller's address",
  received_at: 'when the gateway refused it',
  stored_at: 'when the processor stored it; rows are deleted after REFUSED_RETENTION_DAYS',
};

/**
 * The postback log (issue 15): refused postbacks sampled by the gateway (postbacks.refused),
 * kept for a bounded time, and the request id of accepted ones. ledger_app's grants come from
 * the default privileges (LedgerIntegrity1795557000000).
 */
export class PostbackLog1795561000000 implements MigrationInterface {
  name = 'PostbackLog1795561000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "refused_postbacks" ("event_id" character varying(26) NOT NULL, "partner_id" character varying(64) NOT NULL, "http_status" integer NOT NULL, "code" character varying(64) NOT NULL, "field" character varying(64), "message" character varying(512) NOT NULL, "transaction_id" character varying(128), "click_id" character varying(128), "request_id" character varying(64), "source_ip" character varying(45) NOT NULL, "received_at" TIMESTAMP WITH TIME ZONE NOT NULL, "stored_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_db18e212e8b7e3b47e4d95d7a3c" PRIMARY KEY ("event_id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "refused_postbacks_partner_received_idx" ON "refused_postbacks" ("partner_id", "received_at") ',
    );
    await queryRunner.query(
      'CREATE INDEX "refused_postbacks_partner_tx_idx" ON "refused_postbacks" ("partner_id", "transaction_id") ',
    );
    await queryRunner.query(
      'CREATE INDEX "refused_postbacks_received_idx" ON "refused_postbacks" ("received_at") ',
    );
    await queryRunner.query('ALTER TABLE "postbacks" ADD "request_id" character varying(64)');
    await queryRunner.query(
      `COMMENT ON TABLE "refused_postbacks" IS 'The refused half of the postback log: a sample of the postbacks the gateway refused (postbacks.refused), kept REFUSED_RETENTION_DAYS (default 14).'`,
    );
    for (const [column, text] of Object.entries(REFUSED_COMMENTS))
      await queryRunner.query(
        `COMMENT ON COLUMN "refused_postbacks"."${column}" IS '${text.replace(/'/g, "''")}'`,
      );
    await queryRunner.query(
      `COMMENT ON COLUMN "postbacks"."request_id" IS 'the gateway''s request id: the x-request-id header of its answer (null before it existed)'`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "postbacks" DROP COLUMN "request_id"');
    await queryRunner.query('DROP INDEX "public"."refused_postbacks_received_idx"');
    await queryRunner.query('DROP INDEX "public"."refused_postbacks_partner_tx_idx"');
    await queryRunner.query('DROP INDEX "public"."refused_postbacks_partner_received_idx"');
    await queryRunner.query('DROP TABLE "refused_postbacks"');
  }
}

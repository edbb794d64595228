import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Postbacks whose retry budget ran out, waiting for the relay to publish them to `postbacks.dead`. */
export class PostbackDeadOutbox1795556000000 implements MigrationInterface {
  name = 'PostbackDeadOutbox1795556000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "postback_dead_outbox" ("seq" BIGSERIAL NOT NULL, "event_id" character varying(26) NOT NULL, "key" character varying(200) NOT NULL, "payload" jsonb NOT NULL, CONSTRAINT "PK_c6c2564faccb56c79f37734bb38" PRIMARY KEY ("seq"))',
    );
    await queryRunner.query('GRANT SELECT, INSERT, DELETE ON "postback_dead_outbox" TO ledger_app');
    await queryRunner.query('GRANT USAGE, SELECT ON SEQUENCE "postback_dead_outbox_seq_seq" TO ledger_app');
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "postback_dead_outbox"');
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A postback waiting for its click is retried when the click is stored, not at its next retry
 * step. The click store finds the postbacks waiting for the clicks it just stored by this column
 * (the event's click_id), through a partial index over the rows parked for that reason.
 */
export class ParkedClickWake1795563800000 implements MigrationInterface {
  name = 'ParkedClickWake1795563800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "parked_postbacks" ADD "click_id" character varying(128)`);
    await q.query(`UPDATE "parked_postbacks" SET "click_id" = left("event"->'payload'->>'click_id', 128)`);
    await q.query(
      `CREATE INDEX "parked_postbacks_click_idx" ON "parked_postbacks" ("click_id") WHERE reason = 'click_not_found_yet'`,
    );
    await q.query(
      `COMMENT ON COLUMN "parked_postbacks"."click_id" IS 'The postback''s click id: storing that click makes a postback waiting for it (reason click_not_found_yet) due at once.'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS "parked_postbacks_click_idx"`);
    await q.query(`ALTER TABLE "parked_postbacks" DROP COLUMN "click_id"`);
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

const COMMENTS: Record<string, string> = {
  'COLUMN "ledger_entries"."user_id"':
    "The wall's user id sent with the click (uid); null: none sent, no click, or an operator entry.",
  'COLUMN "ledger_entries"."original_amount_micros"':
    'The postback payout in its own currency (micros), when it was converted into the entry currency; null otherwise.',
  'COLUMN "ledger_entries"."original_currency"':
    'ISO 4217 code of original_amount_micros; null when nothing was converted.',
  'COLUMN "ledger_entries"."fx_rate"':
    'Rate applied: units of currency per unit of original_currency (a reverse pair: its reciprocal, 12 decimals); null when nothing was converted.',
  'COLUMN "ledger_entries"."fx_date"':
    'UTC day of the rate (the day the postback arrived); null when nothing was converted.',
  'COLUMN "clicks"."user_id"':
    "The wall's user id sent with the click (uid, 1-128 printable characters); null: none.",
};

/**
 * Where an entry comes from besides its payload (issue 16): the wall's user id, carried from the
 * click, and for a postback amount in another currency than the offer's, the original amount and
 * currency, the rate and its day. Columns only (the v1 payload is unchanged); nullable, so
 * existing entries and clicks keep null.
 */
export class EntryOrigins1795563400000 implements MigrationInterface {
  name = 'EntryOrigins1795563400000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    const q = (sql: string) => queryRunner.query(sql);
    await q(`ALTER TABLE "ledger_entries" ADD "user_id" character varying(128)`);
    await q(`ALTER TABLE "ledger_entries" ADD "original_amount_micros" bigint`);
    await q(`ALTER TABLE "ledger_entries" ADD "original_currency" character(3)`);
    await q(`ALTER TABLE "ledger_entries" ADD "fx_rate" numeric(30,12)`);
    await q(`ALTER TABLE "ledger_entries" ADD "fx_date" date`);
    // Partitioned: the column is added to every month's partition too.
    await q(`ALTER TABLE "clicks" ADD "user_id" character varying(128)`);
    for (const [target, text] of Object.entries(COMMENTS))
      await q(`COMMENT ON ${target} IS '${text.replace(/'/g, "''")}'`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    const q = (sql: string) => queryRunner.query(sql);
    await q(`ALTER TABLE "clicks" DROP COLUMN "user_id"`);
    for (const c of ['fx_date', 'fx_rate', 'original_currency', 'original_amount_micros', 'user_id'])
      await q(`ALTER TABLE "ledger_entries" DROP COLUMN "${c}"`);
  }
}

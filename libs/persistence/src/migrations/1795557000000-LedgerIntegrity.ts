import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The ledger's money invariants, held by the database for every role (the apps' own included):
 * - one approval per conversion, ever (`approved` or `released`), and at most one reversal;
 * - a reversal only after an approval of the same conversion;
 * - every entry of a conversion in one currency (a zero-amount rejection may precede a replay
 *   that reopens it in the offer's currency), and from one partner.
 * Also: the partner status each entry applied (`requested_status`, so a rebuild can fold the
 * conversion from its entries alone), the partners allowed on an offer and its maximum payout,
 * and the application role's grants, for today's tables and every table made later by the owner.
 */
export class LedgerIntegrity1795557000000 implements MigrationInterface {
  name = 'LedgerIntegrity1795557000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "ledger_entries" ADD "requested_status" character varying(16)');
    await queryRunner.query('ALTER TABLE "offers" ADD "partner_ids" text array');
    await queryRunner.query('ALTER TABLE "offers" ADD "max_payout_micros" bigint');
    // Entries written before this migration: the status of the postback behind each (operator
    // entries have none and keep the conversion's). The append-only guard is lifted for this
    // one statement, by the owner, inside this migration's transaction.
    await queryRunner.query('ALTER TABLE "ledger_entries" DISABLE TRIGGER ledger_entries_no_update_delete');
    await queryRunner.query(
      `UPDATE ledger_entries l SET requested_status = p.status FROM postbacks p
        WHERE p.event_id = l.source_event_id AND l.payload->>'operator' IS NULL`,
    );
    await queryRunner.query('ALTER TABLE "ledger_entries" ENABLE TRIGGER ledger_entries_no_update_delete');

    await queryRunner.query(
      `CREATE UNIQUE INDEX "ledger_one_approval" ON "ledger_entries" ("conversion_id") WHERE entry_type IN ('approved', 'released')`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "ledger_one_reversal" ON "ledger_entries" ("conversion_id") WHERE entry_type = 'reversed'`,
    );
    await queryRunner.query(`CREATE FUNCTION ledger_entries_guard() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE bad record;
      BEGIN
        SELECT n.entry_id, n.conversion_id, n.entry_type, n.currency, n.partner_id,
               e.entry_type AS prior_type, e.currency AS prior_currency, e.partner_id AS prior_partner
          INTO bad
          FROM added n
          LEFT JOIN LATERAL (
            SELECT p.entry_type, p.currency, p.partner_id FROM ledger_entries p
             WHERE p.conversion_id = n.conversion_id AND p.seq < n.seq
               AND (p.partner_id <> n.partner_id
                    OR (p.currency <> n.currency AND NOT (p.entry_type = 'rejected' AND p.amount_micros = 0)))
             LIMIT 1) e ON true
         WHERE e.entry_type IS NOT NULL
            OR (n.entry_type = 'reversed' AND NOT EXISTS (
                  SELECT 1 FROM ledger_entries a WHERE a.conversion_id = n.conversion_id AND a.seq < n.seq
                     AND a.entry_type IN ('approved', 'released')))
         LIMIT 1;
        IF FOUND THEN
          IF bad.prior_type IS NULL THEN
            RAISE EXCEPTION 'ledger: entry % reverses conversion % which was never approved', bad.entry_id, bad.conversion_id
              USING ERRCODE = 'check_violation';
          ELSIF bad.prior_partner <> bad.partner_id THEN
            RAISE EXCEPTION 'ledger: entry % is from partner %, conversion % belongs to partner %',
              bad.entry_id, bad.partner_id, bad.conversion_id, bad.prior_partner USING ERRCODE = 'check_violation';
          ELSE
            RAISE EXCEPTION 'ledger: entry % is in %, conversion % is in %',
              bad.entry_id, bad.currency, bad.conversion_id, bad.prior_currency USING ERRCODE = 'check_violation';
          END IF;
        END IF;
        RETURN NULL;
      END $$`);
    await queryRunner.query(
      `CREATE TRIGGER ledger_entries_invariants AFTER INSERT ON "ledger_entries" REFERENCING NEW TABLE AS added
         FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_guard()`,
    );

    // The apps' role: every table's rows, and read-model rebuilds (TRUNCATE), but on the ledger
    // only INSERT and SELECT. Only the owner may alter the ledger or disable its triggers.
    await queryRunner.query(`DO $$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ledger_app') THEN CREATE ROLE ledger_app NOLOGIN; END IF;
    END $$`);
    await queryRunner.query(
      'GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA public TO ledger_app',
    );
    await queryRunner.query('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ledger_app');
    await queryRunner.query('REVOKE UPDATE, DELETE, TRUNCATE ON "ledger_entries" FROM ledger_app');
    await queryRunner.query('REVOKE ALL ON "schema_migrations" FROM ledger_app');
    await queryRunner.query('GRANT SELECT ON "schema_migrations" TO ledger_app');
    await queryRunner.query(
      'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON TABLES TO ledger_app',
    );
    await queryRunner.query(
      'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO ledger_app',
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON TABLES FROM ledger_app',
    );
    await queryRunner.query(
      'ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE USAGE, SELECT ON SEQUENCES FROM ledger_app',
    );
    await queryRunner.query('DROP TRIGGER IF EXISTS ledger_entries_invariants ON "ledger_entries"');
    await queryRunner.query('DROP FUNCTION IF EXISTS ledger_entries_guard()');
    await queryRunner.query('DROP INDEX IF EXISTS "ledger_one_reversal"');
    await queryRunner.query('DROP INDEX IF EXISTS "ledger_one_approval"');
    await queryRunner.query('ALTER TABLE "offers" DROP COLUMN "max_payout_micros"');
    await queryRunner.query('ALTER TABLE "offers" DROP COLUMN "partner_ids"');
    await queryRunner.query('ALTER TABLE "ledger_entries" DROP COLUMN "requested_status"');
  }
}

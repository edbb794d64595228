import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The role applications should connect as in production: it may read and append to the
 * ledger, never change or remove an entry. (The triggers refuse those to every role, superusers
 * included; the missing grants are the second lock.) Roles are cluster-wide, hence IF NOT EXISTS.
 */
export class LedgerAppRole1795541000000 implements MigrationInterface {
  name = 'LedgerAppRole1795541000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DO $$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ledger_app') THEN CREATE ROLE ledger_app NOLOGIN; END IF;
    END $$`);
    await queryRunner.query(
      `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ledger_app`,
    );
    await queryRunner.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ledger_app`);
    await queryRunner.query(`REVOKE UPDATE, DELETE, TRUNCATE ON "ledger_entries" FROM ledger_app`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ledger_app`);
    await queryRunner.query(`REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM ledger_app`);
  }
}

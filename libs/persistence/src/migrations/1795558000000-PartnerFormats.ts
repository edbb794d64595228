import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Real partners' postback shapes by configuration: the platform preset a partner was made from,
 * its format (default status, one conversion per click without a transaction id, decimal comma,
 * reversal markers, ignored parameters), and its own late threshold and retry budget.
 */
export class PartnerFormats1795558000000 implements MigrationInterface {
  name = 'PartnerFormats1795558000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "partners" ADD "preset" character varying(32)');
    await queryRunner.query('ALTER TABLE "partners" ADD "format" jsonb');
    await queryRunner.query('ALTER TABLE "partners" ADD "late_after_seconds" integer');
    await queryRunner.query('ALTER TABLE "partners" ADD "retry_attempts" integer');
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "partners" DROP COLUMN "retry_attempts"');
    await queryRunner.query('ALTER TABLE "partners" DROP COLUMN "late_after_seconds"');
    await queryRunner.query('ALTER TABLE "partners" DROP COLUMN "format"');
    await queryRunner.query('ALTER TABLE "partners" DROP COLUMN "preset"');
  }
}

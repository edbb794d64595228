import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Catalog1795538418837 implements MigrationInterface {
  name = 'Catalog1795538418837';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "offers" ("id" character varying(64) NOT NULL, "name" character varying(200) NOT NULL, "landing_url" character varying(2048) NOT NULL, "payout_micros" bigint NOT NULL, "currency" character(3) NOT NULL, "allowed_geos" text array, "daily_cap" integer, "payout_cap_micros" bigint, "attribution_window_hours" integer NOT NULL DEFAULT \'720\', "goals" text array NOT NULL DEFAULT \'{default}\', "status" character varying(16) NOT NULL DEFAULT \'active\', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_4c88e956195bba85977da21b8f4" PRIMARY KEY ("id"))',
    );
    await queryRunner.query('CREATE INDEX "offers_updated_at_idx" ON "offers"  ("updated_at") ');
    await queryRunner.query(
      'CREATE TABLE "partners" ("id" character varying(64) NOT NULL, "name" character varying(200) NOT NULL, "auth_modes" text array NOT NULL, "hmac_secrets" text array NOT NULL DEFAULT \'{}\', "token" character varying(256), "token_param" character varying(64) NOT NULL DEFAULT \'token\', "ip_allowlist" text array NOT NULL DEFAULT \'{}\', "key_map" jsonb, "status_map" jsonb, "tolerance_seconds" integer NOT NULL DEFAULT \'300\', "rate_limit_per_second" integer NOT NULL DEFAULT \'200\', "status" character varying(16) NOT NULL DEFAULT \'active\', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_998645b20820e4ab99aeae03b41" PRIMARY KEY ("id"))',
    );
    await queryRunner.query('CREATE INDEX "partners_updated_at_idx" ON "partners"  ("updated_at") ');
    await queryRunner.query(
      'CREATE TABLE "publishers" ("id" character varying(64) NOT NULL, "name" character varying(200) NOT NULL, "status" character varying(16) NOT NULL DEFAULT \'active\', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_9d73f23749dca512efc3ccbea6a" PRIMARY KEY ("id"))',
    );
    await queryRunner.query('CREATE INDEX "publishers_updated_at_idx" ON "publishers"  ("updated_at") ');
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "public"."publishers_updated_at_idx"');
    await queryRunner.query('DROP TABLE "publishers"');
    await queryRunner.query('DROP INDEX "public"."partners_updated_at_idx"');
    await queryRunner.query('DROP TABLE "partners"');
    await queryRunner.query('DROP INDEX "public"."offers_updated_at_idx"');
    await queryRunner.query('DROP TABLE "offers"');
  }
}

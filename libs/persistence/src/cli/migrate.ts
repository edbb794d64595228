/**
 * Schema commands: `run` applies pending migrations, `check` fails when the entities and the
 * migrations disagree (CI runs it), `generate <PascalName>` writes a migration for the
 * difference, `revert` undoes the last one. Connects as the schema's owner (OWNER_DATABASE_URL);
 * `run` also lets the application role (DATABASE_URL's) log in.
 */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ownerDatabaseUrl } from '@app/config';
import { ensureAppRole } from '../app-role';
import { createDataSource, pendingSchemaDrift, schemaDiff } from '../data-source';

const url = ownerDatabaseUrl();

function render(name: string, epoch: number, up: string[], down: string[]): string {
  const q = (s: string) => `    await queryRunner.query(${JSON.stringify(s)});`;
  return `import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ${name}${epoch} implements MigrationInterface {
  name = '${name}${epoch}';

  public async up(queryRunner: QueryRunner): Promise<void> {
${up.map(q).join('\n')}
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
${down.map(q).join('\n')}
  }
}
`;
}

async function main(): Promise<number> {
  const [cmd, arg] = process.argv.slice(2);
  const ds = createDataSource({ url, poolSize: 2, applicationName: 'migrate' });
  try {
    await ds.initialize();
  } catch (e) {
    console.error(
      `cannot connect to OWNER_DATABASE_URL (${url.replace(/:[^:@/]*@/, ':***@')}): ${(e as Error).message}`,
    );
    return 2;
  }
  try {
    switch (cmd) {
      case 'run': {
        const done = await ds.runMigrations({ transaction: 'each' });
        console.log(done.length ? `applied ${done.map((m) => m.name).join(', ')}` : 'schema up to date');
        await ensureAppRole((sql) => ds.query(sql));
        return 0;
      }
      case 'check': {
        await ds.runMigrations({ transaction: 'each' });
        const drift = await pendingSchemaDrift(ds);
        if (drift.length === 0) {
          console.log('entities and migrations agree');
          return 0;
        }
        console.error(`entities and migrations drift; a migration is missing:\n${drift.join(';\n')};`);
        return 1;
      }
      case 'generate': {
        if (!arg || !/^[A-Z][A-Za-z0-9]+$/.test(arg)) {
          console.error('usage: migrate generate <PascalCaseName>');
          return 2;
        }
        await ds.runMigrations({ transaction: 'each' });
        const sql = await schemaDiff(ds);
        if (sql.up.length === 0) {
          console.log('no changes');
          return 0;
        }
        const epoch = Date.now();
        const file = join(__dirname, '..', 'migrations', `${epoch}-${arg}.ts`);
        writeFileSync(file, render(arg, epoch, sql.up, [...sql.down].reverse()));
        console.log(
          `wrote ${file}; add it to migrations/index.ts, and COMMENT ON every column it adds to an analyst table (docs/tables.md#analysts)`,
        );
        return 0;
      }
      case 'revert':
        await ds.undoLastMigration({ transaction: 'each' });
        console.log('reverted the last migration');
        return 0;
      case undefined:
      default:
        console.error('usage: migrate run|check|generate <Name>|revert');
        return 2;
    }
  } finally {
    await ds.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);

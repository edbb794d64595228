import { DataSource, type DataSourceOptions } from 'typeorm';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';
import { QueryLogger } from './query-logger';

export interface DatabaseOptions {
  url: string;
  poolSize?: number;
  applicationName?: string;
}

/** The one place the schema is described: entities plus ordered migrations, never synchronize. */
export function dataSourceOptions(opts: DatabaseOptions): DataSourceOptions {
  return {
    type: 'postgres',
    url: opts.url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: ['error', 'migration'],
    // Failed queries without their parameters: they can carry partner secrets.
    logger: new QueryLogger(),
    applicationName: opts.applicationName ?? 'conversion-ledger',
    extra: {
      max: opts.poolSize ?? 10,
      connectionTimeoutMillis: 3000,
      // A query that outlives this is treated as a dependency failure, not waited on forever.
      statement_timeout: 30000,
      idle_in_transaction_session_timeout: 60000,
    },
  };
}

export function createDataSource(opts: DatabaseOptions): DataSource {
  return new DataSource(dataSourceOptions(opts));
}

// Comments on tables and columns belong to the migrations (the analyst catalog), not the
// entities. TypeORM would drop every one no entity declares (`COMMENT ON ... IS NULL`), and take
// such a column for changed, dropping and recreating its indexes. A comment an entity does
// declare is still compared.
const DROPS_COMMENT = /^COMMENT ON (TABLE|COLUMN) (.+?) IS NULL$/s;

/**
 * SQL that brings the database in line with the entities (up, and its undo, in TypeORM's order),
 * leaving alone the comments migrations wrote. Run against a database with every migration
 * applied; both lists are empty when migrations and entities agree.
 */
export async function schemaDiff(ds: DataSource): Promise<{ up: string[]; down: string[] }> {
  const driver = ds.driver;
  const own = Object.getOwnPropertyDescriptor(driver, 'findChangedColumns');
  const find = driver.findChangedColumns.bind(driver);
  driver.findChangedColumns = (tableColumns, columns) =>
    find(
      tableColumns.map((t) => {
        if (!t.comment || columns.find((c) => c.databaseName === t.name)?.comment) return t;
        const copy = t.clone();
        copy.comment = undefined;
        return copy;
      }),
      columns,
    );
  let sql;
  try {
    sql = await driver.createSchemaBuilder().log();
  } finally {
    if (own) Object.defineProperty(driver, 'findChangedColumns', own);
    else delete (driver as Partial<typeof driver>).findChangedColumns;
  }
  const kept: string[] = [];
  const up = sql.upQueries
    .map((q) => q.query)
    .filter((q) => {
      const m = DROPS_COMMENT.exec(q);
      if (m) kept.push(`COMMENT ON ${m[1]} ${m[2]} IS `);
      return !m;
    });
  const down = sql.downQueries
    .map((q) => q.query)
    .filter((q) => !kept.some((prefix) => q.startsWith(prefix)));
  return { up, down };
}

/** SQL that would bring the database in line with the entities; empty when migrations and entities agree. */
export async function pendingSchemaDrift(ds: DataSource): Promise<string[]> {
  return (await schemaDiff(ds)).up;
}

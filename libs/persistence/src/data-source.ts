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

/**
 * SQL that would bring the database in line with the entities; empty when migrations and
 * entities agree. Run against a database with every migration applied.
 */
export async function pendingSchemaDrift(ds: DataSource): Promise<string[]> {
  const sql = await ds.driver.createSchemaBuilder().log();
  return sql.upQueries.map((q) => q.query);
}

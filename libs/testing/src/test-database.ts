import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { appRoleUrl, ownerDatabaseUrl } from '@app/config';
import { createDataSource, ensureAppRole } from '@app/persistence';

/** The server's owner: tests create their databases and run migrations as it. */
export const BASE_DATABASE_URL = ownerDatabaseUrl();

export interface TestDatabase {
  /** The application role's URL: what apps and CLIs under test connect with. */
  url: string;
  /** The owner's URL (migrations, fixtures a test plants on purpose). */
  ownerUrl: string;
  name: string;
  ds: DataSource;
  drop(): Promise<void>;
}

function withDb(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

async function admin<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: withDb(url, 'postgres') });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A fresh database with every migration applied, on the server DATABASE_URL points at. */
export async function createTestDatabase(
  opts: { migrate?: boolean; baseUrl?: string } = {},
): Promise<TestDatabase> {
  const base = opts.baseUrl ?? BASE_DATABASE_URL;
  const name = `t_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  await admin(base, (c) => c.query(`CREATE DATABASE "${name}"`));
  const ownerUrl = withDb(base, name);
  const ds = createDataSource({ url: ownerUrl, poolSize: 4, applicationName: 'test' });
  await ds.initialize();
  if (opts.migrate ?? true) {
    await ds.runMigrations({ transaction: 'each' });
    await ensureAppRole((sql) => ds.query(sql));
  }
  return {
    url: appRoleUrl(ownerUrl),
    ownerUrl,
    name,
    ds,
    drop: async () => {
      if (ds.isInitialized) await ds.destroy();
      await admin(base, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

import { pendingSchemaDrift } from '@app/persistence';
import { createTestDatabase, type TestDatabase } from '@app/testing';

describe('migrations', () => {
  let db: TestDatabase;
  afterEach(async () => {
    await db?.drop();
  });

  it('bring an empty database exactly to the entities (no drift)', async () => {
    db = await createTestDatabase();
    expect(await pendingSchemaDrift(db.ds)).toEqual([]);
  });

  it('revert cleanly, down to an empty schema, and apply again', async () => {
    db = await createTestDatabase();
    const applied = (await db.ds.query('SELECT count(*)::int AS n FROM schema_migrations'))[0].n as number;
    for (let i = 0; i < applied; i++) await db.ds.undoLastMigration({ transaction: 'each' });
    const tables = await db.ds.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'schema_migrations'`,
    );
    expect(tables).toEqual([]);
    await db.ds.runMigrations({ transaction: 'each' });
    expect(await pendingSchemaDrift(db.ds)).toEqual([]);
  });
});

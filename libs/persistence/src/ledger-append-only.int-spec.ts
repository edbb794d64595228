import { createTestDatabase, type TestDatabase } from '@app/testing';

/** The ledger is append-only for everyone (triggers), and the app role lacks the grants too. */
describe('ledger_entries is append-only', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    await db.ds.query(
      `INSERT INTO ledger_entries (entry_id, entry_type, conversion_id, conversion_status, click_id, transaction_id, offer_id,
         partner_id, goal, amount_micros, currency, occurred_at, recorded_at, late, source_event_id, schema_version, payload)
       VALUES ('le_1', 'approved', 'cv_1', 'approved', 'c', 't', 'o', 'p', 'default', 1000000, 'USD', now(), now(), false, 'e', 1, '{}')`,
    );
  });
  afterAll(async () => {
    await db?.drop();
  });

  it.each([
    'UPDATE ledger_entries SET amount_micros = 0',
    'DELETE FROM ledger_entries',
    'TRUNCATE ledger_entries',
  ])('refuses %s even to a superuser', async (sql) => {
    await expect(db.ds.query(sql)).rejects.toThrow(/append-only/);
  });

  it('gives the application role INSERT and SELECT but not UPDATE, DELETE or TRUNCATE', async () => {
    const [g] = await db.ds.query(
      `SELECT has_table_privilege('ledger_app', 'ledger_entries', 'INSERT') AS ins,
              has_table_privilege('ledger_app', 'ledger_entries', 'SELECT') AS sel,
              has_table_privilege('ledger_app', 'ledger_entries', 'UPDATE') AS upd,
              has_table_privilege('ledger_app', 'ledger_entries', 'DELETE') AS del,
              has_table_privilege('ledger_app', 'ledger_entries', 'TRUNCATE') AS trunc`,
    );
    expect(g).toEqual({ ins: true, sel: true, upd: false, del: false, trunc: false });
    await db.ds.transaction(async (em) => {
      await em.query('SET LOCAL ROLE ledger_app');
      await expect(em.query(`SAVEPOINT a; UPDATE ledger_entries SET late = true`)).rejects.toThrow(
        /permission denied/,
      );
    });
    expect((await db.ds.query(`SELECT amount_micros FROM ledger_entries`))[0].amount_micros).toBe('1000000');
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { schemaDiff } from '@app/persistence';
import { createTestDatabase, type TestDatabase } from '@app/testing';

const ROLE = 'ledger_analyst';
/** What analysts read (docs/tables.md#analysts): a new analyst table is added here, commented and granted. */
const ANALYST_TABLES = [
  'alerts',
  'clicks',
  'conversions',
  'dispute_items',
  'dispute_rows',
  'disputes',
  'exchange_rates',
  'latency_daily',
  'launch_criteria',
  'ledger_entries',
  'ledger_postings',
  'offer_daily_usage',
  'offers',
  'payout_rules',
  'postback_outcomes',
  'postbacks',
  'publisher_deliveries',
  'publisher_delivery_attempts',
  'publishers',
  'recon_daily',
  'recon_daily_reasons',
  'recon_daily_rewards',
  'review_queue',
  'reward_rules',
  'source_controls',
  'source_daily_stats',
  'source_policy',
  'traffic_rules',
];
/** Tables holding credentials: commented like the others, but analysts read a view without them. */
const HIDDEN: Record<string, { view: string; secrets: string[] }> = {
  partners: { view: 'analyst_partners', secrets: ['hmac_secrets', 'token'] },
  publisher_postbacks: { view: 'analyst_publisher_postbacks', secrets: ['secrets', 'legacy_hash_secret'] },
};
const VIEWS = Object.values(HIDDEN).map((h) => h.view);
const CREDENTIAL = /secret|password|^token$|_token$|sha256|hash$/;

describe('analyst catalog: comments, ledger_analyst and its views', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  const columnsOf = async (relation: string): Promise<string[]> =>
    (
      (await db.ds.query(
        `SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
        [relation],
      )) as { attname: string }[]
    ).map((r) => r.attname);

  it('comments every analyst table, view and column', async () => {
    const relations = [...ANALYST_TABLES, ...Object.keys(HIDDEN), ...VIEWS];
    const rows = (await db.ds.query(
      `SELECT c.relname, a.attname,
              coalesce(obj_description(c.oid, 'pg_class'), '') AS table_comment,
              coalesce(col_description(c.oid, a.attnum), '') AS column_comment
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        WHERE c.relname = ANY($1)`,
      [relations],
    )) as { relname: string; attname: string; table_comment: string; column_comment: string }[];
    expect([...new Set(rows.map((r) => r.relname))].sort()).toEqual([...relations].sort());
    const uncommented = [
      ...new Set(rows.filter((r) => !r.table_comment.trim()).map((r) => r.relname)),
      ...rows.filter((r) => !r.column_comment.trim()).map((r) => `${r.relname}.${r.attname}`),
    ];
    expect(uncommented).toEqual([]);
  });

  it('survive generated migrations: entities and migrations agree with the comments in place', async () => {
    // `migrate generate` would otherwise write COMMENT ... IS NULL for every comment, and drop and
    // recreate the indexes of every commented column.
    expect(await schemaDiff(db.ds)).toEqual({ up: [], down: [] });
  });

  it('views show every column of their table but the credentials', async () => {
    for (const [table, h] of Object.entries(HIDDEN)) {
      const base = await columnsOf(table);
      expect(base).toEqual(expect.arrayContaining(h.secrets));
      expect({ view: h.view, columns: await columnsOf(h.view) }).toEqual({
        view: h.view,
        columns: base.filter((c) => !h.secrets.includes(c)),
      });
    }
  });

  it('ledger_analyst: a NOLOGIN group role that may SELECT the analyst tables and views, and nothing else', async () => {
    const [role] = (await db.ds.query(
      `SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls,
              pg_has_role($1, 'ledger_app', 'MEMBER') AS app_member
         FROM pg_roles WHERE rolname = $1`,
      [ROLE],
    )) as Record<string, boolean>[];
    expect(role).toEqual({
      rolcanlogin: false,
      rolsuper: false,
      rolcreaterole: false,
      rolcreatedb: false,
      rolbypassrls: false,
      app_member: false,
    });
    const privileges = (await db.ds.query(
      `SELECT c.relname, c.relkind,
              has_table_privilege($1, c.oid, 'SELECT') AS sel,
              has_table_privilege($1, c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER') AS write,
              EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                         AND has_column_privilege($1, c.oid, a.attnum, 'SELECT, INSERT, UPDATE, REFERENCES')
                         AND NOT has_table_privilege($1, c.oid, 'SELECT')) AS column_grant
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
        WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f', 'S')`,
      [ROLE],
    )) as { relname: string; relkind: string; sel: boolean; write: boolean; column_grant: boolean }[];
    expect(
      privileges
        .filter((p) => p.sel)
        .map((p) => p.relname)
        .sort(),
    ).toEqual([...ANALYST_TABLES, ...VIEWS].sort());
    expect(privileges.filter((p) => p.write || p.column_grant || (p.relkind === 'S' && p.sel))).toEqual([]);
    // Nothing it reads is a credential.
    const readable = privileges.filter((p) => p.sel).map((p) => p.relname);
    const exposed: string[] = [];
    for (const r of readable)
      for (const c of await columnsOf(r)) if (CREDENTIAL.test(c)) exposed.push(`${r}.${c}`);
    expect(exposed).toEqual([]);
  });

  describe('as ledger_analyst (SET ROLE inside a rolled-back transaction)', () => {
    // A plain connection as the owner: refused statements are expected here, not logged.
    let c: Client;
    beforeEach(async () => {
      c = new Client({ connectionString: db.ownerUrl });
      await c.connect();
      await c.query('BEGIN');
      // Planted by the owner: a partner and a publisher endpoint with credentials.
      await c.query(
        `INSERT INTO partners (id, name, auth_modes, hmac_secrets, token) VALUES ('p-1', 'P', '{hmac}', '{s3cret}', 'tok3n')`,
      );
      await c.query(`INSERT INTO publishers (id, name) VALUES ('pub-1', 'Pub')`);
      await c.query(
        `INSERT INTO publisher_postbacks (publisher_id, url, secrets, legacy_hash_secret)
         VALUES ('pub-1', 'https://pub.example/pb?c={click_id}', '{sign1}', 'legacy1')`,
      );
      await c.query(`SET LOCAL ROLE ${ROLE}`);
    });
    afterEach(async () => {
      await c.query('ROLLBACK');
      await c.end();
    });

    /** The statement fails with SQLSTATE `code`; the transaction goes on. */
    async function refused(sql: string, code: string): Promise<string | undefined> {
      await c.query('SAVEPOINT attempt');
      try {
        await c.query(sql);
        return `${sql}: allowed`;
      } catch (e) {
        const got = (e as { code?: string }).code;
        return got === code ? undefined : `${sql}: ${got} (${(e as Error).message})`;
      } finally {
        await c.query('ROLLBACK TO SAVEPOINT attempt');
      }
    }

    it('reads every analyst table and the views, without credentials', async () => {
      for (const r of [...ANALYST_TABLES, ...VIEWS]) await c.query(`SELECT * FROM ${r} LIMIT 1`);
      const [partner] = (await c.query(`SELECT * FROM analyst_partners WHERE id = 'p-1'`)).rows as Record<
        string,
        unknown
      >[];
      expect(partner).toMatchObject({ id: 'p-1', name: 'P', auth_modes: ['hmac'] });
      expect(partner).not.toHaveProperty('hmac_secrets');
      expect(partner).not.toHaveProperty('token');
      const [endpoint] = (
        await c.query(`SELECT * FROM analyst_publisher_postbacks WHERE publisher_id = 'pub-1'`)
      ).rows as Record<string, unknown>[];
      expect(endpoint).toMatchObject({ publisher_id: 'pub-1', delivery_state: 'active' });
      expect(Object.keys(endpoint!).filter((k) => CREDENTIAL.test(k))).toEqual([]);
    });

    it('cannot read a credential, by table or by view', async () => {
      const failures = [
        await refused(`SELECT hmac_secrets FROM partners`, '42501'),
        await refused(`SELECT token FROM partners`, '42501'),
        await refused(`SELECT id FROM partners`, '42501'),
        await refused(`SELECT secrets FROM publisher_postbacks`, '42501'),
        await refused(`SELECT legacy_hash_secret FROM publisher_postbacks`, '42501'),
        await refused(`SELECT hmac_secrets FROM analyst_partners`, '42703'),
        await refused(`SELECT token FROM analyst_partners`, '42703'),
        await refused(`SELECT secrets FROM analyst_publisher_postbacks`, '42703'),
        await refused(`SELECT legacy_hash_secret FROM analyst_publisher_postbacks`, '42703'),
        await refused(`SELECT * FROM ledger_outbox`, '42501'),
      ];
      expect(failures.filter(Boolean)).toEqual([]);
    });

    it('cannot write anything: INSERT, UPDATE, DELETE, TRUNCATE on every table and view', async () => {
      const relations = (
        await c.query<{ relname: string; relkind: string }>(
          `SELECT r.relname, r.relkind FROM pg_class r JOIN pg_namespace n ON n.oid = r.relnamespace
            WHERE n.nspname = current_schema() AND r.relkind IN ('r', 'v', 'p') ORDER BY 1`,
        )
      ).rows;
      expect(relations.length).toBeGreaterThan(30);
      const failures: (string | undefined)[] = [];
      for (const { relname, relkind } of relations) {
        const [first] = await columnsOf(relname);
        failures.push(
          await refused(`INSERT INTO "${relname}" DEFAULT VALUES`, '42501'),
          await refused(`UPDATE "${relname}" SET "${first}" = "${first}"`, '42501'),
          await refused(`DELETE FROM "${relname}"`, '42501'),
        );
        if (relkind !== 'v') failures.push(await refused(`TRUNCATE "${relname}"`, '42501'));
      }
      expect(failures.filter(Boolean)).toEqual([]);
    });
  });

  it('docs/tables.md describes the role, its views and every analyst table', () => {
    const doc = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'tables.md'), 'utf8');
    const missing = [ROLE, ...VIEWS, ...ANALYST_TABLES, ...Object.keys(HIDDEN)].filter(
      (name) => !doc.includes(`\`${name}\``),
    );
    expect(missing).toEqual([]);
  });
});

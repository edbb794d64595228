import { loadEnv } from '@app/config';
import { Registry } from 'prom-client';
import { createTestDatabase, type TestDatabase } from '@app/testing';
import { Leadership } from '../leadership/leadership';
import { ProcessorEnv } from '../processor.env';
import { RefusedRetention } from './refused-retention';

describe('refused postbacks retention', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('deletes rows older than REFUSED_RETENTION_DAYS in batches, and keeps the rest', async () => {
    const now = new Date('2026-12-05T10:00:00Z');
    const day = 86_400_000;
    // 1,500 rows 15 days old, 3 rows 13 days old, 1 row of today.
    await db.ds.query(
      `INSERT INTO refused_postbacks (event_id, partner_id, http_status, code, message, source_ip, received_at)
       SELECT lpad(i::text, 26, '0'), 'p', 401, 'bad_signature', 'bad signature', '127.0.0.1',
              CASE WHEN i <= 1500 THEN $1::timestamptz WHEN i <= 1503 THEN $2::timestamptz ELSE $3::timestamptz END
         FROM generate_series(1, 1504) i`,
      [new Date(now.getTime() - 15 * day), new Date(now.getTime() - 13 * day), now],
    );
    const env = loadEnv(ProcessorEnv, {});
    const retention = new RefusedRetention(db.ds, env, new Leadership(env, new Registry()));
    expect(await retention.purge(now)).toBe(1000);
    expect(await retention.purge(now)).toBe(500);
    expect(await retention.purge(now)).toBe(0);
    const [left] = (await db.ds.query(`SELECT count(*)::int AS n FROM refused_postbacks`)) as { n: number }[];
    expect(left!.n).toBe(4);
  });

  it("counts from the store's clock: refusals of a replayed earlier period stay while it is the newest", async () => {
    await db.ds.query(`DELETE FROM refused_postbacks`);
    const day = 86_400_000;
    const virtual = new Date('2026-01-20T00:00:00Z');
    await db.ds.query(
      `INSERT INTO refused_postbacks (event_id, partner_id, http_status, code, message, source_ip, received_at)
       VALUES ('R-OLD', 'p', 401, 'bad_signature', 'x', '127.0.0.1', $1), ('R-NEW', 'p', 401, 'bad_signature', 'x', '127.0.0.1', $2)`,
      [new Date(virtual.getTime() - 20 * day), virtual],
    );
    const env = loadEnv(ProcessorEnv, {});
    const retention = new RefusedRetention(db.ds, env, new Leadership(env, new Registry()));
    // Months after the replay's virtual time by the wall clock: only what is past the retention
    // counted from the newest refusal goes.
    expect(await retention.purge(new Date('2026-12-05T10:00:00Z'))).toBe(1);
    const left = (await db.ds.query(`SELECT event_id FROM refused_postbacks`)) as { event_id: string }[];
    expect(left.map((r) => r.event_id)).toEqual(['R-NEW']);
  });

  it("is written by the apps' role: ledger_app's grants come from the default privileges", async () => {
    const [g] = (await db.ds.query(
      `SELECT bool_and(has_table_privilege('ledger_app', 'refused_postbacks', p)) AS ok
         FROM unnest(ARRAY['SELECT', 'INSERT', 'DELETE']) p`,
    )) as { ok: boolean }[];
    expect(g!.ok).toBe(true);
  });
});

import { Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import { createDataSource } from '@app/persistence';
import { createTestDatabase, seedOffer, type TestDatabase } from '@app/testing';
import { Leadership } from '../leadership/leadership';
import { ProcessorEnv } from '../processor.env';
import { Topics } from '@app/contracts';
import { ClickRetention } from './click-retention';
import { CLICK_PROJECTION } from './click-projection.name';

/** The click store's monthly partitions against real Postgres, as the apps' role uses them. */
describe('click store partitions and retention (real Postgres, application role)', () => {
  let db: TestDatabase;
  let app: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = createDataSource({ url: db.url, poolSize: 2, applicationName: 'clicks-int' });
    await app.initialize();
  });
  afterAll(async () => {
    await app.destroy();
    await db.drop();
  });

  const partitions = async () =>
    (
      await db.ds.query<{ relname: string }[]>(
        `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
          WHERE i.inhparent = 'clicks'::regclass ORDER BY 1`,
      )
    ).map((r) => r.relname);
  const click = (id: string, at: string) =>
    app.query(
      `INSERT INTO clicks (click_id, event_id, offer_id, publisher_id, clicked_at) VALUES ($1, $1, 'o', 'p', $2)
       ON CONFLICT (click_id, clicked_at) DO NOTHING`,
      [id, at],
    );

  it('makes month partitions on demand through the owner function, never by the apps role itself', async () => {
    await app.query(`SELECT click_partitions_ensure($1::date[])`, [
      ['2026-01-15', '2026-01-31', '2026-03-01'],
    ]);
    expect(await partitions()).toEqual(expect.arrayContaining(['clicks_2026_01', 'clicks_2026_03']));
    await click('C-JAN', '2026-01-31T23:59:59.999Z');
    await click('C-MAR', '2026-03-01T00:00:00.000Z');
    await click('C-JAN', '2026-01-31T23:59:59.999Z'); // a redelivery changes nothing
    const rows = await db.ds.query<{ tableoid: string; click_id: string }[]>(
      `SELECT tableoid::regclass::text AS tableoid, click_id FROM clicks WHERE click_id IN ('C-JAN', 'C-MAR') ORDER BY 2`,
    );
    expect(rows).toEqual([
      { tableoid: 'clicks_2026_01', click_id: 'C-JAN' },
      { tableoid: 'clicks_2026_03', click_id: 'C-MAR' },
    ]);
    await expect(
      app.query(
        `CREATE TABLE clicks_2030_01 PARTITION OF clicks FOR VALUES FROM ('2030-01-01') TO ('2030-02-01')`,
      ),
    ).rejects.toThrow(/permission denied|must be owner/);
    // A month with no partition is refused, never silently dropped.
    await expect(click('C-FUTURE', '2031-05-05T00:00:00Z')).rejects.toThrow(/no partition/);
  });

  it('drops whole months past the retention, never one an offer may still convert', async () => {
    const env = Object.assign(new ProcessorEnv(), { CLICK_RETENTION_DAYS: 30 });
    const retention = new ClickRetention(app, env, new Leadership(env, new Registry()));
    await seedOffer(db.ds, { id: 'long-window' });
    await db.ds.query(`UPDATE offers SET attribution_window_hours = 24 * 60 WHERE id = 'long-window'`);
    // On 2026-04-10 with a 60-day window (+31 days): the cutoff is 91 days back, 2026-01-09.
    expect(await retention.dropExpired(new Date('2026-04-10T00:00:00Z'))).toEqual([]);
    // On 2026-05-10 the cutoff is 2026-02-08: January ended before it, March did not.
    expect(await retention.dropExpired(new Date('2026-05-10T00:00:00Z'))).toEqual(['clicks_2026_01']);
    expect(await partitions()).not.toContain('clicks_2026_01');
    const left = await db.ds.query<{ click_id: string }[]>(
      `SELECT click_id FROM clicks WHERE click_id LIKE 'C-%'`,
    );
    expect(left.map((r) => r.click_id)).toEqual(['C-MAR']);
  });

  it("counts the retention from the store's clock: a replay of an earlier period keeps its clicks", async () => {
    const env = Object.assign(new ProcessorEnv(), { CLICK_RETENTION_DAYS: 30 });
    const retention = new ClickRetention(app, env, new Leadership(env, new Registry()));
    // The projection's newest click is of 2026-03-05 (virtual times of a replay); today is later.
    await db.ds.query(
      `INSERT INTO projection_checkpoints (projection, topic, partition, next_offset, watermark, updated_at)
       VALUES ($1, $2, 0, 10, '2026-03-05T00:00:00Z', now())`,
      [CLICK_PROJECTION, Topics.clicksRecorded],
    );
    // 91 days (the long window) before 2026-03-05 keeps March whatever the wall clock says.
    expect(await retention.dropExpired(new Date('2027-01-01T00:00:00Z'))).toEqual([]);
    expect(await partitions()).toContain('clicks_2026_03');
  });
});

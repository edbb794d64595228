import { Client } from 'pg';
import {
  type AppProcess,
  createTestDatabase,
  createTestTopics,
  freePort,
  httpJson,
  ownPostgres,
  ownReplica,
  poll,
  spawnApp,
  TEST_BROKERS,
  uniquePrefix,
  waitReady,
} from '@app/testing';

/**
 * Reports off the primary (docs/deployment.md#reports-off-the-primary): a private primary and a
 * streaming replica of it (`postgres.sh start-replica`), both started here and always removed.
 * The gateway writes to the primary and reads reports from REPORTS_DATABASE_URL, the replica:
 * with the replica's replay paused a new read-model row stays out of the report while the answer
 * and `reports_replica_lag_seconds` show the lag; resumed, the row appears and the lag is 0.
 */
const TOKEN = 'replica-admin-token-0123456789';

describe('reports read from a streaming replica', () => {
  it('answers from the replica and shows how far behind it is', async () => {
    const primary = await ownPostgres('reports-primary');
    primary.start();
    const replica = await ownReplica('reports', primary.url);
    const cleanup: (() => unknown)[] = [() => primary.destroy()];
    try {
      replica.start();
      cleanup.unshift(() => replica.destroy());
      // Created after the replica: the database, its schema and the app's role arrive by streaming.
      const db = await createTestDatabase({ baseUrl: primary.url });
      cleanup.unshift(() => db.drop());
      const onReplica = (url: string) => {
        const u = new URL(url);
        u.port = new URL(replica.url).port;
        return u.toString();
      };
      const su = await poll('the database reached the replica', async () => {
        const c = new Client({ connectionString: onReplica(db.ownerUrl) });
        await c.connect().catch(async (e: unknown) => {
          await c.end().catch(() => undefined);
          throw e;
        });
        return c;
      });
      cleanup.unshift(() => su.end().catch(() => undefined));
      await poll('the schema reached the replica', async () => {
        await su.query(`SELECT 1 FROM recon_daily LIMIT 1`);
        return true;
      });

      const prefix = uniquePrefix('replica');
      const topics = await createTestTopics(prefix);
      cleanup.unshift(() => topics.drop());
      const port = await freePort();
      const gateway: AppProcess = spawnApp('gateway', {
        DATABASE_URL: db.url,
        REPORTS_DATABASE_URL: onReplica(db.url),
        KAFKA_BROKERS: TEST_BROKERS.join(','),
        TOPIC_PREFIX: prefix,
        ADMIN_TOKEN: TOKEN,
        PORT: String(port),
        METRICS_REFRESH_MS: '500',
        LOG_LEVEL: 'warn',
      });
      cleanup.unshift(() => gateway.stop());
      const base = `http://127.0.0.1:${port}`;
      await waitReady(gateway, `${base}/health/ready`);
      const auth = { headers: { authorization: `Bearer ${TOKEN}` } };
      const today = new Date().toISOString().slice(0, 10);
      const report = async () => {
        const r = await httpJson(
          `${base}/v1/reports/reconciliation?from=${today}&to=${today}&group_by=offer`,
          auth,
        );
        expect(r.status).toBe(200);
        return r.body as {
          rows: { offer_id: string; postbacks: number }[];
          source: { database: string; replica_lag_seconds: number | null };
        };
      };
      const lagMetric = async () => {
        const text = await (await fetch(`${base}/metrics`, auth)).text();
        const m = /^reports_replica_lag_seconds(?:\{[^}]*\})? (\S+)$/m.exec(text);
        return m ? Number(m[1]) : undefined;
      };
      const addRow = (offer: string, postbacks: number) =>
        db.ds.query(
          `INSERT INTO recon_daily (day, partner_id, offer_id, publisher_id, source, placement, geo, currency, postbacks, accepted)
           VALUES ($1, 'p', $2, 'pub', '', '', '', 'USD', $3, $3)`,
          [today, offer, postbacks],
        );

      await addRow('r-1', 5);
      const first = await poll('the first row reported from the replica', async () => {
        const r = await report();
        return r.rows.some((row) => row.offer_id === 'r-1') ? r : undefined;
      });
      expect(first.source.database).toBe('replica');

      // Replay paused: the replica receives WAL but applies none of it.
      await su.query(`SELECT pg_wal_replay_pause()`);
      cleanup.unshift(() => su.query(`SELECT pg_wal_replay_resume()`).catch(() => undefined));
      await addRow('r-2', 7);
      const behind = await poll('the report shows the replica behind', async () => {
        const r = await report();
        return (r.source.replica_lag_seconds ?? 0) > 0 ? r : undefined;
      });
      expect(behind.source.database).toBe('replica');
      expect(behind.rows.map((r) => r.offer_id)).toEqual(['r-1']);
      const lagged = await poll('reports_replica_lag_seconds above 0', async () => {
        const v = await lagMetric();
        return v !== undefined && v > 0 ? v : undefined;
      });

      await su.query(`SELECT pg_wal_replay_resume()`);
      const caughtUp = await poll('the replica caught up', async () => {
        const r = await report();
        return r.rows.some((row) => row.offer_id === 'r-2') && r.source.replica_lag_seconds === 0
          ? r
          : undefined;
      });
      expect(caughtUp.rows.map((r) => [r.offer_id, r.postbacks])).toEqual([
        ['r-1', 5],
        ['r-2', 7],
      ]);
      await poll('reports_replica_lag_seconds back to 0', async () =>
        (await lagMetric()) === 0 ? true : undefined,
      );
      // The replica goes away: reports answer 503 (retry later), the gateway keeps serving the rest.
      await su.end();
      replica.stop();
      const down = await httpJson(
        `${base}/v1/reports/reconciliation?from=${today}&to=${today}&group_by=offer`,
        auth,
      );
      expect(down).toMatchObject({ status: 503, body: { error: { code: 'unavailable' } } });
      expect(down.headers.get('retry-after')).toBe('5');
      expect((await httpJson(`${base}/v1/admin/offers`, auth)).status).toBe(200);
      expect((await fetch(`${base}/health/live`)).status).toBe(200);
      console.log(
        `reports replica: paused replay showed ${behind.source.replica_lag_seconds} s in the answer and ${lagged} s in the metric; 0 after resuming`,
      );
    } finally {
      for (const step of cleanup) {
        try {
          await step();
        } catch (e) {
          console.error(`cleanup: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
    }
  }, 180_000);
});

import { Registry } from 'prom-client';
import { loadEnv } from '@app/config';
import { createTestDatabase, poll, type TestDatabase } from '@app/testing';
import { ProcessorEnv } from '../processor.env';
import { LEADER_NAMESPACE, LEADER_ROLES, Leadership } from './leadership';

/** Two instances' leadership against real Postgres, as the apps' role connects. */
describe('leadership (session advisory locks on a dedicated connection)', () => {
  let db: TestDatabase;
  const started: Leadership[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    for (const l of started) await l.onApplicationShutdown();
    await db?.drop();
  });

  function instance(): { leadership: Leadership; registry: Registry } {
    const env = loadEnv(ProcessorEnv, { DATABASE_URL: db.url, LEADER_POLL_MS: '200' });
    const registry = new Registry();
    const leadership = new Leadership(env, registry);
    started.push(leadership);
    return { leadership, registry };
  }

  const heldMetric = async (registry: Registry, role: string) =>
    (await registry.getSingleMetric('leader_role_held')!.get()).values.find((v) => v.labels.role === role)
      ?.value;

  const lostCount = async (registry: Registry, role: string) =>
    (await registry.getSingleMetric('leader_role_changes_total')!.get()).values.find(
      (v) => v.labels.role === role && v.labels.change === 'lost',
    )?.value ?? 0;

  it('gives each role to one instance, and hands it over when the holder loses its connection', async () => {
    const a = instance();
    a.leadership.onApplicationBootstrap();
    const acquired: string[] = [];
    a.leadership.lease('ledger_relay').onAcquired(() => acquired.push('a'));
    await poll('a holds every role', async () => a.leadership.roles().length === LEADER_ROLES.length);
    expect(acquired).toEqual(['a']);
    expect(await heldMetric(a.registry, 'ledger_relay')).toBe(1);

    const b = instance();
    b.leadership.onApplicationBootstrap();
    // b polls meanwhile and is refused every time: wait for a few refusals, seen in pg_stat_activity.
    await poll('b connected and refused', async () => {
      const [r] = await db.ds.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE '%:leader'`,
        [db.name],
      );
      return r!.n === 2;
    });
    expect(b.leadership.roles()).toEqual([]);
    expect(b.leadership.lease('read_models').held).toBe(false);

    // The holder's session ends (as when its host or Postgres drops the connection).
    const locks = await db.ds.query<{ pid: number; objid: number }[]>(
      `SELECT pid, objid::int FROM pg_locks WHERE locktype = 'advisory' AND classid = $1 AND granted`,
      [LEADER_NAMESPACE],
    );
    expect(new Set(locks.map((l) => l.pid)).size).toBe(1);
    expect(locks.map((l) => l.objid).sort()).toEqual(LEADER_ROLES.map((_, i) => i + 1));
    await db.ds.query(`SELECT pg_terminate_backend($1)`, [locks[0]!.pid]);

    // a notices and gives up every role (it may take some back at once, as b may: either is
    // right, so the counter says it, not a look at a moment that can pass between two polls).
    await poll('a gives up its roles', async () => {
      const lost = await Promise.all(LEADER_ROLES.map((role) => lostCount(a.registry, role)));
      return lost.every((n) => n >= 1) ? true : undefined;
    });
    await poll('every role is held once again', async () => {
      const [r] = await db.ds.query<{ n: number; holders: number }[]>(
        `SELECT count(*)::int AS n, count(DISTINCT pid)::int AS holders FROM pg_locks
          WHERE locktype = 'advisory' AND classid = $1 AND granted`,
        [LEADER_NAMESPACE],
      );
      return (
        r!.n === LEADER_ROLES.length && a.leadership.roles().length + b.leadership.roles().length === r!.n
      );
    });
    // Whoever took each role, no role is held twice.
    for (const role of LEADER_ROLES)
      expect(Number(a.leadership.lease(role).held) + Number(b.leadership.lease(role).held)).toBe(1);
  });
});

import type { PostbackReceived } from '@app/contracts';
import {
  type AppProcess,
  clickEvent,
  createTestDatabase,
  createTestTopics,
  freePort,
  ownPostgres,
  poll,
  postbackEvent,
  produceEvents,
  readTopic,
  seedOffer,
  spawnApp,
  type TestDatabase,
  TEST_BROKERS,
  topicMessageCount,
  uniquePrefix,
  waitReady,
} from '@app/testing';

/**
 * Exactly-once effect under at-least-once delivery: 20,000+ postbacks (10% duplicates, 5%
 * status updates, some reversals) while workers are killed, rebalanced, or Postgres goes away.
 * The expected ledger is computed here, independently, from the generated traffic.
 */
interface Traffic {
  clicks: ReturnType<typeof clickEvent>[];
  postbacks: PostbackReceived[];
  /** Entry types per transaction, in order, as the rules say they must come out. */
  expected: Map<string, string[]>;
  duplicates: number;
}

function traffic(nTx: number, seed: number): Traffic {
  let s = seed;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const clicks: Traffic['clicks'] = [];
  const postbacks: PostbackReceived[] = [];
  const expected = new Map<string, string[]>();
  let duplicates = 0;
  for (let i = 0; i < nTx; i++) {
    const c = clickEvent('o-fault', 'pub-f');
    clicks.push(c);
    const tx = `ftx-${i}`;
    const statuses: ('pending' | 'approved' | 'reversed')[] = [];
    if (rnd() < 0.05) statuses.push('pending');
    statuses.push('approved');
    if (rnd() < 0.03) statuses.push('reversed');
    expected.set(tx, [...statuses]);
    for (const st of statuses) {
      postbacks.push(postbackEvent('pf', c.id, tx, st));
      if (rnd() < 0.1) {
        postbacks.push(postbackEvent('pf', c.id, tx, st));
        duplicates++;
      }
    }
  }
  return { clicks, postbacks, expected, duplicates };
}

interface Harness {
  db: TestDatabase;
  prefix: string;
  processors: AppProcess[];
  spawn(): Promise<AppProcess>;
  stop(): Promise<void>;
}

async function harness(tag: string, baseUrl?: string): Promise<Harness> {
  const prefix = uniquePrefix(tag);
  const db = await createTestDatabase({ baseUrl });
  const topics = await createTestTopics(prefix);
  await seedOffer(db.ds, { id: 'o-fault', payout: '1500000' });
  const h: Harness = {
    db,
    prefix,
    processors: [],
    spawn: async () => {
      const port = await freePort();
      const p = spawnApp('processor', {
        DATABASE_URL: db.url,
        KAFKA_BROKERS: TEST_BROKERS.join(','),
        TOPIC_PREFIX: prefix,
        HEALTH_PORT: String(port),
        RETRY_DELAYS_MS: '500,1000,2000,4000,8000',
      });
      h.processors.push(p);
      await waitReady(p, `http://127.0.0.1:${port}/health/ready`, 90000);
      return p;
    },
    stop: async () => {
      await Promise.all(h.processors.map((p) => p.stop('SIGKILL')));
      await db.drop().catch(() => undefined);
      await topics.drop().catch(() => undefined);
    },
  };
  return h;
}

async function feed(h: Harness, t: Traffic): Promise<void> {
  await produceEvents(`${h.prefix}clicks.recorded`, t.clicks);
  await produceEvents(`${h.prefix}postbacks.received`, t.postbacks);
}

/** Waits for every postback to have a final outcome, then compares everything with the expectation. */
async function verify(h: Harness, t: Traffic, label: string): Promise<void> {
  const total = t.postbacks.length;
  await poll(
    `${label}: all ${total} postbacks decided`,
    async () => {
      const [r] = await h.db.ds.query(
        `SELECT count(*) FILTER (WHERE outcome <> 'retry_scheduled')::int AS n FROM postback_outcomes`,
      );
      return r.n === total ? true : undefined;
    },
    240000,
    500,
  );
  const rows = (await h.db.ds.query(
    `SELECT transaction_id, entry_type, entry_id, amount_micros FROM ledger_entries ORDER BY seq`,
  )) as {
    transaction_id: string;
    entry_type: string;
    entry_id: string;
  }[];
  const actual = new Map<string, string[]>();
  for (const r of rows) actual.set(r.transaction_id, [...(actual.get(r.transaction_id) ?? []), r.entry_type]);
  const diffs: string[] = [];
  for (const [tx, want] of t.expected) {
    const got = actual.get(tx) ?? [];
    if (got.join(',') !== want.join(',')) diffs.push(`${tx}: want ${want.join(',')} got ${got.join(',')}`);
  }
  const [o] = await h.db.ds.query(
    `SELECT count(*)::int AS outcomes, count(*) FILTER (WHERE outcome = 'duplicate')::int AS duplicates,
            count(DISTINCT event_id)::int AS distinct_events FROM postback_outcomes`,
  );
  const [money] = await h.db.ds.query(
    `SELECT coalesce(sum(CASE entry_type WHEN 'approved' THEN amount_micros WHEN 'reversed' THEN -amount_micros ELSE 0 END), 0)::text AS net FROM ledger_entries`,
  );
  const approvedTx = [...t.expected.values()].filter((s) => !s.includes('reversed')).length;
  // Billing's view: every entry reaches the topic; a crash may republish one, never lose one.
  const t0 = Date.now();
  const onTopic = await poll(
    'every entry on the ledger topic',
    async () => {
      const n = await topicMessageCount(`${h.prefix}conversions.ledger`);
      return n >= rows.length ? n : undefined;
    },
    120000,
    250,
  );
  const relayLagMs = Date.now() - t0;
  const published = (await readTopic(`${h.prefix}conversions.ledger`, onTopic, 120000)) as {
    entry_id: string;
  }[];
  const distinctPublished = new Set(published.map((e) => e.entry_id));
  console.log(
    `${label}: ${total} postbacks, ${o.outcomes} outcomes (${o.duplicates} duplicates, expected ${t.duplicates}), ` +
      `${rows.length} ledger entries, ${diffs.length} differences, net ${money.net} micros, ` +
      `${published.length} on the ledger topic (${distinctPublished.size} distinct, ${published.length - distinctPublished.size} republished; topic complete ${relayLagMs} ms after the last decision)`,
  );
  const missing = rows.filter((r) => !distinctPublished.has(r.entry_id));
  if (missing.length) {
    const waiting = (await h.db.ds.query(`SELECT count(*)::int AS n FROM ledger_outbox`))[0].n;
    console.log(
      `${label}: ${missing.length} entries not on the topic (read ${published.length} of ${onTopic}); outbox holds ${waiting}; first missing ${JSON.stringify(missing.slice(0, 3))}`,
    );
  }
  expect(diffs.slice(0, 10)).toEqual([]);
  expect(o.outcomes).toBe(total);
  expect(o.distinct_events).toBe(total);
  expect(o.duplicates).toBe(t.duplicates);
  expect(money.net).toBe(String(BigInt(approvedTx) * 1_500_000n));
  expect(distinctPublished.size).toBe(rows.length);
  expect(rows.every((r) => distinctPublished.has(r.entry_id))).toBe(true);
}

describe('processing under faults', () => {
  it('kill -9 of the worker at random moments loses nothing and pays nothing twice', async () => {
    const h = await harness('kill');
    try {
      const t = traffic(17_500, 11);
      expect(t.postbacks.length).toBeGreaterThanOrEqual(20_000);
      await h.spawn();
      await feed(h, t);
      for (let k = 0; k < 4; k++) {
        await new Promise((r) => setTimeout(r, 400 + Math.floor(Math.random() * 1200)));
        await h.processors[h.processors.length - 1]!.stop('SIGKILL');
        await h.spawn();
      }
      await verify(h, t, 'kill -9 x4');
    } finally {
      await h.stop();
    }
  });

  it('two workers in one group with rebalances mid-stream give the same ledger', async () => {
    const h = await harness('rebalance');
    try {
      const t = traffic(17_500, 23);
      const first = await h.spawn();
      await feed(h, t);
      await new Promise((r) => setTimeout(r, 500));
      await h.spawn(); // joins: rebalance
      await new Promise((r) => setTimeout(r, 1500));
      await first.stop('SIGTERM'); // leaves: rebalance again
      await verify(h, t, 'rebalance');
    } finally {
      await h.stop();
    }
  });

  it('Postgres unavailable for 30 s: work waits and resumes, nothing lost', async () => {
    const pg = await ownPostgres('outage');
    pg.start();
    const h = await harness('pgdown', pg.url);
    try {
      const t = traffic(10_000, 37);
      await h.spawn();
      await feed(h, t);
      await new Promise((r) => setTimeout(r, 800));
      pg.stop();
      const during = await topicMessageCount(`${h.prefix}postbacks.received`);
      await new Promise((r) => setTimeout(r, 30_000));
      pg.start();
      expect(during).toBe(t.postbacks.length);
      await verify(h, t, 'postgres down 30 s');
      expect(h.processors[0]!.proc.exitCode).toBeNull();
    } finally {
      await h.stop();
      pg.destroy();
    }
  });
});

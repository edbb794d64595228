import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ulid } from 'ulid';
import { decodeAnyLedgerEntry, decodeLedgerEntry, type PostbackDeadV1 } from '@app/contracts';
import {
  clickEvent,
  poll,
  postbackEvent,
  produceEvents,
  readTopic,
  seedOffer,
  TEST_BROKERS,
} from '@app/testing';
import { type RunningSystem, startSystem } from './support';

/** The processing rules (PRODUCT.md, processing issue) end to end over real Kafka and Postgres. */
describe('processing', () => {
  let sys: RunningSystem;
  const P = 'partner-p';
  const PER_TRANSACTION = 7;
  const topic = (t: string) => `${sys.prefix}${t}`;
  const entriesOf = async (tx: string) =>
    (await sys.db.ds.query(
      `SELECT entry_type, amount_micros, reason_code, late FROM ledger_entries WHERE transaction_id = $1 ORDER BY seq`,
      [tx],
    )) as {
      entry_type: string;
      amount_micros: string;
      reason_code: string | null;
      late: boolean;
    }[];
  const outcomesOf = async (tx: string) =>
    (await sys.db.ds.query(
      `SELECT outcome, reason_code, attempts, detail FROM postback_outcomes WHERE transaction_id = $1 ORDER BY event_id`,
      [tx],
    )) as {
      outcome: string;
      reason_code: string | null;
      attempts: number;
      detail: string | null;
    }[];
  const settled = (tx: string, n: number) =>
    poll(
      `${n} final outcomes for ${tx}`,
      async () => {
        const o = await outcomesOf(tx);
        return o.length === n && o.every((x) => x.outcome !== 'retry_scheduled') ? o : undefined;
      },
      30000,
    );

  beforeAll(async () => {
    sys = await startSystem('processing', {
      // Small decision transactions: every test here also runs batches split over several.
      env: {
        RETRY_DELAYS_MS: '800,1500,2500',
        CLICK_WATERMARK_MARGIN_MS: '3000',
        DECISIONS_PER_TRANSACTION: String(PER_TRANSACTION),
      },
    });
    await seedOffer(sys.db.ds, { id: 'o-main', payout: '2000000', allowedGeos: ['US', 'DE'] });
    await seedOffer(sys.db.ds, { id: 'o-other' });
    await seedOffer(sys.db.ds, { id: 'o-cap', dailyCap: 2 });
    await seedOffer(sys.db.ds, { id: 'o-hold', minConversionSeconds: 3600 });
    await sys.db.ds.query(
      `UPDATE offers SET attribution_window_hours = 1, updated_at = now() WHERE id = 'o-other'`,
    );
  });
  afterAll(async () => {
    await sys?.stop();
  });

  it('one approval for repeated deliveries, then a reversal of the same amount', async () => {
    const c = clickEvent('o-main', 'pub-1');
    await produceEvents(topic('clicks.recorded'), [c]);
    await poll(
      'click stored',
      async () => (await sys.db.ds.query(`SELECT 1 FROM clicks WHERE click_id = $1`, [c.id]))[0],
    );
    const approve = () =>
      postbackEvent(P, c.id, 'tx-a', 'approved', { payout_micros: '2500000', currency: 'USD' });
    await produceEvents(topic('postbacks.received'), [
      approve(),
      approve(),
      approve(),
      postbackEvent(P, c.id, 'tx-a', 'reversed'),
      approve(),
    ]);
    const outcomes = await settled('tx-a', 5);
    expect(outcomes.map((o) => o.outcome)).toEqual([
      'accepted',
      'duplicate',
      'duplicate',
      'accepted',
      'rejected',
    ]);
    expect(outcomes[4]!.reason_code).toBe('invalid_transition');
    expect(await entriesOf('tx-a')).toEqual([
      { entry_type: 'approved', amount_micros: '2500000', reason_code: null, late: false },
      { entry_type: 'reversed', amount_micros: '2500000', reason_code: null, late: false },
    ]);
    const onTopic = (await readTopic(topic('conversions.ledger'), 2, 15000)) as {
      transaction_id: string;
      entry_type: string;
    }[];
    expect(onTopic.filter((e) => e.transaction_id === 'tx-a').map((e) => e.entry_type)).toEqual([
      'approved',
      'reversed',
    ]);
    // A version 1 consumer, unchanged: every message of conversions.ledger passes the strict v1
    // schema. Version 2 carries the same entries (ids, order) with money and balanced postings.
    const raw = await readTopic(topic('conversions.ledger'), 2, 15000);
    for (const m of raw) expect(decodeLedgerEntry(JSON.stringify(m))).toMatchObject({ ok: true });
    const v2 = (await readTopic(topic('conversions.ledger.v2'), 2, 15000)).map((m) => {
      const d = decodeAnyLedgerEntry(JSON.stringify(m));
      if (!d.ok || d.event.schema_version !== 2) throw new Error(`not a v2 entry: ${JSON.stringify(d)}`);
      return d.event;
    });
    const mine = v2.filter((e) => e.transaction_id === 'tx-a');
    expect(mine.map((e) => e.entry_id)).toEqual(
      (raw as { entry_id: string; transaction_id: string }[])
        .filter((e) => e.transaction_id === 'tx-a')
        .map((e) => e.entry_id),
    );
    expect(mine.map((e) => [e.entry_type, e.revenue_micros, e.payout_micros, e.margin_micros])).toEqual([
      ['approved', '2500000', '2500000', '0'],
      ['reversed', '2500000', '2500000', '0'],
    ]);
    for (const e of mine) expect(e.postings.reduce((n, p) => n + BigInt(p.amount_micros), 0n)).toBe(0n);
    expect(mine[0]!.postings.map((p) => [p.account, p.amount_micros])).toEqual([
      [`advertiser_receivable:${P}`, '2500000'],
      ['publisher_payable:pub-1', '-2500000'],
    ]);
  });

  it('pending then approved is a transition; approved then pending is refused', async () => {
    const c = clickEvent('o-main', 'pub-1');
    await produceEvents(topic('clicks.recorded'), [c]);
    await poll(
      'click stored',
      async () => (await sys.db.ds.query(`SELECT 1 FROM clicks WHERE click_id = $1`, [c.id]))[0],
    );
    await produceEvents(topic('postbacks.received'), [
      postbackEvent(P, c.id, 'tx-b', 'pending'),
      postbackEvent(P, c.id, 'tx-b', 'approved'),
      postbackEvent(P, c.id, 'tx-b', 'pending'),
    ]);
    await settled('tx-b', 3);
    expect((await entriesOf('tx-b')).map((e) => `${e.entry_type}:${e.amount_micros}`)).toEqual([
      'pending:0',
      'approved:2000000',
    ]);
  });

  it('hard rejects: blocked geo, offer mismatch, expired click, malformed and never-minted click ids', async () => {
    const fr = clickEvent('o-main', 'pub-1', new Date(), { geo: 'FR' });
    const old = clickEvent('o-other', 'pub-1', new Date(Date.now() - 2 * 3600_000));
    const ok = clickEvent('o-main', 'pub-1');
    await produceEvents(topic('clicks.recorded'), [fr, old, ok]);
    await poll('clicks stored', async () =>
      (
        await sys.db.ds.query(`SELECT count(*)::int AS n FROM clicks WHERE click_id = ANY($1)`, [
          [fr.id, old.id, ok.id],
        ])
      )[0].n === 3
        ? true
        : undefined,
    );
    const neverMinted = ulid(Date.now() - 3600_000);
    await produceEvents(topic('postbacks.received'), [
      postbackEvent(P, fr.id, 'tx-geo', 'approved'),
      postbackEvent(P, ok.id, 'tx-mismatch', 'approved', { offer_id: 'o-other' }),
      postbackEvent(P, old.id, 'tx-expired', 'approved'),
      postbackEvent(P, 'not-a-click-id', 'tx-malformed', 'approved', { offer_id: 'o-main' }),
      postbackEvent(P, neverMinted, 'tx-forged', 'approved', { offer_id: 'o-main' }),
    ]);
    for (const [tx, code] of [
      ['tx-geo', 'blocked_geo'],
      ['tx-mismatch', 'offer_mismatch'],
      ['tx-expired', 'click_expired'],
      ['tx-malformed', 'unknown_click'],
      ['tx-forged', 'unknown_click'],
    ] as const) {
      const [o] = await settled(tx, 1);
      expect(o).toMatchObject({ outcome: 'rejected', reason_code: code });
      // Decided at once: a forged but well-formed id never waits out the retry budget.
      expect(o!.attempts).toBe(0);
      expect(await entriesOf(tx)).toEqual([
        { entry_type: 'rejected', amount_micros: '0', reason_code: code, late: false },
      ]);
    }
  });

  it('retries a postback whose click is not visible yet, and keeps a later reversal behind it', async () => {
    const c = clickEvent('o-main', 'pub-1');
    await produceEvents(topic('postbacks.received'), [
      postbackEvent(P, c.id, 'tx-early', 'approved'),
      postbackEvent(P, c.id, 'tx-early', 'reversed'),
    ]);
    const parked = await poll('parked', async () => {
      const o = await outcomesOf('tx-early');
      return o.length === 2 ? o : undefined;
    });
    expect(parked.every((o) => o.outcome === 'retry_scheduled')).toBe(true);
    await produceEvents(topic('clicks.recorded'), [c]);
    const done = await settled('tx-early', 2);
    expect(done.map((o) => o.outcome)).toEqual(['accepted', 'accepted']);
    expect((await entriesOf('tx-early')).map((e) => e.entry_type)).toEqual(['approved', 'reversed']);
    expect((await sys.db.ds.query(`SELECT count(*)::int AS n FROM parked_postbacks`))[0].n).toBe(0);
  });

  it('turns a click that never arrives into unknown_click after the retry budget', async () => {
    const ghost = ulid(Date.now() + 60_000); // minted "in the future": always newer than the watermark
    await produceEvents(topic('postbacks.received'), [
      postbackEvent(P, ghost, 'tx-ghost', 'approved', { offer_id: 'o-main' }),
    ]);
    const [o] = await settled('tx-ghost', 1);
    expect(o).toMatchObject({
      outcome: 'rejected',
      reason_code: 'unknown_click',
      attempts: 3,
      detail: 'retry_exhausted: click not visible after 3 retries',
    });
    // And postbacks.dead keeps it: the original postback, every attempt's error, the attempt
    // count. Only exhausted ones: forged or malformed click ids were decided at once.
    const dead = (await readTopic(topic('postbacks.dead'), 2, 5000)) as PostbackDeadV1[];
    expect(dead).toHaveLength(1);
    const [entry] = await entriesOf('tx-ghost');
    expect(dead[0]).toMatchObject({
      schema_version: 1,
      partner_id: P,
      transaction_id: 'tx-ghost',
      click_id: ghost,
      attempts: 3,
      decision: { outcome: 'rejected', reason_code: 'unknown_click' },
      postback: { payload: { transaction_id: 'tx-ghost', click_id: ghost } },
    });
    expect(entry).toMatchObject({ entry_type: 'rejected', reason_code: 'unknown_click' });
    expect(dead[0]!.errors.map((e) => e.reason)).toEqual(Array(4).fill('click_not_found_yet'));
    const times = dead[0]!.errors.map((e) => Date.parse(e.at));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect((await sys.db.ds.query(`SELECT count(*)::int AS n FROM postback_dead_outbox`))[0].n).toBe(0);
    const listed = execFileSync(
      process.execPath,
      [join(__dirname, '..', 'dist', 'infra', 'cli', 'dead-letters.js'), 'exhausted'],
      {
        env: { ...process.env, KAFKA_BROKERS: TEST_BROKERS.join(','), TOPIC_PREFIX: sys.prefix },
        encoding: 'utf8',
      },
    );
    expect(listed).toContain(`${P}:tx-ghost  click ${ghost}  3 retries  unknown_click`);
    expect(listed).toContain('1 exhausted postback(s)');
  });

  it('replays an exhausted postback on an operator command, with the later status it took down, once', async () => {
    const late = ulid(Date.now() + 60_000); // the click arrives only after the retry budget ran out
    const pending = postbackEvent(P, late, 'tx-lost', 'pending', { offer_id: 'o-main' });
    const approved = postbackEvent(P, late, 'tx-lost', 'approved', { offer_id: 'o-main' });
    await produceEvents(topic('postbacks.received'), [pending, approved]);
    const before = await settled('tx-lost', 2);
    // The pending ran out of retries; the approval queued behind it was refused once it was rejected.
    expect(before.map((o) => `${o.outcome}:${o.reason_code}`).sort()).toEqual([
      'rejected:invalid_transition',
      'rejected:unknown_click',
    ]);
    // The dead letter is published by the relay after the decision commits.
    await poll('the dead letter published', async () =>
      (await sys.db.ds.query(`SELECT count(*)::int AS n FROM postback_dead_outbox`))[0].n === 0
        ? true
        : undefined,
    );
    await produceEvents(topic('clicks.recorded'), [
      clickEvent('o-main', 'pub-1', new Date(Date.now() - 60_000), { click_id: late }),
    ]);
    await poll('the late click stored', async () =>
      (await sys.db.ds.query(`SELECT 1 FROM clicks WHERE click_id = $1`, [late])).length ? true : undefined,
    );

    const cli = (...args: string[]) =>
      spawnSync(
        process.execPath,
        [join(__dirname, '..', 'dist', 'infra', 'cli', 'dead-letters.js'), ...args],
        {
          env: {
            ...process.env,
            KAFKA_BROKERS: TEST_BROKERS.join(','),
            TOPIC_PREFIX: sys.prefix,
            DATABASE_URL: sys.db.url,
          },
          encoding: 'utf8',
        },
      );
    // Without --yes it only says what it would send, and exits 2.
    const dry = cli('exhausted', 'replay', '--event', pending.id);
    expect({ status: dry.status, stderr: dry.stderr }).toEqual({ status: 2, stderr: '' });
    expect(dry.stdout).toContain(
      `${P}:tx-lost  pending  click ${late} stored now; then approved refused meanwhile`,
    );
    expect(dry.stdout).toContain('1 exhausted postback(s), 2 postback(s) to replay');
    expect(cli('exhausted', 'replay', '--event', 'nope').status).toBe(2);
    expect(cli('exhausted', 'replay', '--bogus').stderr).toContain('usage: dead-letters');

    const sent = cli('exhausted', 'replay', '--event', pending.id, '--yes');
    expect(sent.status).toBe(0);
    expect(sent.stdout).toContain('replayed 2 postback(s) for 1 exhausted one(s)');
    const after = await settled('tx-lost', 4);
    const replays = after.filter((o) => o.detail?.startsWith('operator replay of'));
    expect(replays.map((o) => o.outcome)).toEqual(['accepted', 'accepted']);
    expect(replays.map((o) => o.detail).sort()).toEqual(
      [`operator replay of ${pending.id}`, `operator replay of ${approved.id}`].sort(),
    );
    const entries = async () =>
      (await entriesOf('tx-lost')).map((e) => `${e.entry_type}:${e.amount_micros}:${e.reason_code}`);
    expect(await entries()).toEqual(['rejected:0:unknown_click', 'pending:0:null', 'approved:2000000:null']);

    // Replaying again sends the same event ids: nothing is decided twice, no revenue twice.
    expect(cli('exhausted', 'replay', '--event', pending.id, '--yes').status).toBe(0);
    await new Promise((r) => setTimeout(r, 3000));
    expect(await entries()).toEqual(['rejected:0:unknown_click', 'pending:0:null', 'approved:2000000:null']);
    expect(await outcomesOf('tx-lost')).toHaveLength(4);
  });

  it('enforces the daily cap under concurrent approvals, and holds too-fast conversions for review', async () => {
    const clicks = Array.from({ length: 5 }, () => clickEvent('o-cap', 'pub-1'));
    const fast = clickEvent('o-hold', 'pub-1');
    await produceEvents(topic('clicks.recorded'), [...clicks, fast]);
    await poll('clicks stored', async () =>
      (await sys.db.ds.query(`SELECT count(*)::int AS n FROM clicks WHERE offer_id IN ('o-cap','o-hold')`))[0]
        .n === 6
        ? true
        : undefined,
    );
    await produceEvents(topic('postbacks.received'), [
      ...clicks.map((c, i) => postbackEvent(P, c.id, `tx-cap-${i}`, 'approved')),
      postbackEvent(P, fast.id, 'tx-fast', 'approved'),
    ]);
    const results = [];
    for (let i = 0; i < 5; i++) results.push((await settled(`tx-cap-${i}`, 1))[0]!);
    expect(results.filter((r) => r.outcome === 'accepted')).toHaveLength(2);
    expect(results.filter((r) => r.reason_code === 'cap_exceeded')).toHaveLength(3);
    const [held] = await settled('tx-fast', 1);
    expect(held).toMatchObject({ outcome: 'held', reason_code: 'fraud_suspected' });
    expect((await entriesOf('tx-fast'))[0]).toMatchObject({ entry_type: 'held', amount_micros: '1000000' });
  });

  it('keeps when a conversion was first reported when its pending and approval are decided together', async () => {
    const c = clickEvent('o-main', 'pub-1', new Date(Date.now() - 600_000));
    await produceEvents(topic('clicks.recorded'), [c]);
    await poll('click stored', async () =>
      (await sys.db.ds.query(`SELECT 1 FROM clicks WHERE click_id = $1`, [c.id])).length ? true : undefined,
    );
    const pendingAt = new Date(Date.now() - 120_000);
    await produceEvents(topic('postbacks.received'), [
      postbackEvent(P, c.id, 'tx-first', 'pending', {}, pendingAt),
      postbackEvent(P, c.id, 'tx-first', 'approved', {}, new Date()),
    ]);
    await settled('tx-first', 2);
    const [conv] = await sys.db.ds.query(
      `SELECT first_received_at FROM conversions WHERE transaction_id = 'tx-first'`,
    );
    expect((conv.first_received_at as Date).toISOString()).toBe(pendingAt.toISOString());
  });

  it('decides a batch larger than DECISIONS_PER_TRANSACTION in several transactions, in order, each postback once', async () => {
    const clicks = Array.from({ length: 20 }, () =>
      clickEvent('o-main', 'pub-1', new Date(Date.now() - 600_000)),
    );
    await produceEvents(topic('clicks.recorded'), clicks);
    await poll('clicks stored', async () =>
      (
        await sys.db.ds.query(`SELECT count(*)::int AS n FROM clicks WHERE click_id = ANY($1)`, [
          clicks.map((c) => c.id),
        ])
      )[0].n === 20
        ? true
        : undefined,
    );
    // One produce call, one partition key per transaction: pending, approved (twice), reversed.
    const events = clicks.flatMap((c, i) =>
      (['pending', 'approved', 'approved', 'reversed'] as const).map((status) =>
        postbackEvent(P, c.id, `tx-split-${i}`, status),
      ),
    );
    await produceEvents(topic('postbacks.received'), events);
    const ids = events.map((e) => e.id);
    const byTx = await poll(
      'every split postback decided',
      async () => {
        const rows = (await sys.db.ds.query(
          `SELECT xmin::text AS tx, count(*)::int AS n FROM postback_outcomes WHERE event_id = ANY($1) AND outcome <> 'retry_scheduled' GROUP BY 1`,
          [ids],
        )) as { tx: string; n: number }[];
        return rows.reduce((a, r) => a + r.n, 0) === ids.length ? rows : undefined;
      },
      60000,
    );
    // No transaction decided more than its share, so more than one decided them.
    expect(Math.max(...byTx.map((r) => r.n))).toBeLessThanOrEqual(PER_TRANSACTION);
    for (let i = 0; i < 20; i++)
      expect((await entriesOf(`tx-split-${i}`)).map((e) => e.entry_type)).toEqual([
        'pending',
        'approved',
        'reversed',
      ]);
  });

  it('the database refuses UPDATE, DELETE and TRUNCATE on the ledger', async () => {
    for (const sql of [
      'UPDATE ledger_entries SET amount_micros = 0',
      'DELETE FROM ledger_entries',
      'TRUNCATE ledger_entries',
    ]) {
      await expect(sys.db.ds.query(sql)).rejects.toThrow(/append-only/);
    }
    expect(
      (await sys.db.ds.query(`SELECT count(*)::int AS n FROM ledger_entries WHERE amount_micros > 0`))[0].n,
    ).toBeGreaterThan(0);
  });

  it('gives every postback exactly one outcome', async () => {
    const [row] = await sys.db.ds.query(
      `SELECT (SELECT count(*) FROM postbacks)::int AS inbox, (SELECT count(*) FROM postback_outcomes)::int AS outcomes,
              (SELECT count(*) FROM postbacks p LEFT JOIN postback_outcomes o USING (event_id) WHERE o.event_id IS NULL)::int AS missing`,
    );
    expect(row.missing).toBe(0);
    expect(row.outcomes).toBe(row.inbox);
  });
});

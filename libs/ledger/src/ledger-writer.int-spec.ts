import type { DataSource, EntityManager } from 'typeorm';
import type { LedgerEntryV1, LedgerEntryV2 } from '@app/contracts';
import { entryIdOf, NO_MONEY } from '@app/domain';
import { createDataSource } from '@app/persistence';
import { createTestDatabase, type TestDatabase } from '@app/testing';
import { checkConversionsAgainstLedger } from './conversion-rebuild';
import { lockConversions } from './conversion-lock';
import { appendEntries, type LedgerWrite } from './ledger-writer';
import { loadMoneyRules } from './money-rules';
import { type OutboxMessage, outboxBacklog, readOutbox, renderedMessages } from './outbox';
import { trialBalance } from './trial-balance';

/** The ledger's one write path against real Postgres, connected as the apps are (ledger_app). */
describe('ledger writer (real Postgres, application role)', () => {
  let db: TestDatabase;
  let app: DataSource;
  let n = 0;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = createDataSource({ url: db.url, poolSize: 4, applicationName: 'ledger-int' });
    await app.initialize();
  });
  afterAll(async () => {
    await app.destroy();
    await db.drop();
  });

  const write = (
    conversion: string,
    type: LedgerEntryV1['entry_type'],
    status: LedgerEntryV1['conversion_status'],
    over: Partial<LedgerEntryV1> = {},
    requested: LedgerWrite['requested'] = type === 'pending'
      ? 'pending'
      : type === 'reversed'
        ? 'reversed'
        : 'approved',
  ): LedgerWrite => {
    const source = `src-${++n}`;
    return {
      requested,
      // No rules: the publisher is paid the whole revenue (priceEntry's default).
      money: {
        ...NO_MONEY,
        payoutMicros: BigInt(
          over.amount_micros ?? (type === 'approved' || type === 'reversed' ? '2000000' : '0'),
        ),
      },
      entry: {
        schema_version: 1,
        entry_id: entryIdOf(conversion, type, source),
        entry_type: type,
        conversion_id: conversion,
        conversion_status: status,
        click_id: 'click-1',
        transaction_id: conversion,
        offer_id: 'offer-1',
        publisher_id: 'pub-1',
        partner_id: 'partner-a',
        goal: 'default',
        amount_micros: type === 'approved' || type === 'reversed' ? '2000000' : '0',
        currency: 'USD',
        reason_bucket: null,
        reason_code: null,
        sub1: null,
        sub2: null,
        sub3: null,
        sub4: null,
        sub5: null,
        placement: null,
        geo: 'US',
        device: null,
        clicked_at: null,
        occurred_at: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
        recorded_at: new Date().toISOString(),
        late: false,
        postback_delay_ms: null,
        source_event_id: source,
        operator: null,
        note: null,
        ...over,
      },
    };
  };

  /** Appends under the conversions' locks, as every writer does. */
  const append = (writes: LedgerWrite[]) =>
    app.transaction(async (em: EntityManager) => {
      const locked = await lockConversions(
        em,
        writes.map((w) => ({ conversionId: w.entry.conversion_id, transactionId: w.entry.transaction_id })),
      );
      return appendEntries(em, writes, new Map([...locked].map(([id, c]) => [id, c.state])));
    });

  it('writes entries and their conversion in one go, and the conversion is the fold of its entries', async () => {
    const states = await append([
      write('cv-life', 'pending', 'pending'),
      write('cv-life', 'approved', 'approved'),
    ]);
    expect(states.get('cv-life')).toMatchObject({ status: 'approved', amountMicros: 2_000_000n, entries: 2 });
    await append([write('cv-life', 'reversed', 'reversed')]);
    const [row] = await db.ds.query(
      `SELECT status, requested, amount_micros, entries FROM conversions WHERE conversion_id = 'cv-life'`,
    );
    expect(row).toEqual({ status: 'reversed', requested: 'reversed', amount_micros: '0', entries: 3 });
    const [outbox] = await db.ds.query(`SELECT count(*)::int AS n FROM ledger_outbox`);
    expect(outbox.n).toBe(3);
    expect(await checkConversionsAgainstLedger(db.ds.manager)).toEqual([]);
  });

  it("writes an entry's origin in its own columns, never in the published payload; without one they are null", async () => {
    const converted = {
      ...write('cv-origin', 'approved', 'approved'),
      origin: {
        userId: 'wall-user-7',
        originalAmountMicros: 1_851_852n,
        originalCurrency: 'EUR',
        fxRate: '1.08',
        fxDate: '2026-01-01',
      },
    };
    await append([converted, write('cv-plain', 'approved', 'approved')]);
    const rows = await db.ds.query<Record<string, unknown>[]>(
      `SELECT conversion_id, user_id, original_amount_micros, original_currency, fx_rate::text AS fx_rate,
              to_char(fx_date, 'YYYY-MM-DD') AS fx_date, payload
         FROM ledger_entries WHERE conversion_id IN ('cv-origin', 'cv-plain') ORDER BY seq`,
    );
    expect(rows.map(({ payload: _p, ...r }) => r)).toEqual([
      {
        conversion_id: 'cv-origin',
        user_id: 'wall-user-7',
        original_amount_micros: '1851852',
        original_currency: 'EUR',
        fx_rate: '1.080000000000',
        fx_date: '2026-01-01',
      },
      {
        conversion_id: 'cv-plain',
        user_id: null,
        original_amount_micros: null,
        original_currency: null,
        fx_rate: null,
        fx_date: null,
      },
    ]);
    expect(rows[0]!.payload).toEqual(converted.entry);
  });

  it('keeps both messages in memory for the relay, and renders the same from the entry row when it did not keep them', async () => {
    // As the relay sets it while it holds its role.
    renderedMessages.wanted = () => true;
    const priced: LedgerWrite = {
      ...write('cv-outbox', 'approved', 'approved', { amount_micros: '3000000', currency: 'EUR' }),
      money: {
        payoutMicros: 2_100_000n,
        rewardAmount: 2100n,
        rewardCurrency: 'coins',
        payoutRuleId: '7',
        rewardRuleId: '9',
      },
      origin: {
        userId: 'wall-user-\u{1F600}',
        originalAmountMicros: 3_240_000n,
        originalCurrency: 'USD',
        fxRate: '0.925925925926',
        fxDate: '2026-01-01',
      },
    };
    const pending = write('cv-outbox-2', 'pending', 'pending', { publisher_id: null });
    await append([priced, pending]);
    const ids = [priced.entry.entry_id, pending.entry.entry_id];
    const read = () =>
      app.transaction((em) =>
        readOutbox(em, 10_000).then((rows) => rows.filter((r) => ids.includes(r.entry_id))),
      );
    // The outbox row is the entry's sequence, id, key and type: the messages are not written to Postgres.
    const stored = await db.ds.query<{ message_key: string; entry_type: string; v1: null; v2: null }[]>(
      `SELECT message_key, entry_type, v1, v2 FROM ledger_outbox WHERE entry_id = ANY($1) ORDER BY seq`,
      [ids],
    );
    expect(stored).toEqual([
      { message_key: 'cv-outbox', entry_type: 'approved', v1: null, v2: null },
      { message_key: 'cv-outbox-2', entry_type: 'pending', v1: null, v2: null },
    ]);
    const written = await read();
    expect(written.map((r) => [r.message_key, r.entry_type, r.source])).toEqual([
      ['cv-outbox', 'approved', 'memory'],
      ['cv-outbox-2', 'pending', 'memory'],
    ]);
    expect(JSON.parse(written[0]!.v1)).toEqual(priced.entry);
    const v2 = JSON.parse(written[0]!.v2) as LedgerEntryV2;
    expect(v2).toMatchObject({
      schema_version: 2,
      revenue_micros: '3000000',
      payout_micros: '2100000',
      margin_micros: '900000',
      reward_amount: '2100',
      reward_currency: 'coins',
      payout_rule_id: '7',
      reward_rule_id: '9',
      user_id: 'wall-user-\u{1F600}',
      original_amount_micros: '3240000',
      original_currency: 'USD',
      fx_rate: '0.925925925926',
      fx_date: '2026-01-01',
    });
    expect(v2.postings.map((p) => [p.account, p.amount_micros])).toEqual([
      ['advertiser_receivable:partner-a', '3000000'],
      ['publisher_payable:pub-1', '-2100000'],
      ['platform_revenue', '-900000'],
    ]);
    const sameMessages = (rows: OutboxMessage[]) => {
      expect(rows.map((r) => [r.message_key, r.entry_type])).toEqual(
        written.map((r) => [r.message_key, r.entry_type]),
      );
      expect(rows.map((r) => JSON.parse(r.v1) as unknown)).toEqual(
        written.map((r) => JSON.parse(r.v1) as unknown),
      );
      expect(rows.map((r) => JSON.parse(r.v2) as unknown)).toEqual(
        written.map((r) => JSON.parse(r.v2) as unknown),
      );
    };

    // Not kept (another instance wrote them, this one restarted, or they were published once
    // and a failed delete left the rows): rendered from the entry's row, postings and columns.
    renderedMessages.forget(ids);
    const rendered = await read();
    expect(rendered.map((r) => r.source)).toEqual(['entry_row', 'entry_row']);
    sameMessages(rendered);

    // Kept under another sequence number (a transaction that inserted the same entry id and
    // rolled back): never sent for this row.
    renderedMessages.keep([
      { id: ids[0]!, seq: '999999999', value: { v1: '{"stale":1}', v2: '{"stale":2}' } },
    ]);
    const fenced = await read();
    expect(fenced.map((r) => r.source)).toEqual(['entry_row', 'entry_row']);
    sameMessages(fenced);

    // A row from when the outbox carried its messages is sent as it is; one from before that,
    // with no key or type, is rendered from the entry's row.
    await db.ds.query(`UPDATE ledger_outbox SET v1 = $2, v2 = $3 WHERE entry_id = $1`, [
      ids[0],
      written[0]!.v1,
      written[0]!.v2,
    ]);
    await db.ds.query(`UPDATE ledger_outbox SET message_key = NULL, entry_type = NULL WHERE entry_id = $1`, [
      ids[1],
    ]);
    const old = await read();
    expect(old.map((r) => r.source)).toEqual(['outbox_row', 'entry_row']);
    sameMessages(old);

    // Nothing is kept while no relay of this process wants it (it does not hold the role).
    renderedMessages.wanted = () => false;
    await append([write('cv-outbox-3', 'pending', 'pending')]);
    expect(renderedMessages.size).toBe(0);

    // The apps' role cannot rewrite a message waiting to be published.
    await expect(
      app.query(`UPDATE ledger_outbox SET v1 = '{}' WHERE entry_id = $1`, [ids[0]]),
    ).rejects.toThrow(/permission denied/);
    await expect(app.query(`TRUNCATE ledger_outbox`)).rejects.toThrow(/permission denied/);
    // Nor add a row carrying message text of its own (the relay would send it as it is): the role
    // may fill only the columns the writer fills.
    for (const column of ['v1', 'v2'])
      await expect(
        app.query(`INSERT INTO ledger_outbox (seq, entry_id, ${column}) VALUES (999999998, $1, '{}')`, [
          ids[0],
        ]),
      ).rejects.toThrow(/permission denied/);
    // Nor one of the dead postbacks' outbox (postbacks.dead).
    await expect(app.query(`UPDATE postback_dead_outbox SET payload = payload`)).rejects.toThrow(
      /permission denied/,
    );
    await expect(app.query(`TRUNCATE postback_dead_outbox`)).rejects.toThrow(/permission denied/);
  });

  it("reports the outbox's backlog: how many wait, and when the first in line was recorded", async () => {
    const rollback = new Error('rollback');
    await expect(
      app.transaction(async (em: EntityManager) => {
        // In a transaction rolled back at the end: what the other tests left waiting stays.
        await em.query(`DELETE FROM ledger_outbox`);
        expect(await outboxBacklog(em)).toEqual({ waiting: 0, oldest: null });
        // First in line is the lower sequence, even when a later entry carries an earlier time.
        const first = write('cv-backlog-1', 'pending', 'pending', {
          recorded_at: '2026-03-01T10:00:00.000Z',
        });
        const second = write('cv-backlog-2', 'pending', 'pending', {
          recorded_at: '2026-03-01T09:00:00.000Z',
        });
        for (const w of [first, second]) {
          const locked = await lockConversions(em, [
            { conversionId: w.entry.conversion_id, transactionId: w.entry.transaction_id },
          ]);
          await appendEntries(em, [w], new Map([...locked].map(([id, c]) => [id, c.state])));
        }
        expect(await outboxBacklog(em)).toEqual({ waiting: 2, oldest: new Date('2026-03-01T10:00:00.000Z') });
        throw rollback;
      }),
    ).rejects.toBe(rollback);
  });

  it('refuses an entry whose status disagrees with evolve, before writing anything', async () => {
    await expect(append([write('cv-odd', 'pending', 'approved')])).rejects.toThrow(/its entries say pending/);
    const [c] = await db.ds.query(
      `SELECT count(*)::int AS n FROM ledger_entries WHERE conversion_id = 'cv-odd'`,
    );
    expect(c.n).toBe(0);
  });

  describe('the database refuses, to the application role, whatever the code does', () => {
    // Straight INSERTs as ledger_app, bypassing the writer: the invariants live in Postgres.
    const insertRaw = (w: LedgerWrite) =>
      app.query(
        `INSERT INTO ledger_entries (entry_id, entry_type, conversion_id, conversion_status, click_id, transaction_id,
           offer_id, partner_id, goal, amount_micros, currency, occurred_at, recorded_at, late, source_event_id,
           schema_version, payload)
         VALUES ($1, $2, $3, $4, 'c', 't', 'o', $5, 'default', $6, $7, now(), now(), false, $1, 1, '{}')`,
        [
          w.entry.entry_id,
          w.entry.entry_type,
          w.entry.conversion_id,
          w.entry.conversion_status,
          w.entry.partner_id,
          w.entry.amount_micros,
          w.entry.currency,
        ],
      );

    it('a second approval of a conversion (approved, or released after it)', async () => {
      await insertRaw(write('cv-twice', 'approved', 'approved'));
      await expect(insertRaw(write('cv-twice', 'approved', 'approved'))).rejects.toThrow(
        /ledger_one_approval/,
      );
      await expect(insertRaw(write('cv-twice', 'released', 'approved'))).rejects.toThrow(
        /ledger_one_approval/,
      );
    });

    it('a reversal of a conversion that was never approved, and a second reversal', async () => {
      await insertRaw(write('cv-rev', 'pending', 'pending'));
      await expect(insertRaw(write('cv-rev', 'reversed', 'reversed'))).rejects.toThrow(/never approved/);
      await insertRaw(write('cv-rev', 'approved', 'approved'));
      await insertRaw(write('cv-rev', 'reversed', 'reversed'));
      await expect(insertRaw(write('cv-rev', 'reversed', 'reversed'))).rejects.toThrow(/ledger_one_reversal/);
    });

    it('an entry in another currency than its conversion, and one from another partner', async () => {
      await insertRaw(write('cv-cur', 'pending', 'pending'));
      await expect(insertRaw(write('cv-cur', 'approved', 'approved', { currency: 'EUR' }))).rejects.toThrow(
        /is in EUR, conversion cv-cur is in USD/,
      );
      await expect(
        insertRaw(write('cv-cur', 'approved', 'approved', { partner_id: 'partner-b' })),
      ).rejects.toThrow(/from partner partner-b, conversion cv-cur belongs to partner partner-a/);
    });

    it('a zero-amount rejection may be followed by its reopening in the offer currency (an operator replay)', async () => {
      await insertRaw(write('cv-reopen', 'rejected', 'rejected', { currency: 'XXX' }));
      await insertRaw(write('cv-reopen', 'approved', 'approved'));
      await expect(
        insertRaw(write('cv-reopen', 'reversed', 'reversed', { currency: 'XXX' })),
      ).rejects.toThrow(/is in XXX/);
    });

    it('UPDATE, DELETE, TRUNCATE, ALTER, disabling triggers and replication mode', async () => {
      for (const sql of [
        `UPDATE ledger_entries SET amount_micros = 0`,
        `DELETE FROM ledger_entries`,
        `TRUNCATE ledger_entries`,
        `ALTER TABLE ledger_entries DISABLE TRIGGER ALL`,
        `ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_invariants`,
        `DROP INDEX ledger_one_approval`,
        `SET session_replication_role = replica`,
      ])
        await expect(app.query(sql)).rejects.toThrow(/permission denied|must be owner/);
    });
  });

  it('serialises two writers of one new conversion: the second sees the first', async () => {
    const RACE = { conversionId: 'cv-race', transactionId: 'cv-race' };
    // Two transactions on the same conversion key; the second waits for the first's lock, then
    // reads its row: it would have written a second approval without the lock.
    const seen: (string | undefined)[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const firstLocked = new Promise<void>((r) => (locked = r));
    const first = app.transaction(async (em) => {
      const c = await lockConversions(em, [RACE]);
      await appendEntries(em, [write('cv-race', 'approved', 'approved')], new Map());
      seen.push(c.get('cv-race')?.state.status);
      locked();
      await held;
    });
    await firstLocked;
    // The first holds the lock with its approval uncommitted: without the lock the second would
    // read no conversion (undefined) and decide a second approval.
    const second = app.transaction(async (em) => {
      seen.push((await lockConversions(em, [RACE])).get('cv-race')?.state.status);
    });
    release();
    await Promise.all([first, second]);
    expect(seen).toEqual([undefined, 'approved']);
  });

  describe('double entry', () => {
    it('posts each money entry once, balanced, and the trial balance of the whole ledger is zero', async () => {
      await app.transaction((em) =>
        appendEntries(
          em,
          [
            write('cv-de', 'approved', 'approved'),
            write('cv-de', 'reversed', 'reversed', {}, 'reversed'),
            write('cv-de-2', 'pending', 'pending'),
          ],
          new Map(),
        ),
      );
      // The same writes again (a replay) add no posting.
      const legs = (await app.query(
        `SELECT p.account, p.amount_micros::text AS amount FROM ledger_postings p
           JOIN ledger_entries e USING (entry_id) WHERE e.conversion_id = 'cv-de' ORDER BY e.seq, p.posting_id`,
      )) as { account: string; amount: string }[];
      expect(legs).toEqual([
        { account: 'advertiser_receivable:partner-a', amount: '2000000' },
        { account: 'publisher_payable:pub-1', amount: '-2000000' },
        { account: 'advertiser_receivable:partner-a', amount: '-2000000' },
        { account: 'publisher_payable:pub-1', amount: '2000000' },
      ]);
      const tb = await trialBalance(app.manager);
      expect(tb.totals.length).toBeGreaterThan(0);
      expect(tb.totals.every((t) => t.difference_micros === '0' && t.debit_micros !== '0')).toBe(true);
      // Every entry written through the writer was posted; only the raw INSERTs above (which
      // bypass it, payload '{}') were not, and the trial balance names them.
      const [raw] = (await app.query(
        `SELECT count(*)::int AS n FROM ledger_entries WHERE payload = '{}'
            AND entry_type IN ('approved', 'released', 'reversed', 'adjusted') AND amount_micros <> 0`,
      )) as { n: number }[];
      expect(raw!.n).toBeGreaterThan(0);
      expect(tb.entries_without_postings).toBe(raw!.n);
      expect(tb.balanced).toBe(false);
    });

    it('refuses a set of postings that does not balance, postings of no entry, and any change to a posting', async () => {
      const [e] = (await app.query(
        `SELECT entry_id FROM ledger_entries WHERE entry_type = 'approved' LIMIT 1`,
      )) as { entry_id: string }[];
      await expect(
        app.query(
          `INSERT INTO ledger_postings (posting_id, entry_id, account, currency, amount_micros)
           VALUES ($1 || ':8', $1, 'advertiser_receivable:partner-a', 'USD', 100),
                  ($1 || ':9', $1, 'platform_revenue', 'USD', -99)`,
          [e!.entry_id],
        ),
      ).rejects.toThrow(/do not balance/);
      await expect(
        app.query(
          `INSERT INTO ledger_postings (posting_id, entry_id, account, currency, amount_micros)
           VALUES ('nope:1', 'nope', 'advertiser_receivable:x', 'USD', 5), ('nope:2', 'nope', 'platform_revenue', 'USD', -5)`,
        ),
      ).rejects.toThrow(/no ledger entry/);
      await expect(app.query(`UPDATE ledger_postings SET amount_micros = amount_micros * 2`)).rejects.toThrow(
        /permission denied|append-only/,
      );
      await expect(app.query(`DELETE FROM ledger_postings`)).rejects.toThrow(/permission denied|append-only/);
      // Not even the owner (a superuser here) may change one: only a set that balances goes in.
      await expect(db.ds.query(`UPDATE ledger_postings SET amount_micros = 1`)).rejects.toThrow(
        /append-only/,
      );
      expect((await trialBalance(app.manager)).totals.every((t) => t.difference_micros === '0')).toBe(true);
    });

    it('refuses a payout rule that reaches back over an entry already written, and any edit of a rule', async () => {
      // offer-1 has entries (above) occurred at 2026-01-01: a rule from before them is refused.
      await expect(
        app.query(
          `INSERT INTO payout_rules (offer_id, kind, share_bp, effective_from) VALUES ('offer-1', 'share', 7000, '2025-12-31T00:00:00Z')`,
        ),
      ).rejects.toThrow(/would reach back over entry/);
      await expect(
        app.query(
          `INSERT INTO reward_rules (publisher_id, currency_name, units_per_unit_micros, rounding, effective_from)
           VALUES ('pub-1', 'coins', 100000000, 'floor', '2025-12-31T00:00:00Z')`,
        ),
      ).rejects.toThrow(/would reach back over entry/);
      // An offer with no entries yet (a replay's catalog) may date its rules in the past.
      await app.query(
        `INSERT INTO payout_rules (offer_id, kind, share_bp, effective_from) VALUES ('offer-new', 'share', 7000, '2025-12-31T00:00:00Z')`,
      );
      await app.query(
        `INSERT INTO payout_rules (offer_id, kind, share_bp, effective_from) VALUES ('offer-1', 'share', 7000, now() + interval '1 hour')`,
      );
      await expect(db.ds.query(`UPDATE payout_rules SET share_bp = 9000`)).rejects.toThrow(/never edited/);
      await expect(db.ds.query(`DELETE FROM payout_rules`)).rejects.toThrow(/never edited/);
      await expect(
        app.query(
          `INSERT INTO payout_rules (offer_id, kind, share_bp, amount_micros, effective_from) VALUES ('offer-1', 'share', 7000, 5, now() + interval '2 hour')`,
        ),
      ).rejects.toThrow(/payout_rules_kind_amount/);
    });

    it('a rule being added waits for the decisions pricing its offer, then refuses to reach back over what they wrote', async () => {
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let priced!: () => void;
      const readRules = new Promise<void>((r) => (priced = r));
      // A decision reads offer-2's rules (none) and is about to write an entry priced without one.
      const decision = app.transaction(async (em) => {
        await loadMoneyRules(em, ['offer-2'], []);
        priced();
        await held;
        await appendEntries(
          em,
          [
            write('cv-rule-race', 'approved', 'approved', {
              offer_id: 'offer-2',
              occurred_at: new Date().toISOString(),
            }),
          ],
          new Map(),
        );
      });
      await readRules;
      // Meanwhile an operator adds a rule from a moment ago: it must not slip in under that entry.
      const rule = app.query(
        `INSERT INTO payout_rules (offer_id, kind, share_bp, effective_from) VALUES ('offer-2', 'share', 5000, now() - interval '1 minute')`,
      );
      const ruleResult = rule.then(
        () => 'inserted',
        (e: Error) => e.message,
      );
      release();
      await decision;
      expect(await ruleResult).toMatch(/would reach back over entry/);
    });
  });
});

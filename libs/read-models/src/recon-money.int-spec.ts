import type { DataSource, EntityManager } from 'typeorm';
import type { LedgerEntryV1 } from '@app/contracts';
import { entryIdOf, type PostbackStatus, priceEntry } from '@app/domain';
import { resolveDisputeItem } from '@app/disputes';
import {
  appendedEntries,
  appendEntries,
  type LedgerWrite,
  loadMoneyRules,
  lockConversions,
} from '@app/ledger';
import { createDataSource } from '@app/persistence';
import { createTestDatabase, type TestDatabase } from '@app/testing';
import {
  inRebuildTransaction,
  type ProjectionSources,
  projectQueued,
  readEntriesBack,
  readModelHashes,
  rebuildReadModels,
} from './read-model-store';
import { reconciliationReport, type ReconReportRow, ReportRatesMissing } from './reports';
import { decideHeldConversion } from './review';

/**
 * Issue 16 part 5 against real Postgres, as the apps' role: payout and reward rules in force,
 * partner entries priced as the processor prices them (rules read in the decision's
 * transaction), a reversal, a hold released by an operator and a dispute resolved by an
 * adjustment. The projector's tables give the expected revenue, payout, margin, payout per
 * approval and rewards per cell, and equal a rebuild from the ledger.
 */
describe('reconciliation money (real Postgres, application role)', () => {
  let db: TestDatabase;
  let app: DataSource;
  let at: Date;
  let day: string;
  let n = 0;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = createDataSource({ url: db.url, poolSize: 4, applicationName: 'recon-money-int' });
    await app.initialize();
    // As the projector sets it while it holds its role: the writers hand it what they write.
    appendedEntries.wanted = () => true;
    // Rules are never dated in the past: the app inserts them from a moment ahead, then waits.
    const from = `now() + interval '1 second'`;
    await app.query(
      `INSERT INTO payout_rules (offer_id, kind, share_bp, amount_micros, publisher_id, effective_from, created_by)
       VALUES ('rm-usd', 'share', 7000, NULL, NULL, ${from}, 'test'),
              ('rm-usd', 'fixed', NULL, 500000, 'pub-b', ${from}, 'test')`,
    );
    await app.query(
      `INSERT INTO reward_rules (publisher_id, currency_name, units_per_unit_micros, rounding, minimum, effective_from, created_by)
       VALUES ('pub-a', 'coins', 100000000, 'floor', 0, ${from}, 'test'),
              ('pub-b', 'gems', 10000000, 'round', 0, ${from}, 'test')`,
    );
    for (;;) {
      const [r] = await app.query<{ ok: boolean }[]>(
        `SELECT now() >= (SELECT max(effective_from) FROM payout_rules) AND now() >= (SELECT max(effective_from) FROM reward_rules) AS ok`,
      );
      if (r!.ok) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    at = new Date();
    day = at.toISOString().slice(0, 10);
  });
  afterAll(async () => {
    await app?.destroy();
    await db?.drop();
  });

  type Tags = Pick<LedgerEntryV1, 'offer_id' | 'publisher_id' | 'sub1' | 'placement' | 'geo' | 'currency'>;
  const A: Tags = {
    offer_id: 'rm-usd',
    publisher_id: 'pub-a',
    sub1: 's1',
    placement: 'wall',
    geo: 'US',
    currency: 'USD',
  };
  const B: Tags = { ...A, publisher_id: 'pub-b', sub1: 's2', geo: 'DE' };
  const C: Tags = { ...A, offer_id: 'rm-eur', currency: 'EUR' };

  /** A partner's status for a conversion, priced and appended as the processor does it. */
  const partner = (
    conversion: string,
    tags: Tags,
    type: LedgerEntryV1['entry_type'],
    status: LedgerEntryV1['conversion_status'],
    amountMicros: string,
    reason: LedgerEntryV1['reason_code'] = null,
  ) =>
    app.transaction(async (em: EntityManager) => {
      const key = { conversionId: conversion, transactionId: `tx-${conversion}` };
      const locked = (await lockConversions(em, [key])).get(conversion);
      const source = `src-${++n}`;
      const entry: LedgerEntryV1 = {
        schema_version: 1,
        entry_id: entryIdOf(conversion, type, source),
        entry_type: type,
        conversion_id: conversion,
        conversion_status: status,
        click_id: `click-${conversion}`,
        transaction_id: key.transactionId,
        partner_id: 'rm-partner',
        goal: 'default',
        amount_micros: amountMicros,
        reason_bucket: reason ? 'hard' : null,
        reason_code: reason,
        sub2: null,
        sub3: null,
        sub4: null,
        sub5: null,
        device: null,
        clicked_at: new Date(at.getTime() - 60_000).toISOString(),
        occurred_at: at.toISOString(),
        recorded_at: at.toISOString(),
        late: false,
        postback_delay_ms: null,
        source_event_id: source,
        operator: null,
        note: null,
        ...tags,
      };
      const rules = await loadMoneyRules(em, [entry.offer_id], [entry.publisher_id]);
      const money = priceEntry({
        entryType: type,
        amountMicros: BigInt(amountMicros),
        offerId: entry.offer_id,
        goal: entry.goal,
        publisherId: entry.publisher_id,
        at,
        state: locked?.state,
        ...rules,
      });
      // The partner's status: a hold and a reject answer an approval.
      const requested: LedgerWrite['requested'] =
        type === 'rejected' || type === 'held' ? 'approved' : (type as PostbackStatus);
      await appendEntries(
        em,
        [{ entry, requested, money }],
        new Map(locked ? [[conversion, locked.state]] : []),
      );
    });

  const drain = async () => {
    // What the writer handed over in memory is exactly what the projector reads back otherwise.
    const queued = await app.query<{ seq: string; entry_id: string }[]>(
      `SELECT seq::text, entry_id FROM projection_queue WHERE entry_id IS NOT NULL ORDER BY seq`,
    );
    const handed = queued.flatMap((q) => appendedEntries.get(q.entry_id, q.seq) ?? []);
    expect(handed.map((e) => e.entry_id)).toEqual(queued.map((q) => q.entry_id));
    const stored = await readEntriesBack(
      app.manager,
      queued.map((q) => q.entry_id),
    );
    const bySeq = (a: { seq: string }, b: { seq: string }) => Number(BigInt(a.seq) - BigInt(b.seq));
    expect([...handed].sort(bySeq)).toEqual(stored.sort(bySeq));
    // Small batches: several upserts land on one cell, as they do under live traffic.
    const sources: ProjectionSources = { memory: 0, store: 0 };
    while ((await app.transaction((em) => projectQueued(em, 3, sources))) > 0);
    expect(sources).toEqual({ memory: queued.length, store: 0 });
  };
  const report = async () =>
    reconciliationReport(app.manager, {
      from: day,
      to: day,
      groupBy: ['offer', 'publisher', 'source', 'placement', 'geo'],
    });
  const cellOf = (rows: ReconReportRow[], t: Tags) =>
    rows.find(
      (r) =>
        r.offer_id === t.offer_id &&
        r.publisher_id === t.publisher_id &&
        r.source === t.sub1 &&
        r.geo === t.geo &&
        r.currency === t.currency,
    );

  it('projects revenue, payout, margin, payout per approval and rewards per cell', async () => {
    // Cell A (70 % share, 100 coins per unit of payout).
    await partner('cv-1', A, 'approved', 'approved', '2000000'); // payout 1.40, 140 coins
    await partner('cv-2', A, 'approved', 'approved', '2000000'); // payout 1.40, 140 coins
    await partner('cv-2', A, 'reversed', 'reversed', '2000000'); // takes back 1.40 and 140 coins
    await partner('cv-3', A, 'approved', 'approved', '3000000'); // payout 2.10, 210 coins
    await partner('cv-4', A, 'held', 'held', '5000000'); // 3.50 at stake
    await partner('cv-5', A, 'pending', 'pending', '0');
    await partner('cv-6', A, 'rejected', 'rejected', '0', 'blocked_geo');
    // The hold released by an operator: the payout and reward it was priced at.
    await app.transaction((em) =>
      decideHeldConversion(em, {
        conversionId: 'cv-4',
        decision: 'approve',
        operator: 'alice',
        note: 'checked',
        now: at,
      }),
    );
    // A dispute on cv-3 resolved by an adjustment of -1.00: the payout moves in proportion (-0.70).
    await db.ds.query(
      `INSERT INTO disputes (id, counterparty_kind, counterparty_id, file_name, rows, from_day, to_day, summary, created_by)
       VALUES ('01JDISPUTE0000000000000000', 'partner', 'rm-partner', 'x.csv', 1, $1, $1, '{}', 'test')`,
      [day],
    );
    await db.ds.query(
      `INSERT INTO dispute_items (dispute_id, item, kind, transaction_id, offer_id, conversion_id, ours, theirs)
       VALUES ('01JDISPUTE0000000000000000', 1, 'amount_differs', 'tx-cv-3', 'rm-usd', 'cv-3', '{}', '{}')`,
    );
    await app.transaction((em) =>
      resolveDisputeItem(em, {
        disputeId: '01JDISPUTE0000000000000000',
        item: 1,
        action: 'adjust',
        amountMicros: -1_000_000n,
        operator: 'carol',
        note: 'partner paid 2.00',
        now: at,
      }),
    );
    // Cell B: the publisher override (fixed 0.50) and another app's currency (10 gems per unit).
    await partner('cv-7', B, 'approved', 'approved', '2000000');
    await partner('cv-8', B, 'approved', 'approved', '2000000');
    // Cell C: no payout rule for this offer (payout = revenue), the publisher's coins.
    await partner('cv-9', C, 'approved', 'approved', '1500000');
    await drain();

    const r = await report();
    expect(cellOf(r.rows, A)).toMatchObject({
      approved: 3,
      released: 1,
      reversed: 1,
      adjusted: 1,
      held: 1,
      // 2 + 2 + 3 + 5 - 2 - 1
      revenue_micros: '9000000',
      revenue: '9',
      // 1.40 + 1.40 + 2.10 + 3.50 - 1.40 - 0.70
      payout_micros: '6300000',
      payout: '6.3',
      margin_micros: '2700000',
      margin: '2.7',
      // 6.30 over 3 approvals and 1 release
      payout_per_approved_micros: '1575000',
      payout_per_approved: '1.575',
      // 140 + 140 + 210 + 350 issued, 140 taken back; the adjustment moves no reward
      rewards: { coins: { issued: '840', reversed: '140', net: '700' } },
      rejected_by_reason: { 'hard:blocked_geo': 1 },
    });
    expect(cellOf(r.rows, B)).toMatchObject({
      revenue: '4',
      payout: '1',
      margin: '3',
      payout_per_approved: '0.5',
      rewards: { gems: { issued: '10', reversed: '0', net: '10' } },
    });
    expect(cellOf(r.rows, C)).toMatchObject({
      revenue: '1.5',
      payout: '1.5',
      margin: '0',
      payout_per_approved: '1.5',
      rewards: { coins: { issued: '150', reversed: '0', net: '150' } },
    });
    expect(r.totals.find((t) => t.currency === 'USD')).toMatchObject({
      revenue_micros: '13000000',
      payout_micros: '7300000',
      margin_micros: '5700000',
      rewards: {
        coins: { issued: '840', reversed: '140', net: '700' },
        gems: { issued: '10', reversed: '0', net: '10' },
      },
    });

    // The report's money equals the ledger's, per currency.
    const ledger = await app.query<{ currency: string; revenue: string; payout: string }[]>(
      `SELECT currency,
              sum(CASE entry_type WHEN 'reversed' THEN -amount_micros ELSE amount_micros END)::text AS revenue,
              sum(CASE entry_type WHEN 'reversed' THEN -payout_micros ELSE payout_micros END)::text AS payout
         FROM ledger_entries WHERE entry_type IN ('approved', 'released', 'reversed', 'adjusted')
        GROUP BY currency ORDER BY currency`,
    );
    expect(
      r.totals
        .map((t) => ({ currency: t.currency, revenue: t.revenue_micros, payout: t.payout_micros }))
        .sort((a, b) => (a.currency < b.currency ? -1 : 1)),
    ).toEqual(ledger);
    // And the publisher payables of the double entry.
    const [payable] = await app.query<{ usd: string }[]>(
      `SELECT (-sum(amount_micros))::text AS usd FROM ledger_postings
        WHERE account LIKE 'publisher_payable:%' AND currency = 'USD'`,
    );
    expect(payable!.usd).toBe('7300000');
  });

  it("reports every amount in one currency at each day's rate, and refuses while a day lacks its rate", async () => {
    const inUsd = () =>
      reconciliationReport(app.manager, { from: day, to: day, groupBy: ['offer'], currency: 'USD' });
    await expect(inUsd()).rejects.toThrow(ReportRatesMissing);
    await expect(inUsd()).rejects.toThrow(new RegExp(`${day} EUR`));
    await app.query(
      `INSERT INTO exchange_rates (day, base, quote, rate, source) VALUES ($1, 'EUR', 'USD', 1.1, 'test')`,
      [day],
    );
    const r = await inUsd();
    expect(r.reporting_currency).toBe('USD');
    expect(r.rates_used).toEqual([{ day, from: 'EUR', to: 'USD', rate: '1.1', inverted: false }]);
    // One total, in USD: 13.00 USD and 1.50 EUR at 1.1; payouts 7.30 USD and 1.50 EUR at 1.1.
    expect(r.totals).toHaveLength(1);
    expect(r.totals[0]).toMatchObject({
      currency: 'USD',
      revenue_micros: '14650000',
      payout_micros: '8950000',
      margin_micros: '5700000',
    });
    expect(r.rows.find((x) => x.offer_id === 'rm-eur')).toMatchObject({ currency: 'USD', revenue: '1.65' });
    // Counts are not money: unchanged by the conversion.
    const plain = await reconciliationReport(app.manager, { from: day, to: day, groupBy: ['offer'] });
    const count = (t: ReconReportRow[]) => t.reduce((n, x) => n + x.postbacks + x.approved, 0);
    expect(count(r.totals)).toBe(count(plain.totals));
  });

  it('projects each entry once: nothing is left to apply twice', async () => {
    const before = await report();
    expect(await app.transaction((em) => projectQueued(em, 3))).toBe(0);
    expect(await report()).toEqual(before);
  });

  it('never projects a row handed over under another queue sequence number (a write that rolled back)', async () => {
    await partner('cv-10', C, 'approved', 'approved', '1500000');
    const [q] = await app.query<{ seq: string; entry_id: string }[]>(
      `SELECT seq::text, entry_id FROM projection_queue WHERE entry_id IS NOT NULL`,
    );
    const real = appendedEntries.get(q!.entry_id, q!.seq)!;
    appendedEntries.keep([
      {
        id: q!.entry_id,
        seq: String(BigInt(q!.seq) + 1000n),
        value: { ...real, amount_micros: '999000000' },
      },
    ]);
    const sources: ProjectionSources = { memory: 0, store: 0 };
    expect(await app.transaction((em) => projectQueued(em, 10, sources))).toBe(1);
    expect(sources).toEqual({ memory: 0, store: 1 });
    expect(cellOf((await report()).rows, C)).toMatchObject({ approved: 2, revenue: '3' });
  });

  it('a rebuild from the ledger equals the projected tables, money and rewards included', async () => {
    const check = () =>
      inRebuildTransaction(
        app,
        async (tx) => {
          const before = await readModelHashes(tx);
          await rebuildReadModels(tx);
          return { before, after: await readModelHashes(tx) };
        },
        { commit: false },
      );
    const { before, after } = await check();
    expect(after).toEqual(before);
    expect(before.recon_daily_rewards!.rows).toBe(3);

    // A tampered payout or reward is caught, and a committed rebuild restores it.
    const want = await report();
    await db.ds.query(`UPDATE recon_daily_rewards SET issued = issued + 1 WHERE reward_currency = 'gems'`);
    await db.ds.query(
      `UPDATE recon_daily SET approved_payout_micros = approved_payout_micros + 1 WHERE publisher_id = 'pub-a' AND currency = 'USD'`,
    );
    const tampered = await check();
    expect(tampered.after.recon_daily_rewards).not.toEqual(tampered.before.recon_daily_rewards);
    expect(tampered.after.recon_daily).not.toEqual(tampered.before.recon_daily);
    await inRebuildTransaction(app, (tx) => rebuildReadModels(tx), { commit: true });
    expect(await report()).toEqual(want);
    const again = await check();
    expect(again.after).toEqual(again.before);
  });
});

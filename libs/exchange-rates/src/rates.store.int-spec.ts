import { Client } from 'pg';
import { createDataSource } from '@app/persistence';
import { createTestDatabase, type TestDatabase } from '@app/testing';
import type { DataSource } from 'typeorm';
import { convertAtRate, findRate, findRates } from './find-rate';
import { parseRatesCsv, parseRatesJson } from './rate-input';
import { importRates, listRates, RatesConflict } from './rates.store';

const csv = (...lines: string[]) => parseRatesCsv(['date,base,quote,rate,source', ...lines].join('\n'));

/** The exchange_rates table against real Postgres, connected as the apps are (ledger_app). */
describe('exchange rates store', () => {
  let db: TestDatabase;
  let app: DataSource;
  const imported = (rows: ReturnType<typeof csv>, opts: { replace?: boolean; dryRun?: boolean } = {}) =>
    app.transaction((em) => importRates(em, rows, opts));
  const stored = async () =>
    (await db.ds.query(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, base, quote, rate::text AS rate, source, created_at FROM exchange_rates ORDER BY 1, 2, 3`,
    )) as { day: string; base: string; quote: string; rate: string; source: string; created_at: Date }[];

  beforeAll(async () => {
    db = await createTestDatabase();
    app = createDataSource({ url: db.url, poolSize: 4, applicationName: 'rates-test' });
    await app.initialize();
  });
  afterAll(async () => {
    await app?.destroy();
    await db?.drop();
  });
  beforeEach(async () => {
    await db.ds.query('TRUNCATE exchange_rates');
  });

  it('inserts new rates; the same rates again (in any decimal form) change nothing', async () => {
    const first = await imported(csv('2026-01-02,USD,EUR,0.92,ecb', '2026-01-02,EUR,GBP,0.86,ecb'));
    expect(first).toEqual({
      rows: 2,
      inserted: 2,
      unchanged: 0,
      replaced: 0,
      dry_run: false,
      replaced_rows: [],
    });
    const before = await stored();
    expect(before.map((r) => [r.day, r.base, r.quote, r.rate, r.source])).toEqual([
      ['2026-01-02', 'EUR', 'GBP', '0.860000000000', 'ecb'],
      ['2026-01-02', 'USD', 'EUR', '0.920000000000', 'ecb'],
    ]);
    const again = await imported(
      csv('2026-01-02,USD,EUR,0.920000,ecb', '2026-01-02,EUR,GBP,0.86,ecb', '2026-01-02,EUR,GBP,0.86,ecb'),
    );
    expect(again).toMatchObject({ rows: 3, inserted: 0, unchanged: 3, replaced: 0 });
    expect(await stored()).toEqual(before);
  });

  it('refuses the whole import when a stored rate differs (rate or source), listing each; nothing is written', async () => {
    await imported(csv('2026-01-02,USD,EUR,0.92,ecb', '2026-01-02,EUR,GBP,0.86,ecb'));
    const before = await stored();
    const attempt = imported(
      csv('2026-01-03,USD,EUR,0.93,ecb', '2026-01-02,USD,EUR,0.921,ecb', '2026-01-02,EUR,GBP,0.86,manual'),
    );
    await expect(attempt).rejects.toBeInstanceOf(RatesConflict);
    const e = (await attempt.catch((x: unknown) => x)) as RatesConflict;
    expect(e.conflicts).toEqual([
      {
        at: 'line 3',
        date: '2026-01-02',
        base: 'USD',
        quote: 'EUR',
        stored_rate: '0.92',
        stored_source: 'ecb',
        rate: '0.921',
        source: 'ecb',
      },
      {
        at: 'line 4',
        date: '2026-01-02',
        base: 'EUR',
        quote: 'GBP',
        stored_rate: '0.86',
        stored_source: 'ecb',
        rate: '0.86',
        source: 'manual',
      },
    ]);
    expect(e.message).toContain('line 3: 2026-01-02 USD/EUR stored 0.92 (ecb), given 0.921 (ecb)');
    // The new 2026-01-03 rate was not inserted either: all or nothing.
    expect(await stored()).toEqual(before);
  });

  it('replaces differing rates only when asked, and says which', async () => {
    await imported(csv('2026-01-02,USD,EUR,0.92,ecb', '2026-01-02,EUR,GBP,0.86,ecb'));
    const result = await imported(
      csv('2026-01-02,USD,EUR,0.921,fixed', '2026-01-02,EUR,GBP,0.86,ecb', '2026-01-03,USD,EUR,0.93,ecb'),
      {
        replace: true,
      },
    );
    expect(result).toEqual({
      rows: 3,
      inserted: 1,
      unchanged: 1,
      replaced: 1,
      dry_run: false,
      replaced_rows: [
        {
          at: 'line 2',
          date: '2026-01-02',
          base: 'USD',
          quote: 'EUR',
          stored_rate: '0.92',
          stored_source: 'ecb',
          rate: '0.921',
          source: 'fixed',
        },
      ],
    });
    expect(await findRate(app.manager, '2026-01-02', 'USD', 'EUR')).toEqual({
      rate: '0.921',
      day: '2026-01-02',
      source: 'fixed',
      inverted: false,
    });
  });

  it('a dry run classifies without writing, and is refused like the real import', async () => {
    await imported(csv('2026-01-02,USD,EUR,0.92,ecb'));
    const rows = csv('2026-01-02,USD,EUR,0.95,ecb', '2026-01-03,USD,EUR,0.93,ecb');
    await expect(app.transaction((em) => importRates(em, rows, { dryRun: true }))).rejects.toBeInstanceOf(
      RatesConflict,
    );
    expect(await importRates(app.manager, rows, { dryRun: true, replace: true })).toMatchObject({
      inserted: 1,
      replaced: 1,
      unchanged: 0,
      dry_run: true,
    });
    expect((await stored()).map((r) => r.rate)).toEqual(['0.920000000000']);
  });

  it('writes only inside a transaction', async () => {
    await expect(importRates(app.manager, csv('2026-01-02,USD,EUR,0.92,ecb'))).rejects.toThrow(/transaction/);
  });

  it('two imports at once: one after the other, the second sees the first (a conflict, not a key violation)', async () => {
    const results = await Promise.allSettled([
      imported(csv('2026-01-02,USD,EUR,0.92,a', '2026-01-02,USD,JPY,150,a')),
      imported(csv('2026-01-02,USD,EUR,0.93,b', '2026-01-02,USD,GBP,0.79,b')),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toBeInstanceOf(RatesConflict);
    expect(await stored()).toHaveLength(2);
  });

  it('findRate: the direct pair of that day, else the reverse one (inverted), never another day', async () => {
    await imported(
      parseRatesJson([
        { date: '2026-01-02', base: 'USD', quote: 'EUR', rate: '0.92', source: 'ecb' },
        { date: '2026-01-02', base: 'EUR', quote: 'USD', rate: '1.087', source: 'other' },
        { date: '2026-01-02', base: 'GBP', quote: 'JPY', rate: '190.123456789012', source: 'ecb' },
        { date: '2026-01-01', base: 'USD', quote: 'CHF', rate: '0.9', source: 'ecb' },
      ]),
    );
    const em = app.manager;
    expect(await findRate(em, '2026-01-02', 'USD', 'EUR')).toEqual({
      rate: '0.92',
      day: '2026-01-02',
      source: 'ecb',
      inverted: false,
    });
    // Both directions stored: each is direct for its own way.
    expect(await findRate(em, '2026-01-02', 'EUR', 'USD')).toEqual({
      rate: '1.087',
      day: '2026-01-02',
      source: 'other',
      inverted: false,
    });
    const reverse = await findRate(em, '2026-01-02', 'JPY', 'GBP');
    expect(reverse).toEqual({ rate: '190.123456789012', day: '2026-01-02', source: 'ecb', inverted: true });
    // 1000 JPY -> GBP divides: 1000 / 190.123456789012 = 5.259740... GBP
    expect(convertAtRate(1_000_000_000n, reverse!)).toBe(5_259_740n);
    expect(convertAtRate(1_000_000n, (await findRate(em, '2026-01-02', 'GBP', 'JPY'))!)).toBe(190_123_457n);
    // Same day only: the 2026-01-01 USD/CHF rate does not serve 2026-01-02.
    expect(await findRate(em, '2026-01-02', 'USD', 'CHF')).toBeUndefined();
    expect(await findRate(em, '2026-01-01', 'CHF', 'USD')).toMatchObject({ rate: '0.9', inverted: true });
    expect(await findRate(em, '2026-01-03', 'USD', 'EUR')).toBeUndefined();
    expect(await findRate(em, '2026-01-02', 'USD', 'USD')).toEqual({
      rate: '1',
      day: '2026-01-02',
      source: 'identity',
      inverted: false,
    });
    await expect(findRate(em, '2026-1-2', 'USD', 'EUR')).rejects.toThrow(RangeError);
    await expect(findRate(em, '2026-01-02', 'usd', 'EUR')).rejects.toThrow(RangeError);
  });

  it('findRates: many (day, from, to) in one query, each by the same rule as findRate', async () => {
    await imported(
      parseRatesJson([
        { date: '2026-01-02', base: 'USD', quote: 'EUR', rate: '0.92', source: 'ecb' },
        { date: '2026-01-02', base: 'EUR', quote: 'USD', rate: '1.087', source: 'other' },
        { date: '2026-01-02', base: 'GBP', quote: 'JPY', rate: '190.123456789012', source: 'ecb' },
        { date: '2026-01-01', base: 'USD', quote: 'CHF', rate: '0.9', source: 'ecb' },
      ]),
    );
    const em = app.manager;
    const spy = jest.spyOn(em, 'query');
    let found: Awaited<ReturnType<typeof findRates>>;
    try {
      found = await findRates(em, [
        { day: '2026-01-02', from: 'EUR', to: 'USD' },
        { day: '2026-01-02', from: 'JPY', to: 'GBP' },
        { day: '2026-01-01', from: 'CHF', to: 'USD' },
        { day: '2026-01-02', from: 'USD', to: 'CHF' },
        { day: '2026-01-02', from: 'USD', to: 'USD' },
        { day: '2026-01-02', from: 'EUR', to: 'USD' },
      ]);
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
    }
    expect(Object.fromEntries(found)).toEqual({
      '2026-01-02|EUR|USD': { rate: '1.087', day: '2026-01-02', source: 'other', inverted: false },
      '2026-01-02|JPY|GBP': { rate: '190.123456789012', day: '2026-01-02', source: 'ecb', inverted: true },
      '2026-01-01|CHF|USD': { rate: '0.9', day: '2026-01-01', source: 'ecb', inverted: true },
      '2026-01-02|USD|USD': { rate: '1', day: '2026-01-02', source: 'identity', inverted: false },
    });
    expect(await findRates(em, [])).toEqual(new Map());
    await expect(findRates(em, [{ day: '2026-01-02', from: 'EUR', to: 'usd' }])).rejects.toThrow(RangeError);
  });

  it('lists rates newest day first, filtered, with truncated when the limit cuts', async () => {
    await imported(
      csv(
        '2026-01-01,USD,EUR,0.91,ecb',
        '2026-01-02,USD,EUR,0.92,ecb',
        '2026-01-03,USD,EUR,0.93,ecb',
        '2026-01-02,EUR,GBP,0.86,ecb',
      ),
    );
    const all = await listRates(app.manager, { limit: 10 });
    expect(all.items.map((r) => `${r.date} ${r.base}/${r.quote} ${r.rate}`)).toEqual([
      '2026-01-03 USD/EUR 0.93',
      '2026-01-02 EUR/GBP 0.86',
      '2026-01-02 USD/EUR 0.92',
      '2026-01-01 USD/EUR 0.91',
    ]);
    expect(all.truncated).toBe(false);
    expect(all.items[0]!.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    const some = await listRates(app.manager, {
      base: 'USD',
      quote: 'EUR',
      from: '2026-01-02',
      to: '2026-01-03',
      limit: 1,
    });
    expect(some).toEqual({
      items: [expect.objectContaining({ date: '2026-01-03', rate: '0.93' })],
      truncated: true,
    });
  });

  it('the database holds the rules, against the apps own role too', async () => {
    // A plain connection as ledger_app: refused statements are expected here, not logged.
    const c = new Client({ connectionString: db.url });
    await c.connect();
    const refused = async (sql: string) => {
      try {
        await c.query(sql);
        return 'allowed';
      } catch (e) {
        return (e as { code?: string }).code ?? String(e);
      }
    };
    const insert = (day: string, base: string, quote: string, rate: string, source: string) =>
      refused(
        `INSERT INTO exchange_rates (day, base, quote, rate, source) VALUES ('${day}', '${base}', '${quote}', ${rate}, '${source}')`,
      );
    expect(await insert('2026-01-02', 'USD', 'EUR', '0', 'x')).toBe('23514'); // rate > 0
    expect(await insert('2026-01-02', 'USD', 'EUR', '-1', 'x')).toBe('23514');
    expect(await insert('2026-01-02', 'USD', 'USD', '1', 'x')).toBe('23514'); // base <> quote
    expect(await insert('2026-01-02', 'usd', 'EUR', '1', 'x')).toBe('23514'); // codes
    expect(await insert('2026-01-02', 'US', 'EUR', '1', 'x')).toBe('23514');
    expect(await insert('2026-01-02', 'USD', 'EUR', '1', '')).toBe('23514'); // source
    expect(await insert('2026-01-02', 'USD', 'EUR', '0.0000000000001', 'x')).toBe('23514'); // rounds to 0 at scale 12
    expect(await insert('2026-01-02', 'USD', 'EUR', '1000000000000000000', 'x')).toBe('22003'); // numeric(30,12)
    expect(await insert('2026-01-02', 'USD', 'EUR', '0.92', 'x')).toBe('allowed');
    expect(await insert('2026-01-02', 'USD', 'EUR', '0.93', 'y')).toBe('23505'); // one rate per day and pair
    // Rates are replaced (audited), never deleted, by the apps.
    expect(await refused(`DELETE FROM exchange_rates`)).toBe('42501');
    expect(await refused(`TRUNCATE exchange_rates`)).toBe('42501');
    expect(await refused(`UPDATE exchange_rates SET rate = 0.94`)).toBe('allowed');
    await c.end();
  });
});

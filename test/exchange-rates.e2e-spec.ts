import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  adminClient,
  type AppProcess,
  createTestDatabase,
  freePort,
  httpJson,
  poll,
  spawnApp,
  type TestDatabase,
  uniquePrefix,
} from '@app/testing';

/**
 * Exchange rates (issue 16) through the built gateway's admin API and the built `ledger` CLI, on
 * one fresh database: rates stored once, identical ones left alone, a differing one refused with
 * each conflict listed (409 / exit 1) until replaced deliberately, bad input named by line and
 * field, and every change in the audit log.
 */
const TOKEN = 'rates-admin-token-0123456789';

function ledgerCli(dbUrl: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(__dirname, '..', 'dist', 'infra', 'cli', 'ledger.js'), ...args],
      { env: { PATH: process.env.PATH ?? '', DATABASE_URL: dbUrl, USER: 'rates-ops' }, timeout: 120_000 },
      (e, out, err) => resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out, err }),
    );
  });
}

describe('exchange rates: admin API and ledger rates', () => {
  let db: TestDatabase;
  let gateway: AppProcess;
  let url: string;
  let admin: ReturnType<typeof adminClient>;
  const dir = mkdtempSync(join(tmpdir(), 'rates-'));
  const ledger = (...args: string[]) => ledgerCli(db.url, args);
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const upload = (csv: string, query = '', token = TOKEN) =>
    httpJson(`${url}/v1/admin/exchange-rates/import${query}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' },
      body: csv,
    });
  const stored = async () =>
    (
      (await db.ds.query(
        `SELECT to_char(day, 'YYYY-MM-DD') || ' ' || base || '/' || quote || ' ' || rate::text || ' ' || source AS r
           FROM exchange_rates ORDER BY day, base, quote`,
      )) as { r: string }[]
    ).map((x) => x.r);

  beforeAll(async () => {
    db = await createTestDatabase();
    const port = await freePort();
    gateway = spawnApp('gateway', {
      DATABASE_URL: db.url,
      KAFKA_BROKERS: process.env.KAFKA_BROKERS || '127.0.0.1:9092',
      TOPIC_PREFIX: uniquePrefix('rates'),
      PORT: String(port),
      ADMIN_TOKEN: TOKEN,
      LOG_LEVEL: 'warn',
    });
    url = `http://127.0.0.1:${port}`;
    admin = adminClient(url, TOKEN);
    await poll('gateway answering', async () => {
      if (gateway.proc.exitCode !== null) throw new Error(`gateway exited:\n${gateway.logs()}`);
      return (await fetch(`${url}/health/live`).catch(() => undefined))?.status === 200 || undefined;
    });
  }, 90_000);
  afterAll(async () => {
    await gateway?.stop();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('POST a JSON array: inserted, then unchanged; a differing rate is a 409 listing it, stored only with replace=true', async () => {
    const rates = [
      { date: '2026-01-02', base: 'USD', quote: 'EUR', rate: '0.92', source: 'ecb' },
      { date: '2026-01-02', base: 'GBP', quote: 'JPY', rate: '190.123456789012', source: 'ecb' },
    ];
    const first = await admin('POST', '/v1/admin/exchange-rates', rates);
    expect(first).toEqual({
      status: 200,
      body: { rows: 2, inserted: 2, unchanged: 0, replaced: 0, dry_run: false, replaced_rows: [] },
    });
    expect((await admin('POST', '/v1/admin/exchange-rates', rates)).body).toMatchObject({
      inserted: 0,
      unchanged: 2,
    });

    const changed = [
      { ...rates[0]!, rate: '0.925' },
      { date: '2026-01-03', base: 'USD', quote: 'EUR', rate: '0.93', source: 'ecb' },
    ];
    const conflict = await admin('POST', '/v1/admin/exchange-rates', changed);
    expect(conflict.status).toBe(409);
    expect(conflict.body.error).toMatchObject({
      code: 'rate_conflict',
      conflicts: [
        {
          at: '[0]',
          date: '2026-01-02',
          base: 'USD',
          quote: 'EUR',
          stored_rate: '0.92',
          stored_source: 'ecb',
          rate: '0.925',
          source: 'ecb',
        },
      ],
      conflicts_total: 1,
      request_id: expect.any(String) as string,
    });
    expect(await stored()).toEqual([
      '2026-01-02 GBP/JPY 190.123456789012 ecb',
      '2026-01-02 USD/EUR 0.920000000000 ecb',
    ]);

    const dry = await admin('POST', '/v1/admin/exchange-rates?replace=true&dry_run=true', changed);
    expect(dry.body).toMatchObject({ inserted: 1, replaced: 1, dry_run: true });
    expect(await stored()).toHaveLength(2);

    const replaced = await admin('POST', '/v1/admin/exchange-rates?replace=true', changed);
    expect(replaced.body).toMatchObject({ rows: 2, inserted: 1, unchanged: 0, replaced: 1 });
    expect(await stored()).toContain('2026-01-02 USD/EUR 0.925000000000 ecb');

    const audit = await admin('GET', '/v1/admin/audit?action=exchange_rates.import');
    // Every import, the one that changed nothing too; the newest first.
    expect(audit.body.items).toHaveLength(3);
    expect(audit.body.items[0]).toMatchObject({
      operator: 'bootstrap-admin',
      subject: 'exchange_rates:2026-01-02..2026-01-03',
      request: { format: 'json', rows: 2, replace: true },
      before: [{ date: '2026-01-02', base: 'USD', quote: 'EUR', rate: '0.92', source: 'ecb' }],
      after: { replaced: 1, inserted: 1 },
    });
  });

  it('GET lists them newest day first, filtered by pair and days', async () => {
    const all = await admin('GET', '/v1/admin/exchange-rates');
    expect(all.status).toBe(200);
    const items = all.body.items as { date: string; base: string; quote: string; rate: string }[];
    expect(items.map((r) => `${r.date} ${r.base}/${r.quote} ${r.rate}`)).toEqual([
      '2026-01-03 USD/EUR 0.93',
      '2026-01-02 GBP/JPY 190.123456789012',
      '2026-01-02 USD/EUR 0.925',
    ]);
    const some = await admin(
      'GET',
      '/v1/admin/exchange-rates?base=USD&quote=EUR&from=2026-01-01&to=2026-01-02&limit=5',
    );
    expect(some.body).toEqual({
      items: [expect.objectContaining({ date: '2026-01-02', rate: '0.925', source: 'ecb' })],
      truncated: false,
    });
    expect((await admin('GET', '/v1/admin/exchange-rates?limit=1')).body.truncated).toBe(true);
  });

  it('bad input is a 400 naming the field; other shapes and media types are refused', async () => {
    const bad = async (method: string, path: string, body?: unknown) => {
      const r = await admin(method, path, body);
      return [r.status, r.body.error.code, r.body.error.field ?? null, r.body.error.message];
    };
    const row = { date: '2026-01-04', base: 'USD', quote: 'EUR', rate: '0.9', source: 'ecb' };
    expect(
      await bad('POST', '/v1/admin/exchange-rates', [row, { ...row, date: '2026-01-05', rate: '1e-3' }]),
    ).toEqual([400, 'invalid_body', '[1].rate', '[1], rate: exponent notation is not allowed (got "1e-3")']);
    expect(await bad('POST', '/v1/admin/exchange-rates', [{ ...row, rate: 0.9 }])).toEqual([
      400,
      'invalid_body',
      '[0].rate',
      '[0], rate: rate must be a string like "0.92" (a JSON number loses digits)',
    ]);
    expect((await bad('POST', '/v1/admin/exchange-rates', [{ ...row, base: 'usd' }]))[2]).toBe('[0].base');
    expect(
      (await bad('POST', '/v1/admin/exchange-rates', [{ ...row, rate: '1.0000000000001' }]))[3],
    ).toContain('more than 12 decimal places');
    expect((await bad('POST', '/v1/admin/exchange-rates', [{ ...row, source: 's'.repeat(65) }]))[2]).toBe(
      '[0].source',
    );
    expect((await bad('POST', '/v1/admin/exchange-rates', { rates: [row] }))[0]).toBe(400);
    expect(await bad('POST', '/v1/admin/exchange-rates?replace=yes', [row])).toEqual([
      400,
      'invalid_field',
      'replace',
      'replace must be true or false',
    ]);
    expect((await bad('POST', '/v1/admin/exchange-rates?force=true', [row])).slice(0, 3)).toEqual([
      400,
      'unknown_field',
      'force',
    ]);
    expect((await bad('GET', '/v1/admin/exchange-rates?from=2026-02-30'))[2]).toBe('from');
    expect((await bad('GET', '/v1/admin/exchange-rates?base=usd'))[2]).toBe('base');
    expect((await bad('GET', '/v1/admin/exchange-rates?limit=0'))[2]).toBe('limit');
    // JSON sent to the file route, a file sent to the JSON route, a file without a token
    expect((await bad('POST', '/v1/admin/exchange-rates/import', [row]))[0]).toBe(415);
    const csvElsewhere = await httpJson(`${url}/v1/admin/exchange-rates`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'text/csv' },
      body: 'date,base,quote,rate,source\n',
    });
    expect(csvElsewhere.status).toBe(415);
    expect(
      (await upload('date,base,quote,rate,source\n2026-01-04,USD,EUR,0.9,ecb\n', '', 'wrong-token')).status,
    ).toBe(401);
    expect(await stored()).toHaveLength(3);
  });

  it('POST /import takes a CSV file: BOM, CRLF and spaces tolerated; a bad line is named', async () => {
    const ok = await upload(
      '\ufeffdate,base,quote,rate,source\r\n 2026-01-04 , USD , EUR , 0.90 , ecb \r\n2026-01-04,EUR,GBP,0.86,ecb\r\n',
    );
    expect(ok).toMatchObject({ status: 200, body: { rows: 2, inserted: 2, unchanged: 0, replaced: 0 } });
    const badLine = await upload(
      'date,base,quote,rate,source\n2026-01-05,USD,EUR,0.9,ecb\n2026-01-05,USD,CHF,-0.9,ecb\n',
    );
    expect(badLine.status).toBe(400);
    expect(badLine.body.error).toMatchObject({
      code: 'invalid_file',
      field: 'rate',
      message: 'line 3, rate: rate must be positive (got "-0.9")',
    });
    const badHeader = await upload('day,base,quote,rate,source\n2026-01-05,USD,EUR,0.9,ecb\n');
    expect(badHeader.body.error.message).toBe(
      'line 1: the header must be date,base,quote,rate,source (got "day,base,quote,rate,source")',
    );
    const conflict = await upload('date,base,quote,rate,source\n2026-01-04,EUR,GBP,0.87,ecb\n');
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.conflicts).toEqual([
      expect.objectContaining({ at: 'line 2', stored_rate: '0.86', rate: '0.87' }),
    ]);
    expect(await stored()).toHaveLength(5);
  });

  it('a viewer may list rates but not change them', async () => {
    const made = await ledger('tokens', 'create', '--name', 'rates-viewer', '--role', 'viewer');
    expect(made.code).toBe(0);
    const viewer = adminClient(url, made.out.trim());
    expect((await viewer('GET', '/v1/admin/exchange-rates')).status).toBe(200);
    expect(
      (
        await viewer('POST', '/v1/admin/exchange-rates', [
          { date: '2026-01-09', base: 'USD', quote: 'EUR', rate: '1', source: 'x' },
        ])
      ).status,
    ).toBe(403);
  });

  it('ledger rates import: counts, then unchanged; a differing rate exits 1 listing each; --dry-run and --replace', async () => {
    const jan = file(
      'jan.csv',
      'date,base,quote,rate,source\n2026-01-10,USD,EUR,0.91,ecb\n2026-01-10,USD,JPY,157.5,ecb\n',
    );
    const first = await ledger('rates', 'import', jan);
    expect(first).toMatchObject({
      code: 0,
      out: 'jan.csv: 2 rate(s): 2 inserted, 0 unchanged, 0 replaced\n',
    });
    expect((await ledger('rates', 'import', jan, '--json')).out).toContain('"unchanged": 2');

    const fix = file(
      'fix.csv',
      'date,base,quote,rate,source\n2026-01-10,USD,JPY,157.25,ecb\n2026-01-11,USD,JPY,158,ecb\n2026-01-10,USD,EUR,0.92,ecb\n',
    );
    const refused = await ledger('rates', 'import', fix);
    expect(refused.code).toBe(1);
    expect(refused.out).toBe('');
    expect(refused.err).toContain('refused, nothing was imported: 2 rate(s) differ from the stored ones');
    expect(refused.err).toMatch(/line 2 +2026-01-10 +USD\/JPY +157\.5 \(ecb\) +157\.25 \(ecb\)/);
    expect(refused.err).toMatch(/line 4 +2026-01-10 +USD\/EUR +0\.91 \(ecb\) +0\.92 \(ecb\)/);
    const asJson = await ledger('rates', 'import', fix, '--json');
    expect(asJson.code).toBe(1);
    expect(JSON.parse(asJson.out).conflicts).toHaveLength(2);

    const dry = await ledger('rates', 'import', fix, '--replace', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.out).toMatch(
      /^dry run, nothing written: fix\.csv: 3 rate\(s\): 1 would be inserted, 0 unchanged, 2 would be replaced/,
    );
    expect(await stored()).not.toContain('2026-01-11 USD/JPY 158.000000000000 ecb');

    const replaced = await ledger('rates', 'import', fix, '--replace', '--operator', 'anna');
    expect(replaced.code).toBe(0);
    expect(replaced.out).toMatch(/1 inserted, 0 unchanged, 2 replaced/);
    expect(await stored()).toEqual(
      expect.arrayContaining([
        '2026-01-10 USD/EUR 0.920000000000 ecb',
        '2026-01-10 USD/JPY 157.250000000000 ecb',
        '2026-01-11 USD/JPY 158.000000000000 ecb',
      ]),
    );
    const audit = await admin('GET', '/v1/admin/audit?operator=cli:anna');
    expect(audit.body.items).toEqual([
      expect.objectContaining({
        action: 'exchange_rates.import',
        request: { file: 'fix.csv', rows: 3, replace: true },
      }),
    ]);
  });

  it('ledger rates import: a bad file exits 1 naming line and field; a missing file is bad usage', async () => {
    const bad = file(
      'bad.csv',
      'date,base,quote,rate,source\n2026-01-12,USD,EUR,0.9,ecb\n2026-01-12,EUR,EUR,1,ecb\n2026-13-01,USD,GBP,0.8,ecb\n',
    );
    const r = await ledger('rates', 'import', bad);
    expect(r.code).toBe(1);
    expect(r.err).toContain('line 3, quote: quote must differ from base (both EUR)');
    expect(r.err).toContain('line 4, date: date must be a day as YYYY-MM-DD (got "2026-13-01")');
    expect(await stored()).not.toContain('2026-01-12 USD/EUR 0.900000000000 ecb');
    const missing = await ledger('rates', 'import', join(dir, 'nope.csv'));
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('cannot read');
  });

  it('ledger rates list: a table, or JSON; bad options are usage errors', async () => {
    const t = await ledger('rates', 'list', '--base', 'USD', '--quote', 'JPY');
    expect(t.code).toBe(0);
    expect(t.out).toMatch(/^date +base +quote +rate +source +stored \(UTC\)\n/);
    expect(t.out).toMatch(/2026-01-11 +USD +JPY +158 +ecb/);
    expect(t.out).toContain('\n2 rate(s)');
    const j = await ledger('rates', 'list', '--from', '2026-01-10', '--to', '2026-01-10', '--json');
    const listed = (JSON.parse(j.out) as { items: { base: string; quote: string }[] }).items;
    expect(listed.map((x) => `${x.base}/${x.quote}`)).toEqual(['USD/EUR', 'USD/JPY']);
    const usage = await ledger('rates', 'list', '--base', 'usd');
    expect(usage).toMatchObject({ code: 2, out: '' });
    expect(usage.err).toContain('--base must be a 3-letter upper-case currency code');
    // What the CLI imported, the API shows.
    const api = await admin('GET', '/v1/admin/exchange-rates?from=2026-01-11&to=2026-01-11');
    expect(api.body.items).toEqual([expect.objectContaining({ base: 'USD', quote: 'JPY', rate: '158' })]);
  });

  it('a report in one currency: a bad code is a 400, a day without its rate a 409 (CLI exit 1), then converted once the rate exists', async () => {
    // One reconciliation cell in EUR on a day no rate covers yet.
    await db.ds.query(
      `INSERT INTO recon_daily (day, partner_id, offer_id, publisher_id, source, placement, geo, currency, approved, approved_micros)
       VALUES ('2030-06-01', 'p', 'o', 'pub', 's', 'wall', 'DE', 'EUR', 1, 2000000)`,
    );
    const report = (currency: string) =>
      admin(
        'GET',
        `/v1/reports/reconciliation?from=2030-06-01&to=2030-06-01&group_by=offer&currency=${currency}`,
      );
    expect(await report('usd')).toMatchObject({ status: 400, body: { error: { field: 'currency' } } });
    const missing = await report('USD');
    expect(missing).toMatchObject({
      status: 409,
      body: { error: { code: 'rates_missing', field: 'currency' } },
    });
    expect(JSON.stringify(missing.body)).toContain('2030-06-01 EUR');
    const cli = await ledger(
      ...['report', 'reconciliation', '--from', '2030-06-01', '--to', '2030-06-01', '--currency', 'USD'],
    );
    expect(cli.code).toBe(1);
    expect(cli.err).toMatch(/no exchange rate into USD for 2030-06-01 EUR/);
    expect(
      (
        await ledger(
          'report',
          'reconciliation',
          '--from',
          '2030-06-01',
          '--to',
          '2030-06-01',
          '--currency',
          'usd',
        )
      ).code,
    ).toBe(2);
    // The reverse pair is enough: 2.00 EUR at 1 USD = 0.8 EUR is 2.50 USD.
    expect(
      (
        await admin('POST', '/v1/admin/exchange-rates', [
          { date: '2030-06-01', base: 'USD', quote: 'EUR', rate: '0.8', source: 'test' },
        ])
      ).status,
    ).toBe(200);
    const converted = await report('USD');
    expect(converted.status).toBe(200);
    expect(converted.body).toMatchObject({
      reporting_currency: 'USD',
      rates_used: [{ day: '2030-06-01', from: 'EUR', to: 'USD', rate: '0.8', inverted: true }],
      totals: [{ currency: 'USD', revenue_micros: '2500000', approved: 1 }],
    });
  });
});

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  adminClient,
  clickEvent,
  httpJson,
  poll,
  postbackEvent,
  produceEvents,
  seedOffer,
} from '@app/testing';
import { operatorToken, type RunningSystem, startSystem } from './support';

/**
 * Disputes: a partner's own file diffed against the ledger per transaction, each difference
 * resolved once (an adjusted ledger entry naming the dispute and the operator, shown by the
 * reconciliation report), and bad files refused with a clear error, never a crash.
 */
function ledgerCli(dbUrl: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(__dirname, '..', 'dist', 'infra', 'cli', 'ledger.js'), ...args],
      {
        env: { ...process.env, DATABASE_URL: dbUrl, USER: 'cli-operator' },
        // A guard against a hung CLI, not a speed bound: the 1,000,000-row import below may take
        // minutes on a busy 2-core machine.
        timeout: 540_000,
        maxBuffer: 1 << 24,
      },
      (e, out, err) => resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out, err }),
    );
  });
}

describe('disputes', () => {
  let sys: RunningSystem;
  const P = 'dp-partner';
  const today = new Date().toISOString().slice(0, 10);
  const dir = mkdtempSync(join(tmpdir(), 'disputes-'));
  // The operators' own tokens: the names recorded on disputes and ledger entries.
  const tokens = { anna: '', ben: '' };
  const upload = (csv: string, query: string) =>
    httpJson(`${sys.gatewayUrl}/v1/admin/disputes?${query}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.anna}`, 'content-type': 'text/csv' },
      body: csv,
    });

  beforeAll(async () => {
    sys = await startSystem('disputes');
    tokens.anna = operatorToken(sys, 'ops-anna', 'admin');
    tokens.ben = operatorToken(sys, 'ops-ben', 'reviewer');
    await seedOffer(sys.db.ds, { id: 'dp-offer', payout: '2000000' });
    // Ours: tx-1..tx-4 approved at 2.00, tx-5 approved then reversed, tx-6 pending.
    const clicks = Array.from({ length: 6 }, () => clickEvent('dp-offer', 'dp-pub'));
    await produceEvents(`${sys.prefix}clicks.recorded`, clicks);
    await poll('clicks stored', async () =>
      (await sys.db.ds.query(`SELECT count(*)::int AS n FROM clicks`))[0].n === 6 ? true : undefined,
    );
    await produceEvents(`${sys.prefix}postbacks.received`, [
      ...clicks.slice(0, 5).map((c, i) => postbackEvent(P, c.id, `tx-${i + 1}`, 'approved')),
      postbackEvent(P, clicks[4]!.id, 'tx-5', 'reversed'),
      postbackEvent(P, clicks[5]!.id, 'tx-6', 'pending'),
    ]);
    await poll(
      'decided',
      async () =>
        (await sys.db.ds.query(`SELECT count(*)::int AS n FROM postback_outcomes`))[0].n === 7
          ? true
          : undefined,
      30000,
    );
  }, 90000);
  afterAll(async () => {
    await sys?.stop();
  });

  it('diffs their file per transaction: missing on either side, status and amount differences, their duplicates', async () => {
    // Theirs (BOM, CRLF, ';', their own column names): tx-1 agrees; tx-2 at 2.50; tx-3 missing;
    // tx-4 twice; tx-5 approved (we reversed); tx-6 approved (we have pending); tx-9 unknown to us.
    const csv =
      '\ufeffclick;order_id;state;amount;cur;when\r\n' +
      `a;tx-1;approved;2.00;USD;${today}\r\n` +
      `b;tx-2;approved;2.50;USD;${today}T10:00:00Z\r\n` +
      `c;tx-4;approved;2.00;USD;${today}\r\n` +
      `d;tx-4;approved;2.00;USD;${today}\r\n` +
      `e;tx-5;approved;2.00;USD;${today}\r\n` +
      `f;tx-6;1;2.00;USD;${today}\r\n` +
      `g;tx-9;approved;2.00;USD;${today}\r\n`;
    const r = await upload(
      csv,
      `partner_id=${P}&delimiter=;&columns=transaction_id=order_id,status=state,payout=amount,currency=cur,date=when`,
    );
    expect(r.status).toBe(201);
    expect(r.body.summary).toMatchObject({
      rows: 7,
      missing_ours: 1,
      missing_theirs: 1,
      status_differs: 2,
      amount_differs: 1,
      duplicate_theirs: 1,
      currency: 'USD',
      their_approved_micros: '12500000',
      our_approved_micros: '8000000',
    });
    const d = await sys.admin('GET', `/v1/admin/disputes/${r.body.id}`);
    expect(d.body.dispute.created_by).toBe('ops-anna');
    const byTx = Object.fromEntries(
      (d.body.items as { kind: string; transaction_id: string }[]).map((i) => [
        `${i.kind}:${i.transaction_id}`,
        i,
      ]),
    );
    expect(Object.keys(byTx).sort()).toEqual(
      [
        'amount_differs:tx-2',
        'duplicate_theirs:tx-4',
        'missing_ours:tx-9',
        'missing_theirs:tx-3',
        'status_differs:tx-5',
        'status_differs:tx-6',
      ].sort(),
    );
    expect(byTx['amount_differs:tx-2']).toMatchObject({
      ours: { status: 'approved', amount_micros: '2000000' },
      theirs: { line: 3, payout_micros: '2500000' },
    });

    const csvOut = await fetch(`${sys.gatewayUrl}/v1/admin/disputes/${r.body.id}?format=csv`, {
      headers: { authorization: `Bearer ${tokens.anna}` },
    });
    expect(csvOut.headers.get('content-type')).toContain('text/csv');
    expect((await csvOut.text()).trimEnd().split('\r\n')).toHaveLength(7);
  });

  it('resolves a difference once with an adjusted ledger entry the reconciliation report shows', async () => {
    const list = await sys.admin('GET', '/v1/admin/disputes');
    const id = list.body[0].id as string;
    const d = await sys.admin('GET', `/v1/admin/disputes/${id}?kind=amount_differs`);
    const item = d.body.items[0].item as number;
    const resolve = (body: object, n = item, token = tokens.anna) =>
      adminClient(sys.gatewayUrl, token)('POST', `/v1/admin/disputes/${id}/items/${n}/resolve`, body);

    expect((await resolve({ action: 'adjust', note: 'x' })).body.error.field).toBe('amount');
    // The operator is the token's name, never a field.
    expect((await resolve({ action: 'dismiss', operator: 'ops-ben', note: 'x' })).body.error.field).toBe(
      'operator',
    );
    const ok = await resolve({ action: 'adjust', amount: '0.50', note: 'their rate card wins' });
    expect(ok.status).toBe(200);
    expect(ok.body.entry).toMatchObject({
      entry_type: 'adjusted',
      amount_micros: '500000',
      operator: 'ops-anna',
      conversion_status: 'approved',
    });
    expect(ok.body.entry.note).toContain(`dispute ${id}`);
    // A reviewer may resolve too (it is a decision), but only once per difference.
    const again = await resolve({ action: 'dismiss', note: 'no' }, item, tokens.ben);
    expect(again.status).toBe(409);
    expect(again.body.error.message).toContain('ops-anna');

    const missing = (await sys.admin('GET', `/v1/admin/disputes/${id}?kind=missing_ours`)).body.items[0];
    expect((await resolve({ action: 'adjust', amount: '2', note: 'n' }, missing.item)).status).toBe(409);
    expect((await resolve({ action: 'dismiss', note: 'not ours' }, missing.item, tokens.ben)).status).toBe(
      200,
    );

    await poll('adjustment projected', async () =>
      (await sys.db.ds.query(`SELECT count(*)::int AS n FROM projection_queue`))[0].n === 0
        ? true
        : undefined,
    );
    const report = await sys.admin(
      'GET',
      `/v1/reports/reconciliation?from=${today}&to=${today}&group_by=partner`,
    );
    expect(report.body.totals[0]).toMatchObject({ adjusted: 1, adjusted_micros: '500000' });
    // approved 5 x 2.00 - reversed 2.00 + adjusted 0.50
    expect(report.body.totals[0].effective_payout_micros).toBe('8500000');
  });

  it('refuses bad files whole with the problem and its line, and keeps serving', async () => {
    const q = `partner_id=${P}`;
    const head = 'transaction_id,status,payout,currency,date\n';
    const cases: [string, RegExp][] = [
      ['txid,status\nx,approved\n', /missing columns 'transaction_id', 'payout', 'currency', 'date'/],
      [`${head}tx-1,approved,1e3,USD,${today}\n`, /line 2: payout '1e3'/],
      [`${head}tx-1,approved,-1,USD,${today}\n`, /line 2: payout/],
      [
        `${head}tx-1,approved,1.00,USD,${today}\ntx-2,approved,1.00,EUR,${today}\n`,
        /line 3: currency EUR differs/,
      ],
      [`${head}tx-1,maybe,1.00,USD,${today}\n`, /line 2: status 'maybe'/],
      [`${head}tx-1,approved,1.00,USD,yesterday\n`, /line 2: date 'yesterday'/],
      [`${head}tx-1,approved,1.00,USD\n`, /not a readable CSV file/],
      [`${head}`, /no rows/],
      [`${head}"tx-1,approved,1.00,USD,${today}\n`, /not a readable CSV file/],
    ];
    for (const [csv, want] of cases) {
      const r = await upload(csv, q);
      expect({ csv, status: r.status, code: r.body.error?.code }).toEqual({
        csv,
        status: 400,
        code: 'invalid_file',
      });
      expect(r.body.error.message).toMatch(want);
    }
    expect((await upload(`${head}tx-1,approved,1.00,USD,${today}\n`, '')).body.error.field).toBe(
      'partner_id',
    );
    expect(
      (await upload(`${head}tx-1,approved,1.00,USD,${today}\n`, `${q}&operator=x`)).body.error.field,
    ).toBe('operator');
    expect((await upload(`${head}`, `${q}&columns=nope=x`)).body.error.field).toBe('columns');
    const wrongType = await httpJson(`${sys.gatewayUrl}/v1/postbacks/${P}`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body: 'a,b\n',
    });
    expect(wrongType.status).toBe(415);
    expect((await sys.db.ds.query(`SELECT count(*)::int AS n FROM disputes`))[0].n).toBe(1);
    expect((await httpJson(`${sys.gatewayUrl}/health/ready`)).status).toBe(200);
  });

  it('the CLI streams a 1,000,000-row file and writes every difference', async () => {
    const file = join(dir, 'big.csv');
    const lines = ['transaction_id,status,payout,currency,date'];
    for (let i = 1; i <= 1_000_000; i++) lines.push(`big-${i},approved,1.00,USD,${today}`);
    lines.push(`tx-1,approved,2.00,USD,${today}`);
    writeFileSync(file, lines.join('\r\n') + '\r\n');
    const out = join(dir, 'diff.csv');
    const r = await ledgerCli(sys.db.url, [
      'dispute',
      'import',
      '--file',
      file,
      '--partner',
      P,
      '--out',
      out,
    ]);
    expect(r.err).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/1000001 rows/);
    expect(r.out).toMatch(/missing_ours\s+1000000/);
    // tx-2..tx-6 are ours and not in their file.
    expect(r.out).toMatch(/missing_theirs\s+5/);
    expect(readFileSync(out, 'utf8').split('\r\n').filter(Boolean)).toHaveLength(1_000_006);

    const id = /dispute ([0-9A-Z]{26}):/.exec(r.out)![1]!;
    const show = (...extra: string[]) =>
      ledgerCli(sys.db.url, [
        'dispute',
        'show',
        id,
        '--kind',
        'missing_theirs',
        '--format',
        'json',
        ...extra,
      ]);
    const items = JSON.parse((await show('--open')).out).items as { item: number; kind: string }[];
    expect(items.map((i) => i.kind)).toEqual(Array(5).fill('missing_theirs'));
    const dismissed = await ledgerCli(sys.db.url, [
      'dispute',
      'resolve',
      id,
      String(items[0]!.item),
      '--dismiss',
      '--note',
      'their export cut off at midnight',
    ]);
    expect(dismissed.out).toContain('dismissed');
    expect(dismissed.code).toBe(0);
    expect(JSON.parse((await show('--open')).out).items).toHaveLength(4);
    expect(JSON.parse((await show()).out).items).toHaveLength(5);

    const bad = await ledgerCli(sys.db.url, [
      'dispute',
      'import',
      '--file',
      join(dir, 'nope.csv'),
      '--partner',
      P,
    ]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('cannot read');
  }, 600_000);
});
